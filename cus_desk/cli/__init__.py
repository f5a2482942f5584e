"""``cus-desk``: the GUI by default, subcommands for headless work."""

from __future__ import annotations

import argparse
import importlib
import sys

from cus_desk import __version__

CLI_MODULES = (
    "cus_desk.cli.cases",
    "cus_desk.cli.meetings",
    "cus_desk.cli.seniors",
    "cus_desk.cli.partners",
    "cus_desk.cli.admin",
)

DESCRIPTION = (
    "CUS Desk — suivi social des locataires : dossiers CAS, séances de la Commission "
    "d'Action Sociale, seniors de 65 ans et plus en impayé, structures partenaires.\n"
    "Sans commande, lance l'application graphique."
)
EPILOG = (
    "Base de données : --db URL, ou la variable CUS_DESK_DB, sinon un fichier SQLite dans le "
    "dossier de données de l'utilisateur. Les commandes s'authentifient avec CUS_DESK_USER et "
    "CUS_DESK_PASSWORD (ou le demandent) ; --demo ouvre la base de démonstration."
)


class FrenchParser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own messages are English
        self.print_usage(sys.stderr)
        self.exit(2, f"cus-desk : erreur : {message}\nAide : cus-desk --help\n")


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchParser(
        prog="cus-desk",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    parser.add_argument("-h", "--help", action="help", help="affiche cette aide et quitte")
    parser.add_argument("--version", action="version", version=f"CUS Desk {__version__}",
                        help="affiche la version et quitte")
    parser.add_argument("--db", metavar="URL",
                        help="base de données (ex. sqlite:///C:/chemin/cus-desk.sqlite3 ou un chemin de fichier)")
    parser.add_argument("--demo", action="store_true",
                        help="ouvre (et crée la première fois) la base de démonstration")
    sub = parser.add_subparsers(title="commandes", metavar="COMMANDE", parser_class=FrenchParser)
    for name in CLI_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from cus_desk.cli.common import run_command

    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        return run_command(_run_gui, args)
    return run_command(handler, args)


def _run_gui(args) -> int:
    from cus_desk.cli.common import database_url
    from cus_desk.store.db import preflight

    url = database_url(args)
    preflight(url)  # a bad URL or file is refused here, before any window opens
    from cus_desk.ui.app import run_gui

    return run_gui(url, demo=args.demo)
