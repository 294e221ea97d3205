from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from afiya.adapters.ml.anomaly import AnomalyModel, LightGbmAnomalyScorer
from afiya.adapters.ml.cube import ProgrammeCube
from afiya.adapters.ml.features import ANOMALY_FEATURES
from afiya.adapters.ml.synthetic import SyntheticProgramme
from afiya.domain.pbf_intelligence.reasons import FEATURE_WORDING

from .conftest import TRAIN_MONTHS

RULE_CODES = {"residual", "jump", "capacity", "digit_preference", "hmis_gap", "related_indicator"}


def _with_declared(cube: ProgrammeCube, declared: np.ndarray) -> ProgrammeCube:
    fields = {f.name: getattr(cube, f.name) for f in dataclasses.fields(cube) if f.init}
    return ProgrammeCube(**{**fields, "declared": declared})


class TestAnomalyModel:
    def test_metadata_describes_the_training(self, anomaly_model: AnomalyModel) -> None:
        meta = anomaly_model.metadata
        assert meta.kind == "pbf_anomaly_expected_value"
        assert (meta.training_first_period, meta.training_last_period) == ("202301", "202406")
        assert meta.features == ANOMALY_FEATURES
        assert meta.library.startswith("lightgbm ")
        assert meta.created_at.year == 2025
        assert 0 < meta.metrics["validation_relative_mae"] < 0.3
        assert np.all(np.isfinite(anomaly_model.kappa))
        assert np.all(anomaly_model.kappa >= 0)

    def test_expected_values_track_the_truth_of_honest_cells(
        self, programme: SyntheticProgramme, anomaly_model: AnomalyModel
    ) -> None:
        t = TRAIN_MONTHS
        cube = programme.cube.up_to(programme.cube.periods[t])
        batch = anomaly_model.score_period(cube, cube.periods[t])
        truth = programme.truth.true_value[batch.rows.f_idx, batch.rows.i_idx, t]
        error = np.abs(batch.expected - truth).sum() / truth.sum()
        assert error < 0.2

    def test_every_flagged_value_carries_worded_reasons(
        self, programme: SyntheticProgramme, anomaly_model: AnomalyModel
    ) -> None:
        period = programme.cube.periods[TRAIN_MONTHS + 1]
        cube = programme.cube.up_to(period)
        scores = anomaly_model.explain(cube, anomaly_model.score_period(cube, period))
        assert len(scores) > 20
        for score in scores:
            codes = [r.code for r in score.reasons]
            assert score.flagged
            assert score.period == period
            assert "residual" in codes
            assert any(c.startswith("feature:") for c in codes), codes
            assert set(codes) - {c for c in codes if c.startswith("feature:")} <= RULE_CODES
            for reason in score.reasons:
                # Formats without a missing parameter (Message.render would hide one).
                reason.message.msgid.format(**reason.message.params)
            rule_weights = [r.weight for r in score.reasons if not r.code.startswith("feature:")]
            assert rule_weights == sorted(rule_weights, reverse=True)
        with_rules = [
            s for s in scores if {r.code for r in s.reasons} & (RULE_CODES - {"residual"})
        ]
        assert with_rules, "some flagged values are backed by a rule signal"

    def test_declared_far_above_the_hmis_is_flagged_with_that_reason(
        self, programme: SyntheticProgramme, anomaly_model: AnomalyModel
    ) -> None:
        t = TRAIN_MONTHS + 2
        cube = programme.cube.up_to(programme.cube.periods[t])
        honest = np.flatnonzero(programme.truth.cheater_kind == 0)
        i = cube.indicator_codes.index("CPN1")
        candidates = [
            f for f in honest
            if not np.isnan(cube.hmis[f, i, t]) and 20 <= cube.hmis[f, i, t] <= 80
        ]  # fmt: skip
        f = candidates[0]
        declared = cube.declared.copy()
        declared[f, i, t] = cube.hmis[f, i, t] * 1.8
        tampered = _with_declared(cube, declared)
        batch = anomaly_model.score_period(tampered, tampered.periods[t])
        row = np.flatnonzero((batch.rows.f_idx == f) & (batch.rows.i_idx == i))[0]
        assert batch.signals.hmis[row]
        assert batch.flagged[row]
        (score,) = [
            s for s in anomaly_model.explain(tampered, batch)
            if s.facility_id == cube.facility_ids[f] and s.indicator_code == "CPN1"
        ]  # fmt: skip
        assert score.declared == int(declared[f, i, t])
        assert "hmis_gap" in [r.code for r in score.reasons]
        untouched = anomaly_model.score_period(cube, cube.periods[t])
        assert not untouched.signals.hmis[row]

    def test_standardised_residuals_of_honest_cells_are_calibrated(
        self, programme: SyntheticProgramme, anomaly_model: AnomalyModel
    ) -> None:
        t = TRAIN_MONTHS + 3
        cube = programme.cube.up_to(programme.cube.periods[t])
        batch = anomaly_model.score_period(cube, cube.periods[t])
        honest = programme.truth.cheater_kind[batch.rows.f_idx] == 0
        z = batch.z[honest]
        assert abs(float(np.median(z))) < 0.3
        assert np.mean(z >= 3.0) < 0.02


class TestScorerPort:
    def test_scores_records_highest_first(
        self, programme: SyntheticProgramme, anomaly_model: AnomalyModel
    ) -> None:
        period = programme.cube.periods[TRAIN_MONTHS]
        records = programme.cube.up_to(period).to_records(
            programme.cube.periods[TRAIN_MONTHS - 12 : TRAIN_MONTHS + 1]
        )
        scores = LightGbmAnomalyScorer(anomaly_model).score(records, period=period)
        assert scores
        assert all(s.period == period and s.flagged and s.reasons for s in scores)
        assert [s.score for s in scores] == sorted((s.score for s in scores), reverse=True)
        assert all(math.isfinite(s.expected) for s in scores)

    def test_an_unknown_indicator_is_still_scored(
        self, programme: SyntheticProgramme, anomaly_model: AnomalyModel
    ) -> None:
        cube = programme.cube.up_to(programme.cube.periods[TRAIN_MONTHS])
        renamed = dataclasses.replace(
            cube, indicator_codes=(*cube.indicator_codes[:-1], "NEW_GRID_LINE")
        )
        batch = anomaly_model.score_period(renamed, renamed.periods[-1])
        new_rows = batch.rows.i_idx == len(cube.indicator_codes) - 1
        assert new_rows.any()
        assert np.all(np.isnan(batch.rows.columns["indicator"][new_rows]))
        assert np.all(np.isfinite(batch.score[new_rows]))


@pytest.mark.parametrize("field", ["z_cap", "flag_threshold"])
def test_policy_travels_with_the_model(anomaly_model: AnomalyModel, field: str) -> None:
    restored = AnomalyModel.from_bytes(anomaly_model.to_bytes())
    assert getattr(restored.policy, field) == getattr(anomaly_model.policy, field)


def test_every_model_feature_has_an_officer_wording() -> None:
    assert set(ANOMALY_FEATURES) <= set(FEATURE_WORDING)
