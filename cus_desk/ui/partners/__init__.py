"""Partenaires screen (directory, per-agency view)."""
