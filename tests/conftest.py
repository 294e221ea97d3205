"""Shared fixtures: a migrated, demo-seeded database on SQLite and on PostgreSQL.

Every database test runs once per backend. The schema is built by running the Alembic
migrations (never ``create_all``) into a template, seeded with the demo country; each
test gets a copy (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL).

PostgreSQL comes from ``AFIYA_TEST_DATABASE_URL`` (default: the local server's ``test``
database). Under CI (``CI`` set) a missing server fails the run; on a developer machine
without one, the PostgreSQL half is skipped with a loud reason.
"""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from afiya.adapters.crypto.passwords import Argon2PasswordHasher
from afiya.adapters.db.migrate import upgrade
from afiya.bootstrap import Container, build
from afiya.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AFIYA_SHARED_DIR", REPO.parent / "shared"))
PG_URL = os.environ.get(
    "AFIYA_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("AFIYA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = bool(os.environ.get("CI"))

# Cheap argon2 parameters for fixtures; the OWASP parameters have their own test.
FAST_HASHER = Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
TEST_KEYS = "t1:" + "QUZJWUEtdGVzdC1rZXktMzItYnl0ZXMtbG9uZy0wMDA="  # 32 bytes
TEST_BLIND_KEY = "QUZJWUEtdGVzdC1ibGluZC1pbmRleC1rZXktMzItYnk="
JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def _fonts_installed() -> bool:
    from afiya.adapters.documents.pdf import FontMissing, FpdfDocumentRenderer

    try:
        FpdfDocumentRenderer()
    except FontMissing:  # pragma: no cover - depends on the machine
        return False
    return True


FONTS = _fonts_installed()
needs_fonts = pytest.mark.skipif(
    not FONTS and not IN_CI,  # under CI the test runs, and fails without the fonts
    reason="fonts-dejavu-core is not installed (tools/bootstrap.sh installs it)",
)
"""PDF tests need the DejaVu fonts; a developer machine without them skips them, CI never."""
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None and not IN_CI,
    reason="poppler-utils is not installed (tools/bootstrap.sh installs it)",
)


def missing_service(what: str, why: object) -> None:
    message = f"{what} is not reachable ({why})"
    if IN_CI:
        pytest.fail(f"{message}: CI must provide it", pytrace=False)
    pytest.skip(f"{message}: start it or set the URL to run these tests")


def make_settings(database_url: str, var_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        env="test",
        node_id="test-node",
        database_url=database_url,
        var_dir=var_dir,
        jwt_secret=JWT_SECRET,
        encryption_keys=TEST_KEYS,
        blind_index_key=TEST_BLIND_KEY,
        log_json=False,
        seed_demo_on_start=False,
        database_pool_size=5,
    )
    values.update(overrides)
    return Settings(**values)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    url = make_url(PG_URL)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=5,
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_database_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def _seed(url: str, var_dir: Path) -> None:
    from afiya.adapters.seed.demo import seed_demo

    container = build(make_settings(url, var_dir), hasher=FAST_HASHER)
    try:
        await seed_demo(container.uow, FAST_HASHER)
    finally:
        await container.engine.dispose()


class Template:
    """A migrated, seeded database that tests copy.

    PostgreSQL copies (``CREATE DATABASE … TEMPLATE``, about 0.6 s) are made one ahead
    by a background thread while the current test runs, so a test rarely waits for its
    database; :meth:`close` drops whatever was made and not used.
    """

    AHEAD = 1

    def __init__(self, backend: str, url: str, path: Path | None = None) -> None:
        self.backend = backend
        self.url = url
        self.path = path
        self._ready: queue.Queue[str | BaseException] = queue.Queue(maxsize=self.AHEAD)
        self._stop = threading.Event()
        self._filler: threading.Thread | None = None

    def _create(self) -> str:
        name = f"afiya_t_{uuid.uuid4().hex[:12]}"
        template = make_url(self.url).database
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return name

    def _fill(self) -> None:
        while not self._stop.is_set():
            try:
                made: str | BaseException = self._create()
            except BaseException as exc:  # handed to the test that waits for it
                made = exc
            while not self._stop.is_set():
                try:
                    self._ready.put(made, timeout=0.2)
                    break
                except queue.Full:
                    continue
            else:
                if isinstance(made, str):
                    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)'))

    def copy(self, tmp: Path) -> tuple[str, Any]:
        if self.backend == "sqlite":
            target = tmp / "afiya.db"
            shutil.copy(self.path, target)  # type: ignore[arg-type]
            return f"sqlite+aiosqlite:///{target}", None
        if self._filler is None:
            self._filler = threading.Thread(target=self._fill, name="pg-copies", daemon=True)
            self._filler.start()
        made = self._ready.get(timeout=120)
        if isinstance(made, BaseException):
            raise made
        return _pg_database_url(made), made

    def close(self) -> None:
        """Stop making copies and drop the ones made ahead."""
        self._stop.set()
        if self._filler is not None:
            self._filler.join(timeout=30)
        while not self._ready.empty():
            made = self._ready.get_nowait()
            if isinstance(made, str):
                asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    asyncio.run(_seed(url, folder))
    return Template("sqlite", url, path)


@pytest.fixture(scope="session")
def pg_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    name = f"afiya_tpl_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        missing_service("PostgreSQL", exc)
    url = _pg_database_url(name)
    upgrade(url)
    asyncio.run(_seed(url, tmp_path_factory.mktemp("pg-template")))
    template = Template("postgresql", url)
    yield template
    template.close()
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the seeded template on the parametrised backend."""
    template: Template = request.getfixturevalue(
        "sqlite_template" if backend == "sqlite" else "pg_template"
    )
    url, pg_name = template.copy(tmp_path)
    yield url
    if pg_name:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    from afiya.jobs.registry import handlers

    built = build(settings, hasher=FAST_HASHER)
    built.runner.register_all(handlers())
    yield built
    await built.close()


def asgi_client(app: Any) -> Any:
    """An HTTP client that runs the app on the test's own event loop (asyncpg needs that)."""
    import httpx

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture(scope="session")
def shared_app() -> Any:
    """One application for the whole run: building it (about 200 routes) costs 0.7 s,
    which every API test paid. The app keeps no per-database state: handlers reach the
    container through ``app.state.container``, which each test sets to its own. The
    lifespan hooks do not run under ASGITransport; the ``client`` fixture starts the
    queue itself, as it did with an app per test."""
    from afiya.api.app import create_app

    return create_app(None, start_jobs=False)


@pytest.fixture
async def client(container: Container, shared_app: Any) -> AsyncIterator[Any]:
    shared_app.state.container = container
    await container.start()
    try:
        async with asgi_client(shared_app) as test_client:
            yield test_client
    finally:
        shared_app.state.container = None


DEMO_PASSWORD = "Afiya-demo-2026"


async def login(client: Any, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    """Sign in as a demo user; return the Authorization header."""
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def auth(client: Any) -> Any:
    async def _auth(username: str) -> dict[str, str]:
        return await login(client, username)

    return _auth
