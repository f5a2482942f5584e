"""Seniors 65+ en impayé screen (issue #5)."""
