"""Persistence: SQLAlchemy models, engine, migrations, seeding. No Qt."""
