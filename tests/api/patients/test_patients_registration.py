"""Registration: validation, MRN, duplicate check with confirmation, same NNI, retries."""

from __future__ import annotations

from sqlalchemy import select

from afiya.adapters.db.models import AuditEventRow
from afiya.domain.patients.mrn import is_valid_mrn
from tests.api.patients.helpers import facility_id, person, register


async def _events(container, action):
    async with container.sessions() as session:
        rows = await session.execute(select(AuditEventRow).where(AuditEventRow.action == action))
        return rows.scalars().all()


class TestTheRegistrationDeskScenario:
    """Mohamed O. Ahmed, 1981, phone X exists; Mouhamed Ould Ahmed, ~1980, phone X comes in."""

    async def test_probable_duplicate_answers_409_with_the_candidate_and_reasons(
        self, client, auth, container
    ):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        existing = await register(client, clerk, person(unit))
        newcomer = person(
            unit,
            given_names="Mouhamed",
            family_name="Ould Ahmed",
            birth_year=1980,
            birth_year_estimated=True,
            phones=[{"number": "+222 36 12 34 56"}],
        )
        response = await client.post(
            "/api/v1/patients/", headers=clerk | {"Accept-Language": "en"}, json=newcomer
        )
        assert response.status_code == 409, response.text
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert problem["code"] == "probable_duplicate"
        [candidate] = problem["candidates"]
        assert candidate["patient_id"] == existing["id"] and candidate["in_scope"]
        assert candidate["mrn"] == existing["mrn"] and 0.2 <= candidate["score"] <= 1
        codes = {r["code"] for r in candidate["reasons"]}
        assert {"phone_same", "name_phonetic", "birth_years_agree"} <= codes
        messages = {r["message"] for r in candidate["reasons"]}
        assert "names sound alike: Mouhamed ≈ Mohamed" in messages
        warnings = await _events(container, "patient.duplicate_warning")
        assert [w.details["candidates"] for w in warnings] == [[existing["id"]]]

    async def test_confirming_a_new_person_needs_a_reason_and_is_audited(
        self, client, auth, container
    ):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        existing = await register(client, clerk, person(unit))
        newcomer = person(
            unit,
            given_names="Mouhamed",
            family_name="Ould Ahmed",
            birth_year=1980,
            birth_year_estimated=True,
            confirm_new_person=True,
        )
        refused = await client.post("/api/v1/patients/", headers=clerk, json=newcomer)
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["confirm_reason"]

        newcomer["confirm_reason"] = "Frère jumeau, vérifié avec la carte d'identité"
        created = await register(client, clerk, newcomer)
        assert created["id"] != existing["id"] and created["mrn"] != existing["mrn"]
        [event] = [
            e
            for e in await _events(container, "patient.create")
            if e.details.get("confirmed_new_person")
        ]
        assert event.patient_id is not None and str(event.patient_id) == created["id"]
        assert event.details["reason"].startswith("Frère jumeau")
        assert event.details["candidates"] == [existing["id"]]


async def test_the_same_nni_is_always_the_same_person(client, auth):
    clerk = await auth("demo.receptionist")
    unit = await facility_id(client, clerk, "CH-TZ")
    await register(client, clerk, person(unit, nni="1234567890"))
    other = person(
        unit,
        given_names="Fatimetou",
        family_name="Mint Sidi",
        sex="female",
        birth_year=1990,
        phones=[],
        nni="12 3456 7890",
        confirm_new_person=True,
        confirm_reason="Pas la même personne",
    )
    response = await client.post("/api/v1/patients/", headers=clerk, json=other)
    assert response.status_code == 409
    assert response.json()["code"] == "nni_already_registered"
    assert response.json()["candidates"][0]["certain"] is True


async def test_every_invalid_field_is_listed_at_once(client, auth):
    clerk = await auth("demo.receptionist")
    unit = await facility_id(client, clerk, "CH-TZ")
    body = person(
        unit,
        given_names=" ",
        birth_year=None,
        birth_date="2999-01-01",
        nni="12345",
        phones=[{"number": "12"}],
        language="xx",
        sex="robot",
        payers=[
            {
                "kind": "cnam",
                "name": "CNAM",
                "coverage_rate": 80,
                "valid_from": "2025-01-01",
                "valid_to": "2024-01-01",
            }
        ],
    )
    response = await client.post("/api/v1/patients/", headers=clerk, json=body)
    assert response.status_code == 422, response.text
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "given_names",
        "sex",
        "birth_date",
        "phones.0.number",
        "nni",
        "language",
        "payers.0.valid_to",
    }


async def test_registration_issues_an_mrn_of_the_facility_and_normalises_values(client, auth):
    clerk = await auth("demo.receptionist")
    unit = await facility_id(client, clerk, "CH-TZ")
    first = await register(client, clerk, person(unit, nni="12 34 56 78 90"))
    second = await register(
        client,
        clerk,
        person(
            unit,
            given_names="Aminetou",
            family_name="Mint Cheikh",
            sex="F",
            birth_year=1995,
            phones=[{"number": "44 00 11 22", "shared": True}],
        ),
    )
    assert first["mrn"].startswith("CHTZ-") and is_valid_mrn(first["mrn"])
    assert second["mrn"] == first["mrn"][:5] + "000002-" + second["mrn"][-1]
    assert first["nni"] == "1234567890" and first["phones"][0]["number"] == "+22236123456"
    assert second["sex"] == "female" and second["phones"][0]["shared"] is True
    assert first["completeness"]["score"] > second["completeness"]["score"]
    assert "birth_date" in first["completeness"]["missing"]


async def test_a_retried_registration_with_the_same_id_returns_the_first_record(client, auth):
    clerk = await auth("demo.receptionist")
    unit = await facility_id(client, clerk, "CH-TZ")
    body = person(unit, id="0190d5a2-7c3e-7b1a-9f00-1234567890ab")
    first = await client.post("/api/v1/patients/", headers=clerk, json=body)
    again = await client.post("/api/v1/patients/", headers=clerk, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["mrn"] == first.json()["mrn"]


async def test_identifiers_and_payers_are_added_and_shown(client, auth):
    clerk = await auth("demo.receptionist")
    unit = await facility_id(client, clerk, "CH-TZ")
    patient = await register(client, clerk, person(unit))
    base = f"/api/v1/patients/{patient['id']}"
    ident = await client.post(
        f"{base}/identifiers",
        headers=clerk,
        json={"type": "passport", "value": "b1234567", "issuer": "MR"},
    )
    assert ident.status_code == 201 and ident.json()["value"] == "B1234567"
    bad = await client.post(
        f"{base}/identifiers", headers=clerk, json={"type": "nni", "value": "1"}
    )
    assert bad.status_code == 422
    payer = await client.post(
        f"{base}/payers",
        headers=clerk,
        json={
            "kind": "cnam",
            "name": "CNAM",
            "coverage_rate": "80.00",
            "policy_number": "C-778899",
            "valid_from": "2025-01-01",
            "valid_to": "2026-12-31",
        },
    )
    assert payer.status_code == 201, payer.text
    full = (await client.get(base, headers=clerk)).json()
    assert [i["type"] for i in full["identifiers"]] == ["passport"]
    assert full["payers"][0]["policy_number"] == "C-778899"
    found = await client.get(
        "/api/v1/patients/",
        headers=clerk,
        params={"identifier_type": "passport", "identifier": "B1234567"},
    )
    assert [p["id"] for p in found.json()["items"]] == [patient["id"]]
