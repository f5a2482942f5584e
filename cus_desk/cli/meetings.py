"""Headless access to the CAS sessions:

    cus-desk meetings list [--year 2026] [--status cloturee] [--json]
    cus-desk meetings suivi [--tout] [--mes] [--json]
    cus-desk meetings decider 3/2026 CAS-2026-0042 plan_apurement --responsable "Pôle social"
        [--texte T] [--echeance jj/mm/aaaa] [--confirme]
        [--creer-effet (--partenaire ID | --mensualite 80,00 --mois 12)]
    cus-desk releve 3/2026 -o releve.pdf
    cus-desk releve 3/2026 --version 1 -o releve-signe.pdf
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cus_desk.cli.common import CliError, login, open_db, print_json
from cus_desk.domain.formatting import format_date
from cus_desk.domain.meetings import MeetingStatus


def register(subparsers) -> None:
    meetings = subparsers.add_parser(
        "meetings", help="séances de la Commission d'Action Sociale",
        description="Séances de la Commission d'Action Sociale (CAS).",
    )
    sub = meetings.add_subparsers(title="commandes", metavar="COMMANDE")

    def _usage(_args) -> int:
        meetings.print_help(sys.stderr)
        return 2

    meetings.set_defaults(handler=_usage)
    listing = sub.add_parser("list", help="liste les séances (les plus récentes d'abord)")
    listing.add_argument("--year", type=int, metavar="ANNÉE", help="seulement cette année")
    listing.add_argument("--status", metavar="STATUT",
                         help="preparee, en_cours ou cloturee")
    listing.add_argument("--json", action="store_true", help="sortie JSON (UTF-8)")
    listing.set_defaults(handler=cmd_list)

    follow = sub.add_parser("suivi", help="décisions à suivre (en retard d'abord)")
    follow.add_argument("--tout", action="store_true", help="inclure les décisions closes")
    follow.add_argument("--mes", action="store_true",
                        help="mes décisions à suivre (confiées à moi ou à un service dont je réponds)")
    follow.add_argument("--json", action="store_true", help="sortie JSON (UTF-8)")
    follow.set_defaults(handler=cmd_follow_up)

    decide = sub.add_parser(
        "decider", help="enregistre une décision pendant la séance (quorum atteint)",
        description="Enregistre une décision de la CAS sur un dossier de l'ordre du jour d'une "
                    "séance ouverte. Le responsable est une personne (compte) ou un service de la "
                    "liste. Une demande de résiliation judiciaire exige une motivation et --confirme ; "
                    "--creer-effet crée l'orientation, la saisine (FSL, CCAPEX) ou le plan "
                    "d'apurement que la décision implique.",
    )
    decide.add_argument("meeting", metavar="SÉANCE", help="numéro/année (ex. 3/2026) ou identifiant")
    decide.add_argument("case", metavar="DOSSIER", help="référence du dossier (ex. CAS-2026-0042)")
    decide.add_argument("type", metavar="TYPE", help="type de décision (ex. saisine_fsl, plan_apurement)")
    decide.add_argument("--responsable", default="", metavar="NOM",
                        help="personne ou service de la liste (ex. « Pôle social »)")
    decide.add_argument("--texte", default="", metavar="TEXTE", help="texte (motivation) de la décision")
    decide.add_argument("--echeance", metavar="JJ/MM/AAAA", help="échéance")
    decide.add_argument("--confirme", action="store_true", help="confirme une décision grave")
    decide.add_argument("--creer-effet", action="store_true", dest="effect",
                        help="crée ce que la décision implique dans le dossier")
    decide.add_argument("--partenaire", type=int, metavar="ID", help="structure saisie (orientation, FSL, CCAPEX)")
    decide.add_argument("--mensualite", metavar="MONTANT", help="mensualité du plan d'apurement (ex. 80,00)")
    decide.add_argument("--mois", type=int, metavar="N", help="durée du plan d'apurement en mois")
    decide.set_defaults(handler=cmd_decide)

    releve = subparsers.add_parser(
        "releve", help="écrit le relevé de décisions d'une séance en PDF",
        description="Écrit le relevé de décisions d'une séance (le fichier archivé pour une "
                    "séance clôturée, un projet sinon).",
    )
    releve.add_argument("meeting", metavar="SÉANCE",
                        help="numéro/année (ex. 3/2026) ou identifiant de la séance")
    releve.add_argument("-o", "--output", required=True, metavar="FICHIER.pdf",
                        help="fichier PDF à écrire")
    releve.add_argument("--version", type=int, metavar="K", dest="releve_version",
                        help="version archivée à réimprimer (1 = celle établie à la clôture et "
                             "signée ; chaque rectificatif en ajoute une ; défaut : la dernière)")
    releve.set_defaults(handler=cmd_releve)


def _service(args):
    from cus_desk.services.meetings import MeetingService

    db = open_db(args)
    return MeetingService(db, login(args, db))


def cmd_list(args) -> int:
    if args.status is not None and args.status not in {s.value for s in MeetingStatus}:
        raise CliError(
            f"Statut de séance inconnu : « {args.status} ». Valeurs possibles : "
            "preparee, en_cours, cloturee."
        )
    rows = _service(args).list_meetings(year=args.year, status=args.status)
    if args.json:
        print_json([
            {
                "id": r.id,
                "numero": r.number,
                "annee": r.year,
                "libelle": r.label,
                "date": r.held_on.isoformat(),
                "lieu": r.place,
                "perimetre": r.scope_label,
                "statut": r.status,
                "statut_libelle": r.status_label,
                "dossiers": r.agenda_count,
                "decisions": r.decision_count,
            }
            for r in rows
        ])
        return 0
    if not rows:
        print("Aucune séance.")
    for r in rows:
        print(f"{r.label:<16} {format_date(r.held_on)}  {r.status_label:<10} "
              f"{r.agenda_count:>3} dossier(s)  {r.decision_count:>3} décision(s)  {r.place}")
    return 0


def cmd_follow_up(args) -> int:
    svc = _service(args)
    rows = svc.my_decisions(include_closed=args.tout) if args.mes else svc.follow_up_list(include_closed=args.tout)
    if args.json:
        print_json([
            {
                "id": d.id,
                "seance": d.meeting_label,
                "dossier": d.case_reference,
                "menage": d.household,
                "type": d.type,
                "type_libelle": d.type_label,
                "texte": d.text,
                "responsable": d.responsible,
                "echeance": d.due_on.isoformat() if d.due_on else None,
                "statut": d.status,
                "en_retard": d.overdue,
            }
            for d in rows
        ])
        return 0
    for d in rows:
        late = " EN RETARD" if d.overdue else ""
        print(f"{d.case_reference}  {d.type_label} — {d.responsible or '—'} — "
              f"échéance {format_date(d.due_on) or '—'} — {d.status_label}{late}")
    return 0


def cmd_releve(args) -> int:
    target = Path(args.output).expanduser()
    if target.is_dir():
        raise CliError(f"« {target} » est un dossier : donnez un nom de fichier (ex. releve.pdf).")
    if not target.parent.exists():
        raise CliError(f"Le dossier « {target.parent} » n'existe pas : créez-le ou choisissez-en un autre.")
    svc = _service(args)
    meeting = svc.find_meeting(args.meeting)
    releve = svc.releve(meeting.id, version=args.releve_version)
    tmp = target.with_name(target.name + ".part")
    try:
        tmp.write_bytes(releve.pdf)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CliError(f"Impossible d'écrire « {target} » ({exc.strerror}). "
                       "Vérifiez les droits ou choisissez un autre fichier.") from exc
    if releve.archived:
        kind = f"relevé archivé, version {releve.version}"
        kind += " (la dernière)" if releve.latest else " (rectifiée depuis)"
    else:
        kind = "projet de relevé (séance non clôturée)"
    sys.stderr.write(f"{meeting.label} : {kind} écrit dans {target} (SHA-256 {releve.sha256}).\n")
    return 0


def cmd_decide(args) -> int:
    from cus_desk.domain.parsing import ParseError, parse_amount_cents, parse_date
    from cus_desk.services.decision_effects import EffectRequest

    due = None
    if args.echeance:
        try:
            due = parse_date(args.echeance)
        except ParseError:
            raise CliError(f"Échéance illisible « {args.echeance} » : écrivez-la jj/mm/aaaa.") from None
    effect = None
    if args.effect:
        monthly = None
        if args.mensualite is not None:
            try:
                monthly = parse_amount_cents(args.mensualite)
            except ParseError:
                raise CliError(f"Mensualité illisible « {args.mensualite} » (ex. 80,00).") from None
        effect = EffectRequest(partner_id=args.partenaire, monthly_cents=monthly, months=args.mois)
    elif args.partenaire is not None or args.mensualite is not None or args.mois is not None:
        raise CliError("--partenaire, --mensualite et --mois vont avec --creer-effet.")
    svc = _service(args)
    meeting = svc.find_meeting(args.meeting)
    case = svc.find_case(args.case)
    d = svc.add_decision(meeting.id, case.case_id, args.type, args.texte, args.responsable, due,
                         confirmed=args.confirme, effect=effect)
    made = " ; orientation créée" if d.referral_id else " ; plan d'apurement créé" if d.repayment_plan_id else ""
    print(f"{meeting.label} — {d.case_reference} : {d.type_label} — {d.responsible or '—'}{made}.")
    return 0
