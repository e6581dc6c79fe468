"""oos_execution_info through ansible-playbook against the emulator, plus credentials paths (profile, assume_role)."""
import copy
import json

import pytest

from emulator_harness import EmulatorClient
from support.playbook import mutating_calls, run_tasks
from support.reliability.common import account, repo_path, world

GROUP = "asg-bp1demo0000000001"
INFO = "alicloud.rollout.oos_execution_info"
ROLE = "acs:ram::1234567890123456:role/rollout-operator"
NO_TASK_LIST_KEY = ("LTAI5tNoTaskList0001", "no-task-list-secret-0001")


def policy_without_list_task_executions():
    with open(repo_path("docs", "ram-policy.json")) as handle:
        document = json.load(handle)
    document = copy.deepcopy(document)
    for statement in document["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != "oos:ListTaskExecutions"]
    return document


@pytest.fixture(scope="module")
def session(emulator_process, tmp_path_factory):
    """Start a rollout without waiting, then read it every way the module allows, in one playbook run."""
    emulator = EmulatorClient(emulator_process.url)
    emulator.load_world(world(extra_accounts=[account("no-task-list", NO_TASK_LIST_KEY[0], NO_TASK_LIST_KEY[1],
                                                      [policy_without_list_task_executions()])]))
    tmp_path = tmp_path_factory.mktemp("info")
    profile_file = tmp_path / "config.json"
    admin = emulator.account("admin")
    profile_file.write_text(json.dumps({"current": "emu", "profiles": [{
        "name": "emu", "mode": "AK", "access_key_id": admin["access_key_id"],
        "access_key_secret": admin["access_key_secret"], "region_id": "cn-hangzhou"}]}))
    started_id = "{{ result_0.execution_id }}"
    no_env_keys = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "", "ALICLOUD_REGION": ""}
    since = len(emulator.calls())
    run = run_tasks(emulator, tmp_path, [
        {"alicloud.rollout.ess_rolling_update": {"scaling_group_id": GROUP, "invoke_script": "echo hi",
                                                 "batch_number": 2, "wait": False}},
        {INFO: {"execution_ids": [started_id], "wait_for": ["Success"], "wait_timeout": 60,
                "include_children": True, "include_task_executions": True, "include_logs": True}},
        {INFO: {"tags": {"scaling_group": GROUP}, "status": "Success"}},
        {INFO: {"execution_ids": ["exec-doesnotexist0000"]}},
        {INFO: {"execution_ids": [started_id], "assume_role": {"role_arn": ROLE, "session_name": "it"}}},
        {INFO: {"execution_ids": [started_id], "config_file": str(profile_file)}, "environment": no_env_keys},
        {INFO: {"execution_ids": [started_id]}, "check_mode": True},
        {INFO: {"execution_ids": [started_id], "include_children": True, "access_key_id": NO_TASK_LIST_KEY[0],
                "access_key_secret": NO_TASK_LIST_KEY[1]}},
    ])
    names = ["started", "waited", "filtered", "missing", "assumed", "profile", "check", "no_task_list"]
    results = dict(zip(names, run.results))
    results["_calls"] = emulator.calls(since=since)
    results["_mutating"] = mutating_calls(emulator, since)
    emulator.session.close()
    return results


def test_wait_false_then_wait_for_success_with_children_tasks_and_logs(session):
    started, waited = session["started"], session["waited"]
    assert started["changed"] is True and started["status"] in ("Started", "Running")
    assert not waited.get("failed"), waited.get("msg")
    assert waited["changed"] is False
    execution = waited["executions"][0]
    assert execution["execution_id"] == started["execution_id"]
    assert execution["status"] == "Success"
    assert execution["parameters"]["invokeScript"] == "echo hi"
    assert execution["tags"] == {"scaling_group": GROUP}
    assert len(execution["instances"]) == 4
    assert all(i["status"] == "Success" and "hi" in i["output"] for i in execution["instances"])
    assert [b["number"] for b in execution["batches"]] == [1, 2]
    assert execution["task_executions"] and all("task_name" in t for t in execution["task_executions"])
    assert isinstance(execution["logs"], list)
    assert waited["waited"] >= 0


def test_filters_find_the_group_rollouts_with_all_pages(session):
    filtered = session["filtered"]
    assert session["started"]["execution_id"] in filtered["ids"]
    assert all(e["status"] == "Success" for e in filtered["executions"])
    assert all(e["tags"].get("scaling_group") == GROUP for e in filtered["executions"])


def test_unknown_execution_id_fails_clearly(session):
    missing = session["missing"]
    assert missing["failed"] is True and "exec-doesnotexist0000" in missing["msg"]


def test_assume_role_goes_through_sts_at_the_endpoint_url(session):
    assumed = session["assumed"]
    assert not assumed.get("failed"), assumed.get("msg")
    assert assumed["ids"] == [session["started"]["execution_id"]]
    sts_calls = [c for c in session["_calls"] if c["action"] == "AssumeRole"]
    assert sts_calls and all(c["status"] == 200 for c in sts_calls)
    assert any(c["access_key_id"].startswith("STS.") for c in session["_calls"])


def test_aliyun_cli_profile_supplies_credentials_and_region(session):
    profile = session["profile"]
    assert not profile.get("failed"), profile.get("msg")
    assert profile["ids"] == [session["started"]["execution_id"]]


def test_denied_task_list_leaves_batches_out_with_a_warning_naming_the_action(session):
    read = session["no_task_list"]
    assert not read.get("failed"), read.get("msg")
    execution = read["executions"][0]
    assert len(execution["instances"]) == 4 and execution["batches"] == []
    assert any("oos:ListTaskExecutions" in w and "Forbidden" in w for w in read.get("warnings", [])), read.get("warnings")


def test_info_module_is_read_only_in_every_mode(session):
    assert session["check"]["changed"] is False and session["check"]["ids"]
    # Only the rollout the scenario started; AssumeRole mints credentials and changes nothing.
    mutating = [c["action"] for c in session["_mutating"] if c["action"] != "AssumeRole"]
    assert mutating == ["StartExecution"]


@pytest.mark.parametrize("module_name", ["ess_rolling_update", "oos_execution_info"])
def test_documented_examples_run_as_written_against_the_emulator(emulator, tmp_path, module_name):
    import importlib
    import yaml
    module = importlib.import_module("ansible_collections.alicloud.rollout.plugins.modules.%s" % module_name)
    tasks = yaml.safe_load(module.EXAMPLES)
    run = run_tasks(emulator, tmp_path, tasks, poll_interval=0.25)
    for task, result in zip(tasks, run.results):
        assert not result.get("failed"), (task.get("name"), result.get("msg"))
