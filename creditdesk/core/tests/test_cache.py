import pytest

from creditdesk.core.cache import RedisSerializer

VALUES = [
    0,
    -42,
    2**62,
    True,
    b"",
    b"123",  # bytes that look like an int
    b"\x80\x05pickle-looking",
    b"\x00starts-with-the-marker",
    b'{"success":true,"data":{}}',
    "text",
    {"nested": [1, "two", None]},
    None,
]


@pytest.mark.parametrize("value", VALUES)
def test_every_value_comes_back_as_it_went_in(value: object) -> None:
    serializer = RedisSerializer()
    stored = serializer.dumps(value)
    back = serializer.loads(stored if isinstance(stored, bytes) else str(stored).encode())
    assert back == value and type(back) is type(value)


def test_bytes_are_stored_as_they_are_behind_one_marker_byte() -> None:
    body = b'{"success":true,"data":{"days":365}}'
    assert RedisSerializer().dumps(body) == b"\x00" + body


def test_through_a_real_redis_ints_still_count_and_bytes_round_trip() -> None:
    redis = pytest.importorskip("redis")
    from django.core.cache.backends.redis import RedisCache

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    cache = RedisCache(
        "redis://127.0.0.1:6379/15",
        {
            "KEY_PREFIX": "creditdesk-test-cache",
            "OPTIONS": {"serializer": "creditdesk.core.cache.RedisSerializer"},
        },
    )
    try:
        cache.set("counter", 1)
        assert cache.incr("counter", 4) == 5 and cache.get("counter") == 5
        body = b"\x80" + bytes(range(256)) * 100
        cache.set("body", body)
        assert cache.get("body") == body
        cache.set("dict", {"a": [1, 2]})
        assert cache.get_many(["dict", "body"]) == {"dict": {"a": [1, 2]}, "body": body}
    finally:
        cache.delete_many(["counter", "body", "dict"])
