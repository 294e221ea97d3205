"""Organization, Location, Practitioner(Role), Appointment, Schedule, AuditEvent, metadata.

Every resource produced validates with fhir.resources; scope and permissions are those
of /api/v1; appointments and audit events are read with their patient audited.
"""

from __future__ import annotations

from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from sqlalchemy import select

from afiya.adapters.db.models import AuditEventRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.api.app import create_app
from tests.api.fhir.agenda_setup import morning_clock, morning_container, open_agenda, unit_id  # noqa: F401
from tests.api.fhir.helpers import get, person, post, valid
from tests.api.patients.helpers import facility_id


async def _book(client, container, desk):
    """A facility schedule, a patient and an appointment, made through /api/v1."""
    agenda = await open_agenda(client, container, desk, "CONS", "Consultation", 30)
    fid, day, doctor = agenda["facility"], agenda["day"], agenda["doctor"]
    patient = await post(client, desk, "/Patient", person(fid))
    assert patient.status_code == 201, patient.text
    patient_id = patient.json()["id"]
    booked = await client.post(
        "/api/v1/appointments/",
        headers=desk,
        json={
            "patient_id": patient_id,
            "practitioner_id": doctor,
            "appointment_type_id": agenda["type"],
            "starts_at": f"{day}T09:00:00Z",
        },
    )
    assert booked.status_code == 201, booked.text
    return agenda | {"patient": patient_id, "appointment": booked.json()["id"]}


class TestMetadata:
    async def test_the_capability_statement_validates_and_matches_the_routes(self, client):
        response = await client.get("/fhir/R4/metadata")  # public, as FHIR clients expect
        assert response.status_code == 200
        statement = response.json()
        CapabilityStatement.model_validate(statement)
        declared = {
            (r["type"], i["code"])
            for r in statement["rest"][0]["resource"]
            for i in r["interaction"]
        }
        app = create_app(None, start_jobs=False)
        paths = {route.path for route in app.routes if route.path.startswith("/fhir/R4/")}
        for kind, code in declared:
            expected = {
                "read": f"/fhir/R4/{kind}/{{rid:str}}",
                "search-type": f"/fhir/R4/{kind}",
                "vread": f"/fhir/R4/{kind}/{{rid:str}}/_history/{{vid:int}}",
                "history-instance": f"/fhir/R4/{kind}/{{rid:str}}/_history",
                "create": f"/fhir/R4/{kind}",
                "update": f"/fhir/R4/{kind}/{{rid:str}}",
                "delete": f"/fhir/R4/{kind}/{{rid:str}}",
            }[code]
            assert expected in paths, (kind, code)
        patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
        assert {p["name"] for p in patient["searchParam"]} >= {
            "identifier",
            "name",
            "family",
            "given",
            "birthdate",
            "gender",
            "phone",
            "_lastUpdated",
        }
        assert patient["conditionalCreate"] is True
        assert patient["operation"][0]["name"] == "everything"


class TestDirectory:
    async def test_org_units_are_organizations_and_locations_within_scope(self, client, auth):
        clerk = await auth("demo.receptionist")
        fid = await facility_id(client, clerk, "CH-TZ")
        sid = await unit_id(client, clerk, "CH-TZ-S1")
        org = valid((await get(client, clerk, f"/Organization/{fid}")).json())
        assert org["type"][0]["coding"][0]["code"] == "facility"
        assert "partOf" in org
        location = valid((await get(client, clerk, f"/Location/{sid}")).json())
        assert location["managingOrganization"]["reference"] == f"Organization/{fid}"
        assert location["partOf"]["reference"] == f"Location/{fid}"
        children = valid((await get(client, clerk, "/Location", partof=f"Location/{fid}")).json())
        assert sid in {e["resource"]["id"] for e in children["entry"]}
        named = valid(
            (await get(client, clerk, "/Organization", name=org["name"].split()[0])).json()
        )
        assert fid in {e["resource"]["id"] for e in named["entry"]}
        other = await auth("demo.receptionist.b")
        assert (await get(client, other, f"/Organization/{fid}")).status_code == 403

    async def test_clinical_staff_are_practitioners_with_their_roles(self, client, auth, container):
        clerk = await auth("demo.receptionist")
        async with container.uow(SYSTEM_CONTEXT) as uow:
            doctor = await uow.users.get_by_username("demo.doctor")
        found = valid((await get(client, clerk, "/Practitioner", _count=100)).json())
        ids = {e["resource"]["id"] for e in found["entry"]}
        assert str(doctor.id) in ids
        practitioner = valid((await get(client, clerk, f"/Practitioner/{doctor.id}")).json())
        codes = {c["code"] for q in practitioner["qualification"] for c in q["code"]["coding"]}
        assert "doctor" in codes
        assert "username" not in str(practitioner)
        roles = valid(
            (
                await get(
                    client, clerk, "/PractitionerRole", practitioner=f"Practitioner/{doctor.id}"
                )
            ).json()
        )
        role = roles["entry"][0]["resource"]
        assert role["practitioner"]["reference"] == f"Practitioner/{doctor.id}"
        again = valid((await get(client, clerk, f"/PractitionerRole/{role['id']}")).json())
        assert again == role


class TestAgenda:
    async def test_appointments_search_include_everything_and_audit(self, client, auth, container):
        desk = await auth("demo.receptionist")
        ids = await _book(client, container, desk)
        appointment = valid((await get(client, desk, f"/Appointment/{ids['appointment']}")).json())
        assert appointment["status"] == "booked"
        actors = {p["actor"]["reference"] for p in appointment["participant"]}
        assert actors == {
            f"Patient/{ids['patient']}",
            f"Practitioner/{ids['doctor']}",
            f"Location/{ids['service']}",
        }
        found = valid(
            (
                await client.get(
                    "/fhir/R4/Appointment",
                    headers=desk,
                    params={
                        "patient": f"Patient/{ids['patient']}",
                        "date": ids["day"],
                        "status": "booked",
                        "_include": "Appointment:patient",
                    },
                )
            ).json()
        )
        modes = sorted((e["search"]["mode"], e["resource"]["resourceType"]) for e in found["entry"])
        assert modes == [("include", "Patient"), ("match", "Appointment")]
        none = valid((await get(client, desk, "/Appointment", status="cancelled")).json())
        assert none["total"] == 0
        later = valid((await get(client, desk, "/Appointment", date=f"gt{ids['day']}")).json())
        assert later["total"] == 0

        everything = valid(
            (await get(client, desk, f"/Patient/{ids['patient']}/$everything")).json()
        )
        assert sorted(e["resource"]["resourceType"] for e in everything["entry"]) == [
            "Appointment",
            "Patient",
        ]
        async with container.sessions() as session:
            reads = (
                (
                    await session.execute(
                        select(AuditEventRow).where(AuditEventRow.action == "appointment.read")
                    )
                )
                .scalars()
                .all()
            )
        assert reads and {str(r.patient_id) for r in reads} == {ids["patient"]}

        outsider = await auth("demo.receptionist.b")
        assert (
            await get(client, outsider, f"/Appointment/{ids['appointment']}")
        ).status_code == 403
        assert valid((await get(client, outsider, "/Appointment")).json())["total"] == 0

    async def test_appointment_versions_come_from_the_change_log(self, client, auth, container):
        desk = await auth("demo.receptionist")
        ids = await _book(client, container, desk)
        cancelled = await client.post(
            f"/api/v1/appointments/{ids['appointment']}/cancel",
            headers=desk,
            json={"reason": "voyage"},
        )
        assert cancelled.status_code == 200, cancelled.text
        base = f"/Appointment/{ids['appointment']}"
        now = valid((await get(client, desk, base)).json())
        assert now["status"] == "cancelled" and now["meta"]["versionId"] == "2"
        first = valid((await get(client, desk, f"{base}/_history/1")).json())
        assert first["status"] == "booked" and first["meta"]["versionId"] == "1"
        history = valid((await get(client, desk, f"{base}/_history")).json())
        assert [e["resource"]["status"] for e in history["entry"]] == ["cancelled", "booked"]
        outsider = await auth("demo.receptionist.b")
        assert (await get(client, outsider, f"{base}/_history")).status_code == 403

    async def test_slots_are_computed_free_starts_around_the_bookings(
        self, client, auth, container
    ):
        desk = await auth("demo.receptionist")
        ids = await _book(client, container, desk)  # 09:00-09:30 is booked
        response = await get(
            client, desk, "/Slot", schedule=f"Schedule/{ids['schedule']}", start=ids["day"]
        )
        assert response.status_code == 200, response.text
        bundle = valid(response.json())
        starts = [e["resource"]["start"][11:16] for e in bundle["entry"]]
        assert starts[0] == "08:00" and "11:30" in starts
        assert not {"08:45", "09:00", "09:15"} & set(starts)  # they would overlap 09:00-09:30
        assert bundle["total"] == len(starts)
        slot = bundle["entry"][0]["resource"]
        assert slot["status"] == "free"
        assert slot["schedule"]["reference"] == f"Schedule/{ids['schedule']}"
        later = valid(
            (
                await client.get(
                    "/fhir/R4/Slot",
                    headers=desk,
                    params=[
                        ("schedule", f"Schedule/{ids['schedule']}"),
                        ("start", f"ge{ids['day']}T10:00:00Z"),
                        ("start", f"lt{ids['day']}T11:00:00Z"),
                    ],
                )
            ).json()
        )
        assert [e["resource"]["start"][11:16] for e in later["entry"]] == [
            "10:00",
            "10:15",
            "10:30",
            "10:45",
        ]
        assert (await get(client, desk, "/Slot")).status_code == 400
        assert (await get(client, desk, "/Slot/abc")).status_code == 405
        outsider = await auth("demo.receptionist.b")
        hidden = await get(client, outsider, "/Slot", schedule=f"Schedule/{ids['schedule']}")
        assert valid(hidden.json())["total"] == 0

    async def test_schedules_read_and_search(self, client, auth, container):
        desk = await auth("demo.receptionist")
        ids = await _book(client, container, desk)
        schedule = valid((await get(client, desk, f"/Schedule/{ids['schedule']}")).json())
        assert schedule["actor"][0]["reference"] == f"Practitioner/{ids['doctor']}"
        found = valid(
            (await get(client, desk, "/Schedule", actor=f"Practitioner/{ids['doctor']}")).json()
        )
        assert found["total"] == 1


class TestAuditEvents:
    async def test_an_auditor_reads_a_patients_trail_as_audit_events(self, client, auth, container):
        desk = await auth("demo.receptionist")
        fid = await facility_id(client, desk, "CH-TZ")
        created = (await post(client, desk, "/Patient", person(fid))).json()
        await get(client, desk, f"/Patient/{created['id']}")
        auditor = await auth("demo.auditor")
        found = valid(
            (await get(client, auditor, "/AuditEvent", patient=f"Patient/{created['id']}")).json()
        )
        actions = [e["resource"]["type"]["code"] for e in found["entry"]]
        assert "patient.create" in actions and "patient.read" in actions
        event = found["entry"][0]["resource"]
        assert event["entity"][0]["what"]["reference"] == f"Patient/{created['id']}"
        one = valid((await get(client, auditor, f"/AuditEvent/{event['id']}")).json())
        assert one["id"] == event["id"]
        assert (await get(client, auditor, "/AuditEvent")).status_code == 400
        assert (await get(client, desk, "/AuditEvent", patient=created["id"])).status_code == 403
