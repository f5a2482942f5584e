"""cases feature schema: lease of a case, CAS recommendation, judicial step,
denormalised list columns, never-reused case numbers, FTS5 trigram search
index on name/contract/reference maintained by triggers.

Revision ID: 0002_cases
Revises: 0001_foundation
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import cus_desk.store.models.base  # noqa: F401

revision = "0002_cases"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_sequences',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_case_sequences'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recommendation', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('judicial_requested_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('holder_name', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('contract_number', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('commune', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('search_doc', sa.Text(), nullable=True))
        batch_op.create_index('ix_cases_arrears_cents_id', ['arrears_cents', 'id'], unique=False)
        batch_op.create_index('ix_cases_contract_number_id', ['contract_number', 'id'], unique=False)
        batch_op.create_index('ix_cases_holder_name_id', ['holder_name', 'id'], unique=False)
        batch_op.create_index('ix_cases_last_activity_on_id', ['last_activity_on', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_lease_id'), ['lease_id'], unique=False)
        batch_op.create_index('ix_cases_opened_on_id', ['opened_on', 'id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cases_lease_id_leases'), 'leases', ['lease_id'], ['id'])

    # FTS5 trigram index + triggers (after the batch: rebuilding a table drops its triggers).
    from cus_desk.store.models.cases import install_case_search

    install_case_search(op.get_bind())


def downgrade() -> None:
    from cus_desk.store.models.cases import CASE_SEARCH_TRIGGERS

    if op.get_bind().dialect.name == "sqlite":
        for name in CASE_SEARCH_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS case_search")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_lease_id_leases'), type_='foreignkey')
        batch_op.drop_index('ix_cases_opened_on_id')
        batch_op.drop_index(batch_op.f('ix_cases_lease_id'))
        batch_op.drop_index('ix_cases_last_activity_on_id')
        batch_op.drop_index('ix_cases_holder_name_id')
        batch_op.drop_index('ix_cases_contract_number_id')
        batch_op.drop_index('ix_cases_arrears_cents_id')
        batch_op.drop_column('search_doc')
        batch_op.drop_column('commune')
        batch_op.drop_column('contract_number')
        batch_op.drop_column('holder_name')
        batch_op.drop_column('judicial_requested_on')
        batch_op.drop_column('recommendation')
        batch_op.drop_column('lease_id')

    op.drop_table('case_sequences')
