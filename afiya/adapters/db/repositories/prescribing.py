"""SQL repository of prescribing (``uow.prescribing``): formulary, local rules,
prescriptions and their lines, dispensings, and the safety view of the clinical record.

The safety view reads the clinical tables directly, in a few narrow queries (allergies,
problems, latest weight and height, recent numeric lab results, the medication lines of
current active prescriptions), rather than building the full clinical domain objects:
it runs on every prescription and every dispensing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.clinical import (
    AllergyRow,
    LabResultRow,
    ObservationRow,
    ProblemRow,
)
from afiya.adapters.db.models.prescribing import (
    DispensingRow,
    FormularyProductRow,
    LocalRuleRow,
    PrescriptionLineRow,
    PrescriptionRow,
)
from afiya.domain.prescribing.model import Ingredient, Product, Strength
from afiya.domain.prescribing.orders import (
    Dispensing,
    DispensingStatus,
    ImagingRequest,
    LabRequest,
    LineKind,
    MedicationRequest,
    Modality,
    OrderLine,
    OrderStatus,
    Override,
    Prescription,
)
from afiya.domain.prescribing.ports import FormularyEntry, LocalRule
from afiya.domain.prescribing.record import (
    LAB_LOOKBACK,
    ActiveMedication,
    RecordedAllergy,
    RecordedLab,
    RecordedMeasure,
    RecordedProblem,
    SafetyRecord,
)
from afiya.domain.prescribing.safety.alerts import (
    Alert,
    AlertKind,
    Evidence,
    LocalizedText,
    Origin,
    RuleSource,
    Severity,
)
from afiya.domain.shared.i18n import Message

WEIGHT = "29463-7"
HEIGHT = "8302-2"


# -- alerts as JSON (a snapshot of what the engine said, with the rule's version) ------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _message_json(message: Message | None) -> dict[str, Any] | None:
    if message is None:
        return None
    return {"msgid": message.msgid, "params": {k: _jsonable(v) for k, v in message.params.items()}}


def alert_to_json(alert: Alert) -> dict[str, Any]:
    return {
        "severity": alert.severity.value,
        "rule_id": alert.rule_id,
        "rule_version": alert.rule_version,
        "kind": alert.kind.value,
        "message": _message_json(alert.message),
        "detail": _message_json(alert.detail),
        "evidence": [
            {"type": e.type, "code": e.code, "display": e.display, "value": e.value, "unit": e.unit}
            for e in alert.evidence
        ],
        "advice": {"en": alert.advice.en, "fr": alert.advice.fr, "ar": alert.advice.ar},
        "source": {
            "title": alert.source.title,
            "detail": alert.source.detail,
            "url": alert.source.url,
        },
        "origin": alert.origin.value,
    }


def _message(data: dict[str, Any] | None) -> Message | None:
    return None if data is None else Message(data["msgid"], data.get("params") or {})


def alert_from_json(data: dict[str, Any]) -> Alert:
    message = _message(data["message"])
    assert message is not None
    return Alert(
        severity=Severity(data["severity"]),
        rule_id=data["rule_id"],
        rule_version=int(data["rule_version"]),
        kind=AlertKind(data["kind"]),
        message=message,
        evidence=tuple(Evidence(**e) for e in data.get("evidence") or ()),
        advice=LocalizedText(**data["advice"]),
        source=RuleSource(**data["source"]),
        origin=Origin(data["origin"]),
        detail=_message(data.get("detail")),
    )


# -- products ---------------------------------------------------------------------------------


def _product(row: FormularyProductRow) -> Product:
    return Product(
        code=row.code,
        name=row.name,
        ingredients=tuple(
            Ingredient(
                code=i["code"],
                inn=i["inn"],
                atc=i.get("atc"),
                strength=Strength(**i["strength"]) if i.get("strength") else None,
            )
            for i in row.ingredients
        ),
        form=row.form,
        routes=tuple(row.routes),
        atc=row.atc,
    )


def _ingredients_json(product: Product) -> list[dict[str, Any]]:
    return [
        {
            "code": i.code,
            "inn": i.inn,
            "atc": i.atc,
            "strength": None
            if i.strength is None
            else {
                "value": i.strength.value,
                "unit": i.strength.unit,
                "per_value": i.strength.per_value,
                "per_unit": i.strength.per_unit,
            },
        }
        for i in product.ingredients
    ]


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _dec(value: Decimal | float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class SqlPrescribingRepository:
    """:class:`~afiya.domain.prescribing.ports.PrescribingRepository` on SQLAlchemy."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- formulary ------------------------------------------------------------------------
    async def products(self, codes: Iterable[str]) -> dict[str, Product]:
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        rows = (
            await self._session.scalars(
                select(FormularyProductRow).where(
                    FormularyProductRow.code.in_(wanted),
                    FormularyProductRow.active.is_(True),
                    FormularyProductRow.deleted_at.is_(None),
                )
            )
        ).all()
        return {row.code: _product(row) for row in rows}

    async def search_products(self, text: str | None, limit: int) -> list[FormularyEntry]:
        statement = select(FormularyProductRow).where(FormularyProductRow.deleted_at.is_(None))
        if text:
            needle = f"%{text.strip().lower()}%"
            statement = statement.where(
                or_(
                    func.lower(FormularyProductRow.name).like(needle),
                    func.lower(FormularyProductRow.code).like(needle),
                    FormularyProductRow.atc.like(text.strip().upper() + "%"),
                )
            )
        rows = (
            await self._session.scalars(statement.order_by(FormularyProductRow.name).limit(limit))
        ).all()
        return [
            FormularyEntry(_product(r), r.source, tuple(r.local_names or ()), r.active)
            for r in rows
        ]

    async def product_exists(self, code: str) -> bool:
        found = await self._session.scalar(
            select(FormularyProductRow.id).where(FormularyProductRow.code == code)
        )
        return found is not None

    async def add_product(self, entry: FormularyEntry) -> None:
        product = entry.product
        self._session.add(
            FormularyProductRow(
                code=product.code,
                name=product.name,
                form=product.form,
                routes=list(product.routes),
                atc=product.atc,
                ingredients=_ingredients_json(product),
                local_names=list(entry.local_names),
                source=entry.source,
                active=entry.active,
            )
        )
        await self._session.flush()

    # -- the record, as the safety check reads it -----------------------------------------
    async def safety_record(self, patient_id: UUID) -> SafetyRecord:
        session = self._session
        allergies = (
            await session.execute(
                select(
                    AllergyRow.substance_system,
                    AllergyRow.substance_code,
                    AllergyRow.substance_display,
                    AllergyRow.criticality,
                    AllergyRow.verification,
                ).where(AllergyRow.patient_id == patient_id, AllergyRow.deleted_at.is_(None))
            )
        ).all()
        problems = (
            await session.execute(
                select(
                    ProblemRow.code,
                    ProblemRow.kind,
                    ProblemRow.status,
                    ProblemRow.last_menstrual_period,
                ).where(ProblemRow.patient_id == patient_id, ProblemRow.deleted_at.is_(None))
            )
        ).all()
        # the latest weight and height in one round trip
        latest = [
            select(ObservationRow.code, ObservationRow.value, ObservationRow.occurred_at)
            .where(
                ObservationRow.patient_id == patient_id,
                ObservationRow.code == code,
                ObservationRow.deleted_at.is_(None),
            )
            .order_by(ObservationRow.occurred_at.desc(), ObservationRow.id.desc())
            .limit(1)
            .subquery()
            for code in (WEIGHT, HEIGHT)
        ]
        measured = (await session.execute(union_all(*(select(*q.c) for q in latest)))).all()
        measures: dict[str, RecordedMeasure | None] = {WEIGHT: None, HEIGHT: None}
        for code, value, at in measured:
            measures[code] = RecordedMeasure(Decimal(str(value)), _aware(at))
        since = datetime.now().astimezone() - LAB_LOOKBACK - timedelta(days=1)
        newer = LabResultRow.__table__.alias("newer")
        labs = (
            await session.execute(
                select(
                    LabResultRow.code,
                    LabResultRow.value,
                    LabResultRow.unit,
                    LabResultRow.observed_at,
                ).where(
                    LabResultRow.patient_id == patient_id,
                    LabResultRow.deleted_at.is_(None),
                    LabResultRow.value.is_not(None),
                    LabResultRow.unit.is_not(None),
                    LabResultRow.occurred_at >= since,
                    # the latest version of each result only (a correction replaces it)
                    ~select(newer.c.id).where(newer.c.previous_id == LabResultRow.id).exists(),
                )
            )
        ).all()
        lines = (
            await session.execute(
                select(
                    PrescriptionRow.series_id,
                    PrescriptionLineRow.product_code,
                    PrescriptionLineRow.dose,
                    PrescriptionLineRow.dose_unit,
                    PrescriptionLineRow.route,
                    PrescriptionLineRow.frequency_per_day,
                    PrescriptionLineRow.duration_days,
                    PrescriptionLineRow.as_needed,
                )
                .join(PrescriptionRow, PrescriptionRow.id == PrescriptionLineRow.prescription_id)
                .where(
                    PrescriptionRow.patient_id == patient_id,
                    PrescriptionRow.is_current.is_(True),
                    PrescriptionRow.status == OrderStatus.ACTIVE.value,
                    PrescriptionRow.deleted_at.is_(None),
                    PrescriptionLineRow.kind == LineKind.MEDICATION.value,
                )
            )
        ).all()
        return SafetyRecord(
            allergies=tuple(RecordedAllergy(*a) for a in allergies),
            problems=tuple(RecordedProblem(*p) for p in problems),
            weight_kg=measures[WEIGHT],
            height_cm=measures[HEIGHT],
            labs=tuple(
                RecordedLab(code, Decimal(str(value)), unit or "", at)
                for code, value, unit, at in labs
            ),
            medications=tuple(
                ActiveMedication(
                    series,
                    MedicationRequest(
                        product_code=code,
                        dose=_dec(dose),
                        dose_unit=dose_unit,
                        route=route,
                        frequency_per_day=_dec(freq),
                        duration_days=_dec(duration),
                        as_needed=bool(as_needed),
                    ),
                )
                for series, code, dose, dose_unit, route, freq, duration, as_needed in lines
                if code
            ),
        )

    # -- prescriptions --------------------------------------------------------------------
    async def add_prescription(self, prescription: Prescription) -> None:
        p = prescription
        self._session.add(
            PrescriptionRow(
                id=p.id,
                series_id=p.series_id,
                rx_version=p.version,
                previous_id=p.previous_id,
                is_current=p.is_current,
                patient_id=p.patient_id,
                unit_path=p.unit_path,
                encounter_id=p.encounter_id,
                prescriber_id=p.prescriber_id,
                status=p.status.value,
                occurred_at=p.written_at,
                note=p.note,
                amendment_reason=p.amendment_reason,
                renewal_of=p.renewal_of,
                knowledge_version=p.knowledge_version,
            )
        )
        await self._session.flush()  # the lines' foreign key needs the prescription first
        for line in p.lines:
            med, lab, imaging = line.medication, line.lab, line.imaging
            self._session.add(
                PrescriptionLineRow(
                    id=line.id,
                    prescription_id=p.id,
                    patient_id=p.patient_id,
                    position=line.position,
                    kind=line.kind.value,
                    product_code=med.product_code if med else None,
                    product_name=line.product_name,
                    dose=med.dose if med else None,
                    dose_unit=med.dose_unit if med else None,
                    route=med.route if med else None,
                    frequency_per_day=med.frequency_per_day if med else None,
                    duration_days=med.duration_days if med else None,
                    as_needed=med.as_needed if med else False,
                    instructions=med.instructions if med else None,
                    code=lab.loinc if lab else None,
                    test_name=lab.name if lab else None,
                    modality=imaging.modality.value if imaging else None,
                    body_site=imaging.body_site if imaging else None,
                    alerts=[alert_to_json(a) for a in line.alerts],
                    override_reason=line.override.reason if line.override else None,
                    override_by=line.override.by if line.override else None,
                    override_at=line.override.at if line.override else None,
                )
            )
        await self._session.flush()

    async def supersede(self, prescription_id: UUID) -> None:
        row = await self._session.get(PrescriptionRow, prescription_id)
        if row is not None:
            row.is_current = False
            await self._session.flush()

    async def save_status(self, prescription: Prescription) -> None:
        row = await self._session.get(PrescriptionRow, prescription.id)
        if row is None:
            return
        row.status = prescription.status.value
        row.ended_at, row.ended_by = prescription.ended_at, prescription.ended_by
        row.end_reason = prescription.end_reason
        await self._session.flush()

    async def _lines(self, prescription_ids: Sequence[UUID]) -> dict[UUID, list[OrderLine]]:
        rows = (
            await self._session.scalars(
                select(PrescriptionLineRow)
                .where(
                    PrescriptionLineRow.prescription_id.in_(prescription_ids),
                    PrescriptionLineRow.deleted_at.is_(None),
                )
                .order_by(PrescriptionLineRow.prescription_id, PrescriptionLineRow.position)
            )
        ).all()
        found: dict[UUID, list[OrderLine]] = {pid: [] for pid in prescription_ids}
        for r in rows:
            kind = LineKind(r.kind)
            found[r.prescription_id].append(
                OrderLine(
                    id=r.id,
                    position=r.position,
                    kind=kind,
                    medication=MedicationRequest(
                        product_code=r.product_code or "",
                        dose=_dec(r.dose),
                        dose_unit=r.dose_unit,
                        route=r.route,
                        frequency_per_day=_dec(r.frequency_per_day),
                        duration_days=_dec(r.duration_days),
                        as_needed=r.as_needed,
                        instructions=r.instructions,
                    )
                    if kind is LineKind.MEDICATION
                    else None,
                    lab=LabRequest(r.code or "", r.test_name or "")
                    if kind is LineKind.LAB
                    else None,
                    imaging=ImagingRequest(Modality(r.modality), r.body_site or "")
                    if kind is LineKind.IMAGING and r.modality
                    else None,
                    product_name=r.product_name,
                    alerts=tuple(alert_from_json(a) for a in r.alerts or ()),
                    override=Override(r.override_reason, r.override_by, r.override_at)
                    if r.override_reason and r.override_by and r.override_at
                    else None,
                )
            )
        return found

    @staticmethod
    def _prescription(row: PrescriptionRow, lines: list[OrderLine]) -> Prescription:
        return Prescription(
            id=row.id,
            series_id=row.series_id,
            version=row.rx_version,
            patient_id=row.patient_id,
            unit_path=row.unit_path,
            prescriber_id=row.prescriber_id,
            status=OrderStatus(row.status),
            written_at=row.occurred_at,
            lines=tuple(lines),
            knowledge_version=row.knowledge_version,
            encounter_id=row.encounter_id,
            note=row.note,
            previous_id=row.previous_id,
            amendment_reason=row.amendment_reason,
            renewal_of=row.renewal_of,
            is_current=row.is_current,
            ended_at=row.ended_at,
            ended_by=row.ended_by,
            end_reason=row.end_reason,
        )

    async def prescription(self, prescription_id: UUID) -> Prescription | None:
        row = await self._session.get(PrescriptionRow, prescription_id)
        if row is None or row.deleted_at is not None:
            return None
        lines = await self._lines([row.id])
        return self._prescription(row, lines[row.id])

    async def prescription_of_line(self, line_id: UUID) -> Prescription | None:
        prescription_id = await self._session.scalar(
            select(PrescriptionLineRow.prescription_id).where(PrescriptionLineRow.id == line_id)
        )
        return None if prescription_id is None else await self.prescription(prescription_id)

    async def patient_prescriptions(
        self, patient_id: UUID, *, current_only: bool
    ) -> list[Prescription]:
        statement = select(PrescriptionRow).where(
            PrescriptionRow.patient_id == patient_id, PrescriptionRow.deleted_at.is_(None)
        )
        if current_only:
            statement = statement.where(PrescriptionRow.is_current.is_(True))
        rows = (
            await self._session.scalars(
                statement.order_by(PrescriptionRow.occurred_at.desc(), PrescriptionRow.id.desc())
            )
        ).all()
        lines = await self._lines([r.id for r in rows]) if rows else {}
        return [self._prescription(r, lines[r.id]) for r in rows]

    # -- dispensings ----------------------------------------------------------------------
    async def add_dispensing(self, dispensing: Dispensing) -> None:
        d = dispensing
        self._session.add(
            DispensingRow(
                id=d.id,
                prescription_id=d.prescription_id,
                line_id=d.line_id,
                patient_id=d.patient_id,
                unit_path=d.unit_path,
                status=d.status.value,
                occurred_at=d.at,
                dispenser_id=d.dispenser_id,
                product_code=d.product_code,
                quantity=d.quantity,
                quantity_unit=d.quantity_unit,
                alerts=[alert_to_json(a) for a in d.alerts],
                reason=d.reason,
                override_of=d.override_of,
                override_by=d.override_by,
                knowledge_version=d.knowledge_version,
            )
        )
        await self._session.flush()

    @staticmethod
    def _dispensing(r: DispensingRow) -> Dispensing:
        return Dispensing(
            id=r.id,
            prescription_id=r.prescription_id,
            line_id=r.line_id,
            patient_id=r.patient_id,
            unit_path=r.unit_path,
            status=DispensingStatus(r.status),
            at=r.occurred_at,
            dispenser_id=r.dispenser_id,
            product_code=r.product_code,
            knowledge_version=r.knowledge_version,
            quantity=_dec(r.quantity),
            quantity_unit=r.quantity_unit,
            alerts=tuple(alert_from_json(a) for a in r.alerts or ()),
            reason=r.reason,
            override_of=r.override_of,
            override_by=r.override_by,
        )

    async def dispensing(self, dispensing_id: UUID) -> Dispensing | None:
        row = await self._session.get(DispensingRow, dispensing_id)
        return None if row is None or row.deleted_at is not None else self._dispensing(row)

    async def dispensings(self, prescription_id: UUID) -> list[Dispensing]:
        rows = (
            await self._session.scalars(
                select(DispensingRow)
                .where(
                    DispensingRow.prescription_id == prescription_id,
                    DispensingRow.deleted_at.is_(None),
                )
                .order_by(DispensingRow.occurred_at, DispensingRow.id)
            )
        ).all()
        return [self._dispensing(r) for r in rows]

    async def overridden(self, dispensing_id: UUID) -> bool:
        found = await self._session.scalar(
            select(DispensingRow.id).where(DispensingRow.override_of == dispensing_id).limit(1)
        )
        return found is not None

    # -- local rules ----------------------------------------------------------------------
    async def local_rules(self) -> list[LocalRule]:
        rows = (
            await self._session.scalars(
                select(LocalRuleRow)
                .where(
                    LocalRuleRow.is_current.is_(True),
                    LocalRuleRow.retired.is_(False),
                    LocalRuleRow.deleted_at.is_(None),
                )
                .order_by(LocalRuleRow.rule_id)
            )
        ).all()
        return [
            LocalRule(
                r.id, r.rule_id, r.rule_version, r.rule_type, r.document, r.author_id, r.occurred_at
            )
            for r in rows
        ]

    async def add_local_rule(self, rule: LocalRule) -> None:
        previous = (
            await self._session.scalars(
                select(LocalRuleRow).where(
                    LocalRuleRow.rule_id == rule.rule_id, LocalRuleRow.is_current.is_(True)
                )
            )
        ).all()
        for row in previous:  # an ORM update, so the change log records it
            row.is_current = False
        self._session.add(
            LocalRuleRow(
                id=rule.id,
                rule_id=rule.rule_id,
                rule_version=rule.version,
                rule_type=rule.rule_type,
                document=dict(rule.document),
                author_id=rule.author_id,
                occurred_at=rule.at,
                is_current=True,
                retired=False,
            )
        )
        await self._session.flush()
