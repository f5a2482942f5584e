"""Gather the licences of everything the bundle ships into one folder:

    python packaging/collect_licenses.py OUT_DIR

OUT_DIR/THIRD-PARTY-NOTICES.txt lists every Python distribution CUS Desk
depends on at run time (walked from cus-desk's own requirements in the
environment that builds the bundle, so the list follows pyproject.toml),
with its version and licence; each one's licence files are copied beside it
(OUT_DIR/<name>-<version>/). Python's licence, Qt's (LGPL-3.0, which PySide6's
wheels do not carry) and the DejaVu font's complete it.
Standard library only (plus `packaging` when present, for markers).
"""

from __future__ import annotations

import re
import shutil
import sys
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROJECT = "cus-desk"
LICENSE_NAME = re.compile(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)
# Distributions whose wheels carry no licence file: the texts are committed.
EXTRA_TEXTS = {
    "pyside6-essentials": ["Qt-PySide6.txt", "LGPL-3.0.txt", "GPL-3.0.txt"],
    "pyside6-addons": ["Qt-PySide6.txt", "LGPL-3.0.txt", "GPL-3.0.txt"],
    "shiboken6": ["Qt-PySide6.txt", "LGPL-3.0.txt", "GPL-3.0.txt"],
}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_applies(requirement: str) -> tuple[str, bool]:
    """(name, applies here without extras)."""
    try:
        from packaging.requirements import Requirement

        req = Requirement(requirement)
        applies = req.marker is None or req.marker.evaluate({"extra": ""})
        return req.name, applies
    except ImportError:
        name = re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0]
        return name, "extra ==" not in requirement and "extra==" not in requirement


def runtime_distributions(project: str = PROJECT) -> list[metadata.Distribution]:
    """The project's run-time dependency closure, as installed here."""
    seen: dict[str, metadata.Distribution] = {}
    todo = [project]
    while todo:
        name = normalise(todo.pop())
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform
        seen[name] = dist
        for requirement in dist.requires or []:
            dep, applies = _requirement_applies(requirement)
            if applies:
                todo.append(dep)
    seen.pop(normalise(project), None)
    return sorted(seen.values(), key=lambda d: normalise(d.metadata["Name"]))


def licence_of(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    expression = meta.get("License-Expression")
    if expression:
        return expression
    text = (meta.get("License") or "").strip().splitlines()
    if text and len(text[0]) < 120:
        return text[0]
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or []
                   if c.startswith("License ::")]
    return ", ".join(classifiers) or "voir les fichiers joints"


def licence_files(dist: metadata.Distribution) -> list[Path]:
    found = []
    for entry in dist.files or []:
        if LICENSE_NAME.search(entry.name) and (".dist-info" in str(entry) or len(entry.parts) <= 2):
            path = Path(dist.locate_file(entry))
            if path.is_file():
                found.append(path)
    return found


def python_licence() -> Path | None:
    base = Path(sys.base_prefix)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (base / "LICENSE.txt", base / "lib" / version / "LICENSE.txt",
                      Path("/usr/lib") / version / "LICENSE.txt"):
        if candidate.is_file():
            return candidate
    return None


def collect(out: Path) -> list[tuple[str, str, str]]:
    out.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str]] = []
    for dist in runtime_distributions():
        name, version = dist.metadata["Name"], dist.version
        folder = out / f"{normalise(name)}-{version}"
        folder.mkdir(exist_ok=True)
        copied = 0
        for path in licence_files(dist):
            shutil.copy2(path, folder / path.name)
            copied += 1
        for text in EXTRA_TEXTS.get(normalise(name), []):
            shutil.copy2(HERE / "licenses" / text, folder / text)
            copied += 1
        if not copied:
            raise SystemExit(f"collect_licenses: no licence file for {name} {version}: add one to "
                             "packaging/licenses and EXTRA_TEXTS")
        rows.append((name, version, licence_of(dist)))
    python = python_licence()
    if python is not None:
        folder = out / f"python-{sys.version.split()[0]}"
        folder.mkdir(exist_ok=True)
        shutil.copy2(python, folder / "LICENSE.txt")
        rows.append(("Python", sys.version.split()[0], "PSF-2.0"))
    else:
        print("collect_licenses: warning: Python's LICENSE.txt not found", file=sys.stderr)
    fonts = ROOT / "cus_desk" / "resources" / "fonts" / "LICENSE-DejaVu.txt"
    (out / "dejavu-fonts").mkdir(exist_ok=True)
    shutil.copy2(fonts, out / "dejavu-fonts" / fonts.name)
    rows.append(("DejaVu fonts", "2.37", "Bitstream Vera / Arev (free)"))
    lines = [
        "CUS Desk — composants tiers / third-party components",
        "",
        "Chaque composant est fourni sous sa propre licence ; les textes sont dans le",
        "dossier qui porte son nom. Each component comes under its own licence; the",
        "texts are in the folder named after it.",
        "",
    ]
    width = max(len(n) for n, _, _ in rows)
    lines += [f"{n.ljust(width)}  {v.ljust(12)}  {lic}" for n, v, lic in rows]
    (out / "THIRD-PARTY-NOTICES.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    rows = collect(Path(argv[0]))
    print(f"collect_licenses: {len(rows)} components -> {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
