"""What the engine returns: alerts with severity, the rule behind them and the evidence."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from afiya.domain.shared.i18n import Message


class Severity(StrEnum):
    """How strongly an alert stands in the way.

    ``contraindicated`` blocks dispensing unless an accountable person overrides it;
    ``warning`` must be acknowledged; ``info`` is shown. Compare with ``rank``, never
    with ``<`` on the strings.
    """

    INFO = "info"
    WARNING = "warning"
    CONTRAINDICATED = "contraindicated"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def lowered(self) -> Severity:
        """One step down (contraindicated to warning, warning to info)."""
        return _BY_RANK[max(0, self.rank - 1)]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CONTRAINDICATED: 2}
_BY_RANK = {rank: severity for severity, rank in _RANK.items()}


def strongest(*severities: Severity) -> Severity:
    return max(severities, key=lambda s: s.rank)


class AlertKind(StrEnum):
    ALLERGY = "allergy"
    CROSS_REACTIVITY = "cross_reactivity"
    CONDITION = "condition"
    INTERACTION = "interaction"
    DUPLICATE_THERAPY = "duplicate_therapy"
    DOSE = "dose"
    AGE = "age"
    PREGNANCY = "pregnancy"  # includes breastfeeding
    RENAL = "renal"
    LAB = "lab"


class Origin(StrEnum):
    """Who wrote a rule: the national (shipped) knowledge base or a local pharmacist."""

    NATIONAL = "national"
    LOCAL = "local"


EvidenceType = Literal[
    "allergy",
    "condition",
    "medication",
    "lab",
    "age",
    "sex",
    "pregnancy",
    "breastfeeding",
    "weight",
    "dose",
]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact that made a rule fire: which allergy, condition, drug or lab value.

    ``code`` is machine-readable (ICD-10, LOINC, product code, ATC); ``display`` is a
    short language-neutral text (codes, numbers, units, what the record said).
    """

    type: EvidenceType
    code: str
    display: str
    value: float | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class LocalizedText:
    """Rule text written in the knowledge base in the three languages of the project."""

    en: str
    fr: str
    ar: str

    def get(self, language: str) -> str:
        """The text in ``language`` (``fr``, ``ar``, ``en``, or ``fr-MR``), else English."""
        base = language.split("-")[0].split("_")[0].lower()
        text: str = getattr(self, base, "") if base in ("en", "fr", "ar") else ""
        return text or self.en

    def missing(self) -> tuple[str, ...]:
        return tuple(lang for lang in ("en", "fr", "ar") if not getattr(self, lang).strip())


@dataclass(frozen=True, slots=True)
class RuleSource:
    """The published source of a rule (``WHO Model Formulary 2008``) and where in it."""

    title: str
    detail: str = ""
    url: str | None = None

    def citation(self) -> str:
        return f"{self.title}: {self.detail}" if self.detail else self.title


@dataclass(frozen=True, slots=True)
class Alert:
    """One finding about an order.

    ``message`` is the translatable headline (gettext msgid + params); ``advice`` is
    the rule's own text in fr/ar/en; ``detail`` adds a translatable explanation (the
    mechanism of an interaction). ``rule_id`` and ``rule_version`` let a dispensing
    record say exactly which knowledge was applied.
    """

    severity: Severity
    rule_id: str
    rule_version: int
    kind: AlertKind
    message: Message
    evidence: tuple[Evidence, ...]
    advice: LocalizedText
    source: RuleSource
    origin: Origin
    detail: Message | None = None

    @property
    def requires_override(self) -> bool:
        """Dispensing is refused unless someone accountable overrides the alert."""
        return self.severity is Severity.CONTRAINDICATED
