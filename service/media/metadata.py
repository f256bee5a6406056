"""Metadata out of uploaded photos: EXIF (GPS position, camera serial, time), XMP, IPTC, comments, text chunks.

A photo a farmer takes at home carries where home is. Before anyone can download it, an image that holds
any metadata beyond what draws it (ICC colour profile, transparency, JFIF density) is re-encoded from its
pixels alone; a clean image is kept byte for byte (no needless recompression). Blocking: run in a thread.
"""

import io

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from service.core.errors import InvalidInput

MAX_PIXELS = 60_000_000  # far above any phone camera; refuses decompression bombs before decoding
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
# info keys that only say how to draw the pixels
_DRAWING_KEYS = frozenset(
    {
        "jfif",
        "jfif_version",
        "jfif_unit",
        "jfif_density",
        "dpi",
        "icc_profile",
        "adobe",
        "adobe_transform",
        "progressive",
        "progression",
        "transparency",
        "gamma",
        "srgb",
        "chromaticity",
        "aspect",
        "duration",
        "loop",
        "background",
        "timestamp",
        "default_image",
        "bbox",
        "disposal",
        "blend",
    }
)
# JPEG segments that draw: APP0 (JFIF), APP2 (ICC), APP14 (Adobe colour transform)
_JPEG_DRAWING_MARKERS = frozenset({"APP0", "APP2", "APP14"})
_KEEP_INFO = ("transparency", "icc_profile")


class UnreadableImage(InvalidInput):
    code = "image_unreadable"


def carries_metadata(image: Image.Image) -> bool:
    if any(key not in _DRAWING_KEYS for key in image.info):
        return True
    if len(image.getexif()) > 0:
        return True
    applist: list[tuple[str, bytes]] = getattr(image, "applist", [])
    return any(marker not in _JPEG_DRAWING_MARKERS for marker, _ in applist)


def _clean_info(image: Image.Image) -> Image.Image:
    image.info = {key: image.info[key] for key in _KEEP_INFO if key in image.info}
    return image


def strip_metadata(data: bytes, content_type: str) -> bytes:
    """The photo without metadata (the same bytes when it carries none); orientation is applied to the pixels."""
    fmt = FORMATS[content_type]
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            if image.width * image.height > MAX_PIXELS:
                raise InvalidInput(f"images may have at most {MAX_PIXELS} pixels", code="too_many_pixels")
            if not carries_metadata(image):
                return data
            return _reencode(image, fmt)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(f"the file is not a readable {fmt} image") from exc


def _reencode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    icc = image.info.get("icc_profile")
    extra = {"icc_profile": icc} if icc else {}
    frames = getattr(image, "n_frames", 1)
    if frames > 1:  # animated PNG or WebP: every frame, their timing, no metadata
        durations = []
        pictures = []
        for frame in ImageSequence.Iterator(image):
            durations.append(frame.info.get("duration", 100))
            pictures.append(_clean_info(frame.copy()))
        pictures[0].save(
            out, fmt, save_all=True, append_images=pictures[1:], duration=durations, loop=image.info.get("loop", 0)
        )
        return out.getvalue()
    orientation = image.getexif().get(0x0112, 1)
    if fmt == "JPEG" and orientation in (None, 1):
        # the same quantisation and subsampling: no visible recompression
        _clean_info(image)
        image.save(out, "JPEG", quality="keep", subsampling="keep", **extra)
        return out.getvalue()
    upright = _clean_info(ImageOps.exif_transpose(image))
    if fmt == "JPEG":
        upright.save(out, "JPEG", quality=92, **extra)
    elif fmt == "PNG":
        upright.save(out, "PNG", **extra)
    else:
        upright.save(out, "WEBP", quality=90, method=4, **extra)
    return out.getvalue()
