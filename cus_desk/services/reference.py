"""Reference lists for pickers (agencies, CAS functions...)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from cus_desk.services.base import Service
from cus_desk.store.models.core import Agency, ReferenceCode


@dataclass(frozen=True)
class AgencyItem:
    id: int
    code: str
    name: str
    label: str


class ReferenceService(Service):
    def agencies(self) -> list[AgencyItem]:
        with self._read() as session:
            rows = session.scalars(select(Agency).order_by(Agency.department.desc(), Agency.id))
            return [AgencyItem(a.id, a.code, a.name, a.label) for a in rows]

    def agency_name(self, agency_id: int) -> str:
        with self._read() as session:
            agency = session.get(Agency, agency_id)
            return agency.name if agency else ""

    def codes(self, domain: str) -> list[tuple[str, str]]:
        with self._read() as session:
            rows = session.scalars(
                select(ReferenceCode).where(ReferenceCode.domain == domain).order_by(ReferenceCode.sort_order)
            )
            return [(r.code, r.label) for r in rows]
