"""Mapping FHIR Condition and AllergyIntolerance INTO the clinical record's commands
(encounter diagnoses, the problem list, allergies and the "no known allergies"
statement). Pure, like :mod:`afiya.adapters.fhir.clinical_in`, whose helpers it shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from afiya.adapters.fhir import clinical as maps
from afiya.adapters.fhir.clinical_in import (
    code_of,
    codings,
    day,
    moment,
    other_codings,
    patient_of,
    refuse,
    status_code,
    unkept,
    uuid_ref,
    words,
)
from afiya.domain.clinical.allergies import (
    AllergyCategory,
    AllergyType,
    Criticality,
    Reaction,
    Severity,
    Substance,
    SubstanceSystem,
    Verification,
)
from afiya.domain.clinical.diagnoses import Certainty
from afiya.domain.shared.i18n import N_

# -- Condition --------------------------------------------------------------------------

_CERTAINTY = {"confirmed": Certainty.CONFIRMED, "provisional": Certainty.PROVISIONAL}
_CONDITION_KEPT = (
    "clinicalStatus", "verificationStatus", "category", "code", "subject", "encounter",
    "onsetDateTime", "note",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ConditionIn:
    patient_id: UUID
    encounter_id: UUID | None
    diagnosis: bool  # an encounter diagnosis; else a problem-list entry
    code: str  # ICD-10
    certainty: Certainty
    onset: date | None
    note: str | None
    not_stored: list[str] = field(default_factory=list)


def condition_in(resource: Mapping[str, Any]) -> ConditionIn:
    """An encounter diagnosis or a problem, coded ICD-10 (the codes the record, its
    statistics and DHIS2 reports use): a condition without an ICD-10 coding is refused."""
    c = "Condition"
    found = code_of(resource.get("code"), maps.ICD10)
    if found is None:
        raise refuse(
            f"{c}.code",
            N_(
                "Afiya codes conditions in ICD-10 (http://hl7.org/fhir/sid/icd-10): "
                "add the ICD-10 coding."
            ),
        )
    index, coding = found
    not_stored = unkept(resource, c, _CONDITION_KEPT)
    not_stored += other_codings(resource.get("code"), index, f"{c}.code")
    if (resource.get("code") or {}).get("text"):
        not_stored.append(f"{c}.code.text")
    kinds: set[str] = set()
    for i, concept in enumerate(resource.get("category") or []):
        for j, cat in enumerate(codings(concept)):
            if cat.get("system") == maps.CONDITION_CATEGORY:
                kinds.add(str(cat.get("code")))
            else:
                not_stored.append(f"{c}.category[{i}].coding[{j}]")
    encounter_id = uuid_ref(resource.get("encounter"), "Encounter", f"{c}.encounter")
    # one category decides; none (or both): an encounter given makes it a diagnosis
    diagnosis = kinds == {"encounter-diagnosis"} if len(kinds) == 1 else encounter_id is not None
    verification = status_code(resource.get("verificationStatus")) or "confirmed"
    certainty = _CERTAINTY.get(verification)
    if certainty is None or (not diagnosis and certainty is not Certainty.CONFIRMED):
        raise refuse(
            f"{c}.verificationStatus",
            N_("Afiya records confirmed conditions, and provisional encounter diagnoses."),
        )
    clinical = status_code(resource.get("clinicalStatus"))
    if diagnosis and clinical is not None:
        not_stored.append(f"{c}.clinicalStatus")
    elif clinical not in (None, "active"):
        raise refuse(
            f"{c}.clinicalStatus",
            N_("A problem is added active; resolve it through /api/v1."),
        )
    onset = None
    if resource.get("onsetDateTime"):
        if diagnosis:
            not_stored.append(f"{c}.onsetDateTime")
        else:
            onset = day(resource["onsetDateTime"], f"{c}.onsetDateTime")
    notes = resource.get("note") or []
    note = notes[0].get("text") if notes and diagnosis else None
    not_stored += [f"{c}.note[{i}]" for i in range(1 if diagnosis else 0, len(notes))]
    return ConditionIn(
        patient_id=patient_of(resource, c),
        encounter_id=encounter_id,
        diagnosis=diagnosis,
        code=str(coding["code"]),
        certainty=certainty,
        onset=onset,
        note=note,
        not_stored=not_stored,
    )


CONDITION_PATHS = {
    "code": "Condition.code",
    "certainty": "Condition.verificationStatus",
    "encounter_id": "Condition.encounter",
    "onset": "Condition.onsetDateTime",
    "rank": "Condition.encounter",
}


# -- AllergyIntolerance -----------------------------------------------------------------

_NARROW_STATEMENTS = {"409137002", "429625007", "428607008", "716184000", "428197003"}
"""SNOMED CT "no known drug / food / environmental / latex / insect allergy"."""
_ALLERGY_KEPT = (
    "clinicalStatus", "verificationStatus", "type", "category", "criticality", "code",
    "patient", "recordedDate", "reaction",
)  # fmt: skip
_VERIFICATION = {"confirmed": Verification.CONFIRMED, "unconfirmed": Verification.UNCONFIRMED}


@dataclass(frozen=True, slots=True)
class AllergyIn:
    patient_id: UUID
    no_known_allergies: bool
    type: AllergyType = AllergyType.ALLERGY
    category: AllergyCategory = AllergyCategory.MEDICATION
    substance: Substance | None = None
    criticality: Criticality = Criticality.UNABLE_TO_ASSESS
    verification: Verification = Verification.CONFIRMED
    reactions: tuple[Reaction, ...] = ()
    recorded_at: datetime | None = None
    not_stored: list[str] = field(default_factory=list)


def _substance(concept: Any, not_stored: list[str]) -> Substance:
    a = "AllergyIntolerance.code"
    for system, kind in (
        (maps.INN_SYSTEM, SubstanceSystem.INGREDIENT),
        (maps.ATC, SubstanceSystem.DRUG_CLASS),
    ):
        found = code_of(concept, system)
        if found is not None:
            index, coding = found
            not_stored += other_codings(concept, index, a)
            display = words(concept) or str(coding["code"])
            return Substance(kind, str(coding["code"]), display)
    found_codings = codings(concept)
    text = words(concept)
    if found_codings and found_codings[0].get("system") and found_codings[0].get("code"):
        first = found_codings[0]
        not_stored += other_codings(concept, 0, a)
        token = f"{first['system']}|{first['code']}"
        return Substance(SubstanceSystem.OTHER, token, text or str(first["code"]))
    if text is None:
        raise refuse(a, N_("Name the substance (a coding or a text)."))
    return Substance(SubstanceSystem.OTHER, text, text)


def allergy_in(resource: Mapping[str, Any]) -> AllergyIn:
    """An allergy or intolerance, or the general "no known allergies" statement."""
    a = "AllergyIntolerance"
    clinical = status_code(resource.get("clinicalStatus"))
    if clinical not in (None, "active"):
        raise refuse(
            f"{a}.clinicalStatus", N_("Afiya records allergies in force (clinicalStatus active).")
        )
    patient_id = patient_of(resource, a, "patient")
    not_stored = unkept(resource, a, _ALLERGY_KEPT)
    recorded = (
        moment(resource["recordedDate"], f"{a}.recordedDate")
        if resource.get("recordedDate")
        else None
    )
    concept = resource.get("code")
    if code_of(concept, maps.SNOMED) and code_of(concept, maps.SNOMED)[1]["code"] == maps.NKA_CODE:  # type: ignore[index]
        not_stored += [
            f"{a}.{k}"
            for k in ("type", "category", "criticality", "reaction", "recordedDate")
            if k in resource
        ]
        return AllergyIn(patient_id, True, not_stored=not_stored)
    if any(
        c.get("system") == maps.SNOMED and c.get("code") in _NARROW_STATEMENTS
        for c in codings(concept)
    ):
        raise refuse(
            f"{a}.code",
            N_(
                'Afiya records the general "no known allergies" statement only (SNOMED CT '
                "716186003), not one limited to drugs, food or another kind."
            ),
        )
    verification = _VERIFICATION.get(str(status_code(resource.get("verificationStatus"))))
    if verification is None:
        raise refuse(
            f"{a}.verificationStatus",
            N_("Say whether the allergy is confirmed or unconfirmed (verificationStatus)."),
        )
    substance = _substance(concept, not_stored)
    categories = resource.get("category") or []
    if not categories and substance.system is SubstanceSystem.OTHER:
        raise refuse(
            f"{a}.category", N_("Give the category (medication, food, environment, biologic).")
        )
    category = AllergyCategory(categories[0]) if categories else AllergyCategory.MEDICATION
    not_stored += [f"{a}.category[{i}]" for i in range(1, len(categories))]
    reactions: list[Reaction] = []
    for i, reaction in enumerate(resource.get("reaction") or []):
        path = f"{a}.reaction[{i}]"
        if not reaction.get("severity"):
            not_stored.append(path)  # Afiya records a reaction with its severity
            continue
        for j, manifestation in enumerate(reaction.get("manifestation") or []):
            reactions.append(Reaction(words(manifestation) or "", Severity(reaction["severity"])))
            not_stored += other_codings(manifestation, None, f"{path}.manifestation[{j}]")
        not_stored += [f"{path}.{k}" for k in reaction if k not in ("manifestation", "severity")]
    criticality = str(resource.get("criticality") or "unable-to-assess").replace("-", "_")
    return AllergyIn(
        patient_id=patient_id,
        no_known_allergies=False,
        type=AllergyType(resource.get("type") or "allergy"),
        category=category,
        substance=substance,
        criticality=Criticality(criticality),
        verification=verification,
        reactions=tuple(reactions),
        recorded_at=recorded,
        not_stored=not_stored,
    )


ALLERGY_PATHS = {
    "recorded_at": "AllergyIntolerance.recordedDate",
    "stated_at": "AllergyIntolerance.recordedDate",
    "substance": "AllergyIntolerance.code",
    "category": "AllergyIntolerance.category",
    "reactions": "AllergyIntolerance.reaction",
    "supersedes": "AllergyIntolerance.code",
}
