"""Digital Link syntax: parsing with percent-decoding and check digits, and the canonical URI we print."""

import pytest

from service.traceability.identifiers.digital_link import (
    MAX_PATH_LENGTH,
    DigitalLink,
    DigitalLinkError,
    batch_uri,
    parse_digital_link,
    parse_short_link,
)


def test_parses_every_level_and_normalises_the_gtin() -> None:
    assert parse_digital_link("/01/8935049510017") == DigitalLink(gtin="08935049510017")
    assert parse_digital_link("/01/08935049510017/10/ABC1") == DigitalLink(gtin="08935049510017", lot="ABC1")
    assert parse_digital_link("/01/08935049510017/10/ABC1/21/X9") == DigitalLink(
        gtin="08935049510017", lot="ABC1", serial="X9"
    )
    assert parse_digital_link("/01/08935049510017/21/X9").serial == "X9"


def test_percent_encoded_values_are_decoded_and_re_encoded_canonically() -> None:
    link = parse_digital_link("/01/08935049510017/10/TC-2025%2F07")
    assert link.lot == "TC-2025/07"
    assert link.uri("https://trace.example.vn/") == "https://trace.example.vn/01/08935049510017/10/TC-2025%2F07"


def test_trailing_slash_is_tolerated() -> None:
    assert parse_digital_link("/01/08935049510017/10/A1/").lot == "A1"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/01/08935049510011", "invalid_gtin"),  # wrong check digit
        ("/01/8935049510011", "invalid_gtin"),  # 13 digits with a wrong check digit
        ("/01/089350495100AB", "invalid_gtin"),
        ("/01/08935049510017/10/caf%C3%A9", "invalid_ai_value"),  # é is outside set 82
        ("/01/08935049510017/10/a%20b", "invalid_ai_value"),  # space
        ("/01/08935049510017/10/" + "A" * 21, "invalid_ai_value"),
        ("/01/08935049510017/10/%ZZ", "invalid_digital_link"),
        ("/01/08935049510017/10/%FF", "invalid_digital_link"),
        ("/01/08935049510017/21/S/10/L", "invalid_digital_link"),  # qualifiers out of order
        ("/01/08935049510017/22/X", "invalid_digital_link"),
        ("/01/08935049510017//10/A", "invalid_digital_link"),
        ("/01/08935049510017/10", "invalid_digital_link"),
        ("/01/" + "1" * MAX_PATH_LENGTH, "path_too_long"),
    ],
)
def test_syntax_errors_say_what_is_wrong(path: str, code: str) -> None:
    with pytest.raises(DigitalLinkError) as caught:
        parse_digital_link(path)
    assert caught.value.code == code


def test_short_links_use_the_unambiguous_alphabet() -> None:
    assert parse_short_link("/q/ABCDEFGH23/XYZ9").serial == "XYZ9"
    for bad in ("/q/ABC0", "/q/abcdefgh", "/q/" + "A" * 21, "/q/A/B/C"):
        with pytest.raises(DigitalLinkError):
            parse_short_link(bad)


def test_batch_uri_prefers_the_digital_link() -> None:
    assert batch_uri("https://t.vn", gtin14="08935049510017", lot="L/1", code="ABCDEFGH", serial="S1") == (
        "https://t.vn/01/08935049510017/10/L%2F1/21/S1"
    )
    assert batch_uri("https://t.vn", gtin14="08935049510017", lot="L1", code="ABCDEFGH") == (
        "https://t.vn/01/08935049510017/10/L1"
    )
    assert (
        batch_uri("https://t.vn", gtin14=None, lot="L1", code="ABCDEFGH", serial="S2") == "https://t.vn/q/ABCDEFGH/S2"
    )
