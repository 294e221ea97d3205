"""The knowledge base's vocabulary: drug selectors, patient criteria and rule types.

A rule is data. Each carries ``RuleMeta`` (id, version, origin, source, advice in three
languages, worked examples); national and local rules use the same classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from afiya.domain.prescribing.model import MedicationOrderDraft, PatientContext, Sex
from afiya.domain.prescribing.safety.alerts import (
    AlertKind,
    LocalizedText,
    Origin,
    RuleSource,
    Severity,
)
from afiya.domain.shared.i18n import N_, Message


@dataclass(frozen=True, slots=True)
class RuleExample:
    """A worked case kept next to a rule: the rule must fire on it, or stay silent.

    Examples are the rule's own tests: the test suite runs every one, and a local rule
    is refused at load time when one of its examples fails.
    """

    expect: Literal["fires", "silent"]
    order: MedicationOrderDraft
    context: PatientContext
    severity: Severity | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """What every rule carries. ``supersedes`` lets a local rule replace a national one."""

    id: str
    version: int
    origin: Origin
    source: RuleSource
    advice: LocalizedText
    examples: tuple[RuleExample, ...] = ()
    supersedes: str | None = None


@dataclass(frozen=True, slots=True)
class DrugClass:
    """A named set of ATC codes (``nsaids``), so that rules read like the literature."""

    id: str
    atc: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class DrugSelector:
    """Which drugs a rule is about.

    A product matches when one of its ATC codes (own or an ingredient's) starts with one
    of ``atc`` or of the classes' codes and with none of ``exclude``; ``routes``, when
    not empty, restricts the match to these administration routes.
    """

    atc: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Analyte:
    """A laboratory quantity, the LOINC codes that measure it and unit conversions.

    ``conversions`` maps a unit to the factor that turns it into ``unit``
    (glucose: ``mg/dL`` x 0.0555 = mmol/L).
    """

    id: str
    symbol: str
    unit: str
    loinc: tuple[str, ...]
    conversions: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class ConditionCriterion:
    """An active problem coded in one of ``codes``: ``E11``, ``E10-E14``, ``E16.0-E16.2``."""

    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LabCriterion:
    """A recent result of ``analyte`` below ``below``, above ``above`` and/or at least
    ``at_least`` (all given bounds must hold).

    ``use="latest"`` looks at the most recent result within ``within_hours``;
    ``use="any"`` accepts any result in that window (a documented hypoglycaemia).
    The ``egfr`` analyte falls back on an estimate from creatinine (CKD-EPI 2021 for
    adults, bedside Schwartz for children with a height).
    """

    analyte: str
    below: float | None = None
    at_least: float | None = None
    above: float | None = None
    within_hours: float = 24 * 90
    use: Literal["latest", "any"] = "latest"


@dataclass(frozen=True, slots=True)
class AgeCriterion:
    """Age in ``[min_days, below_days)``; an unknown age never matches."""

    min_days: int | None = None
    below_days: int | None = None


@dataclass(frozen=True, slots=True)
class PregnancyCriterion:
    """Pregnant at ``[min_weeks, below_weeks)`` completed weeks of gestation.

    ``when_weeks_unknown`` says whether a pregnancy of unknown term matches: the
    stricter of two graded rules usually says yes, so an unknown term is not a loophole.
    """

    min_weeks: int | None = None
    below_weeks: int | None = None
    when_weeks_unknown: bool = True


@dataclass(frozen=True, slots=True)
class BreastfeedingCriterion:
    """The patient is breastfeeding."""


@dataclass(frozen=True, slots=True)
class SexCriterion:
    sex: Sex


Criterion = (
    ConditionCriterion
    | LabCriterion
    | AgeCriterion
    | PregnancyCriterion
    | BreastfeedingCriterion
    | SexCriterion
)


@dataclass(frozen=True, slots=True)
class ContraindicationRule:
    """A drug that is contraindicated or needs caution in a patient state.

    Fires when the drug matches, ``when_any`` has a criterion that holds (or is empty),
    every ``requires`` criterion holds, and no ``unless_any`` criterion holds.
    ``kind`` is one of condition, age, pregnancy, renal, lab.
    """

    meta: RuleMeta
    kind: AlertKind
    severity: Severity
    drugs: DrugSelector
    when_any: tuple[Criterion, ...] = ()
    requires: tuple[Criterion, ...] = ()
    unless_any: tuple[Criterion, ...] = ()


AllergyMatch = Literal["same_substance", "recorded_class", "cross"]


@dataclass(frozen=True, slots=True)
class AllergyRule:
    """How a recorded allergy meets an order.

    ``same_substance``: the allergy names an ingredient of the product.
    ``recorded_class``: the allergy names an ATC class the product belongs to.
    ``cross``: the allergen is in ``allergen`` and the product in ``reactant``.
    ``severity`` applies to low criticality, ``high_criticality_severity`` to high or
    unassessed criticality; see ``allergy_severity`` for unconfirmed allergies.
    """

    meta: RuleMeta
    kind: AlertKind
    match: AllergyMatch
    severity: Severity
    high_criticality_severity: Severity
    allergen: DrugSelector | None = None
    reactant: DrugSelector | None = None


class Mechanism(StrEnum):
    """Why two drugs interact; each has a translatable explanation."""

    ADDITIVE_BLEEDING = "additive_bleeding"
    ENZYME_INHIBITION = "enzyme_inhibition"
    ENZYME_INDUCTION = "enzyme_induction"
    CONTRACEPTIVE_FAILURE = "contraceptive_failure"
    ADDITIVE_HYPERKALAEMIA = "additive_hyperkalaemia"
    DUAL_RAAS_BLOCKADE = "dual_raas_blockade"
    ADDITIVE_NEPHROTOXICITY = "additive_nephrotoxicity"
    ADDITIVE_OTOTOXICITY = "additive_ototoxicity"
    QT_PROLONGATION = "qt_prolongation"
    ADDITIVE_CARDIOTOXICITY = "additive_cardiotoxicity"
    REDUCED_CLEARANCE = "reduced_clearance"
    FOLATE_ANTAGONISM = "folate_antagonism"
    CHELATION = "chelation"
    SEROTONIN_TOXICITY = "serotonin_toxicity"
    REDUCED_ACTIVATION = "reduced_activation"
    THIOPURINE_TOXICITY = "thiopurine_toxicity"
    SULFONAMIDE_TOXICITY = "sulfonamide_toxicity"
    LACTIC_ACIDOSIS = "lactic_acidosis"

    @property
    def message(self) -> Message:
        return Message(_MECHANISM_TEXT[self])


_MECHANISM_TEXT = {
    Mechanism.ADDITIVE_BLEEDING: N_("Additive bleeding risk."),
    Mechanism.ENZYME_INHIBITION: N_(
        "Enzyme inhibition raises the blood level of the other medicine."
    ),
    Mechanism.ENZYME_INDUCTION: N_(
        "Enzyme induction lowers the blood level and the effect of the other medicine."
    ),
    Mechanism.CONTRACEPTIVE_FAILURE: N_(
        "Enzyme induction lowers hormone levels: risk of contraceptive failure."
    ),
    Mechanism.ADDITIVE_HYPERKALAEMIA: N_("Additive risk of hyperkalaemia."),
    Mechanism.DUAL_RAAS_BLOCKADE: N_(
        "Dual blockade of the renin-angiotensin system: hyperkalaemia, hypotension and "
        "renal failure."
    ),
    Mechanism.ADDITIVE_NEPHROTOXICITY: N_("Additive kidney toxicity."),
    Mechanism.ADDITIVE_OTOTOXICITY: N_("Additive toxicity to hearing and to the kidneys."),
    Mechanism.QT_PROLONGATION: N_("Additive QT prolongation: risk of ventricular arrhythmia."),
    Mechanism.ADDITIVE_CARDIOTOXICITY: N_(
        "Additive cardiac toxicity: risk of arrhythmia and convulsions."
    ),
    Mechanism.REDUCED_CLEARANCE: N_(
        "Reduced elimination raises the blood level of the other medicine."
    ),
    Mechanism.FOLATE_ANTAGONISM: N_("Additive folate antagonism: bone-marrow toxicity."),
    Mechanism.CHELATION: N_("Binding to metal ions reduces absorption."),
    Mechanism.SEROTONIN_TOXICITY: N_("Risk of serotonin syndrome."),
    Mechanism.REDUCED_ACTIVATION: N_("Reduced activation of a prodrug lowers its effect."),
    Mechanism.THIOPURINE_TOXICITY: N_(
        "Xanthine-oxidase inhibition raises thiopurine levels: bone-marrow toxicity."
    ),
    Mechanism.SULFONAMIDE_TOXICITY: N_(
        "Two sulfonamide medicines: additive risk of severe skin and blood reactions."
    ),
    Mechanism.LACTIC_ACIDOSIS: N_("Risk of lactic acidosis if renal function falls."),
}


@dataclass(frozen=True, slots=True)
class InteractionRule:
    """A drug-drug interaction between a drug in ``a`` and one in ``b``.

    The rule is symmetric: it fires with the same severity whichever drug is ordered
    and whichever is already taken.
    """

    meta: RuleMeta
    a: DrugSelector
    b: DrugSelector
    severity: Severity
    mechanism: Mechanism


DuplicateMatch = Literal["same_ingredient", "same_atc4", "same_group"]


@dataclass(frozen=True, slots=True)
class DuplicateRule:
    """Two active drugs doing the same job.

    ``same_ingredient``: a shared ingredient. ``same_atc4``: the same ATC level-4 group
    (five characters, ``J01CA``) except ``exempt`` prefixes, whose members are given
    together on purpose (two NRTIs in an ARV backbone). ``same_group``: both in
    ``group`` (NSAIDs spread over several ATC groups).
    """

    meta: RuleMeta
    match: DuplicateMatch
    severity: Severity
    group: DrugSelector | None = None
    exempt: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DoseLimits:
    """Limits in the rule's unit; ``per_kg`` limits need the weight."""

    max_per_dose: float | None = None
    max_per_day: float | None = None
    max_per_kg_per_dose: float | None = None
    max_per_kg_per_day: float | None = None
    min_per_kg_per_dose: float | None = None
    min_per_kg_per_day: float | None = None


@dataclass(frozen=True, slots=True)
class DoseRule:
    """Dose range of one ingredient for an age and weight band and routes.

    Above a maximum raises a warning, and ``hard_limit_factor`` times the maximum (a
    tenfold slip, a double dose) is contraindicated. Below a minimum raises a warning.
    ``tolerance`` (a fraction) absorbs the rounding of doses to whole tablets or mL.
    """

    meta: RuleMeta
    drugs: DrugSelector
    unit: str
    limits: DoseLimits
    min_age_days: int | None = None
    below_age_days: int | None = None
    min_weight_kg: float | None = None
    below_weight_kg: float | None = None
    hard_limit_factor: float = 2.0
    tolerance: float = 0.0


Rule = ContraindicationRule | AllergyRule | InteractionRule | DuplicateRule | DoseRule


@dataclass(frozen=True, slots=True)
class KnowledgeRelease:
    """Identity of a knowledge-base release, recorded with every dispensing decision."""

    name: str
    version: str
    fingerprint: str = ""
    status: str = ""
    local_sources: tuple[str, ...] = field(default=())
