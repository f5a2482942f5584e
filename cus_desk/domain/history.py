"""The audit trail of a case, written for a conseillère (#14): French field
names, status labels instead of codes, dates as dd/mm/yyyy, amounts in
euros; technical keys (ids, hashes, lengths) left out. Pure: the names of
the people are looked up by the service."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from cus_desk.domain.cases import (
    CASE_STATUS_LABELS,
    CONFIDENTIAL_CATEGORIES,
    JOURNAL_KINDS,
    PLAN_STATUSES,
    RECOMMENDATIONS,
    REFERRAL_FAILURE_REASONS,
    REFERRAL_RESULTS,
    REFERRAL_STATUSES,
)
from cus_desk.domain.formatting import format_cents, format_date, format_datetime
from cus_desk.domain.meetings import DECISION_TYPE_LABELS, FOLLOW_UP_LABELS, MEETING_STATUS_LABELS

# The audit trail's mark for a confidential field (services.audit.CONFIDENTIAL_MARK).
CONFIDENTIAL_MARK = "(modifié — contenu confidentiel)"

ENTITY_LABELS: dict[str, str] = {
    "case": "Dossier",
    "household": "Ménage",
    "journal_entry": "Journal",
    "confidential_note": "Note confidentielle",
    "referral": "Orientation",
    "repayment_plan": "Plan d'apurement",
    "decision": "Décision de CAS",
    "agenda_item": "Ordre du jour",
    "meeting": "Séance de CAS",
    "tenant": "Membre du ménage",
    "lease": "Bail",
}

FIELD_LABELS: dict[str, str] = {
    "reference": "Référence",
    "status": "Statut",
    "statut": "Statut",
    "summary": "Situation",
    "situation": "Situation",
    "problems": "Problématiques",
    "adviser_id": "Conseillère",
    "caf_number": "N° allocataire CAF",
    "fsl_number": "N° dossier FSL",
    "ccapex_number": "N° CCAPEX",
    "external_worker_ref": "Travailleur social référent",
    "arrears_cents": "Dette au dossier",
    "arrears_months": "Mois d'impayés",
    "last_payment_on": "Dernier paiement",
    "closure_reason": "Motif de clôture",
    "closed_on": "Clos le",
    "recommendation": "Préconisation",
    "judicial_requested_on": "Demande de résiliation judiciaire",
    "phone": "Téléphone",
    "members": "Membres du ménage",
    "membres": "Membres du ménage",
    "nombre": "Nombre de membres",
    "ajoutes": "Membres ajoutés",
    "modifies": "Membres modifiés",
    "retires": "Membres retirés",
    "kind": "Type",
    "occurred_on": "Date",
    "corrects_id": "Correction d'une entrée",
    "category": "Catégorie",
    "text": "Texte",
    "texte": "Texte",
    "consent_on": "Consentement",
    "sent_on": "Envoyée le",
    "result": "Résultat",
    "failure_reason": "Motif d'échec",
    "outcome": "Suite donnée",
    "agreed_on": "Accord du",
    "monthly_cents": "Mensualité",
    "months": "Durée (mois)",
    "type": "Type de décision",
    "responsible": "Responsable",
    "responsable": "Responsable",
    "due_on": "Échéance",
    "echeance": "Échéance",
    "ordre_du_jour": "Ordre du jour",
    "proposition": "Proposition",
    "proposal": "Proposition",
    "bail": "Bail",
    "acces": "Accès",
    "element": "Élément",
    "operation": "Opération",
    "date": "Date",
    "lieu": "Lieu",
    "suivi": "Suivi",
    "motif": "Motif",
    "case_id": "Rattachement au dossier",
    "conflit": "Conflit d'enregistrement résolu",
    "champs_conserves": "Champs de sa saisie conservés",
}

# Keys that mean nothing to a conseillère (ids, digests, sizes).
HIDDEN_KEYS = frozenset({"version_remplacee", "partner_id", "seance", "releve_sha256", "length", "tenant_id", "id", "version"})

VALUE_LABELS: dict[str, dict] = {
    "status": {**{s.value: label for s, label in CASE_STATUS_LABELS.items()}},
    "recommendation": RECOMMENDATIONS,
    "kind": JOURNAL_KINDS,
    "category": CONFIDENTIAL_CATEGORIES,
    "result": REFERRAL_RESULTS,
    "failure_reason": REFERRAL_FAILURE_REASONS,
    "type": {t.value: label for t, label in DECISION_TYPE_LABELS.items()},
    "statut": {s.value if hasattr(s, "value") else s: label for s, label in MEETING_STATUS_LABELS.items()},
}
# The status of an orientation or a plan uses other codes than a case's.
ENTITY_VALUE_LABELS: dict[tuple[str, str], dict] = {
    ("referral", "status"): REFERRAL_STATUSES,
    ("repayment_plan", "status"): PLAN_STATUSES,
    ("decision", "status"): {s.value if hasattr(s, "value") else s: label for s, label in FOLLOW_UP_LABELS.items()},
}

# What the séance may show on the projector, by the key of the reveal.
REVEAL_ELEMENTS: dict[str, str] = {
    "problematiques": "Problématiques réservées",
    "orientations": "Orientations réservées",
    "famille": "Composition familiale",
    "situation": "Résumé de la situation",
    "journal": "Contenu des dernières entrées du journal",
    "note": "Note réservée",
}
VALUE_LABELS["suivi"] = {s.value if hasattr(s, "value") else s: label for s, label in FOLLOW_UP_LABELS.items()}
VALUE_LABELS["suivi"]["commentaire"] = "commentaire ajouté"

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def entity_label(entity_type: str) -> str:
    return ENTITY_LABELS.get(entity_type, entity_type.replace("_", " ").capitalize())


def field_label(key: str) -> str:
    return FIELD_LABELS.get(key, key.replace("_", " ").capitalize())


def value_text(entity_type: str, key: str, value: Any, adviser_names: dict[int, str] | None = None) -> str:
    """One value as a conseillère reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if key == "element" and isinstance(value, str):
        return REVEAL_ELEMENTS.get(value.split(":", 1)[0], "Élément réservé")
    if isinstance(value, bool):
        return "oui" if value else "non"
    if key == "adviser_id" and adviser_names is not None and isinstance(value, int):
        return adviser_names.get(value, "une autre conseillère")
    if key == "case_id" and isinstance(value, int):
        return "ce dossier"
    if key.endswith("_cents") and isinstance(value, int):
        return format_cents(value)
    labels = ENTITY_VALUE_LABELS.get((entity_type, key)) or VALUE_LABELS.get(key)
    if labels and isinstance(value, str) and value in labels:
        return labels[value]
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, str):
        if _ISO_DATE.match(value):
            return format_date(date.fromisoformat(value))
        if _ISO_DATETIME.match(value):
            try:
                return format_datetime(datetime.fromisoformat(value))
            except ValueError:
                return value
        return value
    if isinstance(value, list):
        return ", ".join(value_text(entity_type, key, v, adviser_names) for v in value)
    return str(value)


def describe(entity_type: str, details: dict, adviser_names: dict[int, str] | None = None) -> str:
    """``{"status": ["ouvert", "a_presenter"]}`` → « Statut : Ouvert → À
    présenter en CAS »; several changes joined by « ; »."""
    parts: list[str] = []
    for key, value in details.items():
        if key in HIDDEN_KEYS or (key == "corrects_id" and not value):
            continue
        label = field_label(key)
        if value == CONFIDENTIAL_MARK:
            parts.append(f"{label} : modifié (contenu confidentiel)")
        elif key == "champs_conserves" and isinstance(value, list):
            parts.append(f"{label} : " + (", ".join(field_label(k) for k in value) or "aucun"))
        elif key in ("modifies", "retires") and isinstance(value, list):
            parts.append(f"{label} : {len(value)}")
        elif key == "corrects_id":
            parts.append("Correction d'une entrée précédente")
        elif isinstance(value, list) and len(value) == 2 and key not in ("modifies", "retires"):
            old, new = (value_text(entity_type, key, v, adviser_names) for v in value)
            if old == "—":
                parts.append(f"{label} : {new}")
            elif new == "—":
                parts.append(f"{label} : {old} → (effacé)")
            else:
                parts.append(f"{label} : {old} → {new}")
        else:
            parts.append(f"{label} : {value_text(entity_type, key, value, adviser_names)}")
    return " ; ".join(parts)
