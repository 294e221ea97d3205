"""SQL repository of patients: encrypted identifiers, blind indexes, blocking keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import (
    delete,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.base import session_now
from afiya.adapters.db.models.patients import (
    PatientContactRow,
    PatientIdentifierRow,
    PatientMatchKeyRow,
    PatientPayerRow,
    PatientPhoneRow,
    PatientRow,
)
from afiya.adapters.db.repositories.patient_queries import (
    ADDRESS,
    NNI,
    NSS,
    PHONE,
    SCALARS,
    PatientQueries,
    _chunks,
    identifier_purpose,
    key_hash,
)
from afiya.adapters.db.repositories.patient_records import children_union
from afiya.domain.patients.matching import PersonTraits
from afiya.domain.patients.model import (
    Address,
    EmergencyContact,
    Identifier,
    Patient,
    PatientStatus,
    Payer,
    PayerKind,
    Phone,
)
from afiya.domain.patients.use_cases import index_keys
from afiya.domain.patients.validation import completeness, normalize_identifier_value
from afiya.domain.platform.crypto import BlindIndex, FieldCipher
from afiya.domain.shared.ids import uuid7

if TYPE_CHECKING:
    from afiya.adapters.db.repositories.patient_merges import (
        SqlDuplicatePairStore,
        SqlMergeStore,
        SqlMrnCounter,
    )


_PATIENT_COLUMNS = tuple(PatientRow.__table__.columns)


class SqlPatientRepository(PatientQueries):
    """:class:`~afiya.domain.patients.ports.PatientRepository` on SQLAlchemy."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher, index: BlindIndex) -> None:
        self._session = session
        self._cipher = cipher
        self._index = index
        self._node = str(session.info.get("node", "central"))
        self._stores: dict[str, Any] = {}

    # The module's other stores hang off the repository, so the unit of work needs one
    # attribute for the whole module (``uow.patients``, ``uow.patients.merges``...).
    def _store(self, name: str) -> Any:
        if name not in self._stores:
            from afiya.adapters.db.repositories import patient_merges as m

            self._stores = {
                "merges": m.SqlMergeStore(self._session, self),
                "pairs": m.SqlDuplicatePairStore(self._session),
                "mrns": m.SqlMrnCounter(self._session, self._node),
            }
        return self._stores[name]

    @property
    def merges(self) -> SqlMergeStore:
        return self._store("merges")  # type: ignore[no-any-return]

    @property
    def pairs(self) -> SqlDuplicatePairStore:
        return self._store("pairs")  # type: ignore[no-any-return]

    @property
    def mrns(self) -> SqlMrnCounter:
        return self._store("mrns")  # type: ignore[no-any-return]

    # -- keys and encryption ------------------------------------------------------------
    def _enc(self, table: str, row_id: UUID, field: str, value: str | None) -> bytes | None:
        return None if value is None else self._cipher.encrypt(value, f"{table}:{row_id}:{field}")

    def _dec(self, table: str, row_id: UUID, field: str, blob: bytes | None) -> str | None:
        return (
            None if blob is None else self._cipher.decrypt(bytes(blob), f"{table}:{row_id}:{field}")
        )

    def traits_of(self, patient: Patient) -> PersonTraits:
        phone = patient.phones[0] if patient.phones else None
        return PersonTraits(
            given_names=patient.given_names or patient.given_names_ar or "",
            family_name=patient.family_name or patient.family_name_ar or "",
            sex=patient.sex if patient.sex in ("female", "male", "other", "unknown") else None,
            birth_date=patient.birth_date,
            birth_year=patient.birth_year,
            birth_year_estimated=patient.birth_year_estimated,
            phone_key=self._bidx(phone.number, PHONE).hex() if phone else None,
            phone_shared=bool(phone and phone.shared),
            national_id_key=self._bidx(patient.nni, NNI).hex() if patient.nni else None,
            region=patient.address.region,
            district=patient.address.district,
        )

    def phone_keys_of(self, patient: Patient) -> frozenset[str]:
        return frozenset(self._bidx(p.number, PHONE).hex() for p in patient.phones)

    async def _write_keys(self, patient: Patient, *, fresh: bool = False) -> None:
        if not fresh:
            await self._session.execute(
                delete(PatientMatchKeyRow).where(PatientMatchKeyRow.patient_id == patient.id)
            )
        if patient.status is not PatientStatus.ACTIVE:
            return
        keys = index_keys(self.traits_of(patient), self.phone_keys_of(patient))
        hashes = sorted({key_hash(k) for k in keys})
        if hashes:
            await self._session.execute(
                insert(PatientMatchKeyRow),
                [{"key_hash": h, "patient_id": patient.id} for h in hashes],
            )

    async def refresh_keys(self, patient_id: UUID) -> None:
        patient = await self.get(patient_id)
        if patient is None:
            await self._session.execute(
                delete(PatientMatchKeyRow).where(PatientMatchKeyRow.patient_id == patient_id)
            )
        else:
            await self._write_keys(patient)

    # -- reading ------------------------------------------------------------------------
    async def _children(self, model: Any, ids: Sequence[UUID]) -> dict[UUID, list[Any]]:
        found: dict[UUID, list[Any]] = {}
        order = [model.rank, model.id] if hasattr(model, "rank") else [model.id]
        for chunk in _chunks(list(ids)):
            rows = await self._session.execute(
                select(model)
                .where(model.patient_id.in_(chunk), model.deleted_at.is_(None))
                .order_by(*order)
            )
            for row in rows.scalars():
                found.setdefault(row.patient_id, []).append(row)
        return found

    async def get_many(self, patient_ids: Sequence[UUID]) -> dict[UUID, Patient]:
        """Records with their sub-records in two queries (rows, then one ``UNION ALL`` of
        phones, contacts, identifiers and payers), read as plain rows (no ORM identity map)."""
        ids = list(dict.fromkeys(patient_ids))
        if self._session.new or self._session.dirty or self._session.deleted:
            await self._session.flush()
        rows: list[Any] = []
        for chunk in _chunks(ids):
            result = await self._session.execute(
                select(*_PATIENT_COLUMNS).where(
                    PatientRow.id.in_(chunk), PatientRow.deleted_at.is_(None)
                )
            )
            rows.extend(result.all())
        if not rows:
            return {}
        found: dict[str, dict[UUID, list[Any]]] = {k: {} for k in ("ph", "co", "id", "pa")}
        for chunk in _chunks([r.id for r in rows]):
            for child in (await self._session.execute(children_union(chunk))).all():
                found[child.kind].setdefault(child.patient_id, []).append(child)
        return {
            r.id: self._to_domain(
                r,
                *(found[k].get(r.id, []) for k in ("ph", "co", "id", "pa")),
            )
            for r in rows
        }

    async def get(self, patient_id: UUID) -> Patient | None:
        return (await self.get_many([patient_id])).get(patient_id)

    def _to_domain(
        self,
        row: Any,
        phones: list[Any],
        contacts: list[Any],
        identifiers: list[Any],
        payers: list[Any],
    ) -> Patient:
        """A record from its row and its sub-records as rows of :func:`children_union`."""
        t = "patient"
        return Patient(
            id=row.id,
            **{f: getattr(row, f) for f in SCALARS},
            nni=self._dec(t, row.id, "nni", row.nni_enc),
            nss=self._dec(t, row.id, "nss", row.nss_enc),
            phones=tuple(
                Phone(
                    self._dec("patient_phone", p.id, "number", p.enc) or "",
                    p.flag,
                    p.t1,
                )
                for p in phones
            ),
            address=Address(*(getattr(row, f) for f in ADDRESS)),
            contacts=tuple(
                EmergencyContact(
                    c.t1,
                    c.t2,
                    self._dec("patient_contact", c.id, "phone", c.enc),
                    c.id,
                )
                for c in contacts
            ),
            identifiers=tuple(
                Identifier(
                    i.t1,
                    self._dec("patient_identifier", i.id, "value", i.enc) or "",
                    i.t2,
                    i.id,
                )
                for i in identifiers
            ),
            payers=tuple(self._payer(p.id, p.t1, p.t2, p.enc, p.num, p.d1, p.d2) for p in payers),
            status=PatientStatus(row.status),
            merged_into_id=row.merged_into_id,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def _payer(self, row_id: UUID, kind: str, name: str, *rest: Any) -> Payer:
        enc, rate, valid_from, valid_to = rest
        return Payer(
            kind=PayerKind(kind),
            name=name,
            coverage_rate=rate,
            policy_number=self._dec("patient_payer", row_id, "policy_number", enc),
            valid_from=valid_from,
            valid_to=valid_to,
            id=row_id,
        )

    def _payer_row(self, row: PatientPayerRow) -> Payer:
        return self._payer(
            row.id,
            row.kind,
            row.name,
            row.policy_number_enc,
            row.coverage_rate,
            row.valid_from,
            row.valid_to,
        )

    # -- writing ------------------------------------------------------------------------
    def _set_identity(self, row: PatientRow, patient: Patient, current: Patient | None) -> None:
        for f in SCALARS:
            if getattr(row, f, None) != getattr(patient, f):
                setattr(row, f, getattr(patient, f))
        for f, value in zip(ADDRESS, (getattr(patient.address, f) for f in ADDRESS), strict=True):
            if getattr(row, f, None) != value:
                setattr(row, f, value)
        # Re-encrypt only a changed value: an unchanged field keeps its exact bytes.
        if current is None or current.nni != patient.nni:
            row.nni_enc = self._enc("patient", row.id, "nni", patient.nni)
            row.nni_bidx = self._bidx(patient.nni, NNI) if patient.nni else None
        if current is None or current.nss != patient.nss:
            row.nss_enc = self._enc("patient", row.id, "nss", patient.nss)
            row.nss_bidx = self._bidx(patient.nss, NSS) if patient.nss else None
        score = completeness(patient).score
        if row.completeness != score:
            row.completeness = score

    async def add(self, patient: Patient) -> None:
        row = PatientRow(id=patient.id, status=patient.status.value, completeness=-1)
        self._set_identity(row, patient, None)
        self._session.add(row)
        await self._session.flush()
        for rank, phone in enumerate(patient.phones):
            self._add_phone(patient.id, phone, rank)
        for rank, contact in enumerate(patient.contacts):
            self._add_contact(patient.id, contact, rank)
        for identifier in patient.identifiers:
            self._add_identifier_row(patient.id, identifier)
        for payer in patient.payers:
            self._add_payer_row(patient.id, payer)
        # A new record has no match keys to delete yet.
        await self._session.flush()
        await self._write_keys(patient, fresh=True)

    def _add_phone(self, patient_id: UUID, phone: Phone, rank: int) -> None:
        row = PatientPhoneRow(
            patient_id=patient_id, shared=phone.shared, label=phone.label, rank=rank
        )
        row.id = uuid7()
        row.number_enc = self._enc("patient_phone", row.id, "number", phone.number)  # type: ignore[assignment]
        row.number_bidx = self._bidx(phone.number, PHONE)
        self._session.add(row)

    def _add_contact(self, patient_id: UUID, contact: EmergencyContact, rank: int) -> None:
        row_id = contact.id or uuid7()
        self._session.add(
            PatientContactRow(
                id=row_id,
                patient_id=patient_id,
                name=contact.name,
                relationship=contact.relationship,
                phone_enc=self._enc("patient_contact", row_id, "phone", contact.phone),
                rank=rank,
            )
        )

    def _add_identifier_row(self, patient_id: UUID, identifier: Identifier) -> UUID:
        row_id = uuid7()
        value = normalize_identifier_value(identifier.value)
        self._session.add(
            PatientIdentifierRow(
                id=row_id,
                patient_id=patient_id,
                type=identifier.type,
                issuer=identifier.issuer,
                value_enc=self._enc("patient_identifier", row_id, "value", value),
                value_bidx=self._bidx(value, identifier_purpose(identifier.type)),
            )
        )
        return row_id

    def _add_payer_row(self, patient_id: UUID, payer: Payer) -> UUID:
        row_id = payer.id or uuid7()
        self._session.add(
            PatientPayerRow(
                id=row_id,
                patient_id=patient_id,
                kind=payer.kind.value,
                name=payer.name.strip(),
                policy_number_enc=self._enc(
                    "patient_payer", row_id, "policy_number", payer.policy_number
                ),
                coverage_rate=payer.coverage_rate,
                valid_from=payer.valid_from,
                valid_to=payer.valid_to,
            )
        )
        return row_id

    async def update(self, patient: Patient) -> Patient:
        row = await self._session.get(PatientRow, patient.id)
        current = await self.get(patient.id)
        if row is None or current is None:
            raise LookupError(patient.id)
        self._set_identity(row, patient, current)
        if current.phones != patient.phones:
            await self._replace_phones(patient)
        if tuple(c.__class__(c.name, c.relationship, c.phone) for c in current.contacts) != tuple(
            c.__class__(c.name, c.relationship, c.phone) for c in patient.contacts
        ):
            await self._replace_contacts(patient)
        await self._session.flush()
        stored = await self.get(patient.id)
        assert stored is not None
        await self._write_keys(stored)
        return stored

    async def _replace_phones(self, patient: Patient) -> None:
        """Keep rows of numbers still listed (ids stable), drop the others, add new ones."""
        rows = (await self._children(PatientPhoneRow, [patient.id])).get(patient.id, [])
        by_number = {self._dec("patient_phone", r.id, "number", r.number_enc): r for r in rows}
        now = session_now(self._session)
        for rank, phone in enumerate(patient.phones):
            row = by_number.pop(phone.number, None)
            if row is None:
                self._add_phone(patient.id, phone, rank)
                continue
            for attr, value in (("shared", phone.shared), ("label", phone.label), ("rank", rank)):
                if getattr(row, attr) != value:
                    setattr(row, attr, value)
        for row in by_number.values():
            row.deleted_at = now

    async def _replace_contacts(self, patient: Patient) -> None:
        rows = (await self._children(PatientContactRow, [patient.id])).get(patient.id, [])
        now = session_now(self._session)
        for row in rows:
            row.deleted_at = now
        for rank, contact in enumerate(patient.contacts):
            self._add_contact(
                patient.id,
                EmergencyContact(contact.name, contact.relationship, contact.phone),
                rank,
            )

    # -- sub-records --------------------------------------------------------------------
    async def add_identifier(self, patient_id: UUID, identifier: Identifier) -> Identifier:
        row_id = self._add_identifier_row(patient_id, identifier)
        await self._session.flush()
        return Identifier(
            identifier.type, normalize_identifier_value(identifier.value), identifier.issuer, row_id
        )

    async def _child(self, model: Any, patient_id: UUID, row_id: UUID) -> Any:
        row = await self._session.get(model, row_id)
        if row is None or row.patient_id != patient_id or row.deleted_at is not None:
            return None
        return row

    async def remove_identifier(self, patient_id: UUID, identifier_id: UUID) -> bool:
        row = await self._child(PatientIdentifierRow, patient_id, identifier_id)
        if row is None:
            return False
        row.deleted_at = session_now(self._session)
        await self._session.flush()
        return True

    async def add_payer(self, patient_id: UUID, payer: Payer) -> Payer:
        row_id = self._add_payer_row(patient_id, payer)
        await self._session.flush()
        row = await self._session.get(PatientPayerRow, row_id)
        assert row is not None
        return self._payer_row(row)

    async def update_payer(self, patient_id: UUID, payer: Payer) -> Payer | None:
        row = await self._child(PatientPayerRow, patient_id, payer.id) if payer.id else None
        if row is None:
            return None
        values = {
            "kind": payer.kind.value,
            "name": payer.name.strip(),
            "coverage_rate": payer.coverage_rate,
            "valid_from": payer.valid_from,
            "valid_to": payer.valid_to,
        }
        for attr, value in values.items():
            if getattr(row, attr) != value:
                setattr(row, attr, value)
        if self._payer_row(row).policy_number != payer.policy_number:
            row.policy_number_enc = self._enc(
                "patient_payer", row.id, "policy_number", payer.policy_number
            )
        await self._session.flush()
        return self._payer_row(row)

    async def remove_payer(self, patient_id: UUID, payer_id: UUID) -> bool:
        row = await self._child(PatientPayerRow, patient_id, payer_id)
        if row is None:
            return False
        row.deleted_at = session_now(self._session)
        await self._session.flush()
        return True
