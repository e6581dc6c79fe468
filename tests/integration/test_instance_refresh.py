"""ess_instance_refresh and ess_instance_refresh_info against the emulator: in-process (support.inprocess), with check
mode and diff through ansible-playbook.

Results, the emulator's state() and its call log are asserted. The default world's group is eligible for instance
refresh; ineligible groups, failing refreshes and lagging read-backs come from world keys and faults.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

from support import inprocess
from support.cloud import BAD_IMAGE, CONFIG, GROUP, NEW_IMAGE, OLD_IMAGE, group_state, mutating_calls, world_with
from support.playbook import run_tasks as run_playbook
MODULE = "alicloud.rollout.ess_instance_refresh"
INFO = "alicloud.rollout.ess_instance_refresh_info"
# Long enough (2 days simulated = 288 s real at speed 600) that a checkpoint pause never ends by itself in a test.
LONG_PAUSE_MINUTES = 2880


def run_tasks(emulator, tasks, **kwargs):
    # The tasks set poll_interval themselves; a default would reach the info module, which has none.
    return inprocess.run_tasks(emulator, tasks, poll_interval=None, **kwargs)


def refresh(**extra):
    args = {"scaling_group_id": GROUP, "desired_configuration": {"image_id": NEW_IMAGE}, "poll_interval": 0.1,
            "wait_timeout": 60}
    args.update(extra)
    return {MODULE: args}


def canary(**extra):
    """A refresh that pauses when half of the 4 instances are new."""
    return refresh(checkpoints=[50, 100], checkpoint_pause_time=LONG_PAUSE_MINUTES, **extra)


def act(state, **extra):
    args = {"scaling_group_id": GROUP, "state": state, "poll_interval": 0.1, "wait_timeout": 60}
    args.update(extra)
    return {MODULE: args}


def images(emulator):
    return sorted(i["image_id"] for i in group_state(emulator)["instances"])


def refresh_calls(emulator, action, since=0):
    return [c for c in emulator.calls(since=since, action=action)]


def test_preflight_refuses_an_economical_mode_group_before_any_change(emulator):
    emulator.load_world(world_with(scaling_policy="recycle", multi_az_policy="BALANCE"))
    blocked, by_ess = run_tasks(emulator, [refresh(), refresh(preflight="warn")])

    assert blocked["failed"] is True
    assert "Economical Mode" in blocked["msg"] and "ScalingPolicy recycle" in blocked["msg"]
    assert "BALANCE scale-out policy" in blocked["msg"] and "preflight=warn" in blocked["msg"]
    assert len(blocked["plan"]["blockers"]) == 2 and blocked["plan"]["instances_to_refresh"]
    # With preflight=warn ESS itself refuses; the error names the API code and the RequestId.
    assert by_ess["failed"] is True and any("Economical Mode" in w for w in by_ess["warnings"])
    assert by_ess["error"]["code"] == "OperationDenied" and by_ess["error"]["request_id"] in by_ess["msg"]
    assert [c["status"] for c in emulator.calls() if c["mutating"]] == [400]
    assert emulator.state()["instance_refreshes"] == []


def test_refresh_replaces_every_instance_and_a_rerun_changes_nothing(emulator):
    before_ids = {i["id"] for i in group_state(emulator)["instances"]}
    first, second = run_tasks(emulator, [refresh(), refresh()])

    assert not first.get("failed"), first.get("msg")
    assert first["changed"] is True and first["action"] == "started"
    assert first["status"] == "Successful" and first["paused"] is False
    assert first["task_id"].startswith("ir-")
    assert first["task"]["finished_update_capacity"] == 4 and first["task"]["percent_done"] == 100
    assert first["request"] == {"min_healthy_percentage": 80, "max_healthy_percentage": 120, "skip_matching": True,
                                "checkpoints": [], "checkpoint_pause_time": None,
                                "desired_configuration": {"image_id": NEW_IMAGE}}
    assert sorted(first["plan"]["instances_to_refresh"]) == sorted(before_ids)
    assert not first.get("warnings")

    group = group_state(emulator)
    assert images(emulator) == [NEW_IMAGE] * 4
    assert not before_ids & {i["id"] for i in group["instances"]}  # refresh replaces instances
    assert group["scaling_configuration"]["image_id"] == NEW_IMAGE

    assert not second.get("failed"), second.get("msg")
    assert second["changed"] is False and second["action"] == "none"
    assert second["plan"]["instances_to_refresh"] == []
    # The module's own idempotence (the last refresh to the image succeeded, every instance runs it): no second
    # StartInstanceRefresh, whatever ESS's matching by configuration ID would do with a desired image.
    assert [c["status"] for c in refresh_calls(emulator, "StartInstanceRefresh")] == [200]
    assert len(emulator.state()["instance_refreshes"]) == 1


def test_checkpoint_pause_returns_then_resume_finishes(emulator):
    original_ids = {i["id"] for i in group_state(emulator)["instances"]}
    paused, resumed, again = run_tasks(emulator, [canary(), act("resumed"), act("resumed")])

    assert not paused.get("failed"), paused.get("msg")
    assert paused["changed"] is True and paused["paused"] is True
    assert paused["status"] == "CheckpointPause"
    assert paused["task"]["finished_update_capacity"] == 2 and paused["task"]["checkpoints"] == [50, 100]
    assert "state=resumed" in paused["msg"]
    new_at_pause = set(paused["matching_instances"])
    assert len(new_at_pause) == 2 and not new_at_pause & original_ids  # the replacements, for a health gate
    assert new_at_pause <= {i["id"] for i in group_state(emulator)["instances"]}

    assert not resumed.get("failed"), resumed.get("msg")
    assert resumed["changed"] is True and resumed["status_before"] == "CheckpointPause"
    assert resumed["task_id"] == paused["task_id"] and resumed["status"] == "Successful"
    assert sorted(resumed["matching_instances"]) == sorted(i["id"] for i in group_state(emulator)["instances"])
    assert again["changed"] is False and again["status"] == "Successful" and "not paused" in again["msg"]
    assert images(emulator) == [NEW_IMAGE] * 4
    assert len(refresh_calls(emulator, "ResumeInstanceRefresh")) == 1


def test_rollback_at_a_checkpoint_restores_the_old_image(emulator):
    paused, rolled, again = run_tasks(emulator, [canary(), act("rolled_back"), act("rolled_back")])

    assert paused["status"] == "CheckpointPause" and images(emulator) == [OLD_IMAGE] * 4
    assert not rolled.get("failed"), rolled.get("msg")
    assert rolled["changed"] is True and rolled["status"] == "RollbackSuccessful"
    assert rolled["status_before"] == "CheckpointPause"
    assert again["changed"] is False and not again.get("failed")
    assert group_state(emulator)["scaling_configuration"]["image_id"] == OLD_IMAGE
    assert len(refresh_calls(emulator, "RollbackInstanceRefresh")) == 1


def test_cancel_stops_the_refresh_and_a_second_cancel_is_ok(emulator):
    would_cancel = dict(act("cancelled"), check_mode=True, diff=True)
    paused, checked, cancelled, again = run_tasks(emulator, [canary(), would_cancel, act("cancelled"),
                                                             act("cancelled")])

    assert paused["status"] == "CheckpointPause"
    assert checked["changed"] is True and checked["status"] == "Cancelled" and "Would send" in checked["msg"]
    assert checked["diff"] == {"before": {"status": "CheckpointPause"}, "after": {"status": "Cancelled"}}
    assert not cancelled.get("failed"), cancelled.get("msg")
    assert cancelled["changed"] is True and cancelled["status"] == "Cancelled"
    assert again["changed"] is False and again["status"] == "Cancelled"
    assert images(emulator) == sorted([NEW_IMAGE] * 2 + [OLD_IMAGE] * 2)  # replaced instances stay replaced
    assert len(refresh_calls(emulator, "CancelInstanceRefresh")) == 1


def test_suspend_and_resume(emulator):
    paused, suspended, again, resumed = run_tasks(emulator, [canary(), act("suspended"), act("suspended"),
                                                             act("resumed")])

    assert suspended["changed"] is True and suspended["status"] == "Paused" and suspended["paused"] is True
    assert again["changed"] is False and again["status"] == "Paused"
    assert resumed["changed"] is True and resumed["status_before"] == "Paused"
    assert resumed["status"] == "Successful"
    assert len(refresh_calls(emulator, "SuspendInstanceRefresh")) == 1


def test_rerun_adopts_the_paused_refresh_and_a_different_request_is_refused(emulator):
    other = refresh(desired_configuration={"image_id": OLD_IMAGE}, skip_matching=False)
    paused, adopted, refused = run_tasks(emulator, [canary(), canary(), other])

    assert paused["status"] == "CheckpointPause"
    assert not adopted.get("failed"), adopted.get("msg")
    assert adopted["changed"] is False and adopted["action"] == "adopted"
    assert adopted["task_id"] == paused["task_id"] and adopted["paused"] is True

    assert refused["failed"] is True
    assert paused["task_id"] in refused["msg"] and "DesiredConfiguration.ImageId" in refused["msg"]
    assert "state=cancelled" in refused["msg"]
    assert len(refresh_calls(emulator, "StartInstanceRefresh")) == 1


def test_interrupted_wait_times_out_with_the_task_and_a_rerun_adopts_it(emulator):
    # Slow enough (a wave takes 1 s real) that the refresh is still running when the second run starts.
    emulator.load_world(speed=60)
    timed_out, adopted = run_tasks(emulator, [refresh(wait_timeout=0), refresh()])

    assert timed_out["failed"] is True and "Timed out" in timed_out["msg"]
    assert timed_out["task_id"].startswith("ir-") and timed_out["task"]["running"] is True
    assert "adopt" in timed_out["msg"]
    assert not adopted.get("failed"), adopted.get("msg")
    assert adopted["action"] == "adopted" and adopted["changed"] is False
    assert adopted["task_id"] == timed_out["task_id"] and adopted["status"] == "Successful"
    assert images(emulator) == [NEW_IMAGE] * 4
    assert len(refresh_calls(emulator, "StartInstanceRefresh")) == 1


def test_image_for_a_launch_template_group_is_refused_by_preflight_and_by_ess(emulator):
    emulator.load_world(world_with(launch_template={"id": "lt-bp1demo", "version": "3"}))
    strict = refresh()
    by_ess = refresh(preflight="warn")
    blocked, refused = run_tasks(emulator, [strict, by_ess])

    assert blocked["failed"] is True and "launch template lt-bp1demo" in blocked["msg"]
    assert refused["failed"] is True
    assert refused["error"]["code"] == "InvalidParameter" and refused["error"]["operation"] == "StartInstanceRefresh"
    assert refused["error"]["request_id"] and refused["error"]["request_id"] in refused["msg"]
    assert [c["status"] for c in refresh_calls(emulator, "StartInstanceRefresh")] == [400]
    assert emulator.state()["instance_refreshes"] == []


def test_a_failing_refresh_fails_with_the_detail_and_can_be_rolled_back(emulator):
    emulator.load_world(faults={"unhealthy_images": [BAD_IMAGE]})
    failed, rolled = run_tasks(emulator, [refresh(desired_configuration={"image_id": BAD_IMAGE}),
                                          act("rolled_back")])

    assert failed["failed"] is True and failed["changed"] is True and failed["status"] == "Failed"
    assert "ended Failed" in failed["msg"] and failed["task"]["detail"] in failed["msg"]
    assert "state=rolled_back" in failed["msg"]
    assert not rolled.get("failed"), rolled.get("msg")
    assert rolled["status_before"] == "Failed" and rolled["status"] == "RollbackSuccessful"
    assert images(emulator) == [OLD_IMAGE] * 4


def test_waits_after_actions_outlast_a_lagging_read_back(emulator):
    # ESS may answer an action before the task shows it; at speed 600 this lag is 0.1 s real, one poll.
    emulator.set_faults({"refresh_control_delay": 60})
    paused, resumed = run_tasks(emulator, [canary(), act("resumed")])

    assert paused["status"] == "CheckpointPause"
    assert not resumed.get("failed"), resumed.get("msg")
    assert resumed["status_before"] == "CheckpointPause" and resumed["status"] == "Successful"
    assert images(emulator) == [NEW_IMAGE] * 4


def test_rollback_of_a_latest_template_version_is_refused_before_any_call(emulator):
    world = world_with(launch_template={"id": "lt-bp1demo", "version": "1"})
    world["launch_templates"] = [{"id": "lt-bp1demo", "versions": {"1": OLD_IMAGE, "2": NEW_IMAGE}}]
    emulator.load_world(world)
    latest = refresh(desired_configuration={"launch_template_id": "lt-bp1demo", "launch_template_version": "Latest"})
    done, refused = run_tasks(emulator, [latest, act("rolled_back")])

    assert not done.get("failed"), done.get("msg")
    assert done["status"] == "Successful" and images(emulator) == [NEW_IMAGE] * 4
    assert any("cannot roll this refresh back" in w for w in done["warnings"])
    assert refused["failed"] is True and "Latest" in refused["msg"] and "cannot roll back" in refused["msg"]
    assert refresh_calls(emulator, "RollbackInstanceRefresh") == []


def test_check_mode_sends_nothing_and_reports_plan_and_diff(emulator, tmp_path):
    before = group_state(emulator)
    result = run_playbook(emulator, tmp_path, [canary()], check=True, diff=True, poll_interval=None)[0]

    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True and result["action"] == "started"
    assert sorted(result["plan"]["instances_to_refresh"]) == sorted(i["id"] for i in before["instances"])
    assert result["diff"]["after"]["instance_refresh"]["desired_configuration"] == {"image_id": NEW_IMAGE}
    assert mutating_calls(emulator) == []
    assert group_state(emulator) == before


def test_check_mode_with_nothing_to_refresh_is_unchanged(emulator):
    # SkipMatching matches by the desired configuration's ID: every instance was created from the group's own.
    result = run_tasks(emulator, [refresh(desired_configuration={"scaling_configuration_id": CONFIG})],
                       check=True)[0]

    assert result["changed"] is False and result["plan"]["instances_to_refresh"] == []
    assert mutating_calls(emulator) == []


def test_bad_input_fails_naming_the_option_without_any_api_call(emulator):
    tasks = [
        refresh(checkpoints=[50]),
        refresh(min_healthy_percentage=120),
        refresh(desired_configuration={"image_id": NEW_IMAGE, "scaling_configuration_id": CONFIG}),
        refresh(desired_configuration={"launch_template_version": "3"}),
        refresh(poll_interval=0),
    ]
    results = run_tasks(emulator, tasks)

    assert all(r["failed"] for r in results)
    assert "checkpoints" in results[0]["msg"] and "last percentage must be 100" in results[0]["msg"]
    assert "min_healthy_percentage" in results[1]["msg"]
    assert "mutually exclusive" in results[2]["msg"]
    assert "launch_template_id" in results[3]["msg"]
    assert "poll_interval" in results[4]["msg"]
    assert emulator.calls() == []


def test_acting_without_tasks_an_unknown_task_or_info_without_a_filter_fails_clearly(emulator):
    tasks = [act("cancelled"), act("resumed", task_id="ir-doesnotexist"), {INFO: {}}, {INFO: {"task_ids": []}}]
    none_yet, unknown, no_filter, empty_ids = run_tasks(emulator, tasks)

    assert none_yet["failed"] is True and "has no instance refresh task" in none_yet["msg"]
    assert unknown["failed"] is True and "ir-doesnotexist does not exist" in unknown["msg"]
    assert no_filter["failed"] is True and "scaling_group_id" in no_filter["msg"]
    assert empty_ids["failed"] is True and "non-empty task_ids" in empty_ids["msg"]
    assert mutating_calls(emulator) == []
    assert [c["action"] for c in emulator.calls()] == ["DescribeInstanceRefreshes", "DescribeInstanceRefreshes"]


def test_info_lists_tasks_of_the_group_and_by_id(emulator):
    first, _cancel, second = run_tasks(emulator, [
        canary(), act("cancelled"), refresh(desired_configuration={"image_id": OLD_IMAGE}, checkpoints=[50, 100],
                                            checkpoint_pause_time=LONG_PAUSE_MINUTES)])
    listed, running, by_id = run_tasks(emulator, [
        {INFO: {"scaling_group_id": GROUP}},
        {INFO: {"scaling_group_id": GROUP, "running_only": True}},
        {INFO: {"task_ids": [first["task_id"]]}},
    ])

    assert second["status"] == "CheckpointPause"
    assert [t["task_id"] for t in listed["tasks"]] == [second["task_id"], first["task_id"]]
    assert [t["status"] for t in listed["tasks"]] == ["CheckpointPause", "Cancelled"]
    assert listed["running_task_id"] == second["task_id"] and listed["changed"] is False
    assert [t["task_id"] for t in running["tasks"]] == [second["task_id"]]
    assert [t["task_id"] for t in by_id["tasks"]] == [first["task_id"]]
    assert by_id["tasks"][0]["desired_configuration"] == {"image_id": NEW_IMAGE}
