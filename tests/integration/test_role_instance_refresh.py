"""The role alicloud.rollout.rolling_update with rolling_update_strategy=instance_refresh, through
playbooks/update_image.yml against the emulator.

Each test runs a real `ansible-playbook` subprocess and asserts the emulator's state and call log afterwards.
"""
import copy
import json
import os
import signal
import subprocess
import time

import yaml
from alibabacloud_ess20220222 import models as ess_models

from emulator_harness import REGION, read_world
from playbook_runner import ANSIBLE_PLAYBOOK, ROOT, ansible_env, mutating_calls, run_tasks

GROUP = "asg-bp1demo0000000001"
OLD_IMAGE = "m-bp1oldimage0000001"
NEW_IMAGE = "m-bp1newimage0000002"
BAD_IMAGE = "m-bp1badimage0000003"
PLAYBOOK_TIMEOUT_S = 240
WAIT_DEADLINE_S = 180  # bound for a background run to reach a state (slow on a busy 2-core machine)
# 2 days simulated = 288 s real at the emulator's speed 600: a checkpoint pause never ends by itself in a test.
LONG_PAUSE_MINUTES = 2880
FAST = {"poll_interval": 0.2, "health_delay": 1, "health_deadline": 2, "rollout_strategy": "instance_refresh"}


def playbook_command(extra_vars):
    return [ANSIBLE_PLAYBOOK, os.path.join(ROOT, "playbooks", "update_image.yml"), "-e", json.dumps(extra_vars)]


def variables(**extra_vars):
    found = dict(FAST, scaling_group_id=GROUP, image_id=NEW_IMAGE)
    found.update(extra_vars)
    return found


def run_playbook(emulator, **extra_vars):
    return subprocess.run(playbook_command(variables(**extra_vars)), env=ansible_env(emulator), cwd=ROOT,
                          capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT_S)


def start_playbook(emulator, **extra_vars):
    return subprocess.Popen(playbook_command(variables(**extra_vars)), env=ansible_env(emulator), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def health_url(emulator):
    return emulator.url + "/_emulator/instances/{instance_id}/health"


def output(run):
    return run.stdout + run.stderr


def group_state(emulator):
    return next(g for g in emulator.state()["scaling_groups"] if g["id"] == GROUP)


def images(emulator):
    return sorted(i["image_id"] for i in group_state(emulator)["instances"])


def refreshes(emulator):
    return emulator.state()["instance_refreshes"]


def calls_of(emulator, action):
    return emulator.calls(action=action)


def assert_group_clean(group):
    """The refresh strategy suspends nothing and puts nothing in Standby."""
    assert group["suspended_processes"] == []
    assert {i["lifecycle_state"] for i in group["instances"]} == {"InService"}


def assert_failed_and_rolled_back(emulator, run):
    """The play failed, its one refresh was rolled back and the group is as before it; returns the refresh id."""
    assert run.returncode != 0
    [refresh] = refreshes(emulator)
    assert refresh["Status"] == "RollbackSuccessful"
    assert images(emulator) == [OLD_IMAGE] * 4
    group = group_state(emulator)
    assert group["scaling_configuration"]["image_id"] == OLD_IMAGE
    assert_group_clean(group)
    return refresh["InstanceRefreshTaskId"]


def wait_for_refresh(emulator, statuses, process):
    deadline = time.monotonic() + WAIT_DEADLINE_S
    while time.monotonic() < deadline and process.poll() is None:
        found = [r for r in refreshes(emulator) if r["Status"] in statuses]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError("no refresh reached %s (playbook exit code %s): %s" % (
        statuses, process.poll(), process.stdout.read() if process.poll() is not None else "still running"))


def kill(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()


def write_health_tasks(tmp_path, failing_stage):
    path = tmp_path / "health.yml"
    path.write_text(
        "- name: Judge the %s instances\n"
        "  ansible.builtin.assert:\n"
        "    that: rolling_update_health_stage != '%s'\n"
        "    fail_msg: \"user gate: {{ rolling_update_health_instances | map(attribute='instance_id') | join(',') }}"
        " are not serving\"\n" % (failing_stage, failing_stage))
    return str(path)


def test_refresh_replaces_every_instance_and_a_rerun_does_nothing(emulator):
    before = {i["id"] for i in group_state(emulator)["instances"]}

    run = run_playbook(emulator, health_url=health_url(emulator))

    assert run.returncode == 0, output(run)
    [refresh] = refreshes(emulator)
    assert refresh["Status"] == "Successful"
    text = output(run)
    assert "Instance refresh %s: Successful" % refresh["InstanceRefreshTaskId"] in text
    assert "final passed (4 instance(s)" in text
    # Two batches: half the capacity stays in service, the group does not grow.
    assert refresh["MinHealthyPercentage"] == 50 and refresh["MaxHealthyPercentage"] == 100
    assert refresh["Checkpoints"] == []
    group = group_state(emulator)
    assert images(emulator) == [NEW_IMAGE] * 4
    assert not before & {i["id"] for i in group["instances"]}
    assert group["scaling_configuration"]["image_id"] == NEW_IMAGE
    assert_group_clean(group)
    assert calls_of(emulator, "SuspendProcesses") == [] and calls_of(emulator, "EnterStandby") == []

    again = run_playbook(emulator)

    assert again.returncode == 0, output(again)
    assert "nothing to do, already up to date" in output(again)
    assert len(refreshes(emulator)) == 1


def test_canary_checkpoint_with_a_healthy_gate_resumes_and_finishes(emulator):
    run = run_playbook(emulator, canary=True, health_url=health_url(emulator),
                       refresh_checkpoint_pause_time=LONG_PAUSE_MINUTES)

    assert run.returncode == 0, output(run)
    [refresh] = refreshes(emulator)
    assert refresh["Status"] == "Successful"
    assert [c["Percentage"] for c in refresh["Checkpoints"]] == [50, 100]
    assert refresh["CheckpointPauseTime"] == LONG_PAUSE_MINUTES
    text = output(run)
    assert "CheckpointPause (2 of 4 instances refreshed)" in text
    assert "batch passed (2 instance(s)" in text
    assert "final passed (4 instance(s)" in text
    assert len(calls_of(emulator, "ResumeInstanceRefresh")) == 1
    assert images(emulator) == [NEW_IMAGE] * 4
    assert_group_clean(group_state(emulator))


def test_pause_every_batch_gates_each_checkpoint(emulator):
    run = run_playbook(emulator, pause_every_batch=True, batch_number=4, health_url=health_url(emulator),
                       refresh_checkpoint_pause_time=LONG_PAUSE_MINUTES)

    assert run.returncode == 0, output(run)
    [refresh] = refreshes(emulator)
    assert [c["Percentage"] for c in refresh["Checkpoints"]] == [25, 50, 75, 100]
    assert refresh["MinHealthyPercentage"] == 75
    assert output(run).count("batch passed (") == 3
    assert len(calls_of(emulator, "ResumeInstanceRefresh")) == 3
    assert images(emulator) == [NEW_IMAGE] * 4


def test_unhealthy_checkpoint_gate_rolls_the_refresh_back_and_fails_the_play(emulator, tmp_path):
    run = run_playbook(emulator, canary=True, health_tasks=write_health_tasks(tmp_path, "batch"),
                       refresh_checkpoint_pause_time=LONG_PAUSE_MINUTES)

    refresh_id = assert_failed_and_rolled_back(emulator, run)
    text = output(run)
    assert "user gate:" in text and "are not serving" in text
    assert "by instance refresh %s failed in task" % refresh_id in text
    assert "Rolled back by instance refresh %s (RollbackSuccessful)" % refresh_id in text
    assert "Scaling configuration image: %s" % OLD_IMAGE in text
    assert calls_of(emulator, "ResumeInstanceRefresh") == []

    # The same playbook again does not repeat the rolled-back refresh unless asked to.
    again = run_playbook(emulator, canary=True, refresh_checkpoint_pause_time=LONG_PAUSE_MINUTES)

    assert again.returncode != 0
    assert "(%s) was rolled back (RollbackSuccessful)" % refresh_id in output(again)
    assert "rolling_update_retry_after_rollback=true" in output(again)
    assert len(refreshes(emulator)) == 1


def test_image_failing_the_ess_health_check_is_rolled_back_and_fails_the_play(emulator):
    emulator.set_faults({"unhealthy_images": [BAD_IMAGE]})

    run = run_playbook(emulator, image_id=BAD_IMAGE, canary=True, health_url=health_url(emulator),
                       refresh_checkpoint_pause_time=LONG_PAUSE_MINUTES)

    refresh_id = assert_failed_and_rolled_back(emulator, run)
    text = output(run)
    assert "ended Failed" in text and "did not pass the health check" in text
    assert "Rolled back by instance refresh %s (RollbackSuccessful)" % refresh_id in text


def test_refresh_cancelled_from_outside_fails_clearly_and_is_not_rolled_back(emulator):
    # Slow enough (a wave takes 3 s real) that the cancel arrives while the role waits for the refresh.
    emulator.load_world(speed=20)
    process = start_playbook(emulator)
    try:
        running = wait_for_refresh(emulator, ("InProgress",), process)
        emulator.ess_client().cancel_instance_refresh(ess_models.CancelInstanceRefreshRequest(
            region_id=REGION, scaling_group_id=GROUP, instance_refresh_task_id=running["InstanceRefreshTaskId"]))
        text, _ = process.communicate(timeout=PLAYBOOK_TIMEOUT_S)
    finally:
        kill(process)

    assert process.returncode != 0, text
    [refresh] = refreshes(emulator)
    assert refresh["Status"] == "Cancelled"
    assert "cancelled from outside this role (status Cancelled)" in text
    assert "Run the playbook again to finish the rollout" in text
    assert "state=rolled_back task_id=%s" % refresh["InstanceRefreshTaskId"] in text
    # The operator's cancel stands: no rollback, no second refresh; ESS keeps the old configuration.
    assert calls_of(emulator, "RollbackInstanceRefresh") == []
    assert group_state(emulator)["scaling_configuration"]["image_id"] == OLD_IMAGE
    assert_group_clean(group_state(emulator))


def test_killed_controller_rerun_adopts_the_refresh_and_finishes(emulator):
    extra = dict(canary=True, health_url=health_url(emulator), refresh_checkpoint_pause_time=LONG_PAUSE_MINUTES)
    process = start_playbook(emulator, **extra)
    try:
        paused = wait_for_refresh(emulator, ("CheckpointPause",), process)
    finally:
        kill(process)

    run = run_playbook(emulator, **extra)

    assert run.returncode == 0, output(run)
    text = output(run)
    assert "Plan: instance refresh adopted %s (CheckpointPause)" % paused["InstanceRefreshTaskId"] in text
    assert "Instance refresh %s (adopted): Successful" % paused["InstanceRefreshTaskId"] in text
    [refresh] = refreshes(emulator)
    assert refresh["InstanceRefreshTaskId"] == paused["InstanceRefreshTaskId"] and refresh["Status"] == "Successful"
    assert len(calls_of(emulator, "StartInstanceRefresh")) == 1
    assert images(emulator) == [NEW_IMAGE] * 4
    assert_group_clean(group_state(emulator))


def test_killed_during_the_rollback_rerun_waits_for_it_and_does_not_refresh_again(emulator, tmp_path):
    # Slow enough (a wave takes 3 s real) that the kill lands while ESS rolls back.
    emulator.load_world(speed=20)
    extra = dict(canary=True, health_tasks=write_health_tasks(tmp_path, "batch"),
                 refresh_checkpoint_pause_time=LONG_PAUSE_MINUTES)
    process = start_playbook(emulator, **extra)
    try:
        rolling_back = wait_for_refresh(emulator, ("RollbackInProgress",), process)
    finally:
        kill(process)

    run = run_playbook(emulator, **extra)

    assert assert_failed_and_rolled_back(emulator, run) == rolling_back["InstanceRefreshTaskId"]
    assert "(%s) was rolled back (RollbackSuccessful)" % rolling_back["InstanceRefreshTaskId"] in output(run)
    assert len(calls_of(emulator, "RollbackInstanceRefresh")) == 1


def test_ineligible_group_fails_in_the_preflight_with_the_reason_and_changes_nothing(emulator):
    world = read_world(None)
    world["scaling_groups"][0].update(copy.deepcopy({"scaling_policy": "recycle"}))
    emulator.load_world(world)

    run = run_playbook(emulator)

    assert run.returncode != 0
    text = output(run)
    assert "cannot use instance refresh" in text and "Economical Mode" in text
    assert mutating_calls(emulator) == []
    assert refreshes(emulator) == []


def test_unknown_strategy_and_script_with_instance_refresh_are_refused_before_any_call(emulator, tmp_path):
    unknown = run_playbook(emulator, rollout_strategy="blue_green")
    assert unknown.returncode != 0
    assert "rolling_update_strategy" in output(unknown) and "blue_green" in output(unknown)

    play = [{"hosts": "localhost", "gather_facts": False, "roles": [{
        "role": "alicloud.rollout.rolling_update",
        "vars": {"rolling_update_scaling_group_id": GROUP, "rolling_update_script": "true",
                 "rolling_update_strategy": "instance_refresh"}}]}]
    playbook = tmp_path / "script.yml"
    playbook.write_text(yaml.safe_dump(play))
    script = subprocess.run([ANSIBLE_PLAYBOOK, str(playbook)], env=ansible_env(emulator), cwd=str(tmp_path),
                            capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT_S)
    assert script.returncode != 0
    assert "rolls out an image only" in output(script)
    assert emulator.calls() == []


def test_oos_strategy_refuses_a_group_with_a_refresh_in_flight(emulator):
    process = start_playbook(emulator, canary=True, refresh_checkpoint_pause_time=LONG_PAUSE_MINUTES)
    try:
        paused = wait_for_refresh(emulator, ("CheckpointPause",), process)
    finally:
        kill(process)
    before = len(mutating_calls(emulator))

    run = run_playbook(emulator, rollout_strategy="oos_template")

    assert run.returncode != 0
    assert "is in flight: instance refresh %s (CheckpointPause)" % paused["InstanceRefreshTaskId"] in output(run)
    assert len(mutating_calls(emulator)) == before
    assert group_state(emulator)["suspended_processes"] == []


def test_refresh_strategy_refuses_a_group_with_an_oos_rollout_in_flight(emulator, tmp_path):
    other = run_tasks(emulator, tmp_path, [{"alicloud.rollout.ess_rolling_update": {
        "scaling_group_id": GROUP, "image_id": NEW_IMAGE, "batch_number": 2,
        "batch_pause_option": "FirstBatchPause", "poll_interval": 0.3}}])[0]
    assert other["paused"] is True
    before = len(mutating_calls(emulator))

    run = run_playbook(emulator)

    assert run.returncode != 0
    assert "is in flight: OOS execution %s" % other["execution_id"] in output(run)
    assert len(mutating_calls(emulator)) == before
    assert refreshes(emulator) == []
