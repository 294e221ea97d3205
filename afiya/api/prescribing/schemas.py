"""Bodies of the prescribing routes: prescriptions, dispensings, formulary, local rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from afiya.adapters.i18n import Translator
from afiya.domain.prescribing.model import Ingredient, Product, Strength
from afiya.domain.prescribing.orders import (
    Dispensing,
    ImagingRequest,
    LabRequest,
    LineKind,
    MedicationRequest,
    Modality,
    OrderLine,
    OrderStatus,
    Prescription,
)
from afiya.domain.prescribing.ports import FormularyEntry, LocalRule
from afiya.domain.prescribing.safety.alerts import Alert
from afiya.domain.prescribing.use_cases import NewLine

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Unit = Annotated[str, msgspec.Meta(min_length=1, max_length=24)]
Text = Annotated[str, msgspec.Meta(max_length=1000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class MedicationIn(msgspec.Struct, forbid_unknown_fields=True):
    product_code: Code
    dose: Decimal | None = None
    dose_unit: Unit | None = None
    route: Annotated[str, msgspec.Meta(max_length=24)] | None = None
    frequency_per_day: Decimal | None = None
    duration_days: Decimal | None = None
    as_needed: bool = False
    instructions: Text | None = None

    def domain(self) -> MedicationRequest:
        return MedicationRequest(
            self.product_code,
            self.dose,
            self.dose_unit,
            self.route.strip().lower() if self.route else None,
            self.frequency_per_day,
            self.duration_days,
            self.as_needed,
            self.instructions,
        )


class LabIn(msgspec.Struct, forbid_unknown_fields=True):
    loinc: Annotated[str, msgspec.Meta(min_length=3, max_length=10)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ImagingIn(msgspec.Struct, forbid_unknown_fields=True):
    modality: Modality
    body_site: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class LineIn(msgspec.Struct, forbid_unknown_fields=True):
    """One line: ``kind`` says which of ``medication``, ``lab`` or ``imaging`` is given.
    ``override_reason`` answers the line's contraindicated alerts (the prescriber's
    override, audited)."""

    kind: LineKind
    medication: MedicationIn | None = None
    lab: LabIn | None = None
    imaging: ImagingIn | None = None
    override_reason: Text | None = None

    def domain(self) -> NewLine:
        return NewLine(
            self.kind,
            self.medication.domain()
            if self.kind is LineKind.MEDICATION and self.medication
            else None,
            LabRequest(self.lab.loinc, self.lab.name)
            if self.kind is LineKind.LAB and self.lab
            else None,
            ImagingRequest(self.imaging.modality, self.imaging.body_site)
            if self.kind is LineKind.IMAGING and self.imaging
            else None,
            self.override_reason,
        )


Lines = Annotated[list[LineIn], msgspec.Meta(min_length=1, max_length=30)]


class PrescriptionCreate(msgspec.Struct, forbid_unknown_fields=True):
    patient_id: UUID
    lines: Lines
    status: Literal["draft", "active"] = "active"
    encounter_id: UUID | None = None
    note: Text | None = None


class PrescriptionAmend(msgspec.Struct, forbid_unknown_fields=True):
    """The whole new version: its lines replace the old version's."""

    lines: Lines
    reason: Reason
    status: Literal["draft", "active"] = "active"
    encounter_id: UUID | None = None
    note: Text | None = None


class StopIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    cancel: bool = False  # cancelled (written by mistake) rather than stopped


class OverrideReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    position: Annotated[int, msgspec.Meta(ge=0, le=29)]
    reason: Reason


class RenewIn(msgspec.Struct, forbid_unknown_fields=True):
    overrides: list[OverrideReasonIn] = msgspec.field(default_factory=list)


class EvidenceRead(msgspec.Struct):
    type: str
    code: str
    display: str
    value: float | None = None
    unit: str | None = None


class AlertRead(msgspec.Struct):
    """An alert in the caller's language; ``requires_override`` is true for
    ``contraindicated``."""

    severity: str
    kind: str
    rule_id: str
    rule_version: int
    message: str
    advice: str
    evidence: list[EvidenceRead]
    source: str
    origin: str
    requires_override: bool
    detail: str | None = None

    @classmethod
    def of(cls, alert: Alert, translate: Translator) -> AlertRead:
        return cls(
            severity=alert.severity.value,
            kind=alert.kind.value,
            rule_id=alert.rule_id,
            rule_version=alert.rule_version,
            message=alert.message.render(translate),
            advice=alert.advice.get(translate.language),
            evidence=[
                EvidenceRead(e.type, e.code, e.display, e.value, e.unit) for e in alert.evidence
            ],
            source=alert.source.citation(),
            origin=alert.origin.value,
            requires_override=alert.requires_override,
            detail=alert.detail.render(translate) if alert.detail else None,
        )


class OverrideRead(msgspec.Struct):
    reason: str
    by: UUID
    at: datetime


class LineRead(msgspec.Struct):
    id: UUID
    position: int
    kind: str
    alerts: list[AlertRead]
    product_code: str | None = None
    product_name: str | None = None
    dose: Decimal | None = None
    dose_unit: str | None = None
    route: str | None = None
    frequency_per_day: Decimal | None = None
    duration_days: Decimal | None = None
    as_needed: bool = False
    instructions: str | None = None
    loinc: str | None = None
    test_name: str | None = None
    modality: str | None = None
    body_site: str | None = None
    override: OverrideRead | None = None

    @classmethod
    def of(cls, line: OrderLine, translate: Translator) -> LineRead:
        med, lab, imaging = line.medication, line.lab, line.imaging
        return cls(
            id=line.id,
            position=line.position,
            kind=line.kind.value,
            alerts=[AlertRead.of(a, translate) for a in line.alerts],
            product_code=med.product_code if med else None,
            product_name=line.product_name,
            dose=med.dose if med else None,
            dose_unit=med.dose_unit if med else None,
            route=med.route if med else None,
            frequency_per_day=med.frequency_per_day if med else None,
            duration_days=med.duration_days if med else None,
            as_needed=med.as_needed if med else False,
            instructions=med.instructions if med else None,
            loinc=lab.loinc if lab else None,
            test_name=lab.name if lab else None,
            modality=imaging.modality.value if imaging else None,
            body_site=imaging.body_site if imaging else None,
            override=OverrideRead(line.override.reason, line.override.by, line.override.at)
            if line.override
            else None,
        )


class DispensingRead(msgspec.Struct):
    id: UUID
    prescription_id: UUID
    line_id: UUID
    patient_id: UUID
    status: str
    at: datetime
    dispenser_id: UUID
    product_code: str
    knowledge_version: str
    alerts: list[AlertRead]
    quantity: Decimal | None = None
    quantity_unit: str | None = None
    reason: str | None = None
    override_of: UUID | None = None
    override_by: UUID | None = None

    @classmethod
    def of(cls, d: Dispensing, translate: Translator) -> DispensingRead:
        return cls(
            id=d.id,
            prescription_id=d.prescription_id,
            line_id=d.line_id,
            patient_id=d.patient_id,
            status=d.status.value,
            at=d.at,
            dispenser_id=d.dispenser_id,
            product_code=d.product_code,
            knowledge_version=d.knowledge_version,
            alerts=[AlertRead.of(a, translate) for a in d.alerts],
            quantity=d.quantity,
            quantity_unit=d.quantity_unit,
            reason=d.reason,
            override_of=d.override_of,
            override_by=d.override_by,
        )


class PrescriptionRead(msgspec.Struct):
    id: UUID
    series_id: UUID
    version: int
    patient_id: UUID
    status: OrderStatus
    is_current: bool
    written_at: datetime
    prescriber_id: UUID
    knowledge_version: str
    lines: list[LineRead]
    dispensings: list[DispensingRead] = msgspec.field(default_factory=list)
    encounter_id: UUID | None = None
    note: str | None = None
    previous_id: UUID | None = None
    amendment_reason: str | None = None
    renewal_of: UUID | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None

    @classmethod
    def of(
        cls,
        p: Prescription,
        translate: Translator,
        dispensings: list[Dispensing] | None = None,
    ) -> PrescriptionRead:
        return cls(
            id=p.id,
            series_id=p.series_id,
            version=p.version,
            patient_id=p.patient_id,
            status=p.status,
            is_current=p.is_current,
            written_at=p.written_at,
            prescriber_id=p.prescriber_id,
            knowledge_version=p.knowledge_version,
            lines=[LineRead.of(line, translate) for line in p.lines],
            dispensings=[DispensingRead.of(d, translate) for d in dispensings or ()],
            encounter_id=p.encounter_id,
            note=p.note,
            previous_id=p.previous_id,
            amendment_reason=p.amendment_reason,
            renewal_of=p.renewal_of,
            ended_at=p.ended_at,
            end_reason=p.end_reason,
        )


class PrescriptionListItem(msgspec.Struct):
    id: UUID
    series_id: UUID
    version: int
    status: OrderStatus
    is_current: bool
    written_at: datetime
    prescriber_id: UUID
    products: list[str]
    line_count: int

    @classmethod
    def of(cls, p: Prescription) -> PrescriptionListItem:
        return cls(
            p.id,
            p.series_id,
            p.version,
            p.status,
            p.is_current,
            p.written_at,
            p.prescriber_id,
            [line.product_name or "" for line in p.medication_lines],
            len(p.lines),
        )


class LineCheckRead(msgspec.Struct):
    line_id: UUID
    position: int
    alerts: list[AlertRead]


class CheckRead(msgspec.Struct):
    prescription_id: UUID
    checked_at: datetime
    lines: list[LineCheckRead]


class DispenseIn(msgspec.Struct, forbid_unknown_fields=True):
    line_id: UUID
    quantity: Decimal
    quantity_unit: Unit


class RejectIn(msgspec.Struct, forbid_unknown_fields=True):
    line_id: UUID
    reason: Reason


class DispensingOverrideIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


# -- formulary -------------------------------------------------------------------------------


class IngredientIn(msgspec.Struct, forbid_unknown_fields=True):
    inn: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    strength_value: Annotated[float, msgspec.Meta(gt=0)]
    strength_unit: Unit
    atc: Annotated[str, msgspec.Meta(min_length=1, max_length=8)] | None = None
    per_value: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    per_unit: Unit = "unit"


class ProductCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    form: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    routes: Annotated[list[Annotated[str, msgspec.Meta(max_length=24)]], msgspec.Meta(min_length=1)]
    ingredients: Annotated[list[IngredientIn], msgspec.Meta(min_length=1, max_length=10)]
    atc: Annotated[str, msgspec.Meta(min_length=1, max_length=8)] | None = None
    local_names: list[Annotated[str, msgspec.Meta(max_length=200)]] = msgspec.field(
        default_factory=list
    )

    def domain(self) -> FormularyEntry:
        product = Product(
            code=self.code,
            name=self.name,
            ingredients=tuple(
                Ingredient(
                    code="-".join(i.inn.lower().split()),
                    inn=i.inn.lower(),
                    atc=i.atc,
                    strength=Strength(i.strength_value, i.strength_unit, i.per_value, i.per_unit),
                )
                for i in self.ingredients
            ),
            form=self.form,
            routes=tuple(self.routes),
            atc=self.atc,
        )
        return FormularyEntry(product, "local", tuple(self.local_names))


def _strength(strength: Strength | None) -> str | None:
    if strength is None:
        return None
    return f"{strength.value:g} {strength.unit}/{strength.per_value:g} {strength.per_unit}"


class ProductRead(msgspec.Struct):
    code: str
    name: str
    form: str
    routes: list[str]
    atc: str | None
    ingredients: list[dict[str, Any]]
    source: str
    local_names: list[str]
    active: bool

    @classmethod
    def of(cls, entry: FormularyEntry) -> ProductRead:
        p = entry.product
        return cls(
            code=p.code,
            name=p.name,
            form=p.form,
            routes=list(p.routes),
            atc=p.atc,
            ingredients=[
                {"inn": i.inn, "atc": i.atc, "strength": _strength(i.strength)}
                for i in p.ingredients
            ],
            source=entry.source,
            local_names=list(entry.local_names),
            active=entry.active,
        )


class LocalRuleCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A rule in the knowledge base's file format (``docs/adr/0103``), with at least one
    firing and one silent test case; ``sources`` and ``classes`` may add new entries."""

    rule_type: Literal["allergy", "contraindication", "interaction", "duplicate", "dose"]
    rule: dict[str, Any]
    sources: dict[str, Any] | None = None
    classes: dict[str, Any] | None = None

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"rule_type": self.rule_type, "rules": [self.rule]}
        if self.sources:
            doc["sources"] = self.sources
        if self.classes:
            doc["classes"] = self.classes
        return doc


class LocalRuleRead(msgspec.Struct):
    id: UUID
    rule_id: str
    version: int
    rule_type: str
    author_id: UUID
    at: datetime
    document: dict[str, Any]
    knowledge_version: str | None = None
    knowledge_fingerprint: str | None = None

    @classmethod
    def of(
        cls, rule: LocalRule, version: str | None = None, fingerprint: str | None = None
    ) -> LocalRuleRead:
        return cls(
            rule.id,
            rule.rule_id,
            rule.version,
            rule.rule_type,
            rule.author_id,
            rule.at,
            dict(rule.document),
            version,
            fingerprint,
        )
