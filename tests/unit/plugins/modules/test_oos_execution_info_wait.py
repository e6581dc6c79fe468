"""oos_execution_info wait_for over many executions: look before sleeping, one read per round, one sleep per round."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.rollout.plugins.modules import oos_execution_info
from ansible_collections.alicloud.rollout.plugins.module_utils.waiter import WaitTimeout


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class FakeReads:
    """Stands in for oos_api.get_executions: execution i ends at ends[i] seconds."""

    def __init__(self, clock, ends):
        self.clock = clock
        self.ends = ends
        self.reads = []

    def __call__(self, oos, execution_ids, known=None):
        self.reads.append(list(execution_ids))
        found = dict((i, execution(i, "Success" if self.clock() >= self.ends[i] else "Running"))
                     for i in execution_ids)
        return found, 1


def execution(execution_id, status):
    return {"ExecutionId": execution_id, "Status": status, "StartDate": "2026-01-01T00:00:00Z"}


def params(**overrides):
    base = {"wait_for": ["Success"], "wait_timeout": 600, "poll_interval": None}
    base.update(overrides)
    return base


def test_finished_executions_are_not_slept_on(monkeypatch):
    clock = Clock()
    reads = FakeReads(clock, {})
    monkeypatch.setattr(oos_execution_info.oos_api, "get_executions", reads)
    done = [execution("exec-%d" % n, "Success") for n in range(3)]
    result, polls = oos_execution_info.wait_all(None, done, params(), clock=clock, sleep=clock.sleep)
    assert [e["ExecutionId"] for e in result] == ["exec-0", "exec-1", "exec-2"]
    assert polls == 0 and clock.sleeps == [] and reads.reads == []


def test_many_executions_are_read_together_once_per_round(monkeypatch):
    clock = Clock()
    ends = dict(("exec-%d" % n, 20.0 + n) for n in range(50))
    reads = FakeReads(clock, ends)
    monkeypatch.setattr(oos_execution_info.oos_api, "get_executions", reads)
    running = [execution(i, "Running") for i in sorted(ends)]
    result, polls = oos_execution_info.wait_all(None, running, params(), clock=clock, sleep=clock.sleep)
    assert all(e["Status"] == "Success" for e in result)
    assert len(reads.reads) == len(clock.sleeps) == polls
    # A serial wait would need at least one read per execution; the set needs a few rounds in all.
    assert polls < len(ends) / 2
    # Only executions still running are read again.
    assert all(len(later) <= len(earlier) for earlier, later in zip(reads.reads, reads.reads[1:]))
    assert clock.now - max(ends.values()) <= 10


def test_timeout_returns_every_execution_in_its_last_state(monkeypatch):
    clock = Clock()
    reads = FakeReads(clock, {"exec-a": 5.0, "exec-b": 10 ** 6})
    monkeypatch.setattr(oos_execution_info.oos_api, "get_executions", reads)
    with pytest.raises(WaitTimeout) as raised:
        oos_execution_info.wait_all(None, [execution("exec-a", "Running"), execution("exec-b", "Running")],
                                    params(wait_timeout=60), clock=clock, sleep=clock.sleep)
    assert [(e["ExecutionId"], e["Status"]) for e in raised.value.executions] == [
        ("exec-a", "Success"), ("exec-b", "Running")]
    assert clock.now == pytest.approx(60)
