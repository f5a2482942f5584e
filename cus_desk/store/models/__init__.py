"""Every model module is imported here so that ``Base.metadata`` is complete
(Alembic's autogenerate and the schema test rely on it)."""

from cus_desk.store.models import case_economics, cases, core, meetings, partners, security, seniors  # noqa: F401
from cus_desk.store.models.base import Base

__all__ = ["Base"]
