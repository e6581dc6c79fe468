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


# ---- goal 1 rules: no learning from single steps, tail polling, seeding, batch-boundary marker, server clock

def test_policy_does_not_learn_intervals_shorter_than_two_floors():
    # getInstance and suspendProcess finish 2 s apart: that is not a batch length.
    policy = PollPolicy(floor=2.0)
    policy.record(0, 0)
    policy.record(2, 1)
    policy.record(4, 2)
    assert policy.expected_duration is None
    policy.record(34, 2)
    policy.record(36, 3)
    assert policy.expected_duration == pytest.approx(32)  # from the suspendProcess end (~3) to ~35


def test_policy_in_the_tail_polls_from_the_floor_instead_of_predicting_a_batch():
    policy = PollPolicy(floor=2.0, growth=1.5, cap=10.0)
    policy.learn(30)
    policy.record(0, "batch 4 done")
    policy.record(31, "batch 5 done", tail=True)
    delays = []
    now = 31.0
    for dummy in range(3):
        delays.append(policy.next_delay(now))
        now += delays[-1]
        policy.record(now, "batch 5 done", tail=True)
    assert delays == [2.0, 3.0, 4.5]


def test_seeded_policy_anchors_the_running_batch_and_wakes_just_after_its_predicted_end():
    policy = PollPolicy(floor=2.0, seeded_lead=-2.0)
    policy.seed([30, 31, 32], running_since=100.0)
    policy.record(120.0, "running")  # adopted 20 s into the batch
    assert policy.expected_duration == 31
    assert policy.next_delay(120.0) == pytest.approx(13.0)  # 100 + 31 + 2 - 120


def test_seed_ignores_durations_of_single_steps():
    policy = PollPolicy(floor=2.0)
    policy.seed([2.0, 3.0], running_since=10.0)
    assert policy.expected_duration is None
    policy.record(12.0, "m")
    assert policy.next_delay(12.0) == policy.first  # unseeded: the anchor is not used either


def execution_view(status="Running", done=0, current=("invokeByRunCommand",), waiting=""):
    return {"ExecutionId": "exec-1", "Status": status, "WaitingStatus": waiting,
            "Counters": {"Success": done, "Failed": 0, "Cancelled": 0, "Skipped": 0, "Running": 1, "Total": 30},
            "CurrentTasks": [{"TaskName": name} for name in current]}


def test_batch_progress_marker_changes_only_when_a_whole_batch_has_finished():
    progress = waiter.BatchProgress("invokeByRunCommand", [4, 4])
    assert progress.marker(execution_view(done=2, current=("suspendProcess",))) == ("Running", "", 0)
    first = progress.marker(execution_view(done=3))  # loop seen: 3 tasks had finished before it
    assert first == ("Running", "", 0)
    assert progress.marker(execution_view(done=6)) == first  # 3 of 4 items: the batch is not over
    assert progress.marker(execution_view(done=7)) == ("Running", "", 1)
    assert not progress.tail(execution_view(done=10))
    assert progress.tail(execution_view(done=11))
    assert progress.tail(execution_view(done=12, current=("tagInstance",)))


def test_batch_progress_without_current_tasks_falls_back_to_the_finished_task_count():
    progress = waiter.BatchProgress("invokeByRunCommand", [4, 4])
    view = execution_view(done=5)
    del view["CurrentTasks"]
    assert progress.marker(view) == ("Running", "", ("tasks", 5))
    assert not progress.tail(view)
    view["Counters"]["Success"] = 8
    assert progress.tail(view)


def task(name, status, start=None, end=None, parent=None, batch=None, task_id=None, update=None):
    item = {"TaskName": name, "Status": status, "StartDate": start or "", "EndDate": end or "",
            "TaskExecutionId": task_id or "t-%s-%s" % (name, batch), "UpdateDate": update or end or start or ""}
    if parent:
        item.update(ParentTaskExecutionId=parent, LoopBatchNumber=batch)
    return item


def history_read():
    loop = "invokeByRunCommand"
    return [
        task("getInstance", "Success", "2026-01-01T00:00:00Z", "2026-01-01T00:00:02Z", task_id="t1"),
        task("suspendProcess", "Success", "2026-01-01T00:00:02Z", "2026-01-01T00:00:04Z", task_id="t2"),
        task(loop, "Running", "2026-01-01T00:00:04Z", task_id="loop"),
        task(loop, "Success", "2026-01-01T00:00:04Z", "2026-01-01T00:00:34Z", "loop", 1, "a"),
        task(loop, "Success", "2026-01-01T00:00:04Z", "2026-01-01T00:00:35Z", "loop", 1, "b"),
        task(loop, "Success", "2026-01-01T00:00:40Z", "2026-01-01T00:01:11Z", "loop", 2, "c"),
        task(loop, "Running", "2026-01-01T00:01:20Z", None, "loop", 3, "d", update="2026-01-01T00:01:20Z"),
        task(loop, "Pending", None, None, "loop", 3, "e"),
    ]


def test_loop_batches_groups_items_by_batch_with_their_span():
    batches = waiter.loop_batches(history_read(), "invokeByRunCommand")
    assert [(b["number"], b["size"], b["finished"]) for b in batches] == [(1, 2, True), (2, 1, True), (3, 2, False)]
    assert batches[0]["end"] - batches[0]["start"] == 31
    assert batches[1]["end"] - batches[1]["start"] == 31
    assert waiter.finished_outside_loop(history_read(), "invokeByRunCommand") == 2


def test_seed_from_history_learns_batches_and_anchors_the_running_one_in_local_time():
    start_of_batch_3 = waiter.api_epoch("2026-01-01T00:01:20Z")
    server_clock = waiter.ServerClock(clock=lambda: 500.0, wall=lambda: start_of_batch_3 + 10)
    policy = PollPolicy(floor=2.0, seeded_lead=-2.0)
    progress = waiter.seed_from_history(policy, history_read(), "invokeByRunCommand", server_clock, now=500.0)
    assert policy.expected_duration == 31
    policy.record(500.0, "m")
    assert policy.next_delay(500.0) == pytest.approx(490 + 31 + 2 - 500)
    # Two non-loop tasks had finished: the third finished item ends batch... 3 only with both its items.
    assert progress.offset == 2
    assert progress.marker(execution_view(done=5)) == ("Running", "", 2)
    assert progress.marker(execution_view(done=7)) == ("Running", "", 3)


def test_seed_is_refused_when_the_service_timestamps_run_ahead_of_our_clock():
    # A service clock far ahead of ours (or running faster) cannot be mapped onto our clock.
    server_clock = waiter.ServerClock(clock=lambda: 0.0, wall=lambda: waiter.api_epoch("2026-01-01T00:00:30Z"))
    policy = PollPolicy()
    waiter.seed_from_history(policy, history_read(), "invokeByRunCommand", server_clock, now=0.0)
    assert policy.expected_duration is None


def test_server_clock_rate_defaults_to_one_and_is_measured_from_update_dates():
    local = [0.0]
    server_clock = waiter.ServerClock(clock=lambda: local[0], wall=lambda: 0.0, min_span=30)
    assert server_clock.rate == 1.0
    for second in range(0, 61, 10):
        server_clock.observe(1000.0 + second * 1.1, now=float(second))  # 1.1x is within noise: still 1
    assert server_clock.rate == 1.0
    fast = waiter.ServerClock(clock=lambda: 0.0, wall=lambda: 0.0, min_span=30)
    for second in range(0, 61, 10):
        fast.observe(1000.0 + second * 10, now=float(second))
    assert fast.rate == pytest.approx(10.0)
    assert fast.local_seconds(31) == pytest.approx(3.1)


class SimBatchedRollout:
    """Counters/CurrentTasks of a template: 2 parent steps, a loop of batches whose items end seconds apart."""

    def __init__(self, clock, batch_items, item_spread=4.0, batch_seconds=31.0):
        self.clock = clock
        self.events = [2.0, 4.0]  # getInstance, suspendProcess
        self.loop_start = 4.0
        at = self.loop_start
        self.batch_ends = []
        for items in batch_items:
            ends = [at + batch_seconds + (item_spread if i == items - 1 else 0.0) for i in range(items)]
            self.events += ends
            at = max(ends)
            self.batch_ends.append(at)
        self.loop_end = at
        self.events.append(at + 2.0)   # the loop task itself
        self.events.append(at + 4.0)   # tagInstance
        self.end = at + 6.0            # resumeProcesses, then Success
        self.polls = []

    def __call__(self):
        now = self.clock()
        self.polls.append(now)
        done = sum(1 for e in self.events if e <= now)
        status = "Success" if now >= self.end else "Running"
        if now >= self.end:
            done += 1
        current = ["invokeByRunCommand"] if self.loop_start <= now < self.loop_end + 2 else ["other"]
        return execution_view(status=status, done=done, current=current)


def test_rollout_wait_sees_the_end_soon_after_the_last_batch_in_automatic_mode():
    # Without the tail rule the policy predicted one more whole batch after the last one: up to ~30 s late.
    clock = SimClock()
    rollout = SimBatchedRollout(clock, [4, 4, 4, 4, 4])
    progress = waiter.BatchProgress("invokeByRunCommand", [4, 4, 4, 4, 4])
    execution, polls, dummy = wait_for(rollout, PollPolicy(), 3600, progress=progress.marker, tail=progress.tail,
                                       clock=clock, sleep=clock.sleep)
    assert execution["Status"] == "Success"
    assert clock.now - rollout.end <= 3.0
    assert polls / (clock.now / 60.0) <= 8


def test_a_change_dated_by_the_api_is_learned_exactly_and_the_policy_wakes_just_after_the_next_end():
    policy = PollPolicy(floor=2.0, lead=2.0, seeded_lead=-2.0)
    policy.record(0, 0)
    policy.record(40, 1, stamp=31.0)   # a long sleep; the API says the batch ended at 31
    policy.record(75, 2, stamp=62.0)   # and the next at 62: 31 s, although no poll bracketed either end
    assert policy.expected_duration == pytest.approx(31)
    assert policy.next_delay(75) == pytest.approx(62 + 31 + 2 - 75)


def test_an_api_date_outside_the_polls_is_clipped_to_what_the_polls_prove():
    policy = PollPolicy(floor=2.0, learn_first=False)
    policy.record(0, 0)
    policy.record(20, 0)
    policy.record(50, 1, stamp=5.0)  # older than the previous poll, which still saw no change: dated 20
    policy.record(90, 2, stamp=500.0)  # in the future: dated 90
    assert policy.expected_duration == pytest.approx(90 - 20)


class StampedRollout(SimRollout):
    def __call__(self):
        execution = super(StampedRollout, self).__call__()
        done = execution["Done"]
        execution["Changed"] = self.ends[done - 1] if done else 0.0
        return execution


def test_an_automatic_rollout_with_api_dates_costs_about_one_call_per_batch_without_drifting():
    clock = SimClock()
    rollout = StampedRollout(clock, [31] * 20)
    stamps = [None]

    def stamp(execution):
        moved = execution["Changed"] != stamps[-1]
        stamps.append(execution["Changed"])
        return execution["Changed"] if moved else None
    wait_for(rollout, PollPolicy(), 10 ** 5, progress=lambda e: e["Done"], clock=clock, sleep=clock.sleep,
             stamp=stamp)
    lags = rollout.lags()
    assert max(lags[5:]) <= 3  # no drift over 20 batches
    assert len([t for t in rollout.polls if t > 10 * 31]) <= 11  # the second ten batches: one call each


# ---- the wait hint: what one run returns at a pause so that the next run needs no history read

def paused_after_two_batches():
    """The history above, paused after batch 2 (batch 3 not started), and its loop items as the result read."""
    items = [t for t in history_read() if t.get("ParentTaskExecutionId")]
    for item in items[3:]:
        item.update(Status="Pending", StartDate="", EndDate="")
    execution = execution_view(status="Waiting", done=2 + 3, waiting="BatchPause")
    execution["UpdateDate"] = "2026-01-01T00:01:11Z"
    return execution, items


def test_a_paused_execution_yields_a_hint_with_batch_sizes_lengths_and_the_tasks_before_the_loop():
    execution, items = paused_after_two_batches()
    hint = waiter.wait_hint(execution, items)
    assert hint == {"execution_id": "exec-1", "batch_sizes": [2, 1, 2], "tasks_before_loop": 2,
                    "batch_seconds": [31.0, 31.0]}
    running = dict(execution, Status="Running", WaitingStatus="")
    assert waiter.wait_hint(running, items) is None  # only a pause is followed by a run that adopts
    assert waiter.wait_hint(execution, []) is None


def approved(paused, update="2026-01-01T00:01:40Z", done=5):
    execution = execution_view(status="Running", done=done)
    execution.update(UpdateDate=update, ExecutionId=paused["ExecutionId"])
    return execution


def test_a_fitting_hint_seeds_the_policy_and_anchors_the_batch_that_has_just_started():
    execution, items = paused_after_two_batches()
    hint = waiter.wait_hint(execution, items)
    resumed_at = waiter.api_epoch("2026-01-01T00:01:40Z")
    server_clock = waiter.ServerClock(clock=lambda: 700.0, wall=lambda: resumed_at + 3)
    policy = PollPolicy(floor=2.0, seeded_lead=-2.0)
    progress = waiter.seed_from_hint(policy, hint, approved(execution), "invokeByRunCommand", server_clock, now=700.0)
    assert progress is not None and progress.offset == 2 and progress.cumulative == [2, 3, 5]
    policy.record(700.0, progress.marker(approved(execution)))
    assert policy.expected_duration == 31
    assert policy.next_delay(700.0) == pytest.approx(697 + 31 + 2 - 700)  # anchored 3 s ago, at the resume
    assert progress.marker(execution_view(done=6)) == ("Running", "", 2)  # one of batch 3's two items
    assert progress.tail(execution_view(done=7))


@pytest.mark.parametrize("change", ["other execution", "mid batch", "not running"])
def test_a_hint_that_does_not_fit_is_not_used(change):
    execution, items = paused_after_two_batches()
    hint = waiter.wait_hint(execution, items)
    current = approved(execution)
    resumed_at = waiter.api_epoch("2026-01-01T00:01:40Z")
    wall = resumed_at + 3
    if change == "other execution":
        hint["execution_id"] = "exec-2"
    elif change == "mid batch":
        current = approved(execution, done=6)  # an item of the running batch has finished: its start is unknown
    else:
        current["CurrentTasks"] = [{"TaskName": "tagInstance"}]
    policy = PollPolicy()
    server_clock = waiter.ServerClock(clock=lambda: 700.0, wall=lambda: wall)
    assert waiter.seed_from_hint(policy, hint, current, "invokeByRunCommand", server_clock, now=700.0) is None
    assert policy.expected_duration is None


@pytest.mark.parametrize("change", ["no lengths", "clock ahead"])
def test_a_hint_without_usable_lengths_gives_the_progress_but_seeds_nothing(change):
    execution, items = paused_after_two_batches()
    hint = waiter.wait_hint(execution, items)
    resumed_at = waiter.api_epoch("2026-01-01T00:01:40Z")
    wall = resumed_at + 3
    if change == "no lengths":
        hint["batch_seconds"] = []
    else:
        wall = resumed_at - 60  # the service's clock is a minute ahead of ours (an emulator at speed > 1)
    policy = PollPolicy()
    server_clock = waiter.ServerClock(clock=lambda: 700.0, wall=lambda: wall)
    progress = waiter.seed_from_hint(policy, hint, approved(execution), "invokeByRunCommand", server_clock, now=700.0)
    assert progress is not None and progress.cumulative == [2, 3, 5] and progress.offset == 2
    assert policy.expected_duration is None


def test_wait_for_rollout_skips_the_history_read_only_when_the_hint_fits(monkeypatch):
    from ansible_collections.alicloud.rollout.plugins.module_utils import oos as oos_api
    execution, items = paused_after_two_batches()
    hint = waiter.wait_hint(execution, items)
    reads = []
    done = dict(execution_view(status="Success", done=9, current=()), UpdateDate="2026-01-01T00:02:20Z")
    monkeypatch.setattr(oos_api, "list_task_executions", lambda *a, **k: reads.append(k) or history_read())
    monkeypatch.setattr(oos_api, "get_execution", lambda *a, **k: done)
    wall = waiter.api_epoch("2026-01-01T00:01:43Z")
    for given, expected_reads in ((hint, 0), (dict(hint, execution_id="exec-other"), 1)):
        del reads[:]
        clock = SimClock()
        waiter.wait_for_rollout(None, approved(execution), "invokeByRunCommand", adopted=True, hint=given,
                                clock=clock, sleep=clock.sleep, wall=lambda: wall)
        assert len(reads) == expected_reads
