"""Client-side pacing under the documented push limits, on a fake clock."""

from __future__ import annotations

from target_powerbi.pacing import PushLimits, PushPacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_121st_post_in_a_minute_waits_for_the_window_to_open():
    clock = FakeClock()
    pacer = PushPacer(PushLimits(), clock=clock, sleep=clock.sleep)
    for _ in range(120):
        pacer.before_post(10)
    assert clock.sleeps == []
    pacer.before_post(10)
    assert clock.sleeps == [60.0]


def test_rows_per_hour_limit_delays_the_post_that_would_cross_it():
    clock = FakeClock()
    pacer = PushPacer(PushLimits(rows_per_hour=25_000), clock=clock, sleep=clock.sleep)
    pacer.before_post(10_000)
    clock.now += 10
    pacer.before_post(10_000)
    pacer.before_post(10_000)
    assert clock.sleeps == [3590.0]


def test_large_tables_are_limited_to_120_posts_an_hour():
    clock = FakeClock()
    pacer = PushPacer(PushLimits(), clock=clock, sleep=clock.sleep)
    for _ in range(120):
        pacer.before_post(1, largest_table_rows=300_000)
        clock.now += 1
    pacer.before_post(1, largest_table_rows=300_000)
    assert round(sum(clock.sleeps)) == 3600 - 120
