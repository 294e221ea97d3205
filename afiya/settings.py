"""Settings read once from ``AFIYA_*`` environment variables and injected everywhere.

The domain never reads settings: the composition root (``afiya.bootstrap``) passes the
values each adapter or use case needs. Every variable is listed in
``docs/configuration.md``; ``tests/unit/platform/test_settings.py`` checks that the table
and this module agree.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


class SettingsError(ValueError):
    """A setting is missing or malformed."""


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {raw!r}")


def _parse_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    """All configuration. Field metadata ``doc`` feeds ``docs/configuration.md``."""

    env: str = field(default="development", metadata={"doc": "development, test or production."})
    node_id: str = field(
        default="central",
        metadata={
            "doc": "Name of this server (central, or a site such as `nkc-ch`); stamped on "
            "every row and change-log entry it creates."
        },
    )
    var_dir: Path = field(
        default=Path("var"),
        metadata={"doc": "Directory for the embedded database, blobs, keys and logs."},
    )
    database_url: str = field(
        default="",
        metadata={
            "doc": "SQLAlchemy URL. Empty: SQLite file `<var_dir>/afiya.db`. Production: "
            "`postgresql+asyncpg://user:pass@host/db`."
        },
    )
    database_pool_size: int = field(
        default=10, metadata={"doc": "Connections kept open per process (PostgreSQL)."}
    )
    redis_url: str = field(
        default="",
        metadata={
            "doc": "Redis URL (`redis://127.0.0.1:6379/0`). Empty: no Redis; jobs run in process."
        },
    )
    job_queue: str = field(
        default="inprocess",
        metadata={
            "doc": "`inprocess` (asyncio runner inside `afiya run`) or `arq` (Redis + "
            "`afiya worker`)."
        },
    )
    job_modules: tuple[str, ...] = field(
        default=(),
        metadata={
            "doc": "Extra Python modules whose job handlers are registered (comma separated)."
        },
    )
    arq_queue_name: str = field(
        default="afiya:queue", metadata={"doc": "Redis key of the ARQ queue (one per deployment)."}
    )
    job_timeout_seconds: int = field(
        default=300, metadata={"doc": "A job running longer is cancelled and retried."}
    )
    blob_store: str = field(
        default="local", metadata={"doc": "`local` (directory) or `s3` (S3 API, e.g. MinIO)."}
    )
    blob_dir: Path | None = field(
        default=None,
        metadata={"doc": "Directory of the local blob store. Default `<var_dir>/blobs`."},
    )
    s3_endpoint_url: str = field(
        default="", metadata={"doc": "S3 endpoint, e.g. `http://127.0.0.1:9000`."}
    )
    s3_bucket: str = field(default="afiya", metadata={"doc": "S3 bucket for blobs."})
    s3_access_key: str = field(default="", metadata={"doc": "S3 access key id."})
    s3_secret_key: str = field(
        default="", metadata={"doc": "S3 secret access key.", "secret": True}
    )
    s3_region: str = field(default="us-east-1", metadata={"doc": "S3 region name."})
    sms_gateway: str = field(
        default="console",
        metadata={
            "doc": "Default SMS gateway: `console` (logs messages), `africastalking` or `twilio`."
        },
    )
    sms_gateway_config: str = field(
        default="",
        metadata={
            "doc": "JSON settings of the SMS gateway (username, api_key, sender_id, "
            "base_url... as the adapter documents).",
            "secret": True,
        },
    )
    # -- messaging channels (USSD, SMS webhooks, staff notifications; ADR 0108) ----------
    sms_callback_secret: str = field(
        default="",
        metadata={
            "doc": "Shared secret (≥ 32 characters) that Africa's Talking callbacks carry as "
            "`?key=` in their URL (USSD, inbound SMS, delivery reports).",
            "secret": True,
        },
    )
    sms_callback_allowed_networks: tuple[str, ...] = field(
        default=(),
        metadata={
            "doc": "CIDR blocks allowed to call the Africa's Talking callbacks (comma "
            "separated). With neither this nor the secret, those callbacks answer 503."
        },
    )
    sms_webhook_base_url: str = field(
        default="",
        metadata={
            "doc": "Public base URL the gateways call (`https://his.example.org`), for "
            "Twilio signatures behind a proxy. Empty: the URL the request arrived on."
        },
    )
    twilio_auth_token: str = field(
        default="",
        metadata={
            "doc": "Twilio auth token that signs webhooks. Empty: `auth_token` of "
            "AFIYA_SMS_GATEWAY_CONFIG; with neither, Twilio webhooks answer 503.",
            "secret": True,
        },
    )
    ussd_session_seconds: int = field(
        default=180, metadata={"doc": "A USSD session's state is forgotten after this idle time."}
    )
    ussd_max_failures: int = field(
        default=3, metadata={"doc": "Wrong PINs or birth dates before USSD is locked for a phone."}
    )
    ussd_failure_window_minutes: int = field(
        default=60, metadata={"doc": "Window over which wrong USSD PINs are counted."}
    )
    ussd_lockout_minutes: int = field(
        default=30, metadata={"doc": "How long USSD stays locked for that phone."}
    )
    notifications_poll_ms: int = field(
        default=500,
        metadata={"doc": "How often the notification relay reads new change-log entries."},
    )
    # -- FHIR R4 API and rest-hook subscriptions (ADR 0109) --------------------------
    fhir_base_url: str = field(
        default="",
        metadata={
            "doc": "Public URL of the FHIR base (`https://his.example.org/fhir/R4`) used in "
            "subscription notifications. Empty: `http://localhost:8000/fhir/R4`."
        },
    )
    document_max_bytes: int = field(
        default=20 * 1024 * 1024,
        metadata={
            "doc": "Largest document another system may send (FHIR Binary and "
            "DocumentReference content), in bytes. Default 20 MB; at most 70 MB."
        },
    )
    fhir_subscriptions_allow_http: bool = field(
        default=False,
        metadata={
            "doc": "Accept rest-hook endpoints over plain http (a LAN lab system, tests). "
            "Default: https only."
        },
    )
    jwt_secret: str = field(
        default="",
        metadata={
            "doc": "Secret that signs access tokens (≥ 32 bytes). Empty in development: "
            "generated into `<var_dir>/keys/jwt.secret`.",
            "secret": True,
        },
    )
    access_token_minutes: int = field(default=10, metadata={"doc": "Access-token lifetime."})
    refresh_token_days: int = field(default=14, metadata={"doc": "Refresh-token lifetime."})
    login_max_failures: int = field(
        default=10, metadata={"doc": "Failed logins before the account is locked."}
    )
    login_lockout_minutes: int = field(default=15, metadata={"doc": "Lock duration."})
    encryption_keys: str = field(
        default="",
        metadata={
            "doc": "Field-encryption key ring: `kid:base64key,kid2:base64key` (32-byte "
            "AES keys); the first is current. Overrides the key file.",
            "secret": True,
        },
    )
    encryption_key_file: Path | None = field(
        default=None,
        metadata={
            "doc": "Key-ring file (JSON). Default `<var_dir>/keys/fields.json`, created "
            "in development."
        },
    )
    blind_index_key: str = field(
        default="",
        metadata={
            "doc": "Base64 key of the HMAC-SHA256 blind index. Overrides the key file.",
            "secret": True,
        },
    )
    default_language: str = field(
        default="fr", metadata={"doc": "Language when the request names none."}
    )
    log_level: str = field(default="INFO", metadata={"doc": "Python log level."})
    log_json: bool = field(default=True, metadata={"doc": "Structured JSON logs on stderr."})
    host: str = field(default="127.0.0.1", metadata={"doc": "`afiya run` listen address."})
    port: int = field(default=8000, metadata={"doc": "`afiya run` listen port."})
    trusted_proxies: tuple[str, ...] = field(
        default=("127.0.0.1",),
        metadata={"doc": "Proxies whose `X-Forwarded-For` is believed for the audit trail."},
    )
    seed_demo_on_start: bool = field(
        default=True,
        metadata={"doc": "`afiya run` seeds the demo country into an empty embedded database."},
    )

    # -- derived -------------------------------------------------------------------------
    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'afiya.db').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def effective_blob_dir(self) -> Path:
        return self.blob_dir or self.var_dir / "blobs"

    @property
    def effective_key_file(self) -> Path:
        return self.encryption_key_file or self.var_dir / "keys" / "fields.json"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``AFIYA_<NAME>`` variables; ``overrides`` win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        errors: list[str] = []
        for f in fields(cls):
            key = f"AFIYA_{f.name.upper()}"
            if key not in env:
                continue
            raw = env[key]
            try:
                values[f.name] = _convert(f.type, raw)
            except ValueError as exc:
                errors.append(f"{key}: {exc}")
        if errors:
            raise SettingsError("; ".join(errors))
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        problems = []
        if self.job_queue not in {"inprocess", "arq"}:
            problems.append("AFIYA_JOB_QUEUE must be `inprocess` or `arq`")
        if self.job_queue == "arq" and not self.redis_url:
            problems.append("AFIYA_JOB_QUEUE=arq needs AFIYA_REDIS_URL")
        if self.blob_store not in {"local", "s3"}:
            problems.append("AFIYA_BLOB_STORE must be `local` or `s3`")
        if self.blob_store == "s3" and not self.s3_endpoint_url:
            problems.append("AFIYA_BLOB_STORE=s3 needs AFIYA_S3_ENDPOINT_URL")
        if self.env == "production" and len(self.jwt_secret) < 32:
            problems.append("AFIYA_JWT_SECRET must hold at least 32 characters in production")
        if self.sms_callback_secret and len(self.sms_callback_secret) < 32:
            problems.append("AFIYA_SMS_CALLBACK_SECRET must hold at least 32 characters")
        if problems:
            raise SettingsError("; ".join(problems))

    def jwt_signing_secret(self) -> str:
        """The configured secret, or a per-installation one kept under ``var/keys``."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.var_dir / "keys" / "jwt.secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(base64.urlsafe_b64encode(secrets.token_bytes(48)).decode())
            path.chmod(0o600)
        return path.read_text().strip()


def _convert(annotation: Any, raw: str) -> Any:
    text = str(annotation)
    if "tuple" in text:
        return _parse_list(raw)
    if "bool" in text:
        return _parse_bool(raw)
    if "int" in text:
        return int(raw)
    if "Path" in text:
        return Path(raw) if raw else None
    return raw


def documented_settings() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting, for the docs table."""
    rows = []
    for f in fields(Settings):
        default = f.default
        shown = ",".join(default) if isinstance(default, tuple) else default
        shown = "" if shown is None else str(shown)
        rows.append((f"AFIYA_{f.name.upper()}", shown, f.metadata.get("doc", "")))
    return rows
