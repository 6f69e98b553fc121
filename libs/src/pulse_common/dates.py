"""The one range of dates Pulse accepts, for every date a post, a record or a query carries.

Anyone can post on Bluesky with `createdAt` `0001-01-01T00:00:00+01:00` or `9999-12-31T23:59:59-01:00`:
converting those to UTC overflows, and a month far in the future would give OpenSearch a monthly
index of its own. A date is accepted when, in UTC, it lies in [EARLIEST, now + MAX_FUTURE]:
nothing Pulse reads is older than the first post on X (March 2006), and a client clock may run a
little ahead, never a day. The upper bound only moves forward, so a date accepted once (by the
producer) is accepted again later (by the enricher, a redrive, a replay).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EARLIEST = datetime(2006, 3, 21, tzinfo=UTC)  # the first post on X
MAX_FUTURE = timedelta(days=1)  # how far ahead of this machine's clock a sender's clock may be


class DateOutOfRange(ValueError):
    """A date outside [EARLIEST, now + MAX_FUTURE]; the message says the range."""


def latest_accepted(now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) + MAX_FUTURE


def bounded_utc(value: datetime, *, now: datetime | None = None) -> datetime:
    """`value` in UTC (naive means UTC) if it lies in the accepted range; DateOutOfRange if not."""
    try:
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        moment = None  # year 1 or 9999 with an offset: not representable in UTC, far outside anyway
    latest = latest_accepted(now)
    if moment is None or not EARLIEST <= moment <= latest:
        raise DateOutOfRange(
            f"date {str(value)[:40]} is outside the accepted range "
            f"{EARLIEST:%Y-%m-%d} .. {latest:%Y-%m-%dT%H:%MZ} (UTC)"
        )
    return moment
