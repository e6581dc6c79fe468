"""The supporting modules (ess_scaling_processes, ess_scaling_group_info, ess_instance_standby, oos_execution)
against the emulator: results, check mode, diff, idempotence and the cloud state.

Check mode and diff through Ansible are shown once, by ansible-playbook (suspending processes); the other
scenarios run the modules in-process (support.inprocess)."""
from support import inprocess
from support.cloud import (GROUP, NEW_IMAGE, OTHER_GROUP, execution_state, group_state, mutating_calls,
                           second_group, world, world_with)
from support.playbook import run_tasks


def processes(**args):
    return {"alicloud.rollout.ess_scaling_processes": dict({"scaling_group_id": GROUP}, **args)}


def standby(**args):
    return {"alicloud.rollout.ess_instance_standby": dict({"scaling_group_id": GROUP}, **args)}


def execution_action(execution_id, action, **args):
    return {"alicloud.rollout.oos_execution": dict({"execution_id": execution_id, "action": action}, **args)}


def paused_rollout(group_id=GROUP):
    return {"alicloud.rollout.ess_rolling_update": {
        "scaling_group_id": group_id, "image_id": NEW_IMAGE, "batch_number": 2,
        "batch_pause_option": "FirstBatchPause", "poll_interval": 0.3}}


def test_suspend_in_check_mode_changes_nothing_and_shows_the_diff(emulator, tmp_path):
    run = run_tasks(emulator, tmp_path, [processes(processes=["ScaleIn", "ScaleOut"])], check=True, diff=True)
    result = run[0]

    assert result["changed"] is True
    assert result["processes_changed"] == ["ScaleIn", "ScaleOut"]
    assert result["diff"] == {"before": {"suspended_processes": []},
                              "after": {"suspended_processes": ["ScaleIn", "ScaleOut"]}}
    assert group_state(emulator)["suspended_processes"] == []
    assert mutating_calls(emulator) == []


def test_suspend_is_idempotent_and_resume_acts_only_on_what_is_named(emulator):
    emulator.load_world(world_with(suspended_processes=["HealthCheck"]))
    first, again, resume = inprocess.run_tasks(emulator, [
        processes(processes=["ScaleIn", "HealthCheck"]),
        processes(processes=["ScaleIn", "HealthCheck"]),
        processes(processes=["ScaleIn", "ScaleOut"], state="resumed"),
    ])

    assert first["changed"] is True and first["processes_changed"] == ["ScaleIn"]
    assert first["suspended_processes_before"] == ["HealthCheck"]
    assert first["suspended_processes_after"] == ["ScaleIn", "HealthCheck"]
    assert again["changed"] is False and again["processes_changed"] == []
    assert resume["changed"] is True and resume["processes_changed"] == ["ScaleIn"]
    assert resume["suspended_processes_after"] == ["HealthCheck"]
    assert group_state(emulator)["suspended_processes"] == ["HealthCheck"]


def test_group_info_reports_configuration_processes_and_instances(emulator):
    [result] = inprocess.run_tasks(emulator, [{"alicloud.rollout.ess_scaling_group_info": {
        "scaling_group_id": GROUP, "verify_region": True}}])

    assert not result.get("failed"), result.get("msg")
    assert "cn-hangzhou" in result["regions"]
    [group] = result["scaling_groups"]
    state = group_state(emulator)
    assert group["scaling_group_id"] == GROUP and group["lifecycle_state"] == "Active"
    assert group["image_id"] == state["scaling_configuration"]["image_id"]
    assert group["active_scaling_configuration_id"] == state["scaling_configuration"]["id"]
    assert group["suspended_processes"] == []
    assert group["total_capacity"] == len(state["instances"])
    by_id = dict((i["instance_id"], i) for i in group["instances"])
    for instance in state["instances"]:
        reported = by_id[instance["id"]]
        assert reported["image_id"] == instance["image_id"]
        assert reported["private_ip"] == instance["private_ip"]
        assert reported["lifecycle_state"] == instance["lifecycle_state"]
        assert reported["protected"] is instance["protected"]


def test_group_info_fails_clearly_for_an_unknown_region_or_group(emulator):
    bad_region, missing_group = inprocess.run_tasks(emulator, [
        {"alicloud.rollout.ess_scaling_group_info": {"scaling_group_id": GROUP, "verify_region": True,
                                                     "region": "xx-nowhere-9"}},
        {"alicloud.rollout.ess_scaling_group_info": {"scaling_group_id": "asg-bp1doesnotexist01"}},
    ])

    assert bad_region["failed"] is True and "Region xx-nowhere-9 is not one of the regions" in bad_region["msg"]
    assert missing_group["failed"] is True
    assert missing_group["error"]["code"] == "InvalidScalingGroupId.NotFound"


def test_standby_round_trip_with_check_mode_and_idempotence(emulator):
    instance_id = group_state(emulator)["instances"][0]["id"]
    [checked] = inprocess.run_tasks(emulator, [standby(instance_ids=[instance_id], state="Standby")],
                                    check=True, diff=True)
    assert checked["changed"] is True and checked["instances_changed"] == [instance_id]
    assert checked["diff"]["after"]["lifecycle_states"][instance_id] == "Standby"
    assert group_state(emulator)["instances"][0]["lifecycle_state"] == "InService"

    enter, enter_again, leave, leave_again = inprocess.run_tasks(emulator, [
        standby(instance_ids=[instance_id], state="Standby"),
        standby(instance_ids=[instance_id], state="Standby"),
        standby(instance_ids=[instance_id], state="InService"),
        standby(instance_ids=[instance_id], state="InService"),
    ])

    assert enter["changed"] is True and enter["lifecycle_states_after"][instance_id] == "Standby"
    assert enter_again["changed"] is False
    assert leave["changed"] is True and leave["lifecycle_states_after"][instance_id] == "InService"
    assert leave_again["changed"] is False
    assert group_state(emulator)["instances"][0]["lifecycle_state"] == "InService"


def test_standby_refuses_instances_outside_the_group(emulator):
    [result] = inprocess.run_tasks(emulator, [standby(instance_ids=["i-bp1notinthegroup000"], state="Standby")])

    assert result["failed"] is True and "not in scaling group" in result["msg"]
    assert mutating_calls(emulator) == []


def test_approve_continues_a_paused_rollout_and_is_idempotent(emulator):
    [started] = inprocess.run_tasks(emulator, [paused_rollout()])
    execution_id = started["execution_id"]
    assert started["paused"] is True

    [checked] = inprocess.run_tasks(emulator, [execution_action(execution_id, "approve")], check=True, diff=True)
    assert checked["changed"] is True and checked["status_before"] == "Waiting"
    assert checked["diff"] == {"before": {"status": "Waiting"}, "after": {"status": "Running"}}
    assert execution_state(emulator, execution_id)["status"] == "Waiting"

    approve, _, approve_again, cancel_finished, reject_finished = inprocess.run_tasks(emulator, [
        execution_action(execution_id, "approve"),
        {"alicloud.rollout.oos_execution_info": {"execution_ids": [execution_id], "wait_for": ["Success", "Failed"],
                                                 "poll_interval": 0.3, "wait_timeout": 60}},
        execution_action(execution_id, "approve"),
        execution_action(execution_id, "cancel"),
        execution_action(execution_id, "reject"),
    ])

    assert approve["changed"] is True and approve["waiting_status_before"] == "BatchPause"
    assert approve_again["changed"] is False and not approve_again.get("failed")
    assert cancel_finished["changed"] is False and not cancel_finished.get("failed")
    assert reject_finished["failed"] is True and "reject is not possible" in reject_finished["msg"]
    assert execution_state(emulator, execution_id)["status"] == "Success"
    assert {i["image_id"] for i in group_state(emulator)["instances"]} == {NEW_IMAGE}


def test_cancel_acts_only_on_the_execution_given(emulator):
    emulator.load_world(world(extra_groups=[second_group(name="api", instances=2)]))
    run = inprocess.run_tasks(emulator, [paused_rollout(GROUP), paused_rollout(OTHER_GROUP)])
    mine, other = run[0]["execution_id"], run[1]["execution_id"]

    cancel, cancel_again, approve_cancelled = inprocess.run_tasks(emulator, [
        execution_action(mine, "cancel", poll_interval=0.3),
        execution_action(mine, "cancel"),
        execution_action(mine, "approve"),
    ])

    assert cancel["changed"] is True and cancel["status"] == "Cancelled"
    assert cancel_again["changed"] is False
    assert approve_cancelled["failed"] is True and "is Cancelled" in approve_cancelled["msg"]
    assert execution_state(emulator, mine)["status"] == "Cancelled"
    assert execution_state(emulator, other)["status"] == "Waiting"
