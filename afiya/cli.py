"""The ``afiya`` command: run, worker, migrate, seed-demo, create-user, audit, keys, openapi."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from uuid import UUID

import click

from afiya.settings import Settings

STARTED = time.perf_counter()


def _settings() -> Settings:
    return Settings.from_env()


def _migrate(settings: Settings) -> None:
    from afiya.adapters.db.migrate import upgrade

    upgrade(settings.effective_database_url)


def _migrate_if_changed(settings: Settings) -> None:
    """Migrate unless this var directory's database was migrated with these exact files.

    Importing and running Alembic costs about a second on a Raspberry Pi-class machine; a
    fingerprint of the migration files and the database URL lets a restart skip it.
    """
    import hashlib

    versions = Path(__file__).resolve().parent / "adapters/db/migrations/versions"
    digest = hashlib.sha256(settings.effective_database_url.encode())
    for path in sorted(versions.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    marker = settings.var_dir / f".migrated-{digest.hexdigest()[:16]}"
    if marker.exists():
        return
    _migrate(settings)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    for old in settings.var_dir.glob(".migrated-*"):
        old.unlink()
    marker.write_text("migrated\n")


@click.group()
def main() -> None:
    """Afiya hospital information system."""


@main.command()
def migrate() -> None:
    """Bring the database schema to the latest version (SQLite or PostgreSQL)."""
    settings = _settings()
    _migrate(settings)
    click.echo(f"database at head: {settings.effective_database_url.split('@')[-1]}")


async def _seed(settings: Settings) -> list[object]:
    from afiya.adapters.seed.demo import seed_demo
    from afiya.bootstrap import build

    container = build(settings)
    try:
        return await seed_demo(container.uow, container.hasher)  # type: ignore[return-value]
    finally:
        await container.engine.dispose()


def _print_accounts(accounts: list[object]) -> None:
    click.echo(f"Demo accounts (password for all: {accounts[0].password}):")  # type: ignore[attr-defined]
    for account in accounts:
        click.echo(f"  {account.username:<28} {account.role:<20} {account.unit_code}")  # type: ignore[attr-defined]


@main.command("seed-demo")
def seed_demo_cmd() -> None:
    """Create the synthetic demo country and one demo user per role (idempotent)."""
    settings = _settings()
    _migrate(settings)
    _print_accounts(asyncio.run(_seed(settings)))


@main.command()
@click.option("--host", default=None, help="Listen address (default AFIYA_HOST).")
@click.option("--port", default=None, type=int, help="Listen port (default AFIYA_PORT).")
@click.option("--workers", default=1, show_default=True, help="API processes.")
def run(host: str | None, port: int | None, workers: int) -> None:
    """Serve the API (and, in the embedded default, run jobs in the same process)."""
    import uvicorn

    from afiya.api.observability import configure_logging

    settings = _settings()
    configure_logging(settings.log_level, settings.log_json)
    _migrate_if_changed(settings)
    if settings.seed_demo_on_start and settings.is_sqlite:
        marker = settings.var_dir / ".demo-seeded"
        if not marker.exists():
            _print_accounts(asyncio.run(_seed(settings)))
            marker.write_text("seeded\n")
    click.echo(
        f"Afiya ready to start in {time.perf_counter() - STARTED:.2f}s on "
        f"http://{host or settings.host}:{port or settings.port} (OpenAPI at /schema)"
    )
    uvicorn.run(
        "afiya.asgi:app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        lifespan="on",
    )


@main.command()
def worker() -> None:
    """Run an ARQ worker (needs AFIYA_REDIS_URL and AFIYA_JOB_QUEUE=arq)."""
    from arq.worker import run_worker

    from afiya.api.observability import configure_logging
    from afiya.jobs.worker import worker_settings

    settings = _settings()
    configure_logging(settings.log_level, settings.log_json)
    run_worker(worker_settings())  # type: ignore[arg-type]


@main.command("create-user")
@click.option("--username", required=True)
@click.option("--full-name", required=True)
@click.option("--role", "roles", multiple=True, required=True)
@click.option("--unit", "units", multiple=True, required=True, help="Org-unit uid or code.")
@click.password_option()
def create_user_cmd(
    username: str, full_name: str, roles: tuple[str, ...], units: tuple[str, ...], password: str
) -> None:
    """Create a staff user (the first system administrator, typically)."""
    from afiya.adapters.seed.demo import SYSTEM_CONTEXT
    from afiya.bootstrap import build
    from afiya.domain.identity.model import NewUser
    from afiya.domain.identity.use_cases import create_user
    from afiya.domain.shared.errors import ValidationFailed

    settings = _settings()

    async def go() -> None:
        container = build(settings)
        try:
            async with container.uow(SYSTEM_CONTEXT) as uow:
                unit_ids: list[UUID] = []
                for ref in units:
                    unit = await uow.orgunits.get_by_uid(ref) or await uow.orgunits.find_code(ref)
                    if unit is None:
                        raise click.ClickException(f"no organisation unit {ref!r}")
                    unit_ids.append(unit.id)
                user = await create_user(
                    NewUser(
                        username=username,
                        full_name=full_name,
                        password=password,
                        roles=frozenset(roles),
                        unit_ids=tuple(unit_ids),
                    ),
                    principal=None,
                    users=uow.users,
                    units=uow.orgunits,
                    hasher=container.hasher,
                    audit=uow.audit,
                )
                await uow.commit()
                click.echo(f"created user {user.username} ({user.id})")
        except ValidationFailed as exc:
            for error in exc.errors:
                click.echo(f"  {error.field}: {error.message.render()}", err=True)
            raise click.ClickException("user not created") from exc
        finally:
            await container.engine.dispose()

    asyncio.run(go())


@main.group()
def audit() -> None:
    """Audit trail tools."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 and name the first broken event if any."""
    from afiya.adapters.db.engine import create_engine, create_session_factory
    from afiya.adapters.db.repositories.audit import verify_stored_chain

    settings = _settings()

    async def go() -> tuple[int, object]:
        engine = create_engine(settings.effective_database_url)
        try:
            async with create_session_factory(engine)() as session:
                return await verify_stored_chain(session)
        finally:
            await engine.dispose()

    checked, broken = asyncio.run(go())
    if broken is not None:
        click.echo(
            f"audit chain BROKEN at event seq={broken.seq} id={broken.event_id}: "  # type: ignore[attr-defined]
            f"{broken.reason} ({checked} events verified before it)",
            err=True,
        )  # type: ignore[attr-defined]
        sys.exit(1)
    click.echo(f"audit chain intact: {checked} events verified")


@main.group()
def keys() -> None:
    """Field-encryption key management."""


@keys.command("rotate")
@click.option("--new-key-id", required=True, help="Id of the new master key, e.g. k2.")
def keys_rotate(new_key_id: str) -> None:
    """Add a new master key to the key file and re-wrap every stored data key under it."""
    from afiya.adapters.crypto.envelope import AesGcmFieldCipher, KeyRing
    from afiya.adapters.db.encrypted import rewrap_all
    from afiya.adapters.db.engine import create_engine, create_session_factory

    settings = _settings()
    if settings.encryption_keys:
        raise click.ClickException(
            "keys come from AFIYA_ENCRYPTION_KEYS: add the new key there (first position), "
            "then run `afiya keys rewrap`"
        )
    path = settings.effective_key_file
    ring = KeyRing.load_file(path).with_new_current(new_key_id)
    ring.save_file(path)
    click.echo(f"new current key {new_key_id} written to {path}")

    async def go() -> int:
        engine = create_engine(settings.effective_database_url)
        try:
            async with create_session_factory(engine)() as session:
                changed = await rewrap_all(session, AesGcmFieldCipher(ring))
                await session.commit()
                return changed
        finally:
            await engine.dispose()

    click.echo(f"re-wrapped {asyncio.run(go())} encrypted values")


@main.group()
def openapi() -> None:
    """OpenAPI document."""


@openapi.command("export")
@click.option("--output", default="openapi/openapi.json", show_default=True)
def openapi_export(output: str) -> None:
    """Write the OpenAPI 3.1 document and the mobile contracts (CI fails when stale)."""
    from afiya.api.contracts import json_schemas, typescript_types
    from afiya.api.schema_export import openapi_document

    document = openapi_document()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(document + "\n")
    contracts = Path("mobile_contracts")
    contracts.mkdir(exist_ok=True)
    (contracts / "afiya-api.schema.json").write_text(json_schemas(json.loads(document)))
    (contracts / "afiya-api.d.ts").write_text(typescript_types(json.loads(document)))
    click.echo(f"wrote {output} and mobile_contracts/")


@main.group()
def docs() -> None:
    """Generated documentation tables."""


@docs.command("generate")
def docs_generate() -> None:
    """Regenerate docs/security.md and docs/configuration.md tables from the code."""
    from afiya.api.schema_export import configuration_markdown, security_markdown

    Path("docs/security.md").write_text(security_markdown())
    Path("docs/configuration.md").write_text(configuration_markdown())
    click.echo("wrote docs/security.md and docs/configuration.md")


if __name__ == "__main__":  # pragma: no cover
    main()
