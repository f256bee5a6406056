"""A strict WebVTT checker for the tests: header, cue timings, end after start, cues in order."""

import re

_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"^{_TIMESTAMP} --> {_TIMESTAMP}(?: .*)?$")


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def check_webvtt(text: str) -> list[tuple[float, float, str]]:
    """Return the cues; raise AssertionError with the reason when the file is not valid WebVTT."""
    assert "\r" not in text or "\r\n" in text, "bare CR line endings"
    lines = text.replace("\r\n", "\n").split("\n")
    assert lines[0] == "WEBVTT" or lines[0].startswith(("WEBVTT ", "WEBVTT\t")), "missing WEBVTT header"
    assert not text.startswith("\ufeff\ufeff"), "double BOM"
    blocks = "\n".join(lines[1:]).strip("\n").split("\n\n")
    assert lines[1] == "", "the header must be followed by a blank line"
    cues: list[tuple[float, float, str]] = []
    for block in blocks:
        if not block.strip():
            continue
        rows = block.split("\n")
        if "-->" not in rows[0]:
            assert len(rows) >= 2, f"cue without timing: {block!r}"
            assert "-->" not in rows[0], "identifier contains -->"
            rows = rows[1:]
        match = _TIMING.match(rows[0])
        assert match, f"bad timing line {rows[0]!r}"
        start = _seconds(*match.groups()[:4])
        end = _seconds(*match.groups()[4:])
        assert end > start, f"cue ends before it starts: {rows[0]!r}"
        if cues:
            assert start >= cues[-1][0], f"cues out of order at {rows[0]!r}"
        payload = "\n".join(rows[1:])
        assert payload.strip(), f"empty cue at {rows[0]!r}"
        assert "-->" not in payload, "cue text contains -->"
        cues.append((start, end, payload))
    assert cues, "no cues"
    return cues
