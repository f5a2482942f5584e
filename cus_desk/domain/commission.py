"""The CAS as a commission: presence and quorum, adjourned cases, the
estimated length of an agenda, what a decision does to the case, who is
responsible for it, and the collegial control of the demande de
résiliation judiciaire. Pure rules (no Qt, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from cus_desk.domain.errors import ValidationError, WorkflowError
from cus_desk.domain.meetings import DecisionType, MeetingStatus
from cus_desk.domain.reference import NON_VOTING_FUNCTIONS
from cus_desk.domain.roles import Role

# --------------------------------------------------------------------- presence


class Presence(StrEnum):
    """Recorded at the meeting; None (not recorded yet) until then."""

    PRESENT = "present"
    EXCUSE = "excuse"
    ABSENT = "absent"

    @property
    def label(self) -> str:
        return PRESENCE_LABELS[self]


PRESENCE_LABELS = {
    Presence.PRESENT: "Présent(e)",
    Presence.EXCUSE: "Excusé(e)",
    Presence.ABSENT: "Absent(e)",
}
NOT_RECORDED_LABEL = "Non indiquée"


def parse_presence(code: str | None) -> Presence | None:
    if code is None or code == "":
        return None
    try:
        return Presence(code)
    except ValueError:
        raise ValidationError(
            f"La présence « {code} » n'existe pas : présent, excusé ou absent.", "presence"
        ) from None


def presence_label(code: str | None) -> str:
    return Presence(code).label if code else NOT_RECORDED_LABEL


def invited(code: str | None) -> bool:
    """The member counts as a member of the session for access (invited and
    not excused nor absent): ``Attendee.present`` mirrors this."""
    return code in (None, Presence.PRESENT.value)


def is_voting(function: str) -> bool:
    return function not in NON_VOTING_FUNCTIONS


@dataclass(frozen=True)
class Quorum:
    present_voting: int
    required: int
    not_recorded: int  # members whose presence is not recorded yet

    @property
    def reached(self) -> bool:
        return self.present_voting >= self.required

    @property
    def label(self) -> str:
        state = "atteint" if self.reached else "non atteint"
        return (f"Quorum {state} : {self.present_voting} membre{'s' if self.present_voting > 1 else ''} "
                f"votant{'s' if self.present_voting > 1 else ''} présent{'s' if self.present_voting > 1 else ''} "
                f"sur {self.required} requis")


def quorum(members: list[tuple[str, str | None]], required: int) -> Quorum:
    """``members``: (function code, presence code or None) of each attendee."""
    present = sum(1 for function, presence in members
                  if presence == Presence.PRESENT.value and is_voting(function))
    missing = sum(1 for _, presence in members if presence is None)
    return Quorum(present, required, missing)


def check_quorum(q: Quorum, what: str) -> None:
    if not q.reached:
        raise WorkflowError(
            f"{q.label} : {what} impossible. Indiquez la présence de chaque membre "
            "(présent, excusé, absent) ; seuls les membres votants présents comptent "
            "(les partenaires extérieurs et le gestionnaire contentieux ont voix consultative)."
        )


def check_presence_recorded(not_recorded_names: list[str]) -> None:
    if not_recorded_names:
        names = ", ".join(not_recorded_names)
        raise WorkflowError(
            f"La présence n'est pas indiquée pour : {names}. Indiquez pour chacun présent, "
            "excusé ou absent avant de clôturer la séance."
        )


# --------------------------------------------------------------------- agenda


class ProposalKind(StrEnum):
    NEW = "nouveau"  # à présenter en CAS
    ADJOURNED = "ajourne"  # ajourné, à représenter
    FOLLOW_UP = "suivi"  # a decision is due


def estimated_minutes(kinds: set[str], minutes: dict[str, int]) -> int:
    """A case presented for several reasons takes the longest of them."""
    return max((minutes[k] for k in kinds if k in minutes), default=0)


def format_duration(total_minutes: int) -> str:
    hours, mins = divmod(max(0, total_minutes), 60)
    if not hours:
        return f"{mins} min"
    return f"{hours} h {mins:02d}" if mins else f"{hours} h"


# --------------------------------------------------------------------- decisions


# Decision types that create something in the case file once confirmed.
class Effect(StrEnum):
    REFERRAL = "orientation"  # an orientation to a partner
    NUMBER_REQUEST = "demande_numero"  # saisine FSL / CCAPEX: a referral asking for a file number
    PLAN = "plan"  # a plan d'apurement


EFFECTS: dict[DecisionType, Effect] = {
    DecisionType.ORIENTATION_PARTENAIRE: Effect.REFERRAL,
    DecisionType.SAISINE_FSL: Effect.NUMBER_REQUEST,
    DecisionType.SAISINE_CCAPEX: Effect.NUMBER_REQUEST,
    DecisionType.PLAN_APUREMENT: Effect.PLAN,
}

# The partner categories suggested first for each effect.
EFFECT_PARTNER_CATEGORIES: dict[DecisionType, tuple[str, ...]] = {
    DecisionType.SAISINE_FSL: ("fsl",),
    DecisionType.SAISINE_CCAPEX: ("ddets",),
}


def effect_of(type_code: str) -> Effect | None:
    try:
        return EFFECTS.get(DecisionType(type_code))
    except ValueError:
        return None


def effect_question(type_code: str) -> str:
    effect = effect_of(type_code)
    if effect is Effect.REFERRAL:
        return "Créer l'orientation vers le partenaire choisi dans le dossier ?"
    if effect is Effect.NUMBER_REQUEST:
        body = "FSL" if type_code == DecisionType.SAISINE_FSL else "CCAPEX"
        return (f"Créer la saisine du {body} (demande de numéro de dossier) auprès de la structure "
                "choisie, dans le dossier ?")
    if effect is Effect.PLAN:
        return "Créer le plan d'apurement dans le dossier ?"
    return ""


def validate_plan(monthly_cents: int | None, months: int | None) -> tuple[int, int]:
    if not monthly_cents or monthly_cents <= 0:
        raise ValidationError("Indiquez la mensualité du plan d'apurement (en euros, plus de 0).",
                              "monthly")
    if monthly_cents > 10_000_000:
        raise ValidationError("La mensualité dépasse 100 000,00 € : vérifiez le montant.", "monthly")
    if not months or not 1 <= months <= 120:
        raise ValidationError("Indiquez la durée du plan d'apurement (de 1 à 120 mois).", "months")
    return monthly_cents, months


# Case statuses (owned by the case-files feature: domain.cases.CaseStatus).
_TO_PRESENT, _RECOMMENDATION, _ACTION, _FOLLOW_UP, _CLOSED, _OPEN = (
    "a_presenter", "preconisation", "action_definie", "en_suivi", "clos", "ouvert")


def case_status_after(current: str, decision_types: list[str]) -> tuple[str, str | None]:
    """The case status once a session's decisions on it are final (at
    closing): adjourned only → still to present; a social intervention only
    → préconisation (intervention sociale); any other decision → action
    définie. A closed case or one already beyond these stays as it is.
    Returns (status, recommendation code or None)."""
    if current == _CLOSED or not decision_types:
        return current, None
    kinds = set(decision_types)
    if kinds == {DecisionType.AJOURNEMENT.value}:
        return _TO_PRESENT, None
    kinds.discard(DecisionType.AJOURNEMENT.value)
    if kinds == {DecisionType.INTERVENTION_SOCIALE.value}:
        return _RECOMMENDATION, "intervention_sociale"
    return _ACTION, None


# --------------------------------------------------------------------- responsibles


class ResponsibleService(StrEnum):
    """Services a decision may be entrusted to; each is linked to the
    accounts that answer for it (see ``service_holds``)."""

    POLE_SOCIAL = "pole_social"
    CONSEILLERE_AGENCE = "conseillere_agence"
    RECOUVREMENT = "recouvrement"
    CONTENTIEUX = "contentieux"
    CELLULE_SECURITE = "cellule_securite"
    COMMERCIALISATION = "commercialisation"

    @property
    def label(self) -> str:
        return SERVICE_LABELS[self]


SERVICE_LABELS = {
    ResponsibleService.POLE_SOCIAL: "Pôle social",
    ResponsibleService.CONSEILLERE_AGENCE: "Conseillère sociale de l'agence",
    ResponsibleService.RECOUVREMENT: "Service recouvrement de l'agence",
    ResponsibleService.CONTENTIEUX: "Service contentieux de l'agence",
    ResponsibleService.CELLULE_SECURITE: "Cellule sécurité",
    ResponsibleService.COMMERCIALISATION: "Service commercialisation",
}


def service_holds(service: str, role: str, user_agency_id: int | None, case_agency_id: int) -> bool:
    """Whether an account (role, agency) answers for ``service`` on a case
    of ``case_agency_id`` (« mes décisions à suivre »)."""
    same_agency = user_agency_id is None or user_agency_id == case_agency_id
    if service == ResponsibleService.POLE_SOCIAL:
        return role == Role.SOCIAL_HEAD
    if service == ResponsibleService.CONSEILLERE_AGENCE:
        return role == Role.SOCIAL_ADVISER and user_agency_id == case_agency_id
    if service in (ResponsibleService.RECOUVREMENT, ResponsibleService.CONTENTIEUX):
        return role == Role.RECOVERY and same_agency
    if service in (ResponsibleService.CELLULE_SECURITE, ResponsibleService.COMMERCIALISATION):
        return role == Role.CAS_MEMBER
    return False


RESPONSIBLE_UNKNOWN = (
    "Choisissez le responsable dans la liste : une personne (compte de l'application) ou un "
    "service. « {text} » n'y figure pas."
)


# --------------------------------------------------------------------- judicial


@dataclass(frozen=True)
class JudicialGround:
    """The decision a demande de résiliation judiciaire rests on."""

    meeting_status: str
    held_on: date
    scope_agency_id: int | None
    quorum: Quorum


def check_judicial_ground(ground: JudicialGround, case_agency_id: int, today: date) -> None:
    """Seed §9.3 (contrôle collégial): the decision of a session that was
    really held — closed, not in the future, with its quorum — of the case's
    own agency or a central session."""
    if ground.meeting_status != MeetingStatus.CLOTUREE:
        raise WorkflowError(
            "La décision de la CAS qui autorise la résiliation judiciaire appartient à une séance "
            "qui n'est pas clôturée : la demande n'est possible qu'après la clôture de la séance "
            "(relevé de décisions archivé)."
        )
    if ground.held_on > today:
        raise WorkflowError(
            f"La séance de la décision est datée du {ground.held_on:%d/%m/%Y}, dans le futur : "
            "une demande de résiliation judiciaire ne peut s'appuyer que sur une séance tenue."
        )
    if not ground.quorum.reached:
        raise WorkflowError(
            f"La séance de la décision n'avait pas le quorum ({ground.quorum.present_voting} "
            f"membre(s) votant(s) présent(s) sur {ground.quorum.required} requis) : la décision "
            "n'est pas collégiale et ne peut pas fonder une demande de résiliation judiciaire."
        )
    if ground.scope_agency_id is not None and ground.scope_agency_id != case_agency_id:
        raise WorkflowError(
            "La décision a été prise par la séance d'une autre agence que celle du dossier : "
            "seule une séance de son agence ou une séance centrale peut autoriser la demande."
        )


MIN_JUDICIAL_MOTIVATION = 20


def check_grave_decision(type_code: str, text: str, confirmed: bool) -> None:
    """A demande de résiliation judiciaire is a decision of that gravity
    that it asks a motivation and an explicit confirmation."""
    if type_code != DecisionType.DEMANDE_RESILIATION_JUDICIAIRE.value:
        return
    if len(text.strip()) < MIN_JUDICIAL_MOTIVATION:
        raise ValidationError(
            "Motivez la demande de résiliation judiciaire du bail : écrivez dans le texte de la "
            f"décision ce qui la justifie ({MIN_JUDICIAL_MOTIVATION} caractères au moins).", "text")
    if not confirmed:
        raise ValidationError(
            "La demande de résiliation judiciaire du bail est une décision grave : confirmez-la "
            "explicitement (case « Je confirme », ou --confirme en ligne de commande).", "confirm")
