"""``cus-desk db copy --to URL``: a pilot's store moved to the server."""

from __future__ import annotations

import sys

from cus_desk.cli.common import login, open_db


def add_copy_command(sub) -> None:
    copy = sub.add_parser(
        "copy", help="copie toute la base ouverte vers une base PostgreSQL vide",
        description="Copie toutes les tables de la base ouverte (par exemple le fichier SQLite "
                    "d'un poste pilote) vers une base PostgreSQL neuve et vide : schéma créé, "
                    "identifiants et journal d'audit conservés, compteurs remis à niveau. "
                    "Refuse une base cible qui n'est pas vide. Vérifie le nombre de lignes de "
                    "chaque table et le journal d'audit sur la cible avant de dire « terminé ». "
                    "Réservé à l'administrateur de la base ouverte.")
    copy.add_argument("--to", required=True, metavar="URL",
                      help="adresse de la base cible, ex. postgresql://cusdesk@serveur/cusdesk")
    copy.set_defaults(handler=cmd_copy)


def cmd_copy(args) -> int:
    from cus_desk.services.store_copy import StoreCopyService

    db = open_db(args)
    try:
        actor = login(args, db)

        def progress(done: int, total: int) -> None:
            if sys.stderr.isatty():
                sys.stderr.write(f"\r{done}/{total} lignes copiées")

        report = StoreCopyService(db, actor).copy_to(args.to, progress=progress)
    finally:
        db.dispose()
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    print(report.message)
    return 0
