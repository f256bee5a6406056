"""The label sheets' QR encoder draws exactly the codes qrcode draws, only faster."""

import random
import string

import pytest

from service.core.qr import ErrorCorrection, PackedSymbol, SheetEncoder, pack_matrix, qr_matrix

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
            assert encoder.packed(content) == pack_matrix(expected), content


def test_a_content_longer_than_the_sheet_fitted_for_gets_its_own_version() -> None:
    encoder = SheetEncoder(["https://trace.example.vn/q/ABC"], quiet_zone=4)
    longer = "https://trace.example.vn/q/" + "X" * 200
    assert encoder.packed(longer) == pack_matrix(qr_matrix(longer, quiet_zone=4, fast=True))


@pytest.mark.parametrize("length", [13, 600])  # the sheet's stream tables, and the per-code division past them
def test_packed_symbols_are_the_matrices_row_by_row(length: int) -> None:
    """What the sheet draws (rows of bits padded to bytes, 1 = dark) is the matrix qrcode gives, bit for bit."""
    contents = [f"https://trace.example.vn/01/08939990200017/21/{c * length}" for c in "ABC"]
    encoder = SheetEncoder(contents, quiet_zone=2)
    for content in [*contents, contents[0] + "-longer-than-the-sheet-was-fitted-for" * 3]:
        matrix = qr_matrix(content, quiet_zone=2, fast=True)
        side, rows = encoder.packed(content)
        width = (side + 7) // 8
        assert side == len(matrix) and len(rows) == side * width
        unpacked = [[bool(rows[r * width + c // 8] & (0x80 >> (c % 8))) for c in range(side)] for r in range(side)]
        assert unpacked == matrix, content


def test_packing_pads_each_row_to_whole_bytes() -> None:
    assert pack_matrix([[True, False, True], [False, False, True], [True, True, True]]) == PackedSymbol(
        3, bytes([0b10100000, 0b00100000, 0b11100000])
    )
