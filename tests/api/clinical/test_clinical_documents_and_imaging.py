"""Discharge letters (PDF in French and Arabic, read back as text), imaging files in the
blob store (thumbnail and WebP renditions, DICOM kept as is with its key tags)."""

from __future__ import annotations

import io
import struct

from PIL import Image
from pypdf import PdfReader

from tests.api.clinical.helpers import (
    ARABIC_FAMILY,
    ARABIC_GIVEN,
    ago,
    new_patient,
    timeline,
    unit_ids,
)
from tests.conftest import needs_fonts


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def _closed_admission(client, doctor, patient, units):
    admission = await client.post(
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
    assert admission.status_code == 201, admission.text
    encounter_id = admission.json()["id"]
    added = await client.post(
        f"/api/v1/encounters/{encounter_id}/diagnoses",
        headers=doctor,
        json={"code": "E11.9", "rank": "primary"},
    )
    assert added.status_code == 201, added.text
    return encounter_id


@needs_fonts
async def test_discharge_letters_in_arabic_and_french_read_back_and_are_on_the_timeline(
    client, auth
):
    doctor = await auth("demo.doctor")
    patient = await new_patient(client, auth)
    units = await unit_ids(client, doctor)
    encounter_id = await _closed_admission(client, doctor, patient, units)
    url = f"/api/v1/encounters/{encounter_id}/documents"
    body = {"kind": "discharge_letter", "treatments": ["Metformine 500 mg x 2/j"]}

    too_early = await client.post(url, headers=doctor, json={**body, "language": "fr"})
    assert too_early.status_code == 409
    assert too_early.json()["code"] == "document_not_ready"
    closed = await client.post(
        f"/api/v1/encounters/{encounter_id}/discharge",
        headers=doctor,
        json={"at": ago(hours=2), "mode": "home"},
    )
    assert closed.status_code == 200, closed.text

    texts = {}
    for language in ("ar", "fr"):
        issued = await client.post(url, headers=doctor, json={**body, "language": language})
        assert issued.status_code == 201, issued.text
        document = issued.json()
        assert document["language"] == language and document["content_type"] == "application/pdf"
        pdf = await client.get(document["file"], headers=doctor)
        assert pdf.status_code == 200
        assert pdf.headers["content-type"].startswith("application/pdf")
        texts[language] = _text(pdf.content)
    assert f"{ARABIC_GIVEN} {ARABIC_FAMILY}" in texts["ar"]  # logical order, shaped glyphs
    assert patient["mrn"] in texts["ar"] and patient["mrn"] in texts["fr"]
    assert "Type 2 diabetes mellitus without complications" in texts["fr"].replace("\n", " ")
    assert "E11.9" in texts["fr"]

    page = await timeline(client, doctor, patient["id"], types="document")
    assert len(page["items"]) == 2
    assert all(i["link"].startswith("/api/v1/documents/") for i in page["items"])
    nurse_b = await auth("demo.nurse.b")
    denied = await client.get(page["items"][0]["link"], headers=nurse_b)
    assert denied.status_code == 403


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 130, 140)).save(buffer, format="PNG")
    return buffer.getvalue()


def _element(group: int, element: int, vr: bytes, value: bytes) -> bytes:
    if len(value) % 2:
        value += b" " if vr != b"UI" else b"\x00"
    if vr in (b"OB", b"SQ", b"UN", b"UT"):
        return (
            struct.pack("<HH", group, element)
            + vr
            + b"\x00\x00"
            + struct.pack("<I", len(value))
            + value
        )
    return struct.pack("<HH", group, element) + vr + struct.pack("<H", len(value)) + value


def _dicom() -> bytes:
    """A small DICOM Part 10 file, explicit VR little endian, with a few key tags."""
    meta = _element(0x0002, 0x0010, b"UI", b"1.2.840.10008.1.2.1")
    header = b"\x00" * 128 + b"DICM" + _element(0x0002, 0x0000, b"UL", struct.pack("<I", len(meta)))
    dataset = b"".join(
        [
            _element(0x0008, 0x0018, b"UI", b"1.2.826.0.1.3680043.2.1"),
            _element(0x0008, 0x0020, b"DA", b"20261201"),
            _element(0x0008, 0x0060, b"CS", b"US"),
            _element(0x0010, 0x0020, b"LO", b"MRN-TEST"),
            _element(0x0018, 0x0015, b"CS", b"ABDOMEN"),
            _element(0x0020, 0x000D, b"UI", b"1.2.826.0.1.3680043.2.9"),
            _element(0x7FE0, 0x0010, b"OB", b"\x01\x02\x03\x04"),
        ]
    )
    return header + meta + dataset


async def test_imaging_files_get_renditions_and_dicom_is_kept_with_its_key_tags(
    client, auth, container
):
    doctor = await auth("demo.doctor")
    imaging = await auth("demo.imaging_technician")
    patient = await new_patient(client, auth)
    me = (await client.get("/api/v1/auth/me", headers=doctor)).json()
    report = await client.post(
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
    assert report.status_code == 201, report.text
    report_id = report.json()["id"]
    picture, dicom = _png(2400, 1200), _dicom()
    attached = await client.post(
        f"/api/v1/imaging-reports/{report_id}/files",
        headers=imaging,
        files=[
            ("files", ("echo.png", picture, "image/png")),
            ("files", ("echo.dcm", dicom, "application/octet-stream")),
        ],
    )
    assert attached.status_code == 201, attached.text
    files = {(f["role"], f["content_type"]): f for f in attached.json()}
    assert set(files) == {
        ("original", "image/png"),
        ("thumbnail", "image/jpeg"),
        ("webp", "image/webp"),
        ("original", "application/dicom"),
    }
    thumb = files[("thumbnail", "image/jpeg")]
    assert max(thumb["width"], thumb["height"]) == 256
    assert files[("webp", "image/webp")]["width"] == 1600
    original = files[("original", "application/dicom")]
    assert original["dicom_tags"]["StudyInstanceUID"] == "1.2.826.0.1.3680043.2.9"
    assert original["dicom_tags"]["Modality"] == "US"
    assert original["study_uid"] == "1.2.826.0.1.3680043.2.9"

    kept = await client.get(original["link"], headers=doctor)
    assert kept.status_code == 200 and kept.content == dicom  # byte for byte
    webp = await client.get(files[("webp", "image/webp")]["link"], headers=doctor)
    assert Image.open(io.BytesIO(webp.content)).format == "WEBP"
    assert len(webp.content) < len(picture)

    read = await client.get(f"/api/v1/imaging-reports/{report_id}", headers=doctor)
    assert len(read.json()["files"]) == 4
    nurse = await auth("demo.nurse")
    refused = await client.post(
        f"/api/v1/imaging-reports/{report_id}/files",
        headers=nurse,
        files=[("files", ("x.png", picture, "image/png"))],
    )
    assert refused.status_code == 403
