"""Right of access (RGPD art. 15): everything stored about one person, as
JSON (for the file) and as a PDF (for the person), each export audited.

The person is a tenant (``Tenant``); what is about them: their own record,
their household's composition, leases, case files (with journal,
confidential notes, repayment plans, CAS agenda items and decisions,
orientations), arrears extract lines, field observations and signalements.
Rows are walked generically (every mapped column but technical ones), so a
column added later by a feature is exported too.

Nothing about a third party (art. 15 §4): the other members appear by their
link only; a confidential note or a journal entry about another member is
left out. When the household has another adult, what is common to the
household and may concern them (free texts, sensitive problématiques,
orientations to partners that reveal health, notes and entries not
attributed to one person) is not reproduced: the adviser reviews it first
(``PersonExport.withheld`` counts it for her; the document says so)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from cus_desk.domain.errors import AccessDeniedError, NotFoundError, ValidationError
from cus_desk.domain.formatting import format_cents, format_date, format_datetime
from cus_desk.domain.roles import Role
from cus_desk.services import access, audit
from cus_desk.services.base import Service
from cus_desk.store.models.core import Agency, Household, Lease, Partner, Referral, Tenant

TECHNICAL = {"version", "search_doc", "password_hash", "household_id", "case_id", "lease_id",
             "meeting_id", "decision_id", "referral_id", "extract_id", "author_id",
             "created_by_id", "recorded_by_id", "opened_by_id", "adviser_id", "referent_id",
             "imported_by_id", "closed_by_id", "corrects_id", "updated_at", "year", "sequence"}

LABELS = {
    "id": "N°", "last_name": "Nom", "first_name": "Prénom", "birth_date": "Date de naissance",
    "relationship_kind": "Lien", "position": "Rang", "phone": "Téléphone",
    "contract_number": "N° de contrat", "commune": "Commune", "address": "Adresse",
    "start_date": "Début du bail", "end_date": "Fin du bail", "kind": "Nature",
    "monthly_rent_cents": "Loyer mensuel", "reference": "Référence", "status": "Statut",
    "opened_on": "Ouvert le", "closed_on": "Clos le", "summary": "Synthèse",
    "closure_reason": "Motif de clôture", "last_activity_on": "Dernière activité",
    "caf_number": "N° CAF", "fsl_number": "N° FSL", "ccapex_number": "N° CCAPEX",
    "external_worker_ref": "Travailleur social extérieur", "arrears_cents": "Dette locative",
    "arrears_months": "Mois d'impayés", "last_payment_on": "Dernier paiement",
    "recommendation": "Préconisation", "holder_name": "Titulaire", "category": "Catégorie",
    "text": "Texte", "consent_on": "Consentement recueilli le", "consent_method": "Forme du consentement",
    "occurred_on": "Date", "agreed_on": "Accordé le", "monthly_cents": "Mensualité",
    "months": "Durée (mois)", "note": "Note", "sent_on": "Envoyé le", "reason": "Motif",
    "status_changed_on": "Statut changé le", "result": "Résultat", "failure_reason": "Raison de l'échec",
    "outcome": "Suite donnée", "proposal": "Proposition à la commission", "type": "Type",
    "responsible": "Responsable", "due_on": "Échéance", "on": "Date", "comment": "Commentaire",
    "balance_cents": "Solde", "months_unpaid": "Mois d'impayés",
    "holder_birth_date": "Naissance du titulaire (extrait)",
    "cotenant_birth_date": "Naissance du cotitulaire (extrait)", "observed_on": "Observé le",
    "observer": "Observateur", "on_date": "Date", "created_at": "Enregistré le",
    "judicial_requested_on": "Procédure demandée le", "partner": "Structure",
    "extract_date": "Date de l'extrait", "held_on": "Séance du", "agency": "Agence",
    "recorded_at": "Enregistré le", "code": "Problématique",
}


@dataclass(frozen=True)
class PersonMatch:
    tenant_id: int
    name: str
    birth_date: date | None
    agency: str
    contract_numbers: list[str]


@dataclass
class Section:
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PersonExport:
    tenant_id: int
    name: str
    generated_at: datetime
    generated_by: str
    sections: list[Section]
    # Household items left out or texts not reproduced because they may
    # concern another adult of the household: the adviser reviews them.
    withheld: int = 0

    def as_json(self) -> dict:
        return {
            "objet": "Droit d'accès (RGPD, article 15) : données enregistrées dans CUS Desk",
            "personne": self.name,
            "genere_le": self.generated_at.isoformat(timespec="seconds"),
            "genere_par": self.generated_by,
            "rubriques": [{"titre": s.title, "elements": s.rows} for s in self.sections],
        }


def row_dict(obj, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every mapped column of ``obj`` (technical ones aside), as JSON-ready values."""
    data: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        key = attr.key
        if key in TECHNICAL or key in ("id", "position") or key.endswith("_id"):
            continue
        value = getattr(obj, key)
        if isinstance(value, (date, datetime)):
            value = value.isoformat()
        elif isinstance(value, bytes):
            continue
        data[key] = value
    data.update(extra or {})
    return data


def _display(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if key == "code" and isinstance(value, str):
        from cus_desk.domain.cases import PROBLEMS

        return PROBLEMS.get(value, value)
    if key.endswith("_cents") and isinstance(value, int):
        return format_cents(value)
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            if len(value) == 10:
                return format_date(date.fromisoformat(value))
            return format_datetime(datetime.fromisoformat(value))
        except ValueError:
            pass
    if isinstance(value, str) and value.replace("_", "").isalpha() and value.islower():
        return value.replace("_", " ")  # a stored code: bail_classique → bail classique
    return str(value)


def _may_export(actor, household: Household) -> bool:
    role = Role(actor.role)
    if role is Role.SOCIAL_HEAD:
        return True
    return role is Role.SOCIAL_ADVISER and actor.agency_id == household.agency_id


EXPORT_DENIED = ("Vous ne pouvez exporter que les données des ménages de votre agence. "
                 "Adressez-vous à la conseillère de l'agence ou à la responsable du pôle social.")


def withheld_note(export: PersonExport) -> str:
    """For the adviser (not in the document): what was not reproduced."""
    if not export.withheld:
        return ""
    return (f" {export.withheld} élément(s) commun(s) au ménage, qui peuvent concerner une autre "
            "personne, n'y sont pas reproduits : relisez-les dans le dossier avant de les communiquer.")


class PersonExportService(Service):
    def find(self, text: str) -> list[PersonMatch]:
        """People whose name or contract number matches (within what the
        actor may export)."""
        access.require(self.actor, access.Permission.PERSON_EXPORT)
        wanted = (text or "").strip()
        if len(wanted) < 2:
            raise ValidationError("Tapez au moins deux caractères du nom ou du n° de contrat.")
        like = f"%{wanted}%"
        with self._read() as session:
            query = (
                select(Tenant).join(Household, Household.id == Tenant.household_id)
                .outerjoin(Lease, Lease.household_id == Household.id)
                .where(or_(Tenant.last_name.ilike(like), Tenant.first_name.ilike(like),
                           (Tenant.last_name + " " + Tenant.first_name).ilike(like),
                           Lease.contract_number.ilike(like)))
                .distinct().order_by(Tenant.last_name, Tenant.first_name).limit(50)
            )
            matches = []
            for tenant in session.scalars(query):
                household = tenant.household
                if not _may_export(self.actor, household):
                    continue
                matches.append(PersonMatch(
                    tenant.id, f"{tenant.last_name} {tenant.first_name}".strip(),
                    tenant.birth_date, household.agency.name,
                    [lease.contract_number for lease in household.leases]))
            return matches

    def collect(self, tenant_id: int) -> PersonExport:
        access.require(self.actor, access.Permission.PERSON_EXPORT)
        with self._write() as session:
            tenant = session.get(Tenant, tenant_id)
            if tenant is None:
                raise NotFoundError("Cette personne n'existe pas (ou plus) dans la base.")
            household = tenant.household
            if not _may_export(self.actor, household):
                raise AccessDeniedError(EXPORT_DENIED)
            scope = _Scope(tenant, household, self.clock.today())
            sections = _collect(session, scope)
            name = f"{tenant.last_name} {tenant.first_name}".strip()
            export = PersonExport(tenant.id, name, self.clock.now(), self.actor.display_name,
                                  sections, scope.withheld)
            audit.record(session, self.actor, audit.Action.EXPORT, "tenant", tenant.id, details={
                "objet": "droit d'accès", "rubriques": {s.title: len(s.rows) for s in sections},
                "elements_communs_non_reproduits": scope.withheld})
            return export

    def export_json(self, tenant_id: int, path: Path | str) -> PersonExport:
        export = self.collect(tenant_id)
        Path(path).write_text(json.dumps(export.as_json(), ensure_ascii=False, indent=2, default=str),
                              encoding="utf-8")
        return export

    def export_pdf(self, tenant_id: int, path: Path | str) -> PersonExport:
        export = self.collect(tenant_id)
        write_pdf(export, Path(path))
        return export


WITHHELD = ("[Élément commun au ménage, non reproduit : il peut concerner une autre personne. "
            "Votre conseillère sociale peut vous le communiquer après relecture.]")

# Free texts written about the household as a whole.
HOUSEHOLD_TEXTS = frozenset({"summary", "closure_reason", "text", "reason", "outcome", "note",
                             "proposal", "comment", "failure_reason"})


class _Scope:
    """Whose export this is, and whether the household has another adult
    (then what is common to the household is not reproduced)."""

    def __init__(self, tenant: Tenant, household: Household, today: date) -> None:
        from cus_desk.domain.formatting import age_on

        self.tenant = tenant
        self.household = household
        self.others = [m for m in household.members if m.id != tenant.id]
        self.shared = any(m.birth_date is None or age_on(m.birth_date, today) >= 18 for m in self.others)
        members = sorted(household.members, key=lambda m: (m.position, m.id))
        self.is_holder = bool(members) and members[0].id == tenant.id
        self.withheld = 0

    def common(self, data: dict[str, Any]) -> dict[str, Any]:
        """A household row: its free texts withheld when the household is shared."""
        if not self.shared:
            return data
        out = {}
        for key, value in data.items():
            if key in HOUSEHOLD_TEXTS and value not in (None, ""):
                out[key] = WITHHELD
                self.withheld += 1
            else:
                out[key] = value
        return out

    def about(self, subject_tenant_id: int | None) -> str:
        """'self', 'other' or 'household' for a row naming who it is about."""
        if subject_tenant_id == self.tenant.id:
            return "self"
        if subject_tenant_id is not None:
            return "other"
        return "household"


def _collect(session: Session, scope: _Scope) -> list[Section]:
    from cus_desk.store.models.cases import Case

    tenant, household = scope.tenant, scope.household
    sections = [Section("Vos données d'identité", [row_dict(tenant)])]
    # The other members by their link to the household only: no name, no birth date.
    sections.append(Section("Composition du ménage", [
        {"relationship_kind": m.relationship_kind} for m in scope.others]))
    sections.append(Section("Ménage", [row_dict(household, {"agency": household.agency.label})]))
    leases = list(session.scalars(select(Lease).where(Lease.household_id == household.id)))
    sections.append(Section("Baux", [row_dict(lease) for lease in leases]))
    lease_ids = [lease.id for lease in leases]

    cases = list(session.scalars(select(Case).where(Case.household_id == household.id)
                                 .order_by(Case.opened_on)))
    for case in cases:
        _collect_case(session, case, sections, scope)
    _collect_seniors(session, lease_ids, sections, scope)
    if scope.shared and scope.withheld:
        sections.append(Section("Éléments communs au ménage", [{"note": (
            "Certains éléments du dossier concernent le ménage dans son ensemble et peuvent concerner "
            "une autre personne : ils ne sont pas reproduits ici. Votre conseillère sociale peut vous "
            "les communiquer après relecture.")}]))
    return sections


def _case_children(session: Session, case_id: int) -> list[tuple[str, list]]:
    from cus_desk.store.models import cases as m
    from cus_desk.store.models.case_economics import CaseEconomics

    found = []
    for title, model, order in [
        ("Problématiques", m.CaseProblem, m.CaseProblem.code),
        ("Journal d'actions", m.JournalEntry, m.JournalEntry.occurred_on),
        ("Notes confidentielles", m.ConfidentialNote, m.ConfidentialNote.created_at),
        ("Plans d'apurement", m.RepaymentPlan, m.RepaymentPlan.agreed_on),
        ("Budget et procédure", CaseEconomics, CaseEconomics.case_id),
    ]:
        found.append((title, list(session.scalars(select(model).where(model.case_id == case_id)
                                                  .order_by(order)))))
    return found


def _child_rows(title: str, rows: list, scope: _Scope) -> list[dict[str, Any]]:
    from cus_desk.domain.meetings import is_sensitive_problem

    out = []
    for r in rows:
        if title == "Problématiques":
            if scope.shared and is_sensitive_problem(r.code):
                scope.withheld += 1  # health, violence…: whose is not recorded
                continue
            out.append(row_dict(r))
        elif title == "Notes confidentielles":
            about = scope.about(r.subject_tenant_id)
            if about == "other" or (about == "household" and scope.shared):
                if about == "household":
                    scope.withheld += 1
                continue  # another member's note is never exported
            out.append(row_dict(r))
        elif title == "Journal d'actions":
            about = scope.about(r.subject_tenant_id)
            if about == "other":
                continue
            out.append(row_dict(r) if about == "self" else scope.common(row_dict(r)))
        else:
            out.append(scope.common(row_dict(r)))
    return out


def _collect_case(session: Session, case, sections: list[Section], scope: _Scope) -> None:
    from cus_desk.domain.reference import is_sensitive_partner_category
    from cus_desk.store.models.meetings import AgendaItem, Decision, DecisionFollowUp, Meeting

    ref = case.reference
    case_row = scope.common(row_dict(case, {"agency": case.agency.label}))
    if not scope.is_holder:
        case_row.pop("holder_name", None)  # another member's name
    sections.append(Section(f"Dossier {ref}", [case_row]))
    for title, rows in _case_children(session, case.id):
        shown = _child_rows(title, rows, scope)
        if shown:
            sections.append(Section(f"Dossier {ref} — {title}", shown))
    items = session.execute(select(AgendaItem, Meeting.held_on).join(Meeting, Meeting.id == AgendaItem.meeting_id)
                            .where(AgendaItem.case_id == case.id).order_by(Meeting.held_on)).all()
    if items:
        sections.append(Section(f"Dossier {ref} — Passages en CAS", [
            scope.common(row_dict(item, {"held_on": held.isoformat()})) for item, held in items]))
    decisions = session.execute(select(Decision, Meeting.held_on).join(Meeting, Meeting.id == Decision.meeting_id)
                                .where(Decision.case_id == case.id).order_by(Meeting.held_on)).all()
    if decisions:
        rows = []
        for decision, held in decisions:
            follow = session.scalars(select(DecisionFollowUp).where(
                DecisionFollowUp.decision_id == decision.id).order_by(DecisionFollowUp.on)).all()
            rows.append(scope.common(row_dict(decision, {"held_on": held.isoformat()})))
            rows += [scope.common(row_dict(f, {"type": "suivi"})) for f in follow]
        sections.append(Section(f"Dossier {ref} — Décisions de la CAS", rows))
    referrals = session.execute(select(Referral, Partner.name, Partner.category)
                                .join(Partner, Partner.id == Referral.partner_id)
                                .where(Referral.case_id == case.id).order_by(Referral.sent_on)).all()
    shown = []
    for r, name, category in referrals:
        if scope.shared and is_sensitive_partner_category(category):
            scope.withheld += 1  # the partner's name tells about someone's health
            continue
        shown.append(scope.common(row_dict(r, {"partner": name})))
    if shown:
        sections.append(Section(f"Dossier {ref} — Orientations", shown))


def _collect_seniors(session: Session, lease_ids: list[int], sections: list[Section], scope: _Scope) -> None:
    if not lease_ids:
        return
    try:
        from cus_desk.store.models.seniors import (
            ArrearsExtract,
            ArrearsLine,
            FieldObservation,
            SeniorAlertEvent,
        )
    except ImportError:  # pragma: no cover - seniors feature absent
        return
    lines = session.execute(select(ArrearsLine, ArrearsExtract.extract_date)
                            .join(ArrearsExtract, ArrearsExtract.id == ArrearsLine.extract_id)
                            .where(ArrearsLine.lease_id.in_(lease_ids))
                            .order_by(ArrearsExtract.extract_date)).all()
    # The extract holds the holder's and the co-holder's birth dates: only one's own.
    own = {"titulaire": "holder_birth_date", "cotitulaire": "cotenant_birth_date"}.get(
        scope.tenant.relationship_kind)
    if lines:
        rows = []
        for line, d in lines:
            data = row_dict(line, {"extract_date": d.isoformat()})
            for key in ("holder_birth_date", "cotenant_birth_date"):
                if key != own:
                    data.pop(key, None)
            rows.append(data)
        sections.append(Section("Extraits d'impayés", rows))
    observations = session.scalars(select(FieldObservation).where(
        FieldObservation.lease_id.in_(lease_ids)).order_by(FieldObservation.observed_on)).all()
    if observations:
        sections.append(Section("Observations de terrain", [scope.common(row_dict(o)) for o in observations]))
    alerts = session.execute(select(Referral, Partner.name).join(Partner, Partner.id == Referral.partner_id)
                             .where(Referral.lease_id.in_(lease_ids), Referral.case_id.is_(None))
                             .order_by(Referral.sent_on)).all()
    if alerts:
        rows = []
        for referral, name in alerts:
            rows.append(scope.common(row_dict(referral, {"partner": name})))
            rows += [scope.common(row_dict(e, {"type": "historique"})) for e in session.scalars(
                select(SeniorAlertEvent).where(SeniorAlertEvent.referral_id == referral.id)
                .order_by(SeniorAlertEvent.on_date))]
        sections.append(Section("Signalements", rows))


def write_pdf(export: PersonExport, path: Path) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    from cus_desk.reports.fonts import register_fonts

    regular, bold = register_fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9, leading=11.5)
    title = ParagraphStyle("title", parent=base, fontName=bold, fontSize=15, leading=19, spaceAfter=6)
    h2 = ParagraphStyle("h2", parent=base, fontName=bold, fontSize=11, leading=14, spaceBefore=8,
                        spaceAfter=3, textColor=colors.HexColor("#1f3b5a"))
    key_style = ParagraphStyle("key", parent=base, textColor=colors.HexColor("#444444"))

    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")

    story = [
        Paragraph("Vos données enregistrées dans CUS Desk", title),
        Paragraph(esc(f"Droit d'accès (RGPD, article 15) — {export.name}"), base),
        Paragraph(esc(f"Document établi le {format_datetime(export.generated_at)} "
                      f"par {export.generated_by}."), base),
        Spacer(1, 4 * mm),
    ]
    width = A4[0] - 36 * mm
    for section in export.sections:
        block = [Paragraph(esc(section.title), h2)]
        if not section.rows:
            block.append(Paragraph("Aucune donnée.", base))
        for row in section.rows:
            data = [[Paragraph(esc(LABELS.get(k, k)), key_style), Paragraph(esc(_display(k, v)), base)]
                    for k, v in row.items()]
            table = Table(data, colWidths=[55 * mm, width - 55 * mm])
            table.setStyle(TableStyle([
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, -1), (-1, -1), 0.4, colors.HexColor("#b0b8c4")),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]))
            block.append(table)
            block.append(Spacer(1, 2 * mm))
        story.append(KeepTogether(block[:2]) if len(block) >= 2 else block[0])
        story.extend(block[2:])
    story.append(Spacer(1, 6 * mm))
    story.append(Paragraph(
        "Vous pouvez demander la rectification des données inexactes ou, dans les limites prévues "
        "par la loi, leur effacement, auprès de votre conseillère sociale.", base))

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.drawString(18 * mm, 10 * mm, f"CUS Desk — droit d'accès — {export.name}")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"page {doc.page}")
        canvas.restoreState()

    tmp = path.with_name(f".{path.name}.part")
    doc = SimpleDocTemplate(str(tmp), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=16 * mm, title="Droit d'accès",
                            author="CUS Desk")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    tmp.replace(path)


_ = Agency
