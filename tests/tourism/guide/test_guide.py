"""The guide endpoint: zones, dwell, cooldown, play-once, GPS accuracy, language fallback, next stop."""

from datetime import timedelta

from tests.support.tourism import NOW, P1, P2, P3, Client, ask, assert_problem, report


async def test_inside_zone_after_dwell_plays_in_the_asked_language(client: Client, published_site: str) -> None:
    since = (NOW - timedelta(seconds=6)).isoformat()
    answer = await ask(client, report(P1, inside=[{"point": "p1", "since": since}]))
    assert answer["action"] == "play"
    assert answer["reason"] == "in_zone"
    assert answer["play"]["point"] == "p1"
    assert answer["play"]["lang"] == "vi"
    assert answer["play"]["lang_fallback"] is False
    assert answer["play"]["track"]["lang"] == "vi"
    assert answer["play"]["track"]["url"].startswith("https://trace.example.vn/api/v1/tracks/")
    assert answer["next_stop"]["point"] == "p2"
    assert 100 < answer["next_stop"]["distance_m"] < 150
    assert 30 < answer["next_stop"]["bearing_deg"] < 60  # north-east


async def test_dwell_not_reached_waits_and_says_how_long(client: Client, published_site: str) -> None:
    answer = await ask(client, report(P1))
    assert answer["action"] == "wait"
    assert answer["reason"] == "dwell"
    assert answer["zone"]["wait_s"] == 5
    assert answer["inside"] == ["p1"]  # the app starts its dwell timer for p1
    assert answer["play"] is None
    since = (NOW - timedelta(seconds=2)).isoformat()
    answer = await ask(client, report(P1, inside=[{"point": "p1", "since": since}]))
    assert answer["reason"] == "dwell"
    assert answer["zone"]["wait_s"] == 3


async def test_play_once_is_not_repeated(client: Client, published_site: str) -> None:
    first = await ask(client, report(P2))
    assert first["action"] == "play"
    heard = [{"point": "p2", "at": (NOW - timedelta(days=2)).isoformat()}]
    again = await ask(client, report(P2, heard=heard))
    assert again["action"] == "none"
    assert again["reason"] == "already_heard"


async def test_cooldown_then_replay(client: Client, published_site: str) -> None:
    recently = [{"point": "p3", "at": (NOW - timedelta(seconds=60)).isoformat()}]
    answer = await ask(client, report(P3, heard=recently))
    assert answer["action"] == "wait"
    assert answer["reason"] == "cooldown"
    assert answer["zone"]["wait_s"] == 540
    long_ago = [{"point": "p3", "at": (NOW - timedelta(seconds=601)).isoformat()}]
    assert (await ask(client, report(P3, heard=long_ago)))["action"] == "play"


async def test_poor_accuracy_never_plays_but_still_guides(client: Client, published_site: str) -> None:
    since = (NOW - timedelta(seconds=60)).isoformat()
    wider_than_zone = await ask(client, report(P1, accuracy_m=45, inside=[{"point": "p1", "since": since}]))
    assert wider_than_zone["action"] == "none"
    assert wider_than_zone["reason"] == "poor_accuracy"
    assert wider_than_zone["accuracy_ok"] is False
    assert wider_than_zone["next_stop"]["point"] == "p1"
    very_poor = await ask(client, report(P1, accuracy_m=250))
    assert very_poor["play"] is None
    assert very_poor["next_stop"] is not None


async def test_language_fallback_is_announced(client: Client, published_site: str) -> None:
    answer = await ask(client, report(P3, lang="vi"))
    assert answer["play"]["point"] == "p3"
    assert answer["play"]["lang"] == "en"  # p3 has only English: vi -> en
    assert answer["play"]["lang_fallback"] is True
    fr = await ask(client, report(P2, lang="fr"))
    assert fr["play"]["lang"] == "vi"  # fr -> vi (the site's first language)
    assert fr["play"]["lang_fallback"] is True


async def test_outside_every_zone_points_to_the_next_unheard_stop(client: Client, published_site: str) -> None:
    heard = [{"point": "p1", "at": NOW.isoformat()}]
    answer = await ask(client, report((21.5600, 105.7200), heard=heard, tour="vong-ho"))
    assert answer["action"] == "none"
    assert answer["reason"] == "outside"
    assert answer["next_stop"]["point"] == "p2"
    assert answer["next_stop"]["distance_m"] > 500


async def test_bad_reports(client: Client, published_site: str, draft_site: str) -> None:
    assert_problem(
        await client.post("/api/v1/guide/position", json=report(P1, lang="klingon")), 422, "unknown_language"
    )
    assert_problem(await client.post("/api/v1/guide/position", json=report(P1, lang="xx")), 422, "unknown_language")
    assert_problem(await client.post("/api/v1/guide/position", json=report((95.0, 105.0))), 400, "validation_failed")
    assert_problem(await client.post("/api/v1/guide/position", json=report(P1, site="khong-co")), 404, "site_not_found")


async def test_drafts_do_not_guide(client: Client, draft_site: str) -> None:
    assert_problem(await client.post("/api/v1/guide/position", json=report(P1)), 404, "site_not_found")
