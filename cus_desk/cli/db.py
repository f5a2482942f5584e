"""The store's schema, an administrator's business:

    cus-desk --db URL db upgrade    (create the schema in an empty store, or
                                      bring an older one to this version)
    cus-desk --db URL db status     (which schema the store has, which this
                                      program expects)
    cus-desk --db FILE db copy --to URL   (a pilot's store moved to the server)

On a shared PostgreSQL server, opening the store never changes its schema:
clients refuse an empty, older or newer one and say what to do; the
administrator runs ``db upgrade`` once, other workstations closed, after a
backup. A SQLite file (one PC) is still upgraded when opened.
These commands use the database account of the URL (no CUS Desk sign-in:
an empty store has no users yet)."""

from __future__ import annotations

from cus_desk.cli.common import database_url, print_json, program_clock


def register(subparsers) -> None:
    db = subparsers.add_parser(
        "db", help="schéma de la base (administrateur) : upgrade, status, copy",
        description="Gestion du schéma de la base. Sur un serveur PostgreSQL partagé, la mise à "
                    "jour du schéma est un acte d'administrateur : fermez CUS Desk sur les "
                    "autres postes, faites une sauvegarde, puis lancez « db upgrade ».")
    sub = db.add_subparsers(title="commandes", metavar="COMMANDE", parser_class=type(db))

    def _usage(_args) -> int:
        db.print_help()
        return 2

    db.set_defaults(handler=_usage)
    upgrade = sub.add_parser(
        "upgrade", help="crée le schéma (base vide) ou le met à jour vers cette version",
        description="Crée le schéma de CUS Desk dans une base vide, ou met à jour un schéma plus "
                    "ancien, puis installe les données de référence de la CUS. Refuse une base "
                    "qui contient les tables d'une autre application, ou un schéma plus récent "
                    "que cette version (rien n'est alors modifié).")
    upgrade.set_defaults(handler=cmd_upgrade)
    status = sub.add_parser("status", help="affiche la version du schéma de la base")
    status.add_argument("--json", action="store_true", help="sortie JSON (UTF-8)")
    status.set_defaults(handler=cmd_status)
    secure = sub.add_parser(
        "secure", help="installe les droits imposés par le serveur PostgreSQL (propriétaire)",
        description="Sur un serveur PostgreSQL : crée les rôles de groupe de CUS Desk "
                    "(cus_adviser, cus_pole_social, cus_cas_member, cus_recovery, cus_admin), "
                    "leur donne les seuls droits dont leurs tâches ont besoin, rend le journal "
                    "d'audit non modifiable et installe la sécurité par ligne sur les dossiers. "
                    "À lancer avec le compte propriétaire de la base (droit CREATEROLE), après "
                    "« db upgrade ». Ensuite, « users add » crée le compte serveur de chaque "
                    "personne. Sans effet sur une base SQLite (protégée par les droits du "
                    "fichier seulement).")
    secure.set_defaults(handler=cmd_secure)
    from cus_desk.cli.db_copy import add_copy_command

    add_copy_command(sub)


def cmd_upgrade(args) -> int:
    from cus_desk.cli.common import may_create
    from cus_desk.store import migrate
    from cus_desk.store.db import make_engine, preflight, upgrade_database

    url = database_url(args)
    preflight(url, create=may_create(url, args))  # an empty file is refused before any connection
    engine = make_engine(url)
    try:
        before = migrate.current_revision(engine)
    except Exception:  # noqa: BLE001 - upgrade_database says what is wrong, in French
        before = None
    finally:
        engine.dispose()
    db = upgrade_database(url, clock=program_clock(args), create=may_create(url, args))
    try:
        name = db.display_name
        resecured = _reapply_rights(db)
    finally:
        db.dispose()
    if resecured:
        print("Droits du serveur réappliqués aux tables de cette version (db secure).")
    if before == migrate.HEAD:
        print(f"La base « {name} » est déjà à jour (schéma {migrate.HEAD}).")
    elif before is None:
        print(f"Schéma de CUS Desk créé dans la base « {name} » (schéma {migrate.HEAD}).")
    else:
        print(f"Base « {name} » mise à jour : schéma {before} → {migrate.HEAD}.")
    return 0


def cmd_status(args) -> int:
    from cus_desk import __version__
    from cus_desk.store import migrate
    from cus_desk.store.db import make_engine, preflight, schema_status

    url = database_url(args)
    preflight(url)  # reading an empty file would make it a store (SQLite's WAL header)
    engine = make_engine(url)
    name = engine.url.render_as_string(hide_password=True)
    engine.dispose()
    current, problem = schema_status(url)
    if getattr(args, "json", False):
        print_json({"database": name, "schema": current, "expected": migrate.HEAD,
                    "program_version": __version__, "up_to_date": current == migrate.HEAD,
                    "message": problem})
    else:
        print(f"Base : {name}")
        print(f"Schéma de la base : {current or '(aucun)'}")
        print(f"Schéma attendu par CUS Desk {__version__} : {migrate.HEAD}")
        if problem:
            print(problem)
    return 0 if current == migrate.HEAD else 2


def _reapply_rights(db) -> bool:
    """After an upgrade of a secured server store, the new tables get their
    grants and policies too."""
    from cus_desk.services import access
    from cus_desk.store import dialect

    seam = dialect.of(db.engine)
    with db.engine.begin() as conn:
        if not seam.is_secured(conn):
            return False
        seam.secure_store(conn, access)
    return True


def cmd_secure(args) -> int:
    from cus_desk.cli.common import CliError
    from cus_desk.services import access, audit
    from cus_desk.store import dialect
    from cus_desk.store.db import open_database

    url = database_url(args)
    db = open_database(url, clock=program_clock(args), seed=False)
    try:
        seam = dialect.of(db.engine)
        with db.engine.begin() as conn:
            done = seam.secure_store(conn, access)
        if not done:
            print(f"La base « {db.display_name} » est un fichier SQLite : pas de comptes ni de "
                  "droits sur un serveur. Elle n'est protégée que par les droits du fichier "
                  "(lisible par son seul utilisateur).")
            return 0
        # Keys the clients may read but no longer create: drawn now, by the owner.
        with db.write_session() as session:
            audit.login_pseudonym(session, "")
    except Exception as exc:
        code = getattr(getattr(exc, "orig", None), "sqlstate", None)
        if code == "42501":
            raise CliError(
                "Ce compte n'a pas le droit d'installer les droits du serveur : lancez "
                "« db secure » avec le compte propriétaire de la base, qui doit avoir le droit "
                "CREATEROLE.") from exc
        raise
    finally:
        db.dispose()
    print(f"Droits du serveur installés sur « {db.display_name} » ({len(done)} instructions) : "
          "rôles de groupe, droits par table, journal d'audit en ajout seul, sécurité par ligne "
          "sur les dossiers. Créez ensuite le compte de chaque personne avec « users add ».")
    return 0
