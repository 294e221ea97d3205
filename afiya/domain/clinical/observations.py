"""The catalogue of vital signs and bedside measurements: LOINC codes, UCUM units, ranges.

The catalogue is data: each :class:`ObservationDefinition` names its LOINC code, its
canonical UCUM unit, the other units a nurse may type (with the exact conversion), the
precision kept, and the *plausibility* range: the values a living patient can have, so
that a typing error (60 °C, a pulse of 720) is refused at entry. Plausible is not normal:
a temperature of 41 °C is plausible and alarming; flags for abnormal values are the job of
reference ranges (:mod:`afiya.domain.clinical.results`).

Codes are LOINC (https://loinc.org), checked one by one against the LOINC table:
``8310-5`` Body temperature, ``8867-4`` Heart rate, ``9279-1`` Respiratory rate,
``8480-6``/``8462-4`` Systolic/Diastolic blood pressure, ``59408-5`` Oxygen saturation in
arterial blood by pulse oximetry, ``2708-6`` Oxygen saturation in arterial blood,
``29463-7`` Body weight, ``8302-2`` Body height, ``9843-4`` Head occipital-frontal
circumference, ``56072-2`` Circumference mid upper arm (MUAC), ``39156-5`` Body mass
index, ``2339-0``/``15074-8`` Glucose in blood (mass / moles per volume), ``72514-3`` Pain
severity 0-10 verbal numeric rating, ``9269-2`` Glasgow coma score total, ``11881-0``
Uterus fundal height by tape measure, ``55283-6`` Fetal heart rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

from afiya.domain.shared.i18n import N_

GLUCOSE_MG_PER_DL_PER_MMOL_PER_L = Fraction("18.0156")
"""1 mmol/L of glucose is 18.0156 mg/dL (molar mass of glucose: 180.156 g/mol)."""


@dataclass(frozen=True, slots=True)
class Conversion:
    """From another unit to the canonical one: ``canonical = (value + shift) × scale``."""

    scale: Fraction
    shift: Fraction = Fraction(0)

    def to_canonical(self, value: Fraction) -> Fraction:
        return (value + self.shift) * self.scale

    def from_canonical(self, value: Fraction) -> Fraction:
        return value / self.scale - self.shift


@dataclass(frozen=True, slots=True)
class ObservationDefinition:
    key: str  # stable short name used by forms and the API
    loinc: str
    name: str  # English display name (translated through the catalogs)
    unit: str  # canonical UCUM unit
    low: Decimal  # plausibility range, canonical unit, inclusive
    high: Decimal
    decimals: int  # precision kept
    integer: bool = False  # scores: a fraction is a typing error, not a rounding matter
    units: Mapping[str, Conversion] = field(default_factory=lambda: MappingProxyType({}))

    def accepts(self, unit: str) -> bool:
        return unit == self.unit or unit in self.units

    def conversion(self, unit: str) -> Conversion:
        return Conversion(Fraction(1)) if unit == self.unit else self.units[unit]


def _units(**pairs: Conversion) -> Mapping[str, Conversion]:
    return MappingProxyType(dict(pairs))


_FAHRENHEIT = Conversion(Fraction(5, 9), Fraction(-32))
_POUND = Conversion(Fraction("0.45359237"))  # international avoirdupois pound, exact
_GRAM = Conversion(Fraction(1, 1000))
_INCH = Conversion(Fraction("2.54"))  # exact
_MM = Conversion(Fraction(1, 10))
_METRE = Conversion(Fraction(100))
_MMOL_TO_MG = Conversion(GLUCOSE_MG_PER_DL_PER_MMOL_PER_L)
_MG_TO_MMOL = Conversion(1 / GLUCOSE_MG_PER_DL_PER_MMOL_PER_L)

DEFINITIONS: tuple[ObservationDefinition, ...] = (
    ObservationDefinition(
        "temperature",
        "8310-5",
        N_("Body temperature"),
        "Cel",
        Decimal(25),
        Decimal(45),
        1,
        units=_units(**{"[degF]": _FAHRENHEIT}),
    ),
    ObservationDefinition(
        "pulse", "8867-4", N_("Heart rate"), "/min", Decimal(20), Decimal(300), 0
    ),
    ObservationDefinition(
        "respiratory_rate", "9279-1", N_("Respiratory rate"), "/min", Decimal(3), Decimal(120), 0
    ),
    ObservationDefinition(
        "systolic", "8480-6", N_("Systolic blood pressure"), "mm[Hg]", Decimal(40), Decimal(300), 0
    ),
    ObservationDefinition(
        "diastolic",
        "8462-4",
        N_("Diastolic blood pressure"),
        "mm[Hg]",
        Decimal(10),
        Decimal(200),
        0,
    ),
    ObservationDefinition(
        "spo2",
        "59408-5",
        N_("Oxygen saturation by pulse oximetry"),
        "%",
        Decimal(30),
        Decimal(100),
        0,
    ),
    ObservationDefinition(
        "sao2",
        "2708-6",
        N_("Oxygen saturation in arterial blood"),
        "%",
        Decimal(30),
        Decimal(100),
        0,
    ),
    ObservationDefinition(
        "weight",
        "29463-7",
        N_("Body weight"),
        "kg",
        Decimal("0.3"),
        Decimal(350),
        3,
        units=_units(g=_GRAM, **{"[lb_av]": _POUND}),
    ),
    ObservationDefinition(
        "height",
        "8302-2",
        N_("Body height"),
        "cm",
        Decimal(20),
        Decimal(250),
        1,
        units=_units(m=_METRE, mm=_MM, **{"[in_i]": _INCH}),
    ),
    ObservationDefinition(
        "head_circumference",
        "9843-4",
        N_("Head circumference"),
        "cm",
        Decimal(20),
        Decimal(70),
        1,
        units=_units(mm=_MM),
    ),
    ObservationDefinition(
        "muac",
        "56072-2",
        N_("Mid-upper arm circumference (MUAC)"),
        "cm",
        Decimal(5),
        Decimal(60),
        1,
        units=_units(mm=_MM),
    ),
    ObservationDefinition(
        "bmi", "39156-5", N_("Body mass index"), "kg/m2", Decimal(5), Decimal(100), 1
    ),
    ObservationDefinition(
        "glucose_mass",
        "2339-0",
        N_("Blood glucose"),
        "mg/dL",
        Decimal(10),
        Decimal(1500),
        0,
        units=_units(**{"mmol/L": _MMOL_TO_MG}),
    ),
    ObservationDefinition(
        "glucose_molar",
        "15074-8",
        N_("Blood glucose"),
        "mmol/L",
        Decimal("0.5"),
        Decimal(83),
        1,
        units=_units(**{"mg/dL": _MG_TO_MMOL}),
    ),
    ObservationDefinition(
        "pain",
        "72514-3",
        N_("Pain score (0 to 10)"),
        "{score}",
        Decimal(0),
        Decimal(10),
        0,
        integer=True,
    ),
    ObservationDefinition(
        "gcs",
        "9269-2",
        N_("Glasgow coma score"),
        "{score}",
        Decimal(3),
        Decimal(15),
        0,
        integer=True,
    ),
    ObservationDefinition(
        "fundal_height", "11881-0", N_("Fundal height"), "cm", Decimal(5), Decimal(50), 0
    ),
    ObservationDefinition(
        "fetal_heart_rate", "55283-6", N_("Fetal heart rate"), "/min", Decimal(50), Decimal(240), 0
    ),
)

BY_LOINC: Mapping[str, ObservationDefinition] = MappingProxyType({d.loinc: d for d in DEFINITIONS})
BY_KEY: Mapping[str, ObservationDefinition] = MappingProxyType({d.key: d for d in DEFINITIONS})

GLUCOSE_PAIR: Mapping[str, str] = MappingProxyType({"2339-0": "15074-8", "15074-8": "2339-0"})
"""The same blood glucose in the other unit's code."""


def definition(code: str) -> ObservationDefinition | None:
    """The definition for a LOINC code or a catalogue key, or None."""
    return BY_LOINC.get(code) or BY_KEY.get(code)
