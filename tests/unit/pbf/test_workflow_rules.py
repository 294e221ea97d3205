"""Pure rules of the verification workflow, rule-set documents and data-entry files."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from afiya.domain.pbf.documents import document_of, rule_set_from_document
from afiya.domain.pbf.errors import RuleSetInvalid
from afiya.domain.pbf.records import (
    ChecklistItem,
    ChecklistSection,
    CounterVerification,
    Declaration,
    DeclarationStatus,
    Facility,
    QualityChecklist,
    QualityEvaluation,
    Step,
    StepEntry,
)
from afiya.domain.pbf.tabular import columns, parse_rows, template_rows
from afiya.domain.pbf.workflow import (
    apply_step,
    counter_verification_problems,
    duplicate_keys,
    engine_inputs,
    entry_problems,
    is_locked,
    score_problems,
    transition_problem,
)
from afiya.domain.shared.money import MRU
from tests.unit.pbf.factories import reference_rule_set

NOW = datetime(2026, 1, 5, tzinfo=UTC)
OU = uuid4()


def _entry(activity="act1", period="201601", value=Decimal(4), package="quantity"):
    return StepEntry(OU, period, package, activity, value)


def _declared(status=DeclarationStatus.DECLARED):
    return Declaration(uuid4(), uuid4(), OU, "/a/b/", "201601", "quantity", "act1", status)


class TestTransitions:
    @pytest.mark.parametrize(
        ("status", "step", "allowed"),
        [
            (None, Step.DECLARE, True),
            (None, Step.VERIFY, False),
            (None, Step.VALIDATE, False),
            (DeclarationStatus.DECLARED, Step.DECLARE, True),
            (DeclarationStatus.DECLARED, Step.VERIFY, True),
            (DeclarationStatus.DECLARED, Step.VALIDATE, False),
            (DeclarationStatus.VERIFIED, Step.DECLARE, False),
            (DeclarationStatus.VERIFIED, Step.VERIFY, True),
            (DeclarationStatus.VERIFIED, Step.VALIDATE, True),
            (DeclarationStatus.VALIDATED, Step.VERIFY, False),
            (DeclarationStatus.VALIDATED, Step.VALIDATE, True),
        ],
    )
    def test_steps_follow_declared_verified_validated(self, status, step, allowed):
        existing = _declared(status) if status else None
        assert (transition_problem(existing, step) is None) is allowed

    def test_a_step_fills_its_state_and_records_who_and_when(self):
        actor = uuid4()
        declared = apply_step(
            None,
            _entry(value=Decimal(40)),
            Step.DECLARE,
            programme_id=uuid4(),
            org_unit_path="/a/b/",
            actor=actor,
            now=NOW,
        )
        verified = apply_step(
            declared,
            _entry(value=None),
            Step.VERIFY,
            programme_id=declared.programme_id,
            org_unit_path="/a/b/",
            actor=uuid4(),
            now=NOW,
        )
        assert (verified.claimed, verified.verified, verified.status) == (
            Decimal(40),
            None,
            DeclarationStatus.VERIFIED,
        )
        assert verified.declared_by == actor and verified.verified_by not in (None, actor)
        assert verified.id == declared.id


class TestEntries:
    def test_every_problem_of_an_entry_is_reported(self):
        problems = entry_problems(
            _entry("nope", "2016Q1", Decimal(-1)), Step.DECLARE, reference_rule_set()
        )
        assert sorted(p.field for p in problems) == ["activity", "period", "value"]

    def test_a_missing_value_is_allowed_and_zero_is_a_value(self):
        rules = reference_rule_set()
        assert entry_problems(_entry(value=None), Step.VERIFY, rules) == []
        assert entry_problems(_entry(value=Decimal(0)), Step.VERIFY, rules) == []

    def test_a_month_is_locked_by_its_quarter_or_year(self):
        assert is_locked("201602", ["2016Q1"]) and is_locked("201602", ["2016"])
        assert not is_locked("201604", ["2016Q1"]) and not is_locked("201601", [])

    def test_repeated_keys_point_to_the_first_row(self):
        assert duplicate_keys([_entry(), _entry("act2"), _entry()]) == {2: 0}


CHECKLIST = QualityChecklist(
    uuid4(),
    uuid4(),
    "q",
    "Qualité",
    "quality",
    (
        ChecklistSection(
            "s", "S", (ChecklistItem("q1", "A", Decimal(10)), ChecklistItem("q2", "B", Decimal(5)))
        ),
    ),
)


class TestQualityAndCounterVerification:
    def test_scores_stay_between_zero_and_the_maximum_and_cover_every_item(self):
        problems = score_problems(CHECKLIST, {"q1": Decimal(11), "zz": Decimal(1)})
        assert sorted(p.field for p in problems) == ["scores.q1", "scores.q2", "scores.zz"]
        assert score_problems(CHECKLIST, {"q1": Decimal(10), "q2": Decimal(0)}) == []

    def test_counts_are_nested_sampled_found_confirmed(self):
        assert counter_verification_problems(10, 8, 6) == []
        assert [p.field for p in counter_verification_problems(5, 6, 7)] == ["found", "confirmed"]

    def test_stored_data_become_engine_inputs_with_missing_values_absent(self):
        declaration = Declaration(
            uuid4(),
            uuid4(),
            OU,
            "/a/",
            "201601",
            "quantity",
            "act1",
            DeclarationStatus.VERIFIED,
            claimed=Decimal(40),
            verified=None,
        )
        evaluation = QualityEvaluation(
            uuid4(),
            uuid4(),
            CHECKLIST.id,
            OU,
            "/a/",
            "2016Q1",
            {"q1": Decimal(8)},
            Decimal(8),
            Decimal(15),
            None,
            NOW,
        )
        cv = CounterVerification(
            uuid4(), uuid4(), OU, "/a/", "201601", "quantity", "act1", 10, 7, 5, None, NOW
        )
        inputs = engine_inputs([declaration], [(evaluation, CHECKLIST)], [cv], {OU: "fosa"})
        assert inputs[("fosa", "201601", "act1", "claimed")] == 40
        assert ("fosa", "201601", "act1", "verified") not in inputs
        assert inputs[("fosa", "2016Q1", "q1", "score")] == 8
        assert ("fosa", "2016Q1", "q2", "score") not in inputs
        assert inputs[("fosa", "2016Q1", "q2", "max_score")] == 5
        assert inputs[("fosa", "201601", "act1", "cv_not_found")] == 3


class TestDocuments:
    def test_a_rule_set_survives_its_document_with_the_same_hash(self):
        rules = reference_rule_set()
        again = rule_set_from_document(
            document_of(rules),
            programme=rules.programme,
            version=rules.version,
            valid_from=rules.valid_from,
            valid_to=rules.valid_to,
            currency=rules.currency,
        )
        assert again == rules and again.content_hash() == rules.content_hash()

    def test_formula_errors_name_the_equation(self):
        document = document_of(reference_rule_set())
        document["packages"][0]["activity_formulas"][0]["expression"] = "claimed + nowhere"
        with pytest.raises(RuleSetInvalid) as caught:
            rule_set_from_document(
                document, programme="p", version=1, valid_from="201501", valid_to=None, currency=MRU
            )
        error = caught.value.errors[0]
        assert error.field == "formulas" and "nowhere" in error.message.render()
        assert error.message.params["equation"] == "quantity.difference_percentage"

    def test_bad_tables_numbers_and_periods_are_all_reported(self):
        document = document_of(reference_rule_set())
        document["packages"][0]["activities"][0]["constants"] = {"tariff": "abc"}
        document["packages"][0]["decision_tables"] = [{"name": "t", "source": "in:x,bad\n1,2"}]
        with pytest.raises(RuleSetInvalid) as caught:
            rule_set_from_document(
                document, programme="p", version=1, valid_from="2015Q1", valid_to=None, currency=MRU
            )
        assert {e.field for e in caught.value.errors} == {
            "valid_from",
            "packages.0.activities.0.constants.tariff",
            "packages.0.decision_tables.0.source",
        }


class TestFiles:
    FACILITY = Facility(OU, "abcdefghijk", "CS-1", "Centre 1", "/x/abcdefghijk/")

    def test_the_template_has_a_row_per_activity_and_earlier_values(self):
        declared = Declaration(
            uuid4(),
            uuid4(),
            OU,
            "/x/",
            "201601",
            "quantity",
            "act1",
            DeclarationStatus.DECLARED,
            claimed=Decimal("40.0"),
        )
        rows = template_rows(
            reference_rule_set(), [self.FACILITY], "201601", Step.VERIFY, [declared]
        )
        assert columns(Step.VERIFY)[-2:] == ("claimed", "verified")
        assert rows == [
            ["CS-1", "Centre 1", "201601", "quantity", "act1", "Consultations", "40", ""],
            ["CS-1", "Centre 1", "201601", "quantity", "act2", "CPN", "", ""],
        ]

    def test_rows_are_read_with_their_numbers_blank_skipped_and_na_missing(self):
        header = ["org_unit_code", "period", "package", "activity_code", "claimed"]
        rows = [
            ["CS-1", "201601", "quantity", "act1", "12,5"],
            ["CS-1", "201601", "quantity", "act2", ""],
            ["CS-1", "201601", "quantity", "act2", "NA"],
            ["CS-9", "201601", "quantity", "act2", "x"],
        ]
        parsed = parse_rows(header, rows, Step.DECLARE, {"CS-1": self.FACILITY})
        assert [e.value for e in parsed.entries] == [Decimal("12.5"), None]
        assert parsed.row_numbers == [2, 4]
        assert [e.field for e in parsed.errors] == ["rows.5.org_unit_code", "rows.5.claimed"]
