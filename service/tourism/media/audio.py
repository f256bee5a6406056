"""Audio bytes: what they are (sniffed with the media allow-list, never trusted) and how long Ogg/Opus lasts."""

import struct

from service.core.errors import InvalidInput
from service.media.types import ALLOWED, SNIFF_BYTES, sniff

MAX_INLINE_AUDIO_BYTES = 7 * 1024 * 1024
# An Ogg page is at most 27 + 255 + 255 * 255 bytes, so the last page starts within this tail.
OGG_TAIL_BYTES = 65_536
OGG_HEAD_BYTES = 4096


def is_audio_type(content_type: str | None) -> bool:
    kind = ALLOWED.get(content_type or "")
    return kind is not None and kind.family == "audio"


def sniff_audio(data: bytes) -> str:
    """The audio MIME type from the file's magic bytes; 422 `not_audio` when it is anything else."""
    if len(data) > MAX_INLINE_AUDIO_BYTES:
        raise InvalidInput(
            f"inline audio is at most {MAX_INLINE_AUDIO_BYTES // (1024 * 1024)} MB; upload larger files through "
            "/api/v1/media and attach them by media_id",
            code="audio_too_large",
        )
    real = sniff(data[:SNIFF_BYTES])
    if real is None or not is_audio_type(real):
        raise InvalidInput(
            "the uploaded bytes are not audio we can play (Ogg/Opus, Ogg/Vorbis, MP3, M4A or AAC)", code="not_audio"
        )
    return real


def ogg_opus_duration(data: bytes) -> float | None:
    """Duration of a whole Ogg/Opus file held in memory."""
    return ogg_opus_duration_of(data[:OGG_HEAD_BYTES], data[-OGG_TAIL_BYTES:])


def ogg_opus_duration_of(head: bytes, tail: bytes) -> float | None:
    """Duration from the last page's granule position (48 kHz for Opus), minus the pre-skip in OpusHead.

    Needs only the first and last few kilobytes, so stored objects are measured with two range reads.
    """
    if not head.startswith(b"OggS"):
        return None
    opus_head = head.find(b"OpusHead")
    if opus_head < 0 or len(head) < opus_head + 12:
        return None
    pre_skip: int = struct.unpack_from("<H", head, opus_head + 10)[0]
    last = tail.rfind(b"OggS\x00")
    if last < 0 or len(tail) < last + 14:
        return None
    granule: int = struct.unpack_from("<q", tail, last + 6)[0]
    if granule <= pre_skip:
        return None
    return round((granule - pre_skip) / 48_000, 3)
