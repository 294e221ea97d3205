"""ASGI factory for uvicorn: ``uvicorn afiya.asgi:app --factory`` (an entry point, like the CLI)."""

from __future__ import annotations

from litestar import Litestar

from afiya.api.app import create_app
from afiya.api.observability import configure_logging
from afiya.bootstrap import Container, build
from afiya.channels.sms_ussd.http import ROUTES as USSD_ROUTES
from afiya.jobs.registry import handlers, periodic
from afiya.settings import Settings


def app() -> Litestar:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_json)
    container = build(settings)
    container.runner.register_all(handlers(settings.job_modules))
    container.runner.periodic = periodic(settings.job_modules)
    return assemble(container)


def assemble(container: Container | None, *, start_jobs: bool = True) -> Litestar:
    """The API and the channels' routes in one app (one guard, one error format).

    Channels are an entry point of their own, so the API cannot discover them; they are
    registered here. The in-process runner only runs jobs in the embedded default; with
    ARQ the API process just enqueues and `afiya worker` runs them.
    """
    app = create_app(container, start_jobs=start_jobs)
    for route in USSD_ROUTES:
        app.register(route)
    return app
