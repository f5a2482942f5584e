"""Headless access to the seniors feature (administrators' monthly script):

    cus-desk import-arrears FICHIER --extract-date AAAA-MM-JJ [--json] [--sheet NOM]
    cus-desk seniors [--as-of AAAA-MM-JJ] --json
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from cus_desk.cli.common import CliError, login, open_db, print_json


def _iso_date(text: str) -> date:
    import argparse

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"date invalide « {text} » (format attendu AAAA-MM-JJ, ex. 2026-10-31)") from None


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "import-arrears", help="importe un extrait d'impayés (CSV ou XLSX)",
        description="Importe un extrait d'impayés du logiciel de gestion. Les lignes illisibles "
                    "sont rejetées (numéro de ligne et motif) ; un extrait de même date est remplacé.",
        add_help=False)
    p.add_argument("-h", "--help", action="help", help="affiche cette aide et quitte")
    p.add_argument("file", metavar="FICHIER", help="fichier CSV ou XLSX")
    p.add_argument("--extract-date", required=True, type=_iso_date, metavar="AAAA-MM-JJ",
                   help="date de l'extrait")
    p.add_argument("--sheet", metavar="FEUILLE", help="feuille du classeur XLSX (par défaut la première)")
    p.add_argument("--json", action="store_true", help="résultat en JSON")
    p.set_defaults(handler=import_arrears)

    p = subparsers.add_parser(
        "seniors", help="liste les locataires de 65 ans et plus en impayé",
        description="Locataires de 65 ans et plus en impayé selon le dernier extrait à la date "
                    "donnée (par défaut le dernier importé), et ceux dont un signalement est en cours.",
        add_help=False)
    p.add_argument("-h", "--help", action="help", help="affiche cette aide et quitte")
    p.add_argument("--as-of", type=_iso_date, metavar="AAAA-MM-JJ", help="date de référence")
    p.add_argument("--json", action="store_true", help="résultat en JSON")
    p.set_defaults(handler=seniors)


def import_arrears(args) -> int:
    from cus_desk.services.seniors import SeniorsService

    path = Path(args.file)
    if not path.exists():
        raise CliError(f"Le fichier « {path} » est introuvable. Vérifiez le chemin.")
    db = open_db(args)
    try:
        actor = login(args, db)
        result = SeniorsService(db, actor).import_arrears(path, args.extract_date, sheet=args.sheet)
    finally:
        db.dispose()
    if args.json:
        print_json(result.to_json())
    else:
        from cus_desk.domain.formatting import format_date

        verb = "remplacé" if result.replaced else "importé"
        print(f"Extrait du {format_date(result.extract_date)} {verb} : {result.lines_read} lignes lues, "
              f"{result.imported} ménages importés, {len(result.rejected)} lignes rejetées, "
              f"{len(result.warnings)} avertissements.")
        if result.kept_agencies:
            print(f"Lignes remplacées pour : {', '.join(result.replaced_agencies) or 'aucune'} ; "
                  f"conservées pour : {', '.join(result.kept_agencies)}.")
        for item in result.rejected:
            print(f"  ligne {item.line} : {item.reason}")
        for item in result.warnings:
            print(f"  ligne {item.line} (avertissement) : {item.reason}")
    return 0


def seniors(args) -> int:
    from cus_desk.domain.formatting import format_cents, format_date
    from cus_desk.services.seniors import SeniorsService

    db = open_db(args)
    try:
        actor = login(args, db)
        listing = SeniorsService(db, actor).list_seniors(args.as_of)
    finally:
        db.dispose()
    if args.json:
        print_json([row.to_json() for row in listing.rows])
        return 0
    if listing.extract_date is None and not listing.rows:
        print("Aucun extrait d'impayés importé à cette date.", file=sys.stderr)
        return 0
    print(f"Extrait du {format_date(listing.extract_date)} : {len(listing.rows)} locataire(s) de 65 ans et plus.")
    for r in listing.rows:
        first = "  PREMIER IMPAYÉ" if r.first_arrears else "  historique inconnu" if r.history_unknown else ""
        print(f"{r.contract:16} {r.age or '':>3} ans  {r.agency:12} {format_cents(r.balance_cents):>14}  "
              f"{r.months_unpaid if r.months_unpaid is not None else '-':>2} mois  {r.status_label}{first}")
    return 0
