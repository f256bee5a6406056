"""Vietnam's clock: one fixed +07:00 offset (no daylight saving, so a fixed offset is exact) and its today()."""

from datetime import date, datetime, timedelta, timezone

VN_OFFSET = "+07:00"
VN_TZ = timezone(timedelta(hours=7), VN_OFFSET)


def now() -> datetime:
    """The current time, aware, in Vietnam."""
    return datetime.now(VN_TZ)


def today() -> date:
    """Today's date in Vietnam (a server in UTC is still on yesterday until 07:00 there)."""
    return now().date()
