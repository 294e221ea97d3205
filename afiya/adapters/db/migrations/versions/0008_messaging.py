"""messaging: USSD PINs and lockouts, callback requests, staff notifications (ADR 0108)

Revision ID: 0008
Revises: 0001
Create Date: 2026-12-07 16:24:09.960630
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("messaging",)
depends_on: str | Sequence[str] | None = "0002"


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
        "ussd_pin",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("pin_hash", sa.String(length=255), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_ussd_pin_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_ussd_pin")),
    )
    op.create_table(
        "ussd_lockout",
        sa.Column("phone_bidx", sa.LargeBinary(length=32), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone_bidx", name=op.f("pk_ussd_lockout")),
    )
    op.create_table(
        "callback_request",
        sa.Column("unit_path", sa.String(length=255), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.Uuid(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        *_sync_columns(),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_callback_request_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_request")),
    )
    with op.batch_alter_table("callback_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_callback_request_unit_path_status", ["unit_path", "status"], unique=False
        )
    op.create_table(
        "staff_feed_item",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("unit_path", sa.String(length=255), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        *_sync_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_feed_item")),
    )
    with op.batch_alter_table("staff_feed_item", schema=None) as batch_op:
        batch_op.create_index(
            "ix_staff_feed_item_unit_path_occurred_at", ["unit_path", "occurred_at"], unique=False
        )
    op.create_table(
        "staff_feed_read",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["staff_feed_item.id"],
            name=op.f("fk_staff_feed_read_item_id_staff_feed_item"),
        ),
        sa.PrimaryKeyConstraint("item_id", "user_id", name=op.f("pk_staff_feed_read")),
    )


def downgrade() -> None:
    op.drop_table("staff_feed_read")
    with op.batch_alter_table("staff_feed_item", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_feed_item_unit_path_occurred_at")
    op.drop_table("staff_feed_item")
    with op.batch_alter_table("callback_request", schema=None) as batch_op:
        batch_op.drop_index("ix_callback_request_unit_path_status")
    op.drop_table("callback_request")
    op.drop_table("ussd_lockout")
    op.drop_table("ussd_pin")
