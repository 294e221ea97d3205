"""Patient ⇄ FHIR mapping on HL7's official examples (read from ../shared, not copied)."""

from __future__ import annotations

import json
from datetime import date
from uuid import uuid4

import pytest
from fhir.resources.R4B.patient import Patient as FhirPatient

from afiya.adapters.fhir import patient as mapping
from afiya.adapters.fhir.common import IDENTIFIER_SYSTEM, NNI_SYSTEM, InvalidResource, validate
from afiya.adapters.fhir.engine.bundle import _rewrite
from afiya.domain.patients.model import Identifier, Patient, Phone
from tests.conftest import SHARED

EXAMPLES = SHARED / "fixtures" / "fhir-r4-examples"
PATIENTS = sorted(EXAMPLES.glob("Patient-*.json"))


def _stored(fields: mapping.PatientFields) -> Patient:
    values = {k: v for k, v in fields.values.items()}
    return Patient(
        id=uuid4(),
        mrn="CHTZ-000001-P",
        unit_id=uuid4(),
        unit_path="/MR/",
        identifiers=fields.identifiers,
        **values,
    )


@pytest.mark.parametrize("path", PATIENTS, ids=lambda p: p.stem)
def test_every_official_patient_example_maps_and_maps_back_valid(path):
    original = validate(json.loads(path.read_text()))
    fields = mapping.from_fhir(original)
    produced = mapping.to_fhir(_stored(fields))
    FhirPatient.model_validate(produced)
    if original.get("gender"):
        assert produced["gender"] == original["gender"]
    if original.get("birthDate"):
        assert produced["birthDate"] == original["birthDate"][:10]
    first = original["name"][0]
    if first.get("family"):
        assert produced["name"][0]["family"] == first["family"]
        assert produced["name"][0]["given"] == " ".join(first.get("given", [])).split()
    theirs = {(i.get("system"), i["value"]) for i in original.get("identifier", []) if "value" in i}
    ours = {(i["system"], i["value"]) for i in produced["identifier"]}
    assert {t for t in theirs if t[0]} <= ours
    kept = mapping.KEPT
    assert {f"Patient.{k}" for k in original if k not in kept} <= set(fields.not_stored)


def test_nni_nss_and_typed_identifiers_use_afiya_systems_both_ways():
    patient = Patient(
        id=uuid4(),
        mrn="CHTZ-000001-P",
        unit_id=uuid4(),
        unit_path="/MR/",
        given_names="Aminetou",
        family_name="Mint Brahim",
        sex="female",
        birth_year=1990,
        birth_year_estimated=True,
        nni="1234567890",
        phones=(Phone("+22222334455"),),
        identifiers=(Identifier("passport", "B1234567"),),
    )
    resource = mapping.to_fhir(patient)
    FhirPatient.model_validate(resource)
    assert resource["birthDate"] == "1990"
    assert resource["_birthDate"]["extension"][0]["valueBoolean"] is True
    back = mapping.from_fhir(resource)
    assert back.values["nni"] == "1234567890"
    assert back.values["birth_year"] == 1990 and back.values["birth_year_estimated"] is True
    assert back.identifiers == (Identifier("passport", "B1234567"),)
    assert {"system": IDENTIFIER_SYSTEM + "passport", "value": "B1234567"} in resource["identifier"]
    assert {"system": NNI_SYSTEM, "value": "1234567890"}.items() <= resource["identifier"][
        1
    ].items()


def test_a_full_birth_date_and_the_registry_field_paths():
    fields = mapping.from_fhir({"resourceType": "Patient", "birthDate": "1981-03-02"})
    assert fields.values["birth_date"] == date(1981, 3, 2)
    assert mapping.fhir_path("phones.1.number") == "Patient.telecom[1].value"
    assert mapping.fhir_path("family_name") == "Patient.name[0].family"


def test_validation_names_every_failing_path():
    with pytest.raises(InvalidResource) as refused:
        validate({"resourceType": "Patient", "gender": 3, "name": [{"given": "x"}], "x": 1})
    assert {p.path for p in refused.value.problems} == {
        "Patient.gender",
        "Patient.name[0].given",
        "Patient.x",
    }
    with pytest.raises(InvalidResource):
        validate({"resourceType": "Observation"}, "Patient")


def test_transaction_references_to_created_entries_are_rewritten():
    resource = {"subject": {"reference": "urn:uuid:1"}, "x": [{"reference": "urn:uuid:2"}]}
    rewritten = _rewrite(resource, {"urn:uuid:1": "Patient/a"})
    assert rewritten == {"subject": {"reference": "Patient/a"}, "x": [{"reference": "urn:uuid:2"}]}
