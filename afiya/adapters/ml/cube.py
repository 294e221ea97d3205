"""A PBF programme as dense numpy arrays: facility x indicator x month.

PBF data is a nearly full cube (every contracted facility declares every indicator every
month), so lags, rolling means and peer medians become array slices instead of joins.
``NaN`` marks what is absent: an indicator a facility is not contracted for, a month not
verified, a figure missing from the HMIS.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from afiya.domain.pbf_intelligence.model import DeclarationRecord, FacilityLevel
from afiya.domain.pbf_intelligence.periods import period_from_index, period_index

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

LEVELS: tuple[FacilityLevel, ...] = (
    FacilityLevel.HEALTH_POST,
    FacilityLevel.HEALTH_CENTRE,
    FacilityLevel.HOSPITAL,
)
_LEVEL_CODE = {level: code for code, level in enumerate(LEVELS)}


@dataclass(frozen=True, slots=True, eq=False)
class ProgrammeCube:
    """Declared, verified, validated and HMIS values as ``(F, I, T)`` float arrays.

    ``periods`` are consecutive months. ``levels`` are codes into :data:`LEVELS`.
    """

    facility_ids: tuple[str, ...]
    districts: tuple[str, ...]
    levels: IntArray
    population: FloatArray
    indicator_codes: tuple[str, ...]
    periods: tuple[str, ...]
    declared: FloatArray
    verified: FloatArray
    validated: FloatArray
    hmis: FloatArray
    tariff: FloatArray
    district_codes: IntArray = field(init=False)

    def __post_init__(self) -> None:
        shape = (len(self.facility_ids), len(self.indicator_codes), len(self.periods))
        for name in ("declared", "verified", "validated", "hmis", "tariff"):
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, not {shape}")
        first = period_index(self.periods[0]) if self.periods else 0
        if [period_index(p) - first for p in self.periods] != list(range(len(self.periods))):
            raise ValueError("periods must be consecutive months")
        names = sorted(set(self.districts))
        lookup = {name: code for code, name in enumerate(names)}
        codes = np.fromiter((lookup[d] for d in self.districts), np.int64, len(self.districts))
        object.__setattr__(self, "district_codes", codes)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(facilities, indicators, periods)``."""
        f, i, t = self.declared.shape
        return f, i, t

    def period_position(self, period: str) -> int:
        """Index of ``period`` along the last axis; ``KeyError`` when outside the cube."""
        position = period_index(period) - period_index(self.periods[0])
        if not 0 <= position < len(self.periods):
            raise KeyError(period)
        return position

    def up_to(self, period: str, *, hide_outcomes_of_last: bool = True) -> ProgrammeCube:
        """The cube cut after ``period``; its verification outcomes hidden by default.

        What a planner knows on the day it plans ``period``: declarations and HMIS figures
        of that month, verification outcomes of the months before.
        """
        stop = self.period_position(period) + 1
        verified = self.verified[:, :, :stop].copy()
        validated = self.validated[:, :, :stop].copy()
        if hide_outcomes_of_last:
            verified[:, :, -1] = np.nan
            validated[:, :, -1] = np.nan
        return ProgrammeCube(
            facility_ids=self.facility_ids,
            districts=self.districts,
            levels=self.levels,
            population=self.population,
            indicator_codes=self.indicator_codes,
            periods=self.periods[:stop],
            declared=self.declared[:, :, :stop],
            verified=verified,
            validated=validated,
            hmis=self.hmis[:, :, :stop],
            tariff=self.tariff[:, :, :stop],
        )

    def to_records(self, periods: Sequence[str] | None = None) -> list[DeclarationRecord]:
        """One record per declared cell (all periods unless ``periods`` is given)."""
        wanted = range(len(self.periods)) if periods is None else map(self.period_position, periods)
        records: list[DeclarationRecord] = []
        tariffs: dict[float, Decimal] = {}
        for t in wanted:
            period = self.periods[t]
            for f, i in zip(*np.nonzero(~np.isnan(self.declared[:, :, t])), strict=True):
                tariff = float(self.tariff[f, i, t])
                records.append(
                    DeclarationRecord(
                        facility_id=self.facility_ids[f],
                        district=self.districts[f],
                        level=LEVELS[int(self.levels[f])],
                        catchment_population=int(self.population[f]),
                        indicator_code=self.indicator_codes[i],
                        period=period,
                        declared=int(self.declared[f, i, t]),
                        tariff=tariffs.setdefault(tariff, Decimal(repr(tariff))),
                        verified=_optional_int(self.verified[f, i, t]),
                        validated=_optional_int(self.validated[f, i, t]),
                        hmis_value=_optional_int(self.hmis[f, i, t]),
                    )
                )
        return records

    @classmethod
    def from_records(cls, records: Iterable[DeclarationRecord]) -> ProgrammeCube:
        """Build the cube from flat records (the facility attributes of the last one win)."""
        rows = list(records)
        if not rows:
            raise ValueError("no records")
        facilities: dict[str, DeclarationRecord] = {}
        indicator_set: set[str] = set()
        months: set[int] = set()
        for r in rows:
            facilities[r.facility_id] = r
            indicator_set.add(r.indicator_code)
            months.add(period_index(r.period))
        facility_ids = tuple(sorted(facilities))
        indicators = tuple(sorted(indicator_set))
        first, last = min(months), max(months)
        periods = tuple(period_from_index(m) for m in range(first, last + 1))
        f_pos = {fid: n for n, fid in enumerate(facility_ids)}
        i_pos = {code: n for n, code in enumerate(indicators)}
        shape = (len(facility_ids), len(indicators), len(periods))
        arrays = {name: np.full(shape, np.nan) for name in ("d", "v", "a", "h", "t")}
        for r in rows:
            key = (f_pos[r.facility_id], i_pos[r.indicator_code], period_index(r.period) - first)
            arrays["d"][key] = r.declared
            arrays["t"][key] = float(r.tariff)
            if r.verified is not None:
                arrays["v"][key] = r.verified
            if r.validated is not None:
                arrays["a"][key] = r.validated
            if r.hmis_value is not None:
                arrays["h"][key] = r.hmis_value
        return cls(
            facility_ids=facility_ids,
            districts=tuple(facilities[f].district for f in facility_ids),
            levels=np.array([_LEVEL_CODE[facilities[f].level] for f in facility_ids], np.int64),
            population=np.array(
                [facilities[f].catchment_population for f in facility_ids], np.float64
            ),
            indicator_codes=indicators,
            periods=periods,
            declared=arrays["d"],
            verified=arrays["v"],
            validated=arrays["a"],
            hmis=arrays["h"],
            tariff=arrays["t"],
        )


def _optional_int(value: np.float64) -> int | None:
    return None if np.isnan(value) else int(value)
