"""A seeded synthetic PBF programme with known over-declaration, to train and evaluate.

True volumes follow population, level, district and facility effects, a yearly trend,
district-wide monthly shocks (shared by peers: a strike, a stock-out, an outbreak) and
the Sahel seasons; child indicators are binomial shares of their parents. On top of the
truth: honest transcription errors, digit preference (figures rounded to 0 or 5) in some
facilities, and over-declaration injected in a known subset of facilities that is
persistent, sporadic or starts mid-series. Verification happens on a random share of the
facility-months; validated is the true value most of the time. Same seed, same programme.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from afiya.adapters.ml.catalogue import SEASONS, IndicatorSpec, catalogue
from afiya.adapters.ml.cube import FloatArray, IntArray, ProgrammeCube
from afiya.domain.pbf_intelligence.periods import month_of, shift_period

BoolArray = npt.NDArray[np.bool_]

HONEST, PERSISTENT, SPORADIC, MID_SERIES = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class SyntheticConfig:
    """Sizes and behaviour of the synthetic programme."""

    facilities: int = 500
    months: int = 24
    indicators: int = 20
    first_period: str = "202301"
    seed: int = 20240601
    facilities_per_district: int = 17
    cheater_share: float = 0.15
    honest_rounder_share: float = 0.05
    cheater_rounder_share: float = 0.5
    cheaters_also_in_hmis: float = 0.3
    transcription_error_rate: float = 0.05
    verification_rate: float = 0.5
    hmis_completeness: float = 0.85


@dataclass(frozen=True, slots=True, eq=False)
class GroundTruth:
    """What the generator knows and a real programme never does."""

    true_value: FloatArray
    validated_if_verified: FloatArray
    over_declared: BoolArray
    cheater_kind: IntArray
    fraud_start: IntArray
    rounder: BoolArray


@dataclass(frozen=True, slots=True, eq=False)
class SyntheticProgramme:
    """The observable cube, the ground truth and the indicator definitions."""

    cube: ProgrammeCube
    truth: GroundTruth
    specs: tuple[IndicatorSpec, ...]

    @property
    def parents(self) -> dict[str, str]:
        """Related indicators: child code -> parent code (the parent bounds the child)."""
        return {s.code: s.parent for s in self.specs if s.parent is not None}

    def over_declared_money(self, t: int) -> FloatArray:
        """Per facility, money a full verification of month ``t`` would recover."""
        cube = self.cube
        gap = cube.declared[:, :, t] - self.truth.validated_if_verified[:, :, t]
        money: FloatArray = np.nansum(np.clip(gap, 0, None) * cube.tariff[:, :, t], axis=1)
        return money


def generate_programme(config: SyntheticConfig | None = None) -> SyntheticProgramme:
    """Generate a programme; deterministic for a given ``config`` (seed included)."""
    cfg = config or SyntheticConfig()
    rng = np.random.default_rng(cfg.seed)
    n_f, n_t = cfg.facilities, cfg.months
    specs = catalogue(cfg.indicators, rng)
    n_i = len(specs)
    periods = tuple(shift_period(cfg.first_period, t) for t in range(n_t))
    months = np.array([month_of(p) - 1 for p in periods])

    levels, district_codes, population = _facilities(cfg, rng)
    n_d = int(district_codes.max()) + 1
    true = _true_values(specs, levels, district_codes, population, months, n_d, rng)

    declared = true.copy()
    err = (rng.random(true.shape) < cfg.transcription_error_rate) & ~np.isnan(true)
    noisy = np.maximum(np.round(true * (1 + rng.normal(0, 0.08, true.shape))), 0)
    declared[err] = noisy[err]

    kind, start, active = _fraud_plan(cfg, specs, true, rng)
    inflation = _inflation(kind, n_i, rng)[:, :, None] * rng.uniform(0.8, 1.2, true.shape)
    extra = np.maximum(1, np.round(true * inflation + rng.uniform(0, 2, true.shape)))
    over = active & ~np.isnan(true)
    declared[over] = np.maximum(declared[over], true[over]) + extra[over]

    rounder = np.zeros(n_f, bool)
    honest = np.flatnonzero(kind == HONEST)
    cheats = np.flatnonzero(kind != HONEST)
    rounder[rng.choice(honest, round(len(honest) * cfg.honest_rounder_share), False)] = True
    rounder[rng.choice(cheats, round(len(cheats) * cfg.cheater_rounder_share), False)] = True
    big = rounder[:, None, None] & (declared >= 10)
    nearest, up = np.round(declared / 5) * 5, np.ceil(declared / 5) * 5
    declared = np.where(big, np.where(over, up, nearest), declared)

    hmis = np.full(true.shape, np.nan)
    in_hmis = np.array([s.in_hmis for s in specs])
    reported = in_hmis[None, :, None] & (rng.random(true.shape) < cfg.hmis_completeness)
    hmis_noise = np.maximum(np.round(true * (1 + rng.normal(0, 0.03, true.shape))), 0)
    hmis[reported] = hmis_noise[reported]
    echo = np.isin(np.arange(n_f), cheats) & (rng.random(n_f) < cfg.cheaters_also_in_hmis)
    mirrored = reported & over & echo[:, None, None]
    hmis[mirrored] = declared[mirrored]

    verified_full = true.copy()
    wrong = rng.random(true.shape) < 0.15
    verified_full[wrong] = np.maximum(np.round(true * (1 + rng.normal(0, 0.05, true.shape))), 0)[
        wrong
    ]
    validated_full = np.where(rng.random(true.shape) < 0.9, true, verified_full)
    visited = (rng.random((n_f, n_t)) < cfg.verification_rate)[:, None, :]
    verified = np.where(visited, verified_full, np.nan)
    validated = np.where(visited, validated_full, np.nan)

    tariffs = np.array([s.tariff for s in specs], np.float64)
    cube = ProgrammeCube(
        facility_ids=tuple(f"FOSA-{n + 1:04d}" for n in range(n_f)),
        districts=tuple(f"D{int(d) + 1:02d}" for d in district_codes),
        levels=levels,
        population=population,
        indicator_codes=tuple(s.code for s in specs),
        periods=periods,
        declared=declared,
        verified=verified,
        validated=validated,
        hmis=hmis,
        tariff=np.broadcast_to(tariffs[None, :, None], true.shape),
    )
    truth = GroundTruth(true, validated_full, over & (declared > true), kind, start, rounder)
    return SyntheticProgramme(cube, truth, specs)


def _facilities(
    cfg: SyntheticConfig, rng: np.random.Generator
) -> tuple[IntArray, IntArray, FloatArray]:
    n_f = cfg.facilities
    n_d = max(1, math.ceil(n_f / cfg.facilities_per_district))
    n_hospitals = min(n_d, max(1, n_f // 20))
    levels = np.where(rng.random(n_f) < 0.35, 0, 1).astype(np.int64)
    districts = rng.integers(0, n_d, n_f).astype(np.int64)
    levels[:n_hospitals] = 2
    districts[:n_hospitals] = np.arange(n_hospitals)
    order = rng.permutation(n_f)
    levels, districts = levels[order], districts[order]
    low = np.array([1_500.0, 8_000.0, 60_000.0])[levels]
    high = np.array([6_000.0, 35_000.0, 250_000.0])[levels]
    population = np.round(np.exp(rng.uniform(np.log(low), np.log(high))))
    return levels, districts, population


def _true_values(
    specs: tuple[IndicatorSpec, ...],
    levels: IntArray,
    districts: IntArray,
    population: FloatArray,
    months: IntArray,
    n_d: int,
    rng: np.random.Generator,
) -> FloatArray:
    n_f, n_i, n_t = len(levels), len(specs), len(months)
    district_effect = rng.lognormal(0, 0.25, n_d)
    shock = rng.lognormal(0, 0.08, (n_d, n_t)) * np.where(rng.random((n_d, n_t)) < 0.03, 0.5, 1)
    facility_effect = rng.lognormal(0, 0.3, n_f)
    growth = rng.normal(0.04, 0.05, n_f)
    trend = (1 + growth)[:, None] ** (np.arange(n_t)[None, :] / 12)
    common = (
        (population / 1000 * facility_effect * district_effect[districts])[:, None]
        * shock[districts]
        * trend
    )
    true = np.full((n_f, n_i, n_t), np.nan)
    position = {s.code: n for n, s in enumerate(specs)}
    for i, spec in enumerate(specs):
        factor = np.array(spec.level_factor)[levels]
        offered = factor > 0
        if spec.parent is None:
            season = np.array(SEASONS[spec.season])[months]
            mu = common * spec.rate_per_1000 * season[None, :]
            mu *= (factor * rng.lognormal(0, 0.15, n_f))[:, None]
            mu *= rng.gamma(30.0, 1 / 30.0, mu.shape)
            values = rng.poisson(mu).astype(np.float64)
        else:
            parent = np.nan_to_num(true[:, position[spec.parent], :])
            share = np.clip(rng.uniform(*spec.parent_share, n_f) * factor, 0, 0.98)
            values = rng.binomial(parent.astype(np.int64), share[:, None]).astype(np.float64)
        values[~offered] = np.nan
        true[:, i, :] = values
    return true


def _fraud_plan(
    cfg: SyntheticConfig,
    specs: tuple[IndicatorSpec, ...],
    true: FloatArray,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray, BoolArray]:
    n_f, _n_i, n_t = true.shape
    kind = np.zeros(n_f, np.int64)
    start = np.full(n_f, -1, np.int64)
    cheaters = rng.choice(n_f, round(n_f * cfg.cheater_share), replace=False)
    kind[cheaters] = rng.choice(
        [PERSISTENT, SPORADIC, MID_SERIES], len(cheaters), p=[0.4, 0.3, 0.3]
    )
    tariffs = np.array([s.tariff for s in specs])
    active = np.zeros(true.shape, bool)
    for f in cheaters:
        offered = np.flatnonzero(~np.isnan(true[f, :, 0]))
        if offered.size == 0:
            continue
        # Money drives the choice: high-tariff, high-volume indicators are inflated first.
        weight = np.sqrt(tariffs[offered] * (np.nanmean(true[f, offered, :], axis=1) + 1))
        k = max(1, round(rng.uniform(0.3, 0.6) * offered.size))
        targets = rng.choice(offered, k, replace=False, p=weight / weight.sum())
        months: BoolArray
        if kind[f] == PERSISTENT:
            months = np.ones(n_t, bool)
        elif kind[f] == SPORADIC:
            months = np.less(rng.random(n_t), 0.3)
        else:
            start[f] = rng.integers(n_t // 3, 2 * n_t // 3 + 1)
            months = np.arange(n_t) >= start[f]
        active[f, targets[:, None], np.flatnonzero(months)[None, :]] = True
    return kind, start, active


def _inflation(kind: IntArray, n_i: int, rng: np.random.Generator) -> FloatArray:
    low = np.array([0.0, 0.2, 0.4, 0.25])[kind]
    high = np.array([0.0, 0.6, 1.2, 0.8])[kind]
    return rng.uniform(low[:, None], high[:, None], (len(kind), n_i))
