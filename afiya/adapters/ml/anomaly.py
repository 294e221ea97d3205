"""Anomaly scores: LightGBM expected value, standardised residual and rule signals.

A Poisson LightGBM regressor learns the *validated* value of a cell from its history,
season, peers, population, related indicators and HMIS figure (never from the declared
value itself), so its prediction is what the facility most likely really did. The
residual of the declared value is standardised with ``sigma = sqrt(mu + (kappa mu)^2 + 1)``:
Poisson noise, a relative model error ``kappa`` per indicator (with or without an HMIS
figure) calibrated on the upper tail of held-out facilities' residuals, and a one-unit
floor. The
score adds the rule signals with the weights of the domain's ``AnomalyPolicy``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import lightgbm as lgb
import numpy as np

from afiya.adapters.ml import artefacts
from afiya.adapters.ml.cube import FloatArray, ProgrammeCube
from afiya.adapters.ml.features import ANOMALY_FEATURES, CubeContext, FeatureRows, feature_rows
from afiya.adapters.ml.lgb_common import LIBRARY, facility_split, fit, lgb_params, predict
from afiya.adapters.ml.reasons import flagged_scores
from afiya.adapters.ml.signals import PlausibilityTables, RuleSignals, learn_tables, rule_signals
from afiya.domain.pbf_intelligence.model import AnomalyScore, DeclarationRecord, ModelMetadata
from afiya.domain.pbf_intelligence.policies import (
    AnomalyPolicy,
    TrainingPolicy,
    check_training_history,
)
from afiya.domain.shared.clock import Clock, SystemClock
from afiya.domain.shared.ids import uuid7

KIND = "pbf_anomaly_expected_value"
_MIN_CALIBRATION_ROWS = 100
TAIL_QUANTILE = 0.99
TAIL_Z = 2.326  # one-sided 1 % point of the standard normal


@dataclass(frozen=True, slots=True, eq=False)
class AnomalyBatch:
    """Scores of every declared cell of one period, as columns."""

    period: str
    rows: FeatureRows
    expected: FloatArray
    sigma: FloatArray
    z: FloatArray
    score: FloatArray
    flagged: np.ndarray
    signals: RuleSignals


@dataclass(frozen=True, slots=True, eq=False)
class AnomalyModel:
    """A trained expected-value model with its calibration and plausibility tables."""

    booster: lgb.Booster
    metadata: ModelMetadata
    vocabulary: tuple[str, ...]
    parents: Mapping[str, str]
    kappa: FloatArray
    tables: PlausibilityTables
    policy: AnomalyPolicy

    def score_period(
        self, cube: ProgrammeCube, period: str, *, context: CubeContext | None = None
    ) -> AnomalyBatch:
        """Score every declared value of ``period`` (vectorised; no reasons yet)."""
        context = context or CubeContext.build(cube, self.parents)
        rows = feature_rows(cube, context, [cube.period_position(period)], self.vocabulary)
        expected = predict(self.booster, rows.matrix(ANOMALY_FEATURES))
        known = ~np.isnan(rows.columns["indicator"])
        vocab = np.where(known, rows.columns["indicator"], 0).astype(np.int64)
        groups = _calibration_groups(vocab, rows.columns["hmis"])
        kappa = np.where(known, self.kappa[groups], float(np.median(self.kappa)))
        sigma = np.sqrt(expected + (kappa * expected) ** 2 + 1.0)
        z = (rows.columns["declared"] - expected) / sigma
        signals = rule_signals(rows, self.tables, self.policy)
        score = np.clip(z, 0.0, self.policy.z_cap) + signals.weighted(self.policy)
        flagged = score >= self.policy.flag_threshold
        return AnomalyBatch(period, rows, expected, sigma, z, score, flagged, signals)

    def explain(self, cube: ProgrammeCube, batch: AnomalyBatch) -> list[AnomalyScore]:
        """Domain scores of the flagged values, with rule and feature-contribution reasons."""
        mask = batch.flagged
        contributions = (
            predict(self.booster, batch.rows.take(mask).matrix(ANOMALY_FEATURES), pred_contrib=True)
            if mask.any()
            else np.zeros((0, len(ANOMALY_FEATURES) + 1))
        )
        return flagged_scores(cube, batch, contributions, self.parents, self.policy)

    def to_bytes(self) -> bytes:
        """Serialise with :mod:`afiya.adapters.ml.artefacts`."""
        state = {
            "vocabulary": list(self.vocabulary),
            "parents": dict(self.parents),
            "kappa": [float(k) for k in self.kappa],
            "tables": self.tables.to_state(),
            "policy": {f: getattr(self.policy, f) for f in AnomalyPolicy.__dataclass_fields__},
        }
        return artefacts.pack(self.metadata, state, self.booster)

    @classmethod
    def from_bytes(cls, blob: bytes) -> AnomalyModel:
        """Inverse of :meth:`to_bytes`; raises ``InvalidModelArtefact``."""
        metadata, state, booster = artefacts.unpack(blob, kind=KIND)
        return cls(
            booster=booster,
            metadata=metadata,
            vocabulary=tuple(state["vocabulary"]),
            parents=dict(state["parents"]),
            kappa=np.array(state["kappa"], np.float64),
            tables=PlausibilityTables.from_state(state["tables"]),
            policy=AnomalyPolicy(**state["policy"]),
        )


def train_anomaly_model(
    cube: ProgrammeCube,
    *,
    parents: Mapping[str, str],
    last_period: str,
    first_period: str | None = None,
    policy: AnomalyPolicy | None = None,
    training_policy: TrainingPolicy | None = None,
    clock: Clock | None = None,
    seed: int = 7,
    num_threads: int = 2,
    num_boost_round: int = 250,
    context: CubeContext | None = None,
) -> AnomalyModel:
    """Train on the validated values of ``first_period``..``last_period``.

    Raises:
        InsufficientHistory: fewer verified months or values than ``training_policy`` asks.
    """
    policy = policy or AnomalyPolicy()
    guard = replace(training_policy or TrainingPolicy(), min_positive=0)
    lo = cube.period_position(first_period) if first_period else 0
    hi = cube.period_position(last_period)
    context = context or CubeContext.build(cube, parents)
    vocabulary = cube.indicator_codes
    rows = feature_rows(cube, context, range(lo, hi + 1), vocabulary)
    rows = rows.take(~np.isnan(rows.columns["validated"]))
    check_training_history(
        periods=len(np.unique(rows.t_idx)), rows=len(rows), positives=len(rows), policy=guard
    )
    x = rows.matrix(ANOMALY_FEATURES)
    y = rows.columns["validated"]
    is_valid = facility_split(rows.f_idx, len(cube.facility_ids), seed)
    params = lgb_params("poisson", seed=seed, num_threads=num_threads, rows=len(rows))
    booster, is_valid = fit(
        params, x, y, features=ANOMALY_FEATURES, is_valid=is_valid, num_boost_round=num_boost_round
    )
    calibration = is_valid if is_valid.any() else np.ones_like(is_valid)
    mu = predict(booster, x[calibration])
    groups = _calibration_groups(rows.i_idx[calibration], rows.columns["hmis"][calibration])
    kappa = _calibrate_kappa(y[calibration], mu, groups, 2 * len(vocabulary))
    tables = learn_tables(rows.take(~is_valid), len(vocabulary), policy)
    abs_error = np.abs(y[calibration] - mu)
    metrics = {
        "validation_rows": float(calibration.sum()),
        "training_rows": float((~is_valid).sum()),
        "validation_mae": float(abs_error.mean()),
        "validation_relative_mae": float(abs_error.sum() / max(y[calibration].sum(), 1.0)),
        "best_iteration": float(booster.best_iteration or booster.current_iteration()),
    }
    metadata = ModelMetadata(
        kind=KIND,
        version=str(uuid7()),
        training_first_period=cube.periods[lo],
        training_last_period=cube.periods[hi],
        features=ANOMALY_FEATURES,
        metrics=metrics,
        created_at=(clock or SystemClock()).now(),
        library=LIBRARY,
        parameters={k: v for k, v in params.items() if k != "num_threads"},
    )
    return AnomalyModel(booster, metadata, vocabulary, dict(parents), kappa, tables, policy)


def _calibration_groups(vocab: np.ndarray, hmis: FloatArray) -> np.ndarray:
    """Group of a row for calibration: indicator x whether the HMIS figure is there."""
    return vocab.astype(np.int64) * 2 + (~np.isnan(hmis)).astype(np.int64)


def _calibrate_kappa(
    y: FloatArray, mu: FloatArray, groups: np.ndarray, n_groups: int
) -> FloatArray:
    """Per group, the relative error that puts the upper tail of residuals where it belongs.

    The residuals are those of validated values on held-out facilities, i.e. honest
    model errors; ``kappa`` is the smallest value for which at most
    ``1 - TAIL_QUANTILE`` of them exceed ``TAIL_Z`` (a normal tail), so the flag
    threshold means the same false-alarm rate on every indicator. The HMIS figure makes
    the model much sharper, hence separate groups with and without it.
    """

    def tail(kappa: float, yy: FloatArray, mm: FloatArray) -> float:
        z = (yy - mm) / np.sqrt(mm + (kappa * mm) ** 2 + 1.0)
        return float(np.quantile(z, TAIL_QUANTILE))

    def solve(yy: FloatArray, mm: FloatArray) -> float:
        low, high = 0.0, 4.0
        if tail(low, yy, mm) <= TAIL_Z:
            return 0.0
        for _ in range(40):
            middle = (low + high) / 2
            if tail(middle, yy, mm) > TAIL_Z:
                low = middle
            else:
                high = middle
        return high

    pooled = solve(y, mu) if len(y) else 0.2
    kappa = np.full(n_groups, pooled)
    for g in range(n_groups):
        of_g = groups == g
        if of_g.sum() >= _MIN_CALIBRATION_ROWS:
            kappa[g] = solve(y[of_g], mu[of_g])
    return kappa


class LightGbmAnomalyScorer:
    """The :class:`~afiya.domain.pbf_intelligence.ports.AnomalyScorer` port on LightGBM."""

    def __init__(self, model: AnomalyModel) -> None:
        self.model = model

    def score(self, records: Sequence[DeclarationRecord], *, period: str) -> list[AnomalyScore]:
        """Flagged values of ``period``, highest score first, each with its reasons."""
        cube = ProgrammeCube.from_records(records).up_to(period)
        scores = self.model.explain(cube, self.model.score_period(cube, period))
        return sorted(scores, key=lambda s: -s.score)
