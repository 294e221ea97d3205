"""Features of a declared value, computed from the cube with history strictly before it.

Everything about month ``t`` uses declarations and HMIS figures up to ``t`` and
verification outcomes before ``t`` only: what a district officer knows when the month's
declarations arrive. Peer medians are robust to the facility's own figure (a median over
at least :data:`MIN_PEERS` facilities); the facility's own current declaration is never an
input of the expected-value model.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from afiya.adapters.ml.cube import FloatArray, IntArray, ProgrammeCube
from afiya.domain.pbf_intelligence.periods import month_of

MIN_PEERS = 5
DIGIT_WINDOW = 12

ANOMALY_FEATURES: tuple[str, ...] = (
    "indicator",
    "level",
    "month",
    "population",
    "lag_1",
    "lag_2",
    "lag_3",
    "lag_12",
    "mean_3",
    "mean_6",
    "std_6",
    "validated_mean_6",
    "gap_ratio_facility",
    "gap_ratio_indicator",
    "peer_expected",
    "national_expected",
    "peer_trend",
    "parent_declared",
    "hmis",
)
AUDIT_FEATURES: tuple[str, ...] = (
    *ANOMALY_FEATURES,
    "declared",
    "declared_per_1000",
    "ratio_mean_6",
    "ratio_peer",
    "ratio_national",
    "ratio_hmis",
    "ratio_parent",
    "round_number",
    "digit_z",
    "log_tariff",
    "last3_gap_facility",
    "verifications",
)
CATEGORICAL = ("indicator", "level")


def _quiet_nan_reduce(func: object, array: FloatArray, axis: int) -> FloatArray:
    # All-missing slices are expected (a service a level does not offer): NaN is the answer.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(array, axis=axis)  # type: ignore[operator, no-any-return]


@dataclass(frozen=True, slots=True, eq=False)
class CubeContext:
    """Period-wide arrays derived once per cube and shared by every feature row."""

    peer_rate: FloatArray  # (F, I, T) median per 1,000 of same level and district
    national_rate: FloatArray  # (F, I, T) median per 1,000 of same level
    gap_facility: FloatArray  # (F, T) money gap ratio of verifications before t
    gap_indicator: FloatArray  # (F, I, T)
    last3_gap: FloatArray  # (F, T) mean round gap of the last 3 verifications before t
    verifications: FloatArray  # (F, T) verified months before t
    digit_share: FloatArray  # (F, T) share of figures >= 10 ending in 0/5, 12 months to t
    digit_n: FloatArray  # (F, T)
    digit_z: FloatArray  # (F, T)
    parent_index: IntArray  # (I,) index of the parent indicator in the cube, -1 if none

    @classmethod
    def build(cls, cube: ProgrammeCube, parents: Mapping[str, str]) -> CubeContext:
        """Compute peer medians, verification histories and digit statistics."""
        rate = cube.declared / cube.population[:, None, None] * 1000.0
        peer = np.full(rate.shape, np.nan)
        national = np.full(rate.shape, np.nan)
        for level in np.unique(cube.levels):
            members = cube.levels == level
            national[members] = _median_if_enough(rate[members])
            for district in np.unique(cube.district_codes[members]):
                group = members & (cube.district_codes == district)
                peer[group] = _median_if_enough(rate[group])

        seen = ~np.isnan(cube.validated)
        declared_money = np.where(seen, cube.declared * cube.tariff, 0.0)
        gap_money = np.where(
            seen, np.clip(cube.declared - cube.validated, 0, None) * cube.tariff, 0.0
        )
        gap_money = np.nan_to_num(gap_money)
        declared_money = np.nan_to_num(declared_money)
        gap_facility = _exclusive_ratio(gap_money.sum(axis=1), declared_money.sum(axis=1))
        gap_indicator = _exclusive_ratio(gap_money, declared_money)
        last3, count = _last_rounds(gap_money.sum(axis=1), declared_money.sum(axis=1))

        values = np.nan_to_num(cube.declared, nan=0.0)
        big = values >= 10
        round_ = big & (np.mod(values, 5) == 0)
        n = _trailing_sum(big.sum(axis=1).astype(np.float64), DIGIT_WINDOW)
        k = _trailing_sum(round_.sum(axis=1).astype(np.float64), DIGIT_WINDOW)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(n > 0, k / n, np.nan)
            z = np.where(n > 0, (k - 0.2 * n) / np.sqrt(0.16 * n), np.nan)

        position = {code: n for n, code in enumerate(cube.indicator_codes)}
        parent_index = np.array(
            [position.get(parents.get(code, ""), -1) for code in cube.indicator_codes], np.int64
        )
        return cls(
            peer, national, gap_facility, gap_indicator, last3, count, share, n, z, parent_index
        )


def _median_if_enough(rate: FloatArray) -> FloatArray:
    median = _quiet_nan_reduce(np.nanmedian, rate, axis=0)
    enough = (~np.isnan(rate)).sum(axis=0) >= MIN_PEERS
    return np.where(enough, median, np.nan)


def _exclusive_ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """Ratio of sums over the months strictly before each month (last axis)."""
    num = np.cumsum(numerator, axis=-1) - numerator
    den = np.cumsum(denominator, axis=-1) - denominator
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _last_rounds(
    gap: FloatArray, base: FloatArray, window: int = 3
) -> tuple[FloatArray, FloatArray]:
    """Mean gap of the last ``window`` verification rounds before each month, and the count."""
    n_f, n_t = gap.shape
    mean = np.full((n_f, n_t), np.nan)
    count = np.zeros((n_f, n_t))
    buffer = np.full((n_f, window), np.nan)
    rounds = np.zeros(n_f)
    for t in range(n_t):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean[:, t] = np.nanmean(buffer, axis=1)
        count[:, t] = rounds
        verified = base[:, t] > 0
        if verified.any():
            buffer[verified] = np.roll(buffer[verified], -1, axis=1)
            buffer[verified, -1] = gap[verified, t] / base[verified, t]
            rounds[verified] += 1
    return mean, count


def _trailing_sum(values: FloatArray, window: int) -> FloatArray:
    """Sum over the ``window`` months ending at each month (inclusive), last axis."""
    cumulative = np.cumsum(values, axis=-1)
    shifted = np.zeros_like(cumulative)
    shifted[..., window:] = cumulative[..., :-window]
    return cumulative - shifted


@dataclass(frozen=True, slots=True, eq=False)
class FeatureRows:
    """Feature columns for declared cells: row ``n`` is cell (f_idx[n], i_idx[n], t_idx[n])."""

    f_idx: IntArray
    i_idx: IntArray
    t_idx: IntArray
    columns: dict[str, FloatArray]

    def __len__(self) -> int:
        return len(self.f_idx)

    def matrix(self, names: Iterable[str]) -> np.ndarray:
        """Columns stacked as a float32 matrix, in the order of ``names``."""
        return np.column_stack([self.columns[name] for name in names]).astype(np.float32)

    def take(self, mask: np.ndarray) -> FeatureRows:
        """Rows where ``mask`` is true."""
        return FeatureRows(
            self.f_idx[mask],
            self.i_idx[mask],
            self.t_idx[mask],
            {k: v[mask] for k, v in self.columns.items()},
        )


def _window(array: FloatArray, t: int, length: int) -> FloatArray:
    return array[:, :, max(0, t - length) : t]


def feature_rows(
    cube: ProgrammeCube,
    context: CubeContext,
    positions: Iterable[int],
    vocabulary: tuple[str, ...],
) -> FeatureRows:
    """Feature rows of every declared cell of the months at ``positions``.

    ``vocabulary`` is the model's indicator list: an indicator it has never seen gets a
    missing ``indicator`` code, so a new grid line is scored from its other features.
    """
    vocab = {code: n for n, code in enumerate(vocabulary)}
    indicator_code = np.array([vocab.get(c, np.nan) for c in cube.indicator_codes], np.float64)
    has_parent = context.parent_index >= 0
    parent_of = np.where(has_parent, context.parent_index, 0)
    parts: list[FeatureRows] = []
    for t in positions:
        d = cube.declared[:, :, t]
        v = cube.validated[:, :, t]
        f_idx, i_idx = np.nonzero(~np.isnan(d))
        cols: dict[str, FloatArray] = {}

        def put(
            name: str,
            grid: FloatArray,
            cols: dict[str, FloatArray] = cols,
            f: IntArray = f_idx,
            i: IntArray = i_idx,
        ) -> None:
            cols[name] = grid[f, i]

        pop = cube.population[:, None] * np.ones((1, d.shape[1]))
        cols["indicator"] = indicator_code[i_idx]
        cols["level"] = cube.levels[f_idx].astype(np.float64)
        cols["month"] = np.full(len(f_idx), float(month_of(cube.periods[t])))
        put("population", pop)
        for lag in (1, 2, 3, 12):
            lagged = cube.declared[:, :, t - lag] if t >= lag else np.full(d.shape, np.nan)
            put(f"lag_{lag}", lagged)
        last3, last6 = _window(cube.declared, t, 3), _window(cube.declared, t, 6)
        put("mean_3", _quiet_nan_reduce(np.nanmean, last3, axis=2))
        put("mean_6", _quiet_nan_reduce(np.nanmean, last6, axis=2))
        std = _quiet_nan_reduce(np.nanstd, last6, axis=2)
        enough = (~np.isnan(last6)).sum(axis=2) >= 3
        put("std_6", np.where(enough, std, np.nan))
        val6 = _window(cube.validated, t, 6)
        put("validated_mean_6", _quiet_nan_reduce(np.nanmean, val6, axis=2))
        cols["gap_ratio_facility"] = context.gap_facility[f_idx, t]
        put("gap_ratio_indicator", context.gap_indicator[:, :, t])
        put("peer_expected", context.peer_rate[:, :, t] * pop / 1000.0)
        put("national_expected", context.national_rate[:, :, t] * pop / 1000.0)
        group = np.where(np.isnan(context.peer_rate), context.national_rate, context.peer_rate)
        recent = _quiet_nan_reduce(np.nanmean, _window(group, t, 6), axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            put("peer_trend", np.where(recent > 0, group[:, :, t] / recent, np.nan))
        parent = np.where(has_parent[None, :], d[:, parent_of], np.nan)
        put("parent_declared", parent)
        put("parent_validated", np.where(has_parent[None, :], v[:, parent_of], np.nan))
        put("hmis", cube.hmis[:, :, t])

        declared = d[f_idx, i_idx]
        cols["declared"] = declared
        cols["declared_per_1000"] = declared / cols["population"] * 1000.0
        for name, base in (
            ("ratio_mean_6", "mean_6"),
            ("ratio_peer", "peer_expected"),
            ("ratio_national", "national_expected"),
            ("ratio_hmis", "hmis"),
            ("ratio_parent", "parent_declared"),
        ):
            cols[name] = declared / np.maximum(cols[base], 0.5)
        cols["round_number"] = ((declared >= 10) & (np.mod(declared, 5) == 0)).astype(np.float64)
        cols["digit_z"] = context.digit_z[f_idx, t]
        cols["digit_share"] = context.digit_share[f_idx, t]
        cols["digit_n"] = context.digit_n[f_idx, t]
        cols["log_tariff"] = np.log1p(cube.tariff[f_idx, i_idx, t])
        cols["last3_gap_facility"] = context.last3_gap[f_idx, t]
        cols["verifications"] = context.verifications[f_idx, t]
        cols["tariff"] = cube.tariff[f_idx, i_idx, t]
        cols["validated"] = cube.validated[f_idx, i_idx, t]
        parts.append(FeatureRows(f_idx, i_idx, np.full(len(f_idx), t), cols))
    if not parts:
        raise ValueError("no period to build features for")
    if len(parts) == 1:
        return parts[0]
    return FeatureRows(
        np.concatenate([p.f_idx for p in parts]),
        np.concatenate([p.i_idx for p in parts]),
        np.concatenate([p.t_idx for p in parts]),
        {k: np.concatenate([p.columns[k] for p in parts]) for k in parts[0].columns},
    )
