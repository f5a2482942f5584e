"""Models of the seniors feature (owned by that feature; see docs/architecture.md)."""

from __future__ import annotations
