"""Batch codes, lots and unit serials: unguessable, easy to read aloud, every symbol equally likely."""

from collections import Counter

from service.traceability.identifiers.gs1 import CODE_ALPHABET, random_code


def test_codes_use_only_the_unambiguous_symbols_at_the_length_asked() -> None:
    for length in (1, 4, 13, 20):
        code = random_code(length)
        assert len(code) == length
        assert set(code) <= set(CODE_ALPHABET)
    assert not set("01OIl") & set("".join(random_code(13) for _ in range(500)))


def test_every_symbol_is_equally_likely_and_codes_do_not_repeat() -> None:
    codes = [random_code(16) for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    counts = Counter("".join(codes))
    assert set(counts) == set(CODE_ALPHABET)
    # 32,000 symbols: 1,000 of each expected, standard deviation ~31; a skewed mapping is far outside this
    assert all(800 < n < 1200 for n in counts.values()), counts
