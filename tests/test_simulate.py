"""The queueing simulation against queueing theory and by hand: M/M/1 and M/M/c (Erlang C) waits,
working hours, Amdahl's law when nothing queues, the scenarios' direction, determinism."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from leadlens.analysis.sim_backtest import Window, summarise
from leadlens.analysis.sim_calibrate import calibrate
from leadlens.analysis.sim_pool import Pool, backlog, capped_effort, working_hours
from leadlens.analysis.sim_queues import advance
from leadlens.analysis.sim_results import run_replications
from leadlens.analysis.simulate import Scenario, replicate
from leadlens.analysis.whatif import scenario_speedup

H = 3600.0
ALL_DAY = [0.0, *np.cumsum(np.full(24, H)).tolist()]


def queue_pool(per_day: float, mean_service_h: float, reviewers: int, *, n: int = 50_000,
               seed: int = 7) -> Pool:
    """Poisson arrivals (Poisson days, uniform times of day), exponential service, reviewers at
    work all day, nothing but the review queue: an M/M/c system."""
    rng = np.random.default_rng(seed)
    return Pool(start=date(2024, 1, 1), end=date(2024, 4, 1), stages=("pickup",),
                seconds=np.zeros((n, 1)), queued=np.ones(n, dtype=bool),
                reviewer=rng.integers(0, reviewers, n), rounds=np.ones(n, dtype=np.int64),
                effort_s=rng.exponential(mean_service_h * H, n),
                author=np.zeros(n, dtype=np.int64), size=np.full(n, "S"),
                arrivals=rng.poisson(per_day, 20_000).astype(float),
                time_of_day=rng.uniform(0, 86_400, 100_000),
                hours=np.ones((reviewers, 24), dtype=bool))


def mean_sojourn_h(pool: Pool, sc: Scenario, days: int = 3000, reps: int = 2) -> float:
    runs = [replicate(pool, sc, days=days, warmup_days=50, seed=s) for s in range(reps)]
    return float(np.mean(np.concatenate([r.pickup_s for r in runs]))) / H


def erlang_c(c: int, a: float) -> float:
    """The chance an arrival waits in an M/M/c queue with offered load ``a`` (= lambda/mu)."""
    top = a**c / math.factorial(c) / (1 - a / c)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def test_mm1_waiting_time() -> None:
    # lambda = 7.5/day = 0.3125/h, mu = 1/1.6 h = 0.625/h: rho 0.5, W = 1 / (mu - lambda) = 3.2 h.
    got = mean_sojourn_h(queue_pool(7.5, 1.6, 1), Scenario())
    assert got == pytest.approx(3.2, rel=0.05)


def test_mmc_waiting_time_is_erlang_c() -> None:
    # One shared queue, 3 reviewers: lambda = 30/day = 1.25/h, mu = 0.625/h, a = 2, rho = 2/3;
    # W = C(3, 2) / (3 mu - lambda) + 1 / mu = 0.4444 / 0.625 + 1.6 = 2.311 h.
    expected = erlang_c(3, 2.0) / (3 * 0.625 - 1.25) + 1.6
    assert expected == pytest.approx(2.3111, abs=1e-3)
    got = mean_sojourn_h(queue_pool(30.0, 1.6, 3), Scenario(pooled=True))
    assert got == pytest.approx(expected, rel=0.05)


def test_separate_queues_wait_longer_than_one_shared_queue() -> None:
    pool = queue_pool(30.0, 1.6, 3)
    own = mean_sojourn_h(pool, Scenario(), days=1500, reps=1)
    shared = mean_sojourn_h(pool, Scenario(pooled=True), days=1500, reps=1)
    # Three M/M/1 queues at rho 2/3: W = 1 / (0.625 - 0.4167) = 4.8 h, against 2.31 pooled.
    assert own == pytest.approx(4.8, rel=0.08)
    assert shared < own / 1.8


def test_advance_counts_working_hours_only() -> None:
    assert advance(1000.0, 600.0, ALL_DAY) == 1600.0
    assert advance(1000.0, 0.0, ALL_DAY) == 1000.0
    nine_to_five = [0.0] * 10 + [min(h - 9, 8) * H for h in range(10, 25)]
    assert len(nine_to_five) == 25 and nine_to_five[24] == 8 * H
    # 16:00 + 2 working hours: one today (16-17), one tomorrow from 09:00 -> 10:00 the next day.
    assert advance(16 * H, 2 * H, nine_to_five) == 86_400 + 10 * H
    # 20:00 (after hours) + 30 minutes: 09:30 the next day.
    assert advance(20 * H, 0.5 * H, nine_to_five) == 86_400 + 9.5 * H
    # Exactly a day's work from 09:00 ends at 17:00 the same day, not 09:00 the next.
    assert advance(9 * H, 8 * H, nine_to_five) == 17 * H


def test_working_hours_are_the_fewest_holding_80_percent() -> None:
    hours = np.array([9] * 4 + [10] * 3 + [11] * 2 + [20], dtype=np.int64)
    # 10 events: 9 holds 4, 10 holds 3 (7 < 8), 11 brings 9 >= 8.
    assert np.flatnonzero(working_hours(hours)).tolist() == [9, 10, 11]
    assert working_hours(np.array([], dtype=np.int64)).all()


def test_effort_is_capped_at_what_working_hours_hold() -> None:
    hours = np.zeros((2, 24), dtype=bool)
    hours[:, 9:17] = True  # 8 h a day
    effort = np.array([3600.0, 3600.0, 3600.0])
    rounds = np.array([1, 1, 1])
    # Reviewer 0: 2 h of reviews in 1 day of 8 h: under 85%, kept; reviewer 1: 1 h, kept.
    kept = capped_effort(effort, rounds, np.array([0, 0, 1]), hours, 1)
    assert kept.tolist() == [3600.0, 3600.0, 3600.0]
    # 20 rounds of 1 h in one 8 h day: scaled to 0.85 * 8 h / 20 h.
    capped = capped_effort(np.full(20, 3600.0), np.ones(20, dtype=np.int64),
                           np.zeros(20, dtype=np.int64), hours, 1)
    assert capped[0] == pytest.approx(3600.0 * 0.85 * 8 / 20)


def delay_pool(n: int = 400, seed: int = 3) -> Pool:
    """No reviews: every stage a delay (git alone). coding 1-3 days, review 1 day, release 2."""
    rng = np.random.default_rng(seed)
    sec = np.column_stack([rng.uniform(1, 3, n), np.full(n, 1.0), np.full(n, 2.0)]) * 86_400
    return Pool(start=date(2024, 1, 1), end=date(2024, 4, 1),
                stages=("coding", "review", "release"), seconds=sec,
                queued=np.zeros(n, dtype=bool), reviewer=np.full(n, -1),
                rounds=np.ones(n, dtype=np.int64), effort_s=np.full(n, 1800.0),
                author=rng.integers(0, 5, n), size=np.array(["S", "M"] * (n // 2)),
                arrivals=np.full(90, 4.0), time_of_day=rng.uniform(0, 86_400, n),
                hours=np.zeros((0, 24), dtype=bool))


def test_without_queues_the_simulation_is_amdahls_law() -> None:
    pool = delay_pool()
    shares = pool.seconds.sum(axis=0) / pool.seconds.sum()
    base, fast = (replicate(pool, sc, days=2000, warmup_days=10, seed=1) for sc in (
        Scenario(), Scenario(speedups={"coding": 2.0})))
    assert base.lead_s.size == fast.lead_s.size > 7000
    gain = base.lead_s.mean() / fast.lead_s.mean()
    assert gain == pytest.approx(scenario_speedup([(shares[0], 2.0)]), rel=0.01)
    # More arrivals change nothing where nothing queues.
    more = replicate(pool, Scenario(arrivals=1.4), days=2000, warmup_days=10, seed=1)
    assert more.lead_s.mean() == pytest.approx(base.lead_s.mean(), rel=0.02)
    assert more.throughput_per_day == pytest.approx(1.4 * base.throughput_per_day, rel=0.02)


def test_scenarios_move_the_queue_the_way_queueing_says() -> None:
    pool = queue_pool(12.0, 1.6, 2, n=20_000)  # two reviewers, rho 0.4 each

    def pickup(sc: Scenario) -> float:
        return float(np.mean(replicate(pool, sc, days=400, warmup_days=20, seed=5).pickup_s))

    base = pickup(Scenario())
    assert pickup(Scenario(arrivals=1.8)) > 1.5 * base  # rho 0.72: the wait more than doubles
    assert pickup(Scenario(reviewers=2)) < base
    assert pickup(Scenario(speedups={"pickup": 2.0})) < 0.6 * base
    assert pickup(Scenario(reviewers=-1)) > 2 * base  # one reviewer at rho 0.8


def test_wip_limit_makes_authors_wait() -> None:
    pool = replace(delay_pool(), author=np.zeros(400, dtype=np.int64))  # one author
    rep = replicate(pool, Scenario(wip=2), days=60, warmup_days=5, seed=2)
    assert rep.stage_mean_s["wip"] > 0
    assert rep.lead_s.mean() > replicate(pool, Scenario(), days=60, warmup_days=5,
                                         seed=2).lead_s.mean()


def test_review_sla_caps_the_response_delay() -> None:
    pool = replace(queue_pool(2.0, 0.25, 1, n=2000), stages=("pickup",),
                   seconds=np.full((2000, 1), 30 * H))
    free = replicate(pool, Scenario(), days=200, warmup_days=5, seed=1, latency_scale=1.0)
    sla = replicate(pool, Scenario(review_sla_h=4.0), days=200, warmup_days=5, seed=1,
                    latency_scale=1.0)
    assert np.median(free.pickup_s) > 30 * H
    assert np.median(sla.pickup_s) < 5 * H
    assert sla.sla_breaches is not None and free.sla_breaches is None


def test_size_mix_resamples_only_the_buckets_asked_for() -> None:
    pool = delay_pool()
    small = pool.seconds[pool.size == "S"].sum(axis=1).mean()
    rep = replicate(pool, Scenario(size_mix={"S": 1.0}), days=300, warmup_days=5, seed=4)
    assert rep.lead_s.mean() == pytest.approx(small, rel=0.03)


def test_same_seed_same_result_in_one_process_or_two() -> None:
    pool = queue_pool(12.0, 1.6, 2, n=5000)
    one = run_replications(pool, [Scenario(), Scenario(arrivals=1.2)], reps=6, seed=9, days=60,
                           warmup_days=10, latency_scale=0.0, jobs=1)
    two = run_replications(pool, [Scenario(), Scenario(arrivals=1.2)], reps=6, seed=9, days=60,
                           warmup_days=10, latency_scale=0.0, jobs=2)
    assert [r.mean for r in one.by_scenario[1]] == [r.mean for r in two.by_scenario[1]]
    other = run_replications(pool, [Scenario()], reps=6, seed=10, days=60, warmup_days=10,
                             latency_scale=0.0, jobs=1)
    assert [r.mean for r in other.by_scenario[0]] != [r.mean for r in one.by_scenario[0]]


def measured(kind: str, n: int = 2000, reviewers: int = 2, per_day: float = 12.0) -> Pool:
    """History made by a known mechanism, outside the simulator: Poisson readiness, two reviewers
    at work all day, and pickups that are either a FIFO queue of exponential reviews (Lindley's
    recursion: a review starts when the change is ready and the reviewer is free) or independent
    lognormal delays (median 4 h) with no queue at all."""
    rng = np.random.default_rng(5)
    ready = np.cumsum(rng.exponential(86_400 / per_day, n))
    who = rng.integers(0, reviewers, n)
    effort = rng.exponential(1.6 * H, n)
    if kind == "queue":
        pickup, free = np.zeros(n), np.zeros(reviewers)
        for i in range(n):
            free[who[i]] = max(ready[i], free[who[i]]) + effort[i]
            pickup[i] = free[who[i]] - ready[i]
    else:
        pickup = rng.lognormal(math.log(4 * H), 1.0, n)
    days = int(ready[-1] // 86_400) + 1
    return Pool(start=date(2024, 1, 1), end=date(2024, 1, 1) + timedelta(days=days),
                stages=("pickup",), seconds=pickup[:, None], queued=np.ones(n, dtype=bool),
                reviewer=who, rounds=np.ones(n, dtype=np.int64), effort_s=effort,
                author=np.zeros(n, dtype=np.int64), size=np.full(n, "S"),
                arrivals=np.bincount((ready // 86_400).astype(int), minlength=days).astype(float),
                time_of_day=ready % 86_400, hours=np.ones((reviewers, 24), dtype=bool),
                ready_s=ready)


def test_calibration_tells_queues_from_delays() -> None:
    # Queue-made pickups grow with the reviewer's backlog: the fit keeps the review effort and
    # puts almost nothing in response delay.
    queue = measured("queue")
    fit = calibrate(queue, days=(queue.end - queue.start).days, seed=3)
    assert fit.measured_backlog_correlation is not None and fit.measured_backlog_correlation > 0.4
    assert fit.effort_scale == 1.0 and fit.latency_scale < 0.25
    assert fit.simulated_pickup_s is not None and fit.measured_pickup_s is not None
    assert fit.simulated_pickup_s[0] == pytest.approx(fit.measured_pickup_s[0], rel=0.1)
    # Independent delays do not: the fit makes them mostly response delay, with little queueing.
    delay = measured("delay")
    fit = calibrate(delay, days=(delay.end - delay.start).days, seed=3)
    assert fit.measured_backlog_correlation is not None
    assert abs(fit.measured_backlog_correlation) < 0.1
    assert fit.effort_scale < 1.0 and fit.latency_scale > 0.7
    assert fit.simulated_pickup_s is not None and fit.measured_pickup_s is not None
    assert fit.simulated_pickup_s[0] == pytest.approx(fit.measured_pickup_s[0], rel=0.1)


def test_calibration_without_ready_times_takes_the_most_queueing_the_median_allows() -> None:
    pool = replace(measured("delay"), ready_s=None)
    fit = calibrate(pool, days=90, seed=3)
    assert fit.measured_backlog_correlation is None and fit.effort_scale == 1.0


def test_backlog_counts_the_reviewers_waiting_changes() -> None:
    # Reviewer 0: ready at 0 (picked 10), 2 (picked 5), 4 (picked 12); reviewer 1: ready at 3.
    ready = np.array([0.0, 2.0, 4.0, 3.0])
    picked = np.array([10.0, 5.0, 12.0, 20.0])
    assert backlog(ready, picked, np.array([0, 0, 0, 1])).tolist() == [0, 1, 2, 0]


def window(actual: float, low: float, high: float, put: float = 10.0) -> Window:
    return Window(start=date(2024, 1, 1), changes=50, actual_lead_time_median_s=actual,
                  predicted_lead_time_median_s=[low, (low + high) / 2, high],
                  actual_throughput_per_day=put, predicted_throughput_per_day=[8.0, 10.0, 12.0])


def test_backtest_hit_rates_and_verdict() -> None:
    held = summarise([window(5, 4, 6), window(5, 4, 6), window(5, 4, 6), window(9, 4, 6)], 90, 30)
    assert held.lead_time_hit_rate_85 == 0.75 and held.throughput_hit_rate_85 == 1.0
    assert held.passed is True
    # |5 - 5| / 5 three times, |5 - 9| / 9 once: the median error is 0.
    assert held.lead_time_median_abs_error_pct == 0.0
    failed = summarise([window(5, 4, 6), window(9, 4, 6)], 90, 30)
    assert failed.passed is False and failed.lead_time_hit_rate_85 == 0.5
    none = summarise([], 90, 30)
    assert none.passed is None and none.reason is not None and "90 days" in none.reason


@pytest.mark.parametrize("sc", [
    Scenario(),
    Scenario(speedups={"coding": 1.5, "pickup": 2.0}, arrivals=1.4),
    Scenario(reviewers=-1, arrivals=1.6),
    Scenario(reviewers=3, review_sla_h=4.0),
], ids=["baseline", "ai", "fewer-reviewers", "sla"])
def test_the_queues_without_simpy_are_the_simpy_model(sc: Scenario) -> None:
    # Working hours 08-18, two review rounds on some changes, a release stage: every path of the
    # model, run by SimPy and by the per-reviewer heaps, the same to the microsecond.
    rng = np.random.default_rng(21)
    n = 3000
    hours = np.zeros((3, 24), dtype=bool)
    hours[:, 8:18] = True
    pool = Pool(start=date(2024, 1, 1), end=date(2024, 4, 1),
                stages=("coding", "pickup", "review", "release"),
                seconds=rng.exponential([86_400, 4 * H, 8 * H, 2 * 86_400], (n, 4)),
                queued=rng.random(n) < 0.9, reviewer=rng.integers(0, 3, n),
                rounds=rng.integers(1, 4, n), effort_s=rng.exponential(0.7 * H, n),
                author=rng.integers(0, 8, n), size=np.full(n, "S"),
                arrivals=rng.poisson(9.0, 90).astype(float),
                time_of_day=rng.uniform(0, 86_400, n), hours=hours)
    for seed in (1, 2):
        fast = replicate(pool, sc, days=90, warmup_days=20, seed=seed, latency_scale=0.3)
        slow = replicate(pool, sc, days=90, warmup_days=20, seed=seed, latency_scale=0.3,
                         engine="simpy")
        assert fast.lead_s == pytest.approx(slow.lead_s, abs=1e-6)
        assert fast.pickup_s == pytest.approx(slow.pickup_s, abs=1e-6)
        assert fast.queue.tolist() == slow.queue.tolist()
        assert (fast.unfinished, fast.sla_breaches) == (slow.unfinished, slow.sla_breaches)
        assert fast.throughput_per_day == slow.throughput_per_day
        assert fast.pickup_backlog.tolist() == slow.pickup_backlog.tolist()
