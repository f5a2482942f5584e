"""Seniors 65+ en impayé (CUS §9.3): import of arrears extracts, the list of
tenants at risk, field observations and signalements to CMS / CCAS / CLIC /
pôle gérontologique, the fiche de signalement.

``lease_balance_history(session, lease_id)`` is pinned for the meetings
feature (arrears trend of a case's lease)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from cus_desk.domain import seniors as rules
from cus_desk.domain.errors import (
    AccessDeniedError,
    ConflictError,
    NotFoundError,
    ValidationError,
    WorkflowError,
)
from cus_desk.domain.formatting import format_date
from cus_desk.domain.parsing import date_in_filename, normalize_name
from cus_desk.domain.reference import SENIOR_PARTNER_KINDS
from cus_desk.domain.settings import (
    FIRST_ARREARS_LEASE_YEARS,
    ORGANISATION_NAME,
    SENIOR_AGE,
    SENIOR_MIN_BALANCE_CENTS,
    SENIOR_MIN_MONTHS,
    SIGNALEMENT_REMINDER_DAYS,
)
from cus_desk.services import access, audit
from cus_desk.services.base import Service, check_version, traces_refusals
from cus_desk.services.settings import read_setting
from cus_desk.store import arrears_import as imp
from cus_desk.store.models.core import Agency, Household, Lease, Partner, Referral, Tenant, User
from cus_desk.store.models.seniors import (
    ArrearsExtract,
    ArrearsLine,
    FieldObservation,
    SeniorAlertEvent,
    SeniorAlertInfo,
)

SENIOR_ALERT = "senior_alert"


P = access.Permission

# What the UI needs from the importer, without reaching into the store layer.
IMPORT_FIELDS = imp.FIELDS
ImportCancelled = imp.ImportCancelled
ImportRefused = imp.ImportRefused
MappingRequired = imp.MappingRequired


def save_rejected_csv(rejected: list, path: Path | str) -> None:
    """The rejected-lines report as a CSV file Excel opens (UTF-8 BOM, ``;``)."""
    imp.rejected_to_csv(rejected, path)


def lease_balance_history(session: Session, lease_id: int) -> list[tuple[date, int]]:
    """(extract date, balance in cents) of a lease in every imported extract,
    oldest first. Empty when the lease was in no extract."""
    rows = session.execute(
        select(ArrearsExtract.extract_date, ArrearsLine.balance_cents)
        .join(ArrearsLine, ArrearsLine.extract_id == ArrearsExtract.id)
        .where(ArrearsLine.lease_id == lease_id)
        .order_by(ArrearsExtract.extract_date)
    )
    return [(d, b) for d, b in rows]


def risk_rule(session: Session) -> rules.RiskRule:
    return rules.RiskRule(
        senior_age=read_setting(session, SENIOR_AGE),
        min_balance_cents=read_setting(session, SENIOR_MIN_BALANCE_CENTS),
        min_months=read_setting(session, SENIOR_MIN_MONTHS),
        first_arrears_lease_years=read_setting(session, FIRST_ARREARS_LEASE_YEARS),
    )


# ------------------------------------------------------------------ results

@dataclass(frozen=True)
class ExtractInfo:
    id: int
    extract_date: date
    source_name: str
    lines_read: int
    lines_imported: int
    rejected_count: int


@dataclass(frozen=True)
class FileAnalysis:
    """What the import dialog needs before importing."""

    source_name: str
    kind: str
    sheets: list[str]
    sheet: str | None
    headers: list[str]
    mapping: dict[str, str]  # field key -> header
    unknown: list[str]
    missing_required: list[str]
    missing_recommended: list[str]
    needs_mapping: bool
    remembered: bool
    lines: int
    proposed_date: date | None
    existing_extract: bool = False
    agencies: list[str] | None = None  # agencies named in the file (None: no agency column)
    header_line: int = 1


@dataclass(frozen=True)
class SeniorRow:
    lease_id: int
    contract: str
    last_name: str
    first_name: str
    age: int | None
    agency_id: int
    agency: str
    commune: str
    balance_cents: int | None
    months_unpaid: int | None
    status: str
    status_label: str
    first_arrears: bool
    lease_start: date | None
    extract_date: date | None
    reminder_due: date | None = None
    history_unknown: bool = False  # "premier impayé" cannot be told (no history, nothing in the file)
    first_arrears_reason: str = ""

    def to_json(self) -> dict:
        return {
            "lease_id": self.lease_id,
            "contract": self.contract,
            "age": self.age,
            "agency": self.agency,
            "commune": self.commune,
            "balance_cents": self.balance_cents,
            "months_unpaid": self.months_unpaid,
            "status": self.status,
            "first_arrears": None if self.history_unknown else self.first_arrears,
            "first_arrears_reason": self.first_arrears_reason,
            "extract_date": self.extract_date.isoformat() if self.extract_date else None,
        }


@dataclass(frozen=True)
class SeniorsListing:
    extract_date: date | None
    rows: list[SeniorRow]
    count_by_agency: dict[str, int]
    count_by_status: dict[str, int]
    first_arrears_count: int
    total: int


@dataclass(frozen=True)
class ObservationView:
    id: int
    kind: str
    kind_label: str
    observed_on: date
    observer: str
    note: str
    recorded_by: str
    correction_reason: str | None = None  # this version corrects an earlier one


@dataclass(frozen=True)
class AlertEventView:
    status: str
    label: str
    on_date: date
    note: str
    kind: str = "statut"  # statut | relance | commentaire | annulation
    means: str | None = None  # of a relance: domain.seniors.RELANCE_MEANS
    recorded_by: str = ""


@dataclass(frozen=True)
class SignalementView:
    id: int
    version: int
    lease_id: int
    partner_id: int
    partner_name: str
    partner_kind: str
    partner_kind_label: str
    sent_on: date
    status: str
    status_label: str
    reason: str
    events: list[AlertEventView]
    next_statuses: list[tuple[str, str]]
    reminder_due: date | None
    case_id: int | None
    tenant_informed: bool | None = None
    tenant_informed_note: str = ""
    reply_expected: str = ""
    reply_by: date | None = None


@dataclass(frozen=True)
class SeniorDetail:
    lease_id: int
    contract: str
    last_name: str
    first_name: str
    birth_date: date | None
    cotenant_birth_date: date | None
    age: int | None
    agency_id: int
    agency: str
    commune: str
    address: str | None
    phone: str | None
    lease_start: date | None
    monthly_rent_cents: int | None
    balance_cents: int | None
    months_unpaid: int | None
    last_payment_on: date | None
    extract_date: date | None
    status: str | None
    status_label: str
    first_arrears: bool
    history: list[tuple[date, int]]
    observations: list[ObservationView]
    signalements: list[SignalementView]
    history_unknown: bool = False
    first_arrears_reason: str = ""
    cotenant_name: str | None = None


@dataclass(frozen=True)
class PartnerChoice:
    id: int
    name: str
    kind: str
    commune: str | None
    proposed: bool  # in the tenant's commune


# ------------------------------------------------------------------ service

class SeniorsService(Service):
    # ----------------------------------------------------------- import
    def analyse_file(self, path: Path | str, sheet: str | None = None) -> FileAnalysis:
        access.require(self.actor, P.ARREARS_IMPORT)
        path = Path(path)
        sheets = imp.list_sheets(path)
        table = imp.read_table(path, sheet)
        with self._read() as session:
            remembered = imp.remembered_mapping(session, imp.header_signature(table.headers))
            result = imp.analyse(table.headers, remembered)
            proposed = date_in_filename(path.name) or imp.date_in_preamble(table.preamble)
            exists = proposed is not None and session.scalar(
                select(ArrearsExtract.id).where(ArrearsExtract.extract_date == proposed)) is not None
            agencies = None
            column = result.mapping.get("agency")
            if column is not None:
                values = {str(cells[column]).strip() for _n, cells in table.rows
                          if column < len(cells) and cells[column] not in (None, "")}
                agencies = imp.file_agencies(session, sorted(values))
        return FileAnalysis(
            source_name=table.source_name, kind=table.kind, sheets=sheets, sheet=table.sheet,
            headers=table.headers,
            mapping={k: table.headers[i] for k, i in result.mapping.items()},
            unknown=result.unknown, missing_required=result.missing_required,
            missing_recommended=result.missing_recommended, needs_mapping=result.needs_mapping,
            remembered=result.remembered, lines=len(table.rows), proposed_date=proposed,
            existing_extract=bool(exists), agencies=agencies, header_line=table.header_line,
        )

    def replacement_notice(self, extract_date: date, agencies: list[str] | None) -> str:
        """What importing a file covering ``agencies`` (None: unknown, taken
        as all) at ``extract_date`` will replace, in French; "" when no
        extract of that date exists."""
        access.require(self.actor, P.ARREARS_IMPORT)
        with self._read() as session:
            existing = imp.extract_agencies(session, extract_date)
        if existing is None:
            return ""
        when = format_date(extract_date)
        listed = ", ".join(existing) or "aucune"
        if agencies is None or set(existing) <= set(agencies):
            return f"Un extrait du {when} est déjà importé (agences : {listed}) : il sera remplacé."
        replaced = [a for a in existing if a in agencies]
        kept = [a for a in existing if a not in agencies]
        covered = ", ".join(agencies) or "aucune agence connue"
        text = f"Un extrait du {when} est déjà importé (agences : {listed}). Ce fichier ne couvre que : {covered}. "
        if replaced:
            text += f"Les lignes de {', '.join(replaced)} seront remplacées ; "
        else:
            text += "Ses lignes s'ajouteront à cet extrait ; "
        return text + f"celles de {', '.join(kept)} sont conservées."

    def sheets(self, path: Path | str) -> list[str]:
        """Sheet names of an XLSX workbook (empty for a CSV)."""
        access.require(self.actor, P.ARREARS_IMPORT)
        return imp.list_sheets(path)

    def extract_exists(self, extract_date: date) -> bool:
        with self._read() as session:
            return session.scalar(
                select(ArrearsExtract.id).where(ArrearsExtract.extract_date == extract_date)) is not None

    def import_arrears(
        self,
        path: Path | str,
        extract_date: date,
        *,
        sheet: str | None = None,
        mapping: dict[str, str] | None = None,
        remember_mapping: bool = False,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> imp.ImportResult:
        """Import one extract. ``mapping`` ({field: header}) comes from the
        mapping dialog; otherwise headers are recognised (or a mapping
        remembered for this shape of file is used). Raises ImportRefused /
        MappingRequired (nothing changed) or ImportCancelled (nothing changed)."""
        access.require(self.actor, P.ARREARS_IMPORT)
        if not isinstance(extract_date, date):
            raise ValidationError("Indiquez la date de l'extrait (jj/mm/aaaa).", "extract_date")
        if extract_date > self.clock.today():
            raise ValidationError(
                "La date de l'extrait est dans le futur : indiquez la date à laquelle le "
                "fichier a été produit.", "extract_date")
        path = Path(path)
        with imp.gc_paused():
            return self._import(path, extract_date, sheet, mapping, remember_mapping, progress, cancelled)

    def _import(self, path, extract_date, sheet, mapping, remember_mapping, progress, cancelled):
        table = imp.read_table(path, sheet, cancelled)
        if mapping is not None:
            columns = imp.mapping_from_headers(table.headers, mapping)
        else:
            with self._read() as session:
                remembered = imp.remembered_mapping(session, imp.header_signature(table.headers))
            columns = imp.analyse(table.headers, remembered).mapping
        total = len(table.rows) * 2 or 1
        lines, rejected = imp.parse_rows(table, columns, extract_date, progress, cancelled,
                                         progress_total=total)
        if not lines:
            raise imp.no_valid_line(table.source_name, rejected)
        with self._write() as session:
            result = imp.store_extract(
                session, extract_date, lines, rejected, source_name=table.source_name,
                lines_read=len(table.rows), actor_id=self.actor.user_id, progress=progress,
                cancelled=cancelled, progress_offset=len(table.rows), progress_total=total,
            )
            result.header_line = table.header_line
            if mapping is not None and remember_mapping:
                imp.remember_mapping(session, table.headers, columns, self.actor.user_id)
            audit.record(session, self.actor, audit.Action.IMPORT, "arrears_extract", result.extract_id,
                         details={"extract_date": extract_date.isoformat(),
                                  "source": table.source_name, "lines_read": result.lines_read,
                                  "imported": result.imported, "rejected": len(result.rejected),
                                  "warnings": len(result.warnings), "replaced": result.replaced,
                                  "agencies": result.agencies, "kept_agencies": result.kept_agencies})
            if cancelled is not None and cancelled():
                raise imp.ImportCancelled()
        return result

    def extracts(self) -> list[ExtractInfo]:
        if not (access.has(self.actor, P.SENIORS_READ) or access.has(self.actor, P.ARREARS_IMPORT)):
            access.require(self.actor, P.SENIORS_READ)
        with self._read() as session:
            rows = session.scalars(select(ArrearsExtract).order_by(ArrearsExtract.extract_date.desc()))
            import json

            return [ExtractInfo(e.id, e.extract_date, e.source_name, e.lines_read, e.lines_imported,
                                sum(1 for item in json.loads(e.rejected_json) if not item.get("warning")))
                    for e in rows]

    # ------------------------------------------------------------- list
    def list_seniors(
        self,
        as_of: date | None = None,
        *,
        agency_id: int | None = None,
        status: str | None = None,
        first_arrears_only: bool = False,
        age_band: str | None = None,
    ) -> SeniorsListing:
        """65+ tenants in arrears according to the latest extract on or
        before ``as_of`` (default: the latest), plus those with an open
        signalement. Counts are over the whole list (before filters)."""
        access.require(self.actor, P.SENIORS_READ)
        scope = access.seniors_agency(self.actor)
        today = self.clock.today()
        with self._read() as session, imp.gc_paused():
            rows = _compute_seniors(session, as_of, today)
        if scope is not None:  # an agency's staff see that agency's tenants only
            rows = [r for r in rows if r.agency_id == scope]
        extract_date = _extract_date(rows)
        count_by_agency = Counter(r.agency for r in rows)
        count_by_status = Counter(r.status for r in rows)
        first_count = sum(1 for r in rows if r.first_arrears)
        filtered = [
            r for r in rows
            if (agency_id is None or r.agency_id == agency_id)
            and (status is None or r.status == status)
            and (not first_arrears_only or r.first_arrears)
            and (age_band is None or rules.age_band(r.age) == age_band)
        ]
        return SeniorsListing(extract_date, filtered, dict(count_by_agency), dict(count_by_status),
                              first_count, len(rows))

    def seniors_xlsx(self, lease_ids: list[int], filters: str, as_of: date | None = None) -> bytes:
        """The 65+ list as XLSX: the rows ``lease_ids`` (those the screen shows
        with its filters, in its order), ``filters`` described above them.
        Recorded in the audit log (personal data leaving the application)."""
        access.require(self.actor, P.SENIORS_READ)
        from cus_desk.reports.seniors_list import build_seniors_xlsx

        listing = self.list_seniors(as_of)
        by_id = {r.lease_id: r for r in listing.rows}
        rows = [by_id[i] for i in lease_ids if i in by_id]
        with self._write() as session:
            organisation = read_setting(session, ORGANISATION_NAME)
            audit.record(session, self.actor, audit.Action.EXPORT, "seniors_list", None,
                         details={"format": "xlsx", "rows": len(rows), "filters": filters,
                                  "extract_date": listing.extract_date.isoformat() if listing.extract_date else None})
        return build_seniors_xlsx(rows, title=f"{organisation} — Locataires de 65 ans et plus en impayé",
                                  filters=filters or "aucun", extract_date=listing.extract_date,
                                  printed_at=self.clock.now())

    def agencies(self) -> list[tuple[int, str]]:
        """The agencies the actor's seniors list covers (filter choices)."""
        scope = access.seniors_agency(self.actor)
        with self._read() as session:
            query = select(Agency).order_by(Agency.name)
            if scope is not None:
                query = query.where(Agency.id == scope)
            return [(a.id, a.name) for a in session.scalars(query)]

    def _in_scope(self, session: Session, lease: Lease, what: str) -> Lease:
        """Refuse (and note for the trace) a tenant of another agency."""
        scope = access.seniors_agency(self.actor)
        if scope is not None and lease.agency_id != scope:
            self._denied = ("senior", lease.id, what, None)
            raise AccessDeniedError(access.SENIORS_DENIED)
        return lease

    # ----------------------------------------------------------- detail
    @traces_refusals
    def detail(self, lease_id: int) -> SeniorDetail:
        """One tenant's situation; reading it is traced (and so is a refusal)."""
        access.require(self.actor, P.SENIORS_READ)
        today = self.clock.today()
        with self._write() as session:
            self._in_scope(session, _lease_or_404(session, lease_id), "consultation de la fiche senior")
            detail = _detail(session, lease_id, today)
            audit.record(session, self.actor, audit.Action.READ, "senior", lease_id,
                         details={"vue": "fiche_senior"})
            return detail

    # ----------------------------------------------------- observations
    @traces_refusals
    def add_observation(self, lease_id: int, kind: str, observed_on: date, observer: str,
                        note: str, *, corrects: tuple[int, str] | None = None) -> ObservationView:
        access.require(self.actor, P.SENIORS_EDIT)
        try:
            kind_value = rules.ObservationKind(kind)
        except ValueError:
            raise ValidationError("Choisissez le type d'observation.", "kind") from None
        if not isinstance(observed_on, date):
            raise ValidationError("Indiquez la date de l'observation.", "observed_on")
        if observed_on > self.clock.today():
            raise ValidationError("La date de l'observation ne peut pas être dans le futur.", "observed_on")
        observer = (observer or "").strip()
        note = (note or "").strip()
        if not observer:
            raise ValidationError("Indiquez qui a fait l'observation.", "observer")
        if len(observer) > 120:
            raise ValidationError("Le nom de l'observateur est trop long (120 caractères au plus).", "observer")
        if not note:
            raise ValidationError(
                "Décrivez les faits observés (ce qui a été vu ou entendu, sans appréciation).", "note")
        with self._write() as session:
            self._in_scope(session, _lease_or_404(session, lease_id), "observation")
            obs = FieldObservation(lease_id=lease_id, kind=kind_value.value, observed_on=observed_on,
                                   observer=observer, note=note, recorded_by_id=self.actor.user_id,
                                   corrects_id=corrects[0] if corrects else None,
                                   correction_reason=corrects[1] if corrects else None)
            session.add(obs)
            session.flush()
            audit.record(session, self.actor, audit.Action.CREATE, "field_observation", obs.id,
                         details={"lease_id": lease_id, "kind": kind_value.value,
                                  "observed_on": observed_on.isoformat()})
            return ObservationView(obs.id, obs.kind, kind_value.label, obs.observed_on, obs.observer,
                                   obs.note, self.actor.display_name, obs.correction_reason)

    # ------------------------------------------------------ signalements
    @traces_refusals
    def partner_choices(self, lease_id: int, kind: str) -> list[PartnerChoice]:
        """Active partners of that kind; those of the tenant's commune first
        (``proposed``), then those serving the lease's agency, then others."""
        access.require(self.actor, P.SENIORS_READ)
        if kind not in SENIOR_PARTNER_KINDS:
            raise ValidationError("Choisissez CMS, CCAS, CLIC ou pôle gérontologique.", "kind")
        with self._read() as session:
            lease = self._in_scope(session, _lease_or_404(session, lease_id), "choix du partenaire")
            commune = normalize_name(lease.commune)
            partners = session.scalars(
                select(Partner).where(Partner.category == kind, Partner.active.is_(True),
                                      Partner.merged_into_id.is_(None)).order_by(Partner.name)
            ).all()
            covered = _communes_covered(session, [p.id for p in partners])
            choices = []
            for p in partners:
                proposed = bool(commune) and (normalize_name(p.commune or "") == commune
                                              or commune in covered.get(p.id, ()))
                serves = any(a.id == lease.agency_id for a in p.agencies)
                choices.append((0 if proposed else 1 if serves else 2, p.name,
                                PartnerChoice(p.id, p.name, p.category, p.commune, proposed)))
            return [c for *_k, c in sorted(choices, key=lambda t: (t[0], t[1]))]

    @traces_refusals
    def send_signalement(self, lease_id: int, partner_id: int, sent_on: date, facts: str, *,
                         tenant_informed: bool | None, tenant_informed_note: str = "",
                         reply_expected: str = "", reply_by: date | None = None) -> SignalementView:
        """Send a signalement. ``tenant_informed`` is required (the fiche says
        whether the tenant knows); the reply expected and its date are
        printed on the fiche so that the partner can answer."""
        access.require(self.actor, P.SENIORS_EDIT)
        if not isinstance(sent_on, date):
            raise ValidationError("Indiquez la date d'envoi du signalement.", "sent_on")
        if sent_on > self.clock.today():
            raise ValidationError("La date d'envoi ne peut pas être dans le futur.", "sent_on")
        if tenant_informed is None:
            raise ValidationError(
                "Indiquez si le locataire a été informé du signalement (oui ou non) : le partenaire "
                "doit le savoir avant de le contacter.", "tenant_informed")
        if reply_by is not None and reply_by < sent_on:
            raise ValidationError("La date de réponse attendue précède l'envoi : vérifiez-la.", "reply_by")
        tenant_informed_note = (tenant_informed_note or "").strip()
        reply_expected = (reply_expected or "").strip()
        if len(tenant_informed_note) > 255:
            raise ValidationError("La précision sur l'information du locataire est trop longue "
                                  "(255 caractères au plus).", "tenant_informed_note")
        facts = (facts or "").strip()
        with self._write() as session:
            lease = self._in_scope(session, _lease_or_404(session, lease_id), "signalement")
            partner = session.get(Partner, partner_id)
            if partner is None or not partner.active or partner.merged_into_id is not None:
                raise ValidationError("Choisissez une structure partenaire active dans l'annuaire.", "partner")
            if partner.category not in SENIOR_PARTNER_KINDS:
                raise ValidationError(
                    f"« {partner.name} » n'est pas un CMS, un CCAS, un CLIC ou un pôle gérontologique : "
                    "un signalement senior ne peut être adressé qu'à l'un de ces quatre partenaires.",
                    "partner")
            has_obs = session.scalar(select(func.count(FieldObservation.id))
                                     .where(FieldObservation.lease_id == lease.id))
            if not has_obs:
                raise WorkflowError(
                    "Un signalement suppose un comportement constaté sur le terrain : enregistrez "
                    "d'abord une observation (changement d'attitude, ne répond plus aux sollicitations...).")
            open_alert = session.scalar(
                select(Referral.id).where(Referral.kind == SENIOR_ALERT, Referral.lease_id == lease.id,
                                          Referral.status.notin_([rules.AlertStatus.CLOS.value,
                                                                  rules.AlertStatus.ANNULE.value])))
            if open_alert is not None:
                raise WorkflowError(
                    "Un signalement est déjà en cours pour ce bail : suivez-le (accusé de réception, "
                    "prise en charge) ou clôturez-le avant d'en envoyer un autre.")
            referral = Referral(kind=SENIOR_ALERT, lease_id=lease.id, partner_id=partner.id,
                                sent_on=sent_on, reason=facts, status=rules.AlertStatus.ENVOYE.value,
                                status_changed_on=sent_on, created_by_id=self.actor.user_id)
            session.add(referral)
            session.flush()
            session.add(SeniorAlertEvent(referral_id=referral.id, status=referral.status, on_date=sent_on,
                                         recorded_by_id=self.actor.user_id))
            session.add(SeniorAlertInfo(referral_id=referral.id, tenant_informed=tenant_informed,
                                        tenant_informed_note=tenant_informed_note,
                                        reply_expected=reply_expected, reply_by=reply_by))
            audit.record(session, self.actor, audit.Action.CREATE, "senior_alert", referral.id,
                         details={"lease_id": lease.id, "partner_id": partner.id,
                                  "kind": partner.category, "sent_on": sent_on.isoformat(),
                                  "tenant_informed": tenant_informed,
                                  "reply_by": reply_by.isoformat() if reply_by else None})
            session.flush()
            return _signalement_view(session, referral, self.clock.today())

    @traces_refusals
    def set_signalement_status(self, referral_id: int, status: str, on_date: date,
                               expected_version: int | None, note: str = "") -> SignalementView:
        access.require(self.actor, P.SENIORS_EDIT)
        if not isinstance(on_date, date):
            raise ValidationError("Indiquez la date.", "on_date")
        if on_date > self.clock.today():
            raise ValidationError("La date ne peut pas être dans le futur.", "on_date")
        with self._write() as session:
            referral = _alert_or_404(session, referral_id)
            self._in_scope(session, _lease_or_404(session, referral.lease_id), "suivi du signalement")
            check_version(expected_version, referral.version)
            rules.check_alert_transition(referral.status, status)
            if on_date < referral.sent_on:
                raise ValidationError(
                    "Cette date est antérieure à l'envoi du signalement : vérifiez-la.", "on_date")
            before = referral.status
            referral.status = status
            referral.status_changed_on = on_date
            if status == rules.AlertStatus.CLOS.value:
                referral.closed_on = on_date
                # For the partners' success rate: a signalement "aboutit" when the
                # partner took the person in charge before it was closed.
                taken = before == rules.AlertStatus.PRIS_EN_CHARGE.value or session.scalar(
                    select(func.count(SeniorAlertEvent.id)).where(
                        SeniorAlertEvent.referral_id == referral.id,
                        SeniorAlertEvent.status == rules.AlertStatus.PRIS_EN_CHARGE.value))
                referral.result = "aboutie" if taken else "non_aboutie"
                if note.strip():
                    referral.outcome = note.strip()
            session.add(SeniorAlertEvent(referral_id=referral.id, status=status, on_date=on_date,
                                         note=note.strip(), recorded_by_id=self.actor.user_id))
            session.flush()
            audit.record(session, self.actor, audit.Action.UPDATE, "senior_alert", referral.id,
                         details={"status": [before, status], "on_date": on_date.isoformat()})
            return _signalement_view(session, referral, self.clock.today())

    def add_relance(self, referral_id: int, on_date: date, means: str, comment: str,
                    expected_version: int | None) -> SignalementView:
        """A reminder sent to the partner (date, means, comment): in the
        history; the next reminder falls due counting from it."""
        access.require(self.actor, P.SENIORS_EDIT)
        if means not in rules.RELANCE_MEANS:
            raise ValidationError("Choisissez le moyen de la relance (téléphone, courriel, courrier, visite).",
                                  "means")
        return self._follow_up(referral_id, on_date, "relance", (comment or "").strip(), expected_version,
                               means=means, open_only=True)

    def add_follow_up_comment(self, referral_id: int, on_date: date, comment: str,
                              expected_version: int | None) -> SignalementView:
        """A follow-up comment (what the partner said, what was agreed)."""
        access.require(self.actor, P.SENIORS_EDIT)
        comment = (comment or "").strip()
        if not comment:
            raise ValidationError("Écrivez le commentaire de suivi.", "comment")
        return self._follow_up(referral_id, on_date, "commentaire", comment, expected_version)

    def cancel_signalement(self, referral_id: int, reason: str, expected_version: int | None) -> SignalementView:
        """Cancel a signalement sent by mistake: kept with its reason, no longer
        counted (the tenant's status is as if it had not been sent)."""
        access.require(self.actor, P.SENIORS_EDIT)
        reason = (reason or "").strip()
        if len(reason) < 5:
            raise ValidationError("Indiquez pourquoi ce signalement est annulé (erreur de locataire, de "
                                  "partenaire...) : le motif reste dans l'historique.", "reason")
        today = self.clock.today()
        with self._write() as session:
            referral = _alert_or_404(session, referral_id)
            check_version(expected_version, referral.version)
            if referral.status in (rules.AlertStatus.CLOS.value, rules.AlertStatus.ANNULE.value):
                raise WorkflowError(
                    f"Ce signalement est déjà « {rules.AlertStatus(referral.status).label.lower()} » : il ne "
                    "peut plus être annulé.")
            before = referral.status
            referral.status = rules.AlertStatus.ANNULE.value
            referral.status_changed_on = today
            referral.closed_on = today
            referral.result = "annule"
            session.add(SeniorAlertEvent(referral_id=referral.id, status=referral.status, on_date=today,
                                         note=reason, kind="annulation", recorded_by_id=self.actor.user_id))
            session.flush()
            audit.record(session, self.actor, audit.Action.UPDATE, "senior_alert", referral.id,
                         details={"status": [before, referral.status], "reason": reason})
            return _signalement_view(session, referral, today)

    def _follow_up(self, referral_id: int, on_date: date, kind: str, note: str, expected_version: int | None,
                   *, means: str | None = None, open_only: bool = False) -> SignalementView:
        if not isinstance(on_date, date):
            raise ValidationError("Indiquez la date.", "on_date")
        today = self.clock.today()
        if on_date > today:
            raise ValidationError("La date ne peut pas être dans le futur.", "on_date")
        with self._write() as session:
            referral = _alert_or_404(session, referral_id)
            check_version(expected_version, referral.version)
            if on_date < referral.sent_on:
                raise ValidationError("Cette date est antérieure à l'envoi du signalement : vérifiez-la.", "on_date")
            if open_only and referral.status not in rules.OPEN_ALERT_STATUSES:
                raise WorkflowError(f"Ce signalement est « {rules.AlertStatus(referral.status).label.lower()} » : "
                                    "il n'y a plus lieu de relancer le partenaire.")
            session.add(SeniorAlertEvent(referral_id=referral.id, status=referral.status, on_date=on_date,
                                         note=note, kind=kind, means=means, recorded_by_id=self.actor.user_id))
            flag_modified(referral, "status")  # a new version: other screens reload before editing
            session.flush()
            audit.record(session, self.actor, audit.Action.UPDATE, "senior_alert", referral.id,
                         details={kind: on_date.isoformat(), "means": means})
            return _signalement_view(session, referral, today)

    def correct_observation(self, observation_id: int, kind: str, observed_on: date, observer: str,
                            note: str, reason: str) -> ObservationView:
        """A corrected observation: a new version naming the one it corrects
        (kept, hidden from the detail); both are in the audit log."""
        access.require(self.actor, P.SENIORS_EDIT)
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError("Indiquez ce qui est corrigé et pourquoi.", "reason")
        with self._read() as session:
            old = session.get(FieldObservation, observation_id)
            if old is None:
                raise NotFoundError("Cette observation n'existe plus : rechargez la fiche.")
            lease_id = old.lease_id
            before = {"kind": old.kind, "observed_on": old.observed_on.isoformat(), "observer": old.observer,
                      "note": old.note}
            newer = session.scalar(select(FieldObservation.id).where(FieldObservation.corrects_id == old.id))
        if newer is not None:
            raise ConflictError("Cette observation a déjà été corrigée : rechargez la fiche et corrigez "
                                "la dernière version.")
        view = self.add_observation(lease_id, kind, observed_on, observer, note, corrects=(observation_id, reason))
        with self._write() as session:
            audit.record(session, self.actor, audit.Action.UPDATE, "field_observation", observation_id,
                         details={"corrected_by": view.id, "reason": reason,
                                  **audit.diff_fields(before, {"kind": kind, "observed_on": observed_on.isoformat(),
                                                               "observer": observer.strip(), "note": note.strip()})})
        return view

    @traces_refusals
    def fiche_pdf(self, referral_id: int) -> bytes:
        """The fiche de signalement (only what the partner needs)."""
        access.require(self.actor, P.SENIORS_READ)
        from cus_desk.reports.signalement import FicheData, build_fiche
        from cus_desk.services.agencies import contact_of, missing_contact_message

        with self._write() as session:
            referral = _alert_or_404(session, referral_id)
            self._in_scope(session, _lease_or_404(session, referral.lease_id), "fiche de signalement")
            detail = _detail(session, referral.lease_id, self.clock.today())
            partner = referral.partner
            sender = session.get(User, referral.created_by_id) if referral.created_by_id else None
            info = session.get(SeniorAlertInfo, referral.id)
            lease = session.get(Lease, referral.lease_id)
            contact = contact_of(lease.agency)
            if not contact.answerable:
                raise WorkflowError(missing_contact_message(contact))
            data = FicheData(
                organisation=read_setting(session, ORGANISATION_NAME),
                agency_label=lease.agency.label,
                agency_town=lease.agency.town,
                sender_name=sender.display_name if sender else self.actor.display_name,
                reference=rules.signalement_reference(referral.sent_on, referral.id),
                sent_on=referral.sent_on,
                partner_name=partner.name,
                partner_kind=SENIOR_PARTNER_KINDS.get(partner.category, partner.category),
                partner_address=", ".join(x for x in (partner.address, partner.commune) if x) or None,
                last_name=detail.last_name,
                first_name=detail.first_name,
                birth_date=detail.birth_date,
                age=detail.age,
                cotenant_birth_date=detail.cotenant_birth_date,
                address=detail.address,
                commune=detail.commune,
                phone=detail.phone,
                contract=detail.contract,
                lease_start=detail.lease_start,
                balance_cents=detail.balance_cents,
                months_unpaid=detail.months_unpaid,
                last_payment_on=detail.last_payment_on,
                monthly_rent_cents=detail.monthly_rent_cents,
                extract_date=detail.extract_date,
                history=detail.history[-6:],
                facts=[(o.observed_on, o.kind_label, o.note) for o in detail.observations],
                reason=referral.reason,
                cotenant_name=detail.cotenant_name,
                tenant_informed=info.tenant_informed if info else None,
                tenant_informed_note=info.tenant_informed_note if info else "",
                reply_expected=info.reply_expected if info else "",
                reply_by=info.reply_by if info else None,
                sender_role=_role_label(sender.role) if sender else "",
                agency_address=contact.address,
                agency_phone=contact.phone,
                agency_email=contact.email,
            )
            audit.record(session, self.actor, audit.Action.PRINT, "senior_alert", referral.id,
                         details={"document": "fiche_signalement", "lease_id": referral.lease_id})
        return build_fiche(data)

    @traces_refusals
    def case_for_signalement(self, referral_id: int) -> int:
        """The case file of the signalement's household, opened if there is
        none (cases feature), and linked to the signalement."""
        access.require(self.actor, P.SENIORS_EDIT)
        try:
            from cus_desk.services.cases import CaseService
        except ImportError:  # pragma: no cover - cases feature absent from this build
            raise WorkflowError("La gestion des dossiers n'est pas disponible dans cette version.") from None
        with self._read() as session:
            referral = _alert_or_404(session, referral_id)
            self._in_scope(session, _lease_or_404(session, referral.lease_id), "dossier du signalement")
            lease_id = referral.lease_id
            partner_name = referral.partner.name
            detail = _detail(session, lease_id, self.clock.today())
        arrears = _arrears_text(detail)
        case_id = CaseService(self.db, self.actor).find_or_create_for_lease(
            lease_id, summary=f"Ouvert depuis un signalement senior à {partner_name}." + (f" {arrears}" if arrears else ""),
            arrears_cents=detail.balance_cents if detail.balance_cents and detail.balance_cents > 0 else None,
            arrears_months=detail.months_unpaid)
        with self._write() as session:
            referral = _alert_or_404(session, referral_id)
            if referral.case_id != case_id:
                referral.case_id = case_id
                audit.record(session, self.actor, audit.Action.UPDATE, "senior_alert", referral.id,
                             case_id=case_id, details={"case_id": [None, case_id]})
        return case_id

    def case_opening(self, referral_id: int) -> tuple[int | None, str]:
        """Before « Ouvrir le dossier »: the open case of the household (None
        when one would be created) and what a new case would carry, in French."""
        access.require(self.actor, P.SENIORS_READ)
        with self._read() as session:
            referral = _alert_or_404(session, referral_id)
            lease = _lease_or_404(session, referral.lease_id)
            detail = _detail(session, lease.id, self.clock.today())
            existing = None
            try:
                from cus_desk.domain.cases import CaseStatus
                from cus_desk.store.models.cases import Case
            except ImportError:  # pragma: no cover - cases feature absent from this build
                Case = None
            if Case is not None and lease.household_id is not None:
                existing = session.scalar(
                    select(Case.id).where(Case.status != CaseStatus.CLOSED.value)
                    .where((Case.lease_id == lease.id) | (Case.household_id == lease.household_id))
                    .order_by(Case.id.desc()).limit(1))
        arrears = _arrears_text(detail) or "Aucun impayé connu dans les extraits."
        return existing, arrears

    def reminders(self) -> list[SignalementView]:
        """Signalements still "envoyé" after the reminder delay."""
        access.require(self.actor, P.SENIORS_READ)
        today = self.clock.today()
        scope = access.seniors_agency(self.actor)
        with self._read() as session:
            query = select(Referral).where(
                Referral.kind == SENIOR_ALERT, Referral.status == rules.AlertStatus.ENVOYE.value)
            if scope is not None:
                query = query.join(Lease, Lease.id == Referral.lease_id).where(Lease.agency_id == scope)
            alerts = session.scalars(query.order_by(Referral.sent_on)).all()
            views = _signalement_views(session, list(alerts), today)
        return [v for v in views if v.reminder_due is not None]


# ------------------------------------------------------------------ helpers

def _role_label(role: str) -> str:
    from cus_desk.domain.roles import Role

    try:
        return Role(role).label
    except ValueError:
        return ""


def _arrears_text(detail: SeniorDetail) -> str:
    """« Impayé de 1 234,56 € (3 mois) au 31/10/2026 selon l'extrait. », or ""."""
    if detail.balance_cents is None or detail.balance_cents <= 0 or detail.extract_date is None:
        return ""
    from cus_desk.domain.formatting import format_cents

    months = f" ({detail.months_unpaid} mois)" if detail.months_unpaid is not None else ""
    return (f"Impayé de {format_cents(detail.balance_cents)}{months} au {format_date(detail.extract_date)} "
            "selon l'extrait.")


def _extract_date(rows: list[SeniorRow]) -> date | None:
    dates = [r.extract_date for r in rows if r.extract_date]
    return max(dates) if dates else None


def _communes_covered(session: Session, partner_ids: list[int]) -> dict[int, set[str]]:
    """Communes d'intervention of partners (partners feature), normalised."""
    try:
        from cus_desk.store.models.partners import PartnerCommune
    except ImportError:  # pragma: no cover - the partners feature not installed
        return {}
    covered: dict[int, set[str]] = {}
    if partner_ids:
        for pid, commune in session.execute(
            select(PartnerCommune.partner_id, PartnerCommune.commune)
            .where(PartnerCommune.partner_id.in_(partner_ids))
        ):
            covered.setdefault(pid, set()).add(normalize_name(commune))
    return covered


def _lease_or_404(session: Session, lease_id: int) -> Lease:
    lease = session.get(Lease, lease_id)
    if lease is None:
        raise NotFoundError("Ce bail n'existe plus dans CUS Desk : rechargez la liste.")
    return lease


def _alert_or_404(session: Session, referral_id: int) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None or referral.kind != SENIOR_ALERT:
        raise NotFoundError("Ce signalement n'existe plus : rechargez la fiche.")
    return referral


def _holders(session: Session, household_ids: set[int]) -> dict[int, Tenant]:
    result: dict[int, Tenant] = {}
    if not household_ids:
        return result
    ids = list(household_ids)
    for start in range(0, len(ids), 900):
        for t in session.scalars(
            select(Tenant).where(Tenant.household_id.in_(ids[start:start + 900]),
                                 Tenant.relationship_kind == "titulaire")
            .order_by(Tenant.position, Tenant.id)
        ):
            result.setdefault(t.household_id, t)
    return result


def _in_arrears_clause(rule: rules.RiskRule):
    return and_(
        ArrearsLine.balance_cents > 0,
        ArrearsLine.balance_cents >= rule.min_balance_cents,
        or_(ArrearsLine.months_unpaid.is_(None), ArrearsLine.months_unpaid >= rule.min_months),
    )


def _maybe_senior_clause(rule: rules.RiskRule, on: date):
    """SQL pre-filter (the exact rule runs in Python afterwards): a birth date
    on or before the senior-age birthday cut-off, or no birth date in the
    line (the tenant record may know it)."""
    try:
        cutoff = on.replace(year=on.year - rule.senior_age)
    except ValueError:  # extract of 29 February: 28 February is the last birth date old enough
        cutoff = on.replace(year=on.year - rule.senior_age, day=28)
    return or_(ArrearsLine.holder_birth_date.is_(None), ArrearsLine.holder_birth_date <= cutoff,
               ArrearsLine.cotenant_birth_date <= cutoff)


def _compute_seniors(session: Session, as_of: date | None, today: date) -> list[SeniorRow]:
    rule = risk_rule(session)
    reminder_days = read_setting(session, SIGNALEMENT_REMINDER_DAYS)
    query = select(ArrearsExtract)
    if as_of is not None:
        query = query.where(ArrearsExtract.extract_date <= as_of)
    extract = session.scalar(query.order_by(ArrearsExtract.extract_date.desc()).limit(1))

    relanced = {rid: max(on, sent) for rid, on, sent in session.execute(
        select(SeniorAlertEvent.referral_id, func.max(SeniorAlertEvent.on_date), Referral.sent_on)
        .join(Referral, Referral.id == SeniorAlertEvent.referral_id)
        .where(SeniorAlertEvent.kind == "relance").group_by(SeniorAlertEvent.referral_id, Referral.sent_on))}
    alerts_by_lease: dict[int, list[Referral]] = {}
    for r in session.scalars(select(Referral).where(Referral.kind == SENIOR_ALERT).order_by(Referral.sent_on)):
        if as_of is None or r.sent_on <= as_of:
            alerts_by_lease.setdefault(r.lease_id, []).append(r)
    obs_by_lease: dict[int, list[date]] = {}
    corrected = select(FieldObservation.corrects_id).where(FieldObservation.corrects_id.is_not(None))
    obs_query = select(FieldObservation.lease_id, FieldObservation.observed_on).where(
        FieldObservation.id.notin_(corrected))
    if as_of is not None:
        obs_query = obs_query.where(FieldObservation.observed_on <= as_of)
    for lease_id, observed_on in session.execute(obs_query):
        obs_by_lease.setdefault(lease_id, []).append(observed_on)

    candidates: dict[int, tuple] = {}
    earlier: set[int] = set()
    history_agencies: set[int] = set()
    if extract is not None:
        line_rows = session.execute(
            select(ArrearsLine, Lease, Agency.name)
            .join(Lease, Lease.id == ArrearsLine.lease_id)
            .join(Agency, Agency.id == Lease.agency_id)
            .where(ArrearsLine.extract_id == extract.id)
            .where(or_(and_(_in_arrears_clause(rule), _maybe_senior_clause(rule, extract.extract_date)),
                       ArrearsLine.lease_id.in_(list(alerts_by_lease) or [-1])))
        ).all()
        earlier = set(session.scalars(
            select(ArrearsLine.lease_id).distinct()
            .join(ArrearsExtract, ArrearsExtract.id == ArrearsLine.extract_id)
            .where(ArrearsExtract.extract_date < extract.extract_date)
            .where(_in_arrears_clause(rule))
        ))
        history_agencies = _history_agencies(session, extract.extract_date)
        for line, lease, agency_name in line_rows:
            candidates[lease.id] = (line, lease, agency_name, extract.extract_date)
    # Open signalements whose lease is not in this extract stay on the list.
    missing = [lid for lid, alerts in alerts_by_lease.items()
               if lid not in candidates and any(a.status in rules.OPEN_ALERT_STATUSES for a in alerts)]
    for lease_id in missing:
        lease = session.get(Lease, lease_id)
        if lease is None:
            continue
        last = session.execute(
            select(ArrearsLine, ArrearsExtract.extract_date)
            .join(ArrearsExtract, ArrearsExtract.id == ArrearsLine.extract_id)
            .where(ArrearsLine.lease_id == lease_id)
            .where(ArrearsExtract.extract_date <= (extract.extract_date if extract else date.max))
            .order_by(ArrearsExtract.extract_date.desc()).limit(1)
        ).first()
        candidates[lease_id] = (last[0] if last else None, lease, lease.agency.name,
                                last[1] if last else None)

    holders = _holders(session, {c[1].household_id for c in candidates.values() if c[1].household_id})
    result: list[SeniorRow] = []
    for lease_id, (line, lease, agency_name, on) in candidates.items():
        holder = holders.get(lease.household_id) if lease.household_id else None
        birth = line.holder_birth_date if line is not None and line.holder_birth_date else (
            holder.birth_date if holder else None)
        cobirth = line.cotenant_birth_date if line is not None else None
        when = on or today
        age = rules.senior_age_of(birth, cobirth, when)
        balance = line.balance_cents if line is not None else None
        months = line.months_unpaid if line is not None else None
        arrears_now = line is not None and rules.in_arrears(balance, months, rule)
        at_risk = arrears_now and age is not None and age >= rule.senior_age
        alerts = alerts_by_lease.get(lease_id, [])
        status = rules.senior_status(at_risk, obs_by_lease.get(lease_id, []),
                                     [(a.status, a.closed_on) for a in alerts])
        if status is None:
            continue
        finding = rules.first_arrears(
            arrears_now, lease.agency_id in history_agencies, lease_id in earlier, lease.start_date, when,
            months, line.last_payment_on if line is not None else None, rule)
        first = finding.first is True
        due = None
        for a in alerts:
            due = rules.reminder_due(a.status, relanced.get(a.id, a.sent_on), today, reminder_days) or due
        result.append(SeniorRow(
            lease_id=lease_id, contract=lease.contract_number,
            last_name=holder.last_name if holder else "", first_name=holder.first_name if holder else "",
            age=age, agency_id=lease.agency_id, agency=agency_name, commune=lease.commune,
            balance_cents=balance, months_unpaid=months, status=status.value, status_label=status.label,
            first_arrears=first, lease_start=lease.start_date, extract_date=on, reminder_due=due,
            history_unknown=finding.unknown, first_arrears_reason=finding.reason,
        ))
    result.sort(key=lambda r: (not r.first_arrears, -(r.balance_cents or 0), r.contract))
    return result


def _signalement_view(session: Session, referral: Referral, today: date) -> SignalementView:
    return _signalement_views(session, [referral], today)[0]


def _signalement_views(session: Session, referrals: list[Referral], today: date) -> list[SignalementView]:
    """Views of several signalements in three queries whatever their number
    (events, partners), not two per signalement."""
    if not referrals:
        return []
    ids = [r.id for r in referrals]
    events_of: dict[int, list[SeniorAlertEvent]] = {i: [] for i in ids}
    for e in session.scalars(select(SeniorAlertEvent).where(SeniorAlertEvent.referral_id.in_(ids))
                             .order_by(SeniorAlertEvent.on_date, SeniorAlertEvent.id)):
        events_of[e.referral_id].append(e)
    partner_ids = {r.partner_id for r in referrals}
    partners = {p.id: p for p in session.scalars(select(Partner).where(Partner.id.in_(partner_ids)))}
    days = read_setting(session, SIGNALEMENT_REMINDER_DAYS)
    infos = {i.referral_id: i for i in session.scalars(
        select(SeniorAlertInfo).where(SeniorAlertInfo.referral_id.in_(ids)))}
    user_ids = {e.recorded_by_id for evs in events_of.values() for e in evs if e.recorded_by_id}
    names = ({u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
             if user_ids else {})
    return [_one_signalement_view(r, events_of[r.id], partners[r.partner_id], infos.get(r.id), names,
                                  today, days) for r in referrals]


def _one_signalement_view(referral: Referral, events, partner: Partner, info, names: dict,
                          today: date, days: int) -> SignalementView:
    last_contact = max([referral.sent_on] + [e.on_date for e in events if e.kind == "relance"])
    return SignalementView(
        id=referral.id, version=referral.version, lease_id=referral.lease_id,
        partner_id=partner.id, partner_name=partner.name, partner_kind=partner.category,
        partner_kind_label=SENIOR_PARTNER_KINDS.get(partner.category, partner.category),
        sent_on=referral.sent_on, status=referral.status,
        status_label=rules.AlertStatus(referral.status).label, reason=referral.reason,
        events=[AlertEventView(e.status, rules.AlertStatus(e.status).label, e.on_date, e.note, e.kind, e.means,
                               names.get(e.recorded_by_id, "")) for e in events],
        next_statuses=[(s.value, s.label) for s in rules.allowed_alert_transitions(referral.status)],
        reminder_due=rules.reminder_due(referral.status, last_contact, today, days),
        case_id=referral.case_id,
        tenant_informed=info.tenant_informed if info else None,
        tenant_informed_note=info.tenant_informed_note if info else "",
        reply_expected=info.reply_expected if info else "",
        reply_by=info.reply_by if info else None,
    )


def _detail(session: Session, lease_id: int, today: date) -> SeniorDetail:
    lease = _lease_or_404(session, lease_id)
    rule = risk_rule(session)
    holder = _holders(session, {lease.household_id}).get(lease.household_id) if lease.household_id else None
    household = session.get(Household, lease.household_id) if lease.household_id else None
    last = session.execute(
        select(ArrearsLine, ArrearsExtract.extract_date)
        .join(ArrearsExtract, ArrearsExtract.id == ArrearsLine.extract_id)
        .where(ArrearsLine.lease_id == lease_id)
        .order_by(ArrearsExtract.extract_date.desc()).limit(1)
    ).first()
    line, on = (last[0], last[1]) if last else (None, None)
    birth = (line.holder_birth_date if line and line.holder_birth_date else None) or (
        holder.birth_date if holder else None)
    cobirth = line.cotenant_birth_date if line else None
    age = rules.senior_age_of(birth, cobirth, on or today)
    history = lease_balance_history(session, lease_id)
    all_observations = session.scalars(select(FieldObservation).where(FieldObservation.lease_id == lease_id)
                                       .order_by(FieldObservation.observed_on.desc(), FieldObservation.id.desc())).all()
    superseded = {o.corrects_id for o in all_observations if o.corrects_id}
    observations = [
        ObservationView(o.id, o.kind, rules.ObservationKind(o.kind).label, o.observed_on, o.observer,
                        o.note, (session.get(User, o.recorded_by_id).display_name
                                 if o.recorded_by_id else ""), o.correction_reason)
        for o in all_observations if o.id not in superseded
    ]
    alerts = session.scalars(select(Referral).where(Referral.kind == SENIOR_ALERT, Referral.lease_id == lease_id)
                             .order_by(Referral.sent_on.desc(), Referral.id.desc())).all()
    arrears_now = line is not None and rules.in_arrears(line.balance_cents, line.months_unpaid, rule)
    at_risk = arrears_now and age is not None and age >= rule.senior_age
    status = rules.senior_status(at_risk, [o.observed_on for o in observations],
                                 [(a.status, a.closed_on) for a in alerts])
    earlier = on is not None and session.scalar(
        select(func.count(ArrearsLine.id))
        .join(ArrearsExtract, ArrearsExtract.id == ArrearsLine.extract_id)
        .where(ArrearsLine.lease_id == lease_id, ArrearsExtract.extract_date < on)
        .where(_in_arrears_clause(rule))
    )
    history_known = on is not None and lease.agency_id in _history_agencies(session, on)
    finding = rules.first_arrears(arrears_now, history_known, bool(earlier), lease.start_date, on or today,
                                  line.months_unpaid if line else None, line.last_payment_on if line else None,
                                  rule)
    cotenant = session.scalar(select(Tenant).where(
        Tenant.household_id == lease.household_id, Tenant.relationship_kind == "cotitulaire")
        .order_by(Tenant.position, Tenant.id).limit(1)) if lease.household_id else None
    return SeniorDetail(
        lease_id=lease.id, contract=lease.contract_number,
        last_name=holder.last_name if holder else "", first_name=holder.first_name if holder else "",
        birth_date=birth, cotenant_birth_date=cobirth, age=age,
        agency_id=lease.agency_id, agency=lease.agency.name, commune=lease.commune,
        address=lease.address, phone=household.phone if household else None,
        lease_start=lease.start_date, monthly_rent_cents=lease.monthly_rent_cents,
        balance_cents=line.balance_cents if line else None,
        months_unpaid=line.months_unpaid if line else None,
        last_payment_on=line.last_payment_on if line else None,
        extract_date=on, status=status.value if status else None,
        status_label=status.label if status else "Hors liste (pas d'impayé senior)",
        first_arrears=finding.first is True, history=history, observations=observations,
        signalements=_signalement_views(session, list(alerts), today),
        history_unknown=finding.unknown, first_arrears_reason=finding.reason,
        cotenant_name=f"{cotenant.last_name} {cotenant.first_name}".strip() if cotenant else None,
    )


def _history_agencies(session: Session, before: date) -> set[int]:
    """Agencies with at least one line in an extract earlier than ``before``:
    for their leases, "never in arrears before" is known, not assumed."""
    earlier = select(ArrearsExtract.id).where(ArrearsExtract.extract_date < before)
    if session.scalar(earlier.limit(1)) is None:
        return set()
    # One EXISTS per agency (a handful) stops at the first line found, instead
    # of a DISTINCT over every line of every earlier extract.
    return {agency_id for (agency_id,) in session.execute(
        select(Agency.id).where(
            select(ArrearsLine.id)
            .join(Lease, Lease.id == ArrearsLine.lease_id)
            .where(Lease.agency_id == Agency.id, ArrearsLine.extract_id.in_(earlier))
            .exists()))}
