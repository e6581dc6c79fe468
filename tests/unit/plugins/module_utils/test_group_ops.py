# -*- coding: utf-8 -*-
"""Decisions of the supporting modules: processes, standby and acting on one execution."""
from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import pytest

from ansible_collections.alicloud.rollout.plugins.module_utils import group_ops
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
from ansible_collections.alicloud.rollout.plugins.module_utils.retry import RetryPolicy


def test_suspending_sends_only_what_is_not_suspended_yet():
    to_change, after = group_ops.processes_plan(["HealthCheck"], ["ScaleOut", "ScaleIn", "HealthCheck"], "suspended")

    assert to_change == ["ScaleIn", "ScaleOut"]
    assert after == ["ScaleIn", "ScaleOut", "HealthCheck"]


def test_resuming_sends_only_what_is_suspended():
    to_change, after = group_ops.processes_plan(["ScaleIn", "HealthCheck"], ["ScaleIn", "ScaleOut"], "resumed")

    assert to_change == ["ScaleIn"]
    assert after == ["HealthCheck"]


def test_standby_plan_moves_only_instances_not_in_the_wanted_state_and_names_strangers():
    instances = [{"InstanceId": "i-1", "LifecycleState": "InService"},
                 {"InstanceId": "i-2", "LifecycleState": "Standby"}]

    assert group_ops.standby_plan(instances, ["i-1", "i-2"], "Standby") == (["i-1"], [])
    assert group_ops.standby_plan(instances, ["i-1", "i-2"], "InService") == (["i-2"], [])
    assert group_ops.standby_plan(instances, ["i-2", "i-9"], "InService") == (["i-2"], ["i-9"])


@pytest.mark.parametrize("status, waiting, action, decision", [
    ("Waiting", "BatchPause", "approve", "act"),
    ("Running", "", "approve", "ok"),
    ("Success", "", "approve", "ok"),
    ("Cancelled", "", "approve", "refuse"),
    ("Waiting", "FailurePause", "approve", "refuse"),
    ("Waiting", "FailurePause", "retry_task", "act"),
    ("Waiting", "BatchPause", "skip_task", "refuse"),
    ("Running", "", "cancel", "act"),
    ("Waiting", "BatchPause", "cancel", "act"),
    ("Success", "", "cancel", "ok"),
    ("Cancelled", "", "cancel", "ok"),
    ("Failed", "", "reject", "ok"),
    ("Success", "", "reject", "refuse"),
    # WaitingStatus is INFERRED: absent or an unknown value never blocks a decision.
    ("Waiting", "", "approve", "act"),
    ("Waiting", "ManualApproval", "approve", "act"),
    ("Waiting", "", "retry_task", "act"),
])
def test_execution_decision(status, waiting, action, decision):
    execution = {"ExecutionId": "exec-1", "Status": status, "WaitingStatus": waiting}

    assert group_ops.execution_decision(execution, action)[0] == decision


def test_group_facts_keep_processes_in_ess_order_and_mark_protection():
    group = {"ScalingGroupId": "asg-1", "LifecycleState": "Active",
             "SuspendedProcesses": ["ScheduledAction", "ScaleIn"]}
    instance = group_ops.instance_facts({"InstanceId": "i-1", "LifecycleState": "Protected",
                                         "PrivateIpAddress": "10.0.0.5"}, {"ImageId": "m-1", "Status": "Running"})

    facts = group_ops.group_facts(group, {"ImageId": "m-1"}, [instance])

    assert facts["suspended_processes"] == ["ScaleIn", "ScheduledAction"]
    assert facts["image_id"] == "m-1"
    assert facts["instances"][0]["protected"] is True
    assert facts["instances"][0]["private_ip"] == "10.0.0.5"
    assert facts["instances"][0]["image_id"] == "m-1"


# ---------------------------------------------------------------- a notify that lands once

class Notify:
    """NotifyExecution against a fake execution: each send answers the next outcome ("ok", "lost" = applied but
    the answer lost, "5xx" = not applied, "InvalidStatus"), and "ok"/"lost" move the execution to Running."""

    def __init__(self, outcomes, execution):
        self.outcomes = list(outcomes)
        self.execution = execution
        self.sends = 0
        self.reads = 0

    def send(self):
        self.sends += 1
        outcome = self.outcomes.pop(0)
        if outcome in ("ok", "lost"):
            self.execution = dict(self.execution, Status="Running", WaitingStatus="")
        if outcome == "lost":
            raise AlicloudApiError("NetworkError", "Connection reset by peer", operation="NotifyExecution")
        if outcome == "5xx":
            raise AlicloudApiError("InternalError", "boom", request_id="R", http_status=500)
        if outcome == "InvalidStatus":
            raise AlicloudApiError("InvalidStatus.Execution", "not waiting", request_id="R", http_status=400)

    def read(self):
        self.reads += 1
        return self.execution


def waiting(counters=None):
    return {"ExecutionId": "exec-1", "Status": "Waiting", "WaitingStatus": "BatchPause",
            "Counters": counters or {"Success": 2, "Total": 6}}


def no_sleep_policy(attempts=5):
    return RetryPolicy(max_attempts=attempts, sleep=lambda seconds: None)


def test_an_approve_that_failed_with_5xx_is_sent_again_and_lands_once():
    notify = Notify(["5xx", "ok"], waiting())
    assert group_ops.notify_once(notify.send, notify.read, "approve", waiting(), no_sleep_policy()) == 2
    assert notify.execution["Status"] == "Running"


def test_an_approve_whose_answer_was_lost_is_not_sent_again():
    notify = Notify(["lost"], waiting())
    assert group_ops.notify_once(notify.send, notify.read, "approve", waiting(), no_sleep_policy()) == 1
    assert notify.sends == 1 and notify.reads == 1


def test_a_repeat_refused_as_invalid_status_is_success_when_the_first_send_landed():
    # The re-read right after the reset still showed the pause (the service was slow to apply it).
    reads = iter([waiting(), dict(waiting(), Status="Running", WaitingStatus="")])
    notify = Notify(["5xx", "InvalidStatus"], waiting())
    assert group_ops.notify_once(notify.send, lambda: next(reads), "approve", waiting(), no_sleep_policy()) == 2


def test_invalid_status_on_the_first_send_is_an_error():
    notify = Notify(["InvalidStatus"], waiting())
    with pytest.raises(AlicloudApiError) as raised:
        group_ops.notify_once(notify.send, notify.read, "approve", waiting(), no_sleep_policy())
    assert raised.value.code == "InvalidStatus.Execution" and notify.reads == 0


def test_a_later_pause_of_the_same_execution_is_not_approved_again():
    # By the re-read the first approve had landed and the next batch reached its pause: counters moved.
    later = waiting({"Success": 4, "Total": 6})
    notify = Notify(["5xx"], later)
    assert group_ops.notify_once(notify.send, notify.read, "approve", waiting(), no_sleep_policy()) == 1
    assert notify.sends == 1


def test_sends_are_bounded_and_an_execution_that_went_elsewhere_is_reported():
    notify = Notify(["5xx"] * 10, waiting())
    with pytest.raises(AlicloudApiError) as raised:
        group_ops.notify_once(notify.send, notify.read, "approve", waiting(), no_sleep_policy(attempts=3))
    assert raised.value.code == "InternalError" and notify.sends == 3
    cancelled = dict(waiting(), Status="Cancelled", WaitingStatus="")
    notify = Notify(["5xx"], cancelled)
    with pytest.raises(AlicloudApiError):
        group_ops.notify_once(notify.send, notify.read, "approve", waiting(), no_sleep_policy())
    assert notify.sends == 1


def test_throttling_that_outlasted_the_client_retries_is_not_repeated_again():
    def throttled():
        raise AlicloudApiError("Throttling.User", "slow down", request_id="R", http_status=400)
    reads = []
    with pytest.raises(AlicloudApiError):
        group_ops.notify_once(throttled, lambda: reads.append(1), "approve", waiting(), no_sleep_policy())
    assert reads == []


def test_without_counters_update_date_tells_whether_an_action_landed():
    before = {"ExecutionId": "exec-1", "Status": "Waiting", "UpdateDate": "2026-01-01T00:00:00Z",
              "CurrentTasks": [{"TaskName": "loop"}]}
    assert group_ops._still_waiting_as_before(dict(before), "approve", before)
    later = dict(before, UpdateDate="2026-01-01T00:05:00Z")
    assert not group_ops._still_waiting_as_before(later, "approve", before)
    assert group_ops._landed(later, "approve", before)
