"""``cus-desk``: the GUI by default, subcommands for headless work."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from cus_desk import __version__

CLI_MODULES = (
    "cus_desk.cli.cases",
    "cus_desk.cli.meetings",
    "cus_desk.cli.seniors",
    "cus_desk.cli.partners",
    "cus_desk.cli.agencies",
    "cus_desk.cli.admin",
    "cus_desk.cli.db",
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
    """argparse speaking French where the user reads it (help, sections, errors)."""

    def __init__(self, *args, **kwargs) -> None:
        wants_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        if wants_help:
            self.add_argument("-h", "--help", action="help", help="affiche cette aide et quitte")

    def error(self, message: str):  # argparse's own messages are English
        self.print_usage(sys.stderr)
        self.exit(2, f"cus-desk : erreur : {message}\nAide : cus-desk --help\n")


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchParser(
        prog="cus-desk",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"CUS Desk {__version__}",
                        help="affiche la version et quitte")
    parser.add_argument("--db", metavar="URL",
                        help="base de données (ex. sqlite:///C:/chemin/cus-desk.sqlite3 ou un chemin de fichier)")
    parser.add_argument("--create", action="store_true",
                        help="crée une nouvelle base si le fichier indiqué par --db est vide (0 octet)")
    parser.add_argument("--demo", action="store_true",
                        help="ouvre (et crée la première fois) la base de démonstration")
    parser.add_argument("--capture", metavar="FICHIER.png",
                        help="enregistre une capture de la fenêtre une fois remplie, puis quitte")
    sub = parser.add_subparsers(title="commandes", metavar="COMMANDE", parser_class=FrenchParser)
    for name in CLI_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from cus_desk.cli.common import run_command
    from cus_desk.store.copies import restrict_umask

    restrict_umask()  # the store, copies, exports and logs: the user's only
    parser = build_parser()
    args = parser.parse_args(argv)
    from cus_desk.domain.clock import system_clock

    args.clock = system_clock()  # the program's one clock, handed to every command
    handler = getattr(args, "handler", None)
    if handler is None:
        return run_command(_run_gui, args)
    return run_command(handler, args)


QT_LIBS_HELP = (
    "Qt ne peut pas démarrer : une bibliothèque système manque ({error}).\n"
    "Sur Debian/Ubuntu : sudo apt-get install -y --no-install-recommends libglib2.0-0 libgl1 "
    "libegl1 libfontconfig1 libfreetype6 libdbus-1-3 libcups2 libxkbcommon0 libxkbcommon-x11-0 "
    "libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 "
    "libxcb-render-util0 libxcb-shape0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1\n"
    "(ou : python3 packaging/bootstrap.py install, qui les trouve avec ldd)\n"
)


def _no_screen() -> bool:
    """A Linux machine with no display and no Qt platform chosen."""
    return (
        sys.platform.startswith("linux")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
        and not os.environ.get("QT_QPA_PLATFORM")
    )


def _nobody_watching() -> bool:
    """No one can answer a dialog (no screen, or Qt explicitly offscreen)."""
    return _no_screen() or os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal")


def _run_gui(args) -> int:
    from pathlib import Path

    from cus_desk.cli.common import database_url, may_create
    from cus_desk.domain.errors import DatabaseDamagedError
    from cus_desk.store.db import preflight

    url = database_url(args)
    preflight(url, check_file=False)  # a bad URL or folder: refused before any window opens
    create = may_create(url, args)
    try:
        preflight(url, create=create)
    except DatabaseDamagedError:
        if _nobody_watching():
            raise  # nobody could answer the restore offer: say it and exit 2
        # otherwise the window explains it and offers the latest good backup
    capture = Path(args.capture).resolve() if args.capture else None
    if _no_screen():
        from cus_desk import paths

        capture = capture or paths.data_dir() / ("capture-demo.png" if args.demo else "capture.png")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        sys.stderr.write(
            "cus-desk : aucun écran n'est disponible ici. CUS Desk démarre sans affichage et "
            f"enregistre une capture de sa fenêtre dans {capture}.\n"
            "Pour travailler dans l'application, lancez la même commande depuis une session "
            "graphique (ou sous Xvfb : xvfb-run cus-desk --demo).\n"
        )
    try:
        from cus_desk.ui.app import run_gui
    except ImportError as exc:
        sys.stderr.write(QT_LIBS_HELP.format(error=exc))
        return 3
    code = run_gui(url, demo=args.demo, capture=capture, clock=args.clock, create=create)
    if capture is not None and code == 0:
        sys.stderr.write(f"cus-desk : capture enregistrée : {capture}\n")
    return code
