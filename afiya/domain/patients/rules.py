"""Data-quality rules for patient identity, as code.

Each ``check_*`` function returns the :class:`FieldError` list for one field (empty when
the value is fine), so a use case can gather every problem of a form at once and raise
:class:`~afiya.domain.shared.errors.ValidationFailed`. ``normalize_*`` functions return
the canonical value, or None when the input cannot be read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Literal

from afiya.domain.patients.matching import PersonTraits, Sex
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message

MAX_AGE_YEARS = 120
"""Oldest plausible age at registration."""

Country = Literal["MR", "ML", "NE", "SN"]


@dataclass(frozen=True, slots=True)
class PhonePlan:
    """A country's numbering plan, as far as registration needs it."""

    country: Country
    calling_code: str
    national_digits: int
    leading_digits: str = "0123456789"


PHONE_PLANS: Mapping[Country, PhonePlan] = MappingProxyType(
    {
        # Mauritania: 8 digits; mobile operators start with 2 (Chinguitel), 3 (Mattel),
        # 4 (Mauritel, also the fixed lines).
        "MR": PhonePlan("MR", "222", 8, "234"),
        "ML": PhonePlan("ML", "223", 8),
        "NE": PhonePlan("NE", "227", 8),
        "SN": PhonePlan("SN", "221", 9),
    }
)
_PLAN_BY_CODE = {plan.calling_code: plan for plan in PHONE_PLANS.values()}
_PHONE_SEPARATORS = re.compile(r"[\s.\-/()\u00a0\u202f]")


def _error(field: str, code: str, msgid: str, /, **params: object) -> FieldError:
    return FieldError(field, Message(msgid, params), code)


def _age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_birth_date(
    birth_date: date | None, *, today: date, field: str = "birth_date"
) -> list[FieldError]:
    """A date of birth is not in the future and gives an age of at most 120 years."""
    if birth_date is None:
        return []
    if birth_date > today:
        return [_error(field, "in_future", N_("The date of birth cannot be in the future."))]
    if _age_on(birth_date, today) > MAX_AGE_YEARS:
        msgid = N_("The date of birth gives an age over {max_age} years.")
        return [_error(field, "implausible_age", msgid, max_age=MAX_AGE_YEARS)]
    return []


def check_estimated_birth_year(
    year: int | None, *, today: date, field: str = "birth_year"
) -> list[FieldError]:
    """An (estimated) birth year lies between 120 years ago and this year."""
    if year is None:
        return []
    if year > today.year:
        return [_error(field, "in_future", N_("The birth year cannot be in the future."))]
    if today.year - year > MAX_AGE_YEARS:
        msgid = N_("The birth year gives an age over {max_age} years.")
        return [_error(field, "implausible_age", msgid, max_age=MAX_AGE_YEARS)]
    return []


def _parse_phone(raw: str, default_country: Country) -> tuple[str | None, FieldError | None]:
    field = "phone"
    text = _PHONE_SEPARATORS.sub("", raw.strip())
    international = text.startswith(("+", "00"))
    digits = text[1:] if text.startswith("+") else text[2:] if international else text
    if not digits.isdigit() or not digits.isascii():
        msgid = N_("A phone number may only contain digits, spaces and a leading +.")
        return None, _error(field, "invalid_characters", msgid)
    home = PHONE_PLANS[default_country]
    if not international:
        if len(digits) == home.national_digits:
            digits = home.calling_code + digits
        elif not (
            digits.startswith(home.calling_code)
            and len(digits) == len(home.calling_code) + home.national_digits
        ):
            msgid = N_("A local phone number in this country has {digits} digits.")
            return None, _error(field, "invalid_length", msgid, digits=home.national_digits)
    plan = _PLAN_BY_CODE.get(digits[:3])
    if plan is None:
        # A relative abroad: only the generic E.164 shape can be checked.
        if digits[0] == "0" or not 8 <= len(digits) <= 15:
            msgid = N_("This is not a valid international phone number.")
            return None, _error(field, "invalid_format", msgid)
        return "+" + digits, None
    national = digits[3:]
    if len(national) != plan.national_digits:
        msgid = N_("Phone numbers with country code +{code} have {digits} digits after it.")
        params = {"code": plan.calling_code, "digits": plan.national_digits}
        return None, _error(field, "invalid_length", msgid, **params)
    if national[0] not in plan.leading_digits:
        msgid = N_("Phone numbers with country code +{code} start with {allowed}.")
        allowed = ", ".join(plan.leading_digits)
        return None, _error(field, "invalid_prefix", msgid, code=plan.calling_code, allowed=allowed)
    return "+" + digits, None


def normalize_phone(raw: str, *, default_country: Country = "MR") -> str | None:
    """A phone number in E.164 form (``+22236123456``), or None when it is not valid.

    Local numbers ("36 12 34 56", "36.12.34.56") take ``default_country``'s calling code;
    "+222...", "00222..." and "222..." are international. Numbers of Mauritania (8 digits
    starting 2, 3 or 4), Mali and Niger (8 digits) and Senegal (9 digits) are checked
    against their plan; other countries only against the E.164 shape.
    """
    number, _ = _parse_phone(raw, default_country)
    return number


def check_phone(
    raw: str | None, *, default_country: Country = "MR", field: str = "phone"
) -> list[FieldError]:
    """The errors of a phone number as typed (see :func:`normalize_phone`)."""
    if raw is None or not raw.strip():
        return []
    _, error = _parse_phone(raw, default_country)
    return [] if error is None else [FieldError(field, error.message, error.code)]


def _digits_only(raw: str) -> str:
    return _PHONE_SEPARATORS.sub("", raw.strip())


def normalize_nni(raw: str) -> str | None:
    """The Mauritanian national identification number: 10 digits, separators removed."""
    digits = _digits_only(raw)
    return digits if len(digits) == 10 and digits.isdigit() and digits.isascii() else None


def check_nni(raw: str | None, *, field: str = "nni") -> list[FieldError]:
    """A Mauritanian NNI has exactly 10 digits."""
    if raw is None or not raw.strip() or normalize_nni(raw) is not None:
        return []
    return [_error(field, "invalid_format", N_("The NNI has exactly 10 digits."))]


def check_nss(raw: str | None, *, field: str = "nss") -> list[FieldError]:
    """A social-security number (CNAM, INPS, CNSS...) has 6 to 15 digits."""
    if raw is None or not raw.strip():
        return []
    digits = _digits_only(raw)
    if digits.isdigit() and digits.isascii() and 6 <= len(digits) <= 15:
        return []
    msgid = N_("The social security number has {min} to {max} digits.")
    return [_error(field, "invalid_format", msgid, min=6, max=15)]


_SEX_ALIASES: Mapping[str, Sex] = {
    **dict.fromkeys(("female", "f", "femme", "feminin", "woman", "fille", "أنثى"), "female"),
    **dict.fromkeys(("male", "m", "h", "homme", "masculin", "man", "garcon", "ذكر"), "male"),
    **dict.fromkeys(("other", "autre", "آخر", "اخر"), "other"),
    **dict.fromkeys(("unknown", "u", "inconnu", "?", "غير معروف"), "unknown"),
}  # fmt: skip


def normalize_sex(raw: str) -> Sex | None:
    """``female``, ``male``, ``other`` or ``unknown`` from codes and words in fr, ar, en."""
    folded = unicodedata.normalize("NFKD", raw.strip().casefold())
    key = "".join(c for c in folded if not unicodedata.combining(c) or "\u0600" <= c <= "\u06ff")
    return _SEX_ALIASES.get(unicodedata.normalize("NFC", key))


def check_sex(raw: str | None, *, field: str = "sex") -> list[FieldError]:
    """Sex is one of female, male, other, unknown (or a recognised word for them)."""
    if raw is None or normalize_sex(raw) is not None:
        return []
    msgid = N_("Sex must be female, male, other or unknown.")
    return [_error(field, "invalid_choice", msgid)]


# Points per field, out of 100: what identity-vigilance needs most to find duplicates.
COMPLETENESS_POINTS: Mapping[str, int] = MappingProxyType(
    {
        "given_names": 20,
        "family_name": 20,
        "sex": 10,
        "birth_date": 20,
        "phone": 10,
        "national_id": 10,
        "region": 5,
        "district": 5,
    }
)
_YEAR_ONLY_POINTS = 12
_ESTIMATED_YEAR_POINTS = 8


def completeness_score(traits: PersonTraits) -> tuple[int, tuple[str, ...]]:
    """How complete an identity is, from 0 to 100, and which fields are missing.

    A full date of birth earns 20 points, a declared year alone 12 and an estimated year
    8 (the date is then still listed as missing). ``unknown`` sex counts as missing.

    Returns:
        The score and the missing field names, in :data:`COMPLETENESS_POINTS` order.
    """
    present = {
        "given_names": bool(traits.given_names.strip()),
        "family_name": bool(traits.family_name.strip()),
        "sex": traits.sex in ("female", "male", "other"),
        "birth_date": traits.birth_date is not None and not traits.birth_year_estimated,
        "phone": bool(traits.phone_key),
        "national_id": bool(traits.national_id_key),
        "region": bool(traits.region and traits.region.strip()),
        "district": bool(traits.district and traits.district.strip()),
    }
    score = sum(COMPLETENESS_POINTS[name] for name, ok in present.items() if ok)
    if not present["birth_date"] and (traits.birth_date or traits.birth_year is not None):
        score += _ESTIMATED_YEAR_POINTS if traits.birth_year_estimated else _YEAR_ONLY_POINTS
    missing = tuple(name for name in COMPLETENESS_POINTS if not present[name])
    return score, missing
