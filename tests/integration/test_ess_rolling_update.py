"""ess_rolling_update against the emulator: results, cloud state and API calls.

What only a playbook shows runs through ansible-playbook (a full rollout and its re-run, check and diff through
Ansible, secrets kept out of Ansible's output); every other scenario runs the module in-process (support.inprocess).
"""
import pytest

from emulator_harness import EmulatorClient
from support import inprocess
from support.cloud import (ADMIN_KEY, CONFIG, GROUP, NEW_IMAGE, OLD_IMAGE, group_state, mutating_calls, second_group,
                           started, world, world_with)
from support.playbook import run_tasks

MODULE = "alicloud.rollout.ess_rolling_update"


def image_task(**extra):
    args = {"scaling_group_id": GROUP, "image_id": NEW_IMAGE, "batch_number": 2}
    args.update(extra)
    return {MODULE: args}


def test_image_rollout_updates_every_instance_and_the_configuration_and_a_rerun_is_a_no_op(emulator, tmp_path):
    run = run_tasks(emulator, tmp_path, [image_task(), image_task()])
    first, second = run.results

    assert not first.get("failed"), first.get("msg")
    assert first["changed"] is True
    assert first["status"] == "Success"
    assert first["execution_id"].startswith("exec-")
    assert first["template_name"] == "ACS-ESS-RollingUpdateByReplaceSystemDiskInScalingGroup"
    assert first["parameters"]["scalingConfigurationId"] == CONFIG
    assert first["parameters"]["sourceImageId"] == OLD_IMAGE
    assert [len(b["instances"]) for b in first["batches"]] == [2, 2]
    assert len(first["instances"]) == 4 and {i["status"] for i in first["instances"]} == {"Success"}
    assert first["rollback_source_execution_id"] == first["execution_id"]
    assert first["scaling_configuration"]["image_id_after"] == NEW_IMAGE

    group = group_state(emulator)
    assert group["scaling_configuration"]["image_id"] == NEW_IMAGE
    assert {i["image_id"] for i in group["instances"]} == {NEW_IMAGE}

    assert second["changed"] is False and not second.get("failed")
    assert second["plan"]["action"] == "none"
    assert second["execution_id"] == first["execution_id"] and second["status"] == "Success"
    assert len(started(emulator)) == 1


def test_check_mode_makes_no_change_and_returns_plan_and_diff(emulator, tmp_path):
    before = group_state(emulator)
    since = len(emulator.calls())
    run = run_tasks(emulator, tmp_path, [image_task(batch_number=3)], check=True, diff=True)
    result = run[0]

    assert result["changed"] is True and not result.get("failed")
    assert result["plan"]["action"] == "start"
    assert [len(b) for b in result["plan"]["batches"]] == [2, 1, 1]
    assert sorted(result["plan"]["instances_to_change"]) == sorted(i["id"] for i in before["instances"])
    assert result["parameters"]["imageId"] == NEW_IMAGE
    diff = result["diff"]
    assert diff["before"]["scaling_configuration"]["image_id"] == OLD_IMAGE
    assert diff["after"]["scaling_configuration"]["image_id"] == NEW_IMAGE
    assert {v["image"] for v in diff["before"]["instances"].values()} == {OLD_IMAGE}
    assert {v["image"] for v in diff["after"]["instances"].values()} == {NEW_IMAGE}

    assert mutating_calls(emulator, since) == []
    assert group_state(emulator) == before


def test_script_failure_reports_failing_instances_and_rollback_runs_the_rollback_script(emulator):
    instances = [{"id": "i-good000000000001"}, {"id": "i-bad0000000000002"}]
    emulator.load_world(world_with(instances=instances))
    script = 'if [ "$(cat instance_id 2>/dev/null || hostname)" = never ]; then :; fi; echo checking; exit 3'
    [failed] = inprocess.run_tasks(emulator, [
        {MODULE: {"scaling_group_id": GROUP, "invoke_script": script, "rollback_script": "echo undone",
                  "batch_number": 1}},
    ])
    assert failed["failed"] is True
    assert failed["status"] == "Failed"
    assert failed["execution_id"] in failed["msg"] and "Failed" in failed["msg"]
    failing = [i for i in failed["instances"] if i["status"] == "Failed"]
    assert failing, failed["instances"]
    assert any("checking" in (i["output"] or "") or i["error"] for i in failing)
    assert failed["instances"][0]["instance_id"] in failed["msg"]

    [rollback] = inprocess.run_tasks(emulator, [
        {MODULE: {"scaling_group_id": GROUP, "invoke_type": "rollback",
                  "source_execution_id": failed["rollback_source_execution_id"]}},
    ])
    assert not rollback.get("failed"), rollback.get("msg")
    assert rollback["changed"] is True
    assert rollback["invoke_type"] == "rollback"
    assert rollback["parameters"]["invokeType"] == "rollback"
    assert rollback["parameters"]["sourceExecutionId"] == failed["execution_id"]
    assert rollback["parameters"]["rollbackScript"] == "echo undone"
    assert rollback["status"] == "Success"
    assert all("undone" in (i["output"] or "") for i in rollback["instances"])


def test_pause_adoption_conflict_and_image_rollback_of_a_paused_rollout(emulator):
    paused, adopted, conflict = inprocess.run_tasks(emulator, [
        image_task(batch_pause_option="EveryBatchPause"),
        image_task(batch_pause_option="EveryBatchPause"),
        {MODULE: {"scaling_group_id": GROUP, "invoke_script": "echo other"}},
    ])
    assert paused["changed"] is True and paused["paused"] is True and paused["status"] == "Waiting"
    assert paused["pause_reason"]
    assert [b["status"] for b in paused["batches"]][:1] == ["Success"]

    assert adopted["changed"] is False and adopted["adopted"] is True
    assert adopted["execution_id"] == paused["execution_id"]

    assert conflict["failed"] is True
    assert paused["execution_id"] in conflict["msg"] and "in flight" in conflict["msg"]
    assert len(started(emulator)) == 1

    rollback_task = {MODULE: {"scaling_group_id": GROUP, "invoke_type": "rollback",
                              "source_execution_id": paused["execution_id"]}}
    rolled, rolled_again = inprocess.run_tasks(emulator, [rollback_task, rollback_task])
    assert rolled_again["changed"] is False and rolled_again["execution_id"] == rolled["execution_id"]
    assert not rolled.get("failed"), rolled.get("msg")
    assert rolled["status"] == "Success" and rolled["changed"] is True
    assert rolled["parameters"]["sourceImageId"] == OLD_IMAGE
    assert rolled["scaling_configuration"]["image_id_after"] == OLD_IMAGE
    group = group_state(emulator)
    assert group["scaling_configuration"]["image_id"] == OLD_IMAGE
    assert {i["image_id"] for i in group["instances"]} == {OLD_IMAGE}
    assert emulator.calls(action="CancelExecution", status=200)
    assert emulator.calls(action="ModifyScalingConfiguration", status=200)


def test_a_run_given_the_previous_wait_hint_follows_the_next_batch_without_a_history_read(emulator):
    """The role passes each paused run's wait_hint to the run after the approval; that run skips one
    ListTaskExecutions (the history read). Two groups, the same rollout: one next run with, one without.
    (The saving itself is unit-tested in test_waiter.py; this is the module's end of it, on real executions.)"""
    other = "asg-bp1demo0000000002"
    # A batch takes ~3 s: the in-process run after the approval adopts it well before it ends.
    emulator.load_world(world(extra_groups=[second_group(other, "asc-bp1demo0000000002")]), speed=30)
    groups = (GROUP, other)
    paused = inprocess.run_tasks(emulator, [image_task(scaling_group_id=g, batch_pause_option="EveryBatchPause")
                                            for g in groups], poll_interval=None)
    for result in paused:
        assert result["paused"] is True, result.get("msg")
        hint = result["wait_hint"]
        assert hint["execution_id"] == result["execution_id"] and hint["batch_sizes"] == [2, 2]
        assert len(hint["batch_seconds"]) == 1 and hint["tasks_before_loop"] >= 1

    history_reads = {}
    for group, result, hint in ((GROUP, paused[0], paused[0]["wait_hint"]), (other, paused[1], None)):
        logged = emulator.calls()
        since = logged[-1]["index"] + 1 if logged else 0
        adopt = image_task(scaling_group_id=group, batch_pause_option="EveryBatchPause")
        if hint:
            adopt[MODULE]["wait_hint"] = hint
        approved, finished = inprocess.run_tasks(emulator, [
            {"alicloud.rollout.oos_execution": {"execution_id": result["execution_id"], "action": "approve"}},
            adopt], poll_interval=None)
        assert approved.get("failed") is not True, approved.get("msg")
        assert finished["status"] == "Success" and finished["adopted"] is True, finished.get("msg")
        assert finished["polls"] >= 1, "the batch ended before the run adopted it: nothing was waited for"
        assert finished["wait_hint"] is None  # nothing follows a finished rollout
        history_reads[hint is not None] = len(emulator.calls(since=since, action="ListTaskExecutions"))
    assert history_reads[False] == history_reads[True] + 1, history_reads


def test_processes_suspended_before_the_rollout_stay_suspended(emulator):
    emulator.load_world(world_with(suspended_processes=["ScaleIn", "AlarmNotification"]))
    [result] = inprocess.run_tasks(emulator, [{MODULE: {"scaling_group_id": GROUP, "invoke_script": "true"}}])
    assert result["status"] == "Success", result.get("msg")
    assert "ScaleIn" not in result["parameters"]["exitProcess"]
    assert "ScaleOut" in result["parameters"]["exitProcess"]
    assert sorted(group_state(emulator)["suspended_processes"]) == ["AlarmNotification", "ScaleIn"]


def test_package_rollout_then_no_op_when_every_instance_has_the_version(emulator):
    task = {MODULE: {"scaling_group_id": GROUP, "package_name": "nginx", "package_version": "1.26.1"}}
    first, second = inprocess.run_tasks(emulator, [task, task], diff=True)
    assert first["status"] == "Success" and first["changed"] is True, first.get("msg")
    assert first["template_name"] == "ACS-ESS-RollingUpdateByConfigureOOSPackage"
    assert {v["package"] for v in first["diff"]["after"]["instances"].values()} == {"1.26.1"}
    assert all("nginx@1.26.1" in i["packages"] for i in group_state(emulator)["instances"])
    assert second["changed"] is False and second["plan"]["action"] == "none"


def test_wait_false_returns_at_once_and_the_timeout_keeps_the_execution(emulator):
    emulator.load_world(speed=1)
    no_wait, timed_out = inprocess.run_tasks(emulator, [
        image_task(wait=False),
        image_task(wait_timeout=2, poll_interval=0.5),
    ])
    assert no_wait["changed"] is True and no_wait["status"] in ("Started", "Running")
    assert timed_out["failed"] is True and "Timed out" in timed_out["msg"]
    assert timed_out["execution_id"] == no_wait["execution_id"]
    assert timed_out["adopted"] is True
    assert timed_out["status"] == "Running"


WRONG_SECRET = "definitely-not-the-secret-42"
VALIDATION_ONLY_KEY = "LTAI5tValidationOnly001"
READONLY = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tEmulatorReadOnly01",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "emulator-readonly-secret-01"}


@pytest.fixture(scope="module")
def failures(emulator_process, tmp_path_factory):
    """One playbook run holding every failure scenario (each task with its own environment)."""
    emulator = EmulatorClient(emulator_process.url)
    emulator.load_world()
    validation_env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": VALIDATION_ONLY_KEY}
    expired = emulator.mint_sts_token(expired=True)
    expired_env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": expired["AccessKeyId"],
                   "ALIBABA_CLOUD_ACCESS_KEY_SECRET": expired["AccessKeySecret"],
                   "ALIBABA_CLOUD_SECURITY_TOKEN": expired["SecurityToken"]}

    def task(env, check=False, **args):
        base = {"scaling_group_id": GROUP}
        base.update(args)
        item = {MODULE: base, "environment": env}
        if check:
            item["check_mode"] = True
        return item

    run = run_tasks(emulator, tmp_path_factory.mktemp("failures"), [
        task({"ALIBABA_CLOUD_ACCESS_KEY_SECRET": WRONG_SECRET}, image_id=NEW_IMAGE),
        task({"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tNoSuchKey000000"}, image_id=NEW_IMAGE),
        task(READONLY, check=True, image_id=NEW_IMAGE),
        task(READONLY, image_id=NEW_IMAGE),
        task({"ALICLOUD_REGION": ""}, image_id=NEW_IMAGE),
        task(validation_env, image_id=NEW_IMAGE, batch_number=0),
        task(validation_env, invoke_type="rollback"),
        task(validation_env, invoke_script="true", max_errors=2),
        task(validation_env),
        task(expired_env, image_id=NEW_IMAGE),
    ])
    names = ["wrong_secret", "unknown_key", "readonly_check", "readonly", "no_region",
             "bad_batch", "rollback_without_source", "max_errors_on_script", "nothing_to_roll", "expired_token"]
    results = dict(zip(names, run.results))
    results["_output"] = run.stdout + run.stderr
    results["_expired_token"] = expired["SecurityToken"]
    results["_calls"] = emulator.calls()
    results["_group"] = group_state(emulator)
    emulator.session.close()
    return results


def test_bad_secret_fails_with_code_request_id_and_advice_without_leaking_the_secret(failures):
    result = failures["wrong_secret"]
    assert result["failed"] is True
    assert result["error"]["code"] == "SignatureDoesNotMatch"
    assert result["error"]["request_id"] and result["error"]["request_id"] in result["msg"]
    assert "access_key_secret" in result["msg"]
    assert WRONG_SECRET not in failures["_output"] and WRONG_SECRET not in str(failures)


def test_unknown_access_key_is_reported_without_traceback(failures):
    result = failures["unknown_key"]
    assert result["error"]["code"] == "InvalidAccessKeyId.NotFound"
    assert result["error"]["http_status"] and result["error"]["recommend"]
    assert "Traceback" not in result["msg"] and "Traceback" not in str(result.get("exception", ""))


def test_missing_permission_names_the_action_and_check_mode_still_works(failures):
    check = failures["readonly_check"]
    assert not check.get("failed") and check["changed"] is True
    denied = failures["readonly"]
    assert denied["failed"] is True
    assert denied["error"]["code"] == "Forbidden.RAM"
    assert denied["error"]["operation"] == "StartExecution"
    assert "oos:StartExecution" in denied["msg"]
    assert failures["_group"]["scaling_configuration"]["image_id"] == OLD_IMAGE


def test_missing_region_is_a_clear_error(failures):
    result = failures["no_region"]
    assert result["failed"] is True and "No region" in result["msg"]


def test_invalid_requests_fail_before_any_api_call(failures):
    assert "batch_number" in failures["bad_batch"]["msg"]
    assert "source_execution_id" in failures["rollback_without_source"]["msg"]
    assert "max_errors" in failures["max_errors_on_script"]["msg"]
    assert "image_id" in failures["nothing_to_roll"]["msg"]
    for name in ("bad_batch", "rollback_without_source", "max_errors_on_script", "nothing_to_roll"):
        assert failures[name]["failed"] is True
    assert [c for c in failures["_calls"] if c["access_key_id"] == VALIDATION_ONLY_KEY] == []


def test_transient_faults_are_retried_and_a_tokened_start_is_repeated_safely(emulator):
    emulator.set_faults({"seed": 7, "error_rate": {"ListExecutions": 0.4, "DescribeScalingInstances": 0.4},
                         "drop_rate": {"DescribeScalingGroups": 0.3}})
    [survived] = inprocess.run_tasks(emulator, [
        {MODULE: {"scaling_group_id": GROUP, "invoke_script": "echo through the noise", "retries": 8,
                  "retry_max_delay": 0.5}}])
    emulator.set_faults({"error_rate": {"StartExecution": 1.0}})
    [refused] = inprocess.run_tasks(emulator, [
        {MODULE: {"scaling_group_id": GROUP, "invoke_script": "echo never", "retries": 2, "retry_max_delay": 0.2}}])
    assert survived["status"] == "Success", survived.get("msg")
    errors = [c for c in emulator.calls() if c["error_code"] in ("ServiceUnavailable", "InternalError")]
    assert errors, "the faults were not injected"

    assert refused["failed"] is True and refused["error"]["operation"] == "StartExecution"
    assert refused["error"]["code"] in ("ServiceUnavailable", "InternalError")
    starts = [c for c in emulator.calls(action="StartExecution") if c["access_key_id"] == ADMIN_KEY]
    assert len([c for c in starts if c["status"] == 200]) == 1
    assert len([c for c in starts if c["status"] >= 500]) == 2  # the refused start: two attempts with one token


def test_expired_sts_token_is_named_and_not_echoed(failures):
    result = failures["expired_token"]
    assert result["failed"] is True
    assert result["error"]["code"].startswith("InvalidSecurityToken")
    assert "token" in result["msg"].lower()
    assert failures["_expired_token"] not in failures["_output"]
