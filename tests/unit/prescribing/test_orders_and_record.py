"""Pure rules of the prescribing workflow: lines, overrides, states, and the translation
of the clinical record into the engine's patient context."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from afiya.domain.prescribing import orders
from afiya.domain.prescribing.model import Ingredient, Product, Strength
from afiya.domain.prescribing.orders import (
    LineKind,
    MedicationRequest,
    OrderLine,
    OrderStatus,
    Prescription,
)
from afiya.domain.prescribing.record import (
    ActiveMedication,
    PatientFacts,
    RecordedAllergy,
    RecordedMeasure,
    RecordedProblem,
    SafetyRecord,
    build_context,
)
from afiya.domain.prescribing.safety import check
from afiya.domain.prescribing.safety.alerts import Severity

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
ME = uuid.UUID(int=1)
AMOX = Product(
    "amoxicillin-500-cap",
    "Amoxicillin 500 mg capsule",
    (Ingredient("amoxicillin", "amoxicillin", "J01CA04", Strength(500, "mg", 1, "capsule")),),
    "capsule",
    ("oral",),
    "J01CA04",
)


def _line(position: int = 0, **fields: object) -> OrderLine:
    request = MedicationRequest("amoxicillin-500-cap", **fields)  # type: ignore[arg-type]
    return OrderLine(uuid.uuid4(), position, LineKind.MEDICATION, medication=request)


def _prescription(status: OrderStatus, *, current: bool = True) -> Prescription:
    return Prescription(
        uuid.uuid4(),
        uuid.uuid4(),
        1,
        uuid.uuid4(),
        "/a/",
        ME,
        status,
        NOW,
        (_line(),),
        "x",
        is_current=current,
    )


class TestLines:
    @pytest.mark.parametrize(
        ("code", "valid"), [("2345-7", True), ("2160-0", True), ("2160-1", False), ("abc", False)]
    )
    def test_loinc_check_digit(self, code: str, valid: bool) -> None:
        assert orders.loinc_is_valid(code) is valid

    def test_a_route_the_product_does_not_have_is_refused(self) -> None:
        errors = orders.check_lines([_line(route="iv")], {"amoxicillin-500-cap": ("oral",)})
        assert [(e.field, e.code) for e in errors] == [("lines.0.route", "route_not_available")]

    def test_no_line_is_refused(self) -> None:
        assert [e.code for e in orders.check_lines([], {})] == ["required"]


class TestOverrides:
    def test_a_contraindicated_line_without_reason_is_listed_and_with_one_is_kept(self) -> None:
        ctx = build_context(
            PatientFacts("male", date(1980, 1, 1)),
            SafetyRecord(
                allergies=(
                    RecordedAllergy("ingredient", "Benzylpenicillin", "x", "high", "confirmed"),
                )
            ),
            {},
            as_of=NOW,
        )
        from afiya.adapters.knowledge import YamlKnowledgeLoader

        kb = YamlKnowledgeLoader().load()
        line = _line()
        alerts = check(orders_draft(line), ctx, kb)
        line = OrderLine(line.id, 0, LineKind.MEDICATION, line.medication, alerts=tuple(alerts))
        assert orders.blocking(line.alerts)

        _, missing = orders.decide_overrides([line], {}, by=ME, at=NOW)
        decided, none_missing = orders.decide_overrides([line], {0: " DKA "}, by=ME, at=NOW)

        assert missing == (0,) and none_missing == ()
        assert decided[0].override is not None and decided[0].override.reason == "DKA"

    def test_a_reason_without_a_contraindication_overrides_nothing(self) -> None:
        decided, missing = orders.decide_overrides([_line()], {0: "why"}, by=ME, at=NOW)
        assert missing == () and decided[0].override is None


def orders_draft(line: OrderLine):  # type: ignore[no-untyped-def]
    from afiya.domain.prescribing.record import order_draft

    assert line.medication is not None
    return order_draft(line.medication, AMOX)


class TestStates:
    def test_only_the_current_draft_or_active_version_can_be_amended(self) -> None:
        orders.check_can_amend(_prescription(OrderStatus.ACTIVE))
        for bad in (
            _prescription(OrderStatus.STOPPED),
            _prescription(OrderStatus.ACTIVE, current=False),
        ):
            with pytest.raises(orders.PrescriptionNotEditable):
                orders.check_can_amend(bad)

    def test_cancel_refused_once_something_was_dispensed(self) -> None:
        with pytest.raises(orders.PrescriptionNotEditable):
            orders.check_can_cancel(_prescription(OrderStatus.ACTIVE), dispensed=True)
        orders.check_can_cancel(_prescription(OrderStatus.ACTIVE), dispensed=False)

    def test_complete_when_every_medication_line_is_decided(self) -> None:
        rx = _prescription(OrderStatus.ACTIVE)
        assert not orders.is_complete(rx, set())
        assert orders.is_complete(rx, {rx.lines[0].id})


class TestContext:
    def test_record_facts_become_engine_facts(self) -> None:
        series = uuid.uuid4()
        record = SafetyRecord(
            allergies=(
                RecordedAllergy(
                    "ingredient", "Clavulanic Acid", "x", "unable_to_assess", "refuted"
                ),
                RecordedAllergy("drug_class", "j01c", "x", "low", "unconfirmed"),
                RecordedAllergy("other", "peanut", "x", "high", "confirmed"),
            ),
            problems=(
                RecordedProblem("Z33", "pregnancy", "active", NOW.date() - timedelta(weeks=26)),
                RecordedProblem("E11.9", "diabetes", "entered_in_error"),
                RecordedProblem("Z39.1", "other", "active"),
            ),
            weight_kg=RecordedMeasure(Decimal("61.5"), NOW - timedelta(days=40)),
            medications=(ActiveMedication(series, MedicationRequest("amoxicillin-500-cap")),),
        )

        ctx = build_context(
            PatientFacts("female", date(1996, 6, 1)),
            record,
            {"amoxicillin-500-cap": AMOX},
            as_of=NOW,
        )
        amended = build_context(
            PatientFacts("female", None, 1996),
            record,
            {"amoxicillin-500-cap": AMOX},
            as_of=NOW,
            exclude_series=series,
        )

        assert [(a.substance_code, a.substance_kind, a.verification) for a in ctx.allergies] == [
            ("clavulanic-acid", "ingredient", "refuted"),
            ("J01C", "atc_class", "unconfirmed"),
        ]
        assert ctx.pregnant and ctx.gestational_weeks == 26 and ctx.breastfeeding
        assert not next(c for c in ctx.conditions if c.code == "E11.9").is_current
        assert ctx.weight_kg == 61.5  # an adult's weight counts for a year
        assert len(ctx.medications) == 1 and amended.medications == ()
        assert amended.age is not None and amended.age.completed_years == 30

    def test_a_childs_weight_older_than_a_month_is_not_used(self) -> None:
        record = SafetyRecord(weight_kg=RecordedMeasure(Decimal(12), NOW - timedelta(days=40)))
        ctx = build_context(PatientFacts("male", date(2023, 1, 1)), record, {}, as_of=NOW)
        assert ctx.weight_kg is None

    def test_a_refuted_allergy_raises_nothing_and_a_confirmed_one_blocks(self) -> None:
        from afiya.adapters.knowledge import YamlKnowledgeLoader

        kb = YamlKnowledgeLoader().load()
        draft = orders_draft(_line())

        def alerts(verification: str) -> list[Severity]:
            record = SafetyRecord(
                allergies=(
                    RecordedAllergy("ingredient", "benzylpenicillin", "x", "high", verification),
                )
            )
            ctx = build_context(PatientFacts("male", date(1980, 1, 1)), record, {}, as_of=NOW)
            return [
                a.severity
                for a in check(draft, ctx, kb)
                if a.kind.value == "allergy" or a.kind.value == "cross_reactivity"
            ]

        assert alerts("refuted") == []
        assert Severity.CONTRAINDICATED in alerts("confirmed")
