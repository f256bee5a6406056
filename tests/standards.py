"""Where the official standards files are: ../shared/standards beside the repository (also in CI)."""

from pathlib import Path

STANDARDS = Path(__file__).resolve().parent.parent.parent / "shared" / "standards"
