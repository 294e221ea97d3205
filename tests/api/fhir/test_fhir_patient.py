"""FHIR Patient over HTTP: create/read round trip, search, paging, versions, errors, scope."""

from __future__ import annotations

from sqlalchemy import select

from afiya.adapters.db.models import AuditEventRow
from afiya.adapters.fhir.common import MRN_SYSTEM, NNI_SYSTEM
from tests.api.fhir.helpers import get, nni, outcome_paths, person, post, put, valid
from tests.api.patients.helpers import facility_id


async def _events(container, action):
    async with container.sessions() as session:
        rows = await session.execute(select(AuditEventRow).where(AuditEventRow.action == action))
        return rows.scalars().all()


async def _create(client, headers, body, **extra):
    response = await post(client, headers, "/Patient", body, **extra)
    assert response.status_code == 201, response.text
    return valid(response.json())


class TestCreateAndRead:
    async def test_a_created_patient_reads_back_valid_with_its_data_and_version(
        self, client, auth, container
    ):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        created = await _create(client, clerk, person(unit, identifier=nni("1234567890")))
        response = await get(client, clerk, f"/Patient/{created['id']}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/fhir+json")
        assert response.headers["etag"] == 'W/"1"'
        patient = valid(response.json())
        assert patient["name"][0] == {
            "use": "official",
            "text": "Mohamed Ould Ahmed",
            "family": "Ould Ahmed",
            "given": ["Mohamed"],
        }
        assert patient["gender"] == "male" and patient["birthDate"] == "1981-03-02"
        assert patient["telecom"][0]["value"] == "+22236123456"
        systems = {i["system"]: i["value"] for i in patient["identifier"]}
        assert systems[NNI_SYSTEM] == "1234567890"
        assert systems[MRN_SYSTEM].startswith("CHTZ-")
        assert patient["managingOrganization"]["reference"] == f"Organization/{unit}"
        assert patient["communication"][0]["language"]["coding"][0]["code"] == "ar"
        [read] = [e for e in await _events(container, "patient.read")]
        assert str(read.patient_id) == created["id"]

    async def test_a_year_alone_and_an_arabic_name_are_kept(self, client, auth):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        body = person(
            unit,
            birthDate="1975",
            name=[
                {"family": "Mint Sidi", "given": ["Fatimetou"]},
                {"family": "بنت سيدي", "given": ["فاطمة"]},
            ],
            gender="female",
            telecom=[{"system": "phone", "value": "+222 46 11 22 33"}],
        )
        created = await _create(client, clerk, body)
        assert created["birthDate"] == "1975"
        assert created["name"][1]["family"] == "بنت سيدي"
        assert created["name"][1]["extension"][0]["valueCode"] == "ar"

    async def test_what_afiya_does_not_keep_is_reported_not_dropped_silently(self, client, auth):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        body = person(
            unit,
            maritalStatus={"text": "married"},
            telecom=[
                {"system": "phone", "value": "+222 36 12 34 57"},
                {"system": "email", "value": "m@example.org"},
            ],
        )
        response = await post(client, clerk, "/Patient", body, Prefer="return=OperationOutcome")
        assert response.status_code == 201, response.text
        outcome = valid(response.json())
        texts = {i["diagnostics"] for i in outcome["issue"]}
        assert texts == {"not stored: Patient.maritalStatus", "not stored: Patient.telecom[1]"}
        assert response.headers["x-afiya-not-stored"] == "Patient.maritalStatus,Patient.telecom[1]"


class TestErrors:
    async def test_an_invalid_resource_is_refused_with_the_failing_paths(self, client, auth):
        clerk = await auth("demo.receptionist")
        body = person(None, name=[{"family": 42}], birthDate="19-03")
        response = await post(client, clerk, "/Patient", body)
        assert response.status_code == 400
        assert set(outcome_paths(response)) == {"Patient.name[0].family", "Patient.birthDate"}
        valid(response.json())

    async def test_a_registry_rule_answers_422_located_on_the_fhir_element(self, client, auth):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        body = person(unit, name=[{"given": ["Mohamed"]}])
        response = await post(client, clerk, "/Patient", body)
        assert response.status_code == 422, response.text
        assert outcome_paths(response) == ["Patient.name[0].family"]
        assert response.json()["issue"][0]["code"] == "required"

    async def test_without_a_token_the_answer_is_an_operation_outcome(self, client):
        response = await client.get("/fhir/R4/Patient")
        assert response.status_code == 401
        assert response.json()["issue"][0]["code"] == "login"

    async def test_an_unknown_search_parameter_is_refused_unless_lenient(self, client, auth):
        clerk = await auth("demo.receptionist")
        refused = await get(client, clerk, "/Patient", shoe_size="42")
        assert refused.status_code == 400
        assert "shoe_size" in refused.json()["issue"][0]["diagnostics"]
        lenient = await client.get(
            "/fhir/R4/Patient",
            params={"shoe_size": "42"},
            headers=clerk | {"Prefer": "handling=lenient"},
        )
        assert lenient.status_code == 200
        [warning] = [e for e in lenient.json().get("entry", []) if e["search"]["mode"] == "outcome"]
        assert "shoe_size" in warning["resource"]["issue"][0]["diagnostics"]

    async def test_every_refusal_under_the_base_is_an_operation_outcome(self, client, auth):
        clerk = await auth("demo.receptionist")
        unknown = await get(client, clerk, "/Specimen")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/fhir+json")
        assert "Specimen" in unknown.json()["issue"][0]["diagnostics"]
        not_allowed = await client.delete("/fhir/R4/Patient/x", headers=clerk)
        assert not_allowed.status_code == 405
        assert not_allowed.json()["issue"][0]["code"] == "not-supported"
        xml = await client.post(
            "/fhir/R4/Patient",
            headers=clerk | {"Content-Type": "application/fhir+xml"},
            content=b"<Patient/>",
        )
        assert xml.status_code == 415 and xml.json()["resourceType"] == "OperationOutcome"
        garbage = await client.post(
            "/fhir/R4/Patient",
            headers=clerk | {"Content-Type": "application/fhir+json"},
            content=b"{not json",
        )
        assert garbage.status_code == 400 and garbage.json()["issue"][0]["code"] == "structure"
        not_a_bundle = await post(client, clerk, "/", {"resourceType": "Patient"})
        assert not_a_bundle.status_code == 400

    async def test_a_missing_patient_is_404_outcome(self, client, auth):
        clerk = await auth("demo.receptionist")
        response = await get(client, clerk, "/Patient/01890000-0000-7000-8000-000000000000")
        assert response.status_code == 404
        assert response.json()["issue"][0]["code"] == "not-found"


class TestDuplicates:
    async def test_a_probable_duplicate_is_409_listing_the_candidate(self, client, auth, container):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        first = await _create(client, clerk, person(unit))
        again = person(
            unit,
            name=[{"family": "Ould Ahmed", "given": ["Mouhamed"]}],
            birthDate="1980",
        )
        response = await post(client, clerk, "/Patient", again)
        assert response.status_code == 409, response.text
        outcome = valid(response.json())
        assert outcome["issue"][0]["code"] == "duplicate"
        assert outcome["issue"][0]["expression"] == [f"Patient/{first['id']}"]
        assert any(first["id"] in i["diagnostics"] for i in outcome["issue"][1:])
        confirmed = await post(
            client,
            clerk,
            "/Patient",
            again,
            **{"X-Afiya-Confirm-New-Person": "Twin brother, ID card checked"},
        )
        assert confirmed.status_code == 201
        assert confirmed.json()["id"] != first["id"]

    async def test_conditional_create_retried_three_times_creates_one_patient(self, client, auth):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        body = person(unit, identifier=nni("2234567891"))
        condition = f"identifier={NNI_SYSTEM}|2234567891"
        answers = [
            await post(client, clerk, "/Patient", body, **{"If-None-Exist": condition})
            for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [201, 200, 200]
        assert len({a.json()["id"] for a in answers}) == 1
        found = await get(client, clerk, "/Patient", identifier=f"{NNI_SYSTEM}|2234567891")
        assert found.json()["total"] == 1


class TestSearch:
    async def _registry(self, client, clerk, unit):
        people = [
            ("Mohamed", "Ould Ahmed", "male", "1981-03-02", "+222 36 12 34 56"),
            ("Aminetou", "Mint Brahim", "female", "1990-07-15", "+222 22 33 44 55"),
            ("Sidi", "Ould Brahim", "male", "2001-01-20", "+222 44 55 66 77"),
            ("Khadijetou", "Mint Salem", "female", "1990-02-01", "+222 33 44 55 66"),
        ]
        made = {}
        for given, family, sex, born, phone in people:
            body = person(
                unit,
                name=[{"family": family, "given": [given]}],
                gender=sex,
                birthDate=born,
                telecom=[{"system": "phone", "value": phone}],
            )
            made[given] = await _create(client, clerk, body)
        return made

    async def test_each_parameter_filters_as_fhir_says(self, client, auth):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        made = await self._registry(client, clerk, unit)

        async def ids(**params):
            response = await get(client, clerk, "/Patient", **params)
            assert response.status_code == 200, response.text
            bundle = valid(response.json())
            return {
                made_name
                for made_name, p in made.items()
                if p["id"] in {e["resource"]["id"] for e in bundle.get("entry", [])}
            }

        assert await ids(family="brah") == {"Aminetou", "Sidi"}
        assert await ids(name="ould") == {"Mohamed", "Sidi"}
        assert await ids(given="khadij") == {"Khadijetou"}
        assert await ids(**{"family:exact": "Mint Brahim"}) == {"Aminetou"}
        assert await ids(gender="female") == {"Aminetou", "Khadijetou"}
        assert await ids(birthdate="1990") == {"Aminetou", "Khadijetou"}
        assert await ids(birthdate="1990-07") == {"Aminetou"}
        assert await ids(birthdate="ge2000-01-01") == {"Sidi"}
        assert await ids(birthdate="lt1985") == {"Mohamed"}
        assert await ids(phone="+22222334455") == {"Aminetou"}
        assert await ids(identifier=f"{MRN_SYSTEM}|{_mrn(made['Sidi'])}") == {"Sidi"}
        assert await ids(gender="female", family="salem") == {"Khadijetou"}
        assert await ids(family="brahim,salem") == {"Aminetou", "Sidi", "Khadijetou"}
        assert await ids(_lastUpdated="gt2000-01-01") == set(made)
        assert await ids(_lastUpdated="lt2000-01-01") == set()

    async def test_count_pages_with_next_links_until_the_end(self, client, auth):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        made = await self._registry(client, clerk, unit)
        seen, url, pages = [], "/fhir/R4/Patient?_count=3&_sort=birthdate", 0
        while url:
            response = await client.get(url, headers=clerk)
            bundle = valid(response.json())
            assert bundle["total"] == 4
            seen += [e["resource"]["birthDate"] for e in bundle.get("entry", [])]
            url = next((x["url"] for x in bundle["link"] if x["relation"] == "next"), None)
            pages += 1
        assert pages == 2 and len(seen) == len(made)
        assert seen == sorted(seen)

    async def test_summary_count_and_descending_sort(self, client, auth):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        await self._registry(client, clerk, unit)
        counted = valid(
            (await get(client, clerk, "/Patient", _summary="count", gender="male")).json()
        )
        assert counted["total"] == 2 and "entry" not in counted
        newest = valid((await get(client, clerk, "/Patient", _sort="-birthdate")).json())
        assert [e["resource"]["birthDate"] for e in newest["entry"]] == [
            "2001-01-20",
            "1990-07-15",
            "1990-02-01",
            "1981-03-02",
        ]

    async def test_a_nurse_elsewhere_neither_finds_nor_reads_the_patient(self, client, auth):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        created = await _create(client, clerk, person(unit))
        other = await auth("demo.nurse.b")
        found = valid((await get(client, other, "/Patient", family="ould")).json())
        assert found["total"] == 0
        refused = await get(client, other, f"/Patient/{created['id']}")
        assert refused.status_code == 403
        assert refused.json()["issue"][0]["code"] == "forbidden"


def _mrn(patient):
    return next(i["value"] for i in patient["identifier"] if i["system"] == MRN_SYSTEM)


class TestVersions:
    async def test_update_with_if_match_then_vread_and_history_show_each_version(
        self, client, auth, container
    ):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        created = await _create(client, clerk, person(unit))
        changed = dict(created)
        changed["name"] = [{"family": "Ould Ahmed Salem", "given": ["Mohamed"]}]
        changed["telecom"] = [{"system": "phone", "value": "+222 36 99 88 77"}]
        response = await put(
            client, clerk, f"/Patient/{created['id']}", changed, **{"If-Match": 'W/"1"'}
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == 'W/"2"'
        stale = await put(
            client, clerk, f"/Patient/{created['id']}", changed, **{"If-Match": 'W/"1"'}
        )
        assert stale.status_code == 412
        assert stale.json()["issue"][0]["code"] == "conflict"

        first = valid((await get(client, clerk, f"/Patient/{created['id']}/_history/1")).json())
        assert first["name"][0]["family"] == "Ould Ahmed"
        assert first["telecom"][0]["value"] == "+22236123456"
        assert first["meta"]["versionId"] == "1"
        second = valid((await get(client, clerk, f"/Patient/{created['id']}/_history/2")).json())
        assert second["name"][0]["family"] == "Ould Ahmed Salem"
        assert second["telecom"][0]["value"] == "+22236998877"
        missing = await get(client, clerk, f"/Patient/{created['id']}/_history/9")
        assert missing.status_code == 404

        history = valid((await get(client, clerk, f"/Patient/{created['id']}/_history")).json())
        assert history["type"] == "history"
        assert [e["response"]["etag"] for e in history["entry"]] == ['W/"2"', 'W/"1"']
        assert [e["request"]["method"] for e in history["entry"]] == ["PUT", "POST"]
        vreads = await _events(container, "patient.vread")
        assert [(str(e.patient_id), e.details["version"]) for e in vreads] == [
            (created["id"], 1),
            (created["id"], 2),
        ]

    async def test_an_update_must_name_the_same_id(self, client, auth):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        created = await _create(client, clerk, person(unit))
        body = dict(created, id="01890000-0000-7000-8000-000000000000")
        response = await put(client, clerk, f"/Patient/{created['id']}", body)
        assert response.status_code == 400
        assert outcome_paths(response) == ["Patient.id"]
