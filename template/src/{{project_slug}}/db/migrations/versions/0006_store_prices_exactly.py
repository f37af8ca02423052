"""Store prices exactly: NUMERIC(12, 2) instead of a float.

Prices already stored are rounded to the cent. Prices above 9 999 999 999.99, which the API now refuses,
must be lowered by hand first: PostgreSQL refuses to migrate them (and the upgrade changes nothing).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE items SET price = ROUND(CAST(price AS NUMERIC), 2)")
    with op.batch_alter_table("items") as batch:
        batch.alter_column("price", existing_type=sa.Float(), type_=sa.Numeric(12, 2), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.alter_column("price", existing_type=sa.Numeric(12, 2), type_=sa.Float(), existing_nullable=False)
