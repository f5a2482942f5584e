import os
import sys

# The windowed program of the Windows bundle ("CUS Desk.exe") has no console:
# sys.stdout and sys.stderr are None there; a message written to them must not
# crash it (the console program, cus-desk.exe, is the one for the CLI).
for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115

from cus_desk.cli import main  # noqa: E402

sys.exit(main())
