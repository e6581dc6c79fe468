"""The three rolling-update templates, step by step, over HTTP with the official OOS SDK."""
import json

import pytest
from alibabacloud_oos20190601 import models as oos_models
from Tea.exceptions import TeaException

from alicloud_emulator.clock import parse_iso
from alicloud_emulator.engine import split_batches
from model_support import (GROUP, IMAGE_TEMPLATE, NEW_IMAGE, OLD_IMAGE, PACKAGE_TEMPLATE, SCRIPT_TEMPLATE,
                           cancel, children, execution, group_state, instance_ids, load, loop_children, notify,
                           snapshot_execution, start, wait_for, wait_until)

FIVE = ["ScaleIn", "ScaleOut", "HealthCheck", "AlarmNotification", "ScheduledAction"]


@pytest.mark.parametrize("count,batches,sizes", [
    (10, 3, [4, 3, 3]), (10, 2, [5, 5]), (3, 5, [1, 1, 1]), (7, 1, [7]), (1, 100, [1]), (0, 5, []),
])
def test_split_puts_the_remainder_in_the_first_batches(count, batches, sizes):
    assert [len(b) for b in split_batches(list(range(count)), batches)] == sizes


def test_image_update_replaces_every_instance_and_updates_the_configuration(emulator):
    load(emulator, instances=10)
    started = start(emulator, IMAGE_TEMPLATE, imageId=NEW_IMAGE, scalingConfigurationId="asc-bp1model000000001",
                    batchNumber=3, tags={"scaling_group": GROUP})
    assert started.status == "Started" and started.parameters["batchNumber"] == 3
    done = wait_for(emulator, started.execution_id)
    assert done.status == "Success", done.status_message
    disks = json.loads(done.outputs)["commandOutputs"]
    assert len(disks) == 10 and all(d.startswith("d-") for d in disks)
    group = group_state(emulator)
    assert group["scaling_configuration"]["image_id"] == NEW_IMAGE
    assert group["suspended_processes"] == []
    for instance in group["instances"]:
        assert instance["image_id"] == NEW_IMAGE
        assert instance["lifecycle_state"] == "InService" and instance["status"] == "Running"
        assert instance["tags"]["ess:rollingupdate"] == "oos:" + started.execution_id
    kids = children(emulator, started.execution_id)
    assert len(kids) == 10
    assert {k.template_name for k in kids} == {"ACS::ESS::ReplaceSystemDisk"}
    assert {k.parameters["instanceId"] for k in kids} == set(instance_ids(emulator))
    assert all(k.parent_execution_id == started.execution_id and k.status == "Success" for k in kids)
    loop, items = loop_children(emulator, started.execution_id)
    assert loop.task_name == "invokeByReplaceImage" and loop.loop["Concurrency"] == [4, 3, 3]
    assert sorted(i.loop_batch_number for i in items) == [1] * 4 + [2] * 3 + [3] * 3
    assert {json.loads(i.loop_item)["InstanceId"] for i in items} == set(instance_ids(emulator))
    assert all(i.child_execution_id and i.parent_task_execution_id == loop.task_execution_id for i in items)
    snap = snapshot_execution(emulator, started.execution_id)
    assert [len(b) for b in snap["batches"]] == [4, 3, 3]
    assert snap["status_changed_at"] == done.end_date


def test_image_update_without_configuration_id_leaves_the_configuration(emulator):
    load(emulator, instances=2)
    done = wait_for(emulator, start(emulator, IMAGE_TEMPLATE, imageId=NEW_IMAGE, batchNumber=1).execution_id)
    assert done.status == "Success"
    assert group_state(emulator)["scaling_configuration"]["image_id"] == OLD_IMAGE
    assert {i["image_id"] for i in group_state(emulator)["instances"]} == {NEW_IMAGE}


def test_empty_group_succeeds_without_suspending_anything(emulator):
    load(emulator, instances=[{"lifecycle_state": "Standby"}])
    done = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeScript="true").execution_id)
    assert done.status == "Success" and done.outputs == "{}"
    names = [c["action"] for c in emulator.calls()]
    assert "SuspendProcesses" not in names
    assert children(emulator, done.execution_id) == []


def test_script_runs_with_bash_and_returns_real_output(emulator):
    load(emulator, instances=3)
    done = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, batchNumber=2,
                                    invokeScript='echo "on $INSTANCE_ID"; touch marker; ls').execution_id)
    assert done.status == "Success", done.status_message
    outputs = json.loads(done.outputs)["commandOutputs"]
    assert outputs == ["on %s\nmarker\n" % i for i in instance_ids(emulator)]
    for instance in group_state(emulator)["instances"]:
        assert instance["last_script_exit_code"] == 0


def test_first_batch_pause_waits_once_then_approve_runs_to_the_end(emulator):
    load(emulator, instances=6)
    started = start(emulator, SCRIPT_TEMPLATE, invokeScript="true", batchNumber=3, batchPauseOption="FirstBatchPause")
    paused = wait_for(emulator, started.execution_id, ("Waiting",) + ("Success", "Failed"))
    assert paused.status == "Waiting" and paused.waiting_status == "BatchPause"
    states = {i["id"]: i["lifecycle_state"] for i in group_state(emulator)["instances"]}
    assert list(states.values()) == ["InService"] * 6  # batch 1 finished, nothing in Standby
    assert group_state(emulator)["suspended_processes"] == FIVE
    assert len(children(emulator, started.execution_id)) == 2
    assert snapshot_execution(emulator, started.execution_id)["current_batch"] == 1
    notify(emulator, started.execution_id, "Approve")
    done = wait_for(emulator, started.execution_id, ("Success", "Failed", "Cancelled", "Waiting"))
    assert done.status == "Success"  # FirstBatchPause pauses only once
    assert len(children(emulator, started.execution_id)) == 6


def test_every_batch_pause_waits_after_each_batch_but_the_last(emulator):
    load(emulator, instances=3)
    started = start(emulator, SCRIPT_TEMPLATE, invokeScript="true", batchNumber=3, batchPauseOption="EveryBatchPause")
    pauses = 0
    while True:
        found = wait_for(emulator, started.execution_id, ("Waiting", "Success", "Failed"))
        if found.status != "Waiting":
            break
        pauses += 1
        assert len(children(emulator, started.execution_id)) == pauses
        notify(emulator, started.execution_id, "Approve")
    assert found.status == "Success" and pauses == 2


def test_reject_at_a_batch_pause_fails_the_execution(emulator):
    load(emulator, instances=2)
    started = start(emulator, SCRIPT_TEMPLATE, invokeScript="true", batchNumber=2, batchPauseOption="EveryBatchPause")
    wait_for(emulator, started.execution_id, ("Waiting",))
    notify(emulator, started.execution_id, "Reject")
    done = execution(emulator, started.execution_id)
    assert done.status == "Failed" and "rejected" in done.status_message


def test_notify_approve_on_a_running_execution_is_refused(emulator):
    load(emulator, instances=1)
    started = start(emulator, SCRIPT_TEMPLATE, invokeScript="sleep 0.3")
    with pytest.raises(TeaException) as error:
        notify(emulator, started.execution_id, "Approve")
    assert error.value.code == "InvalidStatus.Execution"


def test_failure_in_batch_two_stops_the_loop_and_rollback_restores(emulator):
    load(emulator, instances=6)
    ids = instance_ids(emulator)
    script = 'if [ "$INSTANCE_ID" = "%s" ]; then echo broken >&2; exit 3; fi; echo v2 > version' % ids[3]
    started = start(emulator, SCRIPT_TEMPLATE, invokeScript=script, rollbackScript="echo rolled back",
                    batchNumber=3, enterProcess=["ScaleIn", "ScaleOut"], exitProcess=["ScaleIn", "ScaleOut"])
    failed = wait_for(emulator, started.execution_id)
    assert failed.status == "Failed"
    assert ids[3] in failed.status_message and "runCommand" in failed.status_message and "code 3" in failed.status_message
    states = {i["id"]: i for i in group_state(emulator)["instances"]}
    assert states[ids[3]]["lifecycle_state"] == "Standby"  # left for the operator
    assert states[ids[2]]["lifecycle_state"] == "InService"
    assert group_state(emulator)["suspended_processes"] == ["ScaleIn", "ScaleOut"]
    assert len(children(emulator, started.execution_id)) == 4  # batch 3 never started
    loop, items = loop_children(emulator, started.execution_id)
    assert loop.status == "Failed"
    assert sorted(i.status for i in items) == ["Cancelled"] * 2 + ["Failed"] + ["Success"] * 3
    assert "ess:rollingupdate" not in states[ids[0]]["tags"]  # tagging happens only after the loop
    status, body = emulator.instance_health(ids[3])
    assert status == 503 and "exited with code 3" in body["reasons"][0]

    rollback = start(emulator, SCRIPT_TEMPLATE, invokeType="rollback", sourceExecutionId=started.execution_id,
                     rollbackScript="echo rolled back", commandType="RunBatScript", batchNumber=2,
                     enterProcess=[], exitProcess=[])
    done = wait_for(emulator, rollback.execution_id)
    assert done.status == "Success", done.status_message
    kids = children(emulator, rollback.execution_id)
    assert sorted(k.parameters["instanceId"] for k in kids) == sorted(ids[:4])
    assert {k.parameters["commandType"] for k in kids} == {"RunShellScript"}  # forced on rollback
    assert {k.parameters["rollBack"] for k in kids} == {"true"}
    assert json.loads(done.outputs)["commandOutputs"] == ["rolled back\n"] * 4
    # The rollback reuses the source's process lists, not its own empty ones.
    assert group_state(emulator)["suspended_processes"] == []
    assert emulator.instance_health(ids[3])[0] == 200
    tags = {i["id"]: i["tags"] for i in group_state(emulator)["instances"]}
    assert all("ess:rollingupdate" not in t for t in tags.values())  # no tagging on rollback


def test_injected_step_failure_names_instance_and_step(emulator):
    load(emulator, instances=2)
    ids = instance_ids(emulator)
    emulator.set_faults({"failing_instances": {ids[1]: "ReplaceSystemDisk"}})
    done = wait_for(emulator, start(emulator, IMAGE_TEMPLATE, imageId=NEW_IMAGE, batchNumber=2).execution_id)
    assert done.status == "Failed"
    assert ids[1] in done.status_message and "replaceSystemDisk" in done.status_message
    states = {i["id"]: i for i in group_state(emulator)["instances"]}
    assert states[ids[1]]["lifecycle_state"] == "Standby" and states[ids[1]]["status"] == "Stopped"
    assert states[ids[0]]["image_id"] == NEW_IMAGE


def test_max_errors_tolerates_failures_in_the_image_template(emulator):
    load(emulator, instances=4)
    ids = instance_ids(emulator)
    emulator.set_faults({"failing_instances": {ids[0]: "StartInstance"}})
    done = wait_for(emulator, start(emulator, IMAGE_TEMPLATE, imageId=NEW_IMAGE, batchNumber=2,
                                    maxErrors=1).execution_id)
    assert done.status == "Success"
    assert len(json.loads(done.outputs)["commandOutputs"]) == 3


def test_cancel_stops_the_run_and_a_rollback_of_the_cancelled_run_works(emulator):
    load(emulator, instances=4)
    started = start(emulator, IMAGE_TEMPLATE, imageId=NEW_IMAGE, batchNumber=2, batchPauseOption="FirstBatchPause")
    wait_for(emulator, started.execution_id, ("Waiting",))
    cancel(emulator, started.execution_id)
    cancelled = execution(emulator, started.execution_id)
    assert cancelled.status == "Cancelled" and cancelled.end_date
    assert group_state(emulator)["suspended_processes"] == FIVE  # cancel resumes nothing
    cancel(emulator, started.execution_id)  # cancelling a final execution is a no-op
    assert execution(emulator, started.execution_id).status == "Cancelled"

    rollback = start(emulator, IMAGE_TEMPLATE, invokeType="rollback", sourceExecutionId=started.execution_id,
                     sourceImageId=OLD_IMAGE, batchNumber=1)
    done = wait_for(emulator, rollback.execution_id)
    assert done.status == "Success"
    images = [i["image_id"] for i in group_state(emulator)["instances"]]
    assert images == [OLD_IMAGE] * 4
    assert len(children(emulator, rollback.execution_id)) == 2  # only the instances the cancelled run reached
    assert group_state(emulator)["suspended_processes"] == []


def test_cancel_while_running_cancels_running_children(emulator):
    load(emulator, instances=2, speed=20)
    started = start(emulator, IMAGE_TEMPLATE, imageId=NEW_IMAGE, batchNumber=1)
    wait_until(lambda: children(emulator, started.execution_id), "the first children")
    cancel(emulator, started.execution_id)
    assert execution(emulator, started.execution_id).status == "Cancelled"
    assert {k.status for k in children(emulator, started.execution_id)} == {"Cancelled"}


def test_rollback_of_a_waiting_run_leaves_it_as_it_is(emulator):
    # The template neither cancels nor validates the source (sourceExecutionId is a plain String); a client that
    # wants the source stopped cancels it itself first (ess_rolling_update does).
    load(emulator, instances=2)
    started = start(emulator, SCRIPT_TEMPLATE, invokeScript="true", batchNumber=2, batchPauseOption="EveryBatchPause")
    wait_for(emulator, started.execution_id, ("Waiting",))
    rollback = start(emulator, SCRIPT_TEMPLATE, invokeType="rollback", sourceExecutionId=started.execution_id,
                     rollbackScript="true")
    assert wait_for(emulator, rollback.execution_id).status == "Success"
    assert execution(emulator, started.execution_id).status == "Waiting"
    assert not emulator.calls(action="CancelExecution")


def test_rollback_of_a_rollback_or_of_nothing_is_not_refused_by_the_template(emulator):
    load(emulator, instances=1)
    source = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeScript="true").execution_id)
    rollback = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeType="rollback",
                                        sourceExecutionId=source.execution_id, rollbackScript="true").execution_id)
    again = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeType="rollback",
                                     sourceExecutionId=rollback.execution_id, rollbackScript="true").execution_id)
    # It runs: the children of the rollback name the same instance, so the rollback script runs there again.
    assert again.status == "Success" and len(children(emulator, again.execution_id)) == 1
    # A source that does not exist has no children: suspendProcessWithRollBack calls SuspendProcesses with the
    # (empty) process list of nothing and fails there, as ESS refuses an empty Process list.
    nothing = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeType="rollback",
                                       sourceExecutionId="exec-doesnotexist000000", rollbackScript="true").execution_id)
    assert nothing.status == "Failed" and "suspendProcessWithRollBack" in nothing.status_message
    assert children(emulator, nothing.execution_id) == []


def test_rollback_suspends_with_the_source_processes_even_when_empty(emulator):
    load(emulator, instances=1)
    source = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeScript="true", enterProcess=[],
                                      exitProcess=[]).execution_id)
    assert source.status == "Success"  # the invoke path has an empty-list guard (whetherToSuspendProcess)
    rollback = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeType="rollback",
                                        sourceExecutionId=source.execution_id, rollbackScript="true").execution_id)
    assert rollback.status == "Failed" and "suspendProcessWithRollBack" in rollback.status_message


def test_unknown_process_names_fail_in_suspend_processes_not_at_start(emulator):
    load(emulator, instances=1)
    started = start(emulator, SCRIPT_TEMPLATE, invokeScript="true", enterProcess=["ScaleSideways"])
    done = wait_for(emulator, started.execution_id)
    assert done.status == "Failed" and "suspendProcess" in done.status_message
    assert "InvalidParameter" in done.status_message


def test_package_rollback_children_get_no_rollback_flag(emulator):
    load(emulator, instances=1)
    source = wait_for(emulator, start(emulator, PACKAGE_TEMPLATE, packageName="nginx").execution_id)
    rollback = wait_for(emulator, start(emulator, PACKAGE_TEMPLATE, invokeType="rollback", packageName="nginx",
                                        sourceExecutionId=source.execution_id, packageVersion="1.24.0").execution_id)
    assert rollback.status == "Success"
    assert {k.parameters["rollBack"] for k in children(emulator, rollback.execution_id)} == {"false"}


def test_package_install_records_the_version_and_uninstall_removes_it(emulator):
    load(emulator, instances=2)
    done = wait_for(emulator, start(emulator, PACKAGE_TEMPLATE, packageName="nginx", packageVersion="1.24.0").execution_id)
    assert done.status == "Success"
    assert json.loads(done.outputs)["commandOutputs"] == ["package nginx 1.24.0 installed"] * 2
    assert {tuple(i["packages"]) for i in group_state(emulator)["instances"]} == {("nginx@1.24.0",)}
    emulator.set_faults({"unhealthy_packages": ["nginx@1.24.0"]})
    assert emulator.instance_health(instance_ids(emulator)[0])[0] == 503
    latest = wait_for(emulator, start(emulator, PACKAGE_TEMPLATE, packageName="nginx").execution_id)
    assert latest.status == "Success"
    assert {tuple(i["packages"]) for i in group_state(emulator)["instances"]} == {("nginx@1.26.1",)}
    removed = wait_for(emulator, start(emulator, PACKAGE_TEMPLATE, packageName="nginx", action="uninstall").execution_id)
    assert removed.status == "Success"
    assert {tuple(i["packages"]) for i in group_state(emulator)["instances"]} == {()}


@pytest.mark.parametrize("name,version,reason", [("nginx", "9.9.9", "version 9.9.9"), ("nope", "", "nope does not exist")])
def test_package_unknown_name_or_version_fails(emulator, name, version, reason):
    load(emulator, instances=1)
    done = wait_for(emulator, start(emulator, PACKAGE_TEMPLATE, packageName=name, packageVersion=version).execution_id)
    assert done.status == "Failed" and reason in done.status_message
    assert group_state(emulator)["instances"][0]["lifecycle_state"] == "Standby"


def test_protected_instances_are_unprotected_updated_and_protected_again(emulator):
    load(emulator, instances=[{"protected": True}, {}, {"lifecycle_state": "Standby"}])
    done = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeScript="true",
                                    lifecycleState=["InService", "Protected"]).execution_id)
    assert done.status == "Success"
    states = [i["lifecycle_state"] for i in group_state(emulator)["instances"]]
    assert states == ["Protected", "InService", "Standby"]
    assert sorted(k.parameters["lifecycleState"] for k in children(emulator, done.execution_id)) == ["InService", "Protected"]


def test_failure_pause_mode_waits_and_skip_task_continues(emulator):
    load(emulator, instances=2)
    ids = instance_ids(emulator)
    emulator.set_faults({"failing_instances": {ids[0]: "RunCommand"}})
    started = emulator.oos_client().start_execution(oos_models.StartExecutionRequest(
        region_id="cn-hangzhou", template_name=SCRIPT_TEMPLATE, mode="FailurePause",
        parameters=json.dumps({"invokeType": "invoke", "scalingGroupId": GROUP, "invokeScript": "true", "batchNumber": 2}))).body.execution
    paused = wait_for(emulator, started.execution_id, ("Waiting", "Failed", "Success"))
    assert paused.status == "Waiting" and paused.waiting_status == "FailurePause" and ids[0] in paused.status_message
    emulator.set_faults({"failing_instances": None})
    notify(emulator, started.execution_id, "RetryTask")
    done = wait_for(emulator, started.execution_id, ("Waiting", "Failed", "Success"))
    assert done.status == "Success"
    assert len(children(emulator, started.execution_id)) == 3  # the retried instance got a second child


def test_unknown_group_fails_the_execution_at_get_instance(emulator):
    load(emulator, instances=1)
    done = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, scalingGroupId="asg-missing", invokeScript="true").execution_id)
    assert done.status == "Failed" and "InvalidScalingGroupId.NotFound" in done.status_message


def test_failure_pause_skip_task_marks_the_item_skipped_and_goes_on(emulator):
    load(emulator, instances=3)
    ids = instance_ids(emulator)
    emulator.set_faults({"failing_instances": {ids[0]: "ConfigurePackage"}})
    started = emulator.oos_client().start_execution(oos_models.StartExecutionRequest(
        region_id="cn-hangzhou", template_name=PACKAGE_TEMPLATE, mode="FailurePause",
        parameters=json.dumps({"invokeType": "invoke", "scalingGroupId": GROUP, "packageName": "nginx",
                               "batchNumber": 2}))).body.execution
    wait_for(emulator, started.execution_id, ("Waiting",))
    loop, items = loop_children(emulator, started.execution_id)
    [failed] = [i for i in items if i.status == "Failed"]
    with pytest.raises(TeaException) as wrong:
        notify(emulator, started.execution_id, "Approve")  # not a batch pause
    assert wrong.value.code == "InvalidStatus.Execution"
    notify(emulator, started.execution_id, "SkipTask", failed.task_execution_id)
    done = wait_for(emulator, started.execution_id, ("Waiting", "Failed", "Success"))
    assert done.status == "Success"
    _, items = loop_children(emulator, started.execution_id)
    assert sorted(i.status for i in items) == ["Skipped", "Success", "Success"]
    states = {i["id"]: i for i in group_state(emulator)["instances"]}
    assert states[ids[0]]["lifecycle_state"] == "Standby" and states[ids[0]]["packages"] == []
    assert states[ids[2]]["packages"] == ["nginx@1.26.1"]


def test_many_groups_roll_concurrently(emulator):
    groups = [{"id": "asg-fleet%02d" % g, "scaling_configuration": {"id": "asc-fleet%02d" % g, "image_id": OLD_IMAGE},
               "instances": 5} for g in range(20)]
    emulator.load_world({"regions": ["cn-hangzhou"], "images": [OLD_IMAGE, NEW_IMAGE], "scaling_groups": groups},
                        speed=3000)
    started = []
    for g, group in enumerate(groups):
        if g % 2:
            started.append(start(emulator, IMAGE_TEMPLATE, scalingGroupId=group["id"], batchNumber=2, imageId=NEW_IMAGE))
        else:
            started.append(start(emulator, SCRIPT_TEMPLATE, scalingGroupId=group["id"], batchNumber=2,
                                 invokeScript="echo $INSTANCE_ID"))
    results = [wait_for(emulator, s.execution_id) for s in started]
    assert [r.status for r in results] == ["Success"] * 20
    state = emulator.state()
    for g, group in enumerate(state["scaling_groups"]):
        assert all(i["lifecycle_state"] == "InService" for i in group["instances"])
        if g % 2:
            assert {i["image_id"] for i in group["instances"]} == {NEW_IMAGE}
        else:
            assert sorted(json.loads(results[g].outputs)["commandOutputs"]) == sorted(i["id"] + "\n" for i in group["instances"])


def test_inactive_group_fails_enter_standby_after_the_template_retries(emulator):
    load(emulator, instances=1, state="Inactive")
    done = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeScript="true").execution_id)
    assert done.status == "Failed" and "enterStandby: IncorrectScalingGroupStatus" in done.status_message
    [child] = children(emulator, done.execution_id)
    # 30 retries 10 s apart happened in simulated time before the child gave up.
    assert parse_iso(child.end_date) - parse_iso(child.start_date) >= 300
    assert group_state(emulator)["instances"][0]["lifecycle_state"] == "InService"


def test_rollback_skips_instances_that_no_longer_exist(emulator):
    from alibabacloud_ess20220222 import models as ess_models
    load(emulator, instances=2)
    source = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeScript="true").execution_id)
    # An instance refresh replaces both instances (new ids) before the rollback.
    emulator.ess_client().start_instance_refresh(ess_models.StartInstanceRefreshRequest(
        region_id="cn-hangzhou", scaling_group_id=GROUP,
        desired_configuration=ess_models.StartInstanceRefreshRequestDesiredConfiguration(image_id=NEW_IMAGE)))
    wait_until(lambda: {i["image_id"] for i in group_state(emulator)["instances"]} == {NEW_IMAGE}, "the refresh")
    rollback = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeType="rollback",
                                        sourceExecutionId=source.execution_id, rollbackScript="true").execution_id)
    assert rollback.status == "Success" and children(emulator, rollback.execution_id) == []
