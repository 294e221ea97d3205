"""pbf_intelligence: plan review and approval, counter-verification targets (ADR 0104)

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-07 17:50:00.000000

The next revision of the ``pbf_intelligence`` branch (it inherits the branch label of
0007). Plans already drawn stay without a review state and without targets: they were
drawn before plans could be reviewed, and are read as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pbf_intelligence_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_state", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("approved_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "pbf_plan_target",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("org_unit_id", sa.Uuid(), nullable=False),
        sa.Column("org_unit_path", sa.String(length=255), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("indicator", sa.String(length=101), nullable=False),
        sa.Column("package", sa.String(length=50), nullable=False),
        sa.Column("activity", sa.String(length=50), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("replaces_id", sa.Uuid(), nullable=True),
        sa.Column("review_reason", sa.String(length=500), nullable=True),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counter_verification_id", sa.Uuid(), nullable=True),
        sa.Column("verified_value", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("outcome_by", sa.Uuid(), nullable=True),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["counter_verification_id"],
            ["pbf_counter_verification.id"],
            name=op.f("fk_pbf_plan_target_counter_verification_id_pbf_counter_verification"),
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_pbf_plan_target_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["pbf_plan_target.id"],
            name=op.f("fk_pbf_plan_target_replaces_id_pbf_plan_target"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pbf_intelligence_run.id"],
            name=op.f("fk_pbf_plan_target_run_id_pbf_intelligence_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pbf_plan_target")),
        sa.UniqueConstraint(
            "run_id",
            "org_unit_id",
            "indicator",
            name=op.f("uq_pbf_plan_target_run_id_org_unit_id_indicator"),
        ),
    )
    op.create_index(
        "ix_pbf_plan_target_run_id_org_unit_path",
        "pbf_plan_target",
        ["run_id", "org_unit_path"],
        unique=False,
    )
    op.create_index(
        "ix_pbf_plan_target_org_unit_id_period_indicator",
        "pbf_plan_target",
        ["org_unit_id", "period", "indicator"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("pbf_plan_target")
    with op.batch_alter_table("pbf_intelligence_run", schema=None) as batch_op:
        batch_op.drop_column("approved_at")
        batch_op.drop_column("approved_by")
        batch_op.drop_column("plan_state")
