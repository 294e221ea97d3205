"""The formulary: the products a facility can prescribe and dispense."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from afiya.domain.prescribing.model import Product
from afiya.domain.shared.errors import Conflict, NotFound
from afiya.domain.shared.i18n import N_, Message


@dataclass(frozen=True, slots=True)
class FormularyProvenance:
    """Where a formulary seed comes from, kept with the data for audit."""

    source: str
    edition: str
    licence: str
    notes: str = ""


def _fold(text: str) -> str:
    """Case- and accent-insensitive form, so ``cefalexine`` finds ``Céfalexine``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class Formulary:
    """Products by code, with look-ups by ATC prefix, ingredient and name."""

    def __init__(self, products: Iterable[Product], provenance: FormularyProvenance) -> None:
        self.provenance = provenance
        self._by_code: dict[str, Product] = {}
        for product in products:
            if product.code in self._by_code:
                raise Conflict(
                    Message(N_("Duplicate product code {code}."), {"code": product.code})
                )
            self._by_code[product.code] = product
        self._substances = self._index_substances()

    def _index_substances(self) -> dict[str, frozenset[str]]:
        """ATC codes that stand for each ingredient code.

        An ingredient without its own ATC code (lumefantrine, sulfadoxine) is known
        only through the combination products that contain it; those codes let an
        allergy to it meet the class rules (sulfadoxine is a sulfonamide via P01BD51).
        """
        own: dict[str, set[str]] = {}
        via_products: dict[str, set[str]] = {}
        for product in self._by_code.values():
            for ing in product.ingredients:
                if ing.atc:
                    own.setdefault(ing.code, set()).add(ing.atc)
                elif product.atc:
                    via_products.setdefault(ing.code, set()).add(product.atc)
        index = {code: frozenset(codes) for code, codes in via_products.items()}
        index.update({code: frozenset(codes) for code, codes in own.items()})
        return index

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Product]:
        return iter(self._by_code.values())

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def find(self, code: str) -> Product | None:
        return self._by_code.get(code)

    def get(self, code: str) -> Product:
        """The product with this code.

        Raises:
            NotFound: no product has this code.
        """
        product = self._by_code.get(code)
        if product is None:
            raise NotFound(Message(N_("Unknown product {code}."), {"code": code}))
        return product

    def by_atc(self, prefix: str) -> list[Product]:
        """Products with an ATC code (own or of an ingredient) starting with ``prefix``."""
        return [
            p for p in self._by_code.values() if any(c.startswith(prefix) for c in p.atc_codes())
        ]

    def search(self, text: str) -> list[Product]:
        """Products whose name, code or ingredient INN contains ``text``."""
        needle = _fold(text.strip())
        if not needle:
            return []
        found = []
        for product in self._by_code.values():
            haystack = " ".join([product.name, product.code, *(i.inn for i in product.ingredients)])
            if needle in _fold(haystack):
                found.append(product)
        return sorted(found, key=lambda p: p.name)

    def substance_atc_codes(self) -> dict[str, frozenset[str]]:
        """Ingredient code to the ATC codes that stand for it (see ``_index_substances``)."""
        return dict(self._substances)
