"""``_include`` and ``_revinclude`` over HTTP, for every type alike.

Data is written through /api/v1 (as the clinical and prescribing tests do). Included
resources are read through each type's own read or search, so they carry the same
permission, facility scope and audit as a direct read: what the caller may not read is
left out (never shown), and the answer says why in an ``outcome`` entry.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

from sqlalchemy import func, select

from afiya.adapters.db.models import AuditEventRow
from afiya.adapters.fhir.common import MRN_SYSTEM
from tests.api.clinical.helpers import ago, new_patient
from tests.api.fhir.helpers import FHIR, get, outcome_paths, valid
from tests.api.prescribing.helpers import dispense, medication, prescribe

PARACETAMOL = medication(
    "paracetamol-500-tab",
    dose=1000,
    dose_unit="mg",
    route="oral",
    frequency_per_day=3,
    duration_days=5,
)


async def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


async def _visit(client: Any, auth: Any) -> dict[str, Any]:
    """A CH-TZ patient with one visit and two vital signs taken during it."""
    doctor, nurse = await auth("demo.doctor"), await auth("demo.nurse")
    patient = await new_patient(client, auth)
    visit = await _ok(
        await client.post(
            "/api/v1/encounters/",
            headers=doctor,
            json={
                "patient_id": patient["id"],
                "kind": "outpatient",
                "started_at": ago(days=1),
                "reason": "Fièvre",
            },
        )
    )
    vitals = await _ok(
        await client.post(
            f"/api/v1/patients/{patient['id']}/observations",
            headers=nurse,
            json={
                "effective_at": ago(hours=20),
                "encounter_id": visit["id"],
                "readings": [
                    {"code": "8310-5", "value": "38.4", "unit": "Cel"},
                    {"code": "pulse", "value": 96},
                ],
            },
        )
    )
    mrn = await _ok(await get(client, doctor, f"/Patient/{patient['id']}"))
    return {
        "patient": patient["id"],
        "mrn": next(i["value"] for i in mrn["identifier"] if i["system"] == MRN_SYSTEM),
        "visit": visit["id"],
        "observations": {v["id"] for v in vitals},
        "doctor": doctor,
    }


def _entries(bundle: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(mode, type, id) of each entry that holds a resource other than an outcome."""
    return [
        (e["search"]["mode"], e["resource"]["resourceType"], e["resource"]["id"])
        for e in bundle.get("entry", [])
        if e["search"]["mode"] != "outcome"
    ]


def _outcomes(bundle: dict[str, Any]) -> list[str]:
    return [
        i["diagnostics"]
        for e in bundle.get("entry", [])
        if e["search"]["mode"] == "outcome"
        for i in e["resource"]["issue"]
    ]


async def _search(client: Any, headers: Any, type_name: str, params: Any) -> dict[str, Any]:
    response = await client.get(f"{FHIR}/{type_name}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return valid(response.json())


async def _patient_reads(container: Any, patient_id: str) -> int:
    async with container.sessions() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(AuditEventRow)
            .where(AuditEventRow.action == "patient.read")
            .where(AuditEventRow.patient_id == UUID(patient_id))
        )
    return int(found or 0)


class TestInclude:
    async def test_observations_include_their_patient_once_and_the_read_is_audited(
        self, client, auth, container
    ):
        r = await _visit(client, auth)
        query = {"patient": f"Patient/{r['patient']}"}
        before = await _patient_reads(container, r["patient"])
        await _search(client, r["doctor"], "Observation", query)
        assert await _patient_reads(container, r["patient"]) == before  # no include, no read

        bundle = await _search(
            client, r["doctor"], "Observation", {**query, "_include": "Observation:patient"}
        )

        found = _entries(bundle)
        assert sorted(found) == sorted(
            [("match", "Observation", o) for o in r["observations"]]
            + [("include", "Patient", r["patient"])]
        )
        assert bundle["total"] == 2  # includes are not counted
        assert await _patient_reads(container, r["patient"]) == before + 1

    async def test_the_encounter_of_observations_and_the_target_form_are_included(
        self, client, auth
    ):
        r = await _visit(client, auth)

        bundle = await _search(
            client,
            r["doctor"],
            "Observation",
            {"patient": f"Patient/{r['patient']}", "_include": "Observation:encounter:Encounter"},
        )

        assert [f for f in _entries(bundle) if f[0] == "include"] == [
            ("include", "Encounter", r["visit"])
        ]

    async def test_next_links_keep_the_includes_and_summary_count_ignores_them(self, client, auth):
        r = await _visit(client, auth)
        query = {
            "patient": f"Patient/{r['patient']}",
            "_include": "Observation:patient",
            "_count": "1",
        }

        first = await _search(client, r["doctor"], "Observation", query)
        following = next(link["url"] for link in first["link"] if link["relation"] == "next")
        assert ("_include", "Observation:patient") in parse_qsl(urlsplit(following).query)
        second = await _search(
            client, r["doctor"], "Observation", parse_qsl(urlsplit(following).query)
        )
        counted = await _search(client, r["doctor"], "Observation", {**query, "_summary": "count"})

        for page in (first, second):
            modes = sorted((mode, kind) for mode, kind, _ in _entries(page))
            assert modes == [("include", "Patient"), ("match", "Observation")]
        assert counted["total"] == 2 and "entry" not in counted

    async def test_medication_requests_include_their_medication(self, client, auth):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        rx = await _ok(await prescribe(client, doctor, patient["id"], PARACETAMOL, PARACETAMOL))

        bundle = await _search(
            client,
            doctor,
            "MedicationRequest",
            {"patient": f"Patient/{patient['id']}", "_include": "MedicationRequest:medication"},
        )

        assert sorted(_entries(bundle)) == sorted(
            [("match", "MedicationRequest", line["id"]) for line in rx["lines"]]
            + [("include", "Medication", "paracetamol-500-tab")]
        )


class TestRevinclude:
    async def test_a_patient_brings_its_observations_and_encounters(self, client, auth):
        r = await _visit(client, auth)

        bundle = await _search(
            client,
            r["doctor"],
            "Patient",
            [
                ("identifier", f"{MRN_SYSTEM}|{r['mrn']}"),
                ("_revinclude", "Observation:patient"),
                ("_revinclude", "Encounter:patient"),
            ],
        )

        assert sorted(_entries(bundle)) == sorted(
            [("match", "Patient", r["patient"]), ("include", "Encounter", r["visit"])]
            + [("include", "Observation", o) for o in r["observations"]]
        )
        assert _outcomes(bundle) == []

    async def test_a_medication_request_brings_its_dispensings(self, client, auth):
        doctor, pharmacist = await auth("demo.doctor"), await auth("demo.pharmacist")
        patient = await new_patient(client, auth)
        rx = await _ok(await prescribe(client, doctor, patient["id"], PARACETAMOL))
        line = rx["lines"][0]["id"]
        handed = await _ok(await dispense(client, pharmacist, line, quantity=15))

        bundle = await _search(
            client,
            doctor,
            "MedicationRequest",
            {"_id": line, "_revinclude": "MedicationDispense:prescription"},
        )

        assert _entries(bundle) == [
            ("match", "MedicationRequest", line),
            ("include", "MedicationDispense", handed["id"]),
        ]


class TestAccess:
    async def test_a_receptionist_gets_the_patient_but_never_its_observations(self, client, auth):
        r = await _visit(client, auth)
        desk = await auth("demo.receptionist")  # patients:read, no clinical:read

        bundle = await _search(
            client,
            desk,
            "Patient",
            {"identifier": f"{MRN_SYSTEM}|{r['mrn']}", "_revinclude": "Observation:patient"},
        )

        assert _entries(bundle) == [("match", "Patient", r["patient"])]
        text = str(bundle)
        assert not [o for o in r["observations"] if o in text]
        assert [t for t in _outcomes(bundle) if "Observation" in t]  # says why, not what

    async def test_a_pharmacist_gets_no_appointment_of_the_patient(self, client, auth):
        r = await _visit(client, auth)
        pharmacist = await auth("demo.pharmacist")  # no appointments:read

        bundle = await _search(
            client,
            pharmacist,
            "Patient",
            {"_id": r["patient"], "_revinclude": "Appointment:patient"},
        )

        assert _entries(bundle) == [("match", "Patient", r["patient"])]


class TestRefused:
    async def test_an_unsupported_pair_answers_400_naming_the_parameter(self, client, auth):
        r = await _visit(client, auth)
        patient = f"Patient/{r['patient']}"
        cases = [
            ("Observation", {"patient": patient, "_include": "Observation:performer"}, "_include"),
            ("Observation", {"patient": patient, "_include": "Encounter:patient"}, "_include"),
            (
                "Observation",
                {"patient": patient, "_include": "Observation:patient:Practitioner"},
                "_include",
            ),
            (
                "Encounter",
                {"patient": patient, "_revinclude": "Observation:encounter"},
                "_revinclude",
            ),
            ("Patient", {"_id": r["patient"], "_revinclude": "Medication:patient"}, "_revinclude"),
        ]
        for type_name, params, parameter in cases:
            response = await client.get(f"{FHIR}/{type_name}", headers=r["doctor"], params=params)
            assert response.status_code == 400, (params, response.text)
            assert outcome_paths(response) == [parameter], params
        iterate = await client.get(
            f"{FHIR}/Observation",
            headers=r["doctor"],
            params={"patient": patient, "_include:iterate": "Observation:patient"},
        )
        assert iterate.status_code == 400


class TestCapabilityStatement:
    async def test_metadata_lists_the_pairs_served(self, client, auth):
        doctor = await auth("demo.doctor")

        statement = (await get(client, doctor, "/metadata")).json()

        kinds = {k["type"]: k for k in statement["rest"][0]["resource"]}
        assert {"Observation:patient", "Observation:encounter"} <= set(
            kinds["Observation"]["searchInclude"]
        )
        assert {"Observation:patient", "Encounter:patient", "Appointment:patient"} <= set(
            kinds["Patient"]["searchRevInclude"]
        )
        assert kinds["MedicationRequest"]["searchInclude"] == [
            "MedicationRequest:medication",
            "MedicationRequest:patient",
        ]
        assert kinds["MedicationRequest"]["searchRevInclude"] == ["MedicationDispense:prescription"]
        assert "searchRevInclude" not in kinds["Encounter"]  # Observation?encounter= is not served


class TestDirectory:
    async def test_a_practitioner_brings_its_roles_and_a_role_its_organization(self, client, auth):
        clerk = await auth("demo.receptionist")
        doctor_id = (
            await _ok(await client.get("/api/v1/auth/me", headers=await auth("demo.doctor")))
        )["user_id"]

        bundle = await _search(
            client,
            clerk,
            "Practitioner",
            {"_id": doctor_id, "_revinclude": "PractitionerRole:practitioner"},
        )
        roles = [f for f in _entries(bundle) if f[1] == "PractitionerRole"]
        role_bundle = await _search(
            client,
            clerk,
            "PractitionerRole",
            {
                "practitioner": f"Practitioner/{doctor_id}",
                "_include": "PractitionerRole:organization",
            },
        )

        assert roles and {mode for mode, _, _ in roles} == {"include"}
        organizations = [f for f in _entries(role_bundle) if f[1] == "Organization"]
        assert organizations and {mode for mode, _, _ in organizations} == {"include"}
