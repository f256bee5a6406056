"""Spoken narration for points of interest: espeak-ng speech, Ogg/Opus audio, timed cues.

Everything here blocks (it runs two external programs per call), so async callers run
`synthesize` in a worker thread: ``await asyncio.to_thread(synthesize, text, "vi")``.
Both programs come from Debian packages: ``espeak-ng`` and ``opus-tools`` (``opusenc``).
"""

import hashlib
import io
import re
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Annotated, Final

import msgspec
from msgspec import Meta

SUPPORTED_LANGUAGES: Final = frozenset({"vi", "en"})
MIME_TYPE: Final = "audio/ogg"

_DEFAULT_VOICES: Final = {"vi": "vi", "en": "en"}
_VOICE_PATTERN: Final = re.compile(r"[a-z]{2,3}(?:[-+][A-Za-z0-9_-]+)*")
_SENTENCE_END: Final = re.compile(r"(?<=[.!?…])\s+")
_MAX_TEXT_CHARS: Final = 20_000
_PAUSE_S: Final = 0.35
_BITRATE_KBPS: Final = 16
_ESPEAK_TIMEOUT_S: Final = 30.0
_OPUSENC_TIMEOUT_S: Final = 60.0


class NarrationError(RuntimeError):
    """Speech synthesis or encoding failed (missing tool, timeout, bad output)."""


class UnsupportedLanguage(ValueError):
    """Raised for a language other than the supported ones (vi, en)."""

    def __init__(self, lang: str) -> None:
        supported = ", ".join(sorted(SUPPORTED_LANGUAGES))
        super().__init__(f"unsupported narration language {lang!r}; supported: {supported}")
        self.lang = lang


class Cue(msgspec.Struct, frozen=True):
    """One sentence of the narration and when it is heard, in seconds from the start."""

    start: Annotated[float, Meta(ge=0)]
    end: Annotated[float, Meta(gt=0)]
    text: str


class Narration(msgspec.Struct, frozen=True):
    """Encoded speech plus the cues needed for captions and text highlighting."""

    audio: bytes
    mime: str
    duration_s: float
    cues: list[Cue]


def split_sentences(text: str) -> list[str]:
    """Split narration text into sentences, the unit that cues are timed by."""
    parts = _SENTENCE_END.split(" ".join(text.split()))
    return [part.strip() for part in parts if part.strip()]


def synthesize(text: str, lang: str, *, voice: str | None = None) -> Narration:
    """Speak `text` in `lang` and return Ogg/Opus audio with one cue per sentence.

    Blocking: call it from a thread (``asyncio.to_thread``), never on the event loop.
    """
    if lang not in SUPPORTED_LANGUAGES:
        raise UnsupportedLanguage(lang)
    espeak_voice = voice if voice is not None else _DEFAULT_VOICES[lang]
    if not _VOICE_PATTERN.fullmatch(espeak_voice):
        raise ValueError(f"invalid espeak-ng voice name {espeak_voice!r}")
    if len(text) > _MAX_TEXT_CHARS:
        raise ValueError(f"narration text longer than {_MAX_TEXT_CHARS} characters")
    sentences = split_sentences(text)
    if not sentences:
        raise ValueError("narration text is empty")

    with tempfile.TemporaryDirectory(prefix="narration-") as tmp:
        workdir = Path(tmp)
        clips = [_speak_sentence(sentence, espeak_voice, workdir, index) for index, sentence in enumerate(sentences)]

    rate, width = clips[0].rate, clips[0].sample_width
    if any(clip.rate != rate or clip.sample_width != width for clip in clips):
        raise NarrationError("espeak-ng produced clips with differing formats")
    pause = b"\x00" * (round(_PAUSE_S * rate) * width)

    cues: list[Cue] = []
    pcm = bytearray()
    cursor = 0.0
    for index, (sentence, clip) in enumerate(zip(sentences, clips, strict=True)):
        if index:
            pcm += pause
            cursor += len(pause) / (rate * width)
        clip_s = len(clip.frames) / (rate * width)
        cues.append(Cue(start=round(cursor, 3), end=round(cursor + clip_s, 3), text=sentence))
        pcm += clip.frames
        cursor += clip_s

    duration_s = len(pcm) / (rate * width)
    audio = _encode_opus(bytes(pcm), rate, width, serial=_stream_serial(text, espeak_voice))
    return Narration(audio=audio, mime=MIME_TYPE, duration_s=round(duration_s, 3), cues=cues)


def webvtt(cues: list[Cue]) -> str:
    """Render cues as a WebVTT caption file."""
    lines = ["WEBVTT", ""]
    for number, cue in enumerate(cues, start=1):
        if cue.end <= cue.start:
            raise ValueError(f"cue {number} ends before it starts")
        lines.append(str(number))
        lines.append(f"{_vtt_timestamp(cue.start)} --> {_vtt_timestamp(cue.end)}")
        lines.append(_vtt_escape(cue.text))
        lines.append("")
    return "\n".join(lines)


class _Clip(msgspec.Struct, frozen=True):
    rate: int
    sample_width: int
    frames: bytes


def _speak_sentence(sentence: str, voice: str, workdir: Path, index: int) -> _Clip:
    # The text goes in a file, never on the command line, so it cannot be read as options.
    text_path = workdir / f"{index}.txt"
    wav_path = workdir / f"{index}.wav"
    text_path.write_text(sentence, encoding="utf-8")
    _run(
        [
            "espeak-ng",
            "-v",
            voice,
            "-b",
            "1",
            "-f",
            str(text_path),
            "-w",
            str(wav_path),
        ],
        timeout=_ESPEAK_TIMEOUT_S,
        stdin=None,
    )
    try:
        with wave.open(str(wav_path), "rb") as wav:
            if wav.getnchannels() != 1:
                raise NarrationError("espeak-ng produced a non-mono clip")
            frames = wav.readframes(wav.getnframes())
            clip = _Clip(rate=wav.getframerate(), sample_width=wav.getsampwidth(), frames=frames)
    except (wave.Error, EOFError) as exc:
        raise NarrationError(f"espeak-ng wrote an unreadable WAV file: {exc}") from exc
    if not clip.frames:
        raise NarrationError(f"espeak-ng produced no audio for sentence {index + 1}")
    return clip


def _encode_opus(pcm: bytes, rate: int, sample_width: int, *, serial: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(sample_width)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    command = [
        "opusenc",
        "--quiet",
        "--speech",
        "--bitrate",
        str(_BITRATE_KBPS),
        "--downmix-mono",
        "--serial",
        str(serial),
        "-",
        "-",
    ]
    audio = _run(command, timeout=_OPUSENC_TIMEOUT_S, stdin=buffer.getvalue())
    if not audio.startswith(b"OggS"):
        raise NarrationError("opusenc did not produce an Ogg stream")
    return audio


def _run(command: list[str], *, timeout: float, stdin: bytes | None) -> bytes:
    try:
        # A fixed program and an argument list built here: no shell is involved.
        completed = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise NarrationError(f"{command[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise NarrationError(f"{command[0]} timed out after {timeout} s") from exc
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", "replace").strip()[:500]
        raise NarrationError(f"{command[0]} exited with {completed.returncode}: {detail}")
    return completed.stdout


def _stream_serial(text: str, voice: str) -> int:
    # A serial derived from the input keeps the encoded bytes reproducible.
    digest = hashlib.sha256(f"{voice}\n{text}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _vtt_timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _vtt_escape(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # "-->" cannot appear in cue text, and a blank line would end the cue.
    return " ".join(escaped.replace("-->", "--&gt;").split())
