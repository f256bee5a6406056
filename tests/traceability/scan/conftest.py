"""Fixtures of the scan side's tests."""

from typing import Any

import pytest

from tests.support.factories import stored_batch, stored_organization


@pytest.fixture
async def batch(db: Any) -> dict[str, Any]:
    """A registered batch of a stored producer (GTIN product, lot TC-2025/07)."""
    return await stored_batch(db, await stored_organization(db))
