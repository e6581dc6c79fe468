"""OOS 2019-06-01 API surface with the official SDK: validation, idempotency, listing, templates, packages."""
import json

import pytest
import yaml
from alibabacloud_oos20190601 import models as oos
from Tea.exceptions import TeaException

from model_support import (GROUP, IMAGE_TEMPLATE, PACKAGE_TEMPLATE, REGION, SCRIPT_TEMPLATE, children, instance_ids,
                           load, start, wait_for)


def error_of(call):
    with pytest.raises(TeaException) as error:
        call()
    return error.value


def mutating_calls(emulator):
    return [c for c in emulator.calls() if c.get("mutating") and c["status"] == 200]


@pytest.mark.parametrize("parameters,fragment", [
    ({"batchNumber": 0}, "at least 1"),
    ({"batchNumber": 101}, "at most 100"),
    ({"batchNumber": "five"}, "must be a Number"),
    ({"batchPauseOption": "Sometimes"}, "allowed values"),
    ({"lifecycleState": ["Standby"]}, "allowed values"),
    ({"invokeType": "deploy"}, "allowed values"),
    ({"imageId": "m-x"}, "not defined"),
    ({"scalingGroupId": None}, "scalingGroupId"),
])
def test_template_parameters_are_validated_before_anything_starts(emulator, parameters, fragment):
    load(emulator, instances=1)
    full = {"invokeType": "invoke", "scalingGroupId": GROUP, "invokeScript": "true"}
    full.update(parameters)
    full = {k: v for k, v in full.items() if v is not None}
    error = error_of(lambda: emulator.oos_client().start_execution(oos.StartExecutionRequest(
        region_id=REGION, template_name=SCRIPT_TEMPLATE, parameters=json.dumps(full))))
    assert error.code == "InvalidParameter" and fragment in error.message
    assert mutating_calls(emulator) == [] and emulator.state()["executions"] == []


def test_package_template_requires_package_name(emulator):
    load(emulator, instances=1)
    error = error_of(lambda: start(emulator, PACKAGE_TEMPLATE))
    assert error.code == "InvalidParameter" and "packageName" in error.message


def test_unknown_template_and_version(emulator):
    load(emulator, instances=1)
    client = emulator.oos_client()
    missing = error_of(lambda: client.start_execution(oos.StartExecutionRequest(region_id=REGION, template_name="ACS-Nope")))
    assert missing.code == "EntityNotExists.Template" and missing.status_code == 404
    version = error_of(lambda: client.get_template(oos.GetTemplateRequest(
        region_id=REGION, template_name=IMAGE_TEMPLATE, template_version="v99")))
    assert version.code == "EntityNotExists.TemplateVersion"


def test_client_token_returns_the_same_execution_and_refuses_other_parameters(emulator):
    load(emulator, instances=1)
    first = start(emulator, SCRIPT_TEMPLATE, client_token="token-1", invokeScript="true")
    again = start(emulator, SCRIPT_TEMPLATE, client_token="token-1", invokeScript="true")
    assert again.execution_id == first.execution_id
    error = error_of(lambda: start(emulator, SCRIPT_TEMPLATE, client_token="token-1", invokeScript="false"))
    assert error.code == "IdempotentParameterMismatch"
    other = start(emulator, SCRIPT_TEMPLATE, client_token="token-2", invokeScript="true")
    assert other.execution_id != first.execution_id
    parents = [e for e in emulator.state()["executions"] if not e["parent_id"]]
    assert len(parents) == 2


def test_start_execution_echoes_the_request(emulator):
    load(emulator, instances=1)
    response = emulator.oos_client().start_execution(oos.StartExecutionRequest(
        region_id=REGION, template_name=SCRIPT_TEMPLATE, mode="Automatic", loop_mode="Automatic", safety_check="Skip",
        description="rolling", tags={"scaling_group": GROUP},
        parameters=json.dumps({"invokeType": "invoke", "scalingGroupId": GROUP, "invokeScript": "true"}))).body.execution
    assert response.execution_id.startswith("exec-") and response.template_name == SCRIPT_TEMPLATE
    assert (response.mode, response.safety_check, response.description) == ("Automatic", "Skip", "rolling")
    assert response.tags == {"scaling_group": GROUP} and response.is_parent is True
    assert response.parameters["enterProcess"] == ["ScaleIn", "ScaleOut", "HealthCheck", "AlarmNotification", "ScheduledAction"]
    assert response.create_date.endswith("Z") and response.status == "Started"


def test_list_executions_filters_and_pagination(emulator):
    load(emulator, instances=1)
    ids = []
    for index in range(13):
        template = IMAGE_TEMPLATE if index % 2 else SCRIPT_TEMPLATE
        params = {"imageId": "m-bp1newimage0000002"} if index % 2 else {"invokeScript": "true"}
        ids.append(start(emulator, template, tags={"batch": "b%d" % (index % 3)}, **params).execution_id)
        wait_for(emulator, ids[-1])  # one at a time: a concurrent run would find the instance in Standby
    client = emulator.oos_client()
    first = client.list_executions(oos.ListExecutionsRequest(region_id=REGION, max_results=10)).body
    assert len(first.executions) == 10 and first.next_token and first.max_results == 10
    second = client.list_executions(oos.ListExecutionsRequest(region_id=REGION, max_results=10, next_token=first.next_token)).body
    assert len(second.executions) == 3 and not second.next_token
    seen = [e.execution_id for e in first.executions + second.executions]
    assert sorted(seen) == sorted(ids)  # top level only by default: no child executions
    assert seen == list(reversed(ids))  # StartDate descending, newest first
    by_name = client.list_executions(oos.ListExecutionsRequest(region_id=REGION, template_name="ReplaceSystemDisk")).body
    assert {e.template_name for e in by_name.executions} == {IMAGE_TEMPLATE} and len(by_name.executions) == 6
    by_tag = client.list_executions(oos.ListExecutionsRequest(region_id=REGION, tags={"batch": "b1"})).body
    assert sorted(e.execution_id for e in by_tag.executions) == sorted(ids[1::3])
    by_status = client.list_executions(oos.ListExecutionsRequest(region_id=REGION, status="Failed")).body
    assert by_status.executions == []
    with_children = client.list_executions(oos.ListExecutionsRequest(
        region_id=REGION, include_child_execution=True, max_results=100)).body
    assert len(with_children.executions) == 26
    kids = children(emulator, ids[0])
    assert len(kids) == 1 and kids[0].parameters["instanceId"] == instance_ids(emulator)[0]
    ascending = client.list_executions(oos.ListExecutionsRequest(region_id=REGION, sort_order="Ascending", max_results=20)).body
    assert [e.execution_id for e in ascending.executions] == ids
    later = client.list_executions(oos.ListExecutionsRequest(region_id=REGION, start_date_after="2999-01-01T00:00:00Z")).body
    assert later.executions == []
    unknown = client.list_executions(oos.ListExecutionsRequest(region_id=REGION, execution_id="exec-unknown")).body
    assert unknown.executions == []
    too_small = error_of(lambda: client.list_executions(oos.ListExecutionsRequest(region_id=REGION, max_results=5)))
    assert too_small.code == "InvalidParameter"


def test_counters_and_current_tasks(emulator):
    load(emulator, instances=2)
    done = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeScript="true", batchNumber=1).execution_id)
    assert done.counters["Total"] == done.counters["Success"] > 0 and done.counters["Failed"] == 0
    assert done.current_tasks == [] and done.start_date <= done.end_date


def test_list_task_executions_pages_and_rejects_unknown_execution(emulator):
    load(emulator, instances=25)
    done = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeScript="true", batchNumber=5).execution_id)
    client = emulator.oos_client()
    top = client.list_task_executions(oos.ListTaskExecutionsRequest(region_id=REGION, execution_id=done.execution_id)).body
    assert [t.task_name for t in top.task_executions] == ["getInstance", "suspendProcess", "invokeByRunCommand",
                                                          "tagInstance", "resumeProcesses"]
    everything = []
    token = None
    while True:
        page = client.list_task_executions(oos.ListTaskExecutionsRequest(
            region_id=REGION, execution_id=done.execution_id, include_child_task_execution=True, max_results=20,
            next_token=token)).body
        everything += page.task_executions
        token = page.next_token
        if not token:
            break
    assert len(everything) == 30 and len({t.task_execution_id for t in everything}) == 30
    error = error_of(lambda: client.list_task_executions(oos.ListTaskExecutionsRequest(region_id=REGION, execution_id="exec-nope")))
    assert error.code == "EntityNotExists.Execution" and error.status_code == 404
    small = error_of(lambda: client.list_task_executions(oos.ListTaskExecutionsRequest(
        region_id=REGION, execution_id=done.execution_id, max_results=10)))
    assert small.code == "InvalidParameter"


def test_list_execution_logs(emulator):
    load(emulator, instances=1)
    done = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeScript="true").execution_id)
    body = emulator.oos_client().list_execution_logs(oos.ListExecutionLogsRequest(
        region_id=REGION, execution_id=done.execution_id)).body
    messages = [log.message for log in body.execution_logs]
    assert messages[0].startswith("Execution created") and "Execution status changed to Success" in messages[-1]
    assert body.is_truncated is False
    tasks = emulator.oos_client().list_execution_logs(oos.ListExecutionLogsRequest(
        region_id=REGION, execution_id=done.execution_id, log_type="TaskExecution")).body
    assert tasks.execution_logs and all(log.task_execution_id for log in tasks.execution_logs)


def test_notify_and_cancel_unknown_execution(emulator):
    load(emulator, instances=1)
    client = emulator.oos_client()
    for call in (lambda: client.cancel_execution(oos.CancelExecutionRequest(region_id=REGION, execution_id="exec-nope")),
                 lambda: client.notify_execution(oos.NotifyExecutionRequest(region_id=REGION, execution_id="exec-nope",
                                                                            notify_type="Approve"))):
        assert error_of(call).code == "EntityNotExists.Execution"


def test_notify_on_a_finished_execution_is_refused(emulator):
    load(emulator, instances=1)
    done = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeScript="true").execution_id)
    error = error_of(lambda: emulator.oos_client().notify_execution(oos.NotifyExecutionRequest(
        region_id=REGION, execution_id=done.execution_id, notify_type="Approve")))
    assert error.code == "InvalidStatus.Execution"
    bad_type = error_of(lambda: emulator.oos_client().notify_execution(oos.NotifyExecutionRequest(
        region_id=REGION, execution_id=done.execution_id, notify_type="Continue")))
    assert bad_type.code == "InvalidParameter"


def test_get_template_returns_the_real_parameters(emulator):
    load(emulator, instances=1)
    body = emulator.oos_client().get_template(oos.GetTemplateRequest(region_id=REGION, template_name=IMAGE_TEMPLATE)).body
    assert body.template.template_name == IMAGE_TEMPLATE and body.template.template_format == "YAML"
    content = yaml.safe_load(body.content)
    parameters = content["Parameters"]
    assert parameters["batchNumber"] == {"Type": "Number", "Default": 5, "MinValue": 1, "MaxValue": 100}
    assert parameters["batchPauseOption"]["AllowedValues"] == ["Automatic", "FirstBatchPause", "EveryBatchPause"]
    assert parameters["maxErrors"]["Default"] == 0 and "Default" not in parameters["invokeType"]
    assert parameters["lifecycleState"] == {"Type": "List", "Default": "InService", "AllowedValues": ["InService", "Protected"]}
    script = yaml.safe_load(emulator.oos_client().get_template(oos.GetTemplateRequest(
        region_id=REGION, template_name=SCRIPT_TEMPLATE)).body.content)["Parameters"]
    assert script["commandType"]["AllowedValues"] == ["RunBatScript", "RunPowerShellScript", "RunShellScript"]
    assert "maxErrors" not in script


def test_list_templates(emulator):
    load(emulator, instances=1)
    client = emulator.oos_client()
    body = client.list_templates(oos.ListTemplatesRequest(region_id=REGION, template_name="ACS-ESS-RollingUpdate")).body
    assert sorted(t.template_name for t in body.templates) == sorted([IMAGE_TEMPLATE, SCRIPT_TEMPLATE, PACKAGE_TEMPLATE])
    assert all(t.share_type == "Public" and t.category == "elastic_manage" for t in body.templates)
    assert client.list_templates(oos.ListTemplatesRequest(region_id=REGION, share_type="Private")).body.templates == []


def test_list_instance_package_states(emulator):
    load(emulator, instances=[{"packages": ["nginx@1.24.0"]}, {}])
    ids = instance_ids(emulator)
    client = emulator.oos_client()
    body = client.list_instance_package_states(oos.ListInstancePackageStatesRequest(region_id=REGION, instance_id=ids[0])).body
    [state] = body.package_states
    assert (state.template_name, state.template_version_name, state.template_version) == ("nginx", "1.24.0", "v1")
    assert client.list_instance_package_states(oos.ListInstancePackageStatesRequest(
        region_id=REGION, instance_id=ids[1])).body.package_states == []
    filtered = client.list_instance_package_states(oos.ListInstancePackageStatesRequest(
        region_id=REGION, instance_id=ids[0], template_names='["other"]')).body
    assert filtered.package_states == []
