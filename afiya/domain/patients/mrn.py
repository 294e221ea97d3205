"""Medical record numbers (MRN) that a facility issues offline without collisions.

An MRN reads ``NKC-000123-7``: the issuing site's prefix, that site's own sequence number,
and a check character. Each issuing node (a facility, or each offline registration desk
of it) owns a prefix assigned once by the central registry and counts on its own, so two
nodes never produce the same number even when neither can reach the other.

The check character is Luhn mod N over Crockford's base-32 alphabet (no I, L, O, U). It
catches every single mistyped character and every swap of two adjacent characters except
0 <-> Z; an O, I or L typed for a digit is read back as 0, 1, 1. Storing and incrementing
the sequence is the repository's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base 32: digits and letters without I, L, O and U."""

_VALUE = {char: value for value, char in enumerate(ALPHABET)}
_N = len(ALPHABET)
_SITE_LETTERS = "ABCDEFGHJKMNPQRSTVWXYZ"
_SITE = re.compile(f"[{_SITE_LETTERS}]{{2,5}}")
_COMPACT = re.compile(f"([{_SITE_LETTERS}]{{2,5}})([0-9OIL]+)([0-9A-Z])")
_SEPARATORS = re.compile(r"[\s\-_./]")
_READ_AS_DIGIT = str.maketrans({"O": "0", "I": "1", "L": "1"})
DEFAULT_WIDTH = 6


@dataclass(frozen=True, slots=True)
class Mrn:
    """A parsed medical record number."""

    site: str
    sequence: int
    check: str
    width: int = DEFAULT_WIDTH

    def __str__(self) -> str:
        return f"{self.site}-{self.sequence:0{self.width}d}-{self.check}"


def _luhn_sum(payload: str, *, double_first: bool) -> int:
    total = 0
    double = double_first
    for char in reversed(payload):
        addend = _VALUE[char] * (2 if double else 1)
        total += addend // _N + addend % _N
        double = not double
    return total


def check_character(payload: str) -> str:
    """The Luhn mod 32 check character of ``payload`` (uppercase, Crockford alphabet).

    Raises:
        ValueError: ``payload`` is empty or has a character outside the alphabet.
    """
    if not payload or any(char not in _VALUE for char in payload):
        raise ValueError(f"not a base-32 payload: {payload!r}")
    return ALPHABET[(_N - _luhn_sum(payload, double_first=True) % _N) % _N]


def _site_error(site: str, field: str) -> FieldError | None:
    if _SITE.fullmatch(site):
        return None
    msgid = N_("A site prefix has 2 to 5 letters, without I, L, O or U.")
    return FieldError(field, Message(msgid), "invalid_site_prefix")


def check_site_prefix(site: str, *, field: str = "site_prefix") -> list[FieldError]:
    """A site prefix is 2 to 5 capital letters of the alphabet (so it never reads as digits)."""
    error = _site_error(site, field)
    return [] if error is None else [error]


def format_mrn(site: str, sequence: int, *, width: int = DEFAULT_WIDTH) -> str:
    """The MRN of the ``sequence``-th patient registered at ``site``.

    Args:
        site: the issuing node's prefix, e.g. ``"NKC"``.
        sequence: that node's counter, from 1.
        width: digits the sequence is zero-padded to (longer numbers keep all digits).

    Raises:
        ValidationFailed: the prefix is malformed or the sequence is not positive.
    """
    errors = check_site_prefix(site)
    if sequence < 1:
        msgid = N_("The sequence number must be positive.")
        errors.append(FieldError("sequence", Message(msgid), "invalid_sequence"))
    if errors:
        raise ValidationFailed(errors)
    digits = f"{sequence:0{width}d}"
    return f"{site}-{digits}-{check_character(site + digits)}"


def _parse(text: str, field: str) -> Mrn | FieldError:
    compact = _SEPARATORS.sub("", text.strip().upper())
    match = _COMPACT.fullmatch(compact)
    if match is None:
        msgid = N_("Enter a record number like {example}.")
        return FieldError(field, Message(msgid, {"example": "NKC-000123-7"}), "invalid_format")
    site, digits, check = match.groups()
    digits, check = digits.translate(_READ_AS_DIGIT), check.translate(_READ_AS_DIGIT)
    if check not in _VALUE or _luhn_sum(site + digits + check, double_first=False) % _N:
        msgid = N_("The record number's check character does not match: it was probably mistyped.")
        return FieldError(field, Message(msgid), "invalid_check")
    if int(digits) < 1:
        msgid = N_("The sequence number must be positive.")
        return FieldError(field, Message(msgid), "invalid_sequence")
    return Mrn(site, int(digits), check, width=len(digits))


def parse_mrn(text: str, *, field: str = "mrn") -> Mrn:
    """Read an MRN as typed or scanned (any case, with or without hyphens).

    Raises:
        ValidationFailed: malformed, or the check character does not match.
    """
    result = _parse(text, field)
    if isinstance(result, FieldError):
        raise ValidationFailed([result])
    return result


def check_mrn(text: str | None, *, field: str = "mrn") -> list[FieldError]:
    """The errors of an MRN as typed; empty when it is valid or absent."""
    if text is None or not text.strip():
        return []
    result = _parse(text, field)
    return [result] if isinstance(result, FieldError) else []


def is_valid_mrn(text: str) -> bool:
    """True when ``text`` is a well-formed MRN whose check character matches."""
    return isinstance(_parse(text, "mrn"), Mrn)


def site_prefix_candidates(code: str | None, uid: str) -> list[str]:
    """Prefixes to try for a new issuing site, most readable first.

    The facility code's letters that the alphabet allows (``CH-TZ`` → ``CHTZ``), then
    the same with a last letter varied, then letters derived from the DHIS2 uid. The
    repository takes the first one no other site holds.
    """
    letters = "".join(c for c in (code or "").upper() if c in _SITE_LETTERS)[:5]
    from_uid = "".join(_SITE_LETTERS[ord(c) % len(_SITE_LETTERS)] for c in uid)[:5]
    found: list[str] = []
    for base in (letters, from_uid):
        if len(base) < 2:
            continue
        found.append(base)
        stem = base[:4] if len(base) == 5 else base
        found.extend(stem + extra for extra in _SITE_LETTERS if stem + extra != base)
    return list(dict.fromkeys(found))
