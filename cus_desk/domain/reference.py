"""Controlled lists that are not per-feature (partner categories, CAS
functions, senior-referral partner kinds). Codes are stored, labels shown."""

from __future__ import annotations

PARTNER_CATEGORIES: dict[str, str] = {
    "hebergement": "Hébergement / CHRS",
    "insertion": "Insertion",
    "refugies": "Réfugiés et demandeurs d'asile",
    "handicap": "Handicap",
    "jeunes_travailleurs": "Jeunes travailleurs",
    "sante_mentale": "Santé mentale",
    "gerontologie": "Gérontologie",
    "protection_enfance": "Protection de l'enfance",
    "tutelle": "Tutelle / curatelle",
    "ccas": "CCAS",
    "cms": "CMS",
    "clic": "CLIC",
    "pole_gerontologique": "Pôle gérontologique",
    "caf": "CAF",
    "fsl": "FSL",
    "ddets": "DDCS / DDETS",
    "siao": "SIAO",
    "autre": "Autre",
}

# A referral to a partner of these categories tells about a person's health,
# disability, children or legal protection (a psychiatric hospital, child
# protection): such a partner's name is reserved like a confidential note
# (never on the projected commission summary, never in the audit trail).
SENSITIVE_PARTNER_CATEGORIES: frozenset[str] = frozenset({
    "sante_mentale", "handicap", "protection_enfance", "tutelle", "refugies",
})


def is_sensitive_partner_category(code: str | None) -> bool:
    return (code or "") in SENSITIVE_PARTNER_CATEGORIES


# Seed §9.3: a senior in arrears is referred to one of these four kinds.
SENIOR_PARTNER_KINDS: dict[str, str] = {
    "cms": "CMS",
    "ccas": "CCAS",
    "clic": "CLIC",
    "pole_gerontologique": "Pôle gérontologique",
}

CAS_FUNCTIONS: dict[str, str] = {
    "president": "Président(e) de séance",
    "secretaire_seance": "Secrétaire de séance",
    "responsable_cellule_securite": "Responsable de la cellule sécurité",
    "responsable_recouvrement": "Responsable du service recouvrement",
    "responsable_commercialisation": "Responsable coordinateur commercialisation",
    "responsable_pole_social": "Responsable du pôle social",
    "conseillere_sociale": "Conseillère sociale",
    "gestionnaire_contentieux": "Gestionnaire contentieux (voix consultative)",
    "partenaire_ccas_cms": "Partenaire extérieur — CCAS / CMS (voix consultative)",
    "autre": "Autre fonction",
}

# Functions that sit with a consultative voice: they do not count towards
# the quorum (outside partners, and the litigation officer who executes
# what the commission decides).
NON_VOTING_FUNCTIONS: frozenset[str] = frozenset({"gestionnaire_contentieux", "partenaire_ccas_cms"})

LEASE_KINDS: dict[str, str] = {
    "bail_classique": "Bail classique",
    "sous_location": "Sous-location",
    "bail_glissant": "Bail glissant",
}

RELATIONSHIP_KINDS: dict[str, str] = {
    "titulaire": "Titulaire du bail",
    "cotitulaire": "Cotitulaire",
    "conjoint": "Conjoint(e)",
    "enfant": "Enfant",
    "parent": "Parent",
    "autre": "Autre occupant",
}
