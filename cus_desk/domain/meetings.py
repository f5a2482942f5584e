"""Séances de CAS: pure rules (no Qt, no SQL).

Codes are stored, labels are shown. Other features rely on the decision
type and follow-up status codes below: never rename them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from cus_desk.domain.errors import ValidationError, WorkflowError


class MeetingStatus(StrEnum):
    PREPAREE = "preparee"
    EN_COURS = "en_cours"
    CLOTUREE = "cloturee"

    @property
    def label(self) -> str:
        return MEETING_STATUS_LABELS[self]


MEETING_STATUS_LABELS = {
    MeetingStatus.PREPAREE: "Préparée",
    MeetingStatus.EN_COURS: "En cours",
    MeetingStatus.CLOTUREE: "Clôturée",
}


class DecisionType(StrEnum):
    INTERVENTION_SOCIALE = "intervention_sociale"
    VISITE_DOMICILE = "visite_domicile"
    ORIENTATION_PARTENAIRE = "orientation_partenaire"
    SAISINE_FSL = "saisine_fsl"
    PLAN_APUREMENT = "plan_apurement"
    REMISE_GRACIEUSE = "remise_gracieuse"
    MUTATION_RELOGEMENT = "mutation_relogement"
    SAISINE_CCAPEX = "saisine_ccapex"
    SIGNALEMENT_SENIOR = "signalement_senior"
    SUSPENSION_CONTENTIEUX = "suspension_contentieux"
    POURSUITE_CONTENTIEUX = "poursuite_contentieux"
    DEMANDE_RESILIATION_JUDICIAIRE = "demande_resiliation_judiciaire"
    AJOURNEMENT = "ajournement"
    AUTRE = "autre"

    @property
    def label(self) -> str:
        return DECISION_TYPE_LABELS[self]


DECISION_TYPE_LABELS: dict[DecisionType, str] = {
    DecisionType.INTERVENTION_SOCIALE: "Intervention sociale / bilan global",
    DecisionType.VISITE_DOMICILE: "Visite à domicile",
    DecisionType.ORIENTATION_PARTENAIRE: "Orientation vers un partenaire",
    DecisionType.SAISINE_FSL: "Saisine du FSL",
    DecisionType.PLAN_APUREMENT: "Plan d'apurement",
    DecisionType.REMISE_GRACIEUSE: "Proposition de remise gracieuse",
    DecisionType.MUTATION_RELOGEMENT: "Mutation / relogement",
    DecisionType.SAISINE_CCAPEX: "Saisine de la CCAPEX",
    DecisionType.SIGNALEMENT_SENIOR: "Signalement senior",
    DecisionType.SUSPENSION_CONTENTIEUX: "Suspension de la procédure contentieuse",
    DecisionType.POURSUITE_CONTENTIEUX: "Poursuite de la procédure contentieuse",
    DecisionType.DEMANDE_RESILIATION_JUDICIAIRE: "Demande de résiliation judiciaire du bail",
    DecisionType.AJOURNEMENT: "Ajournement",
    DecisionType.AUTRE: "Autre décision",
}

# The decision type that authorises the judicial step on a case (seed §9.3,
# collegial control); the case-files feature looks for it.
JUDICIAL_AUTHORISATION = DecisionType.DEMANDE_RESILIATION_JUDICIAIRE


class FollowUpStatus(StrEnum):
    A_FAIRE = "a_faire"
    EN_COURS = "en_cours"
    REALISEE = "realisee"
    ABANDONNEE = "abandonnee"

    @property
    def label(self) -> str:
        return FOLLOW_UP_LABELS[self]

    @property
    def is_final(self) -> bool:
        return self in (FollowUpStatus.REALISEE, FollowUpStatus.ABANDONNEE)


FOLLOW_UP_LABELS = {
    FollowUpStatus.A_FAIRE: "À faire",
    FollowUpStatus.EN_COURS: "En cours",
    FollowUpStatus.REALISEE: "Réalisée",
    FollowUpStatus.ABANDONNEE: "Abandonnée",
}

OPEN_FOLLOW_UP = frozenset({FollowUpStatus.A_FAIRE.value, FollowUpStatus.EN_COURS.value})
CLOSED_FOLLOW_UP = frozenset({FollowUpStatus.REALISEE.value, FollowUpStatus.ABANDONNEE.value})

# Case statuses owned by the case-files feature (Case.status).
CASE_TO_PRESENT = "a_presenter"
CASE_CLOSED = "clos"

MAX_TEXT = 4000
MAX_SHORT = 200
MAX_PLACE = 200


# --------------------------------------------------------------------- parsing


def parse_decision_type(code: str) -> DecisionType:
    try:
        return DecisionType(code)
    except ValueError:
        raise ValidationError(
            f"Le type de décision « {code} » n'existe pas. Choisissez un type dans la liste.",
            "type",
        ) from None


def parse_follow_up_status(code: str) -> FollowUpStatus:
    try:
        return FollowUpStatus(code)
    except ValueError:
        raise ValidationError(
            f"Le statut de suivi « {code} » n'existe pas (à faire, en cours, réalisée, abandonnée).",
            "status",
        ) from None


def clean_text(value: str | None, *, label: str, field: str, maximum: int = MAX_TEXT,
               required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(f"Le champ « {label} » est obligatoire.", field)
    if len(text) > maximum:
        raise ValidationError(
            f"Le champ « {label} » est trop long ({len(text)} caractères, {maximum} au plus). "
            "Raccourcissez-le.",
            field,
        )
    if any(ord(c) < 32 and c not in "\n\r\t" for c in text):
        raise ValidationError(
            f"Le champ « {label} » contient des caractères de contrôle invisibles : "
            "retapez le texte au lieu de le coller.",
            field,
        )
    return text


# --------------------------------------------------------------------- lifecycle


def check_start(status: str) -> None:
    if status == MeetingStatus.EN_COURS:
        raise WorkflowError("La séance est déjà en cours.")
    if status == MeetingStatus.CLOTUREE:
        raise WorkflowError(
            "La séance est clôturée : elle ne peut pas être rouverte. "
            "Pour corriger une décision, ajoutez un rectificatif."
        )


def check_close(status: str, present_count: int) -> None:
    if status == MeetingStatus.CLOTUREE:
        raise WorkflowError("La séance est déjà clôturée.")
    if status != MeetingStatus.EN_COURS:
        raise WorkflowError(
            "Seule une séance en cours peut être clôturée : ouvrez d'abord la séance."
        )
    if present_count == 0:
        raise WorkflowError(
            "Aucun membre n'est indiqué présent : cochez les présents avant de clôturer la séance."
        )


def check_editable(status: str, what: str = "la séance") -> None:
    """Before closing, the preparation and the decisions may change."""
    if status == MeetingStatus.CLOTUREE:
        raise WorkflowError(
            f"La séance est clôturée : {what} ne peut plus être modifié(e). "
            "Ajoutez un rectificatif (addendum) : il figurera sur le relevé."
        )


def check_decision_entry(status: str) -> None:
    check_editable(status, "ses décisions")
    if status != MeetingStatus.EN_COURS:
        raise WorkflowError(
            "Les décisions se saisissent pendant la séance : ouvrez d'abord la séance "
            "(bouton « Ouvrir la séance »)."
        )


def check_addendum(status: str) -> None:
    if status != MeetingStatus.CLOTUREE:
        raise WorkflowError(
            "Un rectificatif ne s'ajoute qu'à une séance clôturée ; "
            "avant la clôture, modifiez directement la décision."
        )


def check_follow_up(current: str, new: FollowUpStatus, comment: str) -> None:
    """Follow-up rules: abandoning needs a reason, and reopening a decision
    that was done or abandoned needs an explanation."""
    if new == FollowUpStatus.ABANDONNEE and current != new and not comment.strip():
        raise ValidationError(
            "Indiquez pourquoi la décision est abandonnée (commentaire obligatoire).", "comment"
        )
    if current in CLOSED_FOLLOW_UP and new.value in OPEN_FOLLOW_UP and not comment.strip():
        raise ValidationError(
            "Cette décision était close : expliquez en commentaire pourquoi elle est rouverte.",
            "comment",
        )


def validate_due_date(due_on: date | None, held_on: date) -> None:
    if due_on is not None and due_on < held_on:
        raise ValidationError(
            f"L'échéance ({due_on:%d/%m/%Y}) précède la date de la séance "
            f"({held_on:%d/%m/%Y}) : choisissez une date postérieure.",
            "due_on",
        )


def next_number(existing_numbers: list[int]) -> int:
    """Sessions are numbered 1, 2, 3... within a year."""
    return (max(existing_numbers) if existing_numbers else 0) + 1


def meeting_label(year: int, number: int) -> str:
    return f"CAS n° {number}/{year}"


def parse_meeting_ref(text: str) -> tuple[int | None, int | None, int | None]:
    """``12`` (id), ``3/2026`` or ``2026-3`` (number/year). Returns
    (meeting_id, number, year), unused parts None."""
    raw = text.strip().replace("n°", "").replace("N°", "").strip()
    for sep in ("/", "-"):
        if sep in raw:
            left, right = (p.strip() for p in raw.split(sep, 1))
            if left.isdigit() and right.isdigit():
                a, b = int(left), int(right)
                if a > 999 and b <= 999:
                    return None, b, a
                if b > 999:
                    return None, a, b
            break
    if raw.isdigit():
        return int(raw), None, None
    raise ValidationError(
        f"« {text} » n'est pas une référence de séance : donnez son numéro et l'année "
        "(ex. 3/2026) ou son identifiant (ex. 12).",
        "meeting",
    )


# --------------------------------------------------------------------- agenda


@dataclass(frozen=True)
class AgendaCandidate:
    case_id: int
    case_status: str
    agency_id: int
    open_due_dates: tuple[date, ...] = ()  # due dates of its open decisions
    adjourned_on: tuple[date, ...] = ()  # sessions that adjourned it (follow-up still open)


@dataclass(frozen=True)
class AgendaProposalRule:
    case_id: int
    reasons: tuple[str, ...]
    kinds: tuple[str, ...] = ()  # domain.commission.ProposalKind values


def propose_agenda(
    candidates: list[AgendaCandidate],
    held_on: date,
    scope_agency_id: int | None,
    already: set[int],
) -> list[AgendaProposalRule]:
    """The cases to propose for a session on ``held_on``: those adjourned at
    an earlier session (« ajournement — à représenter »), those marked
    "à présenter en CAS", and those with an open decision due on or before
    the session date. Closed cases, cases outside the session's scope and
    cases already on the agenda are left out. Adjourned cases first, then
    by earliest due date, then the cases to present."""
    out: list[tuple[tuple, AgendaProposalRule]] = []
    for c in candidates:
        if c.case_id in already or c.case_status == CASE_CLOSED:
            continue
        if scope_agency_id is not None and c.agency_id != scope_agency_id:
            continue
        reasons: list[str] = []
        kinds: list[str] = []
        adjourned = sorted(d for d in c.adjourned_on if d < held_on)
        if adjourned:
            reasons.append(f"Ajourné le {adjourned[-1]:%d/%m/%Y} — à représenter")
            kinds.append("ajourne")
        elif c.case_status == CASE_TO_PRESENT:
            reasons.append("À présenter en CAS")
            kinds.append("nouveau")
        due = sorted(d for d in c.open_due_dates if d <= held_on)
        if due:
            reasons.append(f"Décision échue le {due[0]:%d/%m/%Y}")
            kinds.append("suivi")
        if reasons:
            key = (0 if adjourned else 1, due[0] if due else date.max, c.case_id)
            out.append((key, AgendaProposalRule(c.case_id, tuple(reasons), tuple(kinds))))
    out.sort(key=lambda kv: kv[0])
    return [rule for _, rule in out]


def move(items: list, index: int, offset: int) -> list:
    """The list with items[index] moved by offset (clamped)."""
    if not 0 <= index < len(items):
        return list(items)
    target = max(0, min(len(items) - 1, index + offset))
    result = list(items)
    result.insert(target, result.pop(index))
    return result


# --------------------------------------------------------------------- follow-up


def is_overdue(due_on: date | None, status: str, today: date) -> bool:
    return due_on is not None and status in OPEN_FOLLOW_UP and due_on < today


def follow_up_sort_key(due_on: date | None, status: str, responsible: str, today: date,
                       by_responsible: bool = False) -> tuple:
    """Overdue first, then by due date (none last); optionally grouped by responsible."""
    overdue = 0 if is_overdue(due_on, status, today) else 1
    due = due_on or date.max
    if by_responsible:
        return (responsible.strip().casefold() or "\uffff", overdue, due)
    return (overdue, due, responsible.strip().casefold())


def earlier_decision_in_follow_up(
    status: str,
    status_changed_on: date | None,
    decided_on: date,
    held_on: date,
    previous_held_on: date | None,
) -> bool:
    """Section "Suivi des décisions antérieures" of a relevé: a decision taken
    at an earlier session, still open, or closed since the last session."""
    if decided_on >= held_on:
        return False
    if status in OPEN_FOLLOW_UP:
        return True
    if status_changed_on is None:
        return False
    since = previous_held_on or date.min
    return since < status_changed_on <= held_on


# --------------------------------------------------------------------- minimisation


def short_name(last_name: str, first_name: str) -> str:
    """Surname + initial (``DUPONT J.``): the default on a relevé."""
    last = last_name.strip().upper()
    first = first_name.strip()
    if not first:
        return last
    initials = "-".join(part[0].upper() + "." for part in first.split("-") if part)
    return f"{last} {initials}"


def full_name(last_name: str, first_name: str) -> str:
    first = first_name.strip()
    return f"{last_name.strip().upper()} {first}".strip()


def is_sensitive_problem(code: str) -> bool:
    """Problématiques that carry health, violence or family information stay
    hidden in the commission summary (shared professional secrecy, art.
    L.121-6-2 CASF): one list, kept by the case-files rules."""
    from cus_desk.domain.cases import is_sensitive_problem as _sensitive

    return _sensitive(code)


def arrears_trend(points: list[tuple[date, int]]) -> str:
    """In words, from a dated balance series (oldest first): hausse / baisse /
    stable, comparing the latest value with the one three points earlier."""
    if len(points) < 2:
        return "Évolution inconnue"
    ordered = sorted(points)
    last = ordered[-1][1]
    ref = ordered[max(0, len(ordered) - 4)][1]
    if last > ref:
        return "En hausse"
    if last < ref:
        return "En baisse"
    return "Stable"
