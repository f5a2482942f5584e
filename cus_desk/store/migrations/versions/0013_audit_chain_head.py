"""audit chain head (#15): one row advanced by a trigger on every audit
insert, so that deleting the last events of the journal is detected. On
PostgreSQL the trigger function is SECURITY DEFINER (runs as its owner):
client roles get SELECT only on ``audit_chain_head`` and still advance it.

Revision ID: 0013_audit_chain_head
Revises: 0012_cas_commission
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_audit_chain_head"
down_revision = "0012_cas_commission"
branch_labels = None
depends_on = None

SQLITE_TRIGGER = """
CREATE TRIGGER audit_chain_advance AFTER INSERT ON audit_events
BEGIN
    UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash, total = total + 1
    WHERE id = 1;
END
"""

PG_FUNCTION = """
CREATE FUNCTION audit_chain_advance() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash, total = total + 1
    WHERE id = 1;
    RETURN NULL;
END
$$
"""

PG_TRIGGER = """
CREATE TRIGGER audit_chain_advance AFTER INSERT ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_chain_advance()
"""


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    # The head as it stands: the last event, and every event ever appended
    # (those present plus those an audit purge removed).
    op.execute(
        "INSERT INTO audit_chain_head (id, last_id, last_hash, total) SELECT 1, "
        "(SELECT MAX(id) FROM audit_events), "
        "(SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1), "
        "(SELECT COUNT(*) FROM audit_events) + "
        "(SELECT COALESCE(SUM(purged_count), 0) FROM audit_anchors)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_chain_advance" + (
        " ON audit_events" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_chain_advance()")
    op.drop_table("audit_chain_head")
