"""Instance refresh follow-ups: eligibility fields, launch templates and overrides, failure faults, lagging
read-back of the control calls (see /work/notes/refresh-findings.md items 1, 3, 4, 8, 9)."""
import json

import pytest
from alibabacloud_ess20220222 import models as ess

from model_support import GROUP, NEW_IMAGE, OLD_IMAGE, REGION, group_state, instance_ids, load, world
from test_ess_refresh import control, describe, error_of, start_refresh, wait_status

LEGACY, CURRENT = "2014-08-28", "2022-02-22"
TEMPLATE = "lt-bp1model000000001"
BIG_TYPE = "ecs.g7.xlarge"


def group_item(emulator, version=CURRENT, **params):
    body = emulator.call("DescribeScalingGroups", version, dict({"RegionId": REGION}, **params))["body"]
    groups = body["ScalingGroups"]["ScalingGroup"] if version == LEGACY else body["ScalingGroups"]
    return groups


def template_world(instances=4, group_version="1", **template):
    doc = world(instances, launch_template={"id": TEMPLATE, "version": group_version})
    doc["launch_templates"] = [dict({"id": TEMPLATE, "versions": {
        "1": OLD_IMAGE, "2": {"image_id": NEW_IMAGE, "instance_type": "ecs.g7.2xlarge"}}}, **template)]
    return doc


def refresh_to_template(emulator, version, overrides=(), **kwargs):
    return start_refresh(emulator, desired_configuration=ess.StartInstanceRefreshRequestDesiredConfiguration(
        launch_template_id=TEMPLATE, launch_template_version=version,
        launch_template_overrides=[ess.StartInstanceRefreshRequestDesiredConfigurationLaunchTemplateOverrides(
            instance_type=t) for t in overrides] or None), **kwargs)


# ----------------------------------------------------------------------------- eligibility


def test_default_world_group_is_eligible_and_both_versions_echo_the_fields(emulator):
    for version in (CURRENT, LEGACY):
        [item] = group_item(emulator, version)
        assert (item["ScalingPolicy"], item["MultiAZPolicy"], item["GroupType"]) == ("release", "PRIORITY", "ECS")
    [group] = emulator.state()["scaling_groups"]
    assert (group["scaling_policy"], group["multi_az_policy"], group["group_type"]) == ("release", "PRIORITY", "ECS")
    body = emulator.call("StartInstanceRefresh", CURRENT, {
        "RegionId": REGION, "ScalingGroupId": group["id"], "DesiredConfiguration.ImageId": NEW_IMAGE})["body"]
    assert body["InstanceRefreshTaskId"].startswith("ir-")


@pytest.mark.parametrize("fields,reason", [
    ({"scaling_policy": "recycle"}, "ScalingPolicy is recycle (Economical Mode"),
    ({"scaling_policy": "forcerecycle"}, "ScalingPolicy is forcerecycle (Force Economical Mode"),
    ({"multi_az_policy": "BALANCE"}, "MultiAZPolicy is BALANCE"),
    ({"group_type": "ECI"}, "GroupType is ECI"),
])
def test_ineligible_groups_are_refused_and_echoed(emulator, fields, reason):
    load(emulator, instances=2, **fields)
    for version in (CURRENT, LEGACY):
        [item] = group_item(emulator, version)
        key, value = next(iter(fields.items()))
        api_name = {"scaling_policy": "ScalingPolicy", "multi_az_policy": "MultiAZPolicy", "group_type": "GroupType"}[key]
        assert item[api_name] == value
    refused = error_of(lambda: start_refresh(emulator))
    assert refused.code == "OperationDenied" and reason in refused.message
    assert emulator.state()["instance_refreshes"] == []


def test_force_release_mode_is_eligible(emulator):
    load(emulator, instances=1, scaling_policy="forcerelease")
    assert wait_status(emulator, start_refresh(emulator), ("Successful",)).status == "Successful"


def test_group_type_filter_uses_the_group_type(emulator):
    doc = world(1)
    eci = dict(doc["scaling_groups"][0], id="asg-bp1eci0000000001", group_type="ECI", instances=0,
               scaling_configuration={"id": "asc-bp1eci0000000001", "image_id": OLD_IMAGE})
    doc["scaling_groups"].append(eci)
    emulator.load_world(doc)
    assert [g["ScalingGroupId"] for g in group_item(emulator, GroupType="ECI")] == ["asg-bp1eci0000000001"]
    assert [g["ScalingGroupId"] for g in group_item(emulator, GroupType="ECS")] == [GROUP]


@pytest.mark.parametrize("change,fragment", [
    (lambda d: d["scaling_groups"][0].update(scaling_policy="economical"), "scaling_policy must be one of"),
    (lambda d: d["scaling_groups"][0].update(multi_az_policy="priority"), "multi_az_policy must be one of"),
    (lambda d: d["scaling_groups"][0].update(group_type="K8S"), "group_type must be one of"),
    (lambda d: d["launch_templates"][0].update(versions={"v2": OLD_IMAGE}), "is not a version number"),
    (lambda d: d["launch_templates"][0].update(default_version="9"), "default_version 9 is not in versions"),
    (lambda d: d["launch_templates"][0]["versions"].update({"3": "m-missing"}), "image m-missing is not in images"),
    (lambda d: d["scaling_groups"][0]["launch_template"].update(version="7"), "has no version 7"),
])
def test_invalid_refresh_world_keys_are_refused(emulator, change, fragment):
    doc = template_world(2)
    change(doc)
    with pytest.raises(RuntimeError) as error:
        emulator.load_world(doc)
    assert fragment in str(error.value)


# ----------------------------------------------------------------------------- launch templates


def test_launch_template_refresh_updates_the_group_version_and_rolls_back(emulator):
    emulator.load_world(template_world(4), speed=3000)
    old_ids = instance_ids(emulator)
    assert [i["launch_template"] for i in group_state(emulator)["instances"]] == [{"id": TEMPLATE, "version": "1"}] * 4
    task_id = refresh_to_template(emulator, "2", overrides=[BIG_TYPE])
    done = wait_status(emulator, task_id, ("Successful", "Failed"))
    assert done.status == "Successful"
    assert done.desired_configuration.launch_template_version == "2"
    assert [o.instance_type for o in done.desired_configuration.launch_template_overrides] == [BIG_TYPE]

    group = group_state(emulator)
    assert group["launch_template"] == {"id": TEMPLATE, "version": "2"}
    assert group["launch_template_overrides"] == [{"InstanceType": BIG_TYPE}]
    assert {(i["image_id"], i["instance_type"]) for i in group["instances"]} == {(NEW_IMAGE, BIG_TYPE)}
    assert not set(old_ids) & {i["id"] for i in group["instances"]}
    [item] = group_item(emulator)
    assert (item["LaunchTemplateVersion"], item["LaunchTemplateOverrides"]) == ("2", [{"InstanceType": BIG_TYPE}])
    [legacy] = group_item(emulator, LEGACY)
    assert legacy["LaunchTemplateOverrides"] == {"LaunchTemplateOverride": [{"InstanceType": BIG_TYPE}]}
    scaling = emulator.call("DescribeScalingInstances", CURRENT, {"RegionId": REGION, "ScalingGroupId": GROUP})["body"]
    assert {i["LaunchTemplateVersion"] for i in scaling["ScalingInstances"]} == {"2"}

    again = error_of(lambda: refresh_to_template(emulator, "2", overrides=[BIG_TYPE]))
    assert again.code == "InvalidInstance.NoInstanceNeedBeRefreshed"  # SkipMatching by template version

    control(emulator, "RollbackInstanceRefresh", task_id)
    assert wait_status(emulator, task_id, ("RollbackSuccessful", "RollbackFailed")).status == "RollbackSuccessful"
    group = group_state(emulator)
    assert group["launch_template"] == {"id": TEMPLATE, "version": "1"} and group["launch_template_overrides"] == []
    assert {i["image_id"] for i in group["instances"]} == {OLD_IMAGE}


def test_latest_version_resolves_and_refuses_rollback(emulator):
    emulator.load_world(template_world(2), speed=3000)
    task_id = refresh_to_template(emulator, "Latest")
    assert wait_status(emulator, task_id, ("Successful", "Failed")).status == "Successful"
    group = group_state(emulator)
    assert group["launch_template"] == {"id": TEMPLATE, "version": "Latest"}
    assert {(i["image_id"], i["instance_type"]) for i in group["instances"]} == {(NEW_IMAGE, "ecs.g7.2xlarge")}
    assert {i["launch_template"]["version"] for i in group["instances"]} == {"2"}
    assert error_of(lambda: control(emulator, "RollbackInstanceRefresh", task_id)).code == "OperationDenied"


def test_launch_template_request_errors(emulator):
    emulator.load_world(template_world(2), speed=3000)
    unknown = error_of(lambda: refresh_to_template(emulator, "9"))
    assert unknown.code == "InvalidLaunchTemplateVersion.NotFound"
    orphan = error_of(lambda: start_refresh(emulator, desired_configuration=ess.StartInstanceRefreshRequestDesiredConfiguration(
        launch_template_overrides=[ess.StartInstanceRefreshRequestDesiredConfigurationLaunchTemplateOverrides(
            instance_type=BIG_TYPE)])))
    assert orphan.code == "InvalidParameter" and "LaunchTemplateId" in orphan.message
    assert emulator.state()["instance_refreshes"] == []


def test_overrides_are_echoed_wrapped_in_the_2014_shape(emulator):
    emulator.load_world(template_world(1), speed=3000)
    emulator.call("StartInstanceRefresh", LEGACY, {
        "RegionId": REGION, "ScalingGroupId": GROUP, "DesiredConfiguration.LaunchTemplateId": TEMPLATE,
        "DesiredConfiguration.LaunchTemplateVersion": "2",
        "DesiredConfiguration.LaunchTemplateOverrides.1.InstanceType": BIG_TYPE,
        "DesiredConfiguration.LaunchTemplateOverrides.2.InstanceType": "ecs.c7.large"})
    body = emulator.call("DescribeInstanceRefreshes", LEGACY, {"RegionId": REGION, "ScalingGroupId": GROUP})["body"]
    [task] = body["InstanceRefreshTasks"]["InstanceRefreshTask"]
    assert task["DesiredConfiguration"]["LaunchTemplateOverrides"] == {"LaunchTemplateOverride": [
        {"InstanceType": BIG_TYPE}, {"InstanceType": "ecs.c7.large"}]}


def test_undeclared_launch_template_is_carried(emulator):
    load(emulator, instances=2, launch_template={"id": "lt-bp1elsewhere", "version": "3"})
    task_id = start_refresh(emulator, desired_configuration=ess.StartInstanceRefreshRequestDesiredConfiguration(
        launch_template_id="lt-bp1elsewhere", launch_template_version="4"))
    assert wait_status(emulator, task_id, ("Successful", "Failed")).status == "Successful"
    group = group_state(emulator)
    assert group["launch_template"] == {"id": "lt-bp1elsewhere", "version": "4"}
    assert {i["image_id"] for i in group["instances"]} == {OLD_IMAGE}  # no versions known: image unchanged


# ----------------------------------------------------------------------------- failure faults


def test_failing_refresh_image_fails_the_refresh_and_keeps_the_old_instances(emulator):
    load(emulator, instances=4)
    emulator.set_faults({"failing_refresh_images": [NEW_IMAGE]})
    old_ids = instance_ids(emulator)
    task_id = start_refresh(emulator, min_healthy_percentage=100, max_healthy_percentage=100)
    failed = wait_status(emulator, task_id, ("Failed", "Successful"))
    assert failed.status == "Failed" and failed.end_time
    assert NEW_IMAGE in failed.detail and old_ids[0] in failed.detail
    assert failed.finished_update_capacity == 0
    group = group_state(emulator)
    assert instance_ids(emulator) == old_ids and group["scaling_configuration"]["image_id"] == OLD_IMAGE

    # A rollback whose original image cannot start either ends RollbackFailed.
    load(emulator, instances=2)  # a new world starts without faults
    task_id = start_refresh(emulator)
    assert wait_status(emulator, task_id, ("Successful", "Failed")).status == "Successful"
    emulator.set_faults({"failing_refresh_images": [OLD_IMAGE]})
    control(emulator, "RollbackInstanceRefresh", task_id)
    rolled = wait_status(emulator, task_id, ("RollbackSuccessful", "RollbackFailed"))
    assert rolled.status == "RollbackFailed" and OLD_IMAGE in rolled.detail
    assert {i["image_id"] for i in group_state(emulator)["instances"]} == {NEW_IMAGE}


def test_unhealthy_image_fails_the_wave_and_rollback_restores(emulator):
    load(emulator, instances=4)
    emulator.set_faults({"unhealthy_images": [NEW_IMAGE]})
    task_id = start_refresh(emulator, min_healthy_percentage=100, max_healthy_percentage=100)
    failed = wait_status(emulator, task_id, ("Failed", "Successful"))
    assert failed.status == "Failed" and "health check" in failed.detail
    instances = group_state(emulator)["instances"]
    new = [i for i in instances if i["image_id"] == NEW_IMAGE]
    assert len(new) == 1 and new[0]["id"] in failed.detail and not new[0]["health"]
    assert emulator.instance_health(new[0]["id"])[0] == 503
    assert failed.finished_update_capacity == 0
    assert group_state(emulator)["scaling_configuration"]["image_id"] == OLD_IMAGE

    control(emulator, "RollbackInstanceRefresh", task_id)
    assert wait_status(emulator, task_id, ("RollbackSuccessful", "RollbackFailed")).status == "RollbackSuccessful"
    assert {i["image_id"] for i in group_state(emulator)["instances"]} == {OLD_IMAGE}


# ----------------------------------------------------------------------------- lagging read-back


def test_control_calls_can_take_effect_later(emulator):
    load(emulator, instances=4)
    task_id = start_refresh(emulator, min_healthy_percentage=100, max_healthy_percentage=100,
                            checkpoints=[ess.StartInstanceRefreshRequestCheckpoints(percentage=50),
                                         ess.StartInstanceRefreshRequestCheckpoints(percentage=100)],
                            checkpoint_pause_time=2880)
    assert wait_status(emulator, task_id, ("CheckpointPause",)).status == "CheckpointPause"
    # Hours of simulated time: the read-back still shows the status before the call.
    emulator.set_faults({"refresh_control_delay": {"ResumeInstanceRefresh": 10 ** 7, "default": 5}})
    control(emulator, "ResumeInstanceRefresh", task_id)
    assert describe(emulator, task_id).status == "CheckpointPause"
    # 5 simulated seconds: the cancel shows up later, then completes as usual.
    control(emulator, "CancelInstanceRefresh", task_id)
    assert wait_status(emulator, task_id, ("Cancelled",)).status == "Cancelled"
    assert emulator.faults()["refresh_control_delay"] == {"ResumeInstanceRefresh": 10 ** 7, "default": 5}


def test_refresh_faults_are_validated(emulator):
    with pytest.raises(RuntimeError) as error:
        emulator.set_faults({"failing_refresh_images": "m-1"})
    assert "failing_refresh_images must be a list" in str(error.value)
    with pytest.raises(RuntimeError) as error:
        emulator.set_faults({"refresh_control_delay": -1})
    assert "refresh_control_delay" in str(error.value)


def test_desired_configuration_as_json_text_is_read_too(emulator):
    emulator.load_world(template_world(1), speed=3000)
    emulator.call("StartInstanceRefresh", CURRENT, {
        "RegionId": REGION, "ScalingGroupId": GROUP, "DesiredConfiguration": json.dumps({
            "LaunchTemplateId": TEMPLATE, "LaunchTemplateVersion": "2",
            "LaunchTemplateOverrides": [{"InstanceType": BIG_TYPE}]})})
    [task] = emulator.state()["instance_refreshes"]
    assert task["DesiredConfiguration"] == {"LaunchTemplateId": TEMPLATE, "LaunchTemplateVersion": "2",
                                            "LaunchTemplateOverrides": [{"InstanceType": BIG_TYPE}]}
