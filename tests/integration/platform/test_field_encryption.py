"""Encrypted fields: unreadable in the raw row, found by blind index, bound to their row."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from afiya.adapters.crypto.envelope import AesGcmFieldCipher
from afiya.adapters.db.encrypted import rewrap_all
from afiya.adapters.db.models import UserRow
from afiya.domain.platform.crypto import DecryptionError

PHONE = "+22236123456"


async def _create_user_with_phone(client, auth, username="agent.phone", phone=PHONE):
    admin = await auth("demo.facility_admin")
    units = (await client.get("/api/v1/org-units/", params={"q": "CH-TZ"}, headers=admin)).json()[
        "items"
    ]
    facility = next(u for u in units if u["code"] == "CH-TZ")
    response = await client.post(
        "/api/v1/users/",
        headers=admin,
        json={
            "username": username,
            "full_name": "Agent",
            "password": "Long-enough-pass-1",
            "roles": ["nurse"],
            "unit_ids": [facility["id"]],
            "phone": phone,
        },
    )
    assert response.status_code == 201, response.text
    return admin, response.json()


async def test_the_raw_row_holds_no_plaintext_phone(client, auth, container):
    await _create_user_with_phone(client, auth)
    async with container.engine.connect() as conn:
        rows = (
            (await conn.execute(text("SELECT * FROM app_user WHERE username = 'agent.phone'")))
            .mappings()
            .all()
        )
    raw = repr(dict(rows[0]))
    assert PHONE not in raw and PHONE[4:] not in raw
    assert rows[0]["phone_enc"] is not None and rows[0]["phone_bidx"] is not None


async def test_lookup_by_blind_index_finds_the_user(client, auth):
    admin, created = await _create_user_with_phone(client, auth)
    found = await client.get("/api/v1/users/", params={"phone": PHONE}, headers=admin)
    assert [u["id"] for u in found.json()["items"]] == [created["id"]]
    other = await client.get("/api/v1/users/", params={"phone": "+22236000000"}, headers=admin)
    assert other.json()["items"] == []


async def test_a_ciphertext_moved_to_another_row_does_not_decrypt(client, auth, container):
    await _create_user_with_phone(client, auth, "agent.one", PHONE)
    await _create_user_with_phone(client, auth, "agent.two", "+22246999999")
    async with container.uow(_ctx()) as uow:
        one = await uow.users.get_by_username("agent.one")
        two = await uow.users.get_by_username("agent.two")
        assert await uow.users.phone_of(one.id) == PHONE
        stolen = (
            await uow.session.execute(select(UserRow.phone_enc).where(UserRow.id == one.id))
        ).scalar_one()
        await uow.session.execute(
            update(UserRow).where(UserRow.id == two.id).values(phone_enc=stolen)
        )
        with pytest.raises(DecryptionError):
            await uow.users.phone_of(two.id)


async def test_key_rotation_rewraps_and_old_values_still_decrypt(client, auth, container):
    await _create_user_with_phone(client, auth)
    new_ring = container.key_ring.with_new_current("t2")
    cipher = AesGcmFieldCipher(new_ring)
    async with container.sessions() as session:
        changed = await rewrap_all(session, cipher)
        await session.commit()
        blob, user_id = (
            await session.execute(
                select(UserRow.phone_enc, UserRow.id).where(UserRow.username == "agent.phone")
            )
        ).one()
    assert changed == 1
    assert cipher.key_id_of(blob) == "t2"
    assert cipher.decrypt(blob, f"app_user:{user_id}:phone") == PHONE
    with pytest.raises(DecryptionError):  # the old ring alone no longer knows the key
        AesGcmFieldCipher(container.key_ring).decrypt(blob, f"app_user:{user_id}:phone")


def _ctx():
    from afiya.adapters.seed.demo import SYSTEM_CONTEXT

    return SYSTEM_CONTEXT


def test_values_sealed_together_open_one_by_one_and_stay_bound_to_their_row():
    """The bulk path's ``encrypt_many`` (one data key per batch) yields ordinary envelopes:
    each decrypts alone, only in its own context, and rewraps after a key rotation."""
    from afiya.adapters.crypto.envelope import KeyRing

    ring = KeyRing.generate()
    cipher = AesGcmFieldCipher(ring)
    items = [(f"+22236{i:06d}", f"patient_phone:{i}:number") for i in range(50)]
    sealed = cipher.encrypt_many(items)
    assert len(set(sealed)) == len(items)
    assert [cipher.decrypt(c, ctx) for c, (_, ctx) in zip(sealed, items, strict=True)] == [
        plain for plain, _ in items
    ]
    with pytest.raises(DecryptionError):
        cipher.decrypt(sealed[0], items[1][1])
    rotated = AesGcmFieldCipher(ring.with_new_current("k2"))
    moved = rotated.rewrap(sealed[3])
    assert rotated.key_id_of(moved) == "k2"
    assert rotated.decrypt(moved, items[3][1]) == items[3][0]
