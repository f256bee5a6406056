"""Smaller copies of a photo, made once when its upload completes, for `srcset` on the public pages.

A phone at 360 px needs a 360-720 px image, not the 4000 px original: each width below the original's
becomes a WebP copy (every browser we serve reads WebP), stored beside the original. Blocking: run in a thread.
"""

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from service.media.metadata import FORMATS, MAX_PIXELS, UnreadableImage

# what the pages ask for: a thumbnail, a phone's width at 1x and 2x, a page's column at 2x
WIDTHS = (320, 640, 960, 1280)
WEBP_QUALITY = 80


@dataclass(frozen=True, slots=True)
class Rendition:
    width: int
    height: int
    data: bytes
    content_type: str = "image/webp"


@dataclass(frozen=True, slots=True)
class Renditions:
    """The original's drawn size (orientation applied) and its smaller copies, narrowest first."""

    width: int
    height: int
    copies: list[Rendition]


def make_renditions(data: bytes, content_type: str) -> Renditions:
    """The copies at every width in WIDTHS narrower than the original (the original alone when it is small)."""
    fmt = FORMATS[content_type]
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            if image.width * image.height > MAX_PIXELS:
                raise UnreadableImage(f"images may have at most {MAX_PIXELS} pixels")
            upright = ImageOps.exif_transpose(image)
            upright = upright.convert("RGBA" if _has_alpha(upright) else "RGB")
            width, height = upright.size
            copies = []
            for target in WIDTHS:
                if target >= width:
                    break
                size = (target, max(1, round(height * target / width)))
                out = io.BytesIO()
                upright.resize(size, Image.Resampling.LANCZOS).save(out, "WEBP", quality=WEBP_QUALITY, method=4)
                copies.append(Rendition(width=size[0], height=size[1], data=out.getvalue()))
            return Renditions(width=width, height=height, copies=copies)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(f"the file is not a readable {fmt} image") from exc


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
