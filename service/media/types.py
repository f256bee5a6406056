"""What media we accept: the allow-list, per-type size caps, purposes, and a magic-byte sniffer.

The sniffer reads only the first bytes of an object (SNIFF_BYTES) and trusts nothing the client said.
"""

from dataclasses import dataclass
from typing import Literal

Family = Literal["image", "audio", "model", "document"]
Purpose = Literal[
    "product_photo",
    "batch_photo",
    "poi_photo",
    "inspection_photo",
    "audio_track",
    "model_3d",
    "certificate",
]

MB = 1024 * 1024
SNIFF_BYTES = 64


@dataclass(frozen=True, slots=True)
class MediaKind:
    content_type: str
    family: Family
    max_bytes: int
    extension: str


ALLOWED: dict[str, MediaKind] = {
    kind.content_type: kind
    for kind in (
        MediaKind("image/jpeg", "image", 15 * MB, "jpg"),
        MediaKind("image/png", "image", 15 * MB, "png"),
        MediaKind("image/webp", "image", 15 * MB, "webp"),
        MediaKind("audio/mpeg", "audio", 60 * MB, "mp3"),
        MediaKind("audio/mp4", "audio", 60 * MB, "m4a"),
        MediaKind("audio/aac", "audio", 60 * MB, "aac"),
        MediaKind("audio/ogg", "audio", 60 * MB, "ogg"),
        MediaKind("model/gltf-binary", "model", 100 * MB, "glb"),
        MediaKind("application/pdf", "document", 20 * MB, "pdf"),
    )
}

# Client spellings that mean one of the allowed types.
ALIASES: dict[str, str] = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/x-aac": "audio/aac",
    "audio/opus": "audio/ogg",
    "application/ogg": "audio/ogg",
}

# What each purpose accepts: a certificate is a photo of the paper or its PDF.
# Who may upload what: 3D models, narration and heritage photos are the editors' (tourism content), product,
# batch and certificate files the producers' (farmer, cooperative), inspection photos the inspectors'.
PURPOSE_ROLES: dict[str, frozenset[str]] = {
    "product_photo": frozenset({"farmer", "cooperative", "admin"}),
    "batch_photo": frozenset({"farmer", "cooperative", "admin"}),
    "certificate": frozenset({"farmer", "cooperative", "admin"}),
    "poi_photo": frozenset({"editor", "admin"}),
    "audio_track": frozenset({"editor", "admin"}),
    "model_3d": frozenset({"editor", "admin"}),
    "inspection_photo": frozenset({"inspector", "admin"}),
}

PURPOSE_FAMILIES: dict[str, frozenset[Family]] = {
    "product_photo": frozenset({"image"}),
    "batch_photo": frozenset({"image"}),
    "poi_photo": frozenset({"image"}),
    "inspection_photo": frozenset({"image"}),
    "audio_track": frozenset({"audio"}),
    "model_3d": frozenset({"model"}),
    "certificate": frozenset({"image", "document"}),
}

MAX_UPLOAD_BYTES = max(kind.max_bytes for kind in ALLOWED.values())


def normalize_content_type(raw: str) -> str:
    """'Image/JPEG; charset=x' -> 'image/jpeg'; aliases map to the canonical allowed name."""
    base = raw.split(";", 1)[0].strip().lower()
    return ALIASES.get(base, base)


def kind_of(content_type: str) -> MediaKind | None:
    return ALLOWED.get(normalize_content_type(content_type))


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG-1/2/2.5 audio frame header: 11 sync bits, a real layer, bitrate and sample rate."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0b11
    return version != 0b01 and layer != 0b00 and bitrate not in (0b0000, 0b1111) and sample_rate != 0b11


def _is_adts(head: bytes) -> bool:
    """An AAC ADTS header: 12 sync bits, layer 00, a valid sampling frequency index."""
    if len(head) < 7 or head[0] != 0xFF or head[1] & 0xF6 != 0xF0:
        return False
    return (head[2] >> 2) & 0x0F < 13


_M4A_BRANDS = {b"M4A ", b"M4B ", b"isom", b"iso2", b"mp41", b"mp42", b"dash"}


def sniff(head: bytes) -> str | None:
    """The real content type from the first bytes, or None when it is nothing we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 12 and head[:4] == b"glTF" and int.from_bytes(head[4:8], "little") == 2:
        return "model/gltf-binary"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"OggS\x00"):
        return "audio/ogg"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _M4A_BRANDS:
        return "audio/mp4"
    if len(head) >= 10 and head[:3] == b"ID3" and head[3] in (2, 3, 4):
        return "audio/mpeg"
    if _is_adts(head):
        return "audio/aac"
    if _is_mpeg_audio_frame(head):
        return "audio/mpeg"
    return None
