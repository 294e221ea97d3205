"""Audit-target model: expected over-declared money per facility x period, from past verifications.

A LightGBM cross-entropy model learns, per declared cell, the share of the declared
quantity that verification will not validate, ``clip((declared - validated)/declared, 0, 1)``,
weighted by the money at stake. Its features are those of the anomaly model plus the
declared value set against the facility's history, its peers, the HMIS and related
indicators, digit preference and the facility's past gaps. Expected recovery of a cell is
``share x declared x tariff``; a facility's is the sum over its cells, and the cells with
the largest amounts are the indicators to check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import lightgbm as lgb
import numpy as np

from afiya.adapters.ml import artefacts
from afiya.adapters.ml.cube import FloatArray, ProgrammeCube
from afiya.adapters.ml.features import AUDIT_FEATURES, CubeContext, FeatureRows, feature_rows
from afiya.adapters.ml.lgb_common import LIBRARY, facility_split, fit, lgb_params, predict
from afiya.domain.pbf_intelligence.errors import InsufficientHistory
from afiya.domain.pbf_intelligence.model import (
    DeclarationRecord,
    FacilityRisk,
    IndicatorRisk,
    ModelMetadata,
)
from afiya.domain.pbf_intelligence.periods import period_index
from afiya.domain.pbf_intelligence.policies import TrainingPolicy, check_training_history
from afiya.domain.shared.clock import Clock, SystemClock
from afiya.domain.shared.ids import uuid7

KIND = "pbf_audit_target"


@dataclass(frozen=True, slots=True, eq=False)
class AuditPrediction:
    """Expected over-declaration of every declared cell of one period."""

    period: str
    rows: FeatureRows
    gap_share: FloatArray
    money: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class LightGbmAuditModel:
    """The :class:`~afiya.domain.pbf_intelligence.ports.AuditTargetModel` port on LightGBM."""

    booster: lgb.Booster
    metadata: ModelMetadata
    vocabulary: tuple[str, ...]
    parents: Mapping[str, str]

    def predict_period(
        self, cube: ProgrammeCube, period: str, *, context: CubeContext | None = None
    ) -> AuditPrediction:
        """Expected over-declared money of each declared cell of ``period``."""
        context = context or CubeContext.build(cube, self.parents)
        rows = feature_rows(cube, context, [cube.period_position(period)], self.vocabulary)
        share = np.clip(predict(self.booster, rows.matrix(AUDIT_FEATURES)), 0.0, 1.0)
        money = share * rows.columns["declared"] * rows.columns["tariff"]
        return AuditPrediction(period, rows, share, money)

    def facility_risks(
        self, cube: ProgrammeCube, prediction: AuditPrediction
    ) -> list[FacilityRisk]:
        """Aggregate cells into one :class:`FacilityRisk` per facility that declared."""
        rows = prediction.rows
        order = np.lexsort((rows.i_idx, rows.f_idx))
        risks: list[FacilityRisk] = []
        boundaries = np.flatnonzero(np.diff(rows.f_idx[order])) + 1
        for group in np.split(order, boundaries):
            if group.size == 0:
                continue
            f = int(rows.f_idx[group[0]])
            indicators = tuple(
                IndicatorRisk(cube.indicator_codes[int(rows.i_idx[r])], _money(prediction.money[r]))
                for r in group
            )
            risks.append(
                FacilityRisk(
                    facility_id=cube.facility_ids[f],
                    district=cube.districts[f],
                    expected_recovery=sum((x.expected_recovery for x in indicators), Decimal(0)),
                    indicators=indicators,
                )
            )
        return risks

    def expected_recovery(
        self, records: Sequence[DeclarationRecord], *, period: str
    ) -> list[FacilityRisk]:
        """Expected over-declared money per facility that declared in ``period``."""
        cube = ProgrammeCube.from_records(records).up_to(period)
        return self.facility_risks(cube, self.predict_period(cube, period))

    def to_bytes(self) -> bytes:
        """Serialise with :mod:`afiya.adapters.ml.artefacts`."""
        state = {"vocabulary": list(self.vocabulary), "parents": dict(self.parents)}
        return artefacts.pack(self.metadata, state, self.booster)

    @classmethod
    def from_bytes(cls, blob: bytes) -> LightGbmAuditModel:
        """Inverse of :meth:`to_bytes`; raises ``InvalidModelArtefact``."""
        metadata, state, booster = artefacts.unpack(blob, kind=KIND)
        return cls(booster, metadata, tuple(state["vocabulary"]), dict(state["parents"]))


def _money(value: float) -> Decimal:
    return Decimal(round(float(value)))


def train_audit_model(
    cube: ProgrammeCube,
    *,
    parents: Mapping[str, str],
    last_period: str,
    first_period: str | None = None,
    training_policy: TrainingPolicy | None = None,
    clock: Clock | None = None,
    seed: int = 11,
    num_threads: int = 2,
    num_boost_round: int = 250,
    context: CubeContext | None = None,
) -> LightGbmAuditModel:
    """Train on the verification outcomes of ``first_period``..``last_period``.

    Raises:
        InsufficientHistory: too few verified months, values or over-declarations.
    """
    policy = training_policy or TrainingPolicy()
    lo = cube.period_position(first_period) if first_period else 0
    hi = cube.period_position(last_period)
    context = context or CubeContext.build(cube, parents)
    rows = feature_rows(cube, context, range(lo, hi + 1), cube.indicator_codes)
    declared = rows.columns["declared"]
    rows = rows.take(~np.isnan(rows.columns["validated"]) & (declared > 0))
    declared = rows.columns["declared"]
    share = np.clip((declared - rows.columns["validated"]) / declared, 0.0, 1.0)
    check_training_history(
        periods=len(np.unique(rows.t_idx)),
        rows=len(rows),
        positives=int((share > policy.positive_gap).sum()),
        policy=policy,
    )
    at_stake = declared * rows.columns["tariff"]
    weight = at_stake / at_stake.mean()
    x = rows.matrix(AUDIT_FEATURES)
    is_valid = facility_split(rows.f_idx, len(cube.facility_ids), seed)
    params = lgb_params("cross_entropy", seed=seed, num_threads=num_threads, rows=len(rows))
    booster, is_valid = fit(
        params,
        x,
        share,
        features=AUDIT_FEATURES,
        is_valid=is_valid,
        num_boost_round=num_boost_round,
        weight=weight,
    )
    metrics = {
        "training_rows": float((~is_valid).sum()),
        "validation_rows": float(is_valid.sum()),
        "positive_share": float((share > policy.positive_gap).mean()),
        "best_iteration": float(booster.best_iteration or booster.current_iteration()),
    }
    if is_valid.any():
        predicted = predict(booster, x[is_valid]) * at_stake[is_valid]
        actual = share[is_valid] * at_stake[is_valid]
        metrics["validation_top_decile_capture"] = _top_decile_capture(
            rows.f_idx[is_valid] * len(cube.periods) + rows.t_idx[is_valid], predicted, actual
        )
    metadata = ModelMetadata(
        kind=KIND,
        version=str(uuid7()),
        training_first_period=cube.periods[lo],
        training_last_period=cube.periods[hi],
        features=AUDIT_FEATURES,
        metrics=metrics,
        created_at=(clock or SystemClock()).now(),
        library=LIBRARY,
        parameters={k: v for k, v in params.items() if k != "num_threads"},
    )
    return LightGbmAuditModel(booster, metadata, cube.indicator_codes, dict(parents))


def _top_decile_capture(keys: np.ndarray, predicted: FloatArray, actual: FloatArray) -> float:
    """Share of the over-declared money found in the top 10 % of facility-months by model."""
    unique, inverse = np.unique(keys, return_inverse=True)
    pred = np.bincount(inverse, predicted, len(unique))
    act = np.bincount(inverse, actual, len(unique))
    top = np.argsort(-pred, kind="stable")[: max(1, len(unique) // 10)]
    return float(act[top].sum() / act.sum()) if act.sum() > 0 else 0.0


class LightGbmAuditTrainer:
    """The :class:`~afiya.domain.pbf_intelligence.ports.AuditTargetTrainer` port on LightGBM."""

    def __init__(
        self,
        *,
        parents: Mapping[str, str],
        training_policy: TrainingPolicy | None = None,
        clock: Clock | None = None,
        seed: int = 11,
        num_threads: int = 2,
    ) -> None:
        self.parents = dict(parents)
        self.training_policy = training_policy or TrainingPolicy()
        self.clock = clock
        self.seed = seed
        self.num_threads = num_threads

    def train(self, records: Sequence[DeclarationRecord], *, until: str) -> LightGbmAuditModel:
        """Train on the outcomes of the periods before ``until``; see :func:`train_audit_model`."""
        target = period_index(until)
        history = [r for r in records if period_index(r.period) < target]
        if not history:
            check_training_history(periods=0, rows=0, positives=0, policy=self.training_policy)
            raise InsufficientHistory()  # only reached with a policy that asks for nothing
        cube = ProgrammeCube.from_records(history)
        return train_audit_model(
            cube,
            parents=self.parents,
            last_period=cube.periods[-1],
            training_policy=self.training_policy,
            clock=self.clock,
            seed=self.seed,
            num_threads=self.num_threads,
        )
