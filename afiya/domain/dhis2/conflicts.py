"""What each DHIS2 data-import conflict means for a sync: give up, or try again later.

Codes E7600-E7645 are dhis2-core's ``ErrorCode`` entries for data value set imports
(``DataValueSetImportConflict``, ``DataValueImportConflict``); E2017-E2025 are the
single-value (``/api/dataValues``) equivalents. DHIS2 before 2.37 sends conflicts without
an ``errorCode``: for those the code is inferred from DHIS2's fixed English messages.

* blocking: the payload or the mapping must change (unknown ids, invalid values...);
* retriable: the same value will be accepted once something outside Afiya changes —
  time passes (future period, input period not yet open), an administrator grants a lock
  exception or un-approves the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from afiya.domain.shared.i18n import N_, Message


class ConflictKind(Enum):
    """Whether resending the same value can ever succeed."""

    BLOCKING = "blocking"
    RETRIABLE = "retriable"


class RetryCondition(Enum):
    """What must happen before a retriable value is sent again."""

    PERIOD_OPENS = "period_opens"  # time passes: the period becomes open for entry
    LOCK_EXCEPTION = "lock_exception"  # an administrator opens the expired period
    UNAPPROVAL = "unapproval"  # an approver un-approves the data


@dataclass(frozen=True, slots=True)
class ConflictRule:
    """How Afiya reads one DHIS2 conflict code."""

    code: str
    kind: ConflictKind
    label: str  # English msgid, translated by the outer rings
    retry: RetryCondition | None = None

    @property
    def retriable(self) -> bool:
        return self.kind is ConflictKind.RETRIABLE


def _blocking(code: str, label: str) -> ConflictRule:
    return ConflictRule(code, ConflictKind.BLOCKING, label)


def _retriable(code: str, label: str, retry: RetryCondition) -> ConflictRule:
    return ConflictRule(code, ConflictKind.RETRIABLE, label, retry)


_RULES: tuple[ConflictRule, ...] = (
    # Data value set level: the whole import is aborted.
    _blocking("E7600", N_("The data set does not exist in DHIS2 or is not accessible.")),
    _blocking("E7601", N_("The DHIS2 user may not write data for this data set.")),
    _blocking("E7602", N_("DHIS2 requires a valid data set for this import.")),
    _blocking("E7603", N_("The organisation unit does not exist in DHIS2 or is not accessible.")),
    _blocking("E7604", N_("The attribute option combo does not exist in DHIS2.")),
    # Data value level: references.
    _blocking("E7610", N_("The data element does not exist in DHIS2 or is not accessible.")),
    _blocking("E7611", N_("The period is not valid for DHIS2.")),
    _blocking("E7612", N_("The organisation unit does not exist in DHIS2 or is not accessible.")),
    _blocking("E7613", N_("The category option combo does not exist in DHIS2.")),
    _blocking("E7614", N_("The DHIS2 user may not write data for a category option.")),
    _blocking("E7615", N_("The attribute option combo does not exist in DHIS2.")),
    _blocking("E7616", N_("The DHIS2 user may not write data for an attribute option.")),
    _blocking("E7617", N_("The organisation unit is outside the DHIS2 user's data capture units.")),
    _blocking("E7618", N_("The data value has neither a value nor a comment.")),
    _blocking("E7619", N_("The value does not match the data element's value type.")),
    _blocking("E7620", N_("The comment is not valid (too long or malformed).")),
    _blocking("E7621", N_("The value is not an option of the data element's option set.")),
    # Data value level: constraints.
    _blocking("E7630", N_("DHIS2 requires a category option combo for this value.")),
    _blocking("E7631", N_("DHIS2 requires an attribute option combo for this value.")),
    _blocking("E7632", N_("The period type does not fit the data element.")),
    _blocking("E7633", N_("The data element is not part of the data set.")),
    _blocking(
        "E7634", N_("The category option combo is not in the data element's category combo.")
    ),
    _blocking("E7635", N_("The attribute option combo does not belong to the data set.")),
    _blocking(
        "E7636", N_("The data element is not assigned to the organisation unit by a data set.")
    ),
    _blocking("E7637", N_("The storedBy field is not valid.")),
    _blocking(
        "E7638", N_("The period is outside the dates of the attribute option combo's options.")
    ),
    _blocking("E7639", N_("The organisation unit is not valid for the attribute option combo.")),
    _retriable(
        "E7640",
        N_("The data entry period has expired; an administrator must open it (lock exception)."),
        RetryCondition.LOCK_EXCEPTION,
    ),
    _retriable(
        "E7641",
        N_("The period is in the future and not yet open for data entry."),
        RetryCondition.PERIOD_OPENS,
    ),
    _retriable(
        "E7642",
        N_("The data is already approved; it must be un-approved before any change."),
        RetryCondition.UNAPPROVAL,
    ),
    _retriable(
        "E7643",
        N_("The period is not open for this data set at this time (data input periods)."),
        RetryCondition.PERIOD_OPENS,
    ),
    _retriable(
        "E7644",
        N_("The period is not within the open periods of the data element's data sets."),
        RetryCondition.PERIOD_OPENS,
    ),
    _blocking("E7645", N_("No file resource exists for this file data value.")),
    # Single data value API (/api/dataValues) equivalents.
    _retriable("E2017", N_("The data set is locked."), RetryCondition.LOCK_EXCEPTION),
    _blocking("E2019", N_("The organisation unit is closed for the selected period.")),
    _blocking("E2020", N_("The organisation unit is outside the DHIS2 user's hierarchy.")),
    _blocking("E2021", N_("The data element is not part of the data set.")),
    _retriable(
        "E2022",
        N_("The period is in the future and not yet open for data entry."),
        RetryCondition.PERIOD_OPENS,
    ),
    _blocking("E2023", N_("The period is before the start date of the attribute option.")),
    _blocking("E2024", N_("The period is after the end date of the attribute option.")),
    _retriable(
        "E2025",
        N_("The period is not open for this data set at this time (data input periods)."),
        RetryCondition.PERIOD_OPENS,
    ),
)

CONFLICT_RULES: dict[str, ConflictRule] = {rule.code: rule for rule in _RULES}

_UNKNOWN_CODE = N_("Unknown DHIS2 conflict {code}: {text}")
_NO_CODE = N_("DHIS2 conflict without a code: {text}")

# DHIS2 before 2.37 answers with message text only; these are its fixed wordings.
_LEGACY_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), code)
    for pattern, code in (
        (r"^data set not found or not accessible", "E7600"),
        (r"does not have write access for dataset", "E7601"),
        (r"^data element not found or not accessible", "E7610"),
        (r"^period not valid", "E7611"),
        (r"^(organisation|org) unit not found or not accessible", "E7612"),
        (r"^category option combo not found or not accessible", "E7613"),
        (r"^attribute option combo not found or not accessible", "E7615"),
        (r"not in hierarchy of current user", "E7617"),
        (r"^data value or comment not specified", "E7618"),
        (r"must match data element('s)? (`[^`]*` )?type", "E7619"),
        (r"not a valid option of the data element option set", "E7621"),
        (r"^category option combo is required", "E7630"),
        (r"^attribute option combo is required", "E7631"),
        (r"is not part of dataset", "E7633"),
        (r"current date is past expiry days", "E7640"),
        (r"is after latest open future period", "E7641"),
        (r"^data is already approved", "E7642"),
        (r"is not open for this data set at this time", "E7643"),
        (r"does not conform to the open periods", "E7644"),
    )
)


def infer_code(text: str) -> str | None:
    """The error code a legacy (code-less) DHIS2 conflict message stands for."""
    for pattern, code in _LEGACY_MESSAGES:
        if pattern.search(text):
            return code
    return None


def rule_for(code: str | None, text: str = "") -> ConflictRule:
    """The rule for a conflict; unknown or missing codes are blocking with a clear label."""
    effective = code or infer_code(text)
    if effective is not None and effective in CONFLICT_RULES:
        return CONFLICT_RULES[effective]
    if effective is None:
        return ConflictRule("", ConflictKind.BLOCKING, _NO_CODE)
    return ConflictRule(effective, ConflictKind.BLOCKING, _UNKNOWN_CODE)


def describe(code: str | None, text: str = "") -> Message:
    """A translatable explanation of a conflict for the people fixing it."""
    rule = rule_for(code, text)
    return Message(rule.label, {"code": code or "", "text": text})


def suggested_retry_date(rule: ConflictRule, period_end: date, today: date) -> date | None:
    """Earliest day worth resending a value of a period that ``period_end`` closes.

    Only time-driven conditions have a date: a future period opens at the latest the day
    after it ends. Lock exceptions and un-approval wait for a person, so ``None``.
    """
    if rule.retry is not RetryCondition.PERIOD_OPENS:
        return None
    return max(today + timedelta(days=1), period_end + timedelta(days=1))
