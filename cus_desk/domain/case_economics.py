"""What a prevention-of-eviction CAS weighs: the household's budget around
the rent, and how far the eviction procedure has gone. Pure functions of
values (no Qt, no SQL).

Budget (monthly amounts, integer cents)
---------------------------------------
- ``rent``: loyer hors charges; ``charges``: provisions pour charges;
- ``housing_aid``: APL or AL (paid to the landlord or to the household);
- ``resources``: the household's monthly resources **without** the housing
  aid (salaries, pensions, minima sociaux, family benefits…);
- ``other_charges``: other fixed charges (énergie, assurance, crédits…),
  optional.

Taux d'effort net (the definition of the arrêté du 10 mars 2011, art.
R.441-3-1 CCH, also used by the CAF)::

    taux d'effort = (loyer + charges − APL/AL) / ressources × 100

Reste à vivre (per month, then per person and per day, the unit most FSL
regulations use)::

    reste à vivre = ressources + APL/AL − (loyer + charges) − autres charges fixes
    reste à vivre par jour et par personne = reste à vivre / occupants / 30

Both are None when an amount they need is missing (a half-filled budget
gives no figure rather than a wrong one).

Procedure (expulsion locative), in its legal order: commandement de payer,
assignation, audience, jugement, commandement de quitter les lieux,
concours de la force publique.

CCAPEX rule: a landlord that is a legal person (a social landlord is) may
not have an assignation aux fins de constat de la résiliation du bail
delivered before two months have passed since it referred the household
to the CCAPEX (art. 24, II de la loi n° 89-462 du 6 juillet 1989, in the
wording of the loi ALUR n° 2014-366 du 24 mars 2014), on pain of the claim
being inadmissible. ``ccapex_warning`` says when the dates break it."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from cus_desk.domain.errors import ValidationError
from cus_desk.domain.formatting import format_date

#: Beyond this a monthly amount is a typo (100 000,00 €).
MAX_MONTHLY_CENTS = 10_000_000
#: Procedure dates further than this from today are typos.
MAX_YEARS_AWAY = 15

CCAPEX_DELAY_MONTHS = 2
CCAPEX_LAW = "art. 24, II de la loi n° 89-462 du 6 juillet 1989 (loi ALUR)"


class HousingAid(StrEnum):
    APL = "apl"
    AL = "al"

    @property
    def label(self) -> str:
        return {"apl": "APL", "al": "AL"}[self.value]


class Stage(StrEnum):
    """Stages of the eviction procedure, in their legal order."""

    COMMANDEMENT_PAYER = "commandement_payer"
    ASSIGNATION = "assignation"
    AUDIENCE = "audience"
    JUGEMENT = "jugement"
    COMMANDEMENT_QUITTER = "commandement_quitter"
    CONCOURS_FORCE_PUBLIQUE = "concours_force_publique"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS: dict[Stage, str] = {
    Stage.COMMANDEMENT_PAYER: "Commandement de payer",
    Stage.ASSIGNATION: "Assignation",
    Stage.AUDIENCE: "Audience",
    Stage.JUGEMENT: "Jugement",
    Stage.COMMANDEMENT_QUITTER: "Commandement de quitter les lieux",
    Stage.CONCOURS_FORCE_PUBLIQUE: "Concours de la force publique",
}

#: Stages that are facts once dated, never planned ahead: not in the future.
PAST_ONLY = frozenset({Stage.JUGEMENT})


@dataclass(frozen=True)
class Budget:
    rent_cents: int | None = None
    charges_cents: int | None = None
    housing_aid_cents: int | None = None
    housing_aid_kind: str | None = None
    resources_cents: int | None = None
    other_charges_cents: int | None = None


@dataclass(frozen=True)
class BudgetFigures:
    housing_cost_cents: int | None  # loyer + charges
    net_housing_cost_cents: int | None  # loyer + charges − APL/AL
    effort_rate_percent: float | None  # taux d'effort net, one decimal
    remaining_cents: int | None  # reste à vivre mensuel
    remaining_per_person_day_cents: int | None


def _round_div(num: int, den: int) -> int:
    """Integer division rounded half away from zero (money in cents)."""
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def compute(budget: Budget, occupants: int) -> BudgetFigures:
    """The figures of the formulas in the module docstring."""
    b = budget
    cost = None if b.rent_cents is None else b.rent_cents + (b.charges_cents or 0)
    aid = b.housing_aid_cents or 0
    net = None if cost is None else cost - aid
    rate = None
    if net is not None and b.resources_cents:
        rate = round(net * 100 / b.resources_cents, 1)
    remaining = None
    if cost is not None and b.resources_cents is not None:
        remaining = b.resources_cents + aid - cost - (b.other_charges_cents or 0)
    per_day = None
    if remaining is not None and occupants > 0:
        per_day = _round_div(remaining, occupants * 30)
    return BudgetFigures(cost, net, rate, remaining, per_day)


def check_budget(budget: Budget) -> None:
    """French message, naming the field, for an amount that cannot be."""
    labels = (
        ("rent_cents", "Loyer hors charges"),
        ("charges_cents", "Charges"),
        ("housing_aid_cents", "APL / AL"),
        ("resources_cents", "Ressources du ménage"),
        ("other_charges_cents", "Autres charges fixes"),
    )
    for field, label in labels:
        value = getattr(budget, field)
        if value is None:
            continue
        if value < 0:
            raise ValidationError(f"« {label} » ne peut pas être négatif : saisissez un montant mensuel "
                                  "positif (ou 0).", field)
        if value > MAX_MONTHLY_CENTS:
            raise ValidationError(f"« {label} » dépasse 100 000 € par mois : vérifiez la saisie.", field)
    if budget.housing_aid_kind not in (None, *HousingAid):
        raise ValidationError("Type d'aide au logement inconnu (APL ou AL).", "housing_aid_kind")
    if budget.housing_aid_cents and budget.housing_aid_kind is None:
        raise ValidationError("Précisez s'il s'agit de l'APL ou de l'AL.", "housing_aid_kind")
    if budget.housing_aid_cents is not None and budget.rent_cents is not None and \
            budget.housing_aid_cents > budget.rent_cents + (budget.charges_cents or 0):
        raise ValidationError("L'APL / AL dépasse le loyer charges comprises : vérifiez les montants.",
                              "housing_aid_cents")


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months (31/12 + 2 → 28 or 29/02)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_procedure(dates: dict[Stage, date | None], ccapex_referred_on: date | None, today: date) -> None:
    """Dates within reason, a judgment not in the future, and stages in
    their legal order."""
    low, high = add_months(today, -12 * MAX_YEARS_AWAY), add_months(today, 12 * MAX_YEARS_AWAY)
    checked = [(s.value + "_on", s.label, dates.get(s)) for s in Stage]
    checked.append(("ccapex_referred_on", "Saisine de la CCAPEX", ccapex_referred_on))
    for field, label, value in checked:
        if value is None:
            continue
        if not low <= value <= high:
            raise ValidationError(f"« {label} » : le {format_date(value)} est à plus de {MAX_YEARS_AWAY} ans "
                                  "d'aujourd'hui, vérifiez l'année.", field)
    for stage in PAST_ONLY:
        value = dates.get(stage)
        if value is not None and value > today:
            raise ValidationError(f"« {stage.label} » ne peut pas être dans le futur : un jugement est daté "
                                  "du jour où il a été rendu.", stage.value + "_on")
    if ccapex_referred_on is not None and ccapex_referred_on > today:
        raise ValidationError("« Saisine de la CCAPEX » ne peut pas être dans le futur : indiquez la date "
                              "d'envoi de la saisine, une fois faite.", "ccapex_referred_on")
    previous: tuple[Stage, date] | None = None
    for stage in Stage:
        value = dates.get(stage)
        if value is None:
            continue
        if previous is not None and value < previous[1]:
            raise ValidationError(
                f"« {stage.label} » ({format_date(value)}) ne peut pas précéder « {previous[0].label} » "
                f"({format_date(previous[1])}) : les étapes de la procédure se suivent dans cet ordre.",
                stage.value + "_on")
        previous = (stage, value)


def current_stage(dates: dict[Stage, date | None], today: date) -> tuple[Stage, date, bool] | None:
    """The furthest stage with a date: (stage, date, planned — date in the
    future). None before any step."""
    found = None
    for stage in Stage:
        value = dates.get(stage)
        if value is not None:
            found = (stage, value, value > today)
    return found


def ccapex_warning(assignation_on: date | None, ccapex_referred_on: date | None) -> str | None:
    """The CCAPEX rule broken by the dates, in French; None when the rule is
    kept or does not apply yet (no assignation date, done or planned)."""
    if assignation_on is None:
        return None
    if ccapex_referred_on is None:
        return (f"Assignation au {format_date(assignation_on)} sans saisine de la CCAPEX enregistrée : "
                f"le bailleur doit saisir la CCAPEX au moins deux mois avant l'assignation, soit au plus "
                f"tard le {format_date(add_months(assignation_on, -CCAPEX_DELAY_MONTHS))} ({CCAPEX_LAW}).")
    earliest = add_months(ccapex_referred_on, CCAPEX_DELAY_MONTHS)
    if assignation_on < earliest:
        return (f"Assignation au {format_date(assignation_on)} moins de deux mois après la saisine de la "
                f"CCAPEX du {format_date(ccapex_referred_on)} : l'assignation ne peut être délivrée qu'à "
                f"partir du {format_date(earliest)} ({CCAPEX_LAW}).")
    return None
