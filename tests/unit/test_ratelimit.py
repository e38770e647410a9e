"""The rate limiter's token buckets: a second's burst per key, refilled at the rate, per key."""

from __future__ import annotations

from openissuing.api import ratelimit
from openissuing.api.ratelimit import TokenBuckets


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_the_rate_passes_then_the_bucket_is_empty():
    time = FakeTime()
    buckets = TokenBuckets(25, now=time)
    assert [buckets.take("sk_a") for _ in range(26)] == [True] * 25 + [False]
    assert buckets.take("sk_a") is False  # a refusal spends nothing, and nothing came back


def test_tokens_come_back_at_the_rate_and_never_beyond_one_second_of_burst():
    time = FakeTime()
    buckets = TokenBuckets(25, now=time)
    for _ in range(25):
        buckets.take("sk_a")
    time.now += 0.2  # 0.2 s at 25/s: five operations
    assert [buckets.take("sk_a") for _ in range(6)] == [True] * 5 + [False]
    time.now += 3600  # an idle hour refills one second's worth, not an hour's
    assert sum(buckets.take("sk_a") for _ in range(30)) == 25


def test_each_key_has_its_own_bucket():
    time = FakeTime()
    buckets = TokenBuckets(100, now=time)
    assert all(buckets.take("sk_a") for _ in range(100))
    assert buckets.take("sk_a") is False
    assert all(buckets.take("sk_b") for _ in range(100))


def test_the_settings_map_to_stripes_rates():
    assert ratelimit.limiter_for("off") is None
    assert ratelimit.limiter_for("sandbox").rate == 25
    assert ratelimit.limiter_for("live").rate == 100
