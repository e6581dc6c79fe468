"""Nothing missing: every field the official SDK response models read is in our answers, except the ones
listed here on purpose (optional in the real API and not modelled: triggers, load balancers, ECI, spot...)."""
import inspect
import json
import re

import pytest
from alibabacloud_ess20220222 import models as ess
from alibabacloud_oos20190601 import models as oos

from model_support import GROUP, IMAGE_TEMPLATE, NEW_IMAGE, REGION, SCRIPT_TEMPLATE, load, start, wait_for

OOS, ESS = "2019-06-01", "2022-02-22"

NOT_MODELLED = {
    # Only for trigger-type executions (TimerTrigger/EventTrigger/AlarmTrigger).
    "ListExecutionsResponseBodyExecutions": {"LastSuccessfulTriggerTime", "LastTriggerOutputs", "LastTriggerStatus",
                                             "LastTriggerStatusMessage", "LastTriggerTime", "NextScheduleTime"},
    "DescribeScalingInstancesResponseBodyScalingInstances": {"ReplaceStatus"},
    "DescribeScalingConfigurationsResponseBodyScalingConfigurations": {
        "Affinity", "Cpu", "CpuOptions", "CreditSpecification", "DedicatedHostClusterId", "DedicatedHostId",
        "DeploymentSetId", "HpcClusterId", "HttpEndpoint", "HttpTokens", "ImageFamily", "ImageOptionsLoginAsNonRoot",
        "ImageOwnerAlias", "InstanceDescription", "InstanceGeneration", "InstanceTypeCandidateOptions",
        "Ipv6AddressCount", "Memory", "PasswordSetted", "ResourcePoolOptions", "SchedulerOptions", "SecurityOptions",
        "SpotDuration", "SpotInterruptionBehavior", "StorageSetId", "StorageSetPartitionNumber",
        "SystemDiskAutoSnapshotPolicyId", "SystemDiskBurstingEnabled", "SystemDiskDescription",
        "SystemDiskEncryptAlgorithm", "SystemDiskEncrypted", "SystemDiskKMSKeyId", "SystemDiskName",
        "SystemDiskPerformanceLevel", "SystemDiskProvisionedIops"},
}


def model_fields(cls):
    """The JSON keys a Tea model reads in from_map."""
    return set(re.findall(r"m\.get\('(\w+)'\)", inspect.getsource(cls.from_map)))


def assert_complete(item, cls):
    missing = model_fields(cls) - set(item) - NOT_MODELLED.get(cls.__name__, set())
    assert not missing, "%s misses %s" % (cls.__name__, sorted(missing))
    cls().from_map(item)  # and it parses


def body(emulator, action, version, **params):
    params.setdefault("RegionId", REGION)
    return emulator.call(action, version, params)["body"]


@pytest.fixture
def finished_run(emulator):
    load(emulator, instances=2)
    done = wait_for(emulator, start(emulator, IMAGE_TEMPLATE, imageId=NEW_IMAGE, batchNumber=2,
                                    tags={"scaling_group": GROUP}).execution_id)
    return done.execution_id


def test_oos_execution_shapes(emulator, finished_run):
    listed = body(emulator, "ListExecutions", OOS, ExecutionId=finished_run)
    assert_complete(listed, oos.ListExecutionsResponseBody)
    assert_complete(listed["Executions"][0], oos.ListExecutionsResponseBodyExecutions)
    started = body(emulator, "StartExecution", OOS, TemplateName=SCRIPT_TEMPLATE,
                   Parameters=json.dumps({"invokeType": "invoke", "scalingGroupId": GROUP, "invokeScript": "true"}))
    assert_complete(started["Execution"], oos.StartExecutionResponseBodyExecution)
    tasks = body(emulator, "ListTaskExecutions", OOS, ExecutionId=finished_run, IncludeChildTaskExecution="true")
    assert_complete(tasks, oos.ListTaskExecutionsResponseBody)
    for task in tasks["TaskExecutions"]:
        required = model_fields(oos.ListTaskExecutionsResponseBodyTaskExecutions)
        # Loop stats only on the loop task, loop fields only on loop items, ChildExecutionId only on nested actions.
        optional = {"Loop", "ParentTaskExecutionId", "LoopItem", "LoopBatchNumber", "ChildExecutionId"}
        assert not (required - optional - set(task)), sorted(required - optional - set(task))
    loop_item = next(t for t in tasks["TaskExecutions"] if t.get("ParentTaskExecutionId"))
    assert {"ParentTaskExecutionId", "LoopItem", "LoopBatchNumber", "ChildExecutionId"} <= set(loop_item)
    logs = body(emulator, "ListExecutionLogs", OOS, ExecutionId=finished_run)
    assert_complete(logs, oos.ListExecutionLogsResponseBody)
    assert_complete(logs["ExecutionLogs"][0], oos.ListExecutionLogsResponseBodyExecutionLogs)


def test_oos_template_and_package_shapes(emulator):
    load(emulator, instances=[{"packages": ["nginx@1.26.1"]}])
    template = body(emulator, "GetTemplate", OOS, TemplateName=SCRIPT_TEMPLATE)
    assert_complete(template, oos.GetTemplateResponseBody)
    assert_complete(template["Template"], oos.GetTemplateResponseBodyTemplate)
    templates = body(emulator, "ListTemplates", OOS)
    assert_complete(templates, oos.ListTemplatesResponseBody)
    assert_complete(templates["Templates"][0], oos.ListTemplatesResponseBodyTemplates)
    instance_id = emulator.state()["scaling_groups"][0]["instances"][0]["id"]
    packages = body(emulator, "ListInstancePackageStates", OOS, InstanceId=instance_id)
    assert_complete(packages, oos.ListInstancePackageStatesResponseBody)
    assert_complete(packages["PackageStates"][0], oos.ListInstancePackageStatesResponseBodyPackageStates)


def test_ess_shapes(emulator, finished_run):
    groups = body(emulator, "DescribeScalingGroups", ESS)
    assert_complete(groups, ess.DescribeScalingGroupsResponseBody)
    assert_complete(groups["ScalingGroups"][0], ess.DescribeScalingGroupsResponseBodyScalingGroups)
    instances = body(emulator, "DescribeScalingInstances", ESS, ScalingGroupId=GROUP)
    assert_complete(instances, ess.DescribeScalingInstancesResponseBody)
    assert_complete(instances["ScalingInstances"][0], ess.DescribeScalingInstancesResponseBodyScalingInstances)
    configs = body(emulator, "DescribeScalingConfigurations", ESS, ScalingGroupId=GROUP)
    assert_complete(configs, ess.DescribeScalingConfigurationsResponseBody)
    assert_complete(configs["ScalingConfigurations"][0], ess.DescribeScalingConfigurationsResponseBodyScalingConfigurations)
    instance_id = instances["ScalingInstances"][0]["InstanceId"]
    entered = body(emulator, "EnterStandby", ESS, ScalingGroupId=GROUP, **{"InstanceIds.1": instance_id})
    assert_complete(entered, ess.EnterStandbyResponseBody)
    assert_complete(body(emulator, "ExitStandby", ESS, ScalingGroupId=GROUP, **{"InstanceIds.1": instance_id}),
                    ess.ExitStandbyResponseBody)
    activities = body(emulator, "DescribeScalingActivities", ESS, ScalingGroupId=GROUP)
    assert_complete(activities, ess.DescribeScalingActivitiesResponseBody)
    assert_complete(activities["ScalingActivities"][0], ess.DescribeScalingActivitiesResponseBodyScalingActivities)
    started = body(emulator, "StartInstanceRefresh", ESS, ScalingGroupId=GROUP, **{
        "DesiredConfiguration.ImageId": "m-bp1oldimage0000001"})
    assert_complete(started, ess.StartInstanceRefreshResponseBody)
    refreshes = body(emulator, "DescribeInstanceRefreshes", ESS, ScalingGroupId=GROUP)
    assert_complete(refreshes, ess.DescribeInstanceRefreshesResponseBody)
    assert_complete(refreshes["InstanceRefreshTasks"][0], ess.DescribeInstanceRefreshesResponseBodyInstanceRefreshTasks)
