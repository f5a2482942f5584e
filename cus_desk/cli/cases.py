"""Headless access to the case files (administrators' scripts):

    cus-desk cases list [--agency NOM] [--status STATUT] [--search TEXTE] [--json]
    cus-desk cases show CAS-2026-0042 [--json]

Confidential notes are never part of this output."""

from __future__ import annotations

import sys

from cus_desk.cli.common import CliError, login, open_db, print_json
from cus_desk.domain.cases import PROBLEMS, CaseStatus
from cus_desk.domain.formatting import format_cents, format_date

PAGE = 1000


def register(subparsers) -> None:
    cases = subparsers.add_parser(
        "cases", help="dossiers CAS", description="Dossiers CAS (sans les notes confidentielles)."
    )
    sub = cases.add_subparsers(title="commandes", metavar="COMMANDE")

    def _usage(_args) -> int:
        cases.print_help(sys.stderr)
        return 2

    cases.set_defaults(handler=_usage)
    listing = sub.add_parser("list", help="liste les dossiers (les plus récents d'abord)")
    listing.add_argument("--agency", metavar="AGENCE", help="nom ou code de l'agence (ex. Metz, « DT 54 »)")
    listing.add_argument("--status", metavar="STATUT",
                         help="ouvert, a_presenter, preconisation, action_definie, en_suivi ou clos")
    listing.add_argument("--search", metavar="TEXTE", default="",
                         help="nom, n° de contrat ou référence")
    listing.add_argument("--limit", type=int, metavar="N", help="au plus N dossiers")
    listing.add_argument("--json", action="store_true", help="sortie JSON (UTF-8)")
    listing.set_defaults(handler=cmd_list)

    show = sub.add_parser("show", help="affiche un dossier (sans les notes confidentielles)")
    show.add_argument("reference", metavar="RÉFÉRENCE", help="ex. CAS-2026-0042")
    show.add_argument("--json", action="store_true", help="sortie JSON (UTF-8)")
    show.set_defaults(handler=cmd_show)


def _service(args):
    from cus_desk.services.cases import CaseService

    db = open_db(args)
    return CaseService(db, login(args, db))


def _agency_id(service, name: str | None) -> int | None:
    if name is None:
        return None
    wanted = name.strip().casefold()
    choices = service.agencies()
    for c in choices:
        if wanted in (c.label.casefold(), (c.code or "").casefold()):
            return c.id
    known = ", ".join(c.label for c in choices)
    raise CliError(f"Agence inconnue : « {name} ». Agences : {known}.")


def _status(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return CaseStatus(value.strip()).value
    except ValueError:
        known = ", ".join(s.value for s in CaseStatus)
        raise CliError(f"Statut inconnu : « {value} ». Statuts : {known}.") from None


def cmd_list(args) -> int:
    from cus_desk.services.cases import CaseFilter

    if args.limit is not None and args.limit < 1:
        raise CliError("--limit attend un nombre entier positif.")
    service = _service(args)
    flt = CaseFilter(agency_id=_agency_id(service, args.agency), status=_status(args.status),
                     search=args.search or "")
    rows = []
    offset = 0
    while True:
        size = PAGE if args.limit is None else min(PAGE, args.limit - len(rows))
        page = service.list_cases(flt, "reference", True, offset, size)
        rows.extend(page)
        offset += len(page)
        if len(page) < size or (args.limit is not None and len(rows) >= args.limit):
            break
    if args.json:
        print_json([
            {
                "reference": r.reference,
                "titulaire": r.holder_name,
                "contrat": r.contract_number,
                "commune": r.commune,
                "agence": r.agency_name,
                "statut": r.status,
                "problematiques": list(r.problems),
                "conseillere": r.adviser_name,
                "impaye_cents": r.arrears_cents,
                "derniere_activite": r.last_activity_on.isoformat() if r.last_activity_on else None,
                "ouvert_le": r.opened_on.isoformat(),
                "orientations_en_retard": r.overdue_referrals,
            }
            for r in rows
        ])
        return 0
    out = sys.stdout
    out.reconfigure(encoding="utf-8")
    if not rows:
        out.write("Aucun dossier.\n")
        return 0
    for r in rows:
        out.write(
            f"{r.reference:<15} {r.status_label:<20} {r.agency_name:<12} {r.holder_name[:32]:<32} "
            f"{r.contract_number:<16} {format_cents(r.arrears_cents):>14}\n"
        )
    out.write(f"{len(rows)} dossier(s).\n")
    return 0


def cmd_show(args) -> int:
    service = _service(args)
    case_id = service.find_by_reference(args.reference)
    detail = service.get(case_id)
    data = detail.to_public_dict()
    if args.json:
        print_json(data)
        return 0
    out = sys.stdout
    out.reconfigure(encoding="utf-8")
    out.write(f"{detail.reference} — {detail.holder_name}\n")
    out.write(f"Agence : {detail.agency_name} · Statut : {detail.status_label}\n")
    out.write(f"Ouvert le {format_date(detail.opened_on)}"
              + (f" · Référente : {detail.adviser_name}" if detail.adviser_name else "") + "\n")
    out.write("Problématiques : " + ", ".join(PROBLEMS[p] for p in detail.problems) + "\n")
    if detail.arrears_cents is not None:
        out.write(f"Impayé : {format_cents(detail.arrears_cents)}"
                  + (f" ({detail.arrears_months} mois)" if detail.arrears_months else "") + "\n")
    if detail.summary:
        out.write(f"Situation : {detail.summary}\n")
    for r in detail.referrals:
        out.write(f"Orientation du {format_date(r.sent_on)} vers {r.partner_name} : {r.status_label}"
                  + (f", {r.result_label}" if r.result else "") + (" — EN RETARD" if r.overdue else "") + "\n")
    for j in detail.journal[:10]:
        out.write(f"{format_date(j.occurred_on)} {j.kind_label} ({j.author_name}) : {j.text[:200]}\n")
    return 0
