"""Search (exact and fuzzy, ranked, paginated), facility scoping and audit of reads."""

from __future__ import annotations

from sqlalchemy import select

from afiya.adapters.db.models import AuditEventRow
from tests.api.patients.helpers import facility_id, person, register

CONFIRM = {"confirm_new_person": True, "confirm_reason": "Personne différente, vérifiée"}


async def _registry(client, clerk, unit):
    """A few people with look-alike names, registered at facility A."""
    specs = [
        ("Mohamed", "Ould Ahmed", "male", 1980, "36123456"),
        ("Fatimetou", "Mint Sidi", "female", 1992, "22334455"),
        ("Ahmed", "Ould Mohamed", "male", 1955, "46778899"),
        ("Mamadou", "Diallo", "male", 1980, "37001122"),
        ("Muhammad", "Ahmad", "male", 1984, "33445566"),
    ]
    out = {}
    for given, family, sex, year, phone in specs:
        body = person(
            unit,
            given_names=given,
            family_name=family,
            sex=sex,
            birth_year=year,
            phones=[{"number": phone}],
            **CONFIRM,
        )
        out[given] = await register(client, clerk, body)
    return out


async def test_fuzzy_name_search_tolerates_spellings_and_swapped_names_and_ranks(client, auth):
    clerk = await auth("demo.receptionist")
    unit = await facility_id(client, clerk, "CH-TZ")
    people = await _registry(client, clerk, unit)
    for query in ("Mhamed Ahmed", "Ahmed Mouhamed", "محمد ولد أحمد", "mohammed o. ahmed"):
        found = await client.get("/api/v1/patients/", headers=clerk, params={"q": query})
        ids = [p["id"] for p in found.json()["items"]]
        assert people["Mohamed"]["id"] in ids[:2], (query, found.json())
        assert people["Fatimetou"]["id"] not in ids and people["Mamadou"]["id"] not in ids
        scores = [p["score"] for p in found.json()["items"]]
        assert scores == sorted(scores, reverse=True)
    only_old = await client.get(
        "/api/v1/patients/",
        headers=clerk,
        params={"q": "Mohamed Ahmed", "birth_year_from": 1950, "birth_year_to": 1960},
    )
    assert [p["id"] for p in only_old.json()["items"]] == [people["Ahmed"]["id"]]


async def test_exact_search_by_phone_and_nni_and_mrn(client, auth):
    clerk = await auth("demo.receptionist")
    unit = await facility_id(client, clerk, "CH-TZ")
    people = await _registry(client, clerk, unit)
    by_phone = await client.get(
        "/api/v1/patients/", headers=clerk, params={"phone": "+222 22 33 44 55"}
    )
    assert [p["id"] for p in by_phone.json()["items"]] == [people["Fatimetou"]["id"]]
    mrn = people["Mamadou"]["mrn"].lower().replace("-", "")
    by_mrn = await client.get("/api/v1/patients/", headers=clerk, params={"mrn": mrn})
    assert [p["id"] for p in by_mrn.json()["items"]] == [people["Mamadou"]["id"]]
    await client.patch(
        f"/api/v1/patients/{people['Mamadou']['id']}", headers=clerk, json={"nni": "5556667778"}
    )
    by_nni = await client.get("/api/v1/patients/", headers=clerk, params={"nni": "555 666 7778"})
    assert [p["id"] for p in by_nni.json()["items"]] == [people["Mamadou"]["id"]]


async def test_filter_only_listing_walks_pages_once(client, auth):
    clerk = await auth("demo.receptionist")
    unit = await facility_id(client, clerk, "CH-TZ")
    people = await _registry(client, clerk, unit)
    seen, cursor = [], None
    while True:
        params = {"sex": "male", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/patients/", headers=clerk, params=params)).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    males = {p["id"] for k, p in people.items() if k != "Fatimetou"}
    assert set(seen) == males and len(seen) == len(males)


async def test_receptionist_of_a_cannot_read_or_search_patients_only_at_b(client, auth, container):
    clerk_b = await auth("demo.receptionist.b")
    unit_b = await facility_id(client, clerk_b, "CH-NEMA")
    at_b = await register(
        client,
        clerk_b,
        person(
            unit_b,
            given_names="Zeinebou",
            family_name="Mint Brahim",
            sex="female",
            birth_year=1970,
            nni="9998887776",
            phones=[{"number": "47112233"}],
        ),
    )
    clerk_a = await auth("demo.receptionist")
    read = await client.get(f"/api/v1/patients/{at_b['id']}", headers=clerk_a)
    assert read.status_code == 403 and read.json()["code"] == "out_of_scope"
    for params in (
        {"q": "Zeinebou Mint Brahim"},
        {"nni": "9998887776"},
        {"phone": "47112233"},
        {"mrn": at_b["mrn"]},
        {"sex": "female"},
    ):
        found = await client.get("/api/v1/patients/", headers=clerk_a, params=params)
        assert found.status_code == 200 and found.json()["items"] == [], params
    # ...while her own facility's clerk finds her.
    own = await client.get("/api/v1/patients/", headers=clerk_b, params={"q": "Zeynabou Brahim"})
    assert [p["id"] for p in own.json()["items"]] == [at_b["id"]]
    # Registering her again at A warns without revealing who she is.
    unit_a = await facility_id(client, clerk_a, "CH-TZ")
    again = await client.post(
        "/api/v1/patients/",
        headers=clerk_a,
        json=person(
            unit_a,
            given_names="Zeinabou",
            family_name="Mint Brahim",
            sex="female",
            birth_year=1970,
            phones=[{"number": "47112233"}],
        ),
    )
    assert again.status_code == 409
    [masked] = again.json()["candidates"]
    assert masked["in_scope"] is False and masked["patient_id"] is None
    assert "given_names" not in masked and masked["reasons"] == []


async def test_every_read_of_a_patient_is_audited_with_its_id(client, auth, container):
    nurse = await auth("demo.nurse")
    unit = await facility_id(client, nurse, "CH-TZ")
    created = await register(client, nurse, person(unit))
    await client.get(f"/api/v1/patients/{created['id']}", headers=nurse)
    await client.get(f"/api/v1/patients/{created['id']}/duplicates", headers=nurse)
    await client.get("/api/v1/patients/", headers=nurse, params={"q": "Mohamed Ahmed"})
    async with container.sessions() as session:
        rows = (
            (
                await session.execute(
                    select(AuditEventRow).where(AuditEventRow.username == "demo.nurse")
                )
            )
            .scalars()
            .all()
        )
    by_action = {r.action: r for r in rows}
    assert str(by_action["patient.read"].patient_id) == created["id"]
    assert str(by_action["patient.duplicates"].patient_id) == created["id"]
    assert by_action["patient.search"].details["patient_ids"] == [created["id"]]
    assert by_action["patient.search"].details["criteria"] == ["name"]


async def test_roles_without_patient_permissions_are_refused(client, auth):
    pbf = await auth("demo.pbf_verifier")
    assert (await client.get("/api/v1/patients/", headers=pbf)).status_code == 403
    cashier = await auth("demo.cashier")
    unit = await facility_id(client, cashier, "CH-TZ")
    refused = await client.post("/api/v1/patients/", headers=cashier, json=person(unit))
    assert refused.status_code == 403 and refused.json()["code"] == "permission_missing"
