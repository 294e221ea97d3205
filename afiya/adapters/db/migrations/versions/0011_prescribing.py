"""prescribing: formulary (seeded from the WHO EML), local rules, prescriptions and their
lines, dispensings (ADR 0103)

Revision ID: 0011
Revises: 0001
Create Date: 2026-12-07 17:40:00.000000
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("prescribing",)
depends_on: str | Sequence[str] | None = "0006"

# Seed rows get ids derived from the product code, so every node that runs this
# migration holds the same ids and replication does not see 267 conflicting rows.
SEED_NAMESPACE = uuid.UUID("6f1d7a52-1c55-4c1e-9a0e-3f9c2b1de0a1")


def upgrade() -> None:
    op.create_table(
        "formulary_product",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("form", sa.String(length=64), nullable=False),
        sa.Column("routes", sa.JSON(), nullable=False),
        sa.Column("atc", sa.String(length=8), nullable=True),
        sa.Column("ingredients", sa.JSON(), nullable=False),
        sa.Column("local_names", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_formulary_product")),
        sa.UniqueConstraint("code", name=op.f("uq_formulary_product_code")),
    )
    with op.batch_alter_table("formulary_product", schema=None) as batch_op:
        batch_op.create_index("ix_formulary_product_atc", ["atc"], unique=False)

    op.create_table(
        "prescribing_local_rule",
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("rule_type", sa.String(length=32), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescribing_local_rule")),
        sa.UniqueConstraint(
            "rule_id", "rule_version", name=op.f("uq_prescribing_local_rule_rule_id_rule_version")
        ),
    )
    op.create_table(
        "prescription",
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("rx_version", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.Uuid(), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("unit_path", sa.String(length=255), nullable=False),
        sa.Column("encounter_id", sa.Uuid(), nullable=True),
        sa.Column("prescriber_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("renewal_of", sa.Uuid(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.Uuid(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("knowledge_version", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["clinical_encounter.id"],
            name=op.f("fk_prescription_encounter_id_clinical_encounter"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_prescription_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"],
            ["prescription.id"],
            name=op.f("fk_prescription_previous_id_prescription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescription")),
        sa.UniqueConstraint(
            "series_id", "rx_version", name=op.f("uq_prescription_series_id_rx_version")
        ),
    )
    with op.batch_alter_table("prescription", schema=None) as batch_op:
        batch_op.create_index(
            "ix_prescription_patient_id_is_current_status",
            ["patient_id", "is_current", "status"],
            unique=False,
        )
        batch_op.create_index(
            "ix_prescription_patient_id_occurred_at_id",
            ["patient_id", "occurred_at", "id"],
            unique=False,
        )

    op.create_table(
        "prescription_line",
        sa.Column("prescription_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("product_code", sa.String(length=64), nullable=True),
        sa.Column("product_name", sa.String(length=200), nullable=True),
        sa.Column("dose", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("dose_unit", sa.String(length=24), nullable=True),
        sa.Column("route", sa.String(length=24), nullable=True),
        sa.Column("frequency_per_day", sa.Numeric(precision=8, scale=3), nullable=True),
        sa.Column("duration_days", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("as_needed", sa.Boolean(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("code", sa.String(length=16), nullable=True),
        sa.Column("test_name", sa.String(length=200), nullable=True),
        sa.Column("modality", sa.String(length=8), nullable=True),
        sa.Column("body_site", sa.String(length=200), nullable=True),
        sa.Column("alerts", sa.JSON(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("override_by", sa.Uuid(), nullable=True),
        sa.Column("override_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_prescription_line_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescription.id"],
            name=op.f("fk_prescription_line_prescription_id_prescription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescription_line")),
        sa.UniqueConstraint(
            "prescription_id",
            "position",
            name=op.f("uq_prescription_line_prescription_id_position"),
        ),
    )
    with op.batch_alter_table("prescription_line", schema=None) as batch_op:
        batch_op.create_index("ix_prescription_line_patient_id", ["patient_id"], unique=False)

    op.create_table(
        "dispensing",
        sa.Column("prescription_id", sa.Uuid(), nullable=False),
        sa.Column("line_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("unit_path", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispenser_id", sa.Uuid(), nullable=False),
        sa.Column("product_code", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("quantity_unit", sa.String(length=24), nullable=True),
        sa.Column("alerts", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("override_of", sa.Uuid(), nullable=True),
        sa.Column("override_by", sa.Uuid(), nullable=True),
        sa.Column("knowledge_version", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["prescription_line.id"],
            name=op.f("fk_dispensing_line_id_prescription_line"),
        ),
        sa.ForeignKeyConstraint(
            ["override_of"], ["dispensing.id"], name=op.f("fk_dispensing_override_of_dispensing")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_dispensing_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescription.id"],
            name=op.f("fk_dispensing_prescription_id_prescription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispensing")),
    )
    with op.batch_alter_table("dispensing", schema=None) as batch_op:
        batch_op.create_index("ix_dispensing_line_id", ["line_id"], unique=False)
        batch_op.create_index(
            "ix_dispensing_patient_id_occurred_at_id",
            ["patient_id", "occurred_at", "id"],
            unique=False,
        )

    _seed_formulary()


def _seed_formulary() -> None:
    """Insert the products of the WHO EML seed as it stands in the repository."""
    from afiya.adapters.knowledge import FORMULARY_FILE, load_formulary

    table = sa.table(
        "formulary_product",
        sa.column("id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("form", sa.String()),
        sa.column("routes", sa.JSON()),
        sa.column("atc", sa.String()),
        sa.column("ingredients", sa.JSON()),
        sa.column("local_names", sa.JSON()),
        sa.column("source", sa.String()),
        sa.column("active", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("origin_node", sa.String()),
        sa.column("version", sa.Integer()),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    rows = []
    for product in load_formulary(FORMULARY_FILE):
        rows.append(
            {
                "id": uuid.uuid5(SEED_NAMESPACE, product.code),
                "code": product.code,
                "name": product.name,
                "form": product.form,
                "routes": list(product.routes),
                "atc": product.atc,
                "ingredients": [
                    {
                        "code": i.code,
                        "inn": i.inn,
                        "atc": i.atc,
                        "strength": None
                        if i.strength is None
                        else {
                            "value": i.strength.value,
                            "unit": i.strength.unit,
                            "per_value": i.strength.per_value,
                            "per_unit": i.strength.per_unit,
                        },
                    }
                    for i in product.ingredients
                ],
                "local_names": [],
                "source": "who_eml",
                "active": True,
                "created_at": now,
                "updated_at": now,
                "origin_node": "seed",
                "version": 1,
            }
        )
    op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table("dispensing")
    op.drop_table("prescription_line")
    op.drop_table("prescription")
    op.drop_table("prescribing_local_rule")
    op.drop_table("formulary_product")
