"""Case files (dossiers CAS): controlled lists, the case workflow, the
referral (orientation) lifecycle and input validation. Pure Python, no
database, no Qt: every rule here is tested on plain values.

Workflow (seed §9.3): ouvert → à présenter en CAS → préconisation
(intervention sociale / bilan global) → action définie → en suivi → clos.
The step towards judicial termination of the lease ("demande de résiliation
judiciaire du bail") is a separate, recorded step, refused unless a CAS
decision on that very case authorises it (collegial control)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from cus_desk.domain.errors import ValidationError, WorkflowError

# --------------------------------------------------------------------------
# Controlled lists (codes are stored, labels are shown)


class CaseStatus(StrEnum):
    OPEN = "ouvert"
    TO_PRESENT = "a_presenter"  # à présenter en CAS (meetings feature reads it)
    RECOMMENDATION = "preconisation"
    ACTION_DEFINED = "action_definie"
    FOLLOW_UP = "en_suivi"
    CLOSED = "clos"

    @property
    def label(self) -> str:
        return CASE_STATUS_LABELS[self]


CASE_STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.OPEN: "Ouvert",
    CaseStatus.TO_PRESENT: "À présenter en CAS",
    CaseStatus.RECOMMENDATION: "Préconisation",
    CaseStatus.ACTION_DEFINED: "Action définie",
    CaseStatus.FOLLOW_UP: "En suivi",
    CaseStatus.CLOSED: "Clos",
}

PROBLEMS: dict[str, str] = {
    "impaye_loyer": "Impayé de loyer",
    "trouble_voisinage": "Trouble de voisinage",
    "sante_mentale": "Santé mentale",
    "perte_autonomie": "Perte d'autonomie",
    "sur_occupation": "Sur-occupation",
    "sous_occupation": "Sous-occupation",
    "violences_intrafamiliales": "Violences intrafamiliales",
    "incurie_hygiene": "Incurie / hygiène",
    "isolement": "Isolement",
    "handicap": "Handicap",
    "autre": "Autre",
}

# Problématiques that carry health, disability, violence or family
# information: shown only to those who see the whole file (FULL access),
# never in a summary (list row, JSON, projector, relevé) — art. L.121-6-2
# CASF, RGPD art. 9. Health-related ones are "FULL-only" rather than subject
# to a consent record: a case has no consent of its own (consent belongs to
# a confidential note), and a code ticked on the form never travels further
# than the people who may read the file.
HEALTH_PROBLEMS: frozenset[str] = frozenset({"sante_mentale", "perte_autonomie", "handicap"})
SENSITIVE_PROBLEMS: frozenset[str] = HEALTH_PROBLEMS | frozenset({
    "violences_intrafamiliales", "incurie_hygiene",
})
# Fail-safe for codes added later without updating the set above.
_SENSITIVE_MARKERS = ("sante", "santé", "violence", "handicap", "autonomie", "incurie",
                      "hygiene", "hygiène", "addiction", "psy", "famil")


def is_sensitive_problem(code: str) -> bool:
    """True for a problématique kept out of every summary."""
    lowered = code.casefold()
    return code in SENSITIVE_PROBLEMS or any(m in lowered for m in _SENSITIVE_MARKERS)


def summary_problems(codes) -> tuple[str, ...]:
    """The problématiques a summary may show."""
    return tuple(c for c in codes if not is_sensitive_problem(c))


# Préconisation de la CAS (seed §9.3: "préconiser une intervention sociale
# pour avoir un bilan plus global").
RECOMMENDATIONS: dict[str, str] = {
    "intervention_sociale": "Intervention sociale",
    "bilan_global": "Bilan global",
}

JOURNAL_KINDS: dict[str, str] = {
    "entretien": "Entretien",
    "visite_domicile": "Visite à domicile",
    "appel": "Appel",
    "courrier": "Courrier",
    "orientation": "Orientation",
    "note": "Note",
}

CONFIDENTIAL_CATEGORIES: dict[str, str] = {
    "sante": "Santé",
    "violences": "Violences",
    "autre": "Autre information sensible",
}

# How the tenant's consent to record health information was given (CNIL).
CONSENT_METHODS: dict[str, str] = {
    "ecrit_signe": "Écrit signé",
    "oral_entretien": "Oral, lors d'un entretien (tracé au journal)",
    "courriel": "Courriel du locataire",
}

REFERRAL_STATUSES: dict[str, str] = {
    "envoyee": "Envoyée",
    "acceptee": "Acceptée",
    "refusee": "Refusée",
    "sans_reponse": "Sans réponse",
    "cloturee": "Clôturée",
}

REFERRAL_RESULTS: dict[str, str] = {"aboutie": "Aboutie", "non_aboutie": "Non aboutie"}

REFERRAL_FAILURE_REASONS: dict[str, str] = {
    "refus_menage": "Refus du ménage",
    "pas_de_place": "Pas de place",
    "injoignable": "Injoignable",
    "autre": "Autre",
}

# Plan d'apurement follow-up.
PLAN_STATUSES: dict[str, str] = {
    "en_cours": "En cours",
    "respecte": "Respecté",
    "non_respecte": "Non respecté",
    "solde": "Soldé",
}

# The decision type (meetings feature) that authorises the judicial step.
JUDICIAL_DECISION_TYPE = "demande_resiliation_judiciaire"

# Field limits (characters). Long enough for real notes, short enough to
# keep a case file readable and a mistaken paste from swallowing the base.
MAX_NAME = 120
MAX_SHORT = 40
MAX_ADDRESS = 255
MAX_SUMMARY = 4000
MAX_TEXT = 8000
MIN_BIRTH_DATE = date(1900, 1, 1)
MAX_ARREARS_CENTS = 100_000_000  # 1 000 000,00 €: beyond that it is a typo
MAX_ARREARS_MONTHS = 240


# --------------------------------------------------------------------------
# Case reference


REFERENCE_RE = re.compile(r"^CAS-(\d{4})-(\d{4,})$")


def format_reference(year: int, sequence: int) -> str:
    return f"CAS-{year:04d}-{sequence:04d}"


def parse_reference(text: str) -> tuple[int, int] | None:
    m = REFERENCE_RE.match(text.strip().upper())
    return (int(m.group(1)), int(m.group(2))) if m else None


# --------------------------------------------------------------------------
# Workflow

S = CaseStatus
TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    S.OPEN: (S.TO_PRESENT, S.CLOSED),
    # A case can be withdrawn from the agenda (back to "ouvert").
    S.TO_PRESENT: (S.RECOMMENDATION, S.OPEN, S.CLOSED),
    S.RECOMMENDATION: (S.ACTION_DEFINED, S.TO_PRESENT, S.CLOSED),
    S.ACTION_DEFINED: (S.FOLLOW_UP, S.TO_PRESENT, S.CLOSED),
    # Follow-up of the decisions at a later CAS: presented again.
    S.FOLLOW_UP: (S.TO_PRESENT, S.CLOSED),
    # Reopening keeps the same reference (never reused).
    S.CLOSED: (S.OPEN,),
}


@dataclass(frozen=True)
class TransitionResult:
    status: CaseStatus
    recommendation: str | None  # set when entering "préconisation"
    closure_reason: str | None  # set when entering "clos", cleared on reopening
    closed: bool
    reopened: bool


def allowed_targets(current: str) -> tuple[CaseStatus, ...]:
    return TRANSITIONS[_status(current)]


def _status(value: str) -> CaseStatus:
    try:
        return CaseStatus(value)
    except ValueError:
        raise WorkflowError(f"Statut de dossier inconnu : « {value} ».") from None


def transition(
    current: str,
    target: str,
    *,
    closure_reason: str | None = None,
    recommendation: str | None = None,
) -> TransitionResult:
    """Check a status change and return what it implies; raise a French
    WorkflowError/ValidationError when the rules refuse it."""
    src, dst = _status(current), _status(target)
    if src == dst:
        raise WorkflowError(f"Le dossier est déjà au statut « {src.label} ».")
    if dst not in TRANSITIONS[src]:
        options = ", ".join(f"« {s.label} »" for s in TRANSITIONS[src])
        raise WorkflowError(
            f"Un dossier « {src.label} » ne peut pas passer directement à « {dst.label} ». "
            f"Étapes possibles : {options}."
        )
    rec = None
    if dst is S.RECOMMENDATION:
        if not recommendation:
            raise ValidationError(
                "Indiquez la préconisation de la CAS (intervention sociale ou bilan global).",
                "recommendation",
            )
        if recommendation not in RECOMMENDATIONS:
            raise ValidationError(f"Préconisation inconnue : « {recommendation} ».", "recommendation")
        rec = recommendation
    reason = None
    if dst is S.CLOSED:
        reason = (closure_reason or "").strip()
        if not reason:
            raise ValidationError(
                "Indiquez le motif de clôture du dossier avant de le clore.", "closure_reason"
            )
        check_length(reason, MAX_SUMMARY, "Motif de clôture", "closure_reason")
    return TransitionResult(
        status=dst,
        recommendation=rec,
        closure_reason=reason,
        closed=dst is S.CLOSED,
        reopened=src is S.CLOSED,
    )


JUDICIAL_REFUSED = (
    "La demande de résiliation judiciaire du bail est refusée : aucune décision de la CAS "
    "ne l'autorise pour ce dossier. Inscrivez le dossier à l'ordre du jour d'une séance "
    "de CAS (contrôle collégial) ; la demande sera possible une fois la décision enregistrée."
)


def check_judicial_request(status: str, authorised: bool, already_requested: bool) -> None:
    """Seed §9.3: judicial termination of the lease only under a collegial
    decision. ``authorised`` = a CAS decision of type
    ``demande_resiliation_judiciaire`` exists for this case."""
    st = _status(status)
    if st is S.CLOSED:
        raise WorkflowError(
            "Le dossier est clos : rouvrez-le avant d'enregistrer une demande de résiliation."
        )
    if already_requested:
        raise WorkflowError("La demande de résiliation judiciaire est déjà enregistrée pour ce dossier.")
    if not authorised:
        raise WorkflowError(JUDICIAL_REFUSED)


# --------------------------------------------------------------------------
# Referrals (orientations)

REFERRAL_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "envoyee": ("acceptee", "refusee", "sans_reponse", "cloturee"),
    "sans_reponse": ("acceptee", "refusee", "cloturee"),
    "acceptee": ("cloturee",),
    "refusee": ("cloturee",),
    "cloturee": (),
}
OPEN_REFERRAL_STATUSES = ("envoyee", "sans_reponse")


@dataclass(frozen=True)
class ReferralChange:
    status: str
    result: str | None
    failure_reason: str | None


def referral_transition(
    current: str, target: str, result: str | None = None, failure_reason: str | None = None
) -> ReferralChange:
    if current not in REFERRAL_STATUSES:
        raise WorkflowError(f"Statut d'orientation inconnu : « {current} ».")
    if target not in REFERRAL_STATUSES:
        raise ValidationError(f"Statut d'orientation inconnu : « {target} ».", "status")
    if target == current:
        raise WorkflowError(f"L'orientation est déjà « {REFERRAL_STATUSES[current]} ».")
    if target not in REFERRAL_TRANSITIONS[current]:
        if current == "cloturee":
            raise WorkflowError("Cette orientation est clôturée : elle ne peut plus changer.")
        raise WorkflowError(
            f"Une orientation « {REFERRAL_STATUSES[current]} » ne peut pas passer à "
            f"« {REFERRAL_STATUSES[target]} »."
        )
    if target != "cloturee":
        return ReferralChange(target, None, None)
    if result not in REFERRAL_RESULTS:
        raise ValidationError(
            "Pour clôturer l'orientation, indiquez son résultat : aboutie ou non aboutie.", "result"
        )
    if result == "non_aboutie":
        if failure_reason not in REFERRAL_FAILURE_REASONS:
            raise ValidationError(
                "L'orientation n'a pas abouti : indiquez pourquoi (refus du ménage, pas de place, "
                "injoignable, autre).",
                "failure_reason",
            )
        return ReferralChange(target, result, failure_reason)
    return ReferralChange(target, result, None)


def referral_overdue_cutoff(today: date, overdue_days: int) -> date:
    """Referrals still unanswered and sent before this date are overdue."""
    return today - timedelta(days=overdue_days)


def is_referral_overdue(status: str, sent_on: date, today: date, overdue_days: int) -> bool:
    return status in OPEN_REFERRAL_STATUSES and sent_on < referral_overdue_cutoff(today, overdue_days)


# --------------------------------------------------------------------------
# Input validation (the UI shows the message next to ``field``)


def check_length(text: str, limit: int, label: str, field: str) -> None:
    if len(text) > limit:
        raise ValidationError(
            f"« {label} » est trop long ({len(text):,} caractères, {limit:,} au plus). "
            "Raccourcissez le texte ou placez le détail dans le journal.".replace(",", "\u202f"),
            field,
        )


def clean_text(value: str | None, limit: int, label: str, field: str, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(f"« {label} » est obligatoire.", field)
    check_length(text, limit, label, field)
    if "\x00" in text:
        raise ValidationError(f"« {label} » contient un caractère invalide.", field)
    return text


def clean_optional(value: str | None, limit: int, label: str, field: str) -> str | None:
    text = clean_text(value, limit, label, field)
    return text or None


_NAME_OK = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ '\u2019.-])*$")


def clean_name(value: str | None, label: str, field: str, *, required: bool = True) -> str:
    """A person's name: letters of any script (Nguyễn, Ющенко, محمد),
    spaces, apostrophes, hyphens, dots. No digits."""
    text = " ".join((value or "").split())
    if not text:
        if required:
            raise ValidationError(f"« {label} » est obligatoire.", field)
        return ""
    check_length(text, MAX_NAME, label, field)
    if not _NAME_OK.match(text):
        raise ValidationError(
            f"« {label} » ne peut contenir que des lettres, des espaces, des apostrophes "
            "et des traits d'union.",
            field,
        )
    return text


def check_birth_date(value: date | None, today: date, field: str = "birth_date") -> None:
    if value is None:
        return
    if value > today:
        raise ValidationError("La date de naissance est dans le futur : vérifiez-la.", field)
    if value < MIN_BIRTH_DATE:
        raise ValidationError("La date de naissance est antérieure à 1900 : vérifiez-la.", field)


def check_past_date(value: date | None, today: date, label: str, field: str) -> None:
    if value is not None and value > today:
        raise ValidationError(f"« {label} » ne peut pas être dans le futur.", field)
    if value is not None and value < MIN_BIRTH_DATE:
        raise ValidationError(f"« {label} » est antérieure à 1900 : vérifiez-la.", field)


def check_arrears(cents: int | None, months: int | None) -> None:
    if cents is not None:
        if cents < 0:
            raise ValidationError(
                "Le montant de l'impayé ne peut pas être négatif (saisissez 0 s'il n'y a pas de dette).",
                "arrears_cents",
            )
        if cents > MAX_ARREARS_CENTS:
            raise ValidationError("Le montant de l'impayé dépasse 1 000 000 € : vérifiez la saisie.", "arrears_cents")
    if months is not None and not 0 <= months <= MAX_ARREARS_MONTHS:
        raise ValidationError(
            f"Le nombre de mois d'impayés doit être compris entre 0 et {MAX_ARREARS_MONTHS}.",
            "arrears_months",
        )


def parse_amount_cents(text: str) -> int | None:
    """French amount as typed (``1 234,56``, ``1234.5``, ``12 €``) → cents.
    Empty → None; anything else → ValidationError."""
    raw = (text or "").replace("€", "").replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if not raw:
        return None
    m = re.fullmatch(r"(-?)(\d+)(?:[.,](\d{1,2}))?", raw)
    if not m:
        raise ValidationError(
            f"« {text.strip()} » n'est pas un montant valide. Exemple : 1 234,56", "arrears_cents"
        )
    cents = int(m.group(2)) * 100 + int((m.group(3) or "0").ljust(2, "0"))
    return -cents if m.group(1) else cents


def check_problems(codes: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    unknown = [c for c in codes if c not in PROBLEMS]
    if unknown:
        raise ValidationError(f"Problématique inconnue : « {unknown[0]} ».", "problems")
    if not codes:
        raise ValidationError("Cochez au moins une problématique.", "problems")
    return sorted(set(codes), key=list(PROBLEMS).index)


def check_confidential_note(
    category: str, text: str, consent_on: date | None, consent_method: str | None, today: date
) -> str:
    """Health information only with the tenant's consent (date + method)."""
    if category not in CONFIDENTIAL_CATEGORIES:
        raise ValidationError(f"Catégorie de note inconnue : « {category} ».", "category")
    cleaned = clean_text(text, MAX_TEXT, "Note confidentielle", "text", required=True)
    if category == "sante":
        if consent_on is None:
            raise ValidationError(
                "Une information de santé ne peut être enregistrée qu'avec le consentement du "
                "locataire : indiquez la date du consentement.",
                "consent_on",
            )
        if consent_method not in CONSENT_METHODS:
            raise ValidationError(
                "Indiquez comment le locataire a donné son consentement (écrit signé, oral, courriel).",
                "consent_method",
            )
    if consent_on is not None and consent_on > today:
        raise ValidationError("La date du consentement ne peut pas être dans le futur.", "consent_on")
    if consent_method is not None and consent_method not in CONSENT_METHODS:
        raise ValidationError("Mode de consentement inconnu.", "consent_method")
    return cleaned


# --------------------------------------------------------------------------
# Search text folding (shared by the FTS triggers and the query side)

# Accented letters folded to ASCII so that "helene" finds "Hélène". The
# SQLite trigram tokenizer of this SQLite version cannot remove diacritics
# itself, so the index stores folded text and the query is folded the same
# way (exact same table on both sides; other scripts are left untouched and
# case-folded by FTS5 itself).
FOLD_PAIRS: tuple[tuple[str, str], ...] = (
    ("à", "a"), ("â", "a"), ("ä", "a"), ("á", "a"), ("ã", "a"),
    ("À", "a"), ("Â", "a"), ("Ä", "a"), ("Á", "a"),
    ("ç", "c"), ("Ç", "c"),
    ("é", "e"), ("è", "e"), ("ê", "e"), ("ë", "e"),
    ("É", "e"), ("È", "e"), ("Ê", "e"), ("Ë", "e"),
    ("î", "i"), ("ï", "i"), ("í", "i"), ("Î", "i"), ("Ï", "i"),
    ("ô", "o"), ("ö", "o"), ("ó", "o"), ("Ô", "o"), ("Ö", "o"),
    ("ù", "u"), ("û", "u"), ("ü", "u"), ("ú", "u"), ("Ù", "u"), ("Û", "u"), ("Ü", "u"),
    ("ÿ", "y"), ("ñ", "n"), ("Ñ", "n"),
    ("œ", "oe"), ("Œ", "oe"), ("æ", "ae"), ("Æ", "ae"),
    ("\u2019", "'"),
    # Names of other Latin alphabets met among tenants (Turkish, Polish,
    # Czech, Romanian, Portuguese, Italian...): "sahin" finds "Şahin".
    ("Ã", "a"), ("å", "a"), ("Å", "a"), ("ă", "a"), ("Ă", "a"), ("ą", "a"), ("Ą", "a"),
    ("ć", "c"), ("Ć", "c"), ("č", "c"), ("Č", "c"),
    ("ę", "e"), ("Ę", "e"), ("ě", "e"), ("Ě", "e"),
    ("ğ", "g"), ("Ğ", "g"),
    ("ı", "i"), ("İ", "i"), ("ì", "i"), ("Í", "i"), ("Ì", "i"),
    ("ł", "l"), ("Ł", "l"), ("ń", "n"), ("Ń", "n"),
    ("ò", "o"), ("õ", "o"), ("ő", "o"), ("ø", "o"), ("Ó", "o"), ("Ò", "o"), ("Õ", "o"),
    ("Ő", "o"), ("Ø", "o"),
    ("ř", "r"), ("Ř", "r"),
    ("ś", "s"), ("Ś", "s"), ("š", "s"), ("Š", "s"), ("ş", "s"), ("Ş", "s"), ("ș", "s"),
    ("Ș", "s"), ("ß", "ss"),
    ("ț", "t"), ("Ț", "t"), ("ţ", "t"), ("Ţ", "t"),
    ("ů", "u"), ("ű", "u"), ("Ú", "u"), ("Ů", "u"), ("Ű", "u"),
    ("ý", "y"), ("Ý", "y"), ("Ÿ", "y"),
    ("ź", "z"), ("Ź", "z"), ("ż", "z"), ("Ż", "z"), ("ž", "z"), ("Ž", "z"),
)
_FOLD_TABLE = str.maketrans({a: b for a, b in FOLD_PAIRS})


def fold(text: str) -> str:
    return text.translate(_FOLD_TABLE)


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


def fold_sql_steps(expr: str, per_step: int = 15) -> list[str]:
    """SQL expressions applying FOLD_PAIRS to ``expr`` in successive steps
    (nested replace; SQLite's parser limits the nesting depth, hence the
    steps: apply each to the result of the previous one)."""
    steps = []
    for start in range(0, len(FOLD_PAIRS), per_step):
        out = expr
        for a, b in FOLD_PAIRS[start:start + per_step]:
            out = f"replace({out}, '{_sql_str(a)}', '{_sql_str(b)}')"
        steps.append(out)
    return steps


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class SearchPlan:
    """How to run a search typed in the list: words of 3 characters and more
    go to the FTS5 trigram index (MATCH); shorter words are LIKE patterns
    (escape character ``\\``), checked on the indexed text when there is a
    MATCH, else on the reference, holder name and contract columns."""

    fts_query: str | None
    like_patterns: tuple[str, ...]


def plan_search(text: str) -> SearchPlan | None:
    words = fold(text or "").split()
    if not words:
        return None
    long_words = [w for w in words if len(w) >= 3]
    short = tuple(_like(w) for w in words if len(w) < 3)
    # Each word as a quoted FTS5 string (quotes doubled): no operator injection.
    fts = " ".join('"' + w.replace('"', '""') + '"' for w in long_words) or None
    return SearchPlan(fts, short)


_DATE_RE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def parse_date_fr(text: str | None, label: str, field: str, *, required: bool = False) -> date | None:
    """A date typed the French way (28/11/2026, 28.11.2026, 1/2/2026)."""
    raw = (text or "").strip()
    if not raw:
        if required:
            raise ValidationError(f"« {label} » est obligatoire (format jj/mm/aaaa).", field)
        return None
    m = _DATE_RE.match(raw)
    if not m:
        raise ValidationError(f"« {label} » : « {raw} » n'est pas une date (format jj/mm/aaaa).", field)
    day, month, year = (int(g) for g in m.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise ValidationError(f"« {label} » : le {raw} n'existe pas dans le calendrier.", field) from None
