"""Demo photos drawn at seed time: the repository ships no photographs, so the seed paints simple but real
images (a coloured scene with the subject's name in Vietnamese and English) and stores them like uploads.

Deterministic: the same words give the same bytes, so a second seed finds them again by sha256.
Blocking: run in a thread.
"""

import hashlib
import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")  # Debian's fonts-dejavu-core (Dockerfile)
SIZE = (1280, 960)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(FONT), size)
    except OSError:  # without DejaVu the picture still draws, with Pillow's own font
        return ImageFont.load_default(size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> str:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def drawn_photo(title: str, subtitle: str = "", *, hue_of: str | None = None) -> bytes:
    """A 1280x960 JPEG: sky, hills and a field in colours picked from the words, the title across it."""
    digest = hashlib.sha256((hue_of or title).encode()).digest()
    sky = (150 + digest[0] % 80, 190 + digest[1] % 50, 220 + digest[2] % 35)
    hill = (40 + digest[3] % 60, 110 + digest[4] % 80, 50 + digest[5] % 50)
    field = (90 + digest[6] % 80, 150 + digest[7] % 70, 60 + digest[8] % 40)
    image = Image.new("RGB", SIZE, sky)
    draw = ImageDraw.Draw(image)
    w, h = SIZE
    draw.ellipse((w - 300, 80, w - 160, 220), fill=(255, 226, 120))  # the sun
    for i in range(3):  # hills, back to front
        top = 420 + i * 90 + digest[9 + i] % 60
        shade = tuple(max(0, c - 25 * (2 - i)) for c in hill)
        draw.ellipse((-300 + i * 420 - digest[12 + i] % 200, top, 700 + i * 420, top + 700), fill=shade)
    draw.rectangle((0, 760, w, h), fill=field)
    for row in range(8):  # tea rows
        y = 780 + row * 24
        draw.line((0, y, w, y - 40), fill=tuple(max(0, c - 40) for c in field), width=8)
    font = _font(72)
    text = _wrap(draw, title, font, w - 160)
    draw.multiline_text((82, 102), text, font=font, fill=(0, 0, 0), spacing=12)
    draw.multiline_text((80, 100), text, font=font, fill=(255, 255, 255), spacing=12)
    if subtitle:
        small = _font(40)
        draw.text((82, 662), subtitle, font=small, fill=(0, 0, 0))
        draw.text((80, 660), subtitle, font=small, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue()
