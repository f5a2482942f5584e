"""The DejaVu Sans font, embedded in every PDF so that accents and the euro
sign print correctly whatever the reader's machine has installed."""

from __future__ import annotations

import threading
from pathlib import Path

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"

_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
_SYSTEM_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("C:/Windows/Fonts"),
)
_lock = threading.Lock()
_registered = False


def font_path(file_name: str) -> Path:
    """The bundled copy (resources/fonts/), else a system copy."""
    candidates: list[Path] = []
    try:
        from cus_desk.paths import resources_dir

        candidates.append(resources_dir() / "fonts" / file_name)
    except FileNotFoundError:
        pass
    candidates.extend(d / file_name for d in _SYSTEM_DIRS)
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"Police {file_name} introuvable (ni dans resources/fonts, ni dans le système) : "
        "réinstallez CUS Desk."
    )


def register_fonts() -> tuple[str, str]:
    """Register DejaVu Sans regular and bold with reportlab (once, thread-safe)
    and return their names (regular, bold). Also registers the family so that
    <b> in Paragraph markup picks the bold face."""
    global _registered
    with _lock:
        if not _registered:
            from reportlab.lib.fonts import addMapping
            from reportlab.pdfbase import pdfmetrics
            from reportlab.pdfbase.ttfonts import TTFont

            for name, file_name in _FILES.items():
                pdfmetrics.registerFont(TTFont(name, str(font_path(file_name))))
            addMapping(REGULAR, 0, 0, REGULAR)
            addMapping(REGULAR, 1, 0, BOLD)
            addMapping(REGULAR, 0, 1, REGULAR)
            addMapping(REGULAR, 1, 1, BOLD)
            _registered = True
    return REGULAR, BOLD
