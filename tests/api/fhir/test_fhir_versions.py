"""vread and _history of the clinical, prescribing and document types over HTTP.

Versions come from the change log (never invented): an encounter has one version per
step (start, transfer, discharge), a prescription line the versions of its prescription,
a vital sign and a filed document one. A past version is the read of the record as it
was (the same use case, repository mapping and FHIR mapper), stamped with the version's
meta; access is that of read (403 outside the facility) and every vread and history is
audited with the patient id.
"""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select

from afiya.adapters.db.models import AuditEventRow, ChangeLogRow
from tests.api.clinical.helpers import ago, new_patient, unit_ids
from tests.api.fhir.helpers import get, post, valid
from tests.api.fhir.test_fhir_clinical import _record as clinical_record
from tests.api.prescribing.helpers import medication, prescribe

LOINC = "http://loinc.org"
CREATININE = {"kind": "lab", "lab": {"loinc": "2160-0", "name": "Creatinine"}}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _fhir(client: Any, headers: dict[str, str], path: str) -> dict[str, Any]:
    return valid(await _ok(await get(client, headers, path)))


async def _events(container: Any, action: str, patient_id: str) -> list[Any]:
    async with container.sessions() as session:
        rows = await session.scalars(select(AuditEventRow).where(AuditEventRow.action == action))
        return [r for r in rows.all() if str(r.patient_id) == patient_id]


def _without_meta(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "meta"}


async def _admission(client: Any, auth: Any) -> dict[str, Any]:
    """An admission to ward W1, a transfer to W2, a diagnosis, a discharge."""
    doctor = await auth("demo.doctor")
    patient = await new_patient(client, auth)
    units = await unit_ids(client, doctor)
    admitted = await _ok(
        await client.post(
            "/api/v1/encounters/",
            headers=doctor,
            json={
                "patient_id": patient["id"],
                "kind": "inpatient",
                "started_at": ago(days=3),
                "reason": "Fièvre",
                "location": {"department_id": units["CH-TZ-S1"], "ward_id": units["CH-TZ-S1-W1"]},
            },
        ),
        201,
    )
    eid = admitted["id"]
    await _ok(
        await client.post(
            f"/api/v1/encounters/{eid}/transfers",
            headers=doctor,
            json={
                "at": ago(days=2),
                "to": {"department_id": units["CH-TZ-S1"], "ward_id": units["CH-TZ-S1-W2"]},
            },
        )
    )
    diagnosis = await _ok(
        await client.post(
            f"/api/v1/encounters/{eid}/diagnoses",
            headers=doctor,
            json={"code": "A41.9", "rank": "primary"},
        ),
        201,
    )
    await _ok(
        await client.post(
            f"/api/v1/encounters/{eid}/discharge",
            headers=doctor,
            json={"at": ago(hours=4), "mode": "home"},
        )
    )
    return {
        "doctor": doctor,
        "patient": patient["id"],
        "encounter": eid,
        "diagnosis": diagnosis[0]["id"],
        "w1": units["CH-TZ-S1-W1"],
        "w2": units["CH-TZ-S1-W2"],
    }


class TestEncounter:
    async def test_each_step_is_a_version_and_a_past_one_shows_the_encounter_as_it_was(
        self, client, auth
    ):
        r = await _admission(client, auth)
        doctor, path = r["doctor"], f"/Encounter/{r['encounter']}"
        current = await _fhir(client, doctor, path)
        assert current["status"] == "finished"

        first = await _fhir(client, doctor, f"{path}/_history/1")
        assert first["status"] == "in-progress"
        assert first["meta"]["versionId"] == "1"
        assert [m["location"]["reference"] for m in first["location"]] == [f"Location/{r['w1']}"]
        assert first["location"][0]["status"] == "active"
        assert "diagnosis" not in first and "end" not in first["period"]

        second = await _fhir(client, doctor, f"{path}/_history/2")
        assert second["status"] == "in-progress"
        assert [m["location"]["reference"] for m in second["location"]] == [
            f"Location/{r['w1']}",
            f"Location/{r['w2']}",
        ]
        assert second["diagnosis"][0]["condition"]["reference"] == f"Condition/{r['diagnosis']}"

        third = await _fhir(client, doctor, f"{path}/_history/3")
        assert _without_meta(third) == _without_meta(current)
        assert third["meta"]["versionId"] == "3"

        history = await _fhir(client, doctor, f"{path}/_history")
        assert history["type"] == "history" and history["total"] == 3
        assert [e["response"]["etag"] for e in history["entry"]] == ['W/"3"', 'W/"2"', 'W/"1"']
        assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["3", "2", "1"]
        assert [e["resource"]["status"] for e in history["entry"]] == [
            "finished",
            "in-progress",
            "in-progress",
        ]
        assert history["entry"][2]["resource"] == first
        assert history["entry"][2]["request"]["method"] == "POST"

    async def test_a_missing_version_is_404_and_another_facility_is_refused_like_read(
        self, client, auth, container
    ):
        r = await _admission(client, auth)
        path = f"/Encounter/{r['encounter']}"
        missing = await get(client, r["doctor"], f"{path}/_history/4")
        assert missing.status_code == 404
        assert missing.json()["resourceType"] == "OperationOutcome"
        unknown = await get(client, r["doctor"], f"/Encounter/{r['diagnosis']}/_history/1")
        assert unknown.status_code == 404
        assert unknown.json()["resourceType"] == "OperationOutcome"

        other = await auth("demo.nurse.b")
        read = await get(client, other, path)
        for suffix in ("/_history/1", "/_history"):
            refused = await get(client, other, path + suffix)
            assert refused.status_code == read.status_code == 403
            assert refused.json()["resourceType"] == "OperationOutcome"
        clerk = await auth("demo.receptionist")  # no clinical:read
        assert (await get(client, clerk, f"{path}/_history")).status_code == 403
        assert not await _events(container, "encounter.vread", r["patient"])

    async def test_vread_and_history_are_audited_with_the_patient(self, client, auth, container):
        r = await _admission(client, auth)
        path = f"/Encounter/{r['encounter']}"
        reads = len(await _events(container, "clinical.encounter.read", r["patient"]))
        await _fhir(client, r["doctor"], f"{path}/_history/1")
        await _fhir(client, r["doctor"], f"{path}/_history")
        vreads = await _events(container, "encounter.vread", r["patient"])
        histories = await _events(container, "encounter.history", r["patient"])
        assert [(e.resource_id, e.details["version"]) for e in vreads] == [(r["encounter"], 1)]
        assert [e.details["versions"] for e in histories] == [3]
        # the read behind each (permission, facility, audit) ran once per request
        after = await _events(container, "clinical.encounter.read", r["patient"])
        assert len(after) == reads + 2


class TestObservation:
    async def test_a_vital_sign_has_one_version_equal_to_its_read(self, client, auth, container):
        doctor, nurse = await auth("demo.doctor"), await auth("demo.nurse")
        patient = await new_patient(client, auth)
        vitals = await _ok(
            await client.post(
                f"/api/v1/patients/{patient['id']}/observations",
                headers=nurse,
                json={
                    "effective_at": ago(hours=2),
                    "readings": [{"code": "8310-5", "value": "38.5", "unit": "Cel"}],
                },
            ),
            201,
        )
        path = f"/Observation/{vitals[0]['id']}"
        read = await _fhir(client, doctor, path)
        first = await _fhir(client, doctor, f"{path}/_history/1")
        assert _without_meta(first) == _without_meta(read)
        assert first["meta"]["versionId"] == "1"
        async with container.sessions() as session:
            logged = await session.scalars(
                select(ChangeLogRow.version).where(ChangeLogRow.entity_id == _uuid(read["id"]))
            )
            assert logged.all() == [1]  # the one version is the change log's
        history = await _fhir(client, doctor, f"{path}/_history")
        assert history["total"] == 1
        assert history["entry"][0]["resource"] == first
        assert (await get(client, doctor, f"{path}/_history/2")).status_code == 404
        assert await _events(container, "observation.vread", patient["id"])
        assert await _events(container, "observation.history", patient["id"])


class TestMedicationRequest:
    async def test_a_stopped_prescription_gives_its_lines_a_second_version(
        self, client, auth, container
    ):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        created = await prescribe(
            client, doctor, patient["id"], medication("paracetamol-500-tab", route="oral")
        )
        assert created.status_code == 201, created.text
        rx = created.json()
        await _ok(
            await client.post(
                f"/api/v1/prescriptions/{rx['id']}/stop", headers=doctor, json={"reason": "done"}
            )
        )
        path = f"/MedicationRequest/{rx['lines'][0]['id']}"
        read = await _fhir(client, doctor, path)
        first = await _fhir(client, doctor, f"{path}/_history/1")
        second = await _fhir(client, doctor, f"{path}/_history/2")
        assert (first["status"], second["status"]) == ("active", read["status"])
        assert read["status"] != "active"
        assert _without_meta(second) == _without_meta(read)
        assert first["dosageInstruction"] == read["dosageInstruction"]
        history = await _fhir(client, doctor, f"{path}/_history")
        assert [e["resource"]["status"] for e in history["entry"]] == [read["status"], "active"]
        assert await _events(container, "medication_request.history", patient["id"])


class TestDocumentReference:
    async def test_a_filed_document_has_one_version_equal_to_its_read(
        self, client, auth, container
    ):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        body = {
            "resourceType": "DocumentReference",
            "status": "current",
            "type": {"coding": [{"system": LOINC, "code": "11502-2"}]},
            "subject": {"reference": f"Patient/{patient['id']}"},
            "content": [
                {
                    "attachment": {
                        "contentType": "application/pdf",
                        "data": base64.b64encode(PDF).decode(),
                    }
                }
            ],
        }
        created = await _ok(await post(client, doctor, "/DocumentReference", body), 201)
        path = f"/DocumentReference/{created['id']}"
        read = await _fhir(client, doctor, path)
        assert await _fhir(client, doctor, f"{path}/_history/1") == read
        history = await _fhir(client, doctor, f"{path}/_history")
        assert [e["resource"] for e in history["entry"]] == [read]
        assert (await get(client, doctor, f"{path}/_history/2")).status_code == 404
        assert await _events(container, "document_reference.vread", patient["id"])


class TestEveryType:
    async def test_each_type_answers_vread_and_history_from_the_change_log(self, client, auth):
        r = await clinical_record(client, auth)
        doctor = r["doctor"]
        rx = await prescribe(client, doctor, r["patient"], CREATININE)
        assert rx.status_code == 201, rx.text
        for type_name, ident in (
            ("Condition", r["diagnosis"]),
            ("Condition", r["problem"]),
            ("AllergyIntolerance", r["allergy"]),
            ("Observation", r["result"]),
            ("DiagnosticReport", r["result"]),
            ("DiagnosticReport", r["report"]),
            ("ServiceRequest", rx.json()["lines"][0]["id"]),
        ):
            path = f"/{type_name}/{ident}"
            read = await _fhir(client, doctor, path)
            history = await _fhir(client, doctor, f"{path}/_history")
            assert history["total"] >= 1, path
            newest = history["entry"][0]["resource"]
            assert _without_meta(newest) == _without_meta(read), path
            version = newest["meta"]["versionId"]
            assert await _fhir(client, doctor, f"{path}/_history/{version}") == newest


class TestCapability:
    async def test_the_capability_statement_lists_vread_and_history(self, client):
        statement = await _ok(await client.get("/fhir/R4/metadata"))
        interactions = {
            r["type"]: {i["code"] for i in r["interaction"]}
            for r in statement["rest"][0]["resource"]
        }
        for name in (
            "Encounter",
            "Observation",
            "Condition",
            "AllergyIntolerance",
            "DiagnosticReport",
            "MedicationRequest",
            "MedicationDispense",
            "ServiceRequest",
            "DocumentReference",
        ):
            assert {"vread", "history-instance"} <= interactions[name], name


def _uuid(text: str) -> Any:
    import uuid

    return uuid.UUID(text)
