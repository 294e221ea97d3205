"""Sign-in, refresh-token rotation, sign-out, and defences against guessing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from afiya.adapters.db.models import AuditEventRow, UserRow

PASSWORD = "Afiya-demo-2026"


async def _login(client, username="demo.nurse", password=PASSWORD):
    return await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )


async def test_login_returns_tokens_and_me_describes_the_caller(client):
    response = await _login(client)
    body = response.json()
    assert response.status_code == 200 and body["token_type"] == "Bearer"
    assert response.headers["cache-control"] == "no-store"
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["roles"] == ["nurse"]
    assert "orgunits:read" in me.json()["permissions"]
    assert len(me.json()["unit_paths"]) == 1


async def test_wrong_password_and_unknown_user_look_the_same(client):
    wrong = await _login(client, password="not-the-password")
    unknown = await _login(client, username="nobody.here")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_failed_attempts_are_saved_and_audited_although_the_request_fails(client, container):
    await _login(client, password="bad-password-1")
    async with container.sessions() as session:
        user = (
            await session.execute(select(UserRow).where(UserRow.username == "demo.nurse"))
        ).scalar_one()
        events = (
            (
                await session.execute(
                    select(AuditEventRow).where(
                        AuditEventRow.action == "auth.login", AuditEventRow.outcome == "denied"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert user.failed_attempts == 1
    assert len(events) == 1 and events[0].details["reason"] == "password"


async def test_repeated_failures_slow_down_then_lock_the_account(client, container):
    clock_start = container.clock.now()
    for attempt in range(3):
        assert (await _login(client, password=f"bad-{attempt}")).status_code == 401
    throttled = await _login(client, password="bad-3")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "login_throttled"
    assert int(throttled.headers["retry-after"]) >= 1

    # Drive the account to the lockout threshold by recording failures directly.
    async with container.sessions() as session:
        user = (
            await session.execute(select(UserRow).where(UserRow.username == "demo.nurse"))
        ).scalar_one()
        user.failed_attempts = container.settings.login_max_failures
        user.locked_until = clock_start + timedelta(minutes=15)
        user.last_failed_at = clock_start
        await session.commit()
    locked = await _login(client)  # even the right password is refused while locked
    assert locked.status_code == 429
    assert locked.json()["code"] == "account_locked"


async def test_refresh_rotates_and_a_replayed_refresh_token_revokes_the_session(client):
    first = (await _login(client)).json()
    rotated = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]

    replay = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401
    # The replay revoked the whole family, including the token issued by the rotation.
    after = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert after.status_code == 401


async def test_logout_revokes_the_refresh_token(client):
    tokens = (await _login(client)).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    out = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )
    assert out.status_code == 204
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert again.status_code == 401


async def test_login_body_errors_list_every_field(client):
    response = await client.post("/api/v1/auth/login", json={"user": "x"})
    assert response.status_code == 422
    fields = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert fields == {"user": "unknown_field", "username": "required", "password": "required"}


async def test_errors_speak_the_callers_language(client):
    french = await _login(client, password="mauvais")
    arabic = await client.post(
        "/api/v1/auth/login",
        json={"username": "demo.nurse", "password": "x"},
        headers={"Accept-Language": "ar"},
    )
    english = await client.post(
        "/api/v1/auth/login",
        json={"username": "demo.nurse", "password": "x"},
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    assert english.json()["detail"] == "Wrong username or password."
    assert french.json()["detail"] != english.json()["detail"]
    assert any("\u0600" <= ch <= "\u06ff" for ch in arabic.json()["detail"])
