"""pbf_intelligence: facility profiles, model registry, runs, anomaly flags, plans (ADR 0104)

Revision ID: 0007
Revises: 0001
Create Date: 2026-12-07 16:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("pbf_intelligence",)
depends_on: str | Sequence[str] | None = "0003"


def upgrade() -> None:
    op.create_table(
        "pbf_facility_profile",
        sa.Column("org_unit_id", sa.Uuid(), nullable=False),
        sa.Column("org_unit_path", sa.String(length=255), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("catchment_population", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_pbf_facility_profile_org_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pbf_facility_profile")),
        sa.UniqueConstraint("org_unit_id", name=op.f("uq_pbf_facility_profile_org_unit_id")),
    )
    op.create_index(
        op.f("ix_pbf_facility_profile_org_unit_path"),
        "pbf_facility_profile",
        ["org_unit_path"],
        unique=False,
    )
    op.create_table(
        "pbf_model",
        sa.Column("programme_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("model_version", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("blob_key", sa.String(length=255), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("scope_path", sa.String(length=255), nullable=False),
        sa.Column("training_first_period", sa.String(length=7), nullable=False),
        sa.Column("training_last_period", sa.String(length=7), nullable=False),
        sa.Column("data_hash", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("library", sa.String(length=50), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("trained_run_id", sa.Uuid(), nullable=True),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["pbf_programme.id"],
            name=op.f("fk_pbf_model_programme_id_pbf_programme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pbf_model")),
        sa.UniqueConstraint("model_version", name=op.f("uq_pbf_model_model_version")),
    )
    op.create_index(
        "ix_pbf_model_programme_id_kind_state",
        "pbf_model",
        ["programme_id", "kind", "state"],
        unique=False,
    )
    op.create_index(
        "uq_pbf_model_programme_id_kind_data_hash",
        "pbf_model",
        ["programme_id", "kind", "data_hash"],
        unique=True,
    )
    op.create_table(
        "pbf_intelligence_run",
        sa.Column("programme_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("first_period", sa.String(length=7), nullable=True),
        sa.Column("last_period", sa.String(length=7), nullable=True),
        sa.Column("scope_paths", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=True),
        sa.Column("method", sa.String(length=12), nullable=True),
        sa.Column("message", sa.JSON(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"], ["pbf_model.id"], name=op.f("fk_pbf_intelligence_run_model_id_pbf_model")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["pbf_programme.id"],
            name=op.f("fk_pbf_intelligence_run_programme_id_pbf_programme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pbf_intelligence_run")),
        sa.UniqueConstraint("key", name=op.f("uq_pbf_intelligence_run_key")),
    )
    op.create_table(
        "pbf_anomaly_flag",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("org_unit_id", sa.Uuid(), nullable=False),
        sa.Column("org_unit_path", sa.String(length=255), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("indicator", sa.String(length=101), nullable=False),
        sa.Column("declared", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("residual", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_pbf_anomaly_flag_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pbf_intelligence_run.id"],
            name=op.f("fk_pbf_anomaly_flag_run_id_pbf_intelligence_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pbf_anomaly_flag")),
    )
    op.create_index(
        "ix_pbf_anomaly_flag_run_id_org_unit_path",
        "pbf_anomaly_flag",
        ["run_id", "org_unit_path"],
        unique=False,
    )
    op.create_table(
        "pbf_plan_unit",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("org_unit_id", sa.Uuid(), nullable=False),
        sa.Column("org_unit_path", sa.String(length=255), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.String(length=12), nullable=True),
        sa.Column("inclusion_probability", sa.String(length=40), nullable=False),
        sa.Column("expected_recovery", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("reason", sa.JSON(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_pbf_plan_unit_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pbf_intelligence_run.id"],
            name=op.f("fk_pbf_plan_unit_run_id_pbf_intelligence_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pbf_plan_unit")),
    )
    op.create_index(
        "ix_pbf_plan_unit_run_id_org_unit_path",
        "pbf_plan_unit",
        ["run_id", "org_unit_path"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("pbf_plan_unit")
    op.drop_table("pbf_anomaly_flag")
    op.drop_table("pbf_intelligence_run")
    op.drop_table("pbf_model")
    op.drop_table("pbf_facility_profile")
