"""One clock, one time zone; AIBUBBLE_TODAY fixes today."""

from __future__ import annotations

import datetime as dt

import pytest

from analysis import clock
from analysis.errors import ConfigError


def test_default_zone_is_utc_and_today_can_be_fixed(monkeypatch):
    monkeypatch.delenv("AIBUBBLE_TZ", raising=False)
    monkeypatch.delenv("AIBUBBLE_TODAY", raising=False)
    assert clock.now().utcoffset() == dt.timedelta(0)
    monkeypatch.setenv("AIBUBBLE_TODAY", "2030-01-01")
    assert clock.today() == dt.date(2030, 1, 1)
    assert clock.stamp() == "2030-01-01T12:00:00+00:00"


def test_named_zones_and_bad_settings(monkeypatch):
    monkeypatch.setenv("AIBUBBLE_TZ", "Asia/Tokyo")
    monkeypatch.setenv("AIBUBBLE_TODAY", "2030-01-01")
    assert clock.now().utcoffset() == dt.timedelta(hours=9)
    assert clock.zone_name() == "Asia/Tokyo"
    monkeypatch.setenv("AIBUBBLE_TZ", "Mars/Olympus")
    with pytest.raises(ConfigError, match="not a known time zone"):
        clock.now()
    monkeypatch.setenv("AIBUBBLE_TZ", "UTC")
    monkeypatch.setenv("AIBUBBLE_TODAY", "soon")
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        clock.today()
