"""FHIR DocumentReference and Binary over HTTP: documents from other systems filed in the
blob store, Afiya's own letters and imaging files served as documents.

The official example is filed (its references rewritten to resources of this server) and
read back valid with its codes; what Afiya does not keep is listed. A PDF goes in as
base64 and comes back byte for byte; refusals are 413/415/422 OperationOutcomes; access is
that of the clinical record (clinical:write to file, clinical:read in the patient's
facility to read, audited with the patient id).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
from datetime import datetime

import pytest
from PIL import Image
from sqlalchemy import select

from afiya.adapters.db.models import AuditEventRow
from tests.api.clinical.helpers import ago, new_patient, unit_ids
from tests.api.fhir.helpers import FHIR, example, get, outcome_paths, post, valid
from tests.conftest import make_settings, needs_fonts

LIMIT = 64 * 1024  # the size limit of this module's server (the default is 20 MB)
LOINC = "http://loinc.org"
CATEGORY = "https://afiya.health/fhir/CodeSystem/document-category"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
FHIR_JSON = {"Accept": "application/fhir+json"}


@pytest.fixture
def settings(database_url, tmp_path):
    return make_settings(database_url, tmp_path, document_max_bytes=LIMIT)


def sha1(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _ok(response, status=201):
    assert response.status_code == status, response.text
    return response.json()


async def _setup(client, auth):
    doctor = await auth("demo.doctor")
    patient = await new_patient(client, auth)
    visit = await _ok(
        await client.post(
            "/api/v1/encounters/",
            headers=doctor,
            json={
                "patient_id": patient["id"],
                "kind": "outpatient",
                "started_at": ago(days=1),
                "reason": "Bilan",
            },
        )
    )
    return doctor, patient["id"], visit["id"]


def _pdf_document(patient_id: str, data: bytes = PDF, **attachment) -> dict:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"system": LOINC, "code": "11502-2", "display": "Laboratory report"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "data": base64.b64encode(data).decode(),
                    "title": "Bilan sanguin",
                    **attachment,
                }
            }
        ],
    }


async def _events(container, action):
    async with container.sessions() as session:
        rows = await session.execute(select(AuditEventRow).where(AuditEventRow.action == action))
        return list(rows.scalars().all())


class TestOfficialExample:
    async def test_example_is_filed_and_read_back_valid_with_its_codes(self, client, auth):
        doctor, pid, visit = await _setup(client, auth)
        me = (await client.get("/api/v1/auth/me", headers=doctor)).json()
        facility = (await unit_ids(client, doctor))["CH-TZ"]
        first = await _ok(await post(client, doctor, "/DocumentReference", _pdf_document(pid)))
        text = b"History and physical: arm examination, no abnormality.\n"
        binary = await client.post(
            FHIR + "/Binary", headers=doctor | {"Content-Type": "text/plain"}, content=text
        )
        assert binary.status_code == 201, binary.text
        binary_id = binary.json()["id"]
        assert binary.headers["Location"].endswith(f"/Binary/{binary_id}")

        original = example("DocumentReference-example")
        body = copy.deepcopy(original)
        body.pop("id")
        body["subject"] = {"reference": f"Patient/{pid}"}
        body["author"] = [{"reference": f"Practitioner/{me['user_id']}"}, {"reference": "#a2"}]
        body["authenticator"] = body["custodian"] = {"reference": f"Organization/{facility}"}
        body["relatesTo"][0]["target"] = {"reference": f"DocumentReference/{first['id']}"}
        context = body["context"]
        context["encounter"] = [{"reference": f"Encounter/{visit}"}]
        context["sourcePatientInfo"] = {"reference": f"Patient/{pid}"}
        context["related"][0]["reference"] = f"Patient/{pid}"

        # The example's content is an HL7 v3 XML file on another server: not kept as is.
        refused = await post(client, doctor, "/DocumentReference", body)
        assert refused.status_code == 422, refused.text
        assert outcome_paths(refused) == ["DocumentReference.content[0].attachment.url"]

        attachment = body["content"][0]["attachment"]
        attachment.update(
            contentType="text/plain",
            url=f"Binary/{binary_id}",
            size=len(text),
            hash=sha1(text),
        )
        created = await post(client, doctor, "/DocumentReference", body)
        assert created.status_code == 201, created.text
        not_stored = set(created.headers["X-Afiya-Not-Stored"].split(","))
        assert not_stored == {
            f"DocumentReference.{name}"
            for name in (
                "text",
                "contained",
                "author",
                "authenticator",
                "custodian",
                "relatesTo",
                "securityLabel",
                "context.sourcePatientInfo",
                "context.related",
            )
        }
        ident = created.json()["id"]

        read = valid(await _ok(await get(client, doctor, f"/DocumentReference/{ident}"), 200))
        assert read == valid(created.json())
        for key in ("status", "docStatus", "type", "category", "description"):
            assert read[key] == original[key], key
        assert read["masterIdentifier"] == original["masterIdentifier"]
        assert read["identifier"] == original["identifier"]
        assert when(read["date"]) == when(original["date"])
        assert read["subject"] == {"reference": f"Patient/{pid}"}
        assert read["content"][0]["format"] == original["content"][0]["format"]
        kept = read["content"][0]["attachment"]
        assert kept["url"].endswith(f"/Binary/{binary_id}")
        assert (kept["contentType"], kept["size"], kept["hash"]) == (
            "text/plain",
            len(text),
            sha1(text),
        )
        assert (kept["title"], kept["language"]) == ("Physical", "en-US")
        assert when(kept["creation"]) == when(original["content"][0]["attachment"]["creation"])
        for key in ("event", "facilityType", "practiceSetting"):
            assert read["context"][key] == original["context"][key], key
        assert read["context"]["encounter"] == [{"reference": f"Encounter/{visit}"}]
        assert {k: when(v) for k, v in read["context"]["period"].items()} == {
            k: when(v) for k, v in original["context"]["period"].items()
        }

        raw = await client.get(kept["url"], headers=doctor)
        assert raw.content == text and raw.headers["content-type"].startswith("text/plain")
        as_fhir = valid(await _ok(await client.get(kept["url"], headers=doctor | FHIR_JSON), 200))
        assert as_fhir["securityContext"] == {"reference": f"DocumentReference/{ident}"}

        async def ids(**params):
            response = await get(client, doctor, "/DocumentReference", patient=pid, **params)
            bundle = valid(await _ok(response, 200))
            return {e["resource"]["id"] for e in bundle.get("entry", [])}

        assert await ids() == {ident, first["id"]}
        assert await ids(type=f"{LOINC}|34108-1") == {ident}
        assert await ids(type="http://other|34108-1") == set()
        coded = "http://ihe.net/xds/connectathon/classCodes|History and Physical"
        assert await ids(category=coded) == {ident}
        assert await ids(date="lt2006-01-01") == {ident}
        assert await ids(date="ge2006-01-01") == {first["id"]}
        master = original["masterIdentifier"]
        assert await ids(identifier=f"{master['system']}|{master['value']}") == {ident}

        again = await post(
            client,
            doctor,
            "/DocumentReference",
            _pdf_document(pid),
            **{"If-None-Exist": f"patient={pid}&identifier={master['system']}|{master['value']}"},
        )
        assert again.status_code == 200 and again.json()["id"] == ident  # idempotent

        taken = copy.deepcopy(body)  # the Binary now belongs to that document
        assert (await post(client, doctor, "/DocumentReference", taken)).status_code == 422


class TestContent:
    async def test_a_pdf_round_trips_byte_for_byte_with_its_sha1(self, client, auth, container):
        doctor, pid, _ = await _setup(client, auth)
        created = await post(client, doctor, "/DocumentReference", _pdf_document(pid))
        assert created.status_code == 201, created.text
        document = valid(created.json())
        attachment = document["content"][0]["attachment"]
        assert attachment["hash"] == sha1(PDF) and attachment["size"] == len(PDF)
        assert "data" not in attachment
        assert created.headers["Location"].startswith(
            f"http://testserver{FHIR}/DocumentReference/{document['id']}"
        )

        raw = await client.get(attachment["url"], headers=doctor)
        assert raw.status_code == 200
        assert raw.headers["content-type"].startswith("application/pdf")
        assert raw.content == PDF and sha1(raw.content) == attachment["hash"]
        binary = valid(
            await _ok(await client.get(attachment["url"], headers=doctor | FHIR_JSON), 200)
        )
        assert binary["contentType"] == "application/pdf"
        assert base64.b64decode(binary["data"]) == PDF
        assert binary["securityContext"] == {"reference": f"DocumentReference/{document['id']}"}

        reads = await _events(container, "clinical.binary.read")
        assert len(reads) == 2 and {str(e.patient_id) for e in reads} == {pid}
        filed = await _events(container, "clinical.external_document.create")
        assert [str(e.patient_id) for e in filed] == [pid]

        everything = await _ok(await get(client, doctor, f"/Patient/{pid}/$everything"), 200)
        types = {e["resource"]["resourceType"] for e in everything["entry"]}
        assert "DocumentReference" in types

    async def test_refusals_name_the_element_and_answer_413_415_422(self, client, auth):
        doctor, pid, _ = await _setup(client, auth)
        zip_document = _pdf_document(pid)
        zip_document["content"][0]["attachment"]["contentType"] = "application/zip"
        refused = await post(client, doctor, "/DocumentReference", zip_document)
        assert refused.status_code == 415, refused.text
        assert outcome_paths(refused) == ["DocumentReference.content[0].attachment.contentType"]
        gif = await client.post(
            FHIR + "/Binary", headers=doctor | {"Content-Type": "image/gif"}, content=b"GIF89a"
        )
        assert gif.status_code == 415 and outcome_paths(gif) == ["Binary.contentType"]

        big = PDF + b"%" * LIMIT
        too_big = await post(client, doctor, "/DocumentReference", _pdf_document(pid, big))
        assert too_big.status_code == 413, too_big.text
        assert too_big.json()["issue"][0]["code"] == "too-costly"
        raw_big = await client.post(
            FHIR + "/Binary", headers=doctor | {"Content-Type": "application/pdf"}, content=big
        )
        assert raw_big.status_code == 413

        renamed = await post(
            client, doctor, "/DocumentReference", _pdf_document(pid, b"\x89PNG\r\n\x1a\nxx")
        )
        assert renamed.status_code == 422
        assert outcome_paths(renamed) == ["DocumentReference.content[0].attachment.contentType"]
        wrong_hash = await post(
            client, doctor, "/DocumentReference", _pdf_document(pid, hash=sha1(b"other"))
        )
        assert wrong_hash.status_code == 422
        assert outcome_paths(wrong_hash) == ["DocumentReference.content[0].attachment.hash"]
        no_subject = _pdf_document(pid)
        no_subject.pop("subject")
        missing = await post(client, doctor, "/DocumentReference", no_subject)
        assert missing.status_code == 422 and outcome_paths(missing) == [
            "DocumentReference.subject"
        ]
        not_json = await client.post(
            FHIR + "/DocumentReference",
            headers=doctor | {"Content-Type": "application/fhir+json"},
            content=json.dumps({"resourceType": "DocumentReference"}),
        )
        assert not_json.status_code == 400  # status and content are required by FHIR

        search = await get(client, doctor, "/DocumentReference")
        assert search.status_code == 400 and outcome_paths(search) == ["patient"]


class TestAccess:
    async def test_filing_needs_clinical_write_and_reading_the_patients_facility(
        self, client, auth
    ):
        doctor, pid, _ = await _setup(client, auth)
        document = await _ok(await post(client, doctor, "/DocumentReference", _pdf_document(pid)))
        url = document["content"][0]["attachment"]["url"]
        for username in ("demo.lab_technician", "demo.receptionist"):
            headers = await auth(username)
            denied = await post(client, headers, "/DocumentReference", _pdf_document(pid))
            assert denied.status_code == 403, username
            assert denied.json()["resourceType"] == "OperationOutcome"
            raw = await client.post(
                FHIR + "/Binary", headers=headers | {"Content-Type": "application/pdf"}, content=PDF
            )
            assert raw.status_code == 403, username

        other = await auth("demo.nurse.b")  # a clinician of another facility
        assert (
            await post(client, other, "/DocumentReference", _pdf_document(pid))
        ).status_code == 403
        assert (await get(client, other, f"/DocumentReference/{document['id']}")).status_code == 403
        assert (await client.get(url, headers=other)).status_code == 403
        assert (await client.get(url, headers=other | FHIR_JSON)).status_code == 403
        searched = await get(client, other, "/DocumentReference", patient=pid)
        assert searched.status_code == 403

        lab = await auth("demo.lab_technician")  # clinical:read in the patient's facility
        assert (await client.get(url, headers=lab)).content == PDF

    async def test_an_unclaimed_binary_is_its_uploaders_alone(self, client, auth):
        doctor, pid, _ = await _setup(client, auth)
        uploaded = await post(
            client,
            doctor,
            "/Binary",
            {
                "resourceType": "Binary",
                "contentType": "application/pdf",
                "data": base64.b64encode(PDF).decode(),
            },
        )
        assert uploaded.status_code == 201, uploaded.text
        binary_id = uploaded.json()["id"]
        assert "data" not in uploaded.json()
        nurse = await auth("demo.nurse")  # same facility, but not the uploader
        assert (await get(client, nurse, f"/Binary/{binary_id}")).status_code == 404
        assert (await get(client, doctor, f"/Binary/{binary_id}")).content == PDF
        claim = _pdf_document(pid)
        claim["content"][0]["attachment"] = {
            "contentType": "application/pdf",
            "url": f"Binary/{binary_id}",
        }
        stolen = await post(client, nurse, "/DocumentReference", claim)
        assert stolen.status_code == 422
        assert outcome_paths(stolen) == ["DocumentReference.content[0].attachment.url"]
        filed = await _ok(await post(client, doctor, "/DocumentReference", claim))
        assert filed["content"][0]["attachment"]["hash"] == sha1(PDF)
        assert (await get(client, nurse, f"/Binary/{binary_id}")).content == PDF


@needs_fonts
async def test_an_issued_discharge_letter_is_a_document_with_a_readable_binary(client, auth):
    doctor = await auth("demo.doctor")
    patient = await new_patient(client, auth)
    units = await unit_ids(client, doctor)
    admission = await _ok(
        await client.post(
            "/api/v1/encounters/",
            headers=doctor,
            json={
                "patient_id": patient["id"],
                "kind": "inpatient",
                "started_at": ago(days=4),
                "reason": "Diabète déséquilibré",
                "location": {"department_id": units["CH-TZ-S1"], "ward_id": units["CH-TZ-S1-W1"]},
            },
        )
    )
    encounter = admission["id"]
    await _ok(
        await client.post(
            f"/api/v1/encounters/{encounter}/diagnoses",
            headers=doctor,
            json={"code": "E11.9", "rank": "primary"},
        )
    )
    await _ok(
        await client.post(
            f"/api/v1/encounters/{encounter}/discharge",
            headers=doctor,
            json={"at": ago(hours=2), "mode": "home"},
        ),
        200,
    )
    letter = await _ok(
        await client.post(
            f"/api/v1/encounters/{encounter}/documents",
            headers=doctor,
            json={"kind": "discharge_letter", "language": "fr"},
        )
    )
    pdf = (await client.get(letter["file"], headers=doctor)).content

    response = await get(client, doctor, "/DocumentReference", patient=patient["id"])
    bundle = valid(await _ok(response, 200))
    found = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    document = found[letter["id"]]
    assert document["type"]["coding"][0] == {
        "system": LOINC,
        "code": "18842-5",
        "display": "Discharge summary",
    }
    assert document["category"][0]["coding"][0]["code"] == "clinical-note"
    assert document["context"]["encounter"] == [{"reference": f"Encounter/{encounter}"}]
    attachment = document["content"][0]["attachment"]
    assert attachment["hash"] == sha1(pdf) and attachment["size"] == len(pdf)
    raw = await client.get(attachment["url"], headers=doctor)
    assert raw.content == pdf and raw.headers["content-type"].startswith("application/pdf")
    read = valid(await _ok(await get(client, doctor, f"/DocumentReference/{letter['id']}"), 200))
    assert read["content"] == document["content"]
    by_category = await get(
        client, doctor, "/DocumentReference", patient=patient["id"], category=f"{CATEGORY}|imaging"
    )
    assert valid(by_category.json())["total"] == 0


async def test_capability_statement_lists_document_reference_and_binary(client, auth):
    doctor = await auth("demo.doctor")
    statement = await _ok(await get(client, doctor, "/metadata"), 200)
    kinds = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {"create", "read", "search-type"} <= {
        i["code"] for i in kinds["DocumentReference"]["interaction"]
    }
    assert {"create", "read"} <= {i["code"] for i in kinds["Binary"]["interaction"]}
    assert "Not kept" in kinds["DocumentReference"]["documentation"]


async def test_imaging_files_are_documents_with_their_renditions(client, auth):
    doctor, imaging = await auth("demo.doctor"), await auth("demo.imaging_technician")
    patient = await new_patient(client, auth)
    me = (await client.get("/api/v1/auth/me", headers=doctor)).json()
    report = await _ok(
        await client.post(
            "/api/v1/imaging-reports/",
            headers=imaging,
            json={
                "patient_id": patient["id"],
                "modality": "US",
                "body_site": "Abdomen",
                "findings": "Foie homogène",
                "conclusion": "Examen normal",
                "reported_at": ago(minutes=30),
                "responsible_id": me["user_id"],
            },
        )
    )
    buffer = io.BytesIO()
    Image.new("RGB", (800, 400), (120, 130, 140)).save(buffer, format="PNG")
    picture = buffer.getvalue()
    files = await _ok(
        await client.post(
            f"/api/v1/imaging-reports/{report['id']}/files",
            headers=imaging,
            files=[("files", ("echo.png", picture, "image/png"))],
        )
    )
    original = next(f for f in files if f["role"] == "original")

    response = await get(
        client, doctor, "/DocumentReference", patient=patient["id"], category=f"{CATEGORY}|imaging"
    )
    bundle = valid(await _ok(response, 200))
    assert [e["resource"]["id"] for e in bundle["entry"]] == [original["id"]]
    document = bundle["entry"][0]["resource"]
    assert document["type"]["coding"][0]["code"] == "18748-4"
    assert document["context"]["related"] == [{"reference": f"DiagnosticReport/{report['id']}"}]
    contents = [c["attachment"] for c in document["content"]]
    assert [c["contentType"] for c in contents] == ["image/png", "image/jpeg", "image/webp"]
    assert contents[0]["title"] == "echo.png" and contents[0]["hash"] == sha1(picture)
    for attachment in contents:
        raw = await client.get(attachment["url"], headers=doctor)
        assert raw.status_code == 200 and sha1(raw.content) == attachment["hash"]
        assert raw.headers["content-type"].startswith(attachment["contentType"])
    thumbnail = await client.get(contents[1]["url"], headers=doctor | FHIR_JSON)
    assert valid(thumbnail.json())["securityContext"] == {
        "reference": f"DocumentReference/{original['id']}"
    }
    read = await get(client, doctor, f"/DocumentReference/{original['id']}")
    assert valid(read.json())["content"] == document["content"]
    other = await auth("demo.nurse.b")
    assert (await client.get(contents[0]["url"], headers=other)).status_code == 403
