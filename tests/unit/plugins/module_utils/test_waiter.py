"""Waiter: predicates, timeout with the last execution, and the adaptive poll policy on a simulated clock."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.rollout.plugins.module_utils import waiter
from ansible_collections.alicloud.rollout.plugins.module_utils.waiter import PollPolicy, WaitTimeout, wait_for


class SimClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.now += seconds


class SimRollout:
    """An execution whose batches each take ``durations[i]`` seconds, then Success (or a pause)."""

    def __init__(self, clock, durations, pause_after=None, final="Success"):
        self.clock = clock
        self.ends = []
        total = 0.0
        for duration in durations:
            total += duration
            self.ends.append(total)
        self.pause_after = pause_after
        self.final = final
        self.polls = []

    def finished(self, at):
        return sum(1 for end in self.ends if end <= at)

    def __call__(self):
        now = self.clock()
        self.polls.append(now)
        done = self.finished(now)
        if self.pause_after is not None and done >= self.pause_after:
            status = "Waiting"
        elif done == len(self.ends):
            status = self.final
        else:
            status = "Running"
        return {"ExecutionId": "exec-1", "Status": status, "Done": done}

    def lags(self):
        """For each batch end, how long until a poll saw it."""
        result = []
        for end in self.ends:
            seen = [t for t in self.polls if t >= end]
            if seen:
                result.append(seen[0] - end)
        return result


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


@pytest.mark.parametrize("status,terminal,failed,paused", [
    ("Success", True, False, False), ("Failed", True, True, False), ("Cancelled", True, True, False),
    ("Waiting", False, False, True), ("Running", False, False, False), ("Started", False, False, False),
])
def test_predicates(status, terminal, failed, paused):
    execution = {"Status": status}
    assert waiter.is_terminal(execution) is terminal
    assert waiter.is_failed(execution) is failed
    assert waiter.is_paused(execution) is paused
    assert waiter.is_running(execution) is (not terminal and not paused)


def test_wait_returns_terminal_execution():
    clock = SimClock()
    rollout = SimRollout(clock, [30, 30])
    execution, polls, waited = wait_for(rollout, PollPolicy(), 600, progress=lambda e: e["Done"],
                                        clock=clock, sleep=clock.sleep)
    assert execution["Status"] == "Success"
    assert polls == len(rollout.polls)
    assert waited >= 60


def test_wait_stops_on_pause_unless_told_not_to():
    clock = SimClock()
    execution, dummy, dummy2 = wait_for(SimRollout(clock, [20, 20, 20], pause_after=1), PollPolicy(), 600,
                                        clock=clock, sleep=clock.sleep)
    assert execution["Status"] == "Waiting"
    clock = SimClock()
    with pytest.raises(WaitTimeout):
        wait_for(SimRollout(clock, [20, 20, 20], pause_after=1), PollPolicy(), 100, stop_on_pause=False,
                 clock=clock, sleep=clock.sleep)


def test_timeout_carries_the_last_execution_and_never_oversleeps():
    clock = SimClock()
    rollout = SimRollout(clock, [1000])
    with pytest.raises(WaitTimeout) as raised:
        wait_for(rollout, PollPolicy(), 45, clock=clock, sleep=clock.sleep)
    assert raised.value.execution["Status"] == "Running"
    assert raised.value.execution["ExecutionId"] == "exec-1"
    assert "exec-1" in str(raised.value)
    assert clock.now == pytest.approx(45)


def test_fixed_poll_interval_overrides_policy():
    clock = SimClock()
    rollout = SimRollout(clock, [100])
    wait_for(rollout, PollPolicy(fixed=7), 600, clock=clock, sleep=clock.sleep)
    gaps = [b - a for a, b in zip(rollout.polls, rollout.polls[1:])]
    assert set(gaps) == {7}


def test_policy_without_estimate_backs_off_to_the_cap():
    policy = PollPolicy(floor=2, cap=15, first=2, growth=1.5)
    delays = []
    now = 0.0
    policy.record(now, "m")
    for dummy in range(10):
        delay = policy.next_delay(now)
        delays.append(delay)
        now += delay
        policy.record(now, "m")
    assert delays[0] == 2
    assert delays == sorted(delays)
    assert max(delays) == 15


def test_policy_learns_batch_duration_and_sleeps_until_near_the_end():
    policy = PollPolicy(lead=2.0, floor=2.0)
    policy.record(0, 0)
    policy.record(58, 0)
    policy.record(60, 1)  # the batch ended between 58 and 60
    assert policy.expected_duration == 59
    assert policy.next_delay(61) == pytest.approx(55)  # next end expected at 118; look at 116
    assert policy.next_delay(116) == policy.floor      # near the expected end: poll densely


def test_policy_corrects_an_estimate_that_was_too_long():
    policy = PollPolicy(lead=2.0, floor=2.0)
    policy.learn(100)
    policy.record(0, 0)
    policy.record(98, 1)  # woke before the predicted end and it had already happened
    assert policy.expected_duration < 100


def run_rollout(durations):
    clock = SimClock()
    rollout = SimRollout(clock, durations)
    wait_for(rollout, PollPolicy(), 10 ** 5, progress=lambda e: e["Done"], clock=clock, sleep=clock.sleep)
    lags = rollout.lags()
    assert len(lags) == len(durations)
    return lags, len(rollout.polls) / (clock.now / 60.0)


@pytest.mark.parametrize("durations", [[60] * 10, [120] * 8, [300] * 4])
def test_adaptive_policy_meets_lag_and_call_rate_targets_for_steady_batches(durations):
    lags, calls_per_minute = run_rollout(durations)
    assert percentile(lags, 0.5) <= 3
    assert percentile(lags, 0.95) <= 10
    assert calls_per_minute <= 4


def test_short_batches_keep_the_lag_target_at_a_higher_call_rate():
    # Two batch ends a minute need about two polls each to be seen within seconds.
    lags, calls_per_minute = run_rollout([30] * 12)
    assert percentile(lags, 0.5) <= 3
    assert calls_per_minute <= 6


def test_adaptive_policy_stays_reasonable_when_batch_durations_vary():
    lags, calls_per_minute = run_rollout([45, 50, 55, 60, 50, 45, 60, 55, 50, 45])
    assert percentile(lags, 0.5) <= 5
    assert percentile(lags, 0.95) <= 20
    assert calls_per_minute <= 6
