"""``cus-desk partners``: the directory of partner structures, headless.

    cus-desk partners list [--agency NAME] [--category CAT] [--search TEXT] [--inactive] [--json]
    cus-desk partners export FICHIER.xlsx [--agency NAME]
    cus-desk partners pdf FICHIER.pdf [--agency NAME]
"""

from __future__ import annotations

from cus_desk.cli.common import CliError, login, open_db, print_json
from cus_desk.domain.partners import fold
from cus_desk.domain.reference import PARTNER_CATEGORIES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "partners", help="structures partenaires (annuaire, vue par agence)",
        description="Annuaire des structures partenaires et intermédiation locative.")
    sub = parser.add_subparsers(title="actions", metavar="ACTION", parser_class=type(parser))

    p = sub.add_parser("list", help="liste les structures partenaires actives")
    p.add_argument("--agency", metavar="NOM", help="agence (ex. Metz, « DT 54 »)")
    p.add_argument("--category", metavar="CAT",
                   help="catégorie (code ou libellé, ex. ccas, hebergement, « Santé mentale »)")
    p.add_argument("--search", metavar="TEXTE", default="",
                   help="recherche dans le nom, le sigle, les communes et les contacts")
    p.add_argument("--inactive", action="store_true", help="inclut les structures désactivées")
    p.add_argument("--json", action="store_true", help="sortie JSON (UTF-8)")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("export", help="exporte l'annuaire en classeur XLSX")
    p.add_argument("file", metavar="FICHIER.xlsx")
    p.add_argument("--agency", metavar="NOM", help="limite l'export à une agence")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("pdf", help="imprime la vue par agence en PDF")
    p.add_argument("file", metavar="FICHIER.pdf")
    p.add_argument("--agency", metavar="NOM", help="agence (toutes si absent)")
    p.set_defaults(handler=cmd_pdf)

    parser.set_defaults(handler=lambda args: _usage(parser))


def _usage(parser) -> int:
    parser.print_help()
    return 2


def _service(args):
    from cus_desk.services.partners import PartnerService

    db = open_db(args)
    return PartnerService(db, login(args, db))


def resolve_agency(service, name: str | None) -> int | None:
    if not name:
        return None
    agencies = service.agencies()
    key = fold(name).replace(" ", "")
    for a in agencies:
        if key in {fold(x).replace(" ", "") for x in (a.name, a.code, a.label)}:
            return a.id
    known = ", ".join(a.name for a in agencies)
    raise CliError(f"Agence « {name} » inconnue. Agences : {known}.")


def resolve_category(name: str | None) -> str | None:
    if not name:
        return None
    key = fold(name)
    for code, label in PARTNER_CATEGORIES.items():
        if key in (fold(code), fold(label)):
            return code
    known = ", ".join(PARTNER_CATEGORIES)
    raise CliError(f"Catégorie « {name} » inconnue. Codes possibles : {known}.")


def cmd_list(args) -> int:
    service = _service(args)
    rows = service.list_partners(args.search, agency_id=resolve_agency(service, args.agency),
                                 category=resolve_category(args.category),
                                 include_inactive=args.inactive)
    if args.json:
        print_json([{
            "id": r.id, "name": r.name, "short_name": r.short_name, "category": r.category,
            "category_label": r.category_label, "agencies": list(r.agencies),
            "commune": r.commune, "communes": list(r.communes), "phone": r.phone,
            "email": r.email, "active": r.active, "merged_into_id": r.merged_into_id,
            "current_conventions": r.current_conventions,
            "expiring_conventions": r.expiring_conventions, "flat_count": r.flat_count,
            "referrals_sent": r.referrals_sent, "referrals_positive": r.referrals_positive,
            "referrals_pending": r.referrals_pending, "cus_flat_count": r.cus_flat_count,
        } for r in rows])
        return 0
    for r in rows:
        flag = " (désactivée)" if not r.active else ""
        print(f"{r.display_name}{flag} — {r.category_label} — {', '.join(r.agencies) or '—'}"
              + (f" — {r.flat_count} logement(s)" if r.flat_count else ""))
    print(f"{len(rows)} structure(s).")
    return 0


def cmd_export(args) -> int:
    service = _service(args)
    path = service.export_xlsx(args.file, resolve_agency(service, args.agency))
    print(f"Classeur enregistré : {path}")
    return 0


def cmd_pdf(args) -> int:
    from pathlib import Path

    if Path(args.file).suffix.lower() != ".pdf":
        raise CliError(f"Le fichier « {args.file} » doit porter l'extension .pdf.")
    service = _service(args)
    path = service.print_agency(args.file, resolve_agency(service, args.agency))
    print(f"PDF enregistré : {path}")
    return 0
