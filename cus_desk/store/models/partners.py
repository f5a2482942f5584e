"""Models of the partners feature (owned by that feature; see docs/architecture.md)."""

from __future__ import annotations
