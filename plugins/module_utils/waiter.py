# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY.
# The interfaces in this file are meant for use within the alicloud.rollout collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""Waiting for an OOS execution: predicates, an adaptive poll interval, and a timeout that keeps the last state.

The poll policy aims at: median observation lag <= 3 s, p95 <= 10 s, and at most about 4 status
calls per minute of waiting. It learns how long a batch of this rollout takes (the time between two
observed progress changes, or the finished batches of the execution read from the API when the wait
starts mid-rollout) and sleeps until about the predicted end of the batch, then polls densely; without
an estimate it backs off from a short first interval to a cap. Once every planned batch has finished,
only the template's short tail (tagging, resuming processes) is left: it polls from the floor up.
See docs/performance.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import time

TERMINAL_STATUSES = ("Success", "Failed", "Cancelled")
FAILED_STATUSES = ("Failed", "Cancelled")
PAUSED_STATUSES = ("Waiting",)


def status_of(execution):
    return (execution or {}).get("Status")


def is_terminal(execution):
    return status_of(execution) in TERMINAL_STATUSES


def is_failed(execution):
    return status_of(execution) in FAILED_STATUSES


def is_paused(execution):
    return status_of(execution) in PAUSED_STATUSES


def is_running(execution):
    return bool(execution) and not is_terminal(execution) and not is_paused(execution)


class WaitTimeout(Exception):
    """The wait ran out; ``execution`` is the last one seen."""

    def __init__(self, message, execution, waited, polls=None):
        super(WaitTimeout, self).__init__(message)
        self.execution = execution
        self.waited = waited
        self.polls = polls


def _median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2.0


class PollPolicy:
    """When to look again. ``fixed`` replaces the adaptive policy with a constant interval."""

    def __init__(self, fixed=None, floor=2.0, cap=10.0, first=6.0, growth=1.5, lead=2.0,
                 max_predicted_sleep=120.0, history=5, learn_first=True, seeded_lead=-2.0, min_learn=None):
        self.fixed = fixed
        self.floor = floor
        self.cap = cap
        self.first = first
        self.growth = growth
        self.lead = lead
        self.max_predicted_sleep = max_predicted_sleep
        self.history = history
        # False when the wait starts in the middle of a batch (adoption): the first interval is partial.
        self.learn_first = learn_first
        # A seeded estimate is measured from API timestamps (whole seconds), so wake just after the predicted end.
        self.seeded_lead = seeded_lead
        # Shorter intervals are single steps (getInstance, suspendProcess: ~2 s each), not batches.
        self.min_learn = 2 * floor if min_learn is None else min_learn
        self._seeded = False
        self._stamped = False
        self._anchor = None
        self._tail = False
        self._polls_in_tail = 0
        self._marker = None
        self._last_change = None
        self._last_poll = None
        self._changes_seen = 0
        self._durations = []  # (seconds, precise)
        self._polls_since_change = 0

    @property
    def expected_duration(self):
        """Learned seconds between progress changes, or None.

        The median of the recent precise measurements (the change was bracketed by close polls); else the
        shortest rough one, because waking early costs a call while waking late costs lag.
        """
        precise = [d for d, exact in self._durations if exact]
        if precise:
            return _median(precise[-self.history:])
        if self._durations:
            return min(duration for duration, _exact in self._durations)
        return None

    def learn(self, duration):
        """Seed the estimate, e.g. from batches that finished before this task started waiting."""
        if duration and duration >= self.min_learn:
            self._durations.append((float(duration), True))
            self._seeded = True

    def seed(self, durations, running_since=None):
        """Learn finished batch lengths (local seconds) and, with ``running_since`` (a time on the policy's
        clock), anchor the running batch at its real start instead of at the first poll."""
        for duration in durations:
            self.learn(duration)
        if self._seeded and running_since is not None:
            self._anchor = running_since

    def record(self, now, marker, tail=False, stamp=None):
        """Note what a poll saw; ``marker`` changes when a batch ends (any comparable value).

        ``tail``: every planned batch has finished; only short steps are left, so poll from the floor up.
        ``stamp``: when the API says the execution last changed, on this policy's clock (None if unknown); it
        dates a change exactly, however long ago the previous poll was.
        """
        previous_poll, self._last_poll = self._last_poll, now
        self._polls_since_change += 1
        if tail:
            self._polls_in_tail = self._polls_in_tail + 1 if self._tail else 0
        self._tail = bool(tail)
        if self._last_change is None:
            self._marker, self._last_change = marker, now
            if self._anchor is not None:
                self._last_change = min(now, self._anchor)
            self._polls_since_change = 0
            return
        if marker != self._marker:
            # The change happened between the previous poll and this one.
            bracket = now - previous_poll if previous_poll is not None else 0.0
            expected = self.expected_duration
            if stamp is not None and previous_poll is not None:
                changed_at, learned = min(now, max(previous_poll, stamp)), True
                self._stamped = True
            elif bracket <= 2 * self.floor:
                changed_at, learned = now - bracket / 2.0, True
            elif expected is not None and now <= self._last_change + expected:
                # Woke before the predicted end and it had already happened: the estimate is too long.
                changed_at, learned = max(now - bracket, now - self.floor), True
            elif expected is not None and bracket <= self.cap:
                # Polling past the predicted end: the estimate was short; the middle of the bracket is close.
                changed_at, learned = now - bracket / 2.0, True
            elif expected is not None:
                # A long sleep: trust the prediction, clipped to what the polls prove.
                changed_at, learned = min(max(self._last_change + expected, now - bracket), now), False
            else:
                # No estimate yet: lean early, waking early costs a call, waking late costs lag.
                changed_at, learned = now - bracket + self.floor / 2.0, None
            duration = max(0.0, changed_at - self._last_change)
            if (self._changes_seen > 0 or self.learn_first) and (learned or not self._durations) \
                    and duration >= self.min_learn:
                self._durations.append((duration, bool(learned)))
            self._changes_seen += 1
            self._marker, self._last_change = marker, changed_at
            self._polls_since_change = 0

    def next_delay(self, now):
        if self.fixed:
            return float(self.fixed)
        if self._tail:
            return max(self.floor, min(self.cap, self.floor * (self.growth ** self._polls_in_tail)))
        expected = self.expected_duration
        if expected is not None and self._last_change is not None:
            due = self._last_change + expected
            # Lengths measured from API timestamps need no bracketing polls: wake just after the predicted end.
            lead = self.seeded_lead if self._seeded or self._stamped else self.lead
            if now < due - lead:
                return min(due - lead - now, self.max_predicted_sleep)
            overdue = now - (due - lead)
            return max(self.floor, min(self.cap, self.floor + overdue / 4.0))
        delay = self.first * (self.growth ** self._polls_since_change)
        return max(self.floor, min(self.cap, delay))


FINAL_ITEM_STATUSES = ("Success", "Failed", "Cancelled", "Skipped")
# The Counters keys ROS documents for ALIYUN::OOS::Execution (FailedTasks, SuccessTasks, TotalTasks).
ROS_FINAL_COUNTERS = ("SuccessTasks", "FailedTasks")


def api_epoch(text):
    """Epoch seconds of an API timestamp (``2026-01-01T00:00:00Z``), or None."""
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%MZ"):
        try:
            parsed = datetime.datetime.strptime(text, fmt)
        except (TypeError, ValueError):
            continue
        return (parsed - datetime.datetime(1970, 1, 1)).total_seconds()
    return None


class ServerClock:
    """Maps the service's timestamps onto this process's clock.

    Assumes the service's clock is in step with ours (rate 1, synchronised), as Alibaba Cloud's is,
    until the API shows otherwise: the rate is measured from how fast the executions' ``UpdateDate``
    moves between polls (only a clear deviation from 1 is believed), and timestamps ahead of our wall
    clock mean the two clocks are not comparable, so seeding from them is refused.
    """

    def __init__(self, clock=time.monotonic, wall=time.time, min_span=30.0, ahead_tolerance=3.0):
        self.clock = clock
        self.wall = wall
        self.min_span = min_span
        self.ahead_tolerance = ahead_tolerance
        self._updates = []  # (local time, server epoch) when a newer UpdateDate was first seen
        self._latest = None

    def observe(self, server_epoch, now=None):
        """Note a timestamp the API just showed (``UpdateDate`` of a fresh read)."""
        if server_epoch is None:
            return
        now = self.clock() if now is None else now
        if self._latest is None or server_epoch > self._latest:
            self._latest = server_epoch
            self._updates.append((now, server_epoch))

    @property
    def rate(self):
        """Server seconds per local second; 1 unless measured clearly otherwise."""
        # The first value seen may be old (set before we looked): measure from the second on.
        if len(self._updates) < 3:
            return 1.0
        (local0, server0), (local1, server1) = self._updates[1], self._updates[-1]
        if local1 - local0 < self.min_span:
            return 1.0
        measured = (server1 - server0) / (local1 - local0)
        return measured if measured > 2.0 or measured < 0.5 else 1.0

    @property
    def comparable(self):
        """False when the service's timestamps run ahead of our wall clock: they cannot be mapped."""
        return self._latest is None or self._latest <= self.wall() + self.ahead_tolerance

    def local_seconds(self, server_seconds):
        return server_seconds / self.rate

    def local_time_of(self, server_epoch, now=None):
        """The time on our clock when the service's clock showed ``server_epoch`` (None if not mappable)."""
        if server_epoch is None or not self.comparable:
            return None
        now = self.clock() if now is None else now
        return now - max(0.0, self.wall() - server_epoch) / self.rate


def loop_batches(tasks, loop_task):
    """Group the items of the loop task ``loop_task`` in one ListTaskExecutions read by LoopBatchNumber.

    Returns ``[{"number", "size", "finished", "start", "end"}]`` in batch order; start/end are epoch seconds
    of the batch's first item start and last item end (None when not known).
    """
    parents = set(t.get("TaskExecutionId") for t in tasks or []
                  if t.get("TaskName") == loop_task and not t.get("ParentTaskExecutionId"))
    return batches_of_items([t for t in tasks or [] if t.get("ParentTaskExecutionId") in parents])


def batches_of_items(items):
    """Loop items (child task executions carrying ``LoopBatchNumber``) grouped as :func:`loop_batches` does."""
    batches = {}
    for task in items or []:
        if task.get("LoopBatchNumber") is not None:
            batches.setdefault(int(task["LoopBatchNumber"]), []).append(task)
    result = []
    for number in sorted(batches):
        items = batches[number]
        starts = [api_epoch(t.get("StartDate")) for t in items if t.get("StartDate")]
        ends = [api_epoch(t.get("EndDate")) for t in items if t.get("EndDate")]
        finished = all(t.get("Status") in FINAL_ITEM_STATUSES for t in items)
        result.append({"number": number, "size": len(items), "finished": finished,
                       "start": min(starts) if starts and None not in starts else None,
                       "end": max(ends) if finished and ends and None not in ends else None})
    return result


def finished_outside_loop(tasks, loop_task):
    """Finished tasks of a ListTaskExecutions read that are not items of ``loop_task``."""
    parents = set(t.get("TaskExecutionId") for t in tasks or []
                  if t.get("TaskName") == loop_task and not t.get("ParentTaskExecutionId"))
    return sum(1 for t in tasks or []
               if t.get("Status") in FINAL_ITEM_STATUSES and t.get("ParentTaskExecutionId") not in parents)


class BatchProgress:
    """Progress of a loop in batches, from what every status read carries (``Counters``, ``CurrentTasks``).

    The marker changes only when a whole batch has finished (items of one batch may end seconds apart),
    and ``tail`` says every planned batch has finished. Finished loop items = finished tasks
    (``Counters``) - the tasks that had finished when the loop task was first seen running (``offset``,
    or exact from a history read). Without ``CurrentTasks`` it falls back to the finished-task count.
    """

    def __init__(self, loop_task, batch_sizes, offset=None, loop_done=False):
        self.loop_task = loop_task
        self.cumulative = []
        total = 0
        for size in batch_sizes or []:
            total += size
            self.cumulative.append(total)
        self.offset = offset
        self.loop_seen = offset is not None
        self.loop_done = loop_done

    @staticmethod
    def finished_tasks(execution):
        """Finished tasks from ``Counters``, or None. Its keys are INFERRED: the emulator's (Success, Failed...)
        or ROS's (SuccessTasks, FailedTasks) are read; anything else is no progress signal at all."""
        counters = (execution or {}).get("Counters") or {}
        for keys in (FINAL_ITEM_STATUSES, ROS_FINAL_COUNTERS):
            present = [k for k in keys if k in counters]
            if present:
                try:
                    return sum(int(counters.get(k) or 0) for k in present)
                except (TypeError, ValueError):
                    return None
        return None

    def finished_batches(self, execution):
        execution = execution or {}
        done = self.finished_tasks(execution)
        if done is None or not self.cumulative or "CurrentTasks" not in execution:
            return None
        running = self.loop_task in [t.get("TaskName") for t in execution.get("CurrentTasks") or []]
        if running and not self.loop_seen:
            self.loop_seen, self.offset = True, done
        elif not running and self.loop_seen:
            self.loop_done = True
        if self.loop_done or (not running and is_terminal(execution)):
            return len(self.cumulative)
        if self.offset is None:
            return 0
        items_done = done - self.offset
        return sum(1 for boundary in self.cumulative if boundary <= items_done)

    def marker(self, execution):
        execution = execution or {}
        finished = self.finished_batches(execution)
        if finished is None:
            finished = ("tasks", self.finished_tasks(execution))
        return (execution.get("Status"), execution.get("WaitingStatus"), finished)

    def tail(self, execution):
        finished = self.finished_batches(execution)
        if finished is None:
            done = self.finished_tasks(execution)
            return bool(self.cumulative) and done is not None and done >= self.cumulative[-1]
        return bool(self.cumulative) and finished >= len(self.cumulative)


def wait_for(fetch, policy, timeout, progress=None, stop_on_pause=True, clock=time.monotonic,
             sleep=time.sleep, initial=None, tail=None, stamp=None):
    """Poll ``fetch()`` until the execution is terminal (or paused), or ``timeout`` seconds pass.

    ``progress(execution)`` gives the marker fed to the policy (default: the status); ``tail(execution)``
    says that only the short steps after the last batch are left; ``stamp(execution)`` when the API says
    it last changed, on ``clock`` (or None).
    Returns ``(execution, polls, waited_seconds)``; raises WaitTimeout with the last execution.
    """
    start = clock()
    execution = initial if initial is not None else fetch()
    polls = 0 if initial is not None else 1
    marker_of = progress or status_of
    while True:
        now = clock()
        if tail is not None or stamp is not None:
            policy.record(now, marker_of(execution), tail=bool(tail and tail(execution)),
                          stamp=stamp(execution) if stamp is not None else None)
        else:
            policy.record(now, marker_of(execution))
        if is_terminal(execution) or (stop_on_pause and is_paused(execution)):
            return execution, polls, now - start
        remaining = timeout - (now - start)
        if remaining <= 0:
            raise WaitTimeout("Timed out after %ds waiting for execution %s (last status %s)." % (
                int(now - start), (execution or {}).get("ExecutionId"), status_of(execution)),
                execution, now - start, polls)
        sleep(max(0.0, min(policy.next_delay(now), remaining)))
        execution = fetch()
        polls += 1


def seed_from_history(policy, tasks, loop_task, server_clock, now=None):
    """Seed ``policy`` from one read of an execution's tasks (children included) and return the
    BatchProgress for it, or None when the read shows no batches of ``loop_task``.

    Finished batches teach the batch length (API timestamps, converted with ``server_clock``); the
    running batch anchors the policy at its real start.
    """
    batches = loop_batches(tasks, loop_task)
    if not batches:
        return None
    for task in tasks:
        server_clock.observe(api_epoch(task.get("UpdateDate")), now)
    loop_done = all(b["finished"] for b in batches)
    progress = BatchProgress(loop_task, [b["size"] for b in batches],
                             offset=finished_outside_loop(tasks, loop_task), loop_done=loop_done)
    if server_clock.comparable:
        durations = [server_clock.local_seconds(b["end"] - b["start"]) for b in batches
                     if b["finished"] and b["start"] is not None and b["end"] is not None]
        running = [b for b in batches if not b["finished"] and b["start"] is not None]
        since = server_clock.local_time_of(running[0]["start"], now) if running else None
        policy.seed(durations, since)
    return progress


def wait_hint(execution, loop_items):
    """What a later run needs to follow this paused execution without a history read, or None.

    ``loop_items``: the loop's child task executions, as the per-instance result read returns them. Finished
    tasks outside the loop = finished tasks (``Counters``) - finished loop items; batch lengths are API seconds.
    """
    if not is_paused(execution):
        return None
    batches = batches_of_items(loop_items)
    done = BatchProgress.finished_tasks(execution)
    if not batches or done is None:
        return None
    before_loop = done - sum(1 for item in loop_items if item.get("Status") in FINAL_ITEM_STATUSES)
    if before_loop < 0:
        return None
    return {"execution_id": execution.get("ExecutionId"), "batch_sizes": [b["size"] for b in batches],
            "tasks_before_loop": before_loop,
            "batch_seconds": [float(b["end"] - b["start"]) for b in batches
                              if b["finished"] and b["start"] is not None and b["end"] is not None]}


def seed_from_hint(policy, hint, execution, loop_task, server_clock, now=None):
    """The BatchProgress of a previous run's :func:`wait_hint`, seeding ``policy`` with its batch lengths; None
    when the hint does not fit: another execution, or not right at the start of a batch.

    The running batch started when the execution last changed, provided none of its items has finished
    (a run right after an approve): that is when its items started. Like a history read, the hint seeds
    nothing when the service's timestamps cannot be mapped onto our clock.
    """
    if not hint or hint.get("execution_id") != execution.get("ExecutionId"):
        return None
    progress = BatchProgress(loop_task, hint.get("batch_sizes"), offset=hint.get("tasks_before_loop"))
    done = BatchProgress.finished_tasks(execution)
    running = loop_task in [t.get("TaskName") for t in execution.get("CurrentTasks") or []]
    if status_of(execution) != "Running" or not running or done is None or progress.offset is None:
        return None
    if done - progress.offset not in [0] + progress.cumulative[:-1]:
        return None
    updated = api_epoch(execution.get("UpdateDate"))
    server_clock.observe(updated, now)
    since = server_clock.local_time_of(updated, now)
    if since is not None:
        policy.seed([server_clock.local_seconds(seconds) for seconds in hint.get("batch_seconds") or []], since)
    return progress


def wait_for_rollout(oos, execution, loop_task, batch_sizes=None, timeout=3600, poll_interval=None,
                     adopted=False, stop_on_pause=True, clock=time.monotonic, sleep=time.sleep, wall=time.time,
                     hint=None):
    """Wait for a rolling-update execution whose loop task is ``loop_task``.

    ``batch_sizes``: the planned batch sizes (known when this run started the execution). An adopted
    execution is mid-rollout: the ``hint`` a previous run returned (:func:`wait_hint`), when it fits, or else
    one ListTaskExecutions read gives its batches, seeds the policy with the finished ones and anchors the
    running one. Returns ``(execution, calls, waited)``; raises WaitTimeout.
    """
    from . import oos as oos_api

    execution_id = execution["ExecutionId"]
    server_clock = ServerClock(clock=clock, wall=wall)
    server_clock.observe(api_epoch(execution.get("UpdateDate")), clock())
    policy = PollPolicy(fixed=poll_interval, learn_first=not adopted)
    progress, calls = None, 0
    if adopted and not poll_interval and hint:
        progress = seed_from_hint(policy, hint, execution, loop_task, server_clock, clock())
    if adopted and not poll_interval and progress is None:
        tasks = list(oos_api.list_task_executions(oos, execution_id, include_child_task_execution=True))
        calls += 1 + len(tasks) // 100
        progress = seed_from_history(policy, tasks, loop_task, server_clock, clock())
    if progress is None:
        progress = BatchProgress(loop_task, batch_sizes)
    last = [execution]
    seen_updates = [execution.get("UpdateDate")]

    def fetch():
        found = oos_api.get_execution(oos, execution_id)
        if found is not None:
            last[0] = found
            server_clock.observe(api_epoch(found.get("UpdateDate")), clock())
        return last[0]

    def stamp(current):
        # Only an UpdateDate that moved since the previous read dates what this read shows.
        update = current.get("UpdateDate")
        moved = update and update != seen_updates[-1]
        seen_updates.append(update)
        return server_clock.local_time_of(api_epoch(update)) if moved else None

    try:
        execution, polls, waited = wait_for(fetch, policy, timeout, progress=progress.marker, tail=progress.tail,
                                            stop_on_pause=stop_on_pause, clock=clock, sleep=sleep,
                                            initial=execution, stamp=stamp)
    except WaitTimeout as error:
        error.polls = (error.polls or 0) + calls
        raise
    return execution, polls + calls, waited


def wait_for_all(read, executions, settled, timeout, poll_interval=None, clock=time.monotonic, sleep=time.sleep):
    """Wait until ``settled(execution)`` holds for every execution, or ``timeout`` seconds pass.

    Looks before sleeping, reads the unsettled ones together once per round (``read(ids, latest)`` returns
    ``(id -> execution, calls)``) and sleeps once per round. Returns ``(executions, calls, waited)`` in the
    given order; raises WaitTimeout whose ``executions`` holds the last state of all of them.
    """
    latest = dict((e["ExecutionId"], e) for e in executions)
    order = [e["ExecutionId"] for e in executions]
    policy = PollPolicy(fixed=poll_interval, learn_first=False)
    started, calls = clock(), 0
    while True:
        now = clock()
        pending = [i for i in order if not settled(latest[i])]
        policy.record(now, len(order) - len(pending))
        if not pending:
            return [latest[i] for i in order], calls, now - started
        remaining = timeout - (now - started)
        if remaining <= 0:
            first = latest[pending[0]]
            error = WaitTimeout("Timed out after %ds waiting for %d execution(s), e.g. %s (last status %s)." % (
                int(now - started), len(pending), first.get("ExecutionId"), status_of(first)),
                first, now - started, calls)
            error.executions = [latest[i] for i in order]
            raise error
        sleep(max(0.0, min(policy.next_delay(now), remaining)))
        fresh, used = read(pending, latest)
        calls += used
        latest.update(fresh)
