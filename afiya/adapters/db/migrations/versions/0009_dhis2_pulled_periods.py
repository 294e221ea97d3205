"""dhis2: the days of each pulled value's period, for range filters

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-07 17:00:00

The next revision of the ``dhis2`` branch (it inherits the branch label of 0004).
Existing pulled values are filled in from their DHIS2 period ids.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_dhis2_pulled_value_connection_id_data_element_period_start"


def upgrade() -> None:
    with op.batch_alter_table("dhis2_pulled_value", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("period_end", sa.Date(), nullable=True))
        batch_op.create_index(
            INDEX, ["connection_id", "data_element", "period_start"], unique=False
        )
    _fill_period_days()


def _fill_period_days() -> None:
    # The parser is pure and stable (DHIS2's period ids do not change meaning).
    from afiya.domain.dhis2.errors import InvalidPeriod
    from afiya.domain.dhis2.periods import Period

    table = sa.table(
        "dhis2_pulled_value",
        sa.column("period", sa.String()),
        sa.column("period_start", sa.Date()),
        sa.column("period_end", sa.Date()),
    )
    bind = op.get_bind()
    periods = [row[0] for row in bind.execute(sa.select(table.c.period).distinct())]
    for period_id in periods:
        try:
            period = Period.parse(period_id)
        except InvalidPeriod:
            continue
        bind.execute(
            sa.update(table)
            .where(table.c.period == period_id)
            .values(period_start=period.start, period_end=period.end)
        )


def downgrade() -> None:
    with op.batch_alter_table("dhis2_pulled_value", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_column("period_end")
        batch_op.drop_column("period_start")
