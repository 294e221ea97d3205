"""Bundles (transaction all-or-nothing, batch entry by entry) and the official examples."""

from __future__ import annotations

from afiya.adapters.fhir.common import NNI_SYSTEM
from tests.api.fhir.helpers import example, get, nni, person, post, valid
from tests.api.patients.helpers import facility_id


def _entry(resource, full_url=None, **request):
    entry = {"resource": resource, "request": {"method": "POST", "url": "Patient", **request}}
    if full_url:
        entry["fullUrl"] = full_url
    return entry


def _twins(unit):
    first = person(unit, identifier=nni("3234567892"))
    second = person(
        unit,
        identifier=nni("3234567893"),
        name=[{"family": "Mint Cheikh", "given": ["Vatimetou"]}],
        gender="female",
        birthDate="1999-09-09",
        telecom=[{"system": "phone", "value": "+222 47 00 11 22"}],
    )
    return first, second


async def _count(client, headers, value):
    found = await get(client, headers, "/Patient", identifier=f"{NNI_SYSTEM}|{value}")
    return found.json()["total"]


class TestTransaction:
    async def test_a_transaction_stores_every_entry_and_answers_each(self, client, auth):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        first, second = _twins(unit)
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                _entry(first, "urn:uuid:4b3c7f6e-0000-4000-8000-000000000001"),
                _entry(second, "urn:uuid:4b3c7f6e-0000-4000-8000-000000000002"),
                {
                    "request": {
                        "method": "GET",
                        "url": f"Patient?identifier={NNI_SYSTEM}|3234567892",
                    }
                },
            ],
        }
        response = await post(client, clerk, "/", bundle)
        assert response.status_code == 200, response.text
        answer = valid(response.json())
        assert answer["type"] == "transaction-response"
        assert [e["response"]["status"] for e in answer["entry"]] == ["201", "201", "200"]
        assert answer["entry"][0]["response"]["location"].startswith(
            "http://testserver/fhir/R4/Patient/"
        )
        assert answer["entry"][2]["resource"]["total"] == 1  # GETs run after the writes
        assert await _count(client, clerk, "3234567893") == 1

    async def test_one_invalid_entry_stores_nothing(self, client, auth):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        first, second = _twins(unit)
        second["name"] = [{"given": ["Vatimetou"]}]  # no family name: a registry rule
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [_entry(first), _entry(second)],
        }
        response = await post(client, clerk, "/", bundle)
        assert response.status_code == 422, response.text
        issue = valid(response.json())["issue"][0]
        assert issue["expression"] == ["Bundle.entry[1]", "Patient.name[0].family"]
        assert await _count(client, clerk, "3234567892") == 0

    async def test_a_structurally_invalid_entry_fails_the_transaction_with_its_path(
        self, client, auth
    ):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        first, _ = _twins(unit)
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [_entry(first), _entry({"resourceType": "Patient", "gender": 7})],
        }
        response = await post(client, clerk, "/", bundle)
        assert response.status_code == 400
        assert response.json()["issue"][0]["expression"] == ["Bundle.entry[1]", "Patient.gender"]
        assert await _count(client, clerk, "3234567892") == 0

    async def test_entries_need_their_own_permission(self, client, auth):
        auditor = await auth("demo.auditor")
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [_entry(person(None))],
        }
        response = await post(client, auditor, "/", bundle)
        assert response.status_code == 403
        assert response.json()["issue"][0]["code"] == "forbidden"


class TestBatch:
    async def test_a_batch_keeps_the_good_entries_and_reports_the_bad_one(self, client, auth):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        first, second = _twins(unit)
        second["name"] = [{"given": ["Vatimetou"]}]
        bundle = {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [_entry(first), _entry(second)],
        }
        response = await post(client, clerk, "/", bundle)
        assert response.status_code == 200, response.text
        answer = valid(response.json())
        assert answer["type"] == "batch-response"
        assert [e["response"]["status"] for e in answer["entry"]] == ["201", "422"]
        assert answer["entry"][1]["response"]["outcome"]["issue"][0]["expression"][0] == (
            "Bundle.entry[1]"
        )
        assert await _count(client, clerk, "3234567892") == 1


class TestOfficialExamples:
    """HL7's examples come from other countries: Afiya keeps what it can, and a registry
    rule that refuses one (a phone that is not Mauritanian, a language Afiya does not
    offer, no birth date) answers 422 naming the element — never a silent drop."""

    async def test_the_twin_example_is_stored_with_its_identifiers_and_reads_back_valid(
        self, client, auth
    ):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        body = example("Patient-infant-twin-1")
        body.pop("id")
        body["managingOrganization"] = {"reference": f"Organization/{unit}"}
        response = await post(client, clerk, "/Patient", body)
        assert response.status_code == 201, response.text
        assert response.headers["x-afiya-not-stored"] == (
            "Patient.extension,Patient.multipleBirthInteger,Patient._birthDate"
        )
        stored = valid((await get(client, clerk, f"/Patient/{response.json()['id']}")).json())
        theirs = {(i["system"], i["value"]) for i in example("Patient-infant-twin-1")["identifier"]}
        ours = {(i["system"], i["value"]) for i in stored["identifier"]}
        assert theirs <= ours
        original = example("Patient-infant-twin-1")
        assert stored["gender"] == original["gender"]
        assert stored["birthDate"] == original["birthDate"]
        assert stored["name"][0]["family"] == original["name"][0]["family"]
        assert stored["name"][0]["given"] == original["name"][0]["given"]

    async def test_examples_that_break_a_registry_rule_are_refused_on_that_element(
        self, client, auth
    ):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        refused = {}
        for name in ("Patient-example", "Patient-f001", "Patient-f201", "Patient-pat1"):
            body = example(name)
            body["managingOrganization"] = {"reference": f"Organization/{unit}"}
            response = await post(client, clerk, "/Patient", body)
            assert response.status_code == 422, (name, response.text)
            refused[name] = {e for i in response.json()["issue"] for e in i["expression"]}
        assert "Patient.telecom[0].value" in refused["Patient-example"]
        assert refused["Patient-f201"] == {"Patient.communication"}
        assert refused["Patient-pat1"] == {"Patient.birthDate"}
