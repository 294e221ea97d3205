"""ICD-10 (WHO edition) codes: the catalogue port and the code rules that need no catalogue.

Afiya codes diagnoses and causes of death with the WHO's ICD-10 (not the US ICD-10-CM:
the countries served report to the WHO and to DHIS2 with the international edition).
Only categories (``E11``) and subcategories (``E11.9``) may be recorded; chapters and
blocks (``E10-E14``) are headings, not diagnoses.
"""

from __future__ import annotations

import re
from typing import Protocol

from afiya.domain.clinical.common import field_error
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_

_SHAPE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,2})?$")
_SEPARATORS = re.compile(r"[\s\u00a0]")


class Icd10Catalogue(Protocol):
    """The ICD-10 code list that ships with the project."""

    def is_valid(self, code: str) -> bool:
        """True when ``code`` (normalised) is a category or subcategory of the edition."""
        ...

    def label(self, code: str, language: str) -> str:
        """The title of ``code`` in ``language`` (``fr``, ``ar``, ``en``).

        A catalogue without titles in ``language`` returns the English title: the caller
        checks :meth:`has_labels` to say so to the reader.
        """
        ...

    def has_labels(self, language: str) -> bool:
        """True when the catalogue holds its own titles in ``language``."""
        ...


def normalize_code(raw: str) -> str | None:
    """The canonical form of an ICD-10 code (``e119`` → ``E11.9``), or None if unreadable.

    Clerks type codes without the dot, in lower case, with spaces, or with a trailing
    dagger/asterisk from the dagger-asterisk system; all are accepted.
    """
    code = _SEPARATORS.sub("", raw).upper().rstrip("*†+")
    if len(code) > 3 and "." not in code:
        code = f"{code[:3]}.{code[3:]}"
    if code.endswith("."):
        code = code[:-1]
    return code if _SHAPE.match(code) else None


def check_code(
    field: str, raw: str, catalogue: Icd10Catalogue
) -> tuple[str | None, list[FieldError]]:
    """Validate an ICD-10 code typed by a user.

    Returns:
        The normalised code and no error, or None and the field error to show.
    """
    code = normalize_code(raw)
    if code is None:
        return None, [
            field_error(
                field,
                "icd10_malformed",
                N_(
                    "{code} is not written like an ICD-10 code (a letter, two digits, "
                    "then optionally a dot and one or two characters, e.g. E11.9)."
                ),
                code=raw,
            )
        ]
    if not catalogue.is_valid(code):
        return None, [
            field_error(
                field,
                "icd10_unknown",
                N_("{code} is not a code of the WHO ICD-10 (2019 edition)."),
                code=code,
            )
        ]
    return code, []


def code_in(code: str, *ranges: str) -> bool:
    """True when ``code`` falls in one of ``ranges`` (``"E10-E14"``, ``"D57"``, ``"O"``).

    A range bound of three characters covers its subcategories: ``E14.9`` is in ``E10-E14``.
    """
    for span in ranges:
        low, _, high = span.partition("-")
        high = high or low
        if low <= code[: len(low)] and code[: len(high)] <= high:
            return True
    return False
