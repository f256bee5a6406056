"""Synthesise the seeded narration of every point of interest, in Vietnamese and English.

Writes service/tourism/seed/audio/<site>/<poi>.<lang>.opus and <poi>.<lang>.cues.json.
Run from the repository root: python -m tools.make_seed_audio
"""

import hashlib
import sys
from pathlib import Path
from typing import Any

import msgspec

from service.tourism.media.narration import Cue, synthesize

SEED_DIR = Path(__file__).resolve().parent.parent / "service" / "tourism" / "seed"
LANGUAGES = ("vi", "en")


class CueFile(msgspec.Struct):
    """Sidecar written next to each audio file, checked by the tests."""

    site: str
    poi: str
    lang: str
    mime: str
    duration_s: float
    sha256: str
    bytes: int
    cues: list[Cue]


def main() -> int:
    seed: dict[str, Any] = msgspec.json.decode((SEED_DIR / "sites.json").read_bytes())
    audio_root = SEED_DIR / "audio"
    total = 0
    for site in seed["sites"]:
        site_dir = audio_root / site["slug"]
        site_dir.mkdir(parents=True, exist_ok=True)
        for poi in site["pois"]:
            for lang in LANGUAGES:
                narration = synthesize(poi["text"][lang], lang)
                audio_path = site_dir / f"{poi['slug']}.{lang}.opus"
                audio_path.write_bytes(narration.audio)
                sidecar = CueFile(
                    site=site["slug"],
                    poi=poi["slug"],
                    lang=lang,
                    mime=narration.mime,
                    duration_s=narration.duration_s,
                    sha256=hashlib.sha256(narration.audio).hexdigest(),
                    bytes=len(narration.audio),
                    cues=narration.cues,
                )
                cues_path = site_dir / f"{poi['slug']}.{lang}.cues.json"
                cues_path.write_bytes(msgspec.json.format(msgspec.json.encode(sidecar)) + b"\n")
                total += len(narration.audio)
                print(f"{audio_path.relative_to(SEED_DIR)}: {narration.duration_s:.1f} s, {len(narration.audio)} B")
    print(f"total audio: {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
