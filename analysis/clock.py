"""The package's one clock: "now" and "today" in one stated time zone.

Every date the package derives from the wall clock (the default as-of date, "Generated" stamps,
schema bounds such as "not after this year", cache ages) comes from here, so that

* the as-of date and the "Generated" stamp agree: both use UTC unless ``AIBUBBLE_TZ`` names an
  IANA time zone (``Europe/Paris``), and
* tests and reproducible reruns can fix "today": ``AIBUBBLE_TODAY=2030-01-01`` makes
  :func:`today` return that date (and :func:`now` that date at 12:00 in the zone). The variable
  is inherited by the notebook kernels a run starts, so a whole report sees the same day.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TZ_ENV = "AIBUBBLE_TZ"
TODAY_ENV = "AIBUBBLE_TODAY"


def zone() -> dt.tzinfo:
    """The time zone of every date the package derives from the clock (UTC by default)."""
    name = os.environ.get(TZ_ENV, "").strip()
    if not name or name.upper() == "UTC":
        return dt.timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        from analysis.errors import ConfigError

        raise ConfigError(f"{TZ_ENV}={name!r} is not a known time zone (e.g. UTC, Europe/Paris)") from None


def zone_name() -> str:
    z = zone()
    return "UTC" if z is dt.timezone.utc else str(z)


def now() -> dt.datetime:
    """The current time, aware, in :func:`zone` (noon of ``AIBUBBLE_TODAY`` when that is set)."""
    fixed = os.environ.get(TODAY_ENV, "").strip()
    if fixed:
        try:
            day = dt.date.fromisoformat(fixed)
        except ValueError:
            from analysis.errors import ConfigError

            raise ConfigError(f"{TODAY_ENV}={fixed!r} is not a date in YYYY-MM-DD form") from None
        return dt.datetime.combine(day, dt.time(12, 0), tzinfo=zone())
    return dt.datetime.now(zone())


def today() -> dt.date:
    """Today's date in :func:`zone` (or ``AIBUBBLE_TODAY``)."""
    return now().date()


def stamp() -> str:
    """``now()`` as an ISO 8601 stamp with its offset, to the second (history, run records)."""
    return now().isoformat(timespec="seconds")
