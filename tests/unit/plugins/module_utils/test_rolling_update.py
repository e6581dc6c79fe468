"""Pure logic of ess_rolling_update: template choice, validation, parameters, batches, tokens, history."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.alicloud.rollout.plugins.module_utils import rolling_update as ru

GROUP = "asg-1"


def params(**overrides):
    base = {
        "scaling_group_id": GROUP, "invoke_type": "invoke", "source_execution_id": None, "image_id": None,
        "source_image_id": None, "scaling_configuration_id": None, "max_errors": 0, "invoke_script": None,
        "rollback_script": None, "command_type": "RunShellScript", "package_name": None, "package_version": None,
        "package_action": "install", "batch_number": 5, "batch_pause_option": "Automatic",
        "enter_process": list(ru.PROCESSES), "exit_process": list(ru.PROCESSES), "lifecycle_state": ["InService"],
        "oos_assume_role": "", "template_name": None, "template_version": None, "wait_timeout": 3600,
        "poll_interval": None,
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize("given,kind", [
    ({"image_id": "m-1"}, "image"), ({"invoke_script": "echo"}, "script"), ({"package_name": "nginx"}, "package"),
    ({"template_name": "ACS-ESS-RollingUpdateByConfigureOOSPackage"}, "package"), ({}, None),
])
def test_choose_kind(given, kind):
    assert ru.choose_kind(params(**given)) == kind


def test_two_kinds_at_once_are_rejected():
    with pytest.raises(ru.ValidationError, match="mutually exclusive"):
        ru.choose_kind(params(image_id="m-1", invoke_script="echo"))


@pytest.mark.parametrize("given,kind,match", [
    ({"batch_number": 0}, "image", "batch_number"),
    ({"batch_number": 101}, "image", "batch_number"),
    ({"max_errors": -1}, "image", "max_errors"),
    ({"max_errors": 1}, "script", "max_errors"),
    ({"lifecycle_state": []}, "image", "lifecycle_state"),
    ({"enter_process": ["ScaleUp"]}, "image", "ScaleUp"),
    ({"invoke_script": "   "}, "script", "empty"),
    ({"invoke_type": "rollback"}, None, "source_execution_id"),
    ({"source_execution_id": "exec-1"}, "image", "only used"),
    ({}, None, "image_id"),
    ({"package_version": "1.0"}, "image", "package_version"),
    ({"wait_timeout": 0}, "image", "wait_timeout"),
])
def test_validation_rules(given, kind, match):
    with pytest.raises(ru.ValidationError, match=match):
        ru.validate(params(**given), kind)


def test_valid_requests_pass():
    ru.validate(params(image_id="m-1", batch_number=1, max_errors=3), "image")
    ru.validate(params(invoke_script="echo", batch_number=100), "script")
    ru.validate(params(invoke_type="rollback", source_execution_id="exec-1"), None)


@pytest.mark.parametrize("count,batches,sizes", [
    (10, 2, [5, 5]), (10, 3, [4, 3, 3]), (7, 5, [2, 2, 1, 1, 1]), (3, 5, [1, 1, 1]), (0, 5, []), (1, 1, [1]),
])
def test_calculate_batches_puts_the_remainder_first(count, batches, sizes):
    assert ru.calculate_batches(count, batches) == sizes
    assert sum(sizes) == count


def test_plan_batches_keeps_order():
    assert ru.plan_batches(["a", "b", "c", "d", "e"], 2) == [["a", "b", "c"], ["d", "e"]]


def test_exit_processes_leave_out_what_was_already_suspended():
    assert ru.exit_processes(ru.PROCESSES, ["ScaleIn", "HealthCheck"]) == ["ScaleOut", "AlarmNotification",
                                                                           "ScheduledAction"]
    assert ru.exit_processes(["ScaleIn"], None) == ["ScaleIn"]


def test_image_parameters_are_filled_from_the_group():
    group = {"ActiveScalingConfigurationId": "asc-1", "SuspendedProcesses": ["ScaleIn"]}
    parameters = ru.build_parameters(params(image_id="m-new", batch_number=2), "image", group=group,
                                     configuration={"ImageId": "m-old"})
    assert parameters == {
        "invokeType": "invoke", "scalingGroupId": GROUP, "enterProcess": list(ru.PROCESSES),
        "exitProcess": ["ScaleOut", "HealthCheck", "AlarmNotification", "ScheduledAction"],
        "lifecycleState": ["InService"], "sourceExecutionId": "", "batchPauseOption": "Automatic",
        "batchNumber": 2, "OOSAssumeRole": "", "imageId": "m-new", "sourceImageId": "m-old",
        "scalingConfigurationId": "asc-1", "maxErrors": 0,
    }


def test_script_and_package_parameters():
    script = ru.build_parameters(params(invoke_script="echo a", rollback_script="echo b",
                                        command_type="RunPowerShellScript"), "script")
    assert (script["invokeScript"], script["rollbackScript"], script["commandType"]) == (
        "echo a", "echo b", "RunPowerShellScript")
    package = ru.build_parameters(params(package_name="nginx", package_version="1.2", package_action="uninstall"),
                                  "package")
    assert (package["packageName"], package["packageVersion"], package["action"]) == ("nginx", "1.2", "uninstall")


def test_rollback_parameters_come_from_the_source_execution():
    source = {"ExecutionId": "exec-src", "Parameters": {
        "invokeType": "invoke", "imageId": "m-new", "sourceImageId": "m-old", "scalingConfigurationId": "asc-1",
        "enterProcess": ["ScaleIn"], "exitProcess": ["ScaleIn"]}}
    parameters = ru.build_parameters(params(invoke_type="rollback", source_execution_id="exec-src"), "image",
                                     group={"SuspendedProcesses": ["ScaleOut"]}, source=source)
    assert parameters["invokeType"] == "rollback"
    assert parameters["sourceExecutionId"] == "exec-src"
    assert parameters["sourceImageId"] == "m-old"
    assert parameters["scalingConfigurationId"] == "asc-1"
    assert parameters["enterProcess"] == ["ScaleIn"] and parameters["exitProcess"] == ["ScaleIn"]


def test_image_rollback_without_a_source_image_is_rejected():
    with pytest.raises(ru.ValidationError, match="source_image_id"):
        ru.build_parameters(params(invoke_type="rollback", source_execution_id="e"), "image",
                            source={"Parameters": {"imageId": "m-new"}})


def test_client_token_is_deterministic_short_and_ignores_filled_values():
    a = ru.build_parameters(params(image_id="m-new"), "image", group={"SuspendedProcesses": []})
    b = ru.build_parameters(params(image_id="m-new"), "image", group={"SuspendedProcesses": ["ScaleIn"]})
    token = ru.client_token("cn-hangzhou", "T", None, a)
    assert token == ru.client_token("cn-hangzhou", "T", None, b)
    assert len(token) <= 64 and token.isascii()
    assert token != ru.client_token("cn-hangzhou", "T", None, a, generation="exec-failed")
    assert token != ru.client_token("cn-shanghai", "T", None, a)
    c = ru.build_parameters(params(image_id="m-other"), "image")
    assert token != ru.client_token("cn-hangzhou", "T", None, c)


def execution(execution_id, status, parameters, template="T"):
    return {"ExecutionId": execution_id, "Status": status, "TemplateName": template, "Parameters": parameters}


def test_history_decides_done_and_generation():
    request = ru.build_parameters(params(invoke_script="echo"), "script")
    other = ru.build_parameters(params(invoke_script="other"), "script")
    rollback_of_1 = dict(request, invokeType="rollback", sourceExecutionId="exec-1")
    # newest first
    history = [execution("exec-3", "Success", other), execution("exec-1", "Success", request)]
    assert ru.last_success_of_request(history, "T", request)["ExecutionId"] == "exec-1"
    assert ru.generation_marker(history, "T", request) is None

    rolled_back = [execution("exec-2", "Success", rollback_of_1)] + history
    assert ru.last_success_of_request(rolled_back, "T", request) is None
    assert ru.generation_marker(rolled_back, "T", request) == "exec-2"

    failed_retry = [execution("exec-4", "Failed", request)] + history
    assert ru.last_success_of_request(failed_retry, "T", request) is None
    assert ru.generation_marker(failed_retry, "T", request) == "exec-4"


def test_in_flight_and_same_request():
    request = ru.build_parameters(params(image_id="m-new"), "image")
    running = execution("exec-1", "Waiting", dict(request, exitProcess=["ScaleOut"]))
    assert ru.find_in_flight([running, execution("exec-0", "Success", request)]) == [running]
    assert ru.same_request(running, "T", request)
    assert not ru.same_request(running, "Other", request)


def test_package_matching():
    assert ru.package_matches(["1.26.1", "v2"], "1.26.1", "install")
    assert ru.package_matches(["1.26.1", "v2"], "v2", "install")
    assert ru.package_matches(["1.24.0"], "", "install")
    assert not ru.package_matches(["1.24.0"], "1.26.1", "install")
    assert not ru.package_matches([], "", "install")
    assert ru.package_matches([], "", "uninstall")


def test_shape_result_of_a_paused_invoke():
    shaped = ru.shape_result({"ExecutionId": "exec-1", "Status": "Waiting", "WaitingStatus": "BatchPause",
                              "TemplateName": "T", "Outputs": {"commandOutputs": []},
                              "Parameters": {"invokeType": "invoke"}}, "image")
    assert shaped["paused"] is True and shaped["pause_reason"] == "BatchPause"
    assert shaped["rollback_source_execution_id"] == "exec-1"
    assert shaped["outputs"] == {"commandOutputs": []}


def test_a_package_version_is_known_by_its_name_or_template_version():
    versions = [{"TemplateVersion": "v2", "VersionName": "1.26.1"}, {"TemplateVersion": "v1", "VersionName": "1.24.0"}]
    assert ru.known_package_version(versions, "1.24.0")["TemplateVersion"] == "v1"
    assert ru.known_package_version(versions, "v2")["VersionName"] == "1.26.1"
    assert ru.known_package_version(versions, "9.9.9") is None


def test_denied_task_listing_leaves_instances_and_warns_naming_the_action(monkeypatch):
    from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
    child = {"ExecutionId": "exec-c1", "Status": "Success", "Parameters": {"instanceId": "i-1"}}
    monkeypatch.setattr(ru.oos_api, "list_child_executions", lambda oos, execution_id: [child])

    def denied(oos, execution_id, **filters):
        raise AlicloudApiError("Forbidden.RAM", "User not authorized", request_id="RID-7", http_status=403,
                               operation="ListTaskExecutions", product="oos")
    monkeypatch.setattr(ru.oos_api, "list_task_executions", denied)
    warnings = []
    instances, batches = ru.instance_results(None, {"ExecutionId": "exec-1", "Parameters": {}}, "image",
                                             warnings=warnings)

    assert [i["instance_id"] for i in instances] == ["i-1"] and batches == []
    [warning] = warnings
    assert "oos:ListTaskExecutions" in warning and "Forbidden.RAM" in warning and "RID-7" in warning


def rollout(execution_id, status, tags=None, **parameters):
    return {"ExecutionId": execution_id, "Status": status, "Tags": tags or {}, "Parameters": dict(parameters)}


def test_rollback_of_request_names_the_rollback_of_the_same_image_only():
    source = rollout("exec-1", "Cancelled", {"rollout_suspended_processes": "ScaleIn,ScaleOut"}, imageId="m-new",
                     invokeType="invoke", batchNumber=4)
    rollback = rollout("exec-2", "Running", invokeType="rollback", sourceExecutionId="exec-1")
    # Batching aside, the same image is the same request: its rollback stops a re-run.
    found = ru.rollback_of_request(None, [rollback, source], "image", {"imageId": "m-new", "batchNumber": 2})
    assert found == {"execution_id": "exec-2", "status": "Running", "source_execution_id": "exec-1",
                     "source_suspended_processes": ["ScaleIn", "ScaleOut"]}
    assert ru.rollback_of_request(None, [rollback, source], "image", {"imageId": "m-other"}) is None
    # Only the newest rollout counts: a later rollout of anything else means the rollback is history.
    later = rollout("exec-3", "Success", imageId="m-other", invokeType="invoke")
    assert ru.rollback_of_request(None, [later, rollback, source], "image", {"imageId": "m-new"}) is None
    assert ru.rollback_of_request(None, [], "image", {"imageId": "m-new"}) is None


def test_inherited_processes_only_from_an_interrupted_run():
    tagged = {"rollout_suspended_processes": "ScaleIn,ScaleOut"}
    # Adopting the interrupted run's execution: what it suspended and is still suspended.
    assert ru.inherited_processes(rollout("e", "Waiting", tagged), True, ["ScaleIn", "HealthCheck"]) == ["ScaleIn"]
    # Ended unwatched, every tagged process still suspended: its cleanup never ran.
    assert ru.inherited_processes(rollout("e", "Success", tagged), False, ["ScaleIn", "ScaleOut"]) == \
        ["ScaleIn", "ScaleOut"]
    # Ended and its cleanup ran (one of them resumed): someone else suspended what is left.
    assert ru.inherited_processes(rollout("e", "Success", tagged), False, ["ScaleIn"]) == []
    # Still running and not adopted (another request): not ours to resume.
    assert ru.inherited_processes(rollout("e", "Running", tagged), False, ["ScaleIn", "ScaleOut"]) == []
    assert ru.inherited_processes(rollout("e", "Success", {"rollout_suspended_processes": "none"}), False,
                                  ["ScaleIn"]) == []
    assert ru.inherited_processes(None, False, ["ScaleIn"]) == []
