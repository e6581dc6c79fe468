"""Issue 6, transient faults: throttling with retry-after, ServiceUnavailable / InternalError, connection
resets, slow responses and lost responses, on every API the collection calls. A full rollout (module, then
role) still succeeds, the group ends exactly as intended, and exactly one execution is created: a StartExecution
whose response was lost is retried with the same ClientToken and adopts the execution the first one created.
"""
import pytest

from support.reliability import summary
from support.reliability.common import (GROUP, NEW_IMAGE, OLD_IMAGE, crash_markers, faults_hit, group_state,
                                        rollout_executions, run_playbook, run_tasks, repo_path)

ROLLOUT = "alicloud.rollout.ess_rolling_update"
PATIENT = {"retries": 12, "retry_max_delay": 1.0, "poll_interval": 0.25}
EVERY_FAULT = {
    "seed": 20261127,
    "throttle": {"default": 4, "StartExecution": 1, "http_status": 400},
    "error_rate": 0.12,
    "drop_rate": 0.05,
    "latency_ms": {"default": 15, "ListExecutions": 250, "DescribeScalingInstances": 250},
    "lost_responses": {"StartExecution": 1},
}
FAULT_KINDS = {"throttle", "error", "drop", "latency", "lost_response"}


@pytest.fixture(autouse=True)
def summary_table(request):
    summary.install(request.config)


def record(emulator):
    calls = emulator.calls()
    summary.add(faults_injected=len(faults_hit(calls)), executions_created=len(rollout_executions(emulator)))
    return calls


def assert_rolled_to_new_image(emulator):
    group = group_state(emulator)
    assert group["scaling_configuration"]["image_id"] == NEW_IMAGE
    assert {i["image_id"] for i in group["instances"]} == {NEW_IMAGE}
    assert {i["lifecycle_state"] for i in group["instances"]} == {"InService"}
    assert group["suspended_processes"] == []


PAUSED_ROLLOUT = {ROLLOUT: dict(PATIENT, scaling_group_id=GROUP, image_id=NEW_IMAGE, batch_number=2,
                                batch_pause_option="FirstBatchPause")}


def paused_after_the_first_batch(emulator, tmp_path):
    _, [paused] = run_tasks(emulator, tmp_path, [PAUSED_ROLLOUT])
    assert paused.get("paused") is True, paused.get("msg")
    return paused


def test_a_start_whose_response_was_lost_is_adopted_not_repeated(emulator, tmp_path):
    emulator.set_faults({"lost_responses": {"StartExecution": 1}})
    _, [result] = run_tasks(emulator, tmp_path, [{ROLLOUT: dict(PATIENT, scaling_group_id=GROUP, image_id=NEW_IMAGE,
                                                                batch_number=2)}])
    calls = record(emulator)

    assert result.get("failed") is not True, result.get("msg")
    assert result["status"] == "Success" and result["changed"] is True
    starts = [c for c in calls if c["action"] == "StartExecution"]
    assert [c["fault"] for c in starts] == ["lost_response", None], starts
    [execution] = rollout_executions(emulator)
    assert execution["id"] == result["execution_id"]
    assert_rolled_to_new_image(emulator)
    summary.add(rollouts_completed=1)


def test_module_rollout_survives_every_fault_kind_on_every_api(emulator, tmp_path):
    emulator.set_faults(EVERY_FAULT)
    process, [result] = run_tasks(emulator, tmp_path, [
        {ROLLOUT: dict(PATIENT, scaling_group_id=GROUP, image_id=NEW_IMAGE, batch_number=2)}])
    calls = record(emulator)

    assert result.get("failed") is not True, result.get("msg")
    assert result["status"] == "Success"
    assert crash_markers(process.stdout + process.stderr) == []
    assert {c["fault"] for c in calls} >= FAULT_KINDS, {c["fault"] for c in calls}
    called = {c["action"] for c in calls}
    assert called == {c["action"] for c in faults_hit(calls)}, "an API the module used saw no fault"
    assert {"StartExecution", "ListExecutions", "DescribeScalingGroups", "DescribeScalingInstances"} <= called
    [execution] = rollout_executions(emulator)
    assert execution["id"] == result["execution_id"] and execution["status"] == "Success"
    assert_rolled_to_new_image(emulator)
    summary.add(rollouts_completed=1)


def test_an_approve_whose_answer_was_lost_or_refused_lands_exactly_once(emulator, tmp_path):
    """NotifyExecution has no ClientToken: after a 5xx it is sent again, after a lost answer it is not."""
    paused = paused_after_the_first_batch(emulator, tmp_path)
    emulator.set_faults({"lost_responses": {"NotifyExecution": 1}})
    _, [approved] = run_tasks(emulator, tmp_path, [
        {"alicloud.rollout.oos_execution": {"execution_id": paused["execution_id"], "action": "approve"}}])
    _, [finished] = run_tasks(emulator, tmp_path, [PAUSED_ROLLOUT])
    calls = record(emulator)

    assert approved.get("failed") is not True, approved.get("msg")
    assert approved["status"] in ("Running", "Success")
    notifies = [c for c in calls if c["action"] == "NotifyExecution"]
    assert [c["fault"] for c in notifies] == ["lost_response"], notifies
    assert finished.get("failed") is not True and finished["status"] == "Success", finished.get("msg")
    [execution] = rollout_executions(emulator)
    assert execution["id"] == paused["execution_id"] == finished["execution_id"]
    assert_rolled_to_new_image(emulator)
    summary.add(rollouts_completed=1)


def test_an_approve_reset_then_refused_with_5xx_is_sent_until_it_lands(emulator, tmp_path):
    paused = paused_after_the_first_batch(emulator, tmp_path)
    # Each action draws from its own seeded stream, so NotifyExecution's draws are fixed: a reset, a 5xx, then through.
    emulator.set_faults({"seed": 100, "drop_rate": {"NotifyExecution": 0.5}, "error_rate": {"NotifyExecution": 0.5}})
    _, [approved] = run_tasks(emulator, tmp_path, [{"alicloud.rollout.oos_execution": {
        "execution_id": paused["execution_id"], "action": "approve", "retry_max_delay": 0.5}}])
    calls = record(emulator)

    assert approved.get("failed") is not True, approved.get("msg")
    notifies = [c for c in calls if c["action"] == "NotifyExecution"]
    assert [c["fault"] for c in notifies] == ["drop", "error", None], notifies
    [execution] = rollout_executions(emulator)
    assert execution["status"] in ("Running", "Success")
    assert execution.get("waiting_status") in (None, "")


def test_the_retry_budget_can_come_from_the_environment(emulator, tmp_path):
    emulator.set_faults({"error_rate": {"StartExecution": 1.0}})
    _, [refused] = run_tasks(emulator, tmp_path, [{ROLLOUT: dict(scaling_group_id=GROUP, image_id=NEW_IMAGE)}],
                             env={"ALICLOUD_RETRIES": "3", "ALICLOUD_RETRY_MAX_DELAY": "0.1"})

    assert refused["failed"] is True and refused["error"]["operation"] == "StartExecution", refused.get("msg")
    assert len([c for c in emulator.calls() if c["action"] == "StartExecution"]) == 3
    assert rollout_executions(emulator) == []


def test_role_rollout_with_canary_and_health_gate_survives_faults(emulator, tmp_path):
    # Every API gets every fault; the first approve's answer is lost on top (it landed: it must not be re-sent).
    # About one call in eight fails, so the run has the module test's retry budget, given as a job template would.
    emulator.set_faults(dict(EVERY_FAULT, error_rate={"default": 0.08, "NotifyExecution": 0.3},
                             drop_rate={"default": 0.05, "NotifyExecution": 0.2},
                             lost_responses={"StartExecution": 1, "NotifyExecution": 1}))
    health_url = emulator.url + "/_emulator/instances/{instance_id}/health"
    run = run_playbook(emulator, repo_path("playbooks", "update_image.yml"), [
        "-e", '{"scaling_group_id": "%s", "image_id": "%s", "canary": true, "health_url": "%s", "poll_interval": 0.3, '
              '"health_delay": 1, "health_deadline": 5}' % (GROUP, NEW_IMAGE, health_url)],
        env={"ALICLOUD_RETRIES": str(PATIENT["retries"]), "ALICLOUD_RETRY_MAX_DELAY": str(PATIENT["retry_max_delay"])})
    calls = record(emulator)
    text = run.stdout + run.stderr

    assert run.returncode == 0, text[-5000:]
    assert crash_markers(text) == []
    assert {c["fault"] for c in calls} >= FAULT_KINDS, {c["fault"] for c in calls}
    [execution] = rollout_executions(emulator)
    assert execution["status"] == "Success"
    assert_rolled_to_new_image(emulator)
    assert group_state(emulator)["scaling_configuration"]["image_id"] != OLD_IMAGE
    summary.add(rollouts_completed=1)
