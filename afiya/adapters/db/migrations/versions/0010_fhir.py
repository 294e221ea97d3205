"""fhir: subscriptions, change-log cursor, notifications and delivery log (ADR 0109)

Revision ID: 0010
Revises: 0001
Create Date: 2026-12-07 17:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("fhir",)
depends_on: str | Sequence[str] | None = "0002"

_BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _sync_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "fhir_subscription",
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=1024), nullable=False),
        sa.Column("payload", sa.String(length=16), nullable=False),
        sa.Column("headers_enc", sa.LargeBinary(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        *_sync_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_subscription")),
    )
    with op.batch_alter_table("fhir_subscription", schema=None) as batch_op:
        batch_op.create_index("ix_fhir_subscription_resource_type", ["resource_type"], unique=False)
    op.create_table(
        "fhir_change_cursor",
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("last_node_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_fhir_change_cursor")),
    )
    op.create_table(
        "fhir_notification",
        sa.Column("id", _BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("resource_version", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_notification")),
        sa.UniqueConstraint(
            "subscription_id",
            "change_seq",
            name=op.f("uq_fhir_notification_subscription_id_change_seq"),
        ),
    )
    with op.batch_alter_table("fhir_notification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fhir_notification_subscription_id_status",
            ["subscription_id", "status"],
            unique=False,
        )
    op.create_table(
        "fhir_delivery_attempt",
        sa.Column("id", _BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("notification_id", sa.BigInteger(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_delivery_attempt")),
    )
    with op.batch_alter_table("fhir_delivery_attempt", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fhir_delivery_attempt_subscription_id", ["subscription_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fhir_delivery_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_fhir_delivery_attempt_subscription_id")
    op.drop_table("fhir_delivery_attempt")
    with op.batch_alter_table("fhir_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_fhir_notification_subscription_id_status")
    op.drop_table("fhir_notification")
    op.drop_table("fhir_change_cursor")
    with op.batch_alter_table("fhir_subscription", schema=None) as batch_op:
        batch_op.drop_index("ix_fhir_subscription_resource_type")
    op.drop_table("fhir_subscription")
