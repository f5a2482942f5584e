"""Draw CUS Desk's icon with Qt and write the committed files:

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icon.py

cus_desk/resources/icons/cus-desk-<size>.png (16 … 256 px, the window and
task-bar icon) and cus-desk.ico (the executables, the installer, shortcuts).
The drawing is the source: change it here and re-run, never edit the PNGs.
A house (social housing) on a rounded square in the navigation bar's blues,
with a warm heart at its door (the social follow-up).
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QLinearGradient, QPainter, QPainterPath

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "cus_desk" / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256)
ICO_SIZES = (16, 24, 32, 48, 64, 256)

NAVY = QColor("#22313f")
BLUE = QColor("#2e86c1")
WARM = QColor("#e67e22")


def draw(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 256, size / 256)
    # background: a rounded square, blue to navy
    gradient = QLinearGradient(QPointF(0, 0), QPointF(0, 256))
    gradient.setColorAt(0, BLUE)
    gradient.setColorAt(1, NAVY)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(gradient)
    p.drawRoundedRect(QRectF(8, 8, 240, 240), 48, 48)
    # the house: roof and walls in one white shape
    house = QPainterPath()
    house.moveTo(128, 40)
    house.lineTo(218, 118)
    house.lineTo(196, 118)
    house.lineTo(196, 212)
    house.lineTo(60, 212)
    house.lineTo(60, 118)
    house.lineTo(38, 118)
    house.closeSubpath()
    p.setBrush(QColor("white"))
    p.drawPath(house)
    # the heart in the middle of the house
    heart = QPainterPath()
    cx, top = 128.0, 128.0
    heart.moveTo(cx, top + 62)
    heart.cubicTo(cx - 52, top + 28, cx - 40, top - 14, cx, top + 8)
    heart.cubicTo(cx + 40, top - 14, cx + 52, top + 28, cx, top + 62)
    p.setBrush(WARM)
    p.drawPath(heart)
    p.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data)


def dib_bytes(image: QImage) -> bytes:
    """A 32-bit BGRA DIB with its AND mask, the classic ICO entry (small
    sizes; some Windows tools still expect it there)."""
    size = image.width()
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    rows = []
    for y in reversed(range(size)):
        row = bytearray()
        for x in range(size):
            argb = image.pixel(x, y)
            row += struct.pack("<I", argb)  # little-endian ARGB = B, G, R, A
        rows.append(bytes(row))
    mask_row = b"\x00" * (((size + 31) // 32) * 4)
    return header + b"".join(rows) + mask_row * size


def ico_bytes(images: dict[int, QImage]) -> bytes:
    entries = [(s, png_bytes(images[s]) if s >= 256 else dib_bytes(images[s])) for s in ICO_SIZES]
    offset = 6 + 16 * len(entries)
    head = struct.pack("<HHH", 0, 1, len(entries))
    directory, blobs = b"", b""
    for size, blob in entries:
        dim = 0 if size >= 256 else size
        directory += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return head + directory + blobs


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    images = {size: draw(size) for size in SIZES}
    for size, image in images.items():
        (OUT / f"cus-desk-{size}.png").write_bytes(png_bytes(image))
    (OUT / "cus-desk.ico").write_bytes(ico_bytes(images))
    print(f"icons written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
