"""The pôle social imports its partner structures (CMS, CCAS, CLIC, pôles
gérontologiques...) from a CSV or XLSX list: one transaction, each row
validated as the partner form validates it; rows in error and structures
already in the directory are reported, never half written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cus_desk.domain import partners as rules
from cus_desk.domain.errors import ValidationError
from cus_desk.importing import partners as parsing
from cus_desk.importing.arrears import RejectedLine
from cus_desk.importing.tables import ImportRefused, read_table
from cus_desk.services import access, audit
from cus_desk.services.base import Service
from cus_desk.services.partners import PartnerInput, _clean_partner
from cus_desk.store.arrears_import import _agency_key, agency_lookup
from cus_desk.store.models.core import Agency, Partner

P = access.Permission


@dataclass
class PartnerImportResult:
    source_name: str
    created: list[str] = field(default_factory=list)
    rejected: list[RejectedLine] = field(default_factory=list)


class PartnerImportService(Service):
    def import_partners(self, path: Path | str, sheet: str | None = None) -> PartnerImportResult:
        access.require(self.actor, P.PARTNER_EDIT)
        table = read_table(path, sheet, score=parsing.header_score)
        rows, rejected = parsing.parse_partners(table)
        result = PartnerImportResult(table.source_name, rejected=list(rejected))
        with self._write() as session:
            known = {rules.fold(name) for (name,) in session.execute(
                Partner.__table__.select().with_only_columns(Partner.name).where(Partner.merged_into_id.is_(None)))}
            agencies = agency_lookup(session)
            for row in rows:
                if rules.fold(row.name) in known:
                    result.rejected.append(RejectedLine(row.line, f"« {row.name} » est déjà dans l'annuaire"))
                    continue
                try:
                    values = _clean_partner(PartnerInput(
                        name=row.name, category=row.category, short_name=row.short_name, address=row.address,
                        commune=row.commune, phone=row.phone, email=row.email))
                    ids = []
                    for name in row.agencies:
                        agency_id = agencies.get(_agency_key(name))
                        if agency_id is None:
                            raise ValidationError(f"agence « {name} » inconnue")
                        ids.append(agency_id)
                except ValidationError as exc:
                    result.rejected.append(RejectedLine(row.line, exc.message.rstrip(".")))
                    continue
                partner = Partner(**values, active=True, version=1)
                partner.agencies = [session.get(Agency, i) for i in sorted(set(ids))]
                session.add(partner)
                session.flush()
                _add_communes(session, partner.id, rules.split_communes("\n".join(row.communes)))
                known.add(rules.fold(row.name))
                result.created.append(partner.name)
            if not result.created:
                raise ImportRefused(
                    f"Aucune structure du fichier « {table.source_name} » n'a été ajoutée"
                    + (f" ({len(result.rejected)} ligne(s) écartée(s) ; par exemple ligne {result.rejected[0].line} : "
                       f"{result.rejected[0].reason})" if result.rejected else "")
                    + ". Rien n'a été importé.")
            audit.record(session, self.actor, audit.Action.IMPORT, "partner_list", None,
                         details={"source": table.source_name, "created": len(result.created),
                                  "rejected": len(result.rejected)})
        result.rejected.sort(key=lambda r: r.line)
        return result


def _add_communes(session, partner_id: int, communes: list[str]) -> None:
    try:
        from cus_desk.store.models.partners import PartnerCommune
    except ImportError:  # pragma: no cover - partners feature absent
        return
    for commune in communes:
        session.add(PartnerCommune(partner_id=partner_id, commune=commune))
