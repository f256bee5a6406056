import re
import shutil

import pytest

from service.tourism.media.narration import (
    Cue,
    UnsupportedLanguage,
    split_sentences,
    synthesize,
    webvtt,
)

TIMING = re.compile(r"(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})")
ENTITY = re.compile(r"&(amp|lt|gt|nbsp|lrm|rlm);")

SAMPLES = {
    "vi": "Chào mừng quý khách đến đồi Tỉn Keo. Nơi đây Bác Hồ từng ở và làm việc! Xin mời đi tiếp?",
    "en": "Welcome to Tỉn Keo hill. President Hồ Chí Minh lived and worked here! Shall we go on?",
}


def _seconds(hours: str, minutes: str, seconds: str, millis: str) -> float:
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def parse_webvtt_strict(document: str) -> list[tuple[float, float, str]]:
    """A deliberately strict WebVTT reader for what `webvtt` should produce."""
    assert "\r" not in document
    assert document.endswith("\n")
    blocks = document.rstrip("\n").split("\n\n")
    assert blocks[0] == "WEBVTT", "the file must start with the WEBVTT signature line"
    cues: list[tuple[float, float, str]] = []
    for block in blocks[1:]:
        if not block.strip():
            continue
        lines = block.split("\n")
        if "-->" not in lines[0]:
            lines = lines[1:]  # cue identifier
        match = TIMING.fullmatch(lines[0])
        assert match, f"bad timing line {lines[0]!r}"
        start = _seconds(*match.groups()[:4])
        end = _seconds(*match.groups()[4:])
        assert end > start
        payload = lines[1:]
        assert payload and all(line.strip() for line in payload)
        text = "\n".join(payload)
        assert "-->" not in text
        assert "<" not in text and ">" not in text
        assert "&" not in ENTITY.sub("", text), "bare ampersand in cue text"
        cues.append((start, end, text))
    return cues


@pytest.fixture(scope="module", autouse=True)
def _tools_present() -> None:
    missing = [tool for tool in ("espeak-ng", "opusenc") if shutil.which(tool) is None]
    assert not missing, f"install Debian packages espeak-ng and opus-tools (missing {missing})"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_synthesize_produces_ogg_opus_with_ordered_cues(lang: str) -> None:
    text = SAMPLES[lang]
    narration = synthesize(text, lang)

    assert narration.mime == "audio/ogg"
    assert narration.audio.startswith(b"OggS")
    assert b"OpusHead" in narration.audio[:200]
    # Three short sentences: a few seconds of speech, not silence and not minutes.
    assert 2.0 < narration.duration_s < 30.0
    # Low-bitrate speech: well under 6 kB per second of audio.
    assert len(narration.audio) < 6000 * narration.duration_s

    assert [cue.text for cue in narration.cues] == split_sentences(text)
    assert len(narration.cues) == 3
    previous_end = 0.0
    for cue in narration.cues:
        assert cue.start >= previous_end
        assert cue.end > cue.start
        previous_end = cue.end
    assert narration.cues[0].start == 0.0
    assert narration.cues[-1].end == pytest.approx(narration.duration_s, abs=0.01)


def test_synthesize_is_reproducible() -> None:
    assert synthesize(SAMPLES["en"], "en").audio == synthesize(SAMPLES["en"], "en").audio


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_webvtt_of_narration_parses(lang: str) -> None:
    narration = synthesize(SAMPLES[lang], lang)
    parsed = parse_webvtt_strict(webvtt(narration.cues))
    assert [text for _, _, text in parsed] == [cue.text for cue in narration.cues]
    for (start, end, _), cue in zip(parsed, narration.cues, strict=True):
        assert start == pytest.approx(cue.start, abs=0.001)
        assert end == pytest.approx(cue.end, abs=0.001)


def test_webvtt_escapes_and_formats_long_times() -> None:
    cues = [
        Cue(start=0.0, end=1.5, text="Trà & cà phê <ngon>"),
        Cue(start=3725.25, end=3726.0, text="a --> b"),
    ]
    document = webvtt(cues)
    assert "Trà &amp; cà phê &lt;ngon&gt;" in document
    assert "01:02:05.250 --> 01:02:06.000" in document
    parsed = parse_webvtt_strict(document)
    assert len(parsed) == 2


def test_webvtt_rejects_inverted_cue() -> None:
    with pytest.raises(ValueError):
        webvtt([Cue(start=2.0, end=1.0, text="x")])


@pytest.mark.parametrize("lang", ["fr", "VI", "", "vi-VN"])
def test_unsupported_language_raises(lang: str) -> None:
    with pytest.raises(UnsupportedLanguage) as caught:
        synthesize("Xin chào.", lang)
    assert isinstance(caught.value, ValueError)


def test_rejects_empty_text_and_option_like_voice() -> None:
    with pytest.raises(ValueError):
        synthesize("   ", "vi")
    with pytest.raises(ValueError):
        synthesize("Hello.", "en", voice="--stdout")


def test_text_that_looks_like_options_is_spoken_not_parsed() -> None:
    narration = synthesize("-w /tmp/x.wav --help. Second sentence.", "en")
    assert narration.audio.startswith(b"OggS")
    assert len(narration.cues) == 2
