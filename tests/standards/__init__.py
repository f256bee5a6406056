"""Official standards files the tests validate against, kept unchanged inside the repository.

Copied from the team's shared/standards (GS1's public repositories; see README.md here for each
source and licence), so that a fresh clone's `make test` needs nothing beside the repository.
"""

from pathlib import Path

STANDARDS = Path(__file__).resolve().parent
