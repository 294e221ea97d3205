"""Reasons for flagged values: the rules that fired and the model's main contributions.

The wording is the domain's (:mod:`afiya.domain.pbf_intelligence.reasons`); this module
only picks the figures. Feature contributions come from LightGBM ``pred_contrib=True``
(TreeSHAP on the log scale of the Poisson model, so ``exp(contribution) - 1`` is the
relative effect of a feature on the expected value).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from afiya.adapters.ml.cube import ProgrammeCube
from afiya.adapters.ml.features import ANOMALY_FEATURES
from afiya.domain.pbf_intelligence import reasons as wording
from afiya.domain.pbf_intelligence.model import AnomalyScore, Reason
from afiya.domain.pbf_intelligence.policies import AnomalyPolicy

if TYPE_CHECKING:
    from afiya.adapters.ml.anomaly import AnomalyBatch


def flagged_scores(
    cube: ProgrammeCube,
    batch: AnomalyBatch,
    contributions: np.ndarray,
    parents: Mapping[str, str],
    policy: AnomalyPolicy,
) -> list[AnomalyScore]:
    """One :class:`AnomalyScore` with reasons per flagged row of ``batch``.

    ``contributions`` holds the ``pred_contrib`` rows of the flagged rows, in order.
    """
    rows_idx = np.flatnonzero(batch.flagged)
    cols = batch.rows.columns
    sig = batch.signals
    scores: list[AnomalyScore] = []
    for n, r in enumerate(rows_idx):
        f, i = int(batch.rows.f_idx[r]), int(batch.rows.i_idx[r])
        declared = int(cols["declared"][r])
        expected = float(batch.expected[r])
        z = float(batch.z[r])
        rules: list[Reason] = []
        if sig.hmis[r]:
            rules.append(wording.hmis_reason(declared, float(cols["hmis"][r]), policy.hmis_weight))
        if sig.capacity[r]:
            rules.append(
                wording.capacity_reason(
                    float(cols["declared_per_1000"][r]),
                    float(sig.capacity_limit[r]),
                    policy.capacity_weight,
                )
            )
        if sig.jump[r]:
            rules.append(wording.jump_reason(declared, float(sig.baseline[r]), policy.jump_weight))
        if sig.related[r]:
            parent_value = float(cols["parent_declared"][r])
            rules.append(
                wording.related_reason(
                    parents.get(cube.indicator_codes[i], "?"),
                    declared,
                    parent_value,
                    declared / max(parent_value, 1.0),
                    float(sig.related_limit[r]),
                    policy.related_weight,
                )
            )
        if sig.digit[r]:
            rules.append(wording.digit_reason(float(cols["digit_share"][r]), policy.digit_weight))
        upper = expected + 2.0 * float(batch.sigma[r])
        rules.append(wording.residual_reason(declared, expected, upper, min(z, policy.z_cap)))
        rules.sort(key=lambda reason: -reason.weight)
        scores.append(
            AnomalyScore(
                facility_id=cube.facility_ids[f],
                indicator_code=cube.indicator_codes[i],
                period=batch.period,
                declared=declared,
                expected=expected,
                standardised_residual=z,
                score=float(batch.score[r]),
                flagged=True,
                reasons=(*rules, *_model_reasons(cols, int(r), contributions[n], policy)),
            )
        )
    return scores


def _model_reasons(
    cols: Mapping[str, np.ndarray], row: int, contribution: np.ndarray, policy: AnomalyPolicy
) -> list[Reason]:
    """The features that weigh most on the expected value, worded."""
    order = np.argsort(-np.abs(contribution[: len(ANOMALY_FEATURES)]), kind="stable")
    found: list[Reason] = []
    for k in order:
        if len(found) >= policy.reasons_from_model:
            break
        name = ANOMALY_FEATURES[k]
        reason = wording.feature_reason(name, float(cols[name][row]), float(contribution[k]))
        if reason is not None and reason.weight > 0:
            found.append(reason)
    return found
