"""`labloop retrain --every 24h --at 02:00`: when the next scheduled pass is due (the compose service uses it)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> timedelta:
    """'30m', '6h', '1d' -> timedelta; ValueError with the accepted forms otherwise."""
    match = _INTERVAL.match(text or "")
    if not match or float(match[1]) <= 0:
        raise ValueError(f"interval {text!r} is not like 30m, 6h or 1d")
    return timedelta(seconds=float(match[1]) * _UNITS[match[2].lower()])


def parse_at(text: str) -> time:
    """'02:00' -> time(2, 0) in UTC; ValueError otherwise."""
    match = re.match(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$", text or "")
    if not match:
        raise ValueError(f"time of day {text!r} is not like 02:00 (24-hour, UTC)")
    return time(int(match[1]), int(match[2]))


def next_run(now: datetime, every: timedelta, at: time | None) -> datetime:
    """The first slot after `now`: `at` (UTC) plus whole multiples of `every`, or simply now + every."""
    if at is None:
        return now + every
    slot = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0) - timedelta(days=1)
    while slot <= now:
        slot += every
    return slot
