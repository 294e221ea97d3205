"""Both authentication schemes, system info and the current user, over real HTTP."""

from __future__ import annotations

import pytest

from afiya.adapters.dhis2 import BasicCredentials, Dhis2Client, PersonalAccessToken
from afiya.domain.dhis2.errors import Dhis2AuthError, Dhis2Unavailable

from .conftest import ADMIN_TOKEN, Double


async def test_basic_auth_identifies_the_user_and_their_org_units(double: Double) -> None:
    async with Dhis2Client(double.base_url, BasicCredentials("admin", "district")) as dhis2:
        me = await dhis2.me()
    assert (me.username, me.organisation_units) == ("admin", ("ImspTQPwCqd",))
    assert me.has_authority("F_DATAVALUE_ADD")  # ALL


async def test_personal_access_token_is_accepted(double: Double) -> None:
    async with Dhis2Client(double.base_url, PersonalAccessToken(ADMIN_TOKEN)) as dhis2:
        me = await dhis2.me()
        info = await dhis2.system_info()
    assert me.username == "admin"
    assert info.version_tuple == (2, 40, 4)
    assert info.at_least(2, 38)


async def test_base_url_may_end_with_api(double: Double) -> None:
    async with Dhis2Client(f"{double.base_url}/api/", BasicCredentials("admin", "district")) as c:
        assert (await c.system_info()).system_name == "Afiya DHIS2 test double"


@pytest.mark.parametrize(
    "credentials",
    [
        BasicCredentials("admin", "wrong"),
        BasicCredentials("nobody", "x"),
        PersonalAccessToken("d2pat_revoked"),
    ],
)
async def test_wrong_credentials_raise_a_non_retriable_auth_error(
    double: Double, credentials: BasicCredentials | PersonalAccessToken
) -> None:
    async with Dhis2Client(double.base_url, credentials) as dhis2:
        with pytest.raises(Dhis2AuthError) as caught:
            await dhis2.me()
    assert caught.value.status == 401
    assert not caught.value.retriable


async def test_unreachable_server_is_retriable() -> None:
    from .conftest import _free_port

    async with Dhis2Client(f"http://127.0.0.1:{_free_port()}", BasicCredentials("a", "b")) as dhis2:
        with pytest.raises(Dhis2Unavailable) as caught:
            await dhis2.system_info()
    assert caught.value.retriable
