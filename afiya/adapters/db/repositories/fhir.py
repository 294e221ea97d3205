"""Queries of the FHIR interface: searches with FHIR semantics, versions from the change log.

Each search returns ids (or rows) of one page plus the total, always limited by a
:class:`Scope` through ``scope_clause``; the records themselves are then read through
the module repositories (``uow.patients.get_many``...), so FHIR shows the same data as
``/api/v1``. Subscriptions live in :mod:`afiya.adapters.db.repositories.fhir_subscriptions`.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, false, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.changelog import changes_for
from afiya.adapters.db.models.agenda import AgendaScheduleRow, AppointmentRow
from afiya.adapters.db.models.identity import UserRow, UserUnitRow
from afiya.adapters.db.models.orgunits import OrgUnitRow
from afiya.adapters.db.models.patients import PatientPhoneRow, PatientRow
from afiya.adapters.db.models.platform import AuditEventRow, ChangeLogRow
from afiya.adapters.db.repositories.agenda_mapping import appointment_of
from afiya.adapters.db.repositories.audit import _to_event
from afiya.adapters.db.repositories.fhir_subscriptions import SqlFhirSubscriptionStore
from afiya.adapters.db.repositories.fhir_versions import SqlFhirVersions
from afiya.adapters.db.repositories.orgunits import _to_domain as unit_of
from afiya.adapters.db.repositories.orgunits import scope_clause
from afiya.domain.access.policy import Scope
from afiya.domain.agenda.appointments import Appointment
from afiya.domain.audit.model import AuditEvent
from afiya.domain.fhir.search import Criterion, DateValue, Prefix, SearchRequest, fold
from afiya.domain.orgunits.model import OrgUnit
from afiya.domain.patients.model import Address, Patient, PatientStatus, Phone
from afiya.domain.platform.crypto import FieldCipher


@dataclass(frozen=True, slots=True)
class Version:
    """One change-log entry of a resource: its version, when, and the row as it was."""

    seq: int
    version: int
    operation: str
    recorded_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Practitioner:
    id: UUID
    full_name: str
    roles: frozenset[str]
    active: bool
    version: int
    updated_at: datetime
    assignments: tuple[tuple[UUID, UUID, str], ...]  # (assignment id, unit id, unit path)


@dataclass(frozen=True, slots=True)
class StoredAppointment:
    appointment: Appointment
    version: int
    updated_at: datetime
    unit_path: str


@dataclass(frozen=True, slots=True)
class StoredSchedule:
    id: UUID
    owner_kind: str
    owner_id: UUID
    facility_id: UUID
    service_id: UUID
    sessions: list[Any]
    valid_from: date
    valid_until: date | None
    every_weeks: int
    appointment_type_ids: list[Any]
    version: int
    updated_at: datetime
    unit_path: str


def date_clause(column: Any, value: DateValue) -> Any:
    """SQL for a date value against an instant (or date) column."""
    start, end = value.start, value.end
    if isinstance(column.type.python_type, type) and column.type.python_type is date:
        start, end = start.date(), end.date()  # type: ignore[assignment]
    match value.prefix:
        case Prefix.EQ:
            return and_(column >= start, column < end)
        case Prefix.NE:
            return not_(and_(column >= start, column < end))
        case Prefix.GT | Prefix.SA:
            return column >= end
        case Prefix.LT | Prefix.EB:
            return column < start
        case Prefix.GE:
            return column >= start
        case Prefix.LE:
            return column < end
    return false()  # pragma: no cover


def any_of(criterion: Criterion, clause: Any) -> Any:
    """OR of ``clause(value)`` over the criterion's values."""
    return or_(*(clause(v) for v in criterion.values))


def string_clause(columns: Sequence[Any], wanted: str, modifier: str | None) -> Any:
    """FHIR string matching in SQL: prefix of any word, ``:exact`` or ``:contains``."""
    if modifier == "exact":
        return or_(*(c == wanted for c in columns))
    needle = fold(wanted).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    parts = []
    for column in columns:
        low = func.lower(column)
        if modifier == "contains":
            parts.append(low.like(f"%{needle}%", escape="\\"))
        else:
            parts.append(low.like(f"{needle}%", escape="\\"))
            parts.append(low.like(f"% {needle}%", escape="\\"))
    return or_(*parts)


def _page(stmt: Select[Any], request: SearchRequest) -> Select[Any]:
    return stmt.offset(request.offset).limit(request.count)


class SqlFhirRepository:
    """Searches and version history for the FHIR API."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher
        self._subscriptions: SqlFhirSubscriptionStore | None = None

    @property
    def subscriptions(self) -> SqlFhirSubscriptionStore:
        if self._subscriptions is None:
            self._subscriptions = SqlFhirSubscriptionStore(self._session, self._cipher)
        return self._subscriptions

    @property
    def past(self) -> SqlFhirVersions:
        """Versions of resources built from several rows, and past views of the record."""
        return SqlFhirVersions(self._session, self._cipher)

    async def _count(self, stmt: Select[Any]) -> int:
        counted = select(func.count()).select_from(stmt.order_by(None).subquery())
        return int((await self._session.execute(counted)).scalar_one())

    # -- Patient ------------------------------------------------------------------------
    async def patient_page(
        self, scope: Scope, request: SearchRequest, exact: set[UUID] | None
    ) -> tuple[list[UUID], int]:
        """Ids of one page of active patients matching ``request`` (``exact``: ids found
        through blind indexes for identifier and phone), and the total."""
        p = PatientRow
        stmt = select(p.id).where(
            p.deleted_at.is_(None),
            p.status == PatientStatus.ACTIVE.value,
            scope_clause(p.unit_path, scope),  # type: ignore[arg-type]
        )
        if exact is not None:
            stmt = stmt.where(p.id.in_(sorted(exact)) if exact else false())
        columns = {
            "name": (p.given_names, p.family_name, p.given_names_ar, p.family_name_ar),
            "family": (p.family_name, p.family_name_ar),
            "given": (p.given_names, p.given_names_ar),
        }
        for c in request.criteria:
            if c.name in columns:
                cols = columns[c.name]
                stmt = stmt.where(or_(*(string_clause(cols, str(v), c.modifier) for v in c.values)))
            elif c.name == "gender":
                stmt = stmt.where(p.sex.in_([v.code for v in c.values]))  # type: ignore[attr-defined]
            elif c.name == "birthdate":
                stmt = stmt.where(any_of(c, self._birth_clause))
            elif c.name == "_lastUpdated":
                stmt = stmt.where(any_of(c, lambda v: date_clause(p.updated_at, v)))
            elif c.name == "_id":
                stmt = stmt.where(p.id.in_(_uuids(v.code for v in c.values)))  # type: ignore[attr-defined]
        total = await self._count(stmt)
        order = {
            "_lastUpdated": p.updated_at,
            "birthdate": p.birth_date,
            "family": p.family_name,
            "given": p.given_names,
        }
        keys = [order[k.name].desc() if k.descending else order[k.name] for k in request.sort]
        stmt = stmt.order_by(*keys, p.id)
        ids = list((await self._session.execute(_page(stmt, request))).scalars())
        return ids, total

    @staticmethod
    def _birth_clause(value: DateValue) -> Any:
        p = PatientRow
        if value.precision == "year":
            year = value.start.year
            match value.prefix:
                case Prefix.EQ:
                    return p.birth_year == year
                case Prefix.NE:
                    return p.birth_year != year
                case Prefix.GT | Prefix.SA:
                    return p.birth_year > year
                case Prefix.LT | Prefix.EB:
                    return p.birth_year < year
                case Prefix.GE:
                    return p.birth_year >= year
                case Prefix.LE:
                    return p.birth_year <= year
        return date_clause(p.birth_date, value)

    # -- versions -----------------------------------------------------------------------
    async def versions(self, entity: str, entity_id: UUID) -> list[Version]:
        """Change-log entries of one row, oldest first."""
        rows = (await self._session.execute(changes_for(entity, entity_id))).scalars()
        return [Version(r.seq, r.version, r.operation, r.recorded_at, r.data) for r in rows]

    def _decrypt(self, table: str, row_id: Any, field: str, text: str | None) -> str | None:
        if text is None:
            return None
        return self._cipher.decrypt(base64.b64decode(text), f"{table}:{row_id}:{field}")

    async def patient_as_of(
        self, patient_id: UUID, version: Version, until_seq: int | None
    ) -> Patient:
        """The patient as it was at ``version``: identity from the row snapshot, phones
        from their own change-log entries before ``until_seq`` (the next version's entry;
        None for the current version). A repository writes sub-records after the row, so
        the next version's row entry is where this version's sub-records end."""
        d = version.data
        phone_ids = (
            await self._session.execute(
                select(PatientPhoneRow.id).where(PatientPhoneRow.patient_id == patient_id)
            )
        ).scalars()
        latest: dict[Any, dict[str, Any]] = {}
        for phone_id in phone_ids:
            for entry in await self.versions("patient_phone", phone_id):
                if until_seq is None or entry.seq < until_seq:
                    latest[phone_id] = entry.data
        phones = sorted(
            (x for x in latest.values() if x.get("deleted_at") is None),
            key=lambda x: (x.get("rank") or 0, x["id"]),
        )
        return Patient(
            id=patient_id,
            mrn=d["mrn"],
            unit_id=UUID(d["unit_id"]),
            unit_path=d["unit_path"],
            given_names=d["given_names"],
            family_name=d["family_name"],
            sex=d["sex"],
            given_names_ar=d.get("given_names_ar"),
            family_name_ar=d.get("family_name_ar"),
            birth_date=date.fromisoformat(d["birth_date"]) if d.get("birth_date") else None,
            birth_year=d.get("birth_year"),
            birth_year_estimated=bool(d.get("birth_year_estimated")),
            nni=self._decrypt("patient", patient_id, "nni", d.get("nni_enc")),
            nss=self._decrypt("patient", patient_id, "nss", d.get("nss_enc")),
            phones=tuple(
                Phone(
                    self._decrypt("patient_phone", x["id"], "number", x["number_enc"]) or "",
                    bool(x.get("shared")),
                    x.get("label"),
                )
                for x in phones
            ),
            address=Address(
                d.get("region"), d.get("district"), d.get("commune"), d.get("locality")
            ),
            language=d.get("language"),
            sms_consent=bool(d.get("sms_consent")),
            status=PatientStatus(d.get("status") or "active"),
            merged_into_id=UUID(d["merged_into_id"]) if d.get("merged_into_id") else None,
            version=version.version,
            created_at=_instant(d.get("created_at")),
            updated_at=_instant(d.get("updated_at")),
        )

    async def changes_after(self, node: str, after: int, limit: int) -> list[ChangeLogRow]:
        """Change-log entries of one node after ``after`` (its gap-free sequence, which
        follows commit order), for the subscription matcher."""
        stmt = (
            select(ChangeLogRow)
            .where(ChangeLogRow.node == node, ChangeLogRow.node_seq > after)
            .order_by(ChangeLogRow.node_seq)
            .limit(limit)
        )
        return list((await self._session.execute(stmt)).scalars())

    async def node_seq_before(self, node: str, moment: datetime) -> int:
        """The last sequence number a node wrote before ``moment`` (0 when none)."""
        stmt = select(func.max(ChangeLogRow.node_seq)).where(
            ChangeLogRow.node == node, ChangeLogRow.recorded_at < moment
        )
        return int((await self._session.execute(stmt)).scalar_one() or 0)

    async def nodes(self) -> list[str]:
        stmt = select(ChangeLogRow.node).distinct()
        return sorted((await self._session.execute(stmt)).scalars())

    # -- Organization and Location ------------------------------------------------------
    async def unit_page(
        self, scope: Scope, request: SearchRequest, kinds: Sequence[str] | None
    ) -> tuple[list[OrgUnit], int]:
        u = OrgUnitRow
        table = u.__table__
        stmt = select(*table.c).where(u.deleted_at.is_(None), scope_clause(u.path, scope))  # type: ignore[arg-type]
        if kinds is not None:
            stmt = stmt.where(u.kind.in_(list(kinds)))
        for c in request.criteria:
            if c.name == "name":
                stmt = stmt.where(
                    or_(
                        *(
                            string_clause((u.name, u.short_name), str(v), c.modifier)
                            for v in c.values
                        )
                    )
                )
            elif c.name == "partof":
                stmt = stmt.where(u.parent_id.in_(_uuids(c.values)))
            elif c.name == "identifier":
                stmt = stmt.where(
                    or_(*(or_(u.uid == v.code, u.code == v.code) for v in c.values))  # type: ignore[attr-defined]
                )
            elif c.name == "_lastUpdated":
                stmt = stmt.where(any_of(c, lambda v: date_clause(u.updated_at, v)))
            elif c.name == "_id":
                stmt = stmt.where(u.id.in_(_uuids(v.code for v in c.values)))  # type: ignore[attr-defined]
        total = await self._count(stmt)
        order = {"name": u.name, "_lastUpdated": u.updated_at}
        keys = [order[k.name].desc() if k.descending else order[k.name] for k in request.sort]
        stmt = stmt.order_by(*keys, u.path)
        rows = (await self._session.execute(_page(stmt, request))).all()
        return [unit_of(r) for r in rows], total

    # -- Practitioner -------------------------------------------------------------------
    async def practitioner_page(
        self, scope: Scope, request: SearchRequest, roles: frozenset[str]
    ) -> tuple[list[Practitioner], int]:
        """Users holding a clinical role and assigned to a unit in ``scope``."""
        assigned = (
            select(UserUnitRow.user_id)
            .join(OrgUnitRow, OrgUnitRow.id == UserUnitRow.unit_id)
            .where(UserUnitRow.deleted_at.is_(None), scope_clause(OrgUnitRow.path, scope))  # type: ignore[arg-type]
        )
        r = UserRow
        stmt = select(r).where(r.deleted_at.is_(None), r.id.in_(assigned))
        stmt = stmt.where(or_(*(r.roles.like(f"%{role}%") for role in sorted(roles))))
        for c in request.criteria:
            if c.name == "name":
                stmt = stmt.where(
                    or_(*(string_clause((r.full_name,), str(v), c.modifier) for v in c.values))
                )
            elif c.name == "_lastUpdated":
                stmt = stmt.where(any_of(c, lambda v: date_clause(r.updated_at, v)))
            elif c.name == "_id":
                stmt = stmt.where(r.id.in_(_uuids(v.code for v in c.values)))  # type: ignore[attr-defined]
        total = await self._count(stmt)
        stmt = stmt.order_by(r.full_name, r.id)
        rows = list((await self._session.execute(_page(stmt, request))).scalars())
        found = await self._assignments([row.id for row in rows])
        out = []
        for row in rows:
            held = frozenset(x for x in row.roles.split(",") if x)
            out.append(
                Practitioner(
                    row.id,
                    row.full_name,
                    held,
                    row.active,
                    row.version,
                    row.updated_at,
                    tuple(found.get(row.id, [])),
                )
            )
        return [p for p in out if p.roles & roles], total

    async def _assignments(self, user_ids: Sequence[UUID]) -> dict[UUID, list[Any]]:
        if not user_ids:
            return {}
        rows = await self._session.execute(
            select(UserUnitRow.user_id, UserUnitRow.id, OrgUnitRow.id, OrgUnitRow.path)
            .join(OrgUnitRow, OrgUnitRow.id == UserUnitRow.unit_id)
            .where(UserUnitRow.user_id.in_(list(user_ids)), UserUnitRow.deleted_at.is_(None))
            .order_by(OrgUnitRow.path)
        )
        found: dict[UUID, list[Any]] = {}
        for user_id, assignment_id, unit_id, path in rows:
            found.setdefault(user_id, []).append((assignment_id, unit_id, path))
        return found

    async def assignment(self, assignment_id: UUID) -> tuple[UUID, UUID] | None:
        """(user id, unit id) of a PractitionerRole (a user's assignment to a unit)."""
        row = (
            await self._session.execute(
                select(UserUnitRow.user_id, UserUnitRow.unit_id).where(
                    UserUnitRow.id == assignment_id, UserUnitRow.deleted_at.is_(None)
                )
            )
        ).first()
        return (row[0], row[1]) if row else None

    # -- Appointment and Schedule -------------------------------------------------------
    async def appointment_page(
        self, scope: Scope, request: SearchRequest
    ) -> tuple[list[StoredAppointment], int]:
        a = AppointmentRow
        stmt = select(a).where(a.deleted_at.is_(None), scope_clause(a.unit_path, scope))  # type: ignore[arg-type]
        for c in request.criteria:
            if c.name in ("patient", "actor", "practitioner"):
                ids = _uuids(c.values)
                column = {"patient": a.patient_id, "practitioner": a.practitioner_id}.get(c.name)
                stmt = stmt.where(
                    column.in_(ids)
                    if column is not None
                    else or_(a.patient_id.in_(ids), a.practitioner_id.in_(ids))
                )
            elif c.name == "status":
                stmt = stmt.where(a.status.in_(_afiya_statuses(v.code for v in c.values)))  # type: ignore[attr-defined]
            elif c.name == "date":
                stmt = stmt.where(any_of(c, lambda v: date_clause(a.starts_at, v)))
            elif c.name == "_lastUpdated":
                stmt = stmt.where(any_of(c, lambda v: date_clause(a.updated_at, v)))
            elif c.name == "_id":
                stmt = stmt.where(a.id.in_(_uuids(v.code for v in c.values)))  # type: ignore[attr-defined]
        total = await self._count(stmt)
        order = {"date": a.starts_at, "_lastUpdated": a.updated_at}
        keys = [order[k.name].desc() if k.descending else order[k.name] for k in request.sort]
        stmt = stmt.order_by(*keys, a.starts_at, a.id)
        rows = (await self._session.execute(_page(stmt, request))).scalars()
        return [
            StoredAppointment(appointment_of(r), r.version, r.updated_at, r.unit_path) for r in rows
        ], total

    @staticmethod
    def appointment_as_of(version: Version) -> StoredAppointment:
        """An appointment as its change-log snapshot says it was."""
        d = dict(version.data)
        for key in ("starts_at", "ends_at", "booked_at", "arrived_at", "updated_at"):
            d[key] = _instant(d.get(key))
        row = SimpleNamespace(**d)
        return StoredAppointment(
            appointment_of(row), version.version, d["updated_at"], d["unit_path"]
        )

    async def appointment(self, appointment_id: UUID) -> StoredAppointment | None:
        row = await self._session.get(AppointmentRow, appointment_id)
        if row is None or row.deleted_at is not None:
            return None
        return StoredAppointment(appointment_of(row), row.version, row.updated_at, row.unit_path)

    async def schedule_page(
        self, scope: Scope, request: SearchRequest
    ) -> tuple[list[StoredSchedule], int]:
        s = AgendaScheduleRow
        stmt: Any = (
            select(s, OrgUnitRow.path)
            .join(OrgUnitRow, OrgUnitRow.id == s.facility_id)
            .where(s.deleted_at.is_(None), scope_clause(OrgUnitRow.path, scope))  # type: ignore[arg-type]
        )
        for c in request.criteria:
            if c.name == "actor":
                ids = _uuids(c.values)
                stmt = stmt.where(or_(s.owner_id.in_(ids), s.facility_id.in_(ids)))
            elif c.name == "_lastUpdated":
                stmt = stmt.where(any_of(c, lambda v: date_clause(s.updated_at, v)))
            elif c.name == "_id":
                stmt = stmt.where(s.id.in_(_uuids(v.code for v in c.values)))  # type: ignore[attr-defined]
        total = await self._count(stmt)
        rows = (await self._session.execute(_page(stmt.order_by(s.id), request))).all()
        return [_schedule(row, path) for row, path in rows], total

    # -- AuditEvent ---------------------------------------------------------------------
    async def audit_event(self, event_id: UUID) -> AuditEvent | None:
        row = (
            await self._session.execute(select(AuditEventRow).where(AuditEventRow.id == event_id))
        ).scalar_one_or_none()
        return _to_event(row) if row else None

    async def audit_page(
        self, request: SearchRequest, patient_ids: Sequence[UUID]
    ) -> tuple[list[AuditEvent], int]:
        e = AuditEventRow
        stmt = select(e).where(e.patient_id.in_(list(patient_ids)))
        for c in request.criteria:
            if c.name == "date":
                stmt = stmt.where(any_of(c, lambda v: date_clause(e.occurred_at, v)))
            elif c.name == "action":
                stmt = stmt.where(e.action.in_([v.code for v in c.values]))  # type: ignore[attr-defined]
        total = await self._count(stmt)
        rows = (await self._session.execute(_page(stmt.order_by(e.seq.desc()), request))).scalars()
        return [_to_event(r) for r in rows], total


def _schedule(row: AgendaScheduleRow, path: str) -> StoredSchedule:
    return StoredSchedule(
        row.id,
        row.owner_kind,
        row.owner_id,
        row.facility_id,
        row.service_id,
        list(row.sessions),
        row.valid_from,
        row.valid_until,
        row.every_weeks,
        list(row.appointment_type_ids),
        row.version,
        row.updated_at,
        path,
    )


_STATUS_FROM_FHIR = {
    "booked": ("booked", "confirmed"),
    "arrived": ("arrived",),
    "fulfilled": ("completed",),
    "cancelled": ("cancelled", "rescheduled"),
    "noshow": ("no_show",),
}


def _afiya_statuses(codes: Any) -> list[str]:
    return [s for code in codes for s in _STATUS_FROM_FHIR.get(code, ())]


def _uuids(values: Any) -> list[UUID]:
    out = []
    for value in values:
        try:
            out.append(UUID(str(value)))
        except ValueError:
            continue
    return out


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
