"""``cus-desk agencies``: the agencies' contact details, which every fiche
de signalement prints so that the partner can answer.

    cus-desk agencies list [--json]
    cus-desk agencies set NOM [--address TEXTE] [--phone NUMÉRO] [--email ADRESSE]
"""

from __future__ import annotations

from cus_desk.cli.common import CliError, login, open_db, print_json
from cus_desk.domain.partners import fold


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "agencies", help="coordonnées des agences (imprimées sur les fiches de signalement)",
        description="Adresse, téléphone et e-mail de chaque agence : le partenaire qui reçoit une fiche "
                    "de signalement y répond.")
    sub = parser.add_subparsers(title="actions", metavar="ACTION", parser_class=type(parser))

    p = sub.add_parser("list", help="liste les agences et leurs coordonnées")
    p.add_argument("--json", action="store_true", help="sortie JSON (UTF-8)")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("set", help="modifie les coordonnées d'une agence (administrateur)")
    p.add_argument("agency", metavar="AGENCE", help="nom ou code de l'agence (ex. Metz, « DT 54 », forbach)")
    p.add_argument("--address", metavar="TEXTE",
                   help="adresse ; « \\n » sépare les lignes (ex. « 12 rue des Clercs\\n57000 Metz »)")
    p.add_argument("--phone", metavar="NUMÉRO", help="téléphone (vide pour l'effacer)")
    p.add_argument("--email", metavar="ADRESSE", help="e-mail (vide pour l'effacer)")
    p.set_defaults(handler=cmd_set)

    parser.set_defaults(handler=lambda args: (parser.print_help(), 2)[1])


def _service(args):
    from cus_desk.services.agencies import AgencyService

    db = open_db(args)
    return AgencyService(db, login(args, db))


def cmd_list(args) -> int:
    contacts = _service(args).list_contacts()
    if args.json:
        print_json([{"code": c.code, "label": c.label, "town": c.town, "address": c.address,
                     "phone": c.phone, "email": c.email} for c in contacts])
        return 0
    for c in contacts:
        details = " — ".join(x for x in (c.address.replace("\n", ", "), c.phone, c.email) if x)
        missing = f"  [manque : {', '.join(c.missing)}]" if c.missing else ""
        print(f"{c.label:<28} {details or 'coordonnées non renseignées'}{missing}")
    return 0


def cmd_set(args) -> int:
    service = _service(args)
    contacts = service.list_contacts()
    key = fold(args.agency).replace(" ", "").replace("-", "")
    matches = [c for c in contacts if key in {fold(x).replace(" ", "").replace("-", "").replace("_", "")
                                              for x in (c.code, c.label, c.town)}
               or fold(c.label).replace(" ", "").replace("-", "").endswith(key)]
    if len(matches) != 1:
        names = ", ".join(c.label for c in contacts)
        raise CliError(f"Agence « {args.agency} » inconnue ou ambiguë. Agences : {names}.")
    current = matches[0]
    address = current.address if args.address is None else args.address.replace("\\n", "\n")
    phone = current.phone if args.phone is None else args.phone
    email = current.email if args.email is None else args.email
    saved = service.set_contact(current.id, address, phone, email, expected=current)
    print(f"{saved.label} : {' — '.join(x for x in (saved.address.replace(chr(10), ', '), saved.phone, saved.email) if x)}")
    return 0
