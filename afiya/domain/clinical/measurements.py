"""Recording vital signs and measurements: unit conversion, plausibility, derived values.

Values are :class:`~decimal.Decimal` and conversions go through exact fractions, so that
98.6 °F is stored as 37.0 °C and not 36.99999. A value is converted to the canonical unit
of its code, rounded to the code's precision, then checked against the plausibility range;
the error names the range *in the unit the user typed*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from uuid import UUID

from afiya.domain.clinical.common import check_time, field_error, raise_if
from afiya.domain.clinical.observations import (
    BY_KEY,
    GLUCOSE_PAIR,
    ObservationDefinition,
    definition,
)
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_


@dataclass(frozen=True, slots=True)
class Quantity:
    value: Decimal
    unit: str  # UCUM


@dataclass(frozen=True, slots=True)
class Reading:
    """One value as typed: a LOINC code (or catalogue key), a number and its unit."""

    code: str
    value: Decimal | int | str
    unit: str | None = None  # None: the code's canonical unit


@dataclass(frozen=True, slots=True)
class Observation:
    id: UUID
    patient_id: UUID
    encounter_id: UUID | None
    code: str  # LOINC
    value: Decimal  # in ``unit``, the code's canonical unit
    unit: str
    effective_at: datetime  # when measured
    recorded_by: UUID
    entered: Quantity | None = None  # the value as typed, when it was converted
    derived_from: tuple[UUID, ...] = ()  # for computed values (BMI)


def _quantize(value: Fraction, decimals: int) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _display(value: Fraction) -> str:
    text = format(_quantize(value, 2), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _as_decimal(raw: Decimal | int | str) -> Decimal | None:
    try:
        value = Decimal(raw.strip().replace(",", ".")) if isinstance(raw, str) else Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def measure(
    reading: Reading, *, field: str = "value"
) -> tuple[ObservationDefinition | None, Quantity | None, list[FieldError]]:
    """Read one value: known code, known unit, a number, plausible once converted.

    Returns:
        The definition, the canonical quantity and no error; or Nones and the errors, on
        ``code``, ``unit`` or ``value`` under the ``field`` prefix's parent.
    """
    prefix = field.rpartition(".")[0]
    at = (lambda name: f"{prefix}.{name}") if prefix else (lambda name: name)
    spec = definition(reading.code)
    if spec is None:
        return (
            None,
            None,
            [
                field_error(
                    at("code"),
                    "unknown_code",
                    N_("{code} is not a known measurement code."),
                    code=reading.code,
                )
            ],
        )
    unit = reading.unit or spec.unit
    if not spec.accepts(unit):
        return (
            spec,
            None,
            [
                field_error(
                    at("unit"),
                    "unit_not_accepted",
                    N_("The unit {unit} does not fit this measurement; use one of: {units}."),
                    unit=unit,
                    units=", ".join([spec.unit, *spec.units]),
                )
            ],
        )
    value = _as_decimal(reading.value)
    if value is None:
        return (
            spec,
            None,
            [
                field_error(
                    field, "not_a_number", N_("{value} is not a number."), value=str(reading.value)
                )
            ],
        )
    if spec.integer and value != value.to_integral_value():
        return (
            spec,
            None,
            [field_error(field, "not_an_integer", N_("This score is a whole number."))],
        )
    conversion = spec.conversion(unit)
    canonical = _quantize(conversion.to_canonical(Fraction(value)), spec.decimals)
    if not spec.low <= canonical <= spec.high:
        low = conversion.from_canonical(Fraction(spec.low))
        high = conversion.from_canonical(Fraction(spec.high))
        return (
            spec,
            None,
            [
                field_error(
                    field,
                    "implausible",
                    N_(
                        "{value} {unit} is not plausible for this measurement: it must lie "
                        "between {low} and {high} {unit}."
                    ),
                    value=str(value),
                    unit=unit,
                    low=_display(min(low, high)),
                    high=_display(max(low, high)),
                )
            ],
        )
    return spec, Quantity(canonical, spec.unit), []


def convert(quantity: Quantity, code: str, unit: str) -> Quantity:
    """Express a measured ``quantity`` of ``code`` in another accepted ``unit``.

    Raises:
        ValueError: the code is unknown or does not accept one of the units.
    """
    spec = definition(code)
    if spec is None or not spec.accepts(quantity.unit) or not spec.accepts(unit):
        raise ValueError(f"cannot convert {code} from {quantity.unit} to {unit}")
    canonical = spec.conversion(quantity.unit).to_canonical(Fraction(quantity.value))
    target = spec.conversion(unit).from_canonical(canonical)
    target_spec = definition(GLUCOSE_PAIR.get(spec.loinc, "")) if unit != spec.unit else spec
    decimals = target_spec.decimals if target_spec and target_spec.unit == unit else 2
    return Quantity(_quantize(target, decimals), unit)


def glucose_equivalent(observation: Observation) -> tuple[str, Quantity]:
    """The same blood glucose under the other code and unit (2339-0 mg/dL ↔ 15074-8 mmol/L)."""
    other = GLUCOSE_PAIR.get(observation.code)
    if other is None:
        raise ValueError(f"{observation.code} is not a blood glucose code")
    target = definition(other)
    assert target is not None
    return other, convert(
        Quantity(observation.value, observation.unit), observation.code, target.unit
    )


def check_blood_pressure(
    systolic: Decimal, diastolic: Decimal, *, field: str = "diastolic"
) -> list[FieldError]:
    """The diastolic pressure must be below the systolic one (swapped fields are common)."""
    if diastolic >= systolic:
        return [
            field_error(
                field,
                "diastolic_not_below_systolic",
                N_(
                    "The diastolic pressure ({diastolic}) must be lower than the systolic "
                    "pressure ({systolic})."
                ),
                diastolic=str(diastolic),
                systolic=str(systolic),
            )
        ]
    return []


def record_observations(
    readings: Sequence[Reading],
    *,
    ids: Sequence[UUID],
    patient_id: UUID,
    encounter_id: UUID | None,
    effective_at: datetime,
    recorded_by: UUID,
    now: datetime,
) -> list[Observation]:
    """Validate a set of readings taken together (a vital-signs round) and build them.

    Rules: every reading has a known code and accepted unit and is plausible; a code
    appears once per round; a blood pressure has both values, the diastolic below the
    systolic; the time has a zone and is not in the future. Errors name
    ``readings.<i>.<field>``.

    Raises:
        ValidationFailed: listing every invalid reading.
    """
    if len(ids) != len(readings):
        raise ValueError("one id per reading")
    errors = check_time("effective_at", effective_at, now)
    measured: list[tuple[Reading, ObservationDefinition, Quantity]] = []
    seen: dict[str, int] = {}
    for index, reading in enumerate(readings):
        spec, quantity, found = measure(reading, field=f"readings.{index}.value")
        errors += found
        if spec is not None and spec.loinc in seen:
            errors.append(
                field_error(
                    f"readings.{index}.code", "duplicate", N_("This measurement is given twice.")
                )
            )
        if spec is not None:
            seen[spec.loinc] = index
        if spec is not None and quantity is not None:
            measured.append((reading, spec, quantity))
    by_code = {spec.loinc: quantity for _, spec, quantity in measured}
    sys_code, dia_code = BY_KEY["systolic"].loinc, BY_KEY["diastolic"].loinc
    if (sys_code in seen) != (dia_code in seen):
        missing = "diastolic" if sys_code in seen else "systolic"
        errors.append(
            field_error(
                "readings",
                "incomplete_blood_pressure",
                N_("A blood pressure needs both the systolic and the diastolic value."),
                missing=missing,
            )
        )
    elif sys_code in by_code and dia_code in by_code:
        errors += check_blood_pressure(
            by_code[sys_code].value,
            by_code[dia_code].value,
            field=f"readings.{seen[dia_code]}.value",
        )
    raise_if(errors)
    # no error: every reading was measured, in order
    return [
        Observation(
            id=ids[index],
            patient_id=patient_id,
            encounter_id=encounter_id,
            code=spec.loinc,
            value=quantity.value,
            unit=quantity.unit,
            effective_at=effective_at,
            recorded_by=recorded_by,
            entered=_as_entered(reading, spec, quantity),
        )
        for index, (reading, spec, quantity) in enumerate(measured)
    ]


def _as_entered(reading: Reading, spec: ObservationDefinition, stored: Quantity) -> Quantity | None:
    """The value as typed, kept when it differs from the stored one (converted or rounded)."""
    typed = _as_decimal(reading.value)
    unit = reading.unit or spec.unit
    if typed is None or (unit == stored.unit and typed == stored.value):
        return None
    return Quantity(typed, unit)
