"""Alert headlines. Each is a whole sentence per case, so translators never assemble
fragments; the French and Arabic catalogues are ``locale/*/LC_MESSAGES/prescribing.po``."""

from __future__ import annotations

from afiya.domain.prescribing.safety.alerts import AlertKind, Evidence, Severity
from afiya.domain.shared.i18n import N_, Message

_C, _W, _I = Severity.CONTRAINDICATED, Severity.WARNING, Severity.INFO

_FINDING = {
    AlertKind.CONDITION: {
        _C: N_("{drug} is contraindicated with the condition {finding}."),
        _W: N_("{drug} requires caution with the condition {finding}."),
        _I: N_("{drug}: note the condition {finding}."),
    },
    AlertKind.RENAL: {
        _C: N_("{drug} is contraindicated at this level of renal function ({finding})."),
        _W: N_("{drug} requires caution at this level of renal function ({finding})."),
        _I: N_("{drug}: note the renal function ({finding})."),
    },
    AlertKind.LAB: {
        _C: N_("{drug} is contraindicated with the laboratory result {finding}."),
        _W: N_("{drug} requires caution with the laboratory result {finding}."),
        _I: N_("{drug}: note the laboratory result {finding}."),
    },
}
_AGE_YEARS = {
    _C: N_("{drug} is contraindicated at the age of {years} years."),
    _W: N_("{drug} requires caution at the age of {years} years."),
    _I: N_("{drug}: note the patient's age ({years} years)."),
}
_AGE_DAYS = {
    _C: N_("{drug} is contraindicated at the age of {days} days."),
    _W: N_("{drug} requires caution at the age of {days} days."),
    _I: N_("{drug}: note the patient's age ({days} days)."),
}
_PREGNANCY_WEEKS = {
    _C: N_("{drug} is contraindicated at {weeks} weeks of pregnancy."),
    _W: N_("{drug} requires caution at {weeks} weeks of pregnancy."),
    _I: N_("{drug}: note the pregnancy ({weeks} weeks)."),
}
_PREGNANCY_UNKNOWN = {
    _C: N_("{drug} is contraindicated in pregnancy (term not recorded)."),
    _W: N_("{drug} requires caution in pregnancy (term not recorded)."),
    _I: N_("{drug}: note the pregnancy (term not recorded)."),
}
_BREASTFEEDING = {
    _C: N_("{drug} is contraindicated during breastfeeding."),
    _W: N_("{drug} requires caution during breastfeeding."),
    _I: N_("{drug}: note that the patient is breastfeeding."),
}
_SEX = {
    _C: N_("{drug} is contraindicated for this patient."),
    _W: N_("{drug} requires caution for this patient."),
    _I: N_("{drug}: note the patient's profile."),
}

ALLERGY_SUBSTANCE = N_(
    "{drug} contains {ingredient}: the patient has a recorded allergy to {substance}."
)
ALLERGY_CLASS = N_(
    "{drug} belongs to the class {atc_class}: the patient has a recorded allergy to it."
)
CROSS_REACTIVITY = N_(
    "Possible cross-reactivity: {drug} contains {ingredient} and the patient is allergic "
    "to {substance}."
)
INTERACTION = N_("{drug} interacts with {other_drug}, which the patient already takes.")
DUPLICATE_INGREDIENT = N_("{drug} duplicates {other_drug}: both contain {ingredient}.")
DUPLICATE_CLASS = N_("{drug} duplicates {other_drug}: same therapeutic group ({atc_group}).")
DUPLICATE_GROUP = N_("{drug} and {other_drug} belong to the same class of medicines ({group}).")

DOSE_ABOVE_PER_DOSE = N_(
    "Single dose of {ingredient} ({value} {unit}) is above the maximum of {limit} {unit}."
)
DOSE_ABOVE_PER_DAY = N_(
    "Daily dose of {ingredient} ({value} {unit}/day) is above the maximum of {limit} {unit}/day."
)
DOSE_ABOVE_PER_KG_DOSE = N_(
    "Dose of {ingredient} ({value} {unit}/kg per dose) is above the maximum of "
    "{limit} {unit}/kg per dose."
)
DOSE_ABOVE_PER_KG_DAY = N_(
    "Dose of {ingredient} ({value} {unit}/kg/day) is above the maximum of {limit} {unit}/kg/day."
)
DOSE_BELOW_PER_KG_DOSE = N_(
    "Dose of {ingredient} ({value} {unit}/kg per dose) is below the minimum of "
    "{limit} {unit}/kg per dose."
)
DOSE_BELOW_PER_KG_DAY = N_(
    "Dose of {ingredient} ({value} {unit}/kg/day) is below the minimum of {limit} {unit}/kg/day."
)
DOSE_NEEDS_WEIGHT = N_("The dose of {ingredient} cannot be fully checked without the weight.")
DOSE_NEEDS_AGE = N_("The dose of {ingredient} cannot be checked without the patient's age.")
DOSE_NEEDS_FREQUENCY = N_(
    "The daily dose of {ingredient} cannot be checked without the number of doses a day."
)
DOSE_UNIT_UNKNOWN = N_(
    "The dose of {ingredient} cannot be checked: {unit} cannot be converted to {rule_unit}."
)


def finding_message(
    kind: AlertKind, severity: Severity, drug: str, evidence: tuple[Evidence, ...]
) -> Message:
    """The headline of a contraindication alert, chosen by kind and by the evidence."""
    first = evidence[0] if evidence else None
    if first is not None and first.type == "age":
        if first.unit == "d":
            return Message(_AGE_DAYS[severity], {"drug": drug, "days": int(first.value or 0)})
        return Message(_AGE_YEARS[severity], {"drug": drug, "years": int(first.value or 0)})
    if first is not None and first.type == "pregnancy":
        if first.value is None:
            return Message(_PREGNANCY_UNKNOWN[severity], {"drug": drug})
        return Message(_PREGNANCY_WEEKS[severity], {"drug": drug, "weeks": int(first.value)})
    if first is not None and first.type == "breastfeeding":
        return Message(_BREASTFEEDING[severity], {"drug": drug})
    if first is not None and first.type == "sex":
        return Message(_SEX[severity], {"drug": drug})
    table = _FINDING.get(kind, _FINDING[AlertKind.CONDITION])
    finding = ", ".join(e.display for e in evidence)
    return Message(table[severity], {"drug": drug, "finding": finding})
