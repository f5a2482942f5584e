"""Seniors 65+ en impayé (CUS §9.3): the risk rule, the follow-up statuses,
"premier impayé" and the signalement workflow. Pure functions of values.

The process exists because older, long-standing tenants with no payment
history reached litigation: catching the *first* arrears of such a tenant
is the point (``is_first_arrears``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from cus_desk.domain.formatting import age_on, format_date


@dataclass(frozen=True)
class RiskRule:
    """Thresholds (settings SENIOR_AGE, SENIOR_MIN_BALANCE_CENTS,
    SENIOR_MIN_MONTHS, FIRST_ARREARS_LEASE_YEARS)."""

    senior_age: int = 65
    min_balance_cents: int = 1
    min_months: int = 1
    first_arrears_lease_years: int = 5
    # "Premier impayé" read from the extract itself: at most this many months
    # unpaid (or a last payment at most this many months + 1 old).
    first_arrears_max_months: int = 2


def senior_age_of(holder_birth: date | None, cotenant_birth: date | None, on: date) -> int | None:
    """The age that counts: the older of the tenant and the co-tenant, in
    whole years on ``on`` (None when neither birth date is known)."""
    ages = [age_on(b, on) for b in (holder_birth, cotenant_birth) if b is not None]
    return max(ages) if ages else None


def is_senior(holder_birth: date | None, cotenant_birth: date | None, on: date,
              rule: RiskRule = RiskRule()) -> bool:
    """The tenant *or* the co-tenant is aged ``rule.senior_age`` or more."""
    age = senior_age_of(holder_birth, cotenant_birth, on)
    return age is not None and age >= rule.senior_age


def in_arrears(balance_cents: int, months_unpaid: int | None, rule: RiskRule = RiskRule()) -> bool:
    """Balance owed above the threshold (a credit is negative) and, where the
    extract gives months unpaid, at least the minimum number of months."""
    if balance_cents <= 0 or balance_cents < rule.min_balance_cents:
        return False
    if months_unpaid is not None and months_unpaid < rule.min_months:
        return False
    return True


def is_at_risk(holder_birth: date | None, cotenant_birth: date | None, balance_cents: int,
               months_unpaid: int | None, on: date, rule: RiskRule = RiskRule()) -> bool:
    return is_senior(holder_birth, cotenant_birth, on, rule) and in_arrears(
        balance_cents, months_unpaid, rule
    )


def is_first_arrears(in_arrears_now: bool, in_arrears_before: bool, lease_start: date | None,
                     on: date, rule: RiskRule = RiskRule()) -> bool:
    """Premier impayé: in arrears now, in no earlier imported extract, and a
    lease older than ``rule.first_arrears_lease_years`` (unknown start: no)."""
    if not in_arrears_now or in_arrears_before or lease_start is None:
        return False
    return age_on(lease_start, on) >= rule.first_arrears_lease_years


@dataclass(frozen=True)
class FirstArrears:
    """Whether this is a long-standing tenant's first arrears: ``first`` is
    True, False, or None when nothing tells (no earlier extract of the
    agency, and the file gives neither months unpaid nor a last payment);
    ``reason`` says why, in French, for the screen, the CLI and the motif."""

    first: bool | None
    reason: str

    @property
    def unknown(self) -> bool:
        return self.first is None


HISTORY_UNKNOWN = ("historique des impayés inconnu : aucun extrait antérieur de cette agence n'a été "
                   "importé et le fichier ne donne ni le nombre de mois d'impayés ni la date du dernier "
                   "paiement")


def first_arrears(in_arrears_now: bool, history_known: bool, in_arrears_before: bool,
                  lease_start: date | None, on: date, months_unpaid: int | None = None,
                  last_payment: date | None = None, rule: RiskRule = RiskRule()) -> FirstArrears:
    """Premier impayé, told by what is known: the extract's own months
    unpaid / last payment first (7 months unpaid is never a first arrears,
    whatever the history), then the earlier extracts (``history_known``:
    an earlier extract of the lease's agency was imported). With neither,
    it is unknown — not "never in arrears"."""
    if not in_arrears_now:
        return FirstArrears(False, "pas d'impayé")
    if lease_start is None:
        return FirstArrears(False, "date d'entrée dans les lieux inconnue")
    if age_on(lease_start, on) < rule.first_arrears_lease_years:
        return FirstArrears(False, f"bail de moins de {rule.first_arrears_lease_years} ans")
    limit = rule.first_arrears_max_months
    if months_unpaid is not None and months_unpaid > limit:
        return FirstArrears(False, f"{months_unpaid} mois d'impayés selon l'extrait")
    if last_payment is not None and (on - last_payment).days > 31 * (limit + 1):
        return FirstArrears(False, f"dernier paiement le {format_date(last_payment)} selon l'extrait")
    if history_known:
        if in_arrears_before:
            return FirstArrears(False, "déjà en impayé dans un extrait précédent")
        return FirstArrears(True, "locataire ancien, sans impayé dans les extraits précédents")
    if months_unpaid is not None:
        return FirstArrears(True, f"locataire ancien, {months_unpaid} mois d'impayé selon l'extrait "
                                  "(aucun extrait antérieur importé)")
    if last_payment is not None:
        return FirstArrears(True, f"locataire ancien, dernier paiement le {format_date(last_payment)} "
                                  "selon l'extrait (aucun extrait antérieur importé)")
    return FirstArrears(None, HISTORY_UNKNOWN)


class SeniorStatus(StrEnum):
    A_SURVEILLER = "a_surveiller"
    A_SIGNALER = "a_signaler"
    SIGNALE = "signale"
    PRIS_EN_CHARGE = "pris_en_charge"
    CLOS = "clos"

    @property
    def label(self) -> str:
        return SENIOR_STATUS_LABELS[self]


SENIOR_STATUS_LABELS = {
    SeniorStatus.A_SURVEILLER: "À surveiller",
    SeniorStatus.A_SIGNALER: "À signaler",
    SeniorStatus.SIGNALE: "Signalé",
    SeniorStatus.PRIS_EN_CHARGE: "Pris en charge",
    SeniorStatus.CLOS: "Clos",
}


class AlertStatus(StrEnum):
    """Status of a signalement (Referral kind ``senior_alert``)."""

    ENVOYE = "envoye"
    ACCUSE_RECEPTION = "accuse_reception"
    PRIS_EN_CHARGE = "pris_en_charge"
    CLOS = "clos"
    ANNULE = "annule"  # sent by mistake: cancelled with a reason (kept, never counted)

    @property
    def label(self) -> str:
        return ALERT_STATUS_LABELS[self]


def signalement_reference(sent_on, referral_id: int) -> str:
    """The reference printed on the fiche and quoted by the partner."""
    return f"SIG-{sent_on.year}-{referral_id:04d}"


ALERT_STATUS_LABELS = {
    AlertStatus.ENVOYE: "Envoyé",
    AlertStatus.ACCUSE_RECEPTION: "Accusé de réception",
    AlertStatus.PRIS_EN_CHARGE: "Pris en charge",
    AlertStatus.CLOS: "Clos",
    AlertStatus.ANNULE: "Annulé",
}

_ALERT_ORDER = [s for s in AlertStatus if s is not AlertStatus.ANNULE]
OPEN_ALERT_STATUSES = frozenset({AlertStatus.ENVOYE, AlertStatus.ACCUSE_RECEPTION,
                                 AlertStatus.PRIS_EN_CHARGE})


def allowed_alert_transitions(current: str) -> list[AlertStatus]:
    """Forward only: envoyé → accusé de réception → pris en charge → clos;
    a step may be skipped (a partner may take charge without acknowledging);
    a closed signalement is final."""
    status = AlertStatus(current)
    if status is AlertStatus.ANNULE:
        return []
    return _ALERT_ORDER[_ALERT_ORDER.index(status) + 1:]


def check_alert_transition(current: str, new: str) -> None:
    from cus_desk.domain.errors import WorkflowError

    try:
        target = AlertStatus(new)
    except ValueError:
        raise WorkflowError(f"Statut de signalement inconnu : « {new} ».") from None
    if target not in allowed_alert_transitions(current):
        raise WorkflowError(
            f"Un signalement « {AlertStatus(current).label} » ne peut pas passer à "
            f"« {target.label} ». Les étapes se suivent : envoyé, accusé de réception, "
            "pris en charge, clos."
        )


RELANCE_MEANS = {"telephone": "Téléphone", "courriel": "Courriel", "courrier": "Courrier",
                 "visite": "Visite ou rendez-vous"}


class ObservationKind(StrEnum):
    CHANGEMENT_ATTITUDE = "changement_attitude"
    NE_REPOND_PLUS = "ne_repond_plus"
    AUTRE = "autre"

    @property
    def label(self) -> str:
        return OBSERVATION_LABELS[self]


OBSERVATION_LABELS = {
    ObservationKind.CHANGEMENT_ATTITUDE: "Changement d'attitude",
    ObservationKind.NE_REPOND_PLUS: "Ne répond plus aux sollicitations",
    ObservationKind.AUTRE: "Autre",
}


def senior_status(at_risk: bool, observation_dates: list[date],
                  alerts: list[tuple[str, date | None]]) -> SeniorStatus | None:
    """Where a lease stands, or None when it leaves the list.

    ``alerts`` are its signalements as (status, closed_on or None). An open
    signalement keeps the tenant on the list whatever the later extracts say.
    Otherwise the tenant must be at risk (65+ and in arrears): "à surveiller",
    "à signaler" once a field observation is recorded; after a closed
    signalement, "clos" until a new observation calls for a new one."""
    alerts = [(s, c) for s, c in alerts if s != AlertStatus.ANNULE.value]  # a mistake: as if never sent
    open_statuses = [AlertStatus(s) for s, _ in alerts if AlertStatus(s) in OPEN_ALERT_STATUSES]
    if open_statuses:
        if AlertStatus.PRIS_EN_CHARGE in open_statuses:
            return SeniorStatus.PRIS_EN_CHARGE
        return SeniorStatus.SIGNALE
    if not at_risk:
        return None
    closed = [c for s, c in alerts if AlertStatus(s) is AlertStatus.CLOS]
    if closed:
        last_closed = max((c for c in closed if c is not None), default=date.min)
        if any(d > last_closed for d in observation_dates):
            return SeniorStatus.A_SIGNALER
        return SeniorStatus.CLOS
    return SeniorStatus.A_SIGNALER if observation_dates else SeniorStatus.A_SURVEILLER


def reminder_due(status: str, sent_on: date, today: date, days: int) -> date | None:
    """The date a reminder fell due when a signalement got no answer
    (still "envoyé") within ``days`` days; None otherwise."""
    if AlertStatus(status) is not AlertStatus.ENVOYE:
        return None
    due = sent_on + timedelta(days=days)
    return due if today >= due else None


AGE_BANDS: dict[str, tuple[int, int | None]] = {
    "-74": (0, 74),
    "75-84": (75, 84),
    "85+": (85, None),
}
AGE_BAND_LABELS = {"-74": "Moins de 75 ans", "75-84": "75 à 84 ans", "85+": "85 ans et plus"}


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    for code, (low, high) in AGE_BANDS.items():
        if age >= low and (high is None or age <= high):
            return code
    return None
