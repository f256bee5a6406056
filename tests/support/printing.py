"""Functions the PDF process can run for tests (module-level, so they cross the process boundary)."""

import sys


def imported(module: str) -> bytes:
    """Whether the PDF process has imported this module already (b"yes"/b"no")."""
    return b"yes" if module in sys.modules else b"no"
