# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY.
# The interfaces in this file are meant for use within the alicloud.rollout collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""Waiting for an OOS execution: predicates, an adaptive poll interval, and a timeout that keeps the last state.

The poll policy aims at: median observation lag <= 3 s, p95 <= 10 s, and at most about 4 status
calls per minute of waiting. It learns how long a batch of this rollout takes (the time between two
observed progress changes) and sleeps until shortly before the next batch should end, then polls
densely; without an estimate it backs off from a short first interval to a cap.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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

    def __init__(self, fixed=None, floor=2.0, cap=10.0, first=2.0, growth=1.5, lead=2.0,
                 max_predicted_sleep=120.0, history=5, learn_first=True):
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
        if duration and duration > 0:
            self._durations.append((float(duration), True))

    def record(self, now, marker):
        """Note what a poll saw; ``marker`` changes when a batch ends (any comparable value)."""
        previous_poll, self._last_poll = self._last_poll, now
        self._polls_since_change += 1
        if self._last_change is None:
            self._marker, self._last_change = marker, now
            self._polls_since_change = 0
            return
        if marker != self._marker:
            # The change happened between the previous poll and this one.
            bracket = now - previous_poll if previous_poll is not None else 0.0
            expected = self.expected_duration
            if bracket <= 2 * self.floor:
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
            if (self._changes_seen > 0 or self.learn_first) and (learned or not self._durations):
                self._durations.append((max(0.0, changed_at - self._last_change), bool(learned)))
            self._changes_seen += 1
            self._marker, self._last_change = marker, changed_at
            self._polls_since_change = 0

    def next_delay(self, now):
        if self.fixed:
            return float(self.fixed)
        expected = self.expected_duration
        if expected is not None and self._last_change is not None:
            due = self._last_change + expected
            if now < due - self.lead:
                return min(due - self.lead - now, self.max_predicted_sleep)
            overdue = now - (due - self.lead)
            return max(self.floor, min(self.cap, self.floor + overdue / 4.0))
        delay = self.first * (self.growth ** self._polls_since_change)
        return max(self.floor, min(self.cap, delay))


def wait_for(fetch, policy, timeout, progress=None, stop_on_pause=True, clock=time.monotonic,
             sleep=time.sleep, initial=None):
    """Poll ``fetch()`` until the execution is terminal (or paused), or ``timeout`` seconds pass.

    ``progress(execution)`` gives the marker fed to the policy (default: the status).
    Returns ``(execution, polls, waited_seconds)``; raises WaitTimeout with the last execution.
    """
    start = clock()
    execution = initial if initial is not None else fetch()
    polls = 0 if initial is not None else 1
    marker_of = progress or status_of
    while True:
        now = clock()
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
