"""DHIS2 connections: settings, encrypted secrets, connection tests, permissions."""

from __future__ import annotations

from sqlalchemy import select

from afiya.adapters.db.models.dhis2 import Dhis2ConnectionRow
from tests.integration.dhis2.conftest import ADMIN_TOKEN

URL = "/api/v1/dhis2/connections/"


def _body(double, **overrides):
    return {
        "name": "SNIS",
        "base_url": double.base_url,
        "auth_kind": "basic",
        "username": "admin",
        "secret": "district",
    } | overrides


async def test_a_connection_keeps_its_secret_encrypted_and_never_returns_it(
    client, auth, container, double
):
    headers = await auth("demo.data_manager")
    created = await client.post(URL, json=_body(double), headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert "secret" not in body and body["has_secret"] is True
    assert body["chunk_size"] == 1000  # DHIS2's advice for data value sets
    async with container.sessions() as session:
        raw = (await session.execute(select(Dhis2ConnectionRow.secret_enc))).scalar_one()
    assert b"district" not in raw
    listed = (await client.get(URL, headers=headers)).json()
    assert [c["name"] for c in listed] == ["SNIS"]
    assert all("secret" not in c for c in listed)


async def test_testing_a_connection_reads_system_info_and_me_with_basic_auth(client, auth, double):
    headers = await auth("demo.data_manager")
    cid = (await client.post(URL, json=_body(double), headers=headers)).json()["id"]
    check = await client.post(f"{URL}{cid}/test", headers=headers)
    assert check.status_code == 200
    result = check.json()
    assert result["ok"] is True and result["version"] == "2.40.4"
    assert result["username"] == "admin" and result["can_write_data"] is True
    assert result["org_units"] == ["ImspTQPwCqd"]
    stored = (await client.get(f"{URL}{cid}", headers=headers)).json()
    assert stored["last_test_ok"] is True and stored["dhis2_version"] == "2.40.4"
    assert stored["system_id"] == "afiya-dhis2-double"
    assert double.requests_to("GET /api/system/info") == 1
    assert double.requests_to("GET /api/me") == 1


async def test_a_personal_access_token_works_and_a_wrong_password_is_explained(
    client, auth, double
):
    headers = await auth("demo.system_admin")
    token = _body(double, name="SNIS token", auth_kind="token", username=None, secret=ADMIN_TOKEN)
    cid = (await client.post(URL, json=token, headers=headers)).json()["id"]
    assert (await client.post(f"{URL}{cid}/test", headers=headers)).json()["ok"] is True

    wrong = await client.post(URL, json=_body(double, name="wrong", secret="nope"), headers=headers)
    result = (await client.post(f"{URL}{wrong.json()['id']}/test", headers=headers)).json()
    assert result["ok"] is False
    assert result["error_code"] == "dhis2_unauthenticated"
    english = {**headers, "Accept-Language": "en"}
    result_en = (await client.post(f"{URL}{wrong.json()['id']}/test", headers=english)).json()
    assert "refused the credentials" in result_en["error"]
    assert result["error"] != result_en["error"]  # in the caller's language


async def test_an_unreachable_server_is_reported_not_raised(client, auth):
    headers = await auth("demo.data_manager")
    body = {
        "name": "nowhere",
        "base_url": "http://127.0.0.1:9",
        "auth_kind": "basic",
        "username": "a",
        "secret": "b",
    }
    cid = (await client.post(URL, json=body, headers=headers)).json()["id"]
    result = (await client.post(f"{URL}{cid}/test", headers=headers)).json()
    assert result["ok"] is False and result["error_code"] == "dhis2_unavailable"


async def test_invalid_settings_list_every_field(client, auth):
    headers = await auth("demo.data_manager")
    response = await client.post(
        URL,
        json={
            "name": " ",
            "base_url": "http://dhis2.example.org",
            "auth_kind": "token",
            "secret": "not a token",
            "chunk_size": 0,
            "concurrency": 50,
        },
        headers=headers,
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"name", "base_url", "secret", "chunk_size", "concurrency"}
    basic = await client.post(
        URL,
        json={"name": "x", "base_url": "https://h.example", "auth_kind": "basic", "secret": "s"},
        headers=headers,
    )
    assert {e["field"] for e in basic.json()["errors"]} == {"username"}


async def test_names_are_unique_and_stale_updates_are_refused(client, auth, double):
    headers = await auth("demo.data_manager")
    first = (await client.post(URL, json=_body(double), headers=headers)).json()
    again = await client.post(URL, json=_body(double), headers=headers)
    assert again.status_code == 422 and again.json()["errors"][0]["code"] == "unique"
    changed = await client.patch(
        f"{URL}{first['id']}",
        json={"chunk_size": 500, "version": first["version"]},
        headers=headers,
    )
    assert changed.status_code == 200 and changed.json()["chunk_size"] == 500
    stale = await client.patch(
        f"{URL}{first['id']}",
        json={"chunk_size": 200, "version": first["version"]},
        headers=headers,
    )
    assert stale.status_code == 409 and stale.json()["code"] == "version_mismatch"
    switch = await client.patch(f"{URL}{first['id']}", json={"auth_kind": "token"}, headers=headers)
    assert switch.status_code == 422
    assert {e["field"] for e in switch.json()["errors"]} == {"secret"}
    gone = await client.delete(f"{URL}{first['id']}", headers=headers)
    assert gone.status_code == 204
    assert (await client.get(f"{URL}{first['id']}", headers=headers)).status_code == 404
    assert (await client.post(URL, json=_body(double), headers=headers)).status_code == 201


async def test_connections_need_the_dhis2_permission_and_changes_are_audited(
    client, auth, container, double
):
    nurse = await auth("demo.nurse")
    assert (await client.get(URL, headers=nurse)).status_code == 403
    assert (await client.post(URL, json=_body(double), headers=nurse)).status_code == 403
    admin = await auth("demo.system_admin")
    await client.post(URL, json=_body(double), headers=admin)
    from afiya.adapters.db.models.platform import AuditEventRow

    async with container.sessions() as session:
        actions = set((await session.execute(select(AuditEventRow.action))).scalars())
    assert "dhis2.connection.create" in actions
