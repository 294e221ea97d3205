from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from afiya.domain.pbf_intelligence.model import (
    FacilityRisk,
    IndicatorRisk,
    PlanMethod,
    RiskCategory,
    SelectionBasis,
)
from afiya.domain.pbf_intelligence.sampling import (
    draw_sampling_plan,
    estimate_total,
    random_visit_count,
    rank_risks,
)
from afiya.domain.shared.errors import ValidationFailed

PERIOD = "202409"


def risk(
    n: int,
    amount: int,
    *,
    category: RiskCategory | None = None,
    indicators: dict[str, int] | None = None,
) -> FacilityRisk:
    by_indicator = indicators or {"CPN1": amount}
    return FacilityRisk(
        facility_id=f"FOSA-{n:04d}",
        district="Kiffa",
        expected_recovery=Decimal(amount),
        indicators=tuple(IndicatorRisk(code, Decimal(v)) for code, v in by_indicator.items()),
        category=category,
        mean_gap=0.12 if category is RiskCategory.HIGH else 0.01,
        rounds=3,
    )


frames = st.lists(st.integers(0, 5_000_000), min_size=1, max_size=60).map(
    lambda amounts: [risk(n, a) for n, a in enumerate(amounts)]
)
shares = st.one_of(
    st.fractions(min_value=Fraction(1, 100), max_value=Fraction(1), max_denominator=100),
    st.sampled_from([Fraction(1, 5), Fraction(1, 10), Fraction(1, 2), Fraction(1)]),
)


class TestPlanProperties:
    @settings(max_examples=300, deadline=None)
    @given(frame=frames, budget=st.integers(1, 80), share=shares, seed=st.integers(0, 2**32))
    def test_design_invariants(
        self, frame: list[FacilityRisk], budget: int, share: Fraction, seed: int
    ) -> None:
        plan = draw_sampling_plan(
            frame, period=PERIOD, budget=budget, rng=random.Random(seed), random_share=share
        )
        n = len(frame)
        documented = max(1, math.floor(budget * share + Fraction(1, 2)))
        drawn = [s for s in plan.selections if s.basis is SelectionBasis.RANDOM_DRAW]
        ranked = [s for s in plan.selections if s.basis is SelectionBasis.RANKED]

        # Budget respected: exactly the budget, unless the frame is smaller.
        assert plan.visits == min(budget, n)
        assert len({s.facility_id for s in plan.selections}) == plan.visits
        # Random share honoured exactly, as documented (whenever the frame allows it).
        assert plan.n_random == min(documented, n)
        assert len(drawn) == plan.n_random
        if budget <= n:
            assert plan.n_random == documented
            assert plan.n_ranked == budget - documented
        # Every facility has one probability, in (0, 1], and they sum to the sample size.
        assert sorted(i.facility_id for i in plan.inclusions) == sorted(
            r.facility_id for r in frame
        )
        assert all(0 < i.inclusion_probability <= 1 for i in plan.inclusions)
        assert sum(i.inclusion_probability for i in plan.inclusions) == plan.visits
        # The certain part is the top of the ranking; the random part has n_random / N_rest.
        top = {r.facility_id for r in rank_risks(frame, PlanMethod.MODEL)[: plan.n_ranked]}
        assert {s.facility_id for s in ranked} == top
        assert all(s.inclusion_probability == 1 for s in ranked)
        pool = Fraction(plan.n_random, plan.random_pool_size)
        assert all(s.inclusion_probability == pool for s in drawn)
        assert all(s.facility_id not in top for s in drawn)

    @settings(max_examples=50, deadline=None)
    @given(frame=frames, budget=st.integers(1, 40), seed=st.integers(0, 2**32))
    def test_same_seed_gives_the_same_plan(
        self, frame: list[FacilityRisk], budget: int, seed: int
    ) -> None:
        first = draw_sampling_plan(frame, period=PERIOD, budget=budget, rng=random.Random(seed))
        again = draw_sampling_plan(
            list(reversed(frame)), period=PERIOD, budget=budget, rng=random.Random(seed)
        )
        assert first == again


class TestRandomShareRounding:
    @pytest.mark.parametrize(
        ("budget", "share", "expected"),
        [
            (10, Fraction(1, 5), 2),
            (12, Fraction(1, 5), 2),  # 2.4 rounds down
            (13, Fraction(1, 5), 3),  # 2.6 rounds up
            (25, Fraction(1, 10), 3),  # 2.5 rounds half up
            (15, Fraction(1, 10), 2),  # 1.5 rounds half up
            (2, Fraction(1, 5), 1),  # 0.4 would be 0: at least one random visit
            (7, Fraction(1), 7),  # share 1: a plain simple random sample
        ],
    )
    def test_rule_is_round_half_up_with_at_least_one(
        self, budget: int, share: Fraction, expected: int
    ) -> None:
        assert random_visit_count(budget, share) == expected

    def test_float_share_means_its_decimal_form(self) -> None:
        frame = [risk(n, 1000 - n) for n in range(40)]
        plan = draw_sampling_plan(
            frame, period=PERIOD, budget=25, rng=random.Random(1), random_share=0.1
        )
        assert plan.random_share == Fraction(1, 10)
        assert plan.n_random == 3

    def test_decimal_and_string_shares_are_exact(self) -> None:
        frame = [risk(n, n) for n in range(30)]
        for share in (Decimal("0.2"), "1/5", "0.2"):
            plan = draw_sampling_plan(
                frame, period=PERIOD, budget=10, rng=random.Random(3), random_share=share
            )
            assert plan.random_share == Fraction(1, 5)


class TestRanking:
    def test_model_plan_visits_the_largest_expected_recoveries_with_certainty(self) -> None:
        frame = [risk(n, amount) for n, amount in enumerate([5, 900, 40, 700, 10, 800, 0, 3])]
        plan = draw_sampling_plan(frame, period=PERIOD, budget=4, rng=random.Random(0))
        ranked = [s for s in plan.selections if s.basis is SelectionBasis.RANKED]
        assert [s.expected_recovery for s in ranked] == [Decimal(900), Decimal(800), Decimal(700)]
        assert [s.rank for s in ranked] == [1, 2, 3]
        assert ranked[0].reason.params["rank"] == 1
        assert ranked[0].reason.params["total"] == 8
        assert ranked[0].reason.params["amount"] == Decimal(900)

    def test_rules_plan_ranks_category_before_amount(self) -> None:
        frame = [
            risk(1, 10_000, category=RiskCategory.LOW),
            risk(2, 50, category=RiskCategory.HIGH),
            risk(3, 9_000, category=RiskCategory.MEDIUM),
            risk(4, 100, category=RiskCategory.UNKNOWN),
            risk(5, 80, category=RiskCategory.HIGH),
        ]
        ordered = [r.facility_id for r in rank_risks(frame, PlanMethod.RULES)]
        assert ordered == ["FOSA-0005", "FOSA-0002", "FOSA-0004", "FOSA-0003", "FOSA-0001"]
        plan = draw_sampling_plan(
            frame, period=PERIOD, budget=3, rng=random.Random(0), method=PlanMethod.RULES
        )
        first = plan.selections[0]
        assert first.facility_id == "FOSA-0005"
        assert "high risk" in first.reason.msgid
        assert first.reason.params["gap"] == 12.0

    def test_indicators_to_check_are_those_with_the_highest_expected_recovery(self) -> None:
        frame = [risk(1, 100, indicators={"CPN1": 10, "ACC": 50, "CN_NEW": 5, "PF_NEW": 35})]
        plan = draw_sampling_plan(
            frame, period=PERIOD, budget=1, rng=random.Random(0), indicators_per_visit=2
        )
        assert plan.selections[0].indicators == ("ACC", "PF_NEW")

    def test_random_draw_reason_states_the_probability(self) -> None:
        frame = [risk(n, 100 - n) for n in range(21)]
        plan = draw_sampling_plan(frame, period=PERIOD, budget=5, rng=random.Random(9))
        drawn = [s for s in plan.selections if s.basis is SelectionBasis.RANDOM_DRAW]
        assert len(drawn) == 1
        assert drawn[0].inclusion_probability == Fraction(1, 17)
        assert drawn[0].reason.params == {"drawn": 1, "pool": 17, "probability": 5.9}

    def test_frame_smaller_than_budget_visits_everyone_with_certainty(self) -> None:
        frame = [risk(n, n) for n in range(4)]
        plan = draw_sampling_plan(frame, period=PERIOD, budget=10, rng=random.Random(0))
        assert plan.visits == 4
        assert all(i.inclusion_probability == 1 and i.selected for i in plan.inclusions)


class _FixedDraw(random.Random):
    """A random source that returns one chosen combination, to enumerate the design."""

    def __init__(self, combination: Sequence[int]) -> None:
        super().__init__(0)
        self.combination = combination

    def sample(self, population: Sequence[Any], k: int, *, counts: Any = None) -> list[Any]:
        assert k == len(self.combination)
        return [population[i] for i in self.combination]


class TestHorvitzThompson:
    def test_estimate_is_unbiased_over_every_possible_sample(self) -> None:
        amounts = [900, 0, 40, 0, 300, 7]
        frame = [risk(n, a) for n, a in enumerate(amounts)]
        found = {r.facility_id: Decimal(a) for r, a in zip(frame, amounts, strict=True)}
        estimates = []
        for combination in itertools.combinations(range(5), 2):
            plan = draw_sampling_plan(
                frame,
                period=PERIOD,
                budget=3,
                rng=_FixedDraw(combination),
                random_share=Fraction(2, 3),
            )
            assert (plan.n_ranked, plan.n_random, plan.random_pool_size) == (1, 2, 5)
            visited = {s.facility_id: found[s.facility_id] for s in plan.selections}
            estimates.append(estimate_total(plan, visited))
        assert sum(estimates) / len(estimates) == sum(found.values())

    def test_a_visit_without_finding_is_refused(self) -> None:
        plan = draw_sampling_plan(
            [risk(n, n) for n in range(5)], period=PERIOD, budget=2, rng=random.Random(0)
        )
        with pytest.raises(ValidationFailed):
            estimate_total(plan, {})


class TestValidation:
    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"budget": 0}, "budget"),
            ({"random_share": Fraction(0)}, "random_share"),
            ({"random_share": Fraction(6, 5)}, "random_share"),
            ({"indicators_per_visit": 0}, "indicators_per_visit"),
        ],
    )
    def test_bad_parameters_name_the_field(self, kwargs: dict[str, Any], field: str) -> None:
        params: dict[str, Any] = {"period": PERIOD, "budget": 3, "rng": random.Random(0)}
        params.update(kwargs)
        with pytest.raises(ValidationFailed) as caught:
            draw_sampling_plan([risk(1, 1), risk(2, 2)], **params)
        assert [e.field for e in caught.value.errors] == [field]

    def test_empty_frame_and_duplicates_are_refused(self) -> None:
        with pytest.raises(ValidationFailed):
            draw_sampling_plan([], period=PERIOD, budget=1, rng=random.Random(0))
        with pytest.raises(ValidationFailed):
            draw_sampling_plan(
                [risk(1, 1), risk(1, 2)], period=PERIOD, budget=1, rng=random.Random(0)
            )
