"""Code systems and units: ICD-10 ranges, ATC prefixes, dose unit conversion."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_ICD10 = re.compile(r"^[A-Z]\d[0-9A-Z]{1,5}$")


def normalize_icd10(code: str) -> str:
    """``e11.9 `` -> ``E119``: the dot is presentation only."""
    return code.strip().upper().replace(".", "")


@dataclass(frozen=True, slots=True)
class Icd10Range:
    """Codes whose first ``len(low)`` characters lie in ``[low, high]``.

    ``E10-E14`` covers E10 to E14.9; ``E16.0-E16.2`` covers E16.0, E16.1, E16.2 and
    their sub-codes but not a bare ``E16``; ``N18.5`` alone is a one-code range.
    """

    low: str
    high: str

    def matches(self, normalized_code: str) -> bool:
        n = len(self.low)
        return len(normalized_code) >= n and self.low <= normalized_code[:n] <= self.high


def parse_icd10_pattern(text: str) -> Icd10Range:
    """Parse ``E11``, ``E10-E14`` or ``E16.0-E16.2``.

    Raises:
        ValueError: not a code or range, or the bounds differ in length.
    """
    parts = [normalize_icd10(p) for p in text.split("-")]
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or not all(_ICD10.match(p) for p in parts):
        raise ValueError(text)
    low, high = parts
    if len(low) != len(high) or low > high:
        raise ValueError(text)
    return Icd10Range(low, high)


def matching_icd10(ranges: Iterable[Icd10Range], normalized_code: str) -> bool:
    return any(r.matches(normalized_code) for r in ranges)


def atc_prefixes(code: str) -> Iterable[str]:
    """Every prefix of an ATC code, shortest first: ``J01CA04`` -> J, J0, J01, ..."""
    return (code[:n] for n in range(1, len(code) + 1))


def normalize_unit(unit: str) -> str:
    """Compare units case-insensitively, ``µg`` and ``ug`` alike, spaces ignored."""
    return unit.strip().casefold().replace("µ", "u").replace("μ", "u").replace(" ", "")


# Dimension and factor to the dimension's base unit (mg, mL, IU, mmol).
_UNITS: dict[str, tuple[str, float]] = {
    "kg": ("mass", 1e6),
    "g": ("mass", 1000.0),
    "gram": ("mass", 1000.0),
    "mg": ("mass", 1.0),
    "mcg": ("mass", 1e-3),
    "ug": ("mass", 1e-3),
    "microgram": ("mass", 1e-3),
    "ng": ("mass", 1e-6),
    "l": ("volume", 1000.0),
    "ml": ("volume", 1.0),
    "iu": ("iu", 1.0),
    "ui": ("iu", 1.0),
    "unit": ("iu", 1.0),
    "units": ("iu", 1.0),
    "miu": ("iu", 1e6),
    "mui": ("iu", 1e6),
    "mmol": ("mmol", 1.0),
    "mol": ("mmol", 1000.0),
}


def convert_amount(value: float, unit: str, to_unit: str) -> float | None:
    """``value`` in ``unit`` expressed in ``to_unit``, or None if they do not convert."""
    src = _UNITS.get(normalize_unit(unit))
    dst = _UNITS.get(normalize_unit(to_unit))
    if src is None or dst is None:
        return value if normalize_unit(unit) == normalize_unit(to_unit) else None
    if src[0] != dst[0]:
        return None
    return value * src[1] / dst[1]


def fmt(value: float) -> str:
    """A number for a message: at most four significant digits, no trailing zeros."""
    return f"{value:.4g}"
