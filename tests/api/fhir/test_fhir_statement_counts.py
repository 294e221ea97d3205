"""The SQL a FHIR search and a transaction Bundle cost does not grow per entry beyond
what each entry must write: a search of a patient's observations reads them in one query
per kind, not one by one; a Bundle of one patient's observations reads the patient once.
(Checked by counting the statements the app's engine sends, on both databases.)"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

from sqlalchemy import event

from tests.api.clinical.helpers import ago
from tests.api.fhir.helpers import get, person, post

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


@contextmanager
def counted(container):
    statements: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(container.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(container.engine.sync_engine, "before_cursor_execute", before)


def _heart_rate(subject: str, value: int) -> dict:
    return {
        "fullUrl": f"urn:uuid:{uuid.uuid4()}",
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "8867-4"}]},
            "subject": {"reference": subject},
            "effectiveDateTime": ago(minutes=value),
            "valueQuantity": {"value": value, "unit": "/min", "system": UCUM, "code": "/min"},
        },
        "request": {"method": "POST", "url": "Observation"},
    }


PEOPLE = {
    "first": {
        "name": [{"family": "Ould Sidi", "given": ["Brahim"]}],
        "birthDate": "1975-06-14",
        "telecom": [{"system": "phone", "value": "+222 46 11 22 33"}],
    },
    "second": {
        "name": [{"family": "Mint Ely", "given": ["Aicha"]}],
        "gender": "female",
        "birthDate": "1992-11-03",
        "telecom": [{"system": "phone", "value": "+222 22 98 76 54"}],
        "address": [{"state": "Hodh Ech Chargui", "district": "Néma"}],
    },
}


def _bundle(subject: str, count: int, *, who: str | None = None) -> dict:
    entries = [_heart_rate(subject, 60 + k) for k in range(count)]
    if who is not None:
        patient = {
            "fullUrl": subject,
            "resource": person(**PEOPLE[who]),
            "request": {"method": "POST", "url": "Patient"},
        }
        entries.insert(0, patient)
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


async def test_search_and_transaction_statements_do_not_grow_per_entry(client, auth, container):
    doctor = await auth("demo.doctor")
    with counted(container) as small:
        created = await post(
            client, doctor, "", _bundle(f"urn:uuid:{uuid.uuid4()}", 2, who="first")
        )
    assert created.status_code == 200, created.text
    patient_id = created.json()["entry"][0]["resource"]["id"]

    with counted(container) as large:
        more = await post(client, doctor, "", _bundle(f"urn:uuid:{uuid.uuid4()}", 6, who="second"))
    assert more.status_code == 200, more.text
    # Each further observation: its INSERT and its change-log entry (one statement on
    # PostgreSQL, two on SQLite); the patient is read only once for the whole Bundle.
    per_entry = (len(large) - len(small)) / 4
    limit = 2 if container.engine.dialect.name == "postgresql" else 3
    assert per_entry <= limit, (per_entry, large)

    async def search_cost() -> tuple[int, int]:
        with counted(container) as statements:
            found = await get(
                client, doctor, "/Observation", patient=f"Patient/{patient_id}", code="8867-4"
            )
        assert found.status_code == 200, found.text
        return len(statements), found.json()["total"]

    few, total_few = await search_cost()
    stored = await post(client, doctor, "", _bundle(f"Patient/{patient_id}", 5))
    assert stored.status_code == 200, stored.text
    many, total_many = await search_cost()
    assert (total_few, total_many) == (2, 7)
    assert many == few  # one query per kind, whatever the number of observations
