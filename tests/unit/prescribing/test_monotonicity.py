"""Property: recording one more allergy, or one more unrelated condition, never removes
or weakens an alert. The only conditions allowed to lift an alert are those a rule
names in ``unless_any`` (a documented hypoglycaemia lifts the glucose block)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from afiya.adapters.knowledge import YamlKnowledgeLoader
from afiya.domain.prescribing.model import (
    Age,
    AllergyFact,
    ConditionFact,
    LabFact,
    MedicationFact,
    MedicationOrderDraft,
    PatientContext,
)
from afiya.domain.prescribing.safety import (
    Alert,
    ConditionCriterion,
    ContraindicationRule,
    check,
)
from afiya.domain.prescribing.safety.codes import normalize_icd10

_LOADER = YamlKnowledgeLoader()
_KB = _LOADER.load()
_FORMULARY = _LOADER.load_formulary()
_PRODUCTS = sorted(p.code for p in _FORMULARY)
_AS_OF = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

_SUPPRESSING = [
    _KB.icd10_ranges(c)
    for r in _KB.rules
    if isinstance(r, ContraindicationRule)
    for c in r.unless_any
    if isinstance(c, ConditionCriterion)
]
_ICD10 = [
    "E11.9", "E10.1", "E14", "N18.4", "N18.5", "N17.9", "J45.9", "J46", "O14.1", "O13",
    "I10", "I50.0", "D55.0", "K74.6", "K72.9", "P59.9", "E87.5", "M30.3", "E16.2", "E16.0",
    "A01.0", "B20", "A15.0", "B54", "G40.9", "F20.9", "K29.7", "R50.9", "Z34.9", "O72.1",
]  # fmt: skip
_UNRELATED_ICD10 = [
    code
    for code in _ICD10
    if not any(r.matches(normalize_icd10(code)) for ranges in _SUPPRESSING for r in ranges)
]
_SUBSTANCES = sorted({i.code for p in _FORMULARY for i in p.ingredients})
_CLASSES = ["J01C", "J01D", "J01E", "J01G", "J01M", "J01F", "M01A", "N02B", "N03A", "P01B", "J05A"]
_LABS = [
    ("98979-8", 20.0, "mL/min/1.73m2"),
    ("98979-8", 40.0, "mL/min/1.73m2"),
    ("98979-8", 95.0, "mL/min/1.73m2"),
    ("2823-3", 6.2, "mmol/L"),
    ("2823-3", 3.1, "mmol/L"),
    ("15074-8", 2.5, "mmol/L"),
    ("15074-8", 19.0, "mmol/L"),
    ("718-7", 6.5, "g/dL"),
    ("2160-0", 3.0, "mg/dL"),
]

allergies = st.builds(
    AllergyFact,
    substance_code=st.sampled_from(_SUBSTANCES),
    substance_kind=st.just("ingredient"),
    verification=st.sampled_from(["unconfirmed", "presumed", "confirmed", "refuted"]),
    criticality=st.sampled_from([None, "low", "high", "unable-to-assess"]),
) | st.builds(
    AllergyFact,
    substance_code=st.sampled_from(_CLASSES),
    substance_kind=st.just("atc_class"),
    verification=st.sampled_from(["unconfirmed", "confirmed"]),
    criticality=st.sampled_from([None, "low", "high"]),
)
conditions = st.builds(
    ConditionFact,
    code=st.sampled_from(_ICD10),
    clinical_status=st.sampled_from(["active", "active", "resolved"]),
)
unrelated_conditions = st.builds(ConditionFact, code=st.sampled_from(_UNRELATED_ICD10))
labs = st.builds(
    lambda spec, hours: LabFact(spec[0], spec[1], spec[2], _AS_OF - timedelta(hours=hours)),
    st.sampled_from(_LABS),
    st.integers(min_value=0, max_value=200),
)
medications = st.builds(
    lambda code: MedicationFact(product=_FORMULARY.get(code)), st.sampled_from(_PRODUCTS)
)


@st.composite
def contexts(draw: st.DrawFn) -> PatientContext:
    pregnant = draw(st.booleans())
    return PatientContext(
        as_of=_AS_OF,
        age=draw(st.none() | st.builds(Age, st.integers(min_value=0, max_value=90 * 365))),
        weight_kg=draw(st.none() | st.floats(min_value=2, max_value=120)),
        sex="female" if pregnant else draw(st.sampled_from(["female", "male", "unknown"])),
        pregnant=pregnant,
        gestational_weeks=draw(st.none() | st.integers(0, 42)) if pregnant else None,
        breastfeeding=draw(st.booleans()),
        allergies=draw(st.lists(allergies, max_size=3)),
        conditions=draw(st.lists(conditions, max_size=4)),
        medications=draw(st.lists(medications, max_size=5)),
        labs=draw(st.lists(labs, max_size=4)),
    )


@st.composite
def orders(draw: st.DrawFn) -> MedicationOrderDraft:
    product = _FORMULARY.get(draw(st.sampled_from(_PRODUCTS)))
    with_dose = draw(st.booleans())
    return MedicationOrderDraft(
        product=product,
        route=draw(st.sampled_from(product.routes)),
        dose=draw(st.floats(min_value=0.1, max_value=5000)) if with_dose else None,
        dose_unit=draw(st.sampled_from(["mg", "g", "mL", "tablet", "IU"])) if with_dose else None,
        frequency_per_day=draw(st.none() | st.sampled_from([1.0, 2.0, 3.0, 4.0, 6.0])),
    )


def _strongest(alerts: list[Alert]) -> dict[tuple[str, tuple[str, ...]], int]:
    """Best severity per (rule, subject): the subject is the allergy or co-medication."""
    best: dict[tuple[str, tuple[str, ...]], int] = {}
    for alert in alerts:
        subject = tuple(e.code for e in alert.evidence if e.type in ("allergy", "medication"))
        key = (alert.rule_id, subject)
        best[key] = max(best.get(key, -1), alert.severity.rank)
    return best


def _assert_not_weakened(before: list[Alert], after: list[Alert]) -> None:
    now = _strongest(after)
    for key, rank in _strongest(before).items():
        assert now.get(key, -1) >= rank, f"{key} weakened or removed"


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(order=orders(), context=contexts(), extra=allergies)
def test_adding_an_allergy_never_removes_an_alert(
    order: MedicationOrderDraft, context: PatientContext, extra: AllergyFact
) -> None:
    before = check(order, context, _KB)
    richer = PatientContext(**{**_fields(context), "allergies": (*context.allergies, extra)})

    _assert_not_weakened(before, check(order, richer, _KB))


@_SETTINGS
@given(order=orders(), context=contexts(), extra=unrelated_conditions)
def test_adding_an_unrelated_condition_never_removes_an_alert(
    order: MedicationOrderDraft, context: PatientContext, extra: ConditionFact
) -> None:
    before = check(order, context, _KB)
    richer = PatientContext(**{**_fields(context), "conditions": (*context.conditions, extra)})

    _assert_not_weakened(before, check(order, richer, _KB))


def test_the_unrelated_pool_excludes_exactly_the_suppressing_codes() -> None:
    assert "E16.2" not in _UNRELATED_ICD10
    assert "M30.3" not in _UNRELATED_ICD10
    assert "E11.9" in _UNRELATED_ICD10


def _fields(context: PatientContext) -> dict[str, object]:
    return {name: getattr(context, name) for name in PatientContext.__dataclass_fields__}
