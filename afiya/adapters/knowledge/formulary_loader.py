"""Reads the formulary seed (``afiya/knowledge/formulary/*.yaml``) into a ``Formulary``.

A product line names its ingredients and strengths in one string, as on a label:
``items: "artemether 20 mg + lumefantrine 120 mg"``, ``per: tablet`` (or ``5 mL``).
Ingredient ATC codes come from the file's ``substances`` table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from afiya.adapters.knowledge import schema as s
from afiya.adapters.knowledge.schema import SAFE_LOADER, Invalid
from afiya.domain.prescribing.formulary import Formulary, FormularyProvenance
from afiya.domain.prescribing.model import Ingredient, Product, Strength, is_atc_code
from afiya.domain.shared.errors import Conflict, FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

_ITEM = re.compile(r"^(?P<inn>.+?)\s+(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>[^\s\d]+)$")
_PER = re.compile(r"^(?:(?P<value>\d+(?:\.\d+)?)\s*)?(?P<unit>.+)$")
_PRODUCT_KEYS = ("code", "items", "per", "form", "routes", "atc", "name", "eml", "note")


def ingredient_code(inn: str) -> str:
    """``clavulanic acid`` -> ``clavulanic-acid``: the key allergies and duplicates use."""
    return "-".join(inn.lower().split())


def _strength_per(value: str, path: str) -> tuple[float, str]:
    match = _PER.match(value.strip())
    if match is None:
        raise Invalid(path, N_("Expected a presentation unit such as tablet or 5 mL."))
    return float(match.group("value") or 1), match.group("unit").strip()


def parse_items(
    items: str, per: str, substances: Mapping[str, str | None], path: str
) -> tuple[Ingredient, ...]:
    per_value, per_unit = _strength_per(per, f"{path}.per")
    result = []
    for part in items.split(" + "):
        match = _ITEM.match(part.strip())
        if match is None:
            raise Invalid(f"{path}.items", N_("Cannot read the ingredient {text}."), text=part)
        inn = match.group("inn").strip().lower()
        if inn not in substances:
            raise Invalid(f"{path}.items", N_("Unknown substance {name}."), name=inn)
        result.append(
            Ingredient(
                code=ingredient_code(inn),
                inn=inn,
                atc=substances[inn],
                strength=Strength(
                    float(match.group("value")), match.group("unit"), per_value, per_unit
                ),
            )
        )
    return tuple(result)


def _product(data: Any, path: str, substances: Mapping[str, str | None]) -> Product:
    entry = s.mapping(
        data, path, required=("code", "items", "per", "form", "routes"), optional=_PRODUCT_KEYS
    )
    ingredients = parse_items(
        s.text(entry["items"], f"{path}.items"), str(entry["per"]), substances, path
    )
    atc = s.optional_text(entry, "atc", path)
    if len(ingredients) == 1:
        # One substance, several uses: the product line's code wins (aspirin 100 mg
        # is the antiplatelet B01AC06, not the analgesic N02BA01).
        if atc is None:
            atc = ingredients[0].atc
        else:
            ingredients = (replace(ingredients[0], atc=atc),)
    form = s.text(entry["form"], f"{path}.form")
    name = s.optional_text(entry, "name", path)
    if name is None:
        names = " + ".join(i.inn for i in ingredients)
        strengths = " + ".join(
            f"{i.strength.value:g} {i.strength.unit}" for i in ingredients if i.strength
        )
        per_value, per_unit = _strength_per(str(entry["per"]), f"{path}.per")
        per = ""
        if per_unit.lower() in ("ml", "l"):
            per = f"/{per_unit}" if per_value == 1 else f"/{per_value:g} {per_unit}"
        name = f"{names[:1].upper()}{names[1:]} {strengths}{per} {form}"
    return Product(
        code=s.text(entry["code"], f"{path}.code"),
        name=name,
        ingredients=ingredients,
        form=form,
        routes=s.text_list(entry["routes"], f"{path}.routes"),
        atc=atc,
    )


def load_formulary(path: Path) -> Formulary:
    """Load one formulary file.

    Raises:
        ValidationFailed: every invalid entry, with its path in the file.
    """
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506
    name = path.name
    problems: list[FieldError] = []
    try:
        doc = s.mapping(raw, name, required=("provenance", "substances", "products"))
        prov = s.mapping(
            doc["provenance"],
            f"{name}.provenance",
            required=("source", "edition", "licence"),
            optional=("notes", "atc_source"),
        )
        subs_raw = s.mapping(doc["substances"], f"{name}.substances", optional=doc["substances"])
    except Invalid as exc:
        raise ValidationFailed([FieldError(exc.path, exc.message)]) from exc
    substances: dict[str, str | None] = {}
    for inn, atc in subs_raw.items():
        if atc is not None and not is_atc_code(str(atc)):
            problems.append(
                FieldError(
                    f"{name}.substances.{inn}",
                    Message(N_("{code} is not a valid ATC code."), {"code": str(atc)}),
                )
            )
        substances[str(inn).lower()] = None if atc is None else str(atc)
    products = []
    entries = doc["products"] if isinstance(doc["products"], list) else []
    for n, entry in enumerate(entries):
        try:
            products.append(_product(entry, f"{name}.products.{n}", substances))
        except Invalid as exc:
            problems.append(FieldError(exc.path, exc.message))
        except ValidationFailed as exc:
            problems.extend(
                FieldError(f"{name}.products.{n}.{e.field}", e.message) for e in exc.errors
            )
    if problems:
        raise ValidationFailed(problems)
    provenance = FormularyProvenance(
        source=s.text(prov["source"], "source"),
        edition=s.text(prov["edition"], "edition"),
        licence=s.text(prov["licence"], "licence"),
        notes=str(prov.get("notes") or ""),
    )
    try:
        return Formulary(products, provenance)
    except Conflict as exc:
        raise ValidationFailed([FieldError(f"{name}.products", exc.message)]) from exc
