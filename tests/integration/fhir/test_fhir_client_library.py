"""A real FHIR client library (fhirpy) against Afiya served over HTTP by uvicorn.

fhirpy builds its own requests (query encoding, ``Accept``, JSON bodies) and follows the
server's Bundle ``next`` links itself, so these tests check that a stock client can
register, search, page, count, read and receive errors, not only our own test helpers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from fhirpy import AsyncFHIRClient
from fhirpy.base.exceptions import (
    MultipleResourcesFound,
    OperationOutcome,
    ResourceNotFound,
)

from afiya.adapters.fhir.common import IDENTIFIER_SYSTEM, MRN_SYSTEM, NNI_SYSTEM
from tests.api.fhir.helpers import valid
from tests.api.patients.helpers import facility_id

FAMILY = "Ould Bench"
GIVEN = [
    "Mohamed", "Ahmed", "Sidi", "Cheikh", "Abdallahi", "Brahim", "Moussa", "Oumar",
    "Mamadou", "Ousmane", "Amadou", "Yacoub", "Ismail", "Mahfoud", "Bilal", "Hamoud",
    "Boubacar", "Issa", "Elhadj", "Moctar", "Lemine", "Isselmou", "Souleymane", "Hamadi",
    "Khalil",
]  # fmt: skip


class RecordingClient(AsyncFHIRClient):
    """fhirpy's client, unchanged, remembering the URLs its searches fetched."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fetched: list[tuple[str, Any]] = []

    async def _fetch_resource(self, path: Any, params: Any = None) -> Any:
        self.fetched.append((str(path), params))
        return await super()._fetch_resource(path, params)


@pytest.fixture
async def server(client: Any, shared_app: Any) -> AsyncIterator[str]:
    """The app (its container set by ``client``) served by uvicorn on a free port, on the
    test's own event loop (asyncpg connections belong to it)."""
    config = uvicorn.Config(
        shared_app, host="127.0.0.1", port=0, lifespan="off", log_level="warning"
    )
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve())
    for _ in range(250):
        if instance.started:
            break
        await asyncio.sleep(0.02)
    assert instance.started, "uvicorn did not start"
    port = instance.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/fhir/R4"
    instance.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


def fhir_client(base: str, headers: dict[str, str], **extra: str) -> RecordingClient:
    return RecordingClient(base, authorization=headers["Authorization"], extra_headers=extra)


def _born(i: int) -> str:
    """Distinct birth dates, registered out of order (the sort must do the work)."""
    j = (i * 7) % len(GIVEN)
    return f"{1950 + 2 * j}-{1 + j % 12:02d}-{1 + j % 28:02d}"


async def _register_family(fhir: AsyncFHIRClient, unit: str) -> list[Any]:
    made = []
    for i, given in enumerate(GIVEN):
        patient = fhir.resource(
            "Patient",
            identifier=[{"system": NNI_SYSTEM, "value": f"{7_100_000_000 + i}"}],
            name=[{"use": "official", "family": FAMILY, "given": [given]}],
            gender="male",
            birthDate=_born(i),
            telecom=[{"system": "phone", "value": f"+222 4{i:03d} {1000 + 37 * i:04d}"}],
            managingOrganization={"reference": f"Organization/{unit}"},
        )
        await patient.save()
        assert patient.id and patient["meta"]["versionId"] == "1"
        made.append(patient)
    return made


async def test_fhirpy_registers_searches_and_pages_through_the_results(
    client: Any, auth: Any, server: str
) -> None:
    clerk = await auth("demo.receptionist")
    unit = await facility_id(client, clerk, "CH-TZ")
    fhir = fhir_client(server, clerk)
    made = await _register_family(fhir, unit)
    assert len({p.id for p in made}) == len(GIVEN) == 25

    search = fhir.resources("Patient").search(family="ould bench").sort("birthdate").limit(10)
    first = await search.fetch()
    assert len(first) == 10
    fhir.fetched.clear()
    every = await search.fetch_all()  # fhirpy follows the Bundle's next links itself
    ids = [p.id for p in every]
    assert len(ids) == 25 and len(set(ids)) == 25
    assert set(ids) == {p.id for p in made}
    births = [p["birthDate"] for p in every]
    assert births == sorted(births) and births != [p["birthDate"] for p in made]
    # three pages: the first from the search, then two absolute next links on this server
    assert len(fhir.fetched) == 3
    assert fhir.fetched[0][0] == "Patient"
    for url, params in fhir.fetched[1:]:
        assert url.startswith(server + "/Patient?") and params is None
    assert "_offset=10" in fhir.fetched[1][0] and "_offset=20" in fhir.fetched[2][0]
    assert "_count=10" in fhir.fetched[1][0] and "_sort=birthdate" in fhir.fetched[2][0]

    descending = (
        await fhir.resources("Patient")
        .search(family="ould bench")
        .sort("-birthdate")
        .limit(7)
        .fetch_all()
    )
    assert [p.id for p in descending] == list(reversed(ids))

    raw = await search.fetch_raw()  # the Bundle as fhirpy received it
    valid(raw.serialize() if hasattr(raw, "serialize") else dict(raw))
    assert raw["total"] == 25
    assert {link["relation"] for link in raw["link"]} == {"self", "next"}


async def test_fhirpy_counts_reads_by_id_finds_by_identifier_and_gets_outcomes(
    client: Any, auth: Any, server: str
) -> None:
    clerk = await auth("demo.receptionist")
    unit = await facility_id(client, clerk, "CH-TZ")
    fhir = fhir_client(server, clerk)
    made = await _register_family(fhir, unit)

    # _summary=count: the total alone, no entries
    counted = (
        await fhir.resources("Patient").search(family="ould bench", _summary="count").fetch_raw()
    )
    assert counted["total"] == 25 and "entry" not in counted
    # fhirpy's count() adds the Aidbox-only parameter _totalMethod: Afiya refuses an
    # unknown parameter (ADR 0109) unless the client asks for lenient handling.
    with pytest.raises(OperationOutcome) as refused:
        await fhir.resources("Patient").search(family="ould bench").count()
    assert "_totalMethod" in str(refused.value)
    lenient = fhir_client(server, clerk, Prefer="handling=lenient")
    assert await lenient.resources("Patient").search(family="ould bench").count() == 25
    assert (
        await lenient.resources("Patient").search(family="ould bench", gender="female").count() == 0
    )

    # read by id
    chosen = made[11]
    read = await fhir.get("Patient", chosen.id)
    assert read["id"] == chosen.id and read["name"][0]["given"] == ["Yacoub"]
    resource = await fhir.reference("Patient", chosen.id).to_resource()
    assert resource["birthDate"] == chosen["birthDate"]
    with pytest.raises(ResourceNotFound):
        await fhir.get("Patient", "0190e6c2-0000-7000-8000-000000000000")

    # search by identifier: NNI, then the MRN Afiya issued
    found = await fhir.resources("Patient").search(identifier=f"{NNI_SYSTEM}|7100000011").get()
    assert found.id == chosen.id
    mrn = next(i["value"] for i in read["identifier"] if i["system"] == MRN_SYSTEM)
    assert (await fhir.resources("Patient").search(identifier=f"{MRN_SYSTEM}|{mrn}").get()).id == (
        chosen.id
    )
    with pytest.raises(ResourceNotFound):
        await fhir.resources("Patient").search(identifier=f"{NNI_SYSTEM}|7199999999").get()
    with pytest.raises(MultipleResourcesFound):
        await fhir.resources("Patient").search(family="ould bench").get()

    # conditional create as fhirpy sends it: the search in the POST's query string
    passport = f"{IDENTIFIER_SYSTEM}passport|P004200"
    newcomer = {
        "identifier": [{"system": f"{IDENTIFIER_SYSTEM}passport", "value": "P004200"}],
        "name": [{"family": "Mint Probe", "given": ["Salka"]}],
        "gender": "female",
        "birthDate": "1990-01-01",
        "managingOrganization": {"reference": f"Organization/{unit}"},
    }
    by_passport = fhir.resources("Patient").search(identifier=passport)
    first, created = await by_passport.get_or_create(fhir.resource("Patient", **newcomer))
    again, created_again = await by_passport.get_or_create(fhir.resource("Patient", **newcomer))
    assert created and not created_again and again.id == first.id
    assert await lenient.resources("Patient").search(identifier=passport).count() == 1

    # an invalid resource: 400 OperationOutcome, surfaced as fhirpy's exception
    bad = fhir.resource(
        "Patient", name=[{"family": "Ould Bench", "given": ["Test"]}], active="maybe",
        birthDate="2001-02-30", managingOrganization={"reference": f"Organization/{unit}"},
    )  # fmt: skip
    with pytest.raises(OperationOutcome) as invalid:
        await bad.save()
    outcome = invalid.value.resource
    assert outcome["resourceType"] == "OperationOutcome"
    paths = {e for i in outcome["issue"] for e in i.get("expression", [])}
    assert paths == {"Patient.active", "Patient.birthDate"}, outcome
    assert bad.id is None
    assert await lenient.resources("Patient").search(family="ould bench").count() == 25
