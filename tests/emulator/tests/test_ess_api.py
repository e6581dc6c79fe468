"""ESS in both API versions: the 2022-02-22 Tea SDK (its models parse the answers) and 2014-08-28 via call_api."""
import pytest
from alibabacloud_ess20220222 import models as ess
from Tea.exceptions import TeaException

from model_support import GROUP, NEW_IMAGE, OLD_IMAGE, REGION, group_state, instance_ids, load

LEGACY = "2014-08-28"
FIVE = ["ScaleIn", "ScaleOut", "HealthCheck", "AlarmNotification", "ScheduledAction"]


def legacy(emulator, action, **params):
    params.setdefault("RegionId", REGION)
    return emulator.call(action, LEGACY, params)["body"]


def error_of(call):
    with pytest.raises(TeaException) as error:
        call()
    return error.value


def test_describe_scaling_groups_2022_shape(emulator):
    load(emulator, instances=[{}, {"lifecycle_state": "Standby"}, {"protected": True}], suspended_processes=["ScaleIn"])
    body = emulator.ess_client().describe_scaling_groups(ess.DescribeScalingGroupsRequest(region_id=REGION)).body
    [group] = body.scaling_groups
    assert body.total_count == 1 and body.page_number == 1 and body.page_size == 10
    assert group.scaling_group_id == GROUP and group.lifecycle_state == "Active"
    assert group.active_scaling_configuration_id == "asc-bp1model000000001"
    assert group.suspended_processes == ["ScaleIn"]
    assert (group.total_capacity, group.active_capacity, group.standby_capacity, group.protected_capacity) == (3, 1, 1, 1)
    assert group.v_switch_ids and isinstance(group.removal_policies, list)


def test_describe_scaling_groups_2014_shape_is_wrapped(emulator):
    load(emulator, instances=1, suspended_processes=["ScaleOut", "ScaleIn"])
    body = legacy(emulator, "DescribeScalingGroups", **{"ScalingGroupId.1": GROUP})
    [group] = body["ScalingGroups"]["ScalingGroup"]
    assert group["SuspendedProcesses"] == {"SuspendedProcess": ["ScaleIn", "ScaleOut"]}
    assert group["RemovalPolicies"]["RemovalPolicy"]
    assert body["TotalCount"] == 1


def test_inactive_groups_named_in_the_request_are_left_out(emulator):
    load(emulator, instances=1, state="Inactive")
    by_id = emulator.ess_client().describe_scaling_groups(
        ess.DescribeScalingGroupsRequest(region_id=REGION, scaling_group_ids=[GROUP])).body
    assert by_id.scaling_groups == [] and by_id.total_count == 0
    everything = emulator.ess_client().describe_scaling_groups(ess.DescribeScalingGroupsRequest(region_id=REGION)).body
    assert everything.scaling_groups[0].lifecycle_state == "Inactive"


def test_describe_scaling_groups_by_name(emulator):
    load(emulator, instances=1)
    client = emulator.ess_client()
    found = client.describe_scaling_groups(ess.DescribeScalingGroupsRequest(region_id=REGION, scaling_group_name="model-web")).body
    assert [g.scaling_group_id for g in found.scaling_groups] == [GROUP]
    other = client.describe_scaling_groups(ess.DescribeScalingGroupsRequest(region_id=REGION, scaling_group_name="nope")).body
    assert other.scaling_groups == []


def test_region_is_required_and_scopes_results(emulator):
    load(emulator, instances=1)
    error = error_of(lambda: emulator.call("DescribeScalingGroups", "2022-02-22", {}))
    assert error.code == "MissingParameter"
    other = emulator.ess_client().describe_scaling_groups(ess.DescribeScalingGroupsRequest(region_id="cn-shanghai")).body
    assert other.total_count == 0


def test_describe_scaling_instances_pages_with_defaults_and_limits(emulator):
    load(emulator, instances=25)
    client = emulator.ess_client()
    first = client.describe_scaling_instances(ess.DescribeScalingInstancesRequest(region_id=REGION, scaling_group_id=GROUP)).body
    assert (first.total_count, first.page_number, first.page_size, len(first.scaling_instances)) == (25, 1, 10, 10)
    third = client.describe_scaling_instances(ess.DescribeScalingInstancesRequest(
        region_id=REGION, scaling_group_id=GROUP, page_number=3, page_size=10)).body
    assert len(third.scaling_instances) == 5
    every = client.describe_scaling_instances(ess.DescribeScalingInstancesRequest(
        region_id=REGION, scaling_group_id=GROUP, page_size=100)).body
    assert [i.instance_id for i in every.scaling_instances] == instance_ids(emulator)
    error = error_of(lambda: client.describe_scaling_instances(ess.DescribeScalingInstancesRequest(
        region_id=REGION, scaling_group_id=GROUP, page_size=101)))
    assert error.code == "InvalidParameter"
    groups_error = error_of(lambda: client.describe_scaling_groups(ess.DescribeScalingGroupsRequest(region_id=REGION, page_size=51)))
    assert groups_error.code == "InvalidParameter"


def test_generated_instances_look_real(emulator):
    load(emulator, instances=3)
    body = emulator.ess_client().describe_scaling_instances(
        ess.DescribeScalingInstancesRequest(region_id=REGION, scaling_group_id=GROUP)).body
    for item in body.scaling_instances:
        assert item.instance_id.startswith("i-bp1") and len(item.instance_id) == 22
        assert item.instance_id[5:].isalnum() and item.instance_id == item.instance_id.lower()
        assert item.private_ip_address.startswith("10.")
        assert (item.lifecycle_state, item.creation_type, item.health_status) == ("InService", "AutoCreated", "Healthy")
        assert item.created_time.endswith("Z") and item.creation_time.endswith("Z")


def test_describe_scaling_instances_filters(emulator):
    load(emulator, instances=[{}, {"lifecycle_state": "Standby"}, {"protected": True}, {"creation_type": "Attached"}])
    client = emulator.ess_client()
    ids = instance_ids(emulator)

    def query(**kwargs):
        return [i.instance_id for i in client.describe_scaling_instances(ess.DescribeScalingInstancesRequest(
            region_id=REGION, scaling_group_id=GROUP, **kwargs)).body.scaling_instances]
    assert query(lifecycle_states=["InService", "Protected"]) == [ids[0], ids[2], ids[3]]
    assert query(lifecycle_state="Standby") == [ids[1]]
    assert query(creation_types=["Attached"]) == [ids[3]]
    assert query(instance_ids=[ids[1], "i-unknown"]) == [ids[1]]
    body = legacy(emulator, "DescribeScalingInstances", ScalingGroupId=GROUP, **{"LifecycleStates.1": "Protected"})
    assert [i["InstanceId"] for i in body["ScalingInstances"]["ScalingInstance"]] == [ids[2]]
    legacy_numbered = legacy(emulator, "DescribeScalingInstances", InstanceId1=ids[3])
    assert [i["InstanceId"] for i in legacy_numbered["ScalingInstances"]["ScalingInstance"]] == [ids[3]]


def test_describe_and_modify_scaling_configuration(emulator):
    load(emulator, instances=1)
    client = emulator.ess_client()
    [config] = client.describe_scaling_configurations(ess.DescribeScalingConfigurationsRequest(
        region_id=REGION, scaling_group_id=GROUP)).body.scaling_configurations
    assert (config.image_id, config.lifecycle_state, config.image_name) == (OLD_IMAGE, "Active", "web-v1")
    client.modify_scaling_configuration(ess.ModifyScalingConfigurationRequest(
        scaling_configuration_id=config.scaling_configuration_id, image_id=NEW_IMAGE))
    assert group_state(emulator)["scaling_configuration"]["image_id"] == NEW_IMAGE
    body = legacy(emulator, "DescribeScalingConfigurations", **{"ScalingConfigurationId.1": config.scaling_configuration_id})
    assert body["ScalingConfigurations"]["ScalingConfiguration"][0]["ImageId"] == NEW_IMAGE
    error = error_of(lambda: client.modify_scaling_configuration(ess.ModifyScalingConfigurationRequest(
        scaling_configuration_id=config.scaling_configuration_id, image_id="m-missing")))
    assert error.code == "InvalidImageId.NotFound"


def test_suspend_and_resume_are_idempotent_sets_in_both_versions(emulator):
    load(emulator, instances=1)
    client = emulator.ess_client()
    client.suspend_processes(ess.SuspendProcessesRequest(region_id=REGION, scaling_group_id=GROUP, processes=["ScaleOut", "ScaleIn"]))
    client.suspend_processes(ess.SuspendProcessesRequest(region_id=REGION, scaling_group_id=GROUP, processes=["ScaleIn"]))
    assert group_state(emulator)["suspended_processes"] == ["ScaleIn", "ScaleOut"]
    legacy(emulator, "SuspendProcesses", ScalingGroupId=GROUP, **{"Process.1": "HealthCheck"})
    assert group_state(emulator)["suspended_processes"] == ["ScaleIn", "ScaleOut", "HealthCheck"]
    legacy(emulator, "ResumeProcesses", ScalingGroupId=GROUP, **{"Process.1": "ScaleIn", "Process.2": "ScheduledAction"})
    client.resume_processes(ess.ResumeProcessesRequest(region_id=REGION, scaling_group_id=GROUP, processes=["ScaleOut"]))
    assert group_state(emulator)["suspended_processes"] == ["HealthCheck"]


def test_process_names_and_group_are_checked(emulator):
    load(emulator, instances=1)
    client = emulator.ess_client()
    bad = error_of(lambda: client.suspend_processes(ess.SuspendProcessesRequest(
        region_id=REGION, scaling_group_id=GROUP, processes=["ScaleSideways"])))
    assert bad.code == "InvalidParameter"
    missing = error_of(lambda: client.suspend_processes(ess.SuspendProcessesRequest(
        region_id=REGION, scaling_group_id="asg-nothere", processes=["ScaleIn"])))
    assert missing.code == "InvalidScalingGroupId.NotFound" and missing.status_code == 404
    # The 2022 name is not the 2014 name: Processes.N under 2014-08-28 is not a process list.
    wrong_version = error_of(lambda: legacy(emulator, "SuspendProcesses", ScalingGroupId=GROUP, **{"Processes.1": "ScaleIn"}))
    assert wrong_version.code == "MissingParameter"
    assert [c["action"] for c in emulator.calls(mutating=True, status=200)] == []


def test_standby_round_trip_records_activities(emulator):
    load(emulator, instances=2)
    ids = instance_ids(emulator)
    client = emulator.ess_client()
    entered = client.enter_standby(ess.EnterStandbyRequest(scaling_group_id=GROUP, instance_ids=[ids[0]])).body
    assert entered.scaling_activity_id.startswith("asa-")
    assert group_state(emulator)["instances"][0]["lifecycle_state"] == "Standby"
    legacy(emulator, "ExitStandby", ScalingGroupId=GROUP, **{"InstanceId.1": ids[0]})
    assert group_state(emulator)["instances"][0]["lifecycle_state"] == "InService"
    activities = client.describe_scaling_activities(ess.DescribeScalingActivitiesRequest(
        region_id=REGION, scaling_group_id=GROUP)).body
    assert activities.total_count == 2 and activities.scaling_activities[0].status_code == "Successful"
    unknown = error_of(lambda: client.enter_standby(ess.EnterStandbyRequest(
        scaling_group_id=GROUP, instance_ids=["i-bp1notinthisgroup00"])))
    assert unknown.code == "InvalidInstanceId.NotFound"


def test_standby_on_an_inactive_group_is_refused(emulator):
    load(emulator, instances=1, state="Inactive")
    error = error_of(lambda: emulator.ess_client().enter_standby(ess.EnterStandbyRequest(
        scaling_group_id=GROUP, instance_ids=instance_ids(emulator))))
    assert error.code == "IncorrectScalingGroupStatus"


def test_set_instances_protection(emulator):
    load(emulator, instances=2)
    ids = instance_ids(emulator)
    client = emulator.ess_client()
    client.set_instances_protection(ess.SetInstancesProtectionRequest(
        scaling_group_id=GROUP, instance_ids=ids, protected_from_scale_in=True))
    assert [i["protected"] for i in group_state(emulator)["instances"]] == [True, True]
    legacy(emulator, "SetInstancesProtection", ScalingGroupId=GROUP, ProtectedFromScaleIn="false", **{"InstanceId.1": ids[1]})
    assert [i["lifecycle_state"] for i in group_state(emulator)["instances"]] == ["Protected", "InService"]


def test_client_token_same_request_same_answer_and_mismatch_refused(emulator):
    load(emulator, instances=2)
    ids = instance_ids(emulator)
    client = emulator.ess_client()
    request = ess.EnterStandbyRequest(scaling_group_id=GROUP, instance_ids=[ids[0]], client_token="tok-1")
    first = client.enter_standby(request).body.scaling_activity_id
    again = client.enter_standby(request).body.scaling_activity_id  # a retry: no second activity, no error
    assert first == again
    mismatch = error_of(lambda: client.enter_standby(ess.EnterStandbyRequest(
        scaling_group_id=GROUP, instance_ids=[ids[1]], client_token="tok-1")))
    assert mismatch.code == "IdempotentParameterMismatch"
    assert [i["lifecycle_state"] for i in group_state(emulator)["instances"]] == ["Standby", "InService"]
