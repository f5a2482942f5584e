"""Every setting, declared once: key, type, default, French label.
Stored values live in the ``settings`` table (services.settings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: type
    default: Any
    label: str
    minimum: int | None = None
    maximum: int | None = None


SETTINGS: dict[str, SettingSpec] = {}


def declare(spec: SettingSpec) -> SettingSpec:
    SETTINGS[spec.key] = spec
    return spec


ORGANISATION_NAME = declare(SettingSpec("organisation_name", str, "VIVEST", "Nom de l'organisme (documents imprimés)"))
RELEVE_FULL_NAMES = declare(SettingSpec("releve_full_names", bool, False, "Noms complets sur le relevé de décisions"))
REFERRAL_OVERDUE_DAYS = declare(SettingSpec("referral_overdue_days", int, 30, "Orientation sans réponse après (jours)", 1, 365))
SENIOR_AGE = declare(SettingSpec("senior_age", int, 65, "Âge seniors (ans)", 50, 100))
SENIOR_MIN_BALANCE_CENTS = declare(SettingSpec("senior_min_balance_cents", int, 1, "Impayé minimal (centimes)", 1, None))
SENIOR_MIN_MONTHS = declare(SettingSpec("senior_min_months", int, 1, "Mois d'impayés minimal", 0, 120))
FIRST_ARREARS_LEASE_YEARS = declare(SettingSpec("first_arrears_lease_years", int, 5, "Ancienneté du bail pour « premier impayé » (ans)", 0, 80))
SIGNALEMENT_REMINDER_DAYS = declare(SettingSpec("signalement_reminder_days", int, 15, "Relance d'un signalement sans réponse après (jours)", 1, 365))
CONVENTION_EXPIRY_DAYS = declare(SettingSpec("convention_expiry_days", int, 90, "Convention signalée à échéance dans (jours)", 1, 365))
IDLE_LOCK_MINUTES = declare(SettingSpec("idle_lock_minutes", int, 10, "Verrouillage après inactivité (minutes)", 1, 240))
AUDIT_RETENTION_DAYS = declare(SettingSpec("audit_retention_days", int, 365, "Conservation du journal d'audit (jours)", 180, 1095))
CASE_RETENTION_YEARS = declare(SettingSpec("case_retention_years", int, 2, "Conservation d'un dossier clos après la dernière activité (ans)", 1, 10))
EXTRACT_RETENTION_YEARS = declare(SettingSpec("extract_retention_years", int, 3, "Conservation des extraits d'impayés (ans)", 1, 10))
SIGNALEMENT_RETENTION_YEARS = declare(SettingSpec("signalement_retention_years", int, 2, "Conservation d'un signalement clos (ans)", 1, 10))
STATS_MIN_CELL = declare(SettingSpec("stats_min_cell", int, 5, "Statistiques : effectif minimal affiché (secret statistique)", 3, 50))
AGENDA_PUBLICATION_DAYS = declare(SettingSpec("agenda_publication_days", int, 15, "Ordre du jour consultable par les membres avant la séance (jours)", 0, 90))
ATTENDANCE_ACCESS_DAYS = declare(SettingSpec("attendance_access_days", int, 60, "Accès des membres d'une séance à la synthèse des dossiers après sa clôture (jours)", 0, 365))
BACKUPS_MANUAL_KEEP = declare(SettingSpec("backups_manual_keep", int, 10, "Sauvegardes manuelles conservées dans le dossier des sauvegardes (nombre)", 1, 100))
# Free space needed before writing a copy, as a percentage of the store's size.
BACKUP_FREE_SPACE_PERCENT = declare(SettingSpec("backup_free_space_percent", int, 200, "Espace libre exigé avant une sauvegarde (% de la taille de la base)", 100, None))
TEMPORARY_PASSWORD_HOURS = declare(SettingSpec("temporary_password_hours", int, 72, "Validité d'un mot de passe provisoire (heures)", 1, 720))
CAS_QUORUM = declare(SettingSpec("cas_quorum", int, 3, "Quorum de la CAS : membres votants présents au minimum", 1, 30))
CAS_MINUTES_NEW_CASE = declare(SettingSpec("cas_minutes_new_case", int, 15, "Durée estimée d'un dossier présenté en CAS (minutes)", 1, 120))
CAS_MINUTES_ADJOURNED = declare(SettingSpec("cas_minutes_adjourned", int, 10, "Durée estimée d'un dossier ajourné représenté (minutes)", 1, 120))
CAS_MINUTES_FOLLOW_UP = declare(SettingSpec("cas_minutes_follow_up", int, 5, "Durée estimée du suivi d'une décision échue (minutes)", 1, 120))
