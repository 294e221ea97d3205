"""Patient NNI, NSS, phones, identifiers, policy numbers: no plaintext in raw rows."""

from __future__ import annotations

from sqlalchemy import text

from afiya.adapters.crypto.envelope import AesGcmFieldCipher
from afiya.adapters.db.encrypted import ENCRYPTED_COLUMNS, rewrap_all
from tests.api.patients.helpers import facility_id, person, register

NNI, NSS, PHONE, CONTACT, PASSPORT, POLICY = (
    "4455667788",
    "987654321",
    "36998877",
    "22110099",
    "A9876543",
    "CNAM-55-4433",
)
SECRETS = (NNI, NSS, PHONE, CONTACT, PASSPORT, POLICY)


async def _raw_dump(container) -> str:
    tables = sorted({c.table for c in ENCRYPTED_COLUMNS if c.table.startswith("patient")})
    dump = []
    async with container.engine.connect() as conn:
        for table in [*tables, "patient_match_key", "change_log"]:
            rows = (await conn.execute(text(f"SELECT * FROM {table}"))).mappings().all()
            dump += [repr(dict(r)) for r in rows]
    return "\n".join(dump)


async def test_raw_rows_and_the_change_log_hold_no_plaintext_identifier(client, auth, container):
    clerk = await auth("demo.receptionist")
    unit = await facility_id(client, clerk, "CH-TZ")
    created = await register(
        client,
        clerk,
        person(
            unit,
            nni=NNI,
            nss=NSS,
            phones=[{"number": PHONE}],
            contacts=[{"name": "Mariem", "phone": CONTACT}],
            identifiers=[{"type": "passport", "value": PASSPORT}],
            payers=[{"kind": "cnam", "name": "CNAM", "coverage_rate": 90, "policy_number": POLICY}],
        ),
    )
    raw = await _raw_dump(container)
    assert created["id"].replace("-", "") in raw.replace("-", "")  # the rows are there...
    for secret in SECRETS:  # ...but no value in clear, spaced or in E.164
        assert secret not in raw and secret[-6:] not in raw, secret
    async with container.engine.connect() as conn:
        row = (await conn.execute(text("SELECT nni_enc, nni_bidx FROM patient"))).one()
    assert row.nni_enc and len(bytes(row.nni_bidx)) == 32
    # The value is still readable through the API and found by its blind index.
    found = await client.get("/api/v1/patients/", headers=clerk, params={"nni": NNI})
    assert [p["id"] for p in found.json()["items"]] == [created["id"]]
    read = (await client.get(f"/api/v1/patients/{created['id']}", headers=clerk)).json()
    assert read["nni"] == NNI and read["phones"][0]["number"] == "+222" + PHONE


async def test_key_rotation_rewraps_every_patient_column(client, auth, container):
    clerk = await auth("demo.receptionist")
    unit = await facility_id(client, clerk, "CH-TZ")
    created = await register(
        client,
        clerk,
        person(unit, nni=NNI, nss=NSS, identifiers=[{"type": "passport", "value": PASSPORT}]),
    )
    cipher = AesGcmFieldCipher(container.key_ring.with_new_current("t2"))
    async with container.sessions() as session:
        changed = await rewrap_all(session, cipher)
        await session.commit()
        nni_enc = (await session.execute(text("SELECT nni_enc FROM patient"))).scalar_one()
    assert changed == 4  # NNI, NSS, the phone and the passport (demo users have no phone)
    patient_id = str(created["id"])
    assert cipher.key_id_of(bytes(nni_enc)) == "t2"
    assert cipher.decrypt(bytes(nni_enc), f"patient:{patient_id}:nni") == NNI
