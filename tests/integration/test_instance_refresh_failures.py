"""ess_instance_refresh when the refresh does not simply succeed: it ends Failed, the wait runs out, or the
module does not wait. Driven in-process (support.inprocess) against the emulator (faults `failing_refresh_images`
and a slow world), not against a scripted client.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

from support.cloud import GROUP, NEW_IMAGE, OLD_IMAGE, group_state
from support.inprocess import run_tasks
MODULE = "alicloud.rollout.ess_instance_refresh"


def refresh(**extra):
    args = {"scaling_group_id": GROUP, "desired_configuration": {"image_id": NEW_IMAGE}, "poll_interval": 0.1,
            "wait_timeout": 60}
    args.update(extra)
    return {MODULE: args}


def images(emulator):
    return sorted(i["image_id"] for i in group_state(emulator)["instances"])


def test_a_refresh_that_ends_failed_fails_the_module_with_the_detail(emulator):
    emulator.set_faults({"failing_refresh_images": [NEW_IMAGE]})

    failed = run_tasks(emulator, [refresh()], poll_interval=None)[0]

    assert failed["failed"] is True
    assert failed["changed"] is True and failed["action"] == "started"
    assert failed["status"] == "Failed" and failed["task"]["status"] == "Failed"
    detail = failed["task"]["detail"]
    assert "could not be started" in detail and NEW_IMAGE in detail
    assert failed["task_id"] in failed["msg"] and "ended Failed" in failed["msg"] and detail in failed["msg"]
    assert "state=rolled_back" in failed["msg"]
    assert "matching_instances" not in failed
    [task] = emulator.state()["instance_refreshes"]
    assert task["Status"] == "Failed" and task["InstanceRefreshTaskId"] == failed["task_id"]
    assert len(emulator.calls(action="StartInstanceRefresh")) == 1
    assert images(emulator) == [OLD_IMAGE] * 4  # nothing could be created, nothing was removed


def test_a_short_wait_times_out_with_the_last_task_seen(emulator):
    # A wave takes 3 s real at speed 20: the refresh is still running when the 1 s wait runs out.
    emulator.load_world(speed=20)

    timed_out = run_tasks(emulator, [refresh(wait_timeout=1)], poll_interval=None)[0]

    assert timed_out["failed"] is True and "Timed out after 1s" in timed_out["msg"]
    assert timed_out["changed"] is True and timed_out["action"] == "started"
    assert timed_out["status"] in ("Pending", "InProgress") and timed_out["task"]["running"] is True
    assert timed_out["task_id"] in timed_out["msg"] and "raise wait_timeout" in timed_out["msg"]
    assert timed_out["waited"] >= 1
    [task] = emulator.state()["instance_refreshes"]
    assert task["InstanceRefreshTaskId"] == timed_out["task_id"]


def test_without_wait_the_module_returns_the_new_task(emulator):
    emulator.load_world(speed=20)

    started = run_tasks(emulator, [refresh(wait=False)], poll_interval=None)[0]

    assert not started.get("failed"), started.get("msg")
    assert started["changed"] is True and started["action"] == "started"
    assert started["status"] in ("Pending", "InProgress") and started["paused"] is False
    assert started["waited"] == 0
    assert [t["InstanceRefreshTaskId"] for t in emulator.state()["instance_refreshes"]] == [started["task_id"]]
