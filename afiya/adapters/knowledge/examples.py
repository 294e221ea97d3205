"""The compact test-case language of the knowledge base (``test_cases`` of a rule).

```yaml
- expect: fires            # or silent
  severity: contraindicated  # optional, for fires
  order: glucose-10-inf    # a formulary code, or {product|atc, route, dose, unit, per_day}
  patient:
    age: 60y               # 60y, 18m, 3w, 10d
    weight: 70
    conditions: [E11.9]
    labs: [{analyte: glucose, value: 2.8, unit: mmol/L, hours_ago: 1}]
    medications: [warfarin-5-tab, {atc: C03DA01}]
    allergies: [{substance: J01C, kind: atc_class, verification: confirmed}]
```
Examples are evaluated at a fixed time, ``EXAMPLE_TIME``, so they never age.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from afiya.adapters.knowledge import schema as s
from afiya.adapters.knowledge.schema import Invalid
from afiya.domain.prescribing.formulary import Formulary
from afiya.domain.prescribing.model import (
    DAYS_PER_YEAR,
    Age,
    AllergyFact,
    ConditionFact,
    Ingredient,
    LabFact,
    MedicationFact,
    MedicationOrderDraft,
    PatientContext,
    Product,
)
from afiya.domain.prescribing.safety.alerts import Severity
from afiya.domain.prescribing.safety.rules import Analyte, RuleExample
from afiya.domain.shared.errors import ValidationFailed
from afiya.domain.shared.i18n import N_

EXAMPLE_TIME = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([ymwd])\s*$")
_AGE_DAYS = {"y": DAYS_PER_YEAR, "m": DAYS_PER_YEAR / 12, "w": 7.0, "d": 1.0}
_PATIENT_KEYS = (
    "age",
    "weight",
    "height",
    "sex",
    "pregnant",
    "pregnant_weeks",
    "breastfeeding",
    "conditions",
    "allergies",
    "medications",
    "labs",
)


class ExampleParser:
    """Builds ``RuleExample`` values; products come from the formulary or inline ATC."""

    def __init__(self, formulary: Formulary, analytes: Mapping[str, Analyte]) -> None:
        self.formulary = formulary
        self.analytes = analytes

    def __call__(self, value: Any, path: str) -> RuleExample:
        data = s.mapping(
            value, path, required=("expect", "order"), optional=("severity", "patient", "note")
        )
        expect = s.choice(data["expect"], f"{path}.expect", ("fires", "silent"))
        severity = None
        if data.get("severity") is not None:
            severity = Severity(
                s.choice(data["severity"], f"{path}.severity", [x.value for x in Severity])
            )
        try:
            order = self._order(data["order"], f"{path}.order")
            context = self._patient(data.get("patient") or {}, f"{path}.patient")
        except ValidationFailed as exc:  # a domain value refused the example's data
            first = exc.errors[0]
            raise Invalid(
                f"{path}.{first.field}", first.message.msgid, **first.message.params
            ) from exc
        return RuleExample(
            expect=cast(Literal["fires", "silent"], expect),
            order=order,
            context=context,
            severity=severity,
            note=str(data.get("note") or ""),
        )

    def _product(self, value: Any, path: str) -> tuple[Product, str | None]:
        if isinstance(value, str):
            value = {"product": value}
        data = s.mapping(
            value,
            path,
            optional=(
                "product",
                "atc",
                "name",
                "route",
                "dose",
                "unit",
                "per_day",
                "duration_days",
                "as_needed",
            ),
        )
        route = s.optional_text(data, "route", path)
        if "product" in data:
            code = s.text(data["product"], f"{path}.product")
            product = self.formulary.find(code)
            if product is None:
                raise Invalid(f"{path}.product", N_("Unknown product {code}."), code=code)
            return product, route
        if "atc" not in data:
            raise Invalid(path, N_("Give a product code or an ATC code."))
        atc = s.text(data["atc"], f"{path}.atc")
        name = s.optional_text(data, "name", path) or atc
        ingredient = Ingredient(code=name.lower(), inn=name, atc=atc)
        product = Product(
            code=f"example:{atc}",
            name=name,
            ingredients=(ingredient,),
            form="unspecified",
            routes=(route or "oral",),
        )
        return product, route

    def _order(self, value: Any, path: str) -> MedicationOrderDraft:
        product, route = self._product(value, path)
        data: Mapping[str, Any] = value if isinstance(value, Mapping) else {}
        return MedicationOrderDraft(
            product=product,
            route=route,
            dose=s.optional_number(data, "dose", path),
            dose_unit=s.optional_text(data, "unit", path),
            frequency_per_day=s.optional_number(data, "per_day", path),
            duration_days=s.optional_number(data, "duration_days", path),
            as_needed=s.boolean(data.get("as_needed", False), f"{path}.as_needed"),
        )

    def _patient(self, value: Any, path: str) -> PatientContext:
        data = s.mapping(value, path, optional=_PATIENT_KEYS)
        age = None
        if data.get("age") is not None:
            match = _AGE.match(str(data["age"]))
            if match is None:
                raise Invalid(f"{path}.age", N_("Write an age as 60y, 18m, 3w or 10d."))
            age = Age(int(float(match.group(1)) * _AGE_DAYS[match.group(2)]))
        weeks = data.get("pregnant_weeks")
        pregnant = weeks is not None or s.boolean(data.get("pregnant", False), f"{path}.pregnant")
        sex = s.choice(
            data.get("sex", "female" if pregnant else "unknown"),
            f"{path}.sex",
            ("female", "male", "other", "unknown"),
        )
        return PatientContext(
            as_of=EXAMPLE_TIME,
            age=age,
            weight_kg=s.optional_number(data, "weight", path),
            height_cm=s.optional_number(data, "height", path),
            sex=cast(Literal["female", "male", "other", "unknown"], sex),
            pregnant=pregnant,
            gestational_weeks=s.integer(weeks, f"{path}.pregnant_weeks")
            if weeks is not None
            else None,
            breastfeeding=s.boolean(data.get("breastfeeding", False), f"{path}.breastfeeding"),
            conditions=tuple(
                self._condition(v, p)
                for p, v in s.items(data.get("conditions", []), f"{path}.conditions")
            ),
            allergies=tuple(
                self._allergy(v, p)
                for p, v in s.items(data.get("allergies", []), f"{path}.allergies")
            ),
            medications=tuple(
                self._medication(v, p)
                for p, v in s.items(data.get("medications", []), f"{path}.medications")
            ),
            labs=tuple(self._lab(v, p) for p, v in s.items(data.get("labs", []), f"{path}.labs")),
        )

    def _condition(self, value: Any, path: str) -> ConditionFact:
        if isinstance(value, str):
            return ConditionFact(code=value)
        data = s.mapping(value, path, required=("code",), optional=("status", "verification"))
        return ConditionFact(
            code=s.text(data["code"], f"{path}.code"),
            clinical_status=data.get("status", "active"),
            verification=data.get("verification", "confirmed"),
        )

    def _allergy(self, value: Any, path: str) -> AllergyFact:
        data = s.mapping(
            value,
            path,
            required=("substance",),
            optional=("kind", "verification", "criticality", "reaction"),
        )
        return AllergyFact(
            substance_code=s.text(data["substance"], f"{path}.substance"),
            substance_kind=data.get("kind", "ingredient"),
            verification=data.get("verification", "unconfirmed"),
            criticality=data.get("criticality"),
            reaction=data.get("reaction"),
        )

    def _medication(self, value: Any, path: str) -> MedicationFact:
        product, route = self._product(value, path)
        return MedicationFact(product=product, route=route)

    def _lab(self, value: Any, path: str) -> LabFact:
        data = s.mapping(
            value, path, required=("value", "unit"), optional=("analyte", "loinc", "hours_ago")
        )
        loinc = s.optional_text(data, "loinc", path)
        if loinc is None:
            name = s.text(data.get("analyte"), f"{path}.analyte")
            if name not in self.analytes:
                raise Invalid(f"{path}.analyte", N_("Unknown analyte {name}."), name=name)
            loinc = self.analytes[name].loinc[0]
        hours = s.optional_number(data, "hours_ago", path) or 1.0
        return LabFact(
            loinc=loinc,
            value=s.number(data["value"], f"{path}.value"),
            unit=s.text(data["unit"], f"{path}.unit"),
            at=EXAMPLE_TIME - timedelta(hours=hours),
        )
