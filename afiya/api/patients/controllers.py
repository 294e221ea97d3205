"""Patient routes: register, read, change, search, duplicates, identifiers and payers."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import UnsetType

from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.i18n import request_translator
from afiya.api.pagination import Page, check_limit, decode_cursor, encode_cursor
from afiya.api.patients.merge_controllers import PatientMergeController
from afiya.api.patients.schemas import (
    IdentifierIn,
    IdentifierRead,
    PatientCreate,
    PatientListItem,
    PatientRead,
    PatientUpdate,
    PayerIn,
    PayerRead,
    candidate_json,
)
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.patients import records, use_cases
from afiya.domain.patients.errors import ProbableDuplicate
from afiya.domain.patients.model import Address, NewPatient, PatientChanges
from afiya.domain.shared.errors import Conflict

Year = Annotated[int | None, QueryParameter(ge=1800, le=2200)]
Text = Annotated[str | None, QueryParameter(max_length=100)]


class PatientController(Controller):
    path = "/api/v1/patients"
    tags = ["patients"]
    opt = {"resource": "patient"}

    @get(
        "/",
        operation_id="patients_search",
        summary="Search patients",
        opt={PERMISSION: Permission.PATIENTS_READ},
    )
    async def search(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        uow: Uow,
        q: Text = None,
        nni: Text = None,
        identifier_type: Annotated[str | None, QueryParameter(max_length=32)] = None,
        identifier: Text = None,
        phone: Annotated[str | None, QueryParameter(max_length=32)] = None,
        mrn: Annotated[str | None, QueryParameter(max_length=24)] = None,
        sex: Annotated[str | None, QueryParameter(max_length=8)] = None,
        birth_year_from: Year = None,
        birth_year_to: Year = None,
        unit_id: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 20,
    ) -> Page[PatientListItem]:
        """Patients registered in the caller's facilities. ``q`` searches names (fuzzy:
        spelling and transliteration variants, Arabic script, swapped given and family
        names) and ranks by match quality; NNI, other identifiers, phone and MRN are exact;
        birth-year range, sex and facility (``unit_id``) filter. The search is audited."""
        limit = check_limit(limit)
        position = decode_cursor(cursor) or {}
        page = await use_cases.search_patients(
            use_cases.PatientSearch(
                name=q,
                nni=nni,
                identifier_type=identifier_type,
                identifier=identifier,
                phone=phone,
                mrn=mrn,
                sex=sex,
                birth_year_from=birth_year_from,
                birth_year_to=birth_year_to,
                unit_id=unit_id,
                offset=int(position.get("o", 0)) if isinstance(position, dict) else 0,
                after=UUID(position["a"])
                if isinstance(position, dict) and "a" in position
                else None,
                limit=limit,
            ),
            principal=principal,
            patients=uow.patients,
            units=uow.orgunits,
            audit=uow.audit,
        )
        translate = request_translator(request)
        following = None
        if page.next_offset is not None:
            following = encode_cursor({"o": page.next_offset})
        elif page.next_after is not None:
            following = encode_cursor({"a": str(page.next_after)})
        return Page(
            items=[PatientListItem.of(h.patient, h.result, translate) for h in page.hits],
            next_cursor=following,
            limit=limit,
        )

    @post(
        "/",
        operation_id="patients_create",
        summary="Register a patient",
        opt={PERMISSION: Permission.PATIENTS_WRITE},
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[PatientCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> Response[PatientRead]:
        """Registers at ``unit_id`` (a facility) and issues the MRN. A probable duplicate
        answers 409 ``probable_duplicate`` with the candidates, their scores and reasons;
        resend with ``confirm_new_person`` and ``confirm_reason`` to register anyway
        (audited). The same NNI answers 409 ``nni_already_registered`` and cannot be
        overridden. Resending a body with the same ``id`` returns the record (200)."""
        new = NewPatient(
            unit_id=data.unit_id,
            given_names=data.given_names,
            family_name=data.family_name,
            sex=data.sex,
            given_names_ar=data.given_names_ar,
            family_name_ar=data.family_name_ar,
            birth_date=data.birth_date,
            birth_year=data.birth_year,
            birth_year_estimated=data.birth_year_estimated,
            nni=data.nni,
            nss=data.nss,
            phones=tuple(p.domain() for p in data.phones),
            address=data.address.domain() if data.address else Address(),
            language=data.language,
            sms_consent=data.sms_consent,
            contacts=tuple(c.domain() for c in data.contacts),
            identifiers=tuple(i.domain() for i in data.identifiers),
            payers=tuple(p.domain() for p in data.payers),
            id=data.id,
            confirm_new_person=data.confirm_new_person,
            confirm_reason=data.confirm_reason,
        )
        try:
            patient, created = await use_cases.register_patient(
                new,
                principal=principal,
                patients=uow.patients,
                units=uow.orgunits,
                mrns=uow.patients.mrns,
                pairs=uow.patients.pairs,
                audit=uow.audit,
                clock=request.app.state.container.clock,
            )
        except ProbableDuplicate as exc:
            translate = request_translator(request)
            raise Conflict(
                exc.message,
                code=exc.code,
                details={"candidates": [candidate_json(c, translate) for c in exc.candidates]},
            ) from exc
        return Response(PatientRead.of(patient), status_code=201 if created else 200)

    @get(
        "/{patient_id:uuid}",
        operation_id="patients_get",
        summary="Read a patient",
        opt={PERMISSION: Permission.PATIENTS_READ},
    )
    async def read(
        self, patient_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> PatientRead:
        """The full record with identifiers, payers, contacts and its completeness score.
        A merged record answers with ``status`` merged and ``merged_into_id``. Audited."""
        patient = await use_cases.get_patient(
            patient_id, principal=principal, patients=uow.patients, audit=uow.audit
        )
        return PatientRead.of(patient)

    @patch(
        "/{patient_id:uuid}",
        operation_id="patients_update",
        summary="Change a patient's identity",
        opt={PERMISSION: Permission.PATIENTS_WRITE},
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        patient_id: FromPath[UUID],
        data: JSONBody[PatientUpdate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> PatientRead:
        """Send ``version`` to refuse the change if someone else changed the record."""
        patient = await use_cases.update_patient(
            patient_id,
            PatientChanges(
                data.values(),
                expected_version=None if isinstance(data.version, UnsetType) else data.version,
            ),
            principal=principal,
            patients=uow.patients,
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return PatientRead.of(patient)

    @get(
        "/{patient_id:uuid}/duplicates",
        operation_id="patients_duplicates_of",
        summary="Probable duplicates of a patient",
        opt={PERMISSION: Permission.PATIENTS_READ},
    )
    async def duplicates(
        self,
        request: Request[Any, Any, Any],
        patient_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> list[dict[str, Any]]:
        """Candidates with their score and reasons; those at facilities outside the
        caller's assignment show only their score and facility."""
        candidates = await use_cases.duplicates_of(
            patient_id, principal=principal, patients=uow.patients, audit=uow.audit
        )
        translate = request_translator(request)
        return [candidate_json(c, translate) for c in candidates]

    @post(
        "/{patient_id:uuid}/identifiers",
        operation_id="patients_identifiers_add",
        summary="Add an identifier to a patient",
        opt={PERMISSION: Permission.PATIENTS_WRITE},
    )
    async def add_identifier(
        self,
        patient_id: FromPath[UUID],
        data: JSONBody[IdentifierIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> IdentifierRead:
        """Type (passport, unhcr, birth_certificate, ml_nina... or another code), value and
        issuer; the value is encrypted and found by exact search through a blind index."""
        stored = await records.add_identifier(
            patient_id, data.domain(), principal=principal, patients=uow.patients, audit=uow.audit
        )
        return IdentifierRead(stored.id, stored.type, stored.value, stored.issuer)

    @delete(
        "/{patient_id:uuid}/identifiers/{identifier_id:uuid}",
        operation_id="patients_identifiers_remove",
        summary="Remove an identifier of a patient",
        opt={PERMISSION: Permission.PATIENTS_WRITE},
    )
    async def remove_identifier(
        self,
        patient_id: FromPath[UUID],
        identifier_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> None:
        """Soft delete: the identifier stays in the change log."""
        await records.remove_identifier(
            patient_id, identifier_id, principal=principal, patients=uow.patients, audit=uow.audit
        )

    @post(
        "/{patient_id:uuid}/payers",
        operation_id="patients_payers_add",
        summary="Add a third-party payer",
        opt={PERMISSION: Permission.PATIENTS_WRITE},
    )
    async def add_payer(
        self,
        patient_id: FromPath[UUID],
        data: JSONBody[PayerIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> PayerRead:
        """CNAM, private insurer, employer, indigent programme...: policy number (encrypted),
        coverage rate in percent and validity dates."""
        stored = await records.add_payer(
            patient_id, data.domain(), principal=principal, patients=uow.patients, audit=uow.audit
        )
        return PayerRead.of(stored)

    @put(
        "/{patient_id:uuid}/payers/{payer_id:uuid}",
        operation_id="patients_payers_replace",
        summary="Replace a third-party payer",
        opt={PERMISSION: Permission.PATIENTS_WRITE},
    )
    async def replace_payer(
        self,
        patient_id: FromPath[UUID],
        payer_id: FromPath[UUID],
        data: JSONBody[PayerIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> PayerRead:
        """Replace every field of the payer (e.g. a renewed policy)."""
        stored = await records.update_payer(
            patient_id,
            data.domain(payer_id),
            principal=principal,
            patients=uow.patients,
            audit=uow.audit,
        )
        return PayerRead.of(stored)

    @delete(
        "/{patient_id:uuid}/payers/{payer_id:uuid}",
        operation_id="patients_payers_remove",
        summary="Remove a third-party payer",
        opt={PERMISSION: Permission.PATIENTS_WRITE},
    )
    async def remove_payer(
        self,
        patient_id: FromPath[UUID],
        payer_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> None:
        """Soft delete."""
        await records.remove_payer(
            patient_id, payer_id, principal=principal, patients=uow.patients, audit=uow.audit
        )


CONTROLLERS = [PatientController, PatientMergeController]
