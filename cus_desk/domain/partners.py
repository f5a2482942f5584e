"""Pure rules of the partners directory (structures partenaires,
conventions, intermédiation locative): validation of what users type,
the convention-expiry rule, referral success rates, search normalisation,
and the plain value types the services hand to the UI, CLI and reports.

No Qt, no SQL here."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, lru_cache

from cus_desk.domain.errors import ValidationError
from cus_desk.domain.reference import PARTNER_CATEGORIES

# --- controlled lists -------------------------------------------------------

CONVENTION_KINDS: dict[str, str] = {
    "sous_location": "Sous-location",
    "bail_glissant": "Bail glissant",
    "chrs_eclate": "CHRS éclaté",
    "partenariat": "Convention de partenariat",
    "reservation": "Convention de réservation",
}

# Intermédiation locative: how a flat let to an association is used.
SUBLET_KINDS: dict[str, str] = {
    "sous_location": "Sous-location",
    "bail_glissant": "Bail glissant",
    "chrs_eclate": "CHRS éclaté",
}

# Tables of counts taken from the CUS where it gives figures without
# addresses (§8.2.5). Each table is a breakdown of its own: never add two
# tables together (the 217 flats per structure and the 217 per commune are
# the same flats).
COUNT_TABLES: dict[str, str] = {
    "logiest_2020_structures": "Logiest – sous-locations 2020 par structure",
    "logiest_2020_communes": "Logiest – sous-locations 2020 par commune",
    "slh_2020_sans_transfert": "DT 54 – logements loués sans possibilité de transfert de bail (31/12/2020)",
    "slh_2020_avec_transfert": "DT 54 – logements loués avec possibilité de transfert de bail (31/12/2020)",
    "slh_2020_transferts_realises": "DT 54 – transferts de bail réalisés",
}

# Referral outcomes (shared Referral table, see store.models.core).
REFERRAL_KIND_LABELS = {"orientation": "Orientation", "senior_alert": "Signalement senior"}
REFERRAL_STATUS_LABELS = {
    "envoyee": "Envoyée",
    "acceptee": "Acceptée",
    "refusee": "Refusée",
    "sans_reponse": "Sans réponse",
    "cloturee": "Clôturée",
    "envoye": "Envoyé",
    "accuse_reception": "Accusé de réception",
    "pris_en_charge": "Pris en charge",
    "clos": "Clos",
}
REFERRAL_RESULT_LABELS = {"aboutie": "Aboutie", "non_aboutie": "Non aboutie"}
POSITIVE_STATUSES = frozenset({"acceptee", "pris_en_charge"})
POSITIVE_RESULTS = frozenset({"aboutie"})

NAME_MAX = 200
SHORT_NAME_MAX = 60
TEXT_MAX = 255
COUNT_MAX = 100_000


def category_label(code: str | None) -> str:
    return PARTNER_CATEGORIES.get(code or "", code or "")


# --- text normalisation -------------------------------------------------------


_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ø": "o", "Ø": "o",
                            "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ı": "i"})


@lru_cache(maxsize=50_000)
def fold(text: str | None) -> str:
    """Lower-case, accents removed, punctuation as spaces: « École » and
    « ecole », « SAINT-AVOLD » and « Saint Avold » compare equal."""
    if not text:
        return ""
    # Ligatures do not decompose: « LECŒUR » is « lecoeur », as the cases search folds it.
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = re.sub(r"[^0-9a-z@.+]+", " ", plain)
    return " ".join(plain.split())


def matches_search(query: str, haystack: list[str | None]) -> bool:
    """Every word of the query appears somewhere in the haystack (folded)."""
    words = fold(query).split()
    if not words:
        return True
    blob = " ".join(fold(h) for h in haystack if h)
    return all(w in blob for w in words)


# --- field validation -------------------------------------------------------

EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,}$"
)


def clean_text(value: str | None, label: str, field_name: str, *, required: bool = False,
               max_len: int = TEXT_MAX) -> str | None:
    text = " ".join((value or "").split())
    if not text:
        if required:
            raise ValidationError(f"Le champ « {label} » est obligatoire : saisissez-le.", field_name)
        return None
    if len(text) > max_len:
        raise ValidationError(
            f"Le champ « {label} » est trop long ({len(text)} caractères, {max_len} au plus) : "
            "raccourcissez-le.", field_name)
    return text


def validate_email(value: str | None, field_name: str = "email") -> str | None:
    """An e-mail address, or None when empty. A malformed one is refused
    with a message (never silently corrected)."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > 200 or not EMAIL_RE.match(text):
        raise ValidationError(
            f"L'adresse e-mail « {text} » n'est pas valide. "
            "Saisissez-la sous la forme prenom.nom@exemple.fr, ou laissez le champ vide.",
            field_name)
    return text


def validate_phone(value: str | None, field_name: str = "phone") -> str | None:
    """A phone number, or None when empty: French numbers (03 87 12 34 56,
    +33 3 87 12 34 56, 0033..., short numbers 115, 119, 3919) come back
    grouped by two; Luxembourg, German, Belgian and Swiss numbers (+352,
    +49, +32, +41) in the international form; anything else (« 10 ») is
    refused with a French message (``domain.phones``)."""
    from cus_desk.domain.phones import normalize_phone

    return normalize_phone(value, field_name)


def validate_category(code: str | None) -> str:
    if not code:
        raise ValidationError("Choisissez la catégorie de la structure.", "category")
    if code not in PARTNER_CATEGORIES:
        known = ", ".join(PARTNER_CATEGORIES)
        raise ValidationError(
            f"La catégorie « {code} » n'existe pas. Catégories possibles : {known}.", "category")
    return code


def validate_count(value, label: str = "Nombre de logements", field_name: str = "flat_count",
                   *, required: bool = False) -> int | None:
    """A number of flats: a whole number, zero or more."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"Saisissez le champ « {label} » (un nombre entier).", field_name)
        return None
    if isinstance(value, bool):
        raise ValidationError(f"« {label} » attend un nombre entier.", field_name)
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ValidationError(
            f"« {label} » attend un nombre entier (vous avez saisi « {value} »).", field_name
        ) from None
    if number < 0:
        raise ValidationError(
            f"« {label} » ne peut pas être négatif ({number}) : saisissez 0 ou plus.", field_name)
    if number > COUNT_MAX:
        raise ValidationError(f"« {label} » est invraisemblable ({number}) : vérifiez la saisie.",
                              field_name)
    return number


def validate_convention_dates(start: date | None, end: date | None) -> None:
    if start is None:
        raise ValidationError("Saisissez la date de début de la convention.", "start_date")
    if end is not None and end < start:
        raise ValidationError(
            f"La convention ne peut pas finir ({end:%d/%m/%Y}) avant d'avoir commencé "
            f"({start:%d/%m/%Y}) : corrigez l'une des deux dates.", "end_date")


def validate_convention_kind(kind: str | None) -> str:
    if kind not in CONVENTION_KINDS:
        raise ValidationError(
            "Choisissez le type de convention (sous-location, bail glissant, CHRS éclaté, "
            "partenariat ou réservation).", "kind")
    return kind


def validate_flat(kind: str | None, commune: str | None, start: date | None,
                  transferable: bool, transfer_date: date | None) -> None:
    if kind not in SUBLET_KINDS:
        raise ValidationError(
            "Choisissez le dispositif du logement (sous-location, bail glissant ou CHRS éclaté).",
            "kind")
    if not (commune or "").strip():
        raise ValidationError("Saisissez la commune du logement.", "commune")
    if transfer_date is not None:
        if not transferable:
            raise ValidationError(
                "Une date de glissement du bail est saisie alors que le bail n'est pas "
                "transférable : cochez « bail transférable au ménage » ou effacez la date.",
                "transfer_date")
        if start is not None and transfer_date < start:
            raise ValidationError(
                f"Le bail ne peut pas glisser au ménage ({transfer_date:%d/%m/%Y}) avant le début "
                f"de la mise à disposition ({start:%d/%m/%Y}) : corrigez la date.",
                "transfer_date")


def split_communes(text: str | None) -> list[str]:
    """Communes typed in one field, separated by commas, semicolons or new
    lines; duplicates (ignoring case and accents) removed, order kept."""
    seen: set[str] = set()
    out: list[str] = []
    for part in re.split(r"[,;\n]+", text or ""):
        name = " ".join(part.split())
        if not name:
            continue
        if len(name) > 120:
            raise ValidationError(f"Le nom de commune « {name[:40]}… » est trop long.", "communes")
        key = fold(name)
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out


# --- conventions: the expiry rule ---------------------------------------------


class ConventionState:
    UPCOMING = "a_venir"
    ACTIVE = "en_cours"
    EXPIRING = "echeance_proche"
    EXPIRED = "expiree"


CONVENTION_STATE_LABELS = {
    ConventionState.UPCOMING: "À venir",
    ConventionState.ACTIVE: "En cours",
    ConventionState.EXPIRING: "Échéance proche",
    ConventionState.EXPIRED: "Expirée",
}


def convention_state(start: date, end: date | None, today: date, expiry_days: int) -> str:
    """A convention is flagged when it ends within ``expiry_days`` days
    (today and the last day included); without an end date it never is."""
    if start > today:
        return ConventionState.UPCOMING
    if end is not None and end < today:
        return ConventionState.EXPIRED
    if end is not None and end <= today + timedelta(days=expiry_days):
        return ConventionState.EXPIRING
    return ConventionState.ACTIVE


def is_current(state: str) -> bool:
    return state in (ConventionState.ACTIVE, ConventionState.EXPIRING)


# --- referrals: who answers ---------------------------------------------------


@dataclass(frozen=True)
class ReferralStats:
    sent: int
    positive: int
    pending: int

    @property
    def answered(self) -> int:
        """Sent and answered: a pending one is neither a success nor a failure (#13)."""
        return self.sent - self.pending

    @property
    def rate(self) -> float | None:
        return self.positive / self.answered if self.answered else None

    @property
    def label(self) -> str:
        if not self.sent:
            return "Aucune orientation ni signalement"
        waiting = f"{self.pending} en attente de réponse" if self.pending else ""
        if not self.answered:
            return f"{self.sent} envoyé(s), {waiting}"
        pct = round(100 * self.positive / self.answered)
        text = f"{self.positive} sur {self.answered} abouti(s) ou accepté(s) ({pct} %)"
        return f"{text} ; {waiting}" if waiting else text


def is_positive(status: str | None, result: str | None) -> bool:
    return status in POSITIVE_STATUSES or result in POSITIVE_RESULTS


PENDING_STATUSES = frozenset({"envoyee", "envoye", "accuse_reception"})


def referral_stats(rows: list[tuple[str | None, str | None]]) -> ReferralStats:
    """``rows``: (status, result) of every referral sent to one partner
    (a signalement cancelled as sent by mistake does not count)."""
    rows = [(s, r) for s, r in rows if s != "annule"]
    positive = sum(1 for s, r in rows if is_positive(s, r))
    pending = sum(1 for s, r in rows if s in PENDING_STATUSES and r is None)
    return ReferralStats(sent=len(rows), positive=positive, pending=pending)


# --- value types handed out by the service -------------------------------------


@dataclass(frozen=True)
class PartnerRow:
    id: int
    name: str
    short_name: str | None
    category: str
    category_label: str
    commune: str | None
    phone: str | None
    email: str | None
    agencies: tuple[str, ...]
    communes: tuple[str, ...]
    active: bool
    merged_into_id: int | None
    current_conventions: int
    expiring_conventions: int
    flat_count: int  # flats let to the structure now (individual records)
    referrals_sent: int
    referrals_positive: int
    contact_names: tuple[str, ...] = ()
    referrals_pending: int = 0  # neither success nor failure: out of the rate
    cus_flat_count: int = 0  # the CUS 2020 sub-let counts: the CUS's figure, not today's
    seed_key: str | None = None

    @cached_property
    def search_blob(self) -> str:
        """What the search looks in, folded once per row."""
        return " ".join(fold(h) for h in (self.name, self.short_name, self.commune,
                                          *self.communes, *self.contact_names) if h)

    @property
    def display_name(self) -> str:
        if self.short_name and fold(self.short_name) not in fold(self.name):
            return f"{self.name} ({self.short_name})"
        return self.name


@dataclass(frozen=True)
class ContactData:
    id: int
    name: str
    function: str | None
    phone: str | None
    email: str | None
    notes: str | None


@dataclass(frozen=True)
class ConventionData:
    id: int
    kind: str
    kind_label: str
    agency: str | None
    start_date: date
    end_date: date | None
    flat_count: int | None
    document_ref: str | None
    notes: str | None
    state: str
    state_label: str

    @property
    def expiring(self) -> bool:
        return self.state == ConventionState.EXPIRING


@dataclass(frozen=True)
class FlatData:
    id: int
    address: str | None
    commune: str
    agency: str | None
    agency_id: int | None
    kind: str
    kind_label: str
    start_date: date | None
    transferable: bool
    transfer_date: date | None
    notes: str | None


@dataclass(frozen=True)
class CountData:
    """A figure of the CUS stored as a count (no addresses)."""

    id: int
    table_code: str
    table_label: str
    label: str
    partner_id: int | None
    partner_name: str | None
    commune: str | None
    agency: str | None
    kind: str | None
    transferable: bool | None
    flat_count: int
    as_of: date | None


@dataclass(frozen=True)
class ReferralData:
    id: int
    kind: str
    kind_label: str
    sent_on: date
    case_reference: str | None
    status: str
    status_label: str
    result: str | None
    result_label: str
    positive: bool


@dataclass(frozen=True)
class PartnerDetail:
    id: int
    version: int
    seed_key: str | None
    name: str
    short_name: str | None
    category: str
    category_label: str
    address: str | None
    commune: str | None
    phone: str | None
    email: str | None
    notes: str | None
    active: bool
    merged_into_id: int | None
    merged_into_name: str | None
    agency_ids: tuple[int, ...]
    agencies: tuple[str, ...]
    communes: tuple[str, ...]
    contacts: tuple[ContactData, ...]
    conventions: tuple[ConventionData, ...]
    flats: tuple[FlatData, ...]
    counts: tuple[CountData, ...]
    referrals: tuple[ReferralData, ...]
    stats: ReferralStats
    absorbed: tuple[str, ...] = ()  # names of entries merged into this one


@dataclass(frozen=True)
class TableRow:
    """One line of an intermédiation table (per structure or per commune)."""

    label: str
    flat_count: int
    detail: str = ""


@dataclass(frozen=True)
class IntermediationTable:
    title: str
    key_label: str  # « Structure » or « Commune »
    rows: tuple[TableRow, ...]
    note: str = ""
    value_label: str = "Nombre de logements"
    # Counted in the view's total of flats let (one breakdown per source:
    # the per-commune table and the transfers done are not added again).
    counted: bool = False
    # "live": flats recorded in CUS Desk now; "cus": the CUS's own dated
    # figures. Never added together: they count different things at
    # different dates (a flat recorded now may be one the CUS counted).
    source: str = "cus"
    as_of: date | None = None

    @property
    def total(self) -> int:
        return sum(r.flat_count for r in self.rows)


@dataclass(frozen=True)
class AgencyView:
    """Per-agency view: its partners by category and its intermédiation
    tables. ``agency_id`` None means every agency together."""

    agency_id: int | None
    agency_label: str
    today: date
    partners_by_category: tuple[tuple[str, tuple[PartnerRow, ...]], ...]
    tables: tuple[IntermediationTable, ...] = field(default_factory=tuple)
    expiring: tuple[tuple[str, ConventionData], ...] = ()
    # Ended and neither renewed (a later convention of the same partner, kind
    # and agency) nor closed (partner inactive): « échue depuis le … » (#13).
    expired: tuple[tuple[str, ConventionData], ...] = ()

    @property
    def partner_count(self) -> int:
        return sum(len(rows) for _, rows in self.partners_by_category)

    @property
    def recorded_flats(self) -> int:
        """Flats let to associations recorded in CUS Desk now (current flat records)."""
        return sum(t.total for t in self.tables if t.counted and t.source == "live")

    @property
    def cus_flats(self) -> int:
        """The CUS's own figures (each flat once per source table), shown apart."""
        return sum(t.total for t in self.tables if t.counted and t.source == "cus")

    @property
    def cus_as_of(self) -> date | None:
        dates = [t.as_of for t in self.tables if t.counted and t.source == "cus" and t.as_of]
        return max(dates) if dates else None


def search_rows(rows, query: str) -> list[PartnerRow]:
    """Rows whose name, short name, communes or contacts contain every word
    of ``query`` (case and accents ignored)."""
    words = fold(query).split()
    if not words:
        return list(rows)
    return [r for r in rows if all(w in r.search_blob for w in words)]


def tally(items: list[tuple[str, int]]) -> tuple[TableRow, ...]:
    """Sum counts per label (labels compared ignoring case/accents; the
    first spelling seen is kept), sorted by label."""
    totals: dict[str, list] = {}
    for label, n in items:
        key = fold(label)
        if key not in totals:
            totals[key] = [label, 0]
        totals[key][1] += n
    return tuple(TableRow(label, n) for label, n in sorted(totals.values(), key=lambda x: fold(x[0])))
