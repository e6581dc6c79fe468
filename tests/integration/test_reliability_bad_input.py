"""Issue 6, bad input: every case fails with a message naming the parameter (or the API code and RequestId),
without a traceback, and without one mutating API call reaching the emulator.

All module cases run as tasks of one ansible-playbook run; each case signs with an access key of its own,
so the emulator's call log tells exactly which calls each case made, and works on a scaling group of its own,
so no case can see what another left behind (a rollout in flight, suspended processes).
"""
import json
import time

import pytest
import yaml

from emulator_harness import EmulatorClient
from support.reliability import summary
from support.reliability.common import (GROUP, NEW_IMAGE, OLD_IMAGE, READONLY_POLICIES, RECORDER_PLUGINS, ROLE_ARN,
                                        account, crash_markers, run_playbook, world, write_playbook)

INACTIVE_GROUP = "asg-bp1inactive00000001"
EMPTY_GROUP = "asg-bp1empty0000000001"
SHANGHAI_GROUP = "asg-bp1shanghai0000001"
READONLY_GROUP = "asg-bp1readonly0000001"
EXTRA_GROUPS = [
    {"id": INACTIVE_GROUP, "state": "Inactive", "instances": 2,
     "scaling_configuration": {"id": "asc-bp1inactive00000001", "image_id": "m-bp1oldimage0000001"}},
    {"id": EMPTY_GROUP, "instances": 0, "max_size": 4,
     "scaling_configuration": {"id": "asc-bp1empty0000000001", "image_id": "m-bp1oldimage0000001"}},
    {"id": READONLY_GROUP, "instances": 1,
     "scaling_configuration": {"id": "asc-bp1readonly0000001", "image_id": "m-bp1oldimage0000001"}},
    {"id": SHANGHAI_GROUP, "region": "cn-shanghai", "instances": 2,
     "scaling_configuration": {"id": "asc-bp1shanghai0000001", "image_id": "m-bp1oldimage0000001"}},
]
# Groups with executions made before the cases run (by the admin key, so not counted as any case's calls).
FAILED_HISTORY_GROUP = "asg-bp1histfailed00001"
SUCCESS_HISTORY_GROUP = "asg-bp1histsuccess0001"
ROLLED_BACK_HISTORY_GROUP = "asg-bp1histrolledbk001"
EXTRA_GROUPS += [{"id": group_id, "instances": 1,
                  "scaling_configuration": {"id": group_id.replace("asg-", "asc-"), "image_id": "m-bp1oldimage0000001"}}
                 for group_id in (FAILED_HISTORY_GROUP, SUCCESS_HISTORY_GROUP, ROLLED_BACK_HISTORY_GROUP)]
# Placeholders for the ids of those executions, filled in once they exist.
FAILED_ROLLOUT = "<failed rollout>"
SUCCESSFUL_ROLLOUT = "<successful rollout>"
CHILD_OF_SUCCESSFUL_ROLLOUT = "<child of the successful rollout>"
FINISHED_ROLLBACK = "<finished rollback>"
SCRIPT_TEMPLATE = "ACS-ESS-RollingUpdateByRunCommandInScalingGroup"
HISTORY_TIMEOUT_S = 60
MISSING_CONFIG = "/nonexistent/aliyun/config.json"
FORKS = 4
BIG_SCRIPT = "#!/bin/bash\n" + ("echo 'padding line to exceed the RunCommand content limit'\n" * 400)  # ~22 KB
ROLLOUT = "alicloud.rollout.ess_rolling_update"
INFO = "alicloud.rollout.oos_execution_info"
NOTIFY = "alicloud.rollout.oos_execution"
PROCESSES = "alicloud.rollout.ess_scaling_processes"
STANDBY = "alicloud.rollout.ess_instance_standby"
GROUP_INFO = "alicloud.rollout.ess_scaling_group_info"
REFRESH = "alicloud.rollout.ess_instance_refresh"
REFRESH_INFO = "alicloud.rollout.ess_instance_refresh_info"


class Case:
    """One bad input. ``expect``: texts that must all be in the message (case-insensitive); ``code``: the
    API error code when the service is what refuses it (then the RequestId must be in the message too)."""

    def __init__(self, name, module, args, expect=(), code=None, identity="full", env=None):
        self.name = name
        self.module = module
        self.args = args
        self.expect = tuple(expect)
        self.code = code
        self.identity = identity  # full | readonly | unknown_key | wrong_secret | expired_token | sts_no_token | none
        self.env = env or {}


def rollout(**args):
    base = {"scaling_group_id": GROUP}
    base.update(args)
    return base


CASES = [
    # ess_rolling_update: ids
    Case("malformed group id", ROLLOUT, rollout(scaling_group_id="not a group!", image_id=NEW_IMAGE),
         ["not a group!"], code="InvalidScalingGroupId.NotFound"),
    Case("unknown group id", ROLLOUT, rollout(scaling_group_id="asg-bp1nosuchgroup00001", image_id=NEW_IMAGE),
         ["asg-bp1nosuchgroup00001"], code="InvalidScalingGroupId.NotFound"),
    Case("unknown image id", ROLLOUT, rollout(image_id="m-bp1nosuchimage00009"), ["m-bp1nosuchimage00009"]),
    Case("malformed image id", ROLLOUT, rollout(image_id="ubuntu latest"), ["ubuntu latest"]),
    Case("unknown source execution", ROLLOUT, rollout(invoke_type="rollback", source_execution_id="exec-nosuch0000001"),
         ["exec-nosuch0000001", "source_execution_id"]),
    Case("malformed source execution", ROLLOUT, rollout(invoke_type="rollback", source_execution_id="../../etc"),
         ["source_execution_id"]),
    # batch numbers and ranges
    Case("batch_number zero", ROLLOUT, rollout(image_id=NEW_IMAGE, batch_number=0), ["batch_number"]),
    Case("batch_number over 100", ROLLOUT, rollout(image_id=NEW_IMAGE, batch_number=101), ["batch_number"]),
    Case("batch_number negative", ROLLOUT, rollout(image_id=NEW_IMAGE, batch_number=-2), ["batch_number"]),
    Case("batch_number not a number", ROLLOUT, rollout(image_id=NEW_IMAGE, batch_number="two"), ["batch_number"]),
    Case("max_errors negative", ROLLOUT, rollout(image_id=NEW_IMAGE, max_errors=-1), ["max_errors"]),
    Case("wait_timeout zero", ROLLOUT, rollout(image_id=NEW_IMAGE, wait_timeout=0), ["wait_timeout"]),
    Case("poll_interval negative", ROLLOUT, rollout(image_id=NEW_IMAGE, poll_interval=-1), ["poll_interval"]),
    # conflicting or missing options
    Case("image and script", ROLLOUT, rollout(image_id=NEW_IMAGE, invoke_script="true"), ["image_id", "invoke_script"]),
    Case("image and package", ROLLOUT, rollout(image_id=NEW_IMAGE, package_name="nginx"), ["image_id", "package_name"]),
    Case("nothing to roll out", ROLLOUT, rollout(), ["image_id", "invoke_script", "package_name"]),
    Case("rollback without a source", ROLLOUT, rollout(invoke_type="rollback"), ["source_execution_id"]),
    Case("source without rollback", ROLLOUT, rollout(image_id=NEW_IMAGE, source_execution_id="exec-x"),
         ["source_execution_id"]),
    Case("max_errors with a script", ROLLOUT, rollout(invoke_script="true", max_errors=1), ["max_errors"]),
    Case("empty script", ROLLOUT, rollout(invoke_script="   "), ["invoke_script"]),
    Case("rollback_script without a script", ROLLOUT, rollout(image_id=NEW_IMAGE, rollback_script="true"),
         ["rollback_script"]),
    Case("package_version without a package", ROLLOUT, rollout(image_id=NEW_IMAGE, package_version="1.0"),
         ["package_version"]),
    Case("source_image_id with a script", ROLLOUT, rollout(invoke_script="true", source_image_id="m-x"),
         ["source_image_id"]),
    Case("empty lifecycle_state", ROLLOUT, rollout(image_id=NEW_IMAGE, lifecycle_state=[]), ["lifecycle_state"]),
    Case("unknown batch_pause_option", ROLLOUT, rollout(image_id=NEW_IMAGE, batch_pause_option="Sometimes"),
         ["batch_pause_option"]),
    Case("unknown process", ROLLOUT, rollout(image_id=NEW_IMAGE, enter_process=["Reboot"]), ["enter_process"]),
    Case("unknown option", ROLLOUT, rollout(image_id=NEW_IMAGE, batch_size=3), ["batch_size"]),
    # templates, packages, scripts
    Case("unknown template", ROLLOUT, rollout(invoke_script="true", template_name="ACS-ESS-NoSuchTemplate"),
         ["ACS-ESS-NoSuchTemplate"]),
    Case("unknown template version", ROLLOUT, rollout(invoke_script="true", template_version="v999"), ["v999"]),
    Case("package version absent", ROLLOUT, rollout(package_name="nginx", package_version="9.9.9"),
         ["9.9.9", "package_version", "1.26.1"]),
    Case("unknown package", ROLLOUT, rollout(package_name="no-such-package"), ["no-such-package", "package_name"],
         code="EntityNotExists.Template"),
    Case("script too large", ROLLOUT, rollout(invoke_script=BIG_SCRIPT), ["invoke_script"]),
    # group state and region
    Case("inactive group", ROLLOUT, rollout(scaling_group_id=INACTIVE_GROUP, image_id=NEW_IMAGE),
         [INACTIVE_GROUP, "Inactive", "enable it"], code="IncorrectScalingGroupStatus"),
    Case("empty group", ROLLOUT, rollout(scaling_group_id=EMPTY_GROUP, invoke_script="true"), [EMPTY_GROUP]),
    Case("group of another region", ROLLOUT, rollout(scaling_group_id=SHANGHAI_GROUP, image_id=NEW_IMAGE),
         [SHANGHAI_GROUP], code="InvalidScalingGroupId.NotFound"),
    Case("unknown region", ROLLOUT, rollout(image_id=NEW_IMAGE, region="xx-nowhere-9"), ["xx-nowhere-9"]),
    Case("plain http per-product endpoint", ROLLOUT, rollout(image_id=NEW_IMAGE, endpoints={"oos": "http://127.0.0.1:9"}),
         ["http"], env={"ALICLOUD_ENDPOINT_URL": ""}),
    Case("endpoint_url of another scheme", ROLLOUT, rollout(image_id=NEW_IMAGE, endpoint_url="ftp://127.0.0.1:9"),
         ["ftp://127.0.0.1:9"]),
    # credentials
    Case("no credentials at all", ROLLOUT, rollout(image_id=NEW_IMAGE, config_file=MISSING_CONFIG),
         ["credential"], identity="none"),
    Case("key id without secret", ROLLOUT, rollout(image_id=NEW_IMAGE, access_key_id="LTAI5tOnlyTheId00001"),
         ["access_key_secret"]),
    Case("unknown profile", ROLLOUT, rollout(image_id=NEW_IMAGE, profile="nope", config_file=MISSING_CONFIG),
         ["nope"], identity="none"),
    Case("wrong secret", ROLLOUT, rollout(image_id=NEW_IMAGE), ["access_key_secret"], code="SignatureDoesNotMatch",
         identity="wrong_secret"),
    Case("unknown access key", ROLLOUT, rollout(image_id=NEW_IMAGE), ["access_key_id"],
         code="InvalidAccessKeyId.NotFound", identity="unknown_key"),
    Case("expired STS token", ROLLOUT, rollout(image_id=NEW_IMAGE), ["token"], code="InvalidSecurityToken.Expired",
         identity="expired_token"),
    Case("STS key without its token", ROLLOUT, rollout(image_id=NEW_IMAGE), ["token"], code="MissingSecurityToken",
         identity="sts_no_token"),
    Case("unknown role to assume", ROLLOUT, rollout(image_id=NEW_IMAGE, assume_role={
        "role_arn": "acs:ram::1234567890123456:role/no-such-role"}), ["no-such-role"], code="EntityNotExist.Role"),
    Case("assume_role duration too short", ROLLOUT, rollout(image_id=NEW_IMAGE, assume_role={
        "role_arn": ROLE_ARN, "duration_seconds": 10}), ["duration_seconds"]),
    Case("missing RAM permission", ROLLOUT, rollout(image_id=NEW_IMAGE), ["oos:StartExecution"],
         code="Forbidden.RAM", identity="readonly"),
    # oos_execution_info
    Case("info: unknown execution", INFO, {"execution_ids": ["exec-nosuch0000002"]}, ["exec-nosuch0000002"]),
    Case("info: max_results zero", INFO, {"max_results": 0}, ["max_results"]),
    Case("info: wait_for without ids", INFO, {"wait_for": ["Success"]}, ["execution_ids"]),
    Case("info: unknown status", INFO, {"status": "Done"}, ["status"]),
    # oos_execution
    Case("notify: unknown execution", NOTIFY, {"execution_id": "exec-nosuch0000003", "action": "approve"},
         ["exec-nosuch0000003"]),
    # bad input that needs an existing execution
    Case("notify: approve a failed rollout", NOTIFY, {"execution_id": FAILED_ROLLOUT, "action": "approve"},
         [FAILED_ROLLOUT, "Failed"]),
    Case("notify: retry_task on a failed rollout", NOTIFY, {"execution_id": FAILED_ROLLOUT, "action": "retry_task"},
         [FAILED_ROLLOUT, "Failed"]),
    Case("notify: reject a finished rollout", NOTIFY, {"execution_id": SUCCESSFUL_ROLLOUT, "action": "reject"},
         [SUCCESSFUL_ROLLOUT, "Success"]),
    Case("rollback of an execution that is not a rollout", ROLLOUT, {
        "scaling_group_id": SUCCESS_HISTORY_GROUP, "invoke_type": "rollback",
        "source_execution_id": CHILD_OF_SUCCESSFUL_ROLLOUT}, [CHILD_OF_SUCCESSFUL_ROLLOUT, "ACS::ESS::RunCommand"]),
    Case("rollback of a rollback", ROLLOUT, {"scaling_group_id": ROLLED_BACK_HISTORY_GROUP, "invoke_type": "rollback",
                                            "source_execution_id": FINISHED_ROLLBACK}, [FINISHED_ROLLBACK, "rollback"]),
    Case("rollback of another group's rollout", ROLLOUT, rollout(invoke_type="rollback",
                                                                 source_execution_id=SUCCESSFUL_ROLLOUT),
         [SUCCESSFUL_ROLLOUT, SUCCESS_HISTORY_GROUP]),
    Case("notify: unknown action", NOTIFY, {"execution_id": "exec-nosuch0000003", "action": "explode"}, ["action"]),
    # ess_scaling_processes
    Case("processes: unknown group", PROCESSES, {"scaling_group_id": "asg-bp1nosuchgroup00002"},
         ["asg-bp1nosuchgroup00002"], code="InvalidScalingGroupId.NotFound"),
    Case("processes: unknown process", PROCESSES, {"scaling_group_id": GROUP, "processes": ["Reboot"]}, ["processes"]),
    Case("processes: missing RAM permission", PROCESSES, {"scaling_group_id": READONLY_GROUP}, ["ess:SuspendProcesses"],
         code="Forbidden.RAM", identity="readonly"),
    # ess_instance_standby
    Case("standby: instance of no group", STANDBY, {"scaling_group_id": GROUP, "state": "Standby",
                                                    "instance_ids": ["i-bp1notmine000000001"]},
         ["i-bp1notmine000000001"]),
    Case("standby: malformed instance id", STANDBY, {"scaling_group_id": GROUP, "state": "Standby",
                                                     "instance_ids": ["i-; rm -rf /"]}, ["i-; rm -rf /"]),
    Case("standby: no instance_ids", STANDBY, {"scaling_group_id": GROUP, "state": "Standby"}, ["instance_ids"]),
    # ess_scaling_group_info
    Case("group info: region not offered", GROUP_INFO, {"scaling_group_id": GROUP, "verify_region": True,
                                                        "region": "cn-nowhere-1"}, ["cn-nowhere-1"]),
    # ess_instance_refresh(_info)
    Case("refresh: two desired configurations", REFRESH, {
        "scaling_group_id": GROUP, "desired_configuration": {"image_id": NEW_IMAGE,
                                                             "scaling_configuration_id": "asc-bp1demo0000000001"}},
         ["image_id", "scaling_configuration_id"]),
    Case("refresh: min_healthy_percentage over 100", REFRESH, {
        "scaling_group_id": GROUP, "desired_configuration": {"image_id": NEW_IMAGE}, "min_healthy_percentage": 150},
         ["min_healthy_percentage"]),
    Case("refresh info: neither group nor task", REFRESH_INFO, {}, ["scaling_group_id", "task_ids"]),
]


def case_group(index):
    return "asg-bp1badcase%06d" % index


def case_args(index, case, history=None):
    """The case's arguments with the shared default group replaced by the case's own group, and placeholders by
    the ids in ``history``."""
    args = dict((name, (history or {}).get(value, value) if isinstance(value, str) else value)
                for name, value in case.args.items())
    if args.get("scaling_group_id") == GROUP:
        args["scaling_group_id"] = case_group(index)
    return args


def start_script_rollout(emulator, group_id, script, **parameters):
    parameters.update(invokeType=parameters.get("invokeType", "invoke"), scalingGroupId=group_id,
                      invokeScript=script, batchNumber=1)
    answer = emulator.call("StartExecution", "2019-06-01", {
        "RegionId": "cn-hangzhou", "TemplateName": SCRIPT_TEMPLATE, "Parameters": json.dumps(parameters),
        "Tags": json.dumps({"scaling_group": group_id})})
    return answer["body"]["Execution"]["ExecutionId"]


def wait_until_finished(emulator, execution_ids):
    deadline = time.monotonic() + HISTORY_TIMEOUT_S
    while True:
        executions = {e["id"]: e for e in emulator.state()["executions"]}
        if all(executions[i]["status"] in ("Success", "Failed", "Cancelled") for i in execution_ids):
            return executions
        assert time.monotonic() < deadline, "the prepared executions did not finish"
        time.sleep(0.2)


def make_history(emulator):
    """Finished executions the cases act on: {placeholder: execution id}."""
    failed = start_script_rollout(emulator, FAILED_HISTORY_GROUP, "exit 1")
    succeeded = start_script_rollout(emulator, SUCCESS_HISTORY_GROUP, "true")
    undone = start_script_rollout(emulator, ROLLED_BACK_HISTORY_GROUP, "true")
    executions = wait_until_finished(emulator, [failed, succeeded, undone])
    assert [executions[i]["status"] for i in (failed, succeeded, undone)] == ["Failed", "Success", "Success"]
    rollback = start_script_rollout(emulator, ROLLED_BACK_HISTORY_GROUP, "", invokeType="rollback",
                                    sourceExecutionId=undone)
    wait_until_finished(emulator, [rollback])
    return {FAILED_ROLLOUT: failed, SUCCESSFUL_ROLLOUT: succeeded, FINISHED_ROLLBACK: rollback,
            CHILD_OF_SUCCESSFUL_ROLLOUT: executions[succeeded]["children"][0]}


def group_snapshot(state):
    return {g["id"]: (g["suspended_processes"], g["scaling_configuration"]["image_id"],
                      sorted((i["id"], i["lifecycle_state"], i["image_id"]) for i in g["instances"]))
            for g in state["scaling_groups"]}


def own_group(index):
    return {"id": case_group(index), "instances": 2,
            "scaling_configuration": {"id": "asc-bp1badcase%06d" % index, "image_id": OLD_IMAGE}}


def key_id(index):
    return "LTAI5tRelBad%04d" % index


def secret(index):
    return "reliab-bad-input-secret-%04d" % index


def case_world():
    accounts = []
    for index, case in enumerate(CASES):
        if case.identity in ("full", "wrong_secret"):
            accounts.append(account("bad-%d" % index, key_id(index), secret(index)))
        elif case.identity == "readonly":
            accounts.append(account("bad-%d" % index, key_id(index), secret(index), READONLY_POLICIES))
    groups = [own_group(index) for index, case in enumerate(CASES) if case.args.get("scaling_group_id") == GROUP]
    return world(extra_accounts=accounts, extra_groups=EXTRA_GROUPS + groups)


def case_env(emulator, index, case):
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": key_id(index), "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret(index)}
    if case.identity == "wrong_secret":
        env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "wrong-" + secret(index)
    elif case.identity in ("expired_token", "sts_no_token"):
        credentials = emulator.mint_sts_token(expired=case.identity == "expired_token")
        env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": credentials["AccessKeyId"],
               "ALIBABA_CLOUD_ACCESS_KEY_SECRET": credentials["AccessKeySecret"]}
        if case.identity == "expired_token":
            env["ALIBABA_CLOUD_SECURITY_TOKEN"] = credentials["SecurityToken"]
    elif case.identity == "none":
        env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ""}
    env.update(case.env)
    return env


@pytest.fixture(scope="module")
def outcomes(emulator_process, tmp_path_factory, request):
    summary.install(request.config)
    emulator = EmulatorClient(emulator_process.url)
    emulator.load_world(case_world())
    history = make_history(emulator)
    before = emulator.state()
    envs = [case_env(emulator, index, case) for index, case in enumerate(CASES)]
    # One inventory host per case, run FORKS at a time (the cases are independent); each host includes the
    # file holding its one task. Results come from the recorder callback, so no extra module runs are needed.
    work = tmp_path_factory.mktemp("bad_input")
    inventory = {"all": {"hosts": {"case%d" % index: {"ansible_connection": "local"} for index in range(len(CASES))}}}
    (work / "inventory.yml").write_text(yaml.safe_dump(inventory))
    for index, case in enumerate(CASES):
        task = {"name": "case %d: %s" % (index, case.name), case.module: case_args(index, case, history),
                "environment": envs[index]}
        write_playbook(work / ("case%d.yml" % index), [task])
    play = {"hosts": "all", "gather_facts": False, "strategy": "free",
            "tasks": [{"ansible.builtin.include_tasks": "{{ playbook_dir }}/{{ inventory_hostname }}.yml"}]}
    playbook = write_playbook(work / "playbook.yml", [play])
    results_file = work / "results.jsonl"
    # No ALICLOUD_* / ALIBABA_CLOUD_* credentials for the play itself: each task brings its own.
    process = run_playbook(emulator, playbook, ["-i", str(work / "inventory.yml"), "-f", str(FORKS)], cwd=work, env={
        "ALIBABA_CLOUD_ACCESS_KEY_ID": None, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": None,
        "ANSIBLE_CALLBACK_PLUGINS": RECORDER_PLUGINS, "ANSIBLE_CALLBACKS_ENABLED": "reliability_recorder",
        "RELIABILITY_RESULTS": str(results_file)})
    recorded = {}
    for line in results_file.read_text().splitlines():
        item = json.loads(line)
        if item["task"].startswith("case "):
            recorded[item["host"]] = dict(item["result"], failed=item["outcome"] == "failed")
    results = [recorded.get("case%d" % index, {"msg": "no result recorded"}) for index in range(len(CASES))]
    calls = emulator.calls()
    state = emulator.state()
    emulator.session.close()
    by_key = {}
    for call in calls:
        by_key.setdefault(call["access_key_id"], []).append(call)
    per_case = []
    for index, case in enumerate(CASES):
        made = by_key.get(envs[index].get("ALIBABA_CLOUD_ACCESS_KEY_ID") or None, []) if case.identity != "none" else []
        per_case.append({"result": results[index], "calls": made})
    mutating = sum(1 for item in per_case for call in item["calls"]
                   if cloud_changing(call) and call["error_code"] != "Forbidden.RAM")
    summary.add(bad_inputs_tried=len(CASES), mutating_calls_on_bad_input=mutating)
    return {"cases": per_case, "output": process.stdout + process.stderr, "state": state, "calls": calls,
            "returncode": process.returncode, "history": history, "before": before}


def test_there_are_at_least_40_distinct_cases():
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)
    assert len({repr((case.module, case.args, case.identity)) for case in CASES}) == len(CASES)


def test_no_two_cases_share_a_scaling_group():
    groups = [case_args(index, case).get("scaling_group_id") for index, case in enumerate(CASES)]
    named = [group for group in groups if group]
    assert len(set(named)) == len(named)
    assert GROUP not in named


def case_params():
    for index, case in enumerate(CASES):
        yield pytest.param(index, id=case.name)


def cloud_changing(call):
    """A call that can change the cloud. STS AssumeRole only issues credentials, so it does not count."""
    return call["mutating"] and call["action"] != "AssumeRole"


@pytest.mark.parametrize("index", list(case_params()))
def test_bad_input_fails_clearly_without_changing_anything(outcomes, index):
    case = CASES[index]
    result = outcomes["cases"][index]["result"]
    calls = outcomes["cases"][index]["calls"]
    message = str(result.get("msg", ""))

    assert result.get("failed") is True, "case %r did not fail: %r" % (case.name, result)
    # ansible-core 2.19 adds exception="(traceback unavailable)" to every failure; a real one holds a traceback.
    assert not crash_markers(message + str(result.get("exception", ""))) and "module_stderr" not in result, result
    for text in case.expect:
        text = outcomes["history"].get(text, text)
        assert text.lower() in message.lower(), "%r not in message %r" % (text, message)
    if case.code:
        error = result.get("error") or {}
        assert error.get("code") == case.code and case.code in message, result
        assert error.get("advice") or error.get("recommend"), error
        if error.get("http_status"):
            # The service answered: its RequestId is what support asks for.
            assert error.get("request_id") and error["request_id"] in message, error
    accepted = [c for c in calls if cloud_changing(c) and c["status"] == 200]
    assert accepted == [], "mutating calls went through: %r" % accepted
    # A refused mutating call is only acceptable when RAM is what refuses it (the check runs before the service).
    attempted = [c for c in calls if cloud_changing(c) and c["error_code"] != "Forbidden.RAM"]
    assert attempted == [], "mutating calls were sent for bad input: %r" % attempted


def test_no_traceback_anywhere_and_no_group_was_touched(outcomes):
    assert crash_markers(outcomes["output"]) == []
    assert group_snapshot(outcomes["state"]) == group_snapshot(outcomes["before"])
    untouched = set(group_snapshot(outcomes["state"])) - {FAILED_HISTORY_GROUP, SUCCESS_HISTORY_GROUP,
                                                          ROLLED_BACK_HISTORY_GROUP}
    for group in outcomes["state"]["scaling_groups"]:
        if group["id"] in untouched:
            assert group["suspended_processes"] == [], group["id"]
            assert {i["lifecycle_state"] for i in group["instances"]} <= {"InService"}, group["id"]
            assert group["scaling_configuration"]["image_id"] == OLD_IMAGE, group["id"]
    assert [e["id"] for e in outcomes["state"]["executions"]] == [e["id"] for e in outcomes["before"]["executions"]]
