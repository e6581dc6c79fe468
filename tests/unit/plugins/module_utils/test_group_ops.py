# -*- coding: utf-8 -*-
"""Decisions of the supporting modules: processes, standby and acting on one execution."""
from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import pytest

from ansible_collections.alicloud.rollout.plugins.module_utils import group_ops


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
