"""Issue 13 point 4: emulator responses = the official SDK response models. Every action the collection calls
(and, in a list of its own, every action served only for tests) is called; each answer is parsed with the SDK's
own response body model (from_map) and written back (to_map). A key the model does not know is dropped by
from_map: the test fails on it, wherever it is nested. It also fails when a key the collection reads comes
back empty. Models: alibabacloud-oos20190601, -ess20220222, -ecs20140526, -sts20150401."""
import json

import pytest
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ess20220222 import models as ess
from alibabacloud_oos20190601 import models as oos
from alibabacloud_sts20150401 import models as sts

from model_support import GROUP, IMAGE_TEMPLATE, NEW_IMAGE, OLD_IMAGE, REGION, SCRIPT_TEMPLATE, instance_ids, load, \
    start, wait_for

OOS, ESS, ECS, STS = "2019-06-01", "2022-02-22", "2014-05-26", "2015-04-01"
ROLE_ARN = "acs:ram::1234567890123456:role/rollout-operator"

# Every action plugins/ calls, with its response body model; the ones served only for tests are listed apart.
COLLECTION_ACTIONS = {
    "StartExecution": (OOS, oos.StartExecutionResponseBody),
    "ListExecutions": (OOS, oos.ListExecutionsResponseBody),
    "ListTaskExecutions": (OOS, oos.ListTaskExecutionsResponseBody),
    "ListExecutionLogs": (OOS, oos.ListExecutionLogsResponseBody),
    "NotifyExecution": (OOS, oos.NotifyExecutionResponseBody),
    "CancelExecution": (OOS, oos.CancelExecutionResponseBody),
    "GetTemplate": (OOS, oos.GetTemplateResponseBody),
    "ListTemplateVersions": (OOS, oos.ListTemplateVersionsResponseBody),
    "ListInstancePackageStates": (OOS, oos.ListInstancePackageStatesResponseBody),
    "DescribeScalingGroups": (ESS, ess.DescribeScalingGroupsResponseBody),
    "DescribeScalingInstances": (ESS, ess.DescribeScalingInstancesResponseBody),
    "DescribeScalingConfigurations": (ESS, ess.DescribeScalingConfigurationsResponseBody),
    "ModifyScalingConfiguration": (ESS, ess.ModifyScalingConfigurationResponseBody),
    "SuspendProcesses": (ESS, ess.SuspendProcessesResponseBody),
    "ResumeProcesses": (ESS, ess.ResumeProcessesResponseBody),
    "EnterStandby": (ESS, ess.EnterStandbyResponseBody),
    "ExitStandby": (ESS, ess.ExitStandbyResponseBody),
    "SetInstancesProtection": (ESS, ess.SetInstancesProtectionResponseBody),
    "StartInstanceRefresh": (ESS, ess.StartInstanceRefreshResponseBody),
    "DescribeInstanceRefreshes": (ESS, ess.DescribeInstanceRefreshesResponseBody),
    "SuspendInstanceRefresh": (ESS, ess.SuspendInstanceRefreshResponseBody),
    "ResumeInstanceRefresh": (ESS, ess.ResumeInstanceRefreshResponseBody),
    "CancelInstanceRefresh": (ESS, ess.CancelInstanceRefreshResponseBody),
    "RollbackInstanceRefresh": (ESS, ess.RollbackInstanceRefreshResponseBody),
    "DescribeRegions": (ECS, ecs.DescribeRegionsResponseBody),
    "DescribeInstances": (ECS, ecs.DescribeInstancesResponseBody),
    "DescribeImages": (ECS, ecs.DescribeImagesResponseBody),
    "AssumeRole": (STS, sts.AssumeRoleResponseBody),
}
TEST_ONLY_ACTIONS = {
    "ListTemplates": (OOS, oos.ListTemplatesResponseBody),
    "DescribeScalingActivities": (ESS, ess.DescribeScalingActivitiesResponseBody),
    "RunCommand": (ECS, ecs.RunCommandResponseBody),
    "DescribeInvocations": (ECS, ecs.DescribeInvocationsResponseBody),
    "DescribeInvocationResults": (ECS, ecs.DescribeInvocationResultsResponseBody),
    "TagResources": (ECS, ecs.TagResourcesResponseBody),
    "ListTagResources": (ECS, ecs.ListTagResourcesResponseBody),
    "GetCallerIdentity": (STS, sts.GetCallerIdentityResponseBody),
}

# Keys the collection reads, as paths ("[]" = every item of a list); each must come back non-empty.
COLLECTION_READS = {
    "StartExecution": ["Execution.ExecutionId", "Execution.Status", "Execution.TemplateName", "Execution.Parameters"],
    "ListExecutions": ["Executions[].ExecutionId", "Executions[].Status", "Executions[].TemplateName",
                       "Executions[].Parameters", "Executions[].StartDate", "Executions[].UpdateDate"],
    "ListTaskExecutions": ["TaskExecutions[].TaskExecutionId", "TaskExecutions[].TaskName",
                           "TaskExecutions[].Status"],
    "ListExecutionLogs": ["ExecutionLogs[].Message", "ExecutionLogs[].Timestamp"],
    "GetTemplate": ["Template.TemplateName", "Template.TemplateVersion", "Content"],
    "ListTemplateVersions": ["TemplateVersions[].TemplateVersion"],
    "ListInstancePackageStates": ["PackageStates[].TemplateName"],
    "DescribeScalingGroups": ["ScalingGroups[].ScalingGroupId", "ScalingGroups[].LifecycleState",
                              "ScalingGroups[].ActiveScalingConfigurationId"],
    "DescribeScalingInstances": ["ScalingInstances[].InstanceId", "ScalingInstances[].LifecycleState",
                                 "ScalingInstances[].CreationType"],
    "DescribeScalingConfigurations": ["ScalingConfigurations[].ScalingConfigurationId",
                                      "ScalingConfigurations[].ImageId"],
    "StartInstanceRefresh": ["InstanceRefreshTaskId"],
    "DescribeInstanceRefreshes": ["InstanceRefreshTasks[].InstanceRefreshTaskId", "InstanceRefreshTasks[].Status"],
    "DescribeRegions": ["Regions.Region[].RegionId"],
    "DescribeInstances": ["Instances.Instance[].InstanceId", "Instances.Instance[].ImageId"],
    "DescribeImages": ["Images.Image[].ImageId", "Images.Image[].Status"],
    "AssumeRole": ["Credentials.AccessKeyId", "Credentials.AccessKeySecret", "Credentials.SecurityToken"],
}


def unknown_keys(raw, mapped, path=""):
    """Keys of ``raw`` that the model's to_map() lost, with their paths."""
    lost = []
    if isinstance(raw, dict) and isinstance(mapped, dict):
        for key, value in raw.items():
            where = "%s.%s" % (path, key) if path else key
            if key not in mapped:
                lost.append(where)
            else:
                lost.extend(unknown_keys(value, mapped[key], where))
    elif isinstance(raw, list) and isinstance(mapped, list):
        for index, (item, mapped_item) in enumerate(zip(raw, mapped)):
            lost.extend(unknown_keys(item, mapped_item, "%s[%d]" % (path, index)))
    return lost


def values_at(body, path):
    values = [body]
    for part in path.split("."):
        listed = part.endswith("[]")
        key = part[:-2] if listed else part
        values = [v.get(key) if isinstance(v, dict) else None for v in values]
        if listed:
            values = [item for v in values for item in (v or [])] or [None]
    return values


def without_nulls(value):
    """to_map() leaves out None values: a null stands in as "" so a known key shows up as known."""
    if isinstance(value, dict):
        return dict((k, without_nulls(v)) for k, v in value.items())
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return "" if value is None else value


def check(action, body, served=None):
    version, model = (served or COLLECTION_ACTIONS)[action]
    mapped = model().from_map(without_nulls(json.loads(json.dumps(body)))).to_map()
    lost = unknown_keys(body, mapped)
    assert not lost, "%s: keys the SDK model %s does not know: %s" % (action, model.__name__, lost)
    empty = [p for p in COLLECTION_READS.get(action, []) if any(v in (None, "", [], {}) for v in values_at(body, p))]
    assert not empty, "%s: keys the collection reads came back empty: %s" % (action, empty)
    return body


@pytest.fixture(params=["emulator", "ros", "absent"])
def counters(request):
    return request.param


def call(emulator, action, served=None, **params):
    version = (served or COLLECTION_ACTIONS)[action][0]
    if version != STS:
        params.setdefault("RegionId", REGION)
    return check(action, emulator.call(action, version, params)["body"], served)


def test_every_action_the_collection_calls_answers_in_the_sdk_models_shape(emulator, counters):
    load(emulator, instances=3)
    world = dict(emulator.world)
    world["fidelity"] = {"counters": counters}
    world["oos_packages"] = {"nginx": ["1.24.0", "1.26.1"]}
    emulator.load_world(world)
    seen = set()

    def do(action, **params):
        seen.add(action)
        return call(emulator, action, **params)

    ids = instance_ids(emulator)
    paused = start(emulator, SCRIPT_TEMPLATE, invokeScript="echo hi", batchNumber=3,
                   batchPauseOption="FirstBatchPause", tags={"scaling_group": GROUP})
    wait_for(emulator, paused.execution_id, ("Waiting",))
    parameters = json.dumps({"invokeType": "invoke", "scalingGroupId": GROUP, "invokeScript": "true"})
    started = do("StartExecution", TemplateName=SCRIPT_TEMPLATE, Parameters=parameters, ClientToken="tok-1")
    again = do("StartExecution", TemplateName=SCRIPT_TEMPLATE, Parameters=parameters, ClientToken="tok-1")
    assert again["Execution"]["ExecutionId"] == started["Execution"]["ExecutionId"]
    assert "WaitingStatus" not in again["Execution"]  # not in StartExecutionResponseBodyExecution
    listed = do("ListExecutions", ExecutionId=paused.execution_id)
    assert listed["Executions"][0]["Status"] == "Waiting"
    do("ListExecutions", Tags=json.dumps({"scaling_group": GROUP}))
    do("ListExecutions", ParentExecutionId=paused.execution_id)
    do("ListTaskExecutions", ExecutionId=paused.execution_id)
    do("ListTaskExecutions", ExecutionId=paused.execution_id, IncludeChildTaskExecution="true")
    do("ListExecutionLogs", ExecutionId=paused.execution_id)
    do("NotifyExecution", ExecutionId=paused.execution_id, NotifyType="Approve")
    do("CancelExecution", ExecutionId=started["Execution"]["ExecutionId"])
    wait_for(emulator, paused.execution_id)
    do("GetTemplate", TemplateName=IMAGE_TEMPLATE)
    do("GetTemplate", TemplateName="nginx")
    do("ListTemplateVersions", TemplateName=SCRIPT_TEMPLATE)
    do("ListTemplateVersions", TemplateName="nginx")
    wait_for(emulator, start(emulator, "ACS-ESS-RollingUpdateByConfigureOOSPackage", packageName="nginx").execution_id)
    # The cancelled script rollout may have left an instance in Standby (out of the package rollout's scope):
    # ask for one that got the package.
    installed = [i["id"] for g in emulator.state()["scaling_groups"] if g["id"] == GROUP
                 for i in g["instances"] if i["packages"]]
    assert installed, "the package rollout installed nothing"
    do("ListInstancePackageStates", InstanceId=installed[0])

    group = do("DescribeScalingGroups", ScalingGroupId=GROUP)["ScalingGroups"][0]
    do("DescribeScalingInstances", ScalingGroupId=GROUP)
    do("DescribeScalingConfigurations", ScalingGroupId=GROUP)
    do("ModifyScalingConfiguration", ScalingConfigurationId=group["ActiveScalingConfigurationId"], ImageId=OLD_IMAGE)
    do("SuspendProcesses", ScalingGroupId=GROUP, **{"Processes.1": "ScaleIn"})
    do("ResumeProcesses", ScalingGroupId=GROUP, **{"Processes.1": "ScaleIn"})
    do("EnterStandby", ScalingGroupId=GROUP, **{"InstanceIds.1": ids[0]})
    do("ExitStandby", ScalingGroupId=GROUP, **{"InstanceIds.1": ids[0]})
    do("SetInstancesProtection", ScalingGroupId=GROUP, ProtectedFromScaleIn="false", **{"InstanceIds.1": ids[0]})
    task_id = do("StartInstanceRefresh", ScalingGroupId=GROUP, **{"DesiredConfiguration.ImageId": NEW_IMAGE,
                                                                   "Checkpoints.1.Percentage": "50",
                                                                   "Checkpoints.2.Percentage": "100"})[
        "InstanceRefreshTaskId"]
    do("DescribeInstanceRefreshes", ScalingGroupId=GROUP)
    do("SuspendInstanceRefresh", ScalingGroupId=GROUP, InstanceRefreshTaskId=task_id)
    do("ResumeInstanceRefresh", ScalingGroupId=GROUP, InstanceRefreshTaskId=task_id)
    do("CancelInstanceRefresh", ScalingGroupId=GROUP, InstanceRefreshTaskId=task_id)
    do("DescribeInstanceRefreshes", ScalingGroupId=GROUP, **{"InstanceRefreshTaskIds.1": task_id})
    do("DescribeRegions")
    do("DescribeInstances", InstanceIds=json.dumps(ids))
    do("DescribeImages", ImageId=OLD_IMAGE, Status="ALL")
    do("AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="conformance")
    seen.add("RollbackInstanceRefresh")  # below, on a refresh that finished
    assert seen == set(COLLECTION_ACTIONS)


def test_rollback_instance_refresh_answers_in_the_sdk_models_shape(emulator):
    load(emulator, instances=1)
    task_id = call(emulator, "StartInstanceRefresh", ScalingGroupId=GROUP,
                   **{"DesiredConfiguration.ImageId": NEW_IMAGE})["InstanceRefreshTaskId"]
    for _ in range(300):
        tasks = call(emulator, "DescribeInstanceRefreshes", ScalingGroupId=GROUP)["InstanceRefreshTasks"]
        if tasks[0]["Status"] == "Successful":
            break
        import time
        time.sleep(0.05)
    call(emulator, "RollbackInstanceRefresh", ScalingGroupId=GROUP, InstanceRefreshTaskId=task_id)


def test_actions_served_only_for_tests_answer_in_the_sdk_models_shape(emulator):
    load(emulator, instances=1)
    ids = instance_ids(emulator)
    served = TEST_ONLY_ACTIONS
    call(emulator, "ListTemplates", served)
    call(emulator, "DescribeScalingActivities", served, ScalingGroupId=GROUP)
    invoke_id = call(emulator, "RunCommand", served, Type="RunShellScript", CommandContent="echo hi",
                     InstanceId=json.dumps(ids))["InvokeId"]
    call(emulator, "DescribeInvocations", served, InvokeId=invoke_id)
    call(emulator, "DescribeInvocationResults", served, InvokeId=invoke_id)
    call(emulator, "TagResources", served, ResourceType="instance", **{"ResourceId.1": ids[0], "Tag.1.Key": "k",
                                                                       "Tag.1.Value": "v"})
    call(emulator, "ListTagResources", served, ResourceType="instance", **{"ResourceId.1": ids[0]})
    call(emulator, "GetCallerIdentity", served)


def test_the_check_finds_a_key_the_model_does_not_know():
    # The test can fail: an extra key anywhere is reported with its path.
    body = {"Execution": {"ExecutionId": "exec-1", "Status": "Waiting", "TemplateName": "T", "Parameters": {"a": 1},
                          "WaitingStatus": "BatchPause"}, "RequestId": "r"}
    with pytest.raises(AssertionError, match="Execution.WaitingStatus"):
        check("StartExecution", body)
    with pytest.raises(AssertionError, match="came back empty"):
        check("StartExecution", {"Execution": {"ExecutionId": "", "Status": "Running", "TemplateName": "T",
                                               "Parameters": {"a": 1}}})
