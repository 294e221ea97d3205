"""ASGI factory for uvicorn: ``uvicorn afiya.asgi:app --factory`` (an entry point, like the CLI)."""

from __future__ import annotations

from litestar import Litestar

from afiya.api.app import create_app
from afiya.api.observability import configure_logging
from afiya.bootstrap import build
from afiya.jobs.registry import handlers, periodic
from afiya.settings import Settings


def app() -> Litestar:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_json)
    container = build(settings)
    container.runner.register_all(handlers(settings.job_modules))
    container.runner.periodic = periodic(settings.job_modules)
    # The in-process runner only runs jobs in the embedded default; with ARQ the API
    # process just enqueues and `afiya worker` runs them.
    return create_app(container, start_jobs=True)
