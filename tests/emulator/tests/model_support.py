"""Helpers for the model tests (worlds, OOS calls, bounded waits). Imported by test_model_*, test_ess_*, ..."""
import json
import time

from alibabacloud_oos20190601 import models as oos_models

REGION = "cn-hangzhou"
GROUP = "asg-bp1model000000001"
OLD_IMAGE = "m-bp1oldimage0000001"
NEW_IMAGE = "m-bp1newimage0000002"
IMAGE_TEMPLATE = "ACS-ESS-RollingUpdateByReplaceSystemDiskInScalingGroup"
SCRIPT_TEMPLATE = "ACS-ESS-RollingUpdateByRunCommandInScalingGroup"
PACKAGE_TEMPLATE = "ACS-ESS-RollingUpdateByConfigureOOSPackage"
FINAL = ("Success", "Failed", "Cancelled")
WAIT_LIMIT_S = 30  # a bound on waiting for simulated work, never an assertion on duration


def world(instances=10, speed=3000, **group_overrides):
    group = {
        "id": GROUP, "region": REGION, "name": "model-web", "state": "Active", "min_size": 0, "max_size": 20,
        "scaling_configuration": {"id": "asc-bp1model000000001", "image_id": OLD_IMAGE},
        "suspended_processes": [], "instances": instances,
    }
    group.update(group_overrides)
    return {
        "speed": speed,
        "regions": [REGION, "cn-shanghai"],
        "images": [{"id": OLD_IMAGE, "name": "web-v1"}, {"id": NEW_IMAGE, "name": "web-v2"}],
        "oos_packages": {"nginx": ["1.24.0", "1.26.1"]},
        "scaling_groups": [group],
    }


def load(emulator, instances=10, **group_overrides):
    speed = group_overrides.pop("speed", 3000)
    doc = world(instances, **group_overrides)
    emulator.load_world(doc, speed=speed)
    return doc


def group_state(emulator, group_id=GROUP):
    for group in emulator.state()["scaling_groups"]:
        if group["id"] == group_id:
            return group
    raise KeyError(group_id)


def instance_ids(emulator, group_id=GROUP):
    return [i["id"] for i in group_state(emulator, group_id)["instances"]]


def start(emulator, template, client_token=None, tags=None, **parameters):
    parameters.setdefault("invokeType", "invoke")
    parameters.setdefault("scalingGroupId", GROUP)
    request = oos_models.StartExecutionRequest(
        region_id=REGION, template_name=template, parameters=json.dumps(parameters),
        client_token=client_token, tags=tags)
    return emulator.oos_client().start_execution(request).body.execution


def execution(emulator, execution_id):
    response = emulator.oos_client().list_executions(
        oos_models.ListExecutionsRequest(region_id=REGION, execution_id=execution_id))
    [found] = response.body.executions
    return found


def wait_for(emulator, execution_id, statuses=FINAL):
    deadline = time.monotonic() + WAIT_LIMIT_S
    while True:
        found = execution(emulator, execution_id)
        if found.status in statuses:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("execution %s still %s (wanted %s)" % (execution_id, found.status, statuses))
        time.sleep(0.02)


def wait_until(predicate, what="condition"):
    """Poll `predicate` until true, bounded by WAIT_LIMIT_S."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


def children(emulator, execution_id):
    response = emulator.oos_client().list_executions(oos_models.ListExecutionsRequest(
        region_id=REGION, parent_execution_id=execution_id, max_results=100, sort_order="Ascending"))
    return response.body.executions


def notify(emulator, execution_id, notify_type, task_execution_id=None):
    return emulator.oos_client().notify_execution(oos_models.NotifyExecutionRequest(
        region_id=REGION, execution_id=execution_id, notify_type=notify_type, task_execution_id=task_execution_id))


def cancel(emulator, execution_id):
    return emulator.oos_client().cancel_execution(
        oos_models.CancelExecutionRequest(region_id=REGION, execution_id=execution_id))


def loop_children(emulator, execution_id):
    client = emulator.oos_client()
    tasks = client.list_task_executions(oos_models.ListTaskExecutionsRequest(
        region_id=REGION, execution_id=execution_id, max_results=100)).body.task_executions
    [loop] = [t for t in tasks if t.loop]
    items = client.list_task_executions(oos_models.ListTaskExecutionsRequest(
        region_id=REGION, execution_id=execution_id, parent_task_execution_id=loop.task_execution_id,
        max_results=100)).body.task_executions
    return loop, items


def snapshot_execution(emulator, execution_id):
    for found in emulator.state()["executions"]:
        if found["id"] == execution_id:
            return found
    raise KeyError(execution_id)
