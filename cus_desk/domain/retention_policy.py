"""What a purge removes and what it keeps, per kind of data: the one table
(services.retention applies it, docs/securite/purges.md reproduces it, a
test checks that both say the same).

CNIL references: the "référentiel relatif aux traitements de données à
caractère personnel mis en œuvre dans le cadre de l'accompagnement social"
(follow-up data: two years after the last contact with the person, then
deleted or anonymised), the "référentiel gestion locative" (impayés and
pre-litigation data), and the CNIL's recommendation on logging (access
logs: six months to one year). Durations are settings (domain.settings)
within the bounds the referentials allow."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetentionRule:
    key: str  # kind of data (code)
    label: str  # French, as in the documentation
    duration: str  # French: how long, from when
    setting: str | None  # the setting that holds the duration (domain.settings key)
    removes: tuple[str, ...]  # French: what the purge erases
    keeps: tuple[str, ...]  # French: what stays, and why (statistics about nobody)
    copies: tuple[str, ...]  # French: every copy the program controls, and what it does there


# Copies the program controls, named once (French).
STORE = "base (lignes effacées, octets remis à zéro : secure_delete + VACUUM sur SQLite, VACUUM sur PostgreSQL)"
SEARCH = "index de recherche (FTS5 fusionné sur SQLite, colonne search_doc sur PostgreSQL)"
AUDIT = "détails du journal d'audit expurgés (qui, quand, quelle action restent ; la chaîne reste vérifiable)"
ARCHIVES = "relevés de décisions archivés régénérés sans le nom ni le texte des décisions"
BACKUPS = ("sauvegardes antérieures à la purge : listées par le compte rendu de purge, "
           "suppression proposée")

POLICY: tuple[RetentionRule, ...] = (
    RetentionRule(
        "case", "Dossier CAS clos",
        "2 ans après la dernière activité (dernier contact)", "case_retention_years",
        removes=("synthèse de la situation, motif de clôture, n° CAF/FSL/CCAPEX, travailleur social extérieur",
                 "notes confidentielles, journal d'actions, plans d'apurement",
                 "membres du ménage saisis dans le dossier (conjoint, enfants, autres)",
                 "ménage, bail et titulaires quand plus rien d'autre ne s'y rapporte",
                 "propositions à la commission, textes et responsables des décisions, suivis et rectificatifs",
                 "motifs et suites des orientations vers les partenaires"),
        keeps=("référence, agence, dates, statut, codes de problématiques, types de décisions, montants "
               "(statistiques sur personne : le dossier est rattaché à un ménage « anonymisé »)",),
        copies=(STORE, SEARCH, AUDIT, ARCHIVES, BACKUPS)),
    RetentionRule(
        "household", "Ménage, bail et personnes",
        "tant qu'un dossier, un extrait, un signalement ou une observation s'y rapporte", None,
        removes=("le bail, le ménage et ses membres dès que plus rien ne s'y rapporte "
                 "(dossier anonymisé, extrait supprimé, signalement supprimé)",),
        keeps=("titulaire et cotitulaire d'un bail encore présent dans un extrait conservé "
               "ou lié à un dossier ou un signalement en cours",),
        copies=(STORE, SEARCH, AUDIT, BACKUPS)),
    RetentionRule(
        "arrears_extract", "Extrait d'impayés",
        "3 ans après la date de l'extrait", "extract_retention_years",
        removes=("l'extrait, ses lignes (soldes, dates de naissance)",
                 "les locataires créés par l'extrait que plus rien d'autre ne cite (bail, ménage, personnes)"),
        keeps=("rien",),
        copies=(STORE, SEARCH, BACKUPS)),
    RetentionRule(
        "signalement", "Signalement senior 65+ clos",
        "2 ans après sa clôture", "signalement_retention_years",
        removes=("le signalement, son historique, les observations de terrain qui l'ont motivé",),
        keeps=("rien",),
        copies=(STORE, AUDIT, BACKUPS)),
    RetentionRule(
        "audit", "Journal d'audit",
        "365 jours (réglable de 180 à 1 095 ; recommandation CNIL : 6 mois à 1 an)", "audit_retention_days",
        removes=("les événements plus anciens que la durée, par le début de la chaîne (une ancre les remplace)",),
        keeps=("les événements récents ; pour un dossier purgé : qui, quand, quelle action, sans détails",),
        copies=(STORE, BACKUPS)),
    RetentionRule(
        "statistics", "Statistiques d'activité",
        "sans limite (données agrégées)", None,
        removes=("les cases de moins de 5 personnes (réglable), et une case complémentaire par ligne "
                 "et par colonne quand le total permettrait de la retrouver",),
        keeps=("les comptes par agence à partir du seuil",),
        copies=("fichier exporté (CSV/XLSX) : hors du logiciel, sous la responsabilité de qui l'exporte",)),
)


def rule(key: str) -> RetentionRule:
    for r in POLICY:
        if r.key == key:
            return r
    raise KeyError(key)
