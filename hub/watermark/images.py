"""Marking a chart image (PNG) with its copy's mark: drawn into the pixels and written as text
chunks.

``mark_png(png, issued)`` returns a new PNG: the original figure, a band beneath it with the two
lines of the visible mark (recipient, date, short code; justification, handling code and its
French label), and the recipient's name and short code across the figure, faint and diagonal —
so a cropped band still leaves a mark on the chart. The token (hub/watermark) and the visible
text also go in PNG text chunks (``Comment``, ``Description``, ``Author``) for ``crosshub
trace``. Drawn with matplotlib on the Agg canvas (already the brief's renderer; it reads and
writes PNG through Pillow, which it depends on): no new dependency, no global state.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imread

from hub.watermark import IssuedMark

DPI = 110
LINE_PX = 13  # one line of 6.5 pt at 110 dpi, with its leading
FAINT = "#8a1c1c"


def png_metadata(issued: IssuedMark) -> dict[str, str]:
    m = issued.mark
    return {"Comment": issued.token, "Description": issued.text_fr(), "Author": m.recipient_fr(),
            "Software": "CROSS Hub"}


def mark_png(png: bytes, issued: IssuedMark) -> bytes:
    pixels = imread(io.BytesIO(png), format="png")
    height, width = pixels.shape[:2]
    lines = issued.lines_fr()
    band = LINE_PX * len(lines) + 6
    total = height + band
    fig = Figure(figsize=(width / DPI, total / DPI), dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    fig.figimage(pixels, xo=0, yo=band, origin="upper")
    texts = [fig.text(0.01, (band - 3 - i * LINE_PX) / total, line, fontsize=6.5, color="#7a0000",
                      va="top", ha="left") for i, line in enumerate(lines)]
    renderer = canvas.get_renderer()
    for t in texts:  # a narrow figure gets a smaller font rather than a cut line
        overflow = t.get_window_extent(renderer).width / (0.98 * width)
        if overflow > 1:
            t.set_fontsize(6.5 / overflow)
    fig.text(0.5, 0.5 + band / total / 2, f"{issued.mark.name} — {issued.code}", fontsize=14,
             color=FAINT, alpha=0.13, rotation=25, ha="center", va="center")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata=png_metadata(issued))
    return buf.getvalue()


def text_chunks(png: bytes) -> dict[str, str]:
    """The tEXt / iTXt chunks of a PNG (what ``trace`` and the tests read), without decoding
    pixels: a bare chunk walk."""
    import struct
    import zlib

    out: dict[str, str] = {}
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        return out
    pos = 8
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"tEXt" and b"\0" in data:
            key, value = data.split(b"\0", 1)
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt" and b"\0" in data:
            key, rest = data.split(b"\0", 1)
            compressed, rest = rest[0], rest[2:]
            _lang, _, rest = rest.partition(b"\0")
            _tkey, _, text = rest.partition(b"\0")
            try:
                out[key.decode("latin-1")] = (zlib.decompress(text) if compressed else text).decode("utf-8")
            except (zlib.error, UnicodeDecodeError):
                continue
        elif kind == b"IEND":
            break
    return out


__all__ = ["mark_png", "png_metadata", "text_chunks"]
