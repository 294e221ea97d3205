"""Values computed from measurements: body mass index, MUAC nutrition status."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from uuid import UUID

from afiya.domain.clinical.common import field_error, raise_if
from afiya.domain.clinical.measurements import Observation
from afiya.domain.clinical.observations import BY_KEY
from afiya.domain.shared.i18n import N_

BMI_MAX_GAP = timedelta(days=30)
"""Weight and height measured further apart than this do not make a BMI."""

_WEIGHT = BY_KEY["weight"]
_HEIGHT = BY_KEY["height"]
_BMI = BY_KEY["bmi"]
_MUAC = BY_KEY["muac"]


def body_mass_index(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """BMI = weight (kg) / height (m)², to one decimal, half up."""
    if weight_kg <= 0 or height_cm <= 0:
        raise ValueError("weight and height must be positive")
    metres = height_cm / 100
    return (weight_kg / (metres * metres)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def derive_bmi(
    weight: Observation, height: Observation, *, id: UUID, recorded_by: UUID
) -> Observation:
    """A BMI observation computed from a weight and a height of the same patient.

    Rules: the two are body weight (29463-7, kg) and body height (8302-2, cm) of one
    patient, measured at most 30 days apart; the result is plausible (5 to 100 kg/m²),
    otherwise one of the two measurements is wrong. The BMI is dated at the later one.

    Raises:
        ValidationFailed: on ``weight`` or ``height`` when they cannot make a BMI.
    """
    errors = []
    if weight.code != _WEIGHT.loinc or weight.unit != _WEIGHT.unit:
        errors.append(field_error("weight", "not_a_weight", N_("This is not a body weight in kg.")))
    if height.code != _HEIGHT.loinc or height.unit != _HEIGHT.unit:
        errors.append(field_error("height", "not_a_height", N_("This is not a body height in cm.")))
    if weight.patient_id != height.patient_id:
        errors.append(
            field_error(
                "height",
                "other_patient",
                N_("The weight and the height belong to different patients."),
            )
        )
    if abs(weight.effective_at - height.effective_at) > BMI_MAX_GAP:
        errors.append(
            field_error(
                "height",
                "too_far_apart",
                N_("The weight and the height were measured more than {days} days apart."),
                days=BMI_MAX_GAP.days,
            )
        )
    raise_if(errors)
    bmi = body_mass_index(weight.value, height.value)
    if not _BMI.low <= bmi <= _BMI.high:
        raise_if(
            [
                field_error(
                    "weight",
                    "implausible_bmi",
                    N_(
                        "These give a BMI of {bmi} kg/m², which is not plausible: check the "
                        "weight and the height."
                    ),
                    bmi=str(bmi),
                )
            ]
        )
    later: datetime = max(weight.effective_at, height.effective_at)
    return Observation(
        id=id,
        patient_id=weight.patient_id,
        encounter_id=weight.encounter_id or height.encounter_id,
        code=_BMI.loinc,
        value=bmi,
        unit=_BMI.unit,
        effective_at=later,
        recorded_by=recorded_by,
        derived_from=(weight.id, height.id),
    )


class MuacStatus(StrEnum):
    """Acute malnutrition by MUAC, children 6 to 59 months (WHO/UNICEF 2009 cut-offs)."""

    SEVERE = "severe"  # < 11.5 cm: severe acute malnutrition (red)
    MODERATE = "moderate"  # 11.5 to < 12.5 cm (yellow)
    NORMAL = "normal"  # ≥ 12.5 cm (green)


def muac_status(muac_cm: Decimal, age_months: int) -> MuacStatus | None:
    """Classify a MUAC for a child of 6 to 59 months; None outside that age band.

    The cut-offs are defined for that band only; adults and pregnant women use other
    thresholds that programmes set nationally.
    """
    if not 6 <= age_months <= 59:
        return None
    if muac_cm < Decimal("11.5"):
        return MuacStatus.SEVERE
    if muac_cm < Decimal("12.5"):
        return MuacStatus.MODERATE
    return MuacStatus.NORMAL
