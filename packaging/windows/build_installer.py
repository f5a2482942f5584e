"""Build the Windows installer from the PyInstaller bundle:

    python packaging/windows/build_installer.py [--bundle dist/cus-desk] [--out dist] [--fast]

Runs makensis (NSIS 3: on Windows from its usual folder or PATH, on Debian
`apt-get install nsis`) on installer.nsi with the name and version read from
the package. --fast stores the files uncompressed (Linux CI: the Linux bundle
stands in for the Windows one, only the script is checked).
Prints the installer's path.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import build_info  # noqa: E402

ROOT = build_info.ROOT


def find_makensis() -> str:
    found = shutil.which("makensis")
    if found:
        return found
    for base in (os.environ.get("ProgramFiles(x86)"), os.environ.get("ProgramFiles")):
        if base and (Path(base) / "NSIS" / "makensis.exe").is_file():
            return str(Path(base) / "NSIS" / "makensis.exe")
    raise SystemExit("makensis introuvable : installez NSIS 3 (Debian : apt-get install -y nsis).")


def defines(bundle: Path, out_file: Path, fast: bool) -> dict[str, str]:
    version = build_info.version()
    values = {
        "APP_NAME": build_info.app_name(),
        "APP_VERSION": version,
        "VERSION_QUAD": ".".join(str(n) for n in build_info.version_tuple(version)),
        "DIST_NAME": build_info.dist_name(),
        "BUNDLE": str(bundle),
        "ICON": str(ROOT / "cus_desk" / "resources" / "icons" / "cus-desk.ico"),
        "OUTFILE": str(out_file),
    }
    if fast:
        values["FAST"] = "1"
    return values


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / build_info.dist_name())
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args(argv)
    bundle = args.bundle.resolve()
    if not (bundle / "_internal").is_dir():
        raise SystemExit(f"{bundle} n'est pas un bundle PyInstaller (pyinstaller packaging/windows/cus_desk.spec)")
    args.out.mkdir(parents=True, exist_ok=True)
    out_file = args.out.resolve() / f"{build_info.dist_name()}-setup-{build_info.version()}.exe"
    cmd = [find_makensis(), "-V2", "-WX", "-INPUTCHARSET", "UTF8"]  # -WX: a warning fails
    cmd += [f"-D{k}={v}" for k, v in defines(bundle, out_file, args.fast).items()]
    cmd.append(str(HERE / "installer.nsi"))
    subprocess.run(cmd, check=True)
    print(out_file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
