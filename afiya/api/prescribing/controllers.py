"""Prescribing routes: prescriptions (write, read, list, amend, stop, renew, check, the
ordonnance PDF), dispensings (validate, reject, override) and the formulary.

Each route reads or writes one patient's record: the use case authorises against the
patient's facility path and audits with the patient id. A contraindicated line answers
409 problem+json carrying the alerts: at prescribing nothing is stored; at dispensing the
refusal is stored (it appears on the timeline) and can be overridden.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from afiya.adapters.db.uow import UnitOfWork
from afiya.adapters.i18n import Translator
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.errors import problem
from afiya.api.i18n import request_translator
from afiya.api.prescribing import services
from afiya.api.prescribing.schemas import (
    AlertRead,
    CheckRead,
    DispenseIn,
    DispensingOverrideIn,
    DispensingRead,
    LineCheckRead,
    LineRead,
    LocalRuleCreate,
    LocalRuleRead,
    PrescriptionAmend,
    PrescriptionCreate,
    PrescriptionListItem,
    PrescriptionRead,
    ProductCreate,
    ProductRead,
    RejectIn,
    RenewIn,
    StopIn,
)
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.prescribing import dispensing, formulary_cases, use_cases
from afiya.domain.prescribing.documents import prescription_document
from afiya.domain.prescribing.orders import OrderStatus
from afiya.domain.shared.i18n import N_, Message

Req = Request[Any, Any, Any]


def _refused_prescription(
    request: Req, outcome: use_cases.PrescribingOutcome
) -> Response[dict[str, Any]]:
    translate = request_translator(request)
    lines = [
        {
            "position": line.position,
            "product_code": line.medication.product_code if line.medication else None,
            "alerts": [_alert_json(a, translate) for a in line.alerts],
        }
        for line in outcome.lines
        if line.position in outcome.needs_override
    ]
    return problem(
        request,
        409,
        "contraindicated",
        Message(
            N_("A line is contraindicated: give an override reason for it or change it.")
        ).render(translate),
        extra={"lines": lines},
    )


def _alert_json(alert: Any, translate: Any) -> dict[str, Any]:
    import msgspec

    return msgspec.to_builtins(AlertRead.of(alert, translate))  # type: ignore[no-any-return]


def _prescribed(request: Req, outcome: use_cases.PrescribingOutcome) -> Response[Any]:
    if outcome.prescription is None:
        return _refused_prescription(request, outcome)
    return Response(
        PrescriptionRead.of(outcome.prescription, request_translator(request)), status_code=201
    )


class PrescriptionController(Controller):
    path = "/api/v1"
    tags = ["prescribing"]
    opt = {"resource": "prescription"}

    @post(
        "/prescriptions",
        operation_id="prescriptions_create",
        summary="Write a prescription",
        opt={PERMISSION: Permission.PRESCRIPTIONS_WRITE},
    )
    async def create(
        self,
        request: Req,
        data: JSONBody[PrescriptionCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> Response[Any]:
        """Medication, laboratory (LOINC) and imaging lines. Every medication line is
        checked against the patient's record (allergies, problems, active medications,
        age, weight, sex, pregnancy, breastfeeding, recent labs); the alerts are returned
        with each line. A contraindicated line needs ``override_reason``: without one the
        answer is 409 ``contraindicated`` listing the lines and their alerts, and nothing
        is stored (the refusal is audited)."""
        outcome = await use_cases.write_prescription(
            use_cases.NewPrescription(
                patient_id=data.patient_id,
                lines=tuple(line.domain() for line in data.lines),
                status=OrderStatus(data.status),
                encounter_id=data.encounter_id,
                note=data.note,
            ),
            principal=principal,
            clinical=uow.clinical,
            prescribing=uow.prescribing,
            knowledge=services.knowledge(request),
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return _prescribed(request, outcome)

    @get(
        "/prescriptions/{prescription_id:uuid}",
        operation_id="prescriptions_get",
        summary="Read a prescription",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def read(
        self, request: Req, prescription_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> PrescriptionRead:
        """One version with its lines, the alerts stored when it was written, overrides
        and the dispensings made against it. Audited."""
        found, dispensings = await use_cases.read_prescription(
            prescription_id,
            principal=principal,
            clinical=uow.clinical,
            prescribing=uow.prescribing,
            audit=uow.audit,
        )
        return PrescriptionRead.of(found, request_translator(request), dispensings)

    @get(
        "/patients/{patient_id:uuid}/prescriptions",
        operation_id="prescriptions_list",
        summary="A patient's prescriptions",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def list_for_patient(
        self,
        patient_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        all_versions: FromQuery[bool] = False,
    ) -> list[PrescriptionListItem]:
        """Newest first; the current version of each prescription unless
        ``all_versions``. Audited."""
        found = await use_cases.list_prescriptions(
            patient_id,
            current_only=not all_versions,
            principal=principal,
            clinical=uow.clinical,
            prescribing=uow.prescribing,
            audit=uow.audit,
        )
        return [PrescriptionListItem.of(p) for p in found]

    @post(
        "/prescriptions/{prescription_id:uuid}/amend",
        operation_id="prescriptions_amend",
        summary="Amend a prescription (new version)",
        opt={PERMISSION: Permission.PRESCRIPTIONS_WRITE},
    )
    async def amend(
        self,
        request: Req,
        prescription_id: FromPath[UUID],
        data: JSONBody[PrescriptionAmend],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> Response[Any]:
        """Writes a new version of a draft or active prescription with a reason; checked
        like a new one. The old version stays, no longer current."""
        outcome = await use_cases.amend_prescription(
            prescription_id,
            use_cases.NewPrescription(
                patient_id=prescription_id,  # replaced by the prescription's patient
                lines=tuple(line.domain() for line in data.lines),
                status=OrderStatus(data.status),
                encounter_id=data.encounter_id,
                note=data.note,
            ),
            reason=data.reason,
            principal=principal,
            clinical=uow.clinical,
            prescribing=uow.prescribing,
            knowledge=services.knowledge(request),
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return _prescribed(request, outcome)

    @post(
        "/prescriptions/{prescription_id:uuid}/renew",
        operation_id="prescriptions_renew",
        summary="Renew a prescription",
        opt={PERMISSION: Permission.PRESCRIPTIONS_WRITE},
    )
    async def renew(
        self,
        request: Req,
        prescription_id: FromPath[UUID],
        data: JSONBody[RenewIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> Response[Any]:
        """A new active prescription with the same lines, checked afresh (overrides are
        given again by line position)."""
        outcome = await use_cases.renew_prescription(
            prescription_id,
            override_reasons={o.position: o.reason for o in data.overrides},
            principal=principal,
            clinical=uow.clinical,
            prescribing=uow.prescribing,
            knowledge=services.knowledge(request),
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return _prescribed(request, outcome)

    @post(
        "/prescriptions/{prescription_id:uuid}/stop",
        operation_id="prescriptions_stop",
        summary="Stop or cancel a prescription",
        opt={PERMISSION: Permission.PRESCRIPTIONS_WRITE},
        status_code=200,
    )
    async def stop(
        self,
        request: Req,
        prescription_id: FromPath[UUID],
        data: JSONBody[StopIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> PrescriptionRead:
        """``stopped`` (an active treatment ended early) or, with ``cancel``,
        ``cancelled`` (written by mistake, nothing dispensed). A reason is required."""
        ended = await use_cases.stop_prescription(
            prescription_id,
            reason=data.reason,
            cancel=data.cancel,
            principal=principal,
            clinical=uow.clinical,
            prescribing=uow.prescribing,
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return PrescriptionRead.of(ended, request_translator(request))

    @get(
        "/prescriptions/{prescription_id:uuid}/check",
        operation_id="prescriptions_check",
        summary="Re-evaluate a prescription's alerts",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def check(
        self, request: Req, prescription_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> CheckRead:
        """The alerts of every line against the record as it is now and the knowledge
        base in force (the stored alerts are those of the time of writing). Audited."""
        found, lines = await use_cases.check_prescription(
            prescription_id,
            principal=principal,
            clinical=uow.clinical,
            prescribing=uow.prescribing,
            knowledge=services.knowledge(request),
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        translate = request_translator(request)
        return CheckRead(
            found.id,
            request.app.state.container.clock.now(),
            [
                LineCheckRead(line.id, line.position, LineRead.of(line, translate).alerts)
                for line in lines
            ],
        )

    @get(
        "/prescriptions/{prescription_id:uuid}/document",
        operation_id="prescriptions_document",
        summary="The prescription as a PDF (ordonnance)",
        opt={PERMISSION: Permission.CLINICAL_READ},
        media_type="application/pdf",
    )
    async def document(
        self,
        request: Req,
        prescription_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        language: Annotated[str, QueryParameter(pattern="^(fr|ar|en)$")] = "fr",
    ) -> Response[bytes]:
        """The ordonnance in French, Arabic or English: facility letterhead, patient
        (names in both scripts), medicines with their dosage, tests, imaging, prescriber.
        Rendered on request, in a thread. Audited."""
        document = await prescription_document(
            prescription_id,
            language=language,
            principal=principal,
            clinical=uow.clinical,
            prescribing=uow.prescribing,
            units=uow.orgunits,
            user_names=_user_names(uow),
            audit=uow.audit,
        )
        translate = Translator(language)
        data = await asyncio.to_thread(services.renderer(request).render, document, translate)
        return Response(
            data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="ordonnance-{language}.pdf"'},
        )


def _user_names(uow: UnitOfWork) -> Any:
    async def names(ids: Sequence[UUID]) -> dict[UUID, str]:
        found: dict[UUID, str] = {}
        for user_id in set(ids):
            user = await uow.users.get(user_id)
            if user is not None:
                found[user_id] = user.full_name or user.username
        return found

    return names


class DispensingController(Controller):
    path = "/api/v1/dispensings"
    tags = ["prescribing"]
    opt = {"resource": "dispensing"}

    @post(
        "/",
        operation_id="dispensings_validate",
        summary="Dispense a medication line",
        opt={PERMISSION: Permission.DISPENSING_WRITE},
    )
    async def validate(
        self, request: Req, data: JSONBody[DispenseIn], principal: CurrentPrincipal, uow: Uow
    ) -> Response[Any]:
        """The pharmacist validates a line and records the quantity handed over. The
        safety engine runs again on the record as it is now: a contraindicated alert
        answers 409 ``dispensing_refused`` with the alerts and the refused dispensing's
        id (``dispensing_id``), which a pharmacist or physician may override. The refusal
        is stored, on the timeline and in the audit trail."""
        outcome = await dispensing.dispense_line(
            data.line_id,
            quantity=data.quantity,
            quantity_unit=data.quantity_unit,
            principal=principal,
            clinical=uow.clinical,
            prescribing=uow.prescribing,
            knowledge=services.knowledge(request),
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        translate = request_translator(request)
        if outcome.refused:
            return problem(
                request,
                409,
                "dispensing_refused",
                Message(
                    N_(
                        "Dispensing refused: the line is contraindicated for this patient. "
                        "A pharmacist or a physician may override it with a reason."
                    )
                ).render(translate),
                extra={
                    "dispensing_id": str(outcome.dispensing.id),
                    "alerts": [
                        _alert_json(a, translate)
                        for a in outcome.dispensing.alerts
                        if a.requires_override
                    ],
                },
            )
        return Response(DispensingRead.of(outcome.dispensing, translate), status_code=201)

    @post(
        "/reject",
        operation_id="dispensings_reject",
        summary="Reject a medication line",
        opt={PERMISSION: Permission.DISPENSING_WRITE},
    )
    async def reject(
        self, request: Req, data: JSONBody[RejectIn], principal: CurrentPrincipal, uow: Uow
    ) -> Response[DispensingRead]:
        """The pharmacist declines a line, with a reason (stored, on the timeline)."""
        outcome = await dispensing.reject_line(
            data.line_id,
            reason=data.reason,
            principal=principal,
            clinical=uow.clinical,
            prescribing=uow.prescribing,
            knowledge=services.knowledge(request),
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return Response(
            DispensingRead.of(outcome.dispensing, request_translator(request)), status_code=201
        )

    @post(
        "/{dispensing_id:uuid}/override",
        operation_id="dispensings_override",
        summary="Override a refused dispensing",
        opt={PERMISSION: Permission.DISPENSING_OVERRIDE},
    )
    async def override(
        self,
        request: Req,
        dispensing_id: FromPath[UUID],
        data: JSONBody[DispensingOverrideIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> Response[DispensingRead]:
        """A pharmacist or physician dispenses a refused line despite its
        contraindication, with a reason. A new dispensing pointing at the refusal;
        both stay on the timeline and in the audit trail."""
        outcome = await dispensing.override_dispensing(
            dispensing_id,
            reason=data.reason,
            principal=principal,
            clinical=uow.clinical,
            prescribing=uow.prescribing,
            knowledge=services.knowledge(request),
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return Response(
            DispensingRead.of(outcome.dispensing, request_translator(request)), status_code=201
        )

    @get(
        "/{dispensing_id:uuid}",
        operation_id="dispensings_get",
        summary="Read a dispensing",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def read(
        self, request: Req, dispensing_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> DispensingRead:
        """A dispensing decision with the alerts of that moment. Audited."""
        found = await dispensing.read_dispensing(
            dispensing_id,
            principal=principal,
            clinical=uow.clinical,
            prescribing=uow.prescribing,
            audit=uow.audit,
        )
        return DispensingRead.of(found, request_translator(request))


class FormularyController(Controller):
    path = "/api/v1/formulary"
    tags = ["prescribing"]
    opt = {"resource": "formulary"}

    @get(
        "/products",
        operation_id="formulary_products_list",
        summary="Search the formulary",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def products(
        self,
        uow: Uow,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> list[ProductRead]:
        """Products by name, code or ATC prefix (WHO EML seed and local products)."""
        found = await uow.prescribing.search_products(q, limit)
        return [ProductRead.of(e) for e in found]

    @post(
        "/products",
        operation_id="formulary_products_create",
        summary="Add a product to the formulary",
        opt={PERMISSION: Permission.FORMULARY_WRITE},
    )
    async def add_product(
        self, data: JSONBody[ProductCreate], principal: CurrentPrincipal, uow: Uow
    ) -> Response[ProductRead]:
        """A pharmacist adds a product (INN ingredients with strengths, ATC code,
        routes, local names). The code must be new. Audited."""
        stored = await formulary_cases.add_formulary_product(
            data.domain(), principal=principal, prescribing=uow.prescribing, audit=uow.audit
        )
        return Response(ProductRead.of(stored), status_code=201)

    @get(
        "/local-rules",
        operation_id="formulary_local_rules_list",
        summary="Local safety rules in force",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def local_rules(self, uow: Uow) -> list[LocalRuleRead]:
        """The current version of every local rule."""
        return [LocalRuleRead.of(r) for r in await uow.prescribing.local_rules()]

    @post(
        "/local-rules",
        operation_id="formulary_local_rules_create",
        summary="Add or revise a local safety rule",
        opt={PERMISSION: Permission.FORMULARY_WRITE},
    )
    async def add_local_rule(
        self,
        request: Req,
        data: JSONBody[LocalRuleCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> Response[LocalRuleRead]:
        """A rule in the knowledge base's format with firing and silent test cases. It is
        accepted only if the merged knowledge base validates and its test cases pass
        (422 lists every problem); a rule id already in force gets a new version. From
        then on every check uses it. Audited."""
        rule, kb = await formulary_cases.add_local_rule(
            rule_type=data.rule_type,
            document=data.document(),
            principal=principal,
            prescribing=uow.prescribing,
            knowledge=services.knowledge(request),
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return Response(
            LocalRuleRead.of(rule, kb.release.version, kb.release.fingerprint), status_code=201
        )


CONTROLLERS = [PrescriptionController, DispensingController, FormularyController]
