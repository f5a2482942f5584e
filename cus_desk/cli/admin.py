"""Headless administration:

    cus-desk init [--login admin] [--name "..."]
    cus-desk users add LOGIN --role ROLE [--agency NAME] [--name "..."]
    cus-desk users list [--json]
    cus-desk users reset-password LOGIN | unlock LOGIN | disable LOGIN | enable LOGIN
    cus-desk password                      (change one's own password)
    cus-desk audit verify | list [...] | purge [--dry-run]
    cus-desk purge [--dry-run] [--json] [--supprimer-copies]
    cus-desk backup [FILE]
    cus-desk restore FILE
    cus-desk export-person --find TEXT | --tenant ID [--json FILE] [--pdf FILE]
    cus-desk stats ANNÉE FICHIER.csv|.xlsx

Every command authenticates (CUS_DESK_USER / CUS_DESK_PASSWORD or a
prompt); the services check what the account may do.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from cus_desk.cli.common import (
    CliError,
    database_url,
    login,
    may_create,
    open_db,
    print_json,
    program_clock,
)
from cus_desk.domain.formatting import format_date, format_datetime
from cus_desk.domain.roles import Role

ROLE_HELP = ", ".join(r.value for r in Role)


def register(subparsers) -> None:
    parser_class = None

    def sub_of(parser, title="commandes"):
        nonlocal parser_class
        parser_class = type(parser)
        sub = parser.add_subparsers(title=title, metavar="COMMANDE", parser_class=parser_class)

        def _usage(_args) -> int:
            parser.print_help(sys.stderr)
            return 2

        parser.set_defaults(handler=_usage)
        return sub

    init = subparsers.add_parser(
        "init", help="crée une base et son compte administrateur",
        description="Crée la base (si besoin) et son administrateur. Mot de passe : variable "
                    "CUS_DESK_PASSWORD, sinon demandé deux fois.")
    init.add_argument("--login", default="admin", help="identifiant de l'administrateur (admin)")
    init.add_argument("--name", default="Administrateur", help="nom affiché")
    init.set_defaults(handler=cmd_init)

    users = subparsers.add_parser("users", help="comptes utilisateurs (administrateur)",
                                  description="Gestion des comptes (réservée à l'administrateur).")
    us = sub_of(users)
    add = us.add_parser("add", help="crée un compte (mot de passe provisoire affiché une fois)")
    add.add_argument("login", metavar="IDENTIFIANT")
    add.add_argument("--role", required=True, metavar="RÔLE", help=f"un de : {ROLE_HELP}")
    add.add_argument("--agency", metavar="AGENCE", help="agence (obligatoire pour une conseillère)")
    add.add_argument("--name", metavar="NOM", default="", help="nom affiché")
    add.set_defaults(handler=cmd_users_add)
    listing = us.add_parser("list", help="liste les comptes")
    listing.add_argument("--json", action="store_true", help="sortie JSON (UTF-8)")
    listing.set_defaults(handler=cmd_users_list)
    for name, help_text, handler in [
        ("reset-password", "donne un nouveau mot de passe provisoire (à changer à la connexion)",
         cmd_users_reset),
        ("unlock", "déverrouille un compte bloqué après 5 essais", cmd_users_unlock),
        ("disable", "désactive un compte (il ne peut plus se connecter)", cmd_users_disable),
        ("enable", "réactive un compte", cmd_users_enable),
    ]:
        p = us.add_parser(name, help=help_text)
        p.add_argument("login", metavar="IDENTIFIANT")
        p.set_defaults(handler=handler)

    password = subparsers.add_parser(
        "password", help="change votre mot de passe",
        description="Change le mot de passe du compte connecté. Le nouveau est demandé deux "
                    "fois (ou pris dans CUS_DESK_NEW_PASSWORD).")
    password.set_defaults(handler=cmd_password)

    aud = subparsers.add_parser("audit", help="journal d'audit (administrateur)",
                                description="Journal d'audit chaîné (administrateur).")
    au = sub_of(aud)
    verify = au.add_parser("verify", help="vérifie la chaîne ; code 1 et premier lien rompu si altérée")
    verify.set_defaults(handler=cmd_audit_verify)
    alist = au.add_parser("list", help="affiche les événements (les plus récents d'abord)")
    alist.add_argument("--user", metavar="IDENTIFIANT")
    alist.add_argument("--case", type=int, metavar="ID", help="identifiant du dossier")
    alist.add_argument("--from", dest="date_from", metavar="JJ/MM/AAAA")
    alist.add_argument("--to", dest="date_to", metavar="JJ/MM/AAAA")
    alist.add_argument("--limit", type=int, default=100, metavar="N")
    alist.add_argument("--json", action="store_true", help="sortie JSON (UTF-8)")
    alist.set_defaults(handler=cmd_audit_list)
    apurge = au.add_parser("purge", help="purge les événements plus anciens que la durée de conservation")
    apurge.add_argument("--dry-run", action="store_true", help="affiche sans rien supprimer")
    apurge.set_defaults(handler=cmd_audit_purge)

    purge = subparsers.add_parser(
        "purge", help="purge RGPD (dossiers clos, extraits, signalements, journal)",
        description="Applique les durées de conservation : anonymise les dossiers clos anciens, "
                    "supprime les extraits d'impayés et signalements clos anciens, purge le journal.")
    purge.add_argument("--dry-run", action="store_true", help="liste ce qui partirait, sans rien changer")
    purge.add_argument("--json", action="store_true", help="sortie JSON (UTF-8)")
    purge.add_argument("--supprimer-copies", action="store_true", dest="delete_copies",
                       help="supprime aussi les sauvegardes et copies de la base écrites avant la purge "
                            "(elles contiennent encore les données purgées)")
    purge.set_defaults(handler=cmd_purge)

    backup = subparsers.add_parser(
        "backup", help="sauvegarde la base",
        description="Copie cohérente de la base (API de sauvegarde SQLite), dans FICHIER ou dans "
                    "le dossier des sauvegardes.")
    backup.add_argument("file", nargs="?", metavar="FICHIER")
    backup.set_defaults(handler=cmd_backup)

    restore = subparsers.add_parser(
        "restore", help="restaure une sauvegarde (contrôlée avant de remplacer quoi que ce soit)",
        description="Vérifie l'intégrité et la version du fichier, met la base actuelle de côté, "
                    "puis la remplace. Fermez CUS Desk sur tous les postes avant.")
    restore.add_argument("file", metavar="FICHIER")
    restore.add_argument("--force", action="store_true",
                         help="restaurer même si le journal d'audit de la sauvegarde est altéré")
    restore.set_defaults(handler=cmd_restore)

    export = subparsers.add_parser(
        "export-person", help="droit d'accès : toutes les données d'une personne (JSON, PDF)",
        description="Droit d'accès RGPD : cherchez la personne (--find), puis exportez-la (--tenant).")
    group = export.add_mutually_exclusive_group(required=True)
    group.add_argument("--find", metavar="TEXTE", help="nom ou n° de contrat")
    group.add_argument("--tenant", type=int, metavar="ID", help="identifiant de la personne")
    export.add_argument("--json", dest="json_file", metavar="FICHIER.json")
    export.add_argument("--pdf", dest="pdf_file", metavar="FICHIER.pdf")
    export.set_defaults(handler=cmd_export_person)

    stats = subparsers.add_parser("stats", help="export statistique anonyme d'une année (CSV ou XLSX)")
    stats.add_argument("year", type=int, metavar="ANNÉE")
    stats.add_argument("file", metavar="FICHIER")
    stats.set_defaults(handler=cmd_stats)


# --- helpers ------------------------------------------------------------------------


def _session(args):
    from cus_desk.services import auth

    db = open_db(args)
    actor = login(args, db)
    if not getattr(args, "demo", False) and auth.must_change_password(db, actor):
        # A temporary password opens nothing but its change (the services refuse too).
        raise CliError("Votre mot de passe est provisoire : changez-le d'abord avec "
                       "« cus-desk password » ; rien d'autre n'a été fait.")
    return db, actor


def _new_password(prompt: str = "Nouveau mot de passe : ") -> str:
    env = os.environ.get("CUS_DESK_NEW_PASSWORD")
    if env:
        return env
    if not (sys.stdin is not None and sys.stdin.isatty()):
        raise CliError("Nouveau mot de passe manquant : définissez CUS_DESK_NEW_PASSWORD "
                       "ou lancez la commande dans un terminal.")
    first = getpass.getpass(prompt)
    second = getpass.getpass("Confirmez-le : ")
    if first != second:
        raise CliError("Les deux saisies sont différentes : rien n'a été changé.")
    return first


def _parse_day(text: str | None):
    if not text:
        return None
    from cus_desk.domain.parsing import ParseError, parse_date

    try:
        return parse_date(text)
    except ParseError as exc:
        raise CliError(f"Date invalide : {exc}. Format attendu : JJ/MM/AAAA.") from None


def _users(args):
    from cus_desk.services.users import UsersService

    db, actor = _session(args)
    return UsersService(db, actor)


# --- commands -----------------------------------------------------------------------


def cmd_init(args) -> int:
    from cus_desk.services import auth
    from cus_desk.store.db import open_database

    if getattr(args, "demo", False):
        raise CliError("La base de démonstration a déjà ses comptes (mot de passe « demo »).")
    url = database_url(args)
    db = open_database(url, clock=program_clock(args), create=may_create(url, args))
    try:
        if not auth.needs_first_admin(db):
            raise CliError(f"La base « {db.display_name} » a déjà un administrateur : "
                           "rien n'a été changé.")
        password = os.environ.get("CUS_DESK_PASSWORD")
        if password is None:
            if not (sys.stdin is not None and sys.stdin.isatty()):
                raise CliError("Mot de passe manquant : définissez CUS_DESK_PASSWORD.")
            password = getpass.getpass("Mot de passe de l'administrateur : ")
            if getpass.getpass("Confirmez-le : ") != password:
                raise CliError("Les deux saisies sont différentes : rien n'a été créé.")
        actor = auth.create_first_admin(db, args.login, args.name, password)
        print(f"Base prête : {db.display_name}\nAdministrateur : {actor.login}")
    finally:
        db.dispose()
    return 0


def cmd_users_add(args) -> int:
    svc = _users(args)
    agency_id = svc.agency_id_by_name(args.agency) if args.agency else None
    info, temporary = svc.add(args.login, args.name, args.role, agency_id)
    print(f"Compte créé : {info.login} ({info.role_label}"
          + (f", {info.agency_name}" if info.agency_name else "") + ")")
    print(f"Mot de passe provisoire (à transmettre, à changer à la première connexion) : {temporary}")
    return 0


def cmd_users_list(args) -> int:
    users = _users(args).list_users()
    if args.json:
        print_json([u.as_dict() for u in users])
        return 0
    for u in users:
        state = "actif" if u.active else "désactivé"
        if u.locked:
            state += ", verrouillé"
        if u.must_change_password:
            state += ", mot de passe provisoire"
        last = format_datetime(u.last_login_at) or "jamais connecté"
        agency = f" — {u.agency_name}" if u.agency_name else ""
        print(f"{u.login:<22} {u.display_name} — {u.role_label}{agency} — {state} — {last}")
    return 0


def cmd_users_reset(args) -> int:
    svc = _users(args)
    temporary = svc.reset_password(svc.by_login(args.login).id)
    print(f"Nouveau mot de passe provisoire de {args.login} (à changer à la connexion) : {temporary}")
    return 0


def cmd_users_unlock(args) -> int:
    svc = _users(args)
    svc.unlock(svc.by_login(args.login).id)
    print(f"Compte {args.login} déverrouillé.")
    return 0


def cmd_users_disable(args) -> int:
    svc = _users(args)
    svc.set_active(svc.by_login(args.login).id, False)
    print(f"Compte {args.login} désactivé.")
    return 0


def cmd_users_enable(args) -> int:
    svc = _users(args)
    svc.set_active(svc.by_login(args.login).id, True)
    print(f"Compte {args.login} réactivé.")
    return 0


def cmd_password(args) -> int:
    from cus_desk.services import auth

    if getattr(args, "demo", False):
        raise CliError("Les comptes de démonstration gardent le mot de passe « demo ».")
    db = open_db(args)
    actor = login(args, db)
    old = os.environ.get("CUS_DESK_PASSWORD") or getpass.getpass("Mot de passe actuel : ")
    auth.change_password(db, actor, old, _new_password())
    print("Mot de passe changé.")
    return 0


def cmd_audit_verify(args) -> int:
    from cus_desk.services.audit_admin import AuditAdminService

    db, actor = _session(args)
    report = AuditAdminService(db, actor).verify()
    if report.ok:
        print(report.message)
        return 0
    sys.stderr.write("cus-desk : Journal d'audit altéré :\n")
    for problem in report.problems or (report.reason,):
        sys.stderr.write(f"  - {problem}\n")
    for note in report.notes:
        print(note)
    if report.broken_event_id is not None:
        print(f"Premier lien rompu : événement n° {report.broken_event_id}")
    return 1


def cmd_audit_list(args) -> int:
    from cus_desk.services.audit_admin import AuditAdminService, AuditFilter

    db, actor = _session(args)
    flt = AuditFilter(user=args.user, case_id=args.case, date_from=_parse_day(args.date_from),
                      date_to=_parse_day(args.date_to))
    rows = AuditAdminService(db, actor).query(flt, limit=max(1, args.limit))
    if args.json:
        print_json([r.as_dict() for r in rows])
        return 0
    for r in rows:
        case = f" dossier {r.case_id}" if r.case_id else ""
        print(f"{r.id:>7}  {format_datetime(r.occurred_at)}  {r.user_login:<18} {r.action_label}"
              f" {r.entity_type} {r.entity_id}{case}  {r.details_text}".rstrip())
    return 0


def cmd_audit_purge(args) -> int:
    from cus_desk.services.audit_admin import AuditAdminService

    db, actor = _session(args)
    svc = AuditAdminService(db, actor)
    result = svc.purge_preview() if args.dry_run else svc.purge()
    print(result.message)
    return 0


def cmd_purge(args) -> int:
    from cus_desk.services.retention import RetentionService

    db, actor = _session(args)
    svc = RetentionService(db, actor)
    if args.dry_run:
        plan = svc.preview()
        if args.json:
            print_json({"a_purger": plan.counts,
                        "elements": [{"type": i.kind, "id": i.entity_id, "libelle": i.label}
                                     for i in plan.items]})
            return 0
        if plan.total == 0:
            print("Rien à purger aujourd'hui.")
            return 0
        print("Purge à blanc (rien n'est modifié) :")
        for line in plan.summary_lines():
            print(f"  {line}")
        for item in plan.items:
            print(f"  - {item.label}")
        return 0
    report = svc.purge()
    deleted = svc.delete_copies([c.path for c in report.copies]) if args.delete_copies and report.copies else []
    left = [c for c in report.copies if c.path not in deleted]
    if args.json:
        print_json({"purges": report.counts, "non_purges": report.skipped,
                    "personnes_supprimees": report.people_deleted, "baux_supprimes": report.leases_deleted,
                    "evenements_expurges": report.audit_redacted,
                    "releves_regeneres": report.archives_regenerated, "remarques": report.notes,
                    "copies_supprimees": [str(p) for p in deleted],
                    "copies_avec_donnees_purgees": [str(c.path) for c in left]})
        return 0
    print("Purge effectuée :")
    for line in report.summary_lines():
        print(f"  {line}")
    for line in report.skipped + report.notes:
        print(f"  ! {line}")
    for path in deleted:
        print(f"  Copie supprimée : {path}")
    if left:
        print(f"{len(left)} sauvegarde(s) ou copie(s) de la base, écrite(s) avant la purge, contiennent "
              "encore les données purgées :")
        for c in left:
            print(f"  - {c.path}")
        print("Supprimez-les avec « cus-desk purge --supprimer-copies » (ou depuis Administration › "
              "Purge des données) si vous n'en avez plus besoin.")
    return 0


def cmd_backup(args) -> int:
    from cus_desk.services.backup import BackupService

    db, actor = _session(args)
    info = BackupService(db, actor).backup(args.file)
    print(f"Sauvegarde écrite : {info.path} ({info.size // 1024} Kio)")
    return 0


def cmd_restore(args) -> int:
    from cus_desk.domain.errors import DatabaseOpenError
    from cus_desk.services import backup
    from cus_desk.store.db import check_sqlite_file

    url = database_url(args)
    target_path = backup.sqlite_path_of(url)
    if target_path is None:
        raise CliError("La restauration ne concerne qu'une base SQLite (un fichier).")
    source = Path(args.file)
    backup.check_backup_file(source)  # before anything else: a bad file changes nothing
    from cus_desk.services import audit_restore

    chain = audit_restore.backup_chain_report(source)
    if not chain.ok:
        sys.stderr.write(f"cus-desk : attention : {audit_restore.warning_text(source, chain)}\n")
        if not args.force:
            raise CliError("Restauration refusée : relancez avec --force pour restaurer quand même "
                           "cette sauvegarde (la restauration sera tracée).")
    try:
        check_sqlite_file(target_path)
        healthy = target_path.exists()
    except DatabaseOpenError:
        healthy = False
    if healthy:
        db, actor = _session(args)
        result = backup.BackupService(db, actor).restore(source, force=args.force)
    else:
        # The current base is damaged: an administrator of THIS base is checked
        # in it, read-only; only if its accounts are unreadable does the backup's
        # administrator unlock a recovery (services.backup.authorise_damaged_restore).
        if backup.current_accounts_readable(target_path):
            sys.stderr.write("cus-desk : base actuelle endommagée ; identifiez-vous comme "
                             "administrateur de cette base.\n")
        else:
            sys.stderr.write("cus-desk : base actuelle illisible ; restauration de secours : "
                             "identifiez-vous comme administrateur de la sauvegarde.\n")
        user = os.environ.get("CUS_DESK_USER") or input("Identifiant : ").strip()
        password = os.environ.get("CUS_DESK_PASSWORD") or getpass.getpass("Mot de passe : ")
        result = backup.restore_damaged(url, source, user, password, program_clock(args), force=args.force)
    print(f"Base restaurée depuis {result.restored_from}.")
    if result.kept_aside:
        print(f"L'ancienne base est conservée : {result.kept_aside}")
    return 0


def cmd_export_person(args) -> int:
    from cus_desk.services.person_export import PersonExportService, withheld_note

    db, actor = _session(args)
    svc = PersonExportService(db, actor)
    if args.find:
        matches = svc.find(args.find)
        if not matches:
            print("Aucune personne trouvée (dans les ménages que vous pouvez exporter).")
        for m in matches:
            born = f", née/né le {format_date(m.birth_date)}" if m.birth_date else ""
            contracts = ", ".join(m.contract_numbers) or "sans bail"
            print(f"{m.tenant_id:>7}  {m.name}{born} — {m.agency} — {contracts}")
        return 0
    if not args.json_file and not args.pdf_file:
        raise CliError("Indiquez --json FICHIER et/ou --pdf FICHIER.")
    if args.json_file:
        export = svc.export_json(args.tenant, args.json_file)
        print(f"Données de {export.name} écrites dans {args.json_file}")
    if args.pdf_file:
        export = svc.export_pdf(args.tenant, args.pdf_file)
        print(f"Document pour {export.name} écrit dans {args.pdf_file}")
    note = withheld_note(export).strip()
    if note:
        print(note)
    return 0


def cmd_stats(args) -> int:
    from cus_desk.services.stats import StatsService

    db, actor = _session(args)
    rows = StatsService(db, actor).export(args.year, args.file)
    print(f"Statistiques {args.year} écrites dans {args.file} ({len(rows)} lignes, sans nom "
          "ni n° de contrat).")
    return 0
