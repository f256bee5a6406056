"""The label sheets' QR encoder draws exactly the codes qrcode draws, only faster."""

import random
import string

import pytest

from service.core.qr import ErrorCorrection, SheetEncoder, qr_matrix

ALPHABET = string.ascii_letters + string.digits + "-._~"


@pytest.mark.parametrize("error_correction", ["L", "M", "Q", "H"])
@pytest.mark.parametrize("length", [1, 9, 20, 33, 60, 120, 250, 600])
def test_sheet_codes_are_qrcodes_own_module_for_module(error_correction: ErrorCorrection, length: int) -> None:
    """Every version from 3 to 35 and every error-correction level: blocks, interleaving, padding, version info."""
    rng = random.Random(f"{length}{error_correction}")
    serials = ["".join(rng.choice(ALPHABET) for _ in range(length)) for _ in range(4)]
    numeric = "".join(rng.choice(string.digits) for _ in range(length + 25))  # a numeric segment inside the URI
    contents = [f"https://trace.example.vn/01/08939990200017/21/{s}" for s in serials]
    contents.append(f"https://trace.example.vn/q/{numeric}"[: len(contents[0])])
    encoder = SheetEncoder(contents, quiet_zone=2, error_correction=error_correction)
    for content in contents:
        expected = qr_matrix(content, quiet_zone=2, error_correction=error_correction, fast=True)
        if len(expected) == encoder.version * 4 + 17 + 4:  # fits the sheet's version on its own too
            assert encoder.matrix(content) == expected, content


def test_a_content_longer_than_the_sheet_fitted_for_gets_its_own_version() -> None:
    encoder = SheetEncoder(["https://trace.example.vn/q/ABC"], quiet_zone=4)
    longer = "https://trace.example.vn/q/" + "X" * 200
    assert encoder.matrix(longer) == qr_matrix(longer, quiet_zone=4, fast=True)
