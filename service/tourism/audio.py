"""Audio bytes: what they are (sniffed, never trusted from the client) and how long Ogg/Opus lasts."""

import struct

from service.errors import InvalidInput

MAX_AUDIO_BYTES = 7 * 1024 * 1024
EXTENSIONS = {"audio/ogg": "ogg", "audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/wav": "wav", "audio/flac": "flac"}


def sniff_audio(data: bytes) -> str:
    """The audio MIME type from the file's magic bytes; 422 `not_audio` when it is anything else."""
    if len(data) > MAX_AUDIO_BYTES:
        raise InvalidInput(f"audio files are at most {MAX_AUDIO_BYTES // (1024 * 1024)} MB", code="audio_too_large")
    head = data[:64]
    if head.startswith(b"OggS") and (b"OpusHead" in head or b"\x01vorbis" in head or b"FLAC" in head):
        return "audio/ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0):
        return "audio/mpeg"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head[4:8] == b"ftyp" and head[8:12] in (b"M4A ", b"mp42", b"isom", b"M4B "):
        return "audio/mp4"
    raise InvalidInput(
        "the uploaded bytes are not audio we can play (Ogg/Opus, Ogg/Vorbis, MP3, M4A, WAV or FLAC)",
        code="not_audio",
    )


def ogg_opus_duration(data: bytes) -> float | None:
    """Duration from the last Ogg page's granule position (48 kHz for Opus), minus the pre-skip."""
    if not data.startswith(b"OggS"):
        return None
    head = data.find(b"OpusHead")
    if head < 0 or len(data) < head + 12:
        return None
    pre_skip: int = struct.unpack_from("<H", data, head + 10)[0]
    last = data.rfind(b"OggS")
    if last < 0 or len(data) < last + 14:
        return None
    granule: int = struct.unpack_from("<q", data, last + 6)[0]
    if granule <= pre_skip:
        return None
    return round((granule - pre_skip) / 48_000, 3)
