"""ESS instance refresh family (simplified model of reference 3.7) with the 2022-02-22 SDK and 2014-08-28."""
import re
import time

import pytest
from alibabacloud_ess20220222 import models as ess
from Tea.exceptions import TeaException

from model_support import GROUP, NEW_IMAGE, OLD_IMAGE, REGION, WAIT_LIMIT_S, group_state, instance_ids, load


def start_refresh(emulator, **kwargs):
    kwargs.setdefault("desired_configuration", ess.StartInstanceRefreshRequestDesiredConfiguration(image_id=NEW_IMAGE))
    return emulator.ess_client().start_instance_refresh(ess.StartInstanceRefreshRequest(
        region_id=REGION, scaling_group_id=GROUP, **kwargs)).body.instance_refresh_task_id


def describe(emulator, task_id):
    body = emulator.ess_client().describe_instance_refreshes(ess.DescribeInstanceRefreshesRequest(
        region_id=REGION, scaling_group_id=GROUP, instance_refresh_task_ids=[task_id])).body
    [task] = body.instance_refresh_tasks
    return task


def wait_status(emulator, task_id, statuses):
    deadline = time.monotonic() + WAIT_LIMIT_S
    while True:
        task = describe(emulator, task_id)
        if task.status in statuses:
            return task
        assert time.monotonic() < deadline, "refresh still %s" % task.status
        time.sleep(0.02)


def control(emulator, action, task_id):
    request_class = getattr(ess, action + "Request")
    method = getattr(emulator.ess_client(), re.sub(r"(?<!^)([A-Z])", r"_\1", action).lower())
    return method(request_class(region_id=REGION, scaling_group_id=GROUP, instance_refresh_task_id=task_id))


def error_of(call):
    with pytest.raises(TeaException) as error:
        call()
    return error.value


def test_refresh_with_checkpoints_replaces_instances_and_updates_the_configuration(emulator):
    load(emulator, instances=[{}, {}, {}, {}, {"lifecycle_state": "Standby"}])
    old_ids = instance_ids(emulator)
    task_id = start_refresh(emulator, min_healthy_percentage=100, max_healthy_percentage=100,
                            checkpoints=[ess.StartInstanceRefreshRequestCheckpoints(percentage=50),
                                         ess.StartInstanceRefreshRequestCheckpoints(percentage=100)],
                            checkpoint_pause_time=600)
    assert task_id.startswith("ir-")
    paused = wait_status(emulator, task_id, ("CheckpointPause", "Successful"))
    assert paused.status == "CheckpointPause"
    assert (paused.finished_update_capacity, paused.total_need_update_capacity) == (2, 4)
    assert paused.checkpoints[0].percentage == 50 and paused.desired_configuration.image_id == NEW_IMAGE
    control(emulator, "ResumeInstanceRefresh", task_id)
    done = wait_status(emulator, task_id, ("Successful", "Failed"))
    assert done.status == "Successful" and done.end_time
    group = group_state(emulator)
    assert group["scaling_configuration"]["image_id"] == NEW_IMAGE
    instances = group["instances"]
    assert [i["image_id"] for i in instances] == [NEW_IMAGE] * 4 + [OLD_IMAGE]  # Standby is ignored
    assert set(old_ids[:4]).isdisjoint(i["id"] for i in instances) and instances[4]["id"] == old_ids[4]
    activities = emulator.ess_client().describe_scaling_activities(ess.DescribeScalingActivitiesRequest(
        region_id=REGION, scaling_group_id=GROUP, instance_refresh_task_id=task_id)).body
    assert activities.total_count == 4


def test_only_one_running_refresh_and_suspend_resume_cancel(emulator):
    load(emulator, instances=3, speed=50)
    task_id = start_refresh(emulator, min_healthy_percentage=100, max_healthy_percentage=100)
    second = error_of(lambda: start_refresh(emulator))
    assert second.code == "OperationDenied"
    control(emulator, "SuspendInstanceRefresh", task_id)
    assert describe(emulator, task_id).status == "Paused"
    wrong = error_of(lambda: control(emulator, "SuspendInstanceRefresh", task_id))
    assert wrong.code == "IncorrectInstanceRefreshStatus"
    control(emulator, "ResumeInstanceRefresh", task_id)
    assert describe(emulator, task_id).status == "InProgress"
    control(emulator, "CancelInstanceRefresh", task_id)
    assert describe(emulator, task_id).status == "Cancelling"
    assert wait_status(emulator, task_id, ("Cancelled",)).status == "Cancelled"


def test_rollback_after_success_restores_image_and_configuration(emulator):
    load(emulator, instances=2)
    task_id = start_refresh(emulator)
    wait_status(emulator, task_id, ("Successful",))
    control(emulator, "RollbackInstanceRefresh", task_id)
    assert describe(emulator, task_id).status == "RollbackInProgress"
    assert wait_status(emulator, task_id, ("RollbackSuccessful", "RollbackFailed")).status == "RollbackSuccessful"
    group = group_state(emulator)
    assert group["scaling_configuration"]["image_id"] == OLD_IMAGE
    assert [i["image_id"] for i in group["instances"]] == [OLD_IMAGE] * 2


def test_nothing_to_refresh_and_invalid_requests(emulator):
    load(emulator, instances=[{"protected": True}, {"image_id": NEW_IMAGE}])
    # SkipMatching goes by the desired configuration's ID: the group's own configuration matches every instance.
    same_config = ess.StartInstanceRefreshRequestDesiredConfiguration(scaling_configuration_id="asc-bp1model000000001")
    nothing = error_of(lambda: start_refresh(emulator, desired_configuration=same_config))
    assert nothing.code == "InvalidInstance.NoInstanceNeedBeRefreshed"
    assert error_of(lambda: start_refresh(emulator, desired_configuration=ess.StartInstanceRefreshRequestDesiredConfiguration())).code == "InvalidInstance.NoInstanceNeedBeRefreshed"
    bad_checkpoints = error_of(lambda: start_refresh(emulator, checkpoints=[ess.StartInstanceRefreshRequestCheckpoints(percentage=50)]))
    assert bad_checkpoints.code == "InvalidParameter"
    both = error_of(lambda: start_refresh(emulator, desired_configuration=ess.StartInstanceRefreshRequestDesiredConfiguration(
        image_id=NEW_IMAGE, scaling_configuration_id="asc-bp1model000000001")))
    assert both.code == "InvalidParameter"
    bad_min = error_of(lambda: start_refresh(emulator, min_healthy_percentage=120))
    assert bad_min.code == "InvalidParameter"
    unknown = error_of(lambda: control(emulator, "CancelInstanceRefresh", "ir-nope"))
    assert unknown.code == "InvalidInstanceRefreshTaskId.NotFound"


def test_skip_matching_does_not_compare_images(emulator):
    # An instance already on the desired image is not matched: a desired image has no configuration ID yet.
    load(emulator, instances=[{"image_id": NEW_IMAGE}])
    task_id = start_refresh(emulator)
    assert describe(emulator, task_id).total_need_update_capacity == 1


def test_describe_instance_refreshes_2014_shape(emulator):
    load(emulator, instances=1)
    task_id = start_refresh(emulator)
    body = emulator.call("DescribeInstanceRefreshes", "2014-08-28", {"RegionId": REGION, "ScalingGroupId": GROUP})["body"]
    [task] = body["InstanceRefreshTasks"]["InstanceRefreshTask"]
    assert task["InstanceRefreshTaskId"] == task_id and body["TotalCount"] == 1 and body["MaxResults"] == 10
