"""clinical: documents received from other systems (files and their descriptions)

Revision ID: 0013
Revises: 0006
Create Date: 2026-12-08 10:00:00.000000

The next revision of the ``clinical`` branch (it inherits the branch label of 0006):
``clinical_binary`` (a file in the blob store) and ``clinical_external_document`` (what
a FHIR DocumentReference created by another system says about it).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _syncable() -> list[sa.Column[object]]:
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
        "clinical_binary",
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha1", sa.String(length=28), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("blob_key", sa.String(length=255), nullable=False),
        *_syncable(),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_clinical_binary_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_binary")),
    )
    with op.batch_alter_table("clinical_binary", schema=None) as batch_op:
        batch_op.create_index("ix_clinical_binary_patient_id", ["patient_id"], unique=False)

    op.create_table(
        "clinical_external_document",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("encounter_id", sa.Uuid(), nullable=True),
        sa.Column("binary_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("doc_status", sa.String(length=16), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("creation", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("identifiers", sa.JSON(), nullable=False),
        *_syncable(),
        sa.ForeignKeyConstraint(
            ["binary_id"],
            ["clinical_binary.id"],
            name=op.f("fk_clinical_external_document_binary_id_clinical_binary"),
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["clinical_encounter.id"],
            name=op.f("fk_clinical_external_document_encounter_id_clinical_encounter"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_clinical_external_document_patient_id_patient"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_external_document")),
        sa.UniqueConstraint("binary_id", name=op.f("uq_clinical_external_document_binary_id")),
    )
    with op.batch_alter_table("clinical_external_document", schema=None) as batch_op:
        batch_op.create_index(
            "ix_clinical_external_document_patient_id_occurred_at_id",
            ["patient_id", "occurred_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("clinical_external_document", schema=None) as batch_op:
        batch_op.drop_index("ix_clinical_external_document_patient_id_occurred_at_id")
    op.drop_table("clinical_external_document")
    with op.batch_alter_table("clinical_binary", schema=None) as batch_op:
        batch_op.drop_index("ix_clinical_binary_patient_id")
    op.drop_table("clinical_binary")
