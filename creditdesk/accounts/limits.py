"""Fixed-window counters in the cache (shared by every worker), for limits a view's throttle cannot
express: per recipient of an invitation, per IP-and-email failures of a sign-in."""

import time

from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.throttling import SimpleRateThrottle


def rate_or_none(rate: str) -> str | None:
    return None if rate.strip().lower() in {"", "off", "none", "0"} else rate


def _window(rate: str) -> tuple[int, int]:
    limit, seconds = SimpleRateThrottle.parse_rate(None, rate)  # type: ignore[arg-type]
    assert limit is not None and seconds is not None
    return limit, seconds


def _key(scope: str, ident: str, seconds: int) -> tuple[str, int]:
    now = int(time.time())
    return f"limit:{scope}:{ident}:{now // seconds}", seconds - now % seconds


def count(*, scope: str, ident: str, rate: str) -> None:
    """Counts one event; raises Throttled (a 429) once the window's limit is passed."""
    if rate_or_none(rate) is None:
        return
    limit, seconds = _window(rate)
    key, wait = _key(scope, ident, seconds)
    cache.add(key, 0, timeout=seconds + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # the key expired between add and incr: a new window
        cache.add(key, 1, timeout=seconds + 1)
        used = 1
    if used > limit:
        raise Throttled(wait=wait)


def is_exhausted(*, scope: str, ident: str, rate: str) -> int | None:
    """Seconds until the window ends when its limit is reached, else None (counts nothing)."""
    if rate_or_none(rate) is None:
        return None
    limit, seconds = _window(rate)
    key, wait = _key(scope, ident, seconds)
    return wait if (cache.get(key) or 0) >= limit else None


def count_only(*, scope: str, ident: str, rate: str) -> None:
    """Counts one event without refusing it (a failure that is judged on the next attempt)."""
    if rate_or_none(rate) is None:
        return
    _limit, seconds = _window(rate)
    key, _wait = _key(scope, ident, seconds)
    if not cache.add(key, 1, timeout=seconds + 1):
        try:
            cache.incr(key)
        except ValueError:
            cache.add(key, 1, timeout=seconds + 1)


def reset(*, scope: str, ident: str, rate: str) -> None:
    if rate_or_none(rate) is None:
        return
    _limit, seconds = _window(rate)
    cache.delete(_key(scope, ident, seconds)[0])
