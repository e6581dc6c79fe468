"""The role alicloud.rollout.rolling_update through the playbooks in playbooks/, against the emulator.

Each test runs a real `ansible-playbook` subprocess and asserts the emulator's state afterwards.
"""
import copy
import json
import os
import signal
import subprocess
import time

from emulator_harness import read_world
from playbook_runner import ANSIBLE_PLAYBOOK, ROOT, ansible_env, run_tasks

GROUP = "asg-bp1demo0000000001"
OLD_IMAGE = "m-bp1oldimage0000001"
NEW_IMAGE = "m-bp1newimage0000002"
BAD_IMAGE = "m-bp1badimage0000003"
ROLLOUT_TEMPLATES = ("ACS-ESS-RollingUpdateByReplaceSystemDiskInScalingGroup",
                     "ACS-ESS-RollingUpdateByRunCommandInScalingGroup",
                     "ACS-ESS-RollingUpdateByConfigureOOSPackage")
PLAYBOOK_TIMEOUT_S = 240
START_DEADLINE_S = 180  # bound for the first run to reach StartExecution (slow on a busy 2-core machine)
FAST = {"poll_interval": 0.3, "health_delay": 1, "health_deadline": 2}


def playbook_command(name, extra_vars):
    return [ANSIBLE_PLAYBOOK, os.path.join(ROOT, "playbooks", name), "-e", json.dumps(extra_vars)]


def run_playbook(emulator, name, **extra_vars):
    variables = dict(FAST, scaling_group_id=GROUP)
    variables.update(extra_vars)
    return subprocess.run(playbook_command(name, variables), env=ansible_env(emulator), cwd=ROOT,
                          capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT_S)


def health_url(emulator):
    return emulator.url + "/_emulator/instances/{instance_id}/health"


def group_state(emulator):
    return next(g for g in emulator.state()["scaling_groups"] if g["id"] == GROUP)


def rollouts(emulator, invoke_type=None):
    found = [e for e in emulator.state()["executions"] if e.get("template_name") in ROLLOUT_TEMPLATES]
    if invoke_type:
        found = [e for e in found if (e.get("parameters") or {}).get("invokeType") == invoke_type]
    return found


def assert_group_clean(group, processes_before=()):
    assert sorted(group["suspended_processes"]) == sorted(processes_before)
    assert {i["lifecycle_state"] for i in group["instances"]} == {"InService"}


def world_with(**group_changes):
    world = read_world(None)
    world["scaling_groups"][0].update(copy.deepcopy(group_changes))
    return world


def output(run):
    return run.stdout + run.stderr


def test_image_canary_with_a_passing_health_gate_completes(emulator):
    run = run_playbook(emulator, "update_image.yml", image_id=NEW_IMAGE, canary=True, health_url=health_url(emulator))

    assert run.returncode == 0, output(run)
    text = output(run)
    assert "batch 1 of 2 [Success]" in text
    assert "batch passed (2 instance(s)" in text
    assert "final passed (4 instance(s)" in text
    group = group_state(emulator)
    assert group["scaling_configuration"]["image_id"] == NEW_IMAGE
    assert {i["image_id"] for i in group["instances"]} == {NEW_IMAGE}
    assert_group_clean(group)
    [execution] = rollouts(emulator)
    assert execution["status"] == "Success"
    assert execution["parameters"]["batchPauseOption"] == "FirstBatchPause"


def test_script_rollout_runs_everywhere_and_keeps_the_processes_the_user_had_suspended(emulator):
    emulator.load_world(world_with(suspended_processes=["ScaleIn", "HealthCheck"]))

    run = run_playbook(emulator, "run_script.yml", script="echo updated > marker", batch_number=3)

    assert run.returncode == 0, output(run)
    text = output(run)
    assert "batch 3 of 3 [Success]" in text
    assert "Processes resumed: ScaleOut, AlarmNotification, ScheduledAction;" in text
    group = group_state(emulator)
    assert {i["last_script_exit_code"] for i in group["instances"]} == {0}
    assert {i["image_id"] for i in group["instances"]} == {OLD_IMAGE}
    assert_group_clean(group, processes_before=["ScaleIn", "HealthCheck"])
    [execution] = rollouts(emulator)
    assert execution["status"] == "Success"


def test_package_rollout_installs_the_version_everywhere(emulator):
    run = run_playbook(emulator, "install_package.yml", package_name="nginx", package_version="1.26.1",
                       pause_every_batch=True, health_url=health_url(emulator))

    assert run.returncode == 0, output(run)
    group = group_state(emulator)
    assert all("nginx@1.26.1" in i["packages"] for i in group["instances"])
    assert_group_clean(group)
    [execution] = rollouts(emulator)
    assert execution["status"] == "Success"


def test_unhealthy_new_image_is_rolled_back_and_the_play_fails_with_a_summary(emulator):
    emulator.set_faults({"unhealthy_images": [BAD_IMAGE]})

    run = run_playbook(emulator, "update_image.yml", image_id=BAD_IMAGE, canary=True, health_url=health_url(emulator))

    assert run.returncode != 0
    text = output(run)
    assert "Health gate (batch) failed: 2 of 2 instance(s)" in text
    assert "Rolled back by execution" in text and "(Success)" in text
    assert "Scaling configuration image: %s" % OLD_IMAGE in text
    group = group_state(emulator)
    assert group["scaling_configuration"]["image_id"] == OLD_IMAGE
    assert {i["image_id"] for i in group["instances"]} == {OLD_IMAGE}
    assert_group_clean(group)
    [invoke] = rollouts(emulator, "invoke")
    assert invoke["status"] == "Cancelled"
    [rollback] = rollouts(emulator, "rollback")
    assert rollback["status"] == "Success"
    assert rollback["parameters"]["sourceExecutionId"] == invoke["id"]


def test_script_failing_on_one_instance_of_batch_two_is_rolled_back_and_nothing_stays_in_standby(emulator):
    instances = [i["id"] for i in group_state(emulator)["instances"]]
    failing = instances[-1]  # the template takes instances in the group's order: the last one is in batch 2
    script = 'if [ "$INSTANCE_ID" = "%s" ]; then echo broken; exit 3; fi; echo v2 > version' % failing

    run = run_playbook(emulator, "run_script.yml", script=script, rollback_script="echo v1 > version")

    assert run.returncode != 0
    text = output(run)
    assert failing in text
    assert "Rolled back by execution" in text
    group = group_state(emulator)
    assert_group_clean(group)
    [invoke] = rollouts(emulator, "invoke")
    assert invoke["status"] == "Failed"
    [rollback] = rollouts(emulator, "rollback")
    assert rollback["status"] == "Success"
    assert {i["last_script_exit_code"] for i in group["instances"]} == {0}


def test_without_rollback_the_instance_a_failed_script_left_in_standby_is_taken_back(emulator):
    failing = group_state(emulator)["instances"][0]["id"]
    script = 'if [ "$INSTANCE_ID" = "%s" ]; then exit 4; fi' % failing

    run = run_playbook(emulator, "run_script.yml", script=script, rollback=False)

    assert run.returncode != 0
    text = output(run)
    assert "Not rolled back (rolling_update_rollback_on_failure=false)" in text
    assert "Instances taken out of Standby: %s" % failing in text
    assert rollouts(emulator, "rollback") == []
    [invoke] = rollouts(emulator, "invoke")
    assert invoke["status"] == "Failed"
    assert_group_clean(group_state(emulator))


def test_another_rollout_in_flight_stops_the_preflight_and_is_left_alone(emulator, tmp_path):
    other = run_tasks(emulator, tmp_path, [{"alicloud.rollout.ess_rolling_update": {
        "scaling_group_id": GROUP, "image_id": NEW_IMAGE, "batch_number": 2,
        "batch_pause_option": "FirstBatchPause", "poll_interval": 0.3}}])[0]
    assert other["paused"] is True
    suspended_during_other = group_state(emulator)["suspended_processes"]

    run = run_playbook(emulator, "run_script.yml", script="true")

    assert run.returncode != 0
    assert "Another rollout of scaling group %s is in flight" % GROUP in output(run)
    [execution] = rollouts(emulator)
    assert execution["id"] == other["execution_id"] and execution["status"] == "Waiting"
    assert group_state(emulator)["suspended_processes"] == suspended_during_other


def test_killed_controller_rerun_adopts_the_execution_and_finishes(emulator):
    variables = dict(FAST, scaling_group_id=GROUP, image_id=NEW_IMAGE, canary=True, health_url=health_url(emulator))
    process = subprocess.Popen(playbook_command("update_image.yml", variables), env=ansible_env(emulator), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while not rollouts(emulator) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    [interrupted] = rollouts(emulator)
    assert interrupted["status"] in ("Started", "Running", "Waiting")
    assert group_state(emulator)["suspended_processes"]  # the killed run never got to resume them

    run = run_playbook(emulator, "update_image.yml", image_id=NEW_IMAGE, canary=True, health_url=health_url(emulator))

    assert run.returncode == 0, output(run)
    assert "Plan: adopt execution %s" % interrupted["id"] in output(run)
    [execution] = rollouts(emulator)
    assert execution["id"] == interrupted["id"] and execution["status"] == "Success"
    group = group_state(emulator)
    assert {i["image_id"] for i in group["instances"]} == {NEW_IMAGE}
    assert_group_clean(group)


def test_rerun_after_the_execution_ended_unwatched_resumes_what_the_killed_run_suspended(emulator):
    emulator.load_world(world_with(suspended_processes=["ScheduledAction"]))
    variables = dict(FAST, scaling_group_id=GROUP, script="true")
    process = subprocess.Popen(playbook_command("run_script.yml", variables), env=ansible_env(emulator), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while not rollouts(emulator) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert rollouts(emulator), "the first run never started its execution (exit code %s)" % process.returncode
    deadline = time.monotonic() + START_DEADLINE_S
    while rollouts(emulator)[0]["status"] not in ("Success", "Failed", "Cancelled") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rollouts(emulator)[0]["status"] == "Success"
    assert len(group_state(emulator)["suspended_processes"]) == 5  # nobody resumed them

    run = run_playbook(emulator, "run_script.yml", script="true")

    assert run.returncode == 0, output(run)
    assert_group_clean(group_state(emulator), processes_before=["ScheduledAction"])


def test_rollback_playbook_undoes_a_paused_image_rollout(emulator, tmp_path):
    paused = run_tasks(emulator, tmp_path, [{"alicloud.rollout.ess_rolling_update": {
        "scaling_group_id": GROUP, "image_id": NEW_IMAGE, "batch_number": 2,
        "batch_pause_option": "FirstBatchPause", "poll_interval": 0.3}}])[0]
    assert paused["paused"] is True
    assert {i["image_id"] for i in group_state(emulator)["instances"]} == {OLD_IMAGE, NEW_IMAGE}

    run = run_playbook(emulator, "rollback.yml", execution_id=paused["execution_id"])

    assert run.returncode == 0, output(run)
    assert "Rollback exec-" in output(run)
    group = group_state(emulator)
    assert group["scaling_configuration"]["image_id"] == OLD_IMAGE
    assert {i["image_id"] for i in group["instances"]} == {OLD_IMAGE}
    assert_group_clean(group)
    [invoke] = rollouts(emulator, "invoke")
    assert invoke["status"] == "Cancelled"
    [rollback] = rollouts(emulator, "rollback")
    assert rollback["status"] == "Success"


def test_rerun_after_a_rollback_of_the_same_request_stops_until_a_retry_is_asked_for(emulator):
    emulator.set_faults({"unhealthy_images": [BAD_IMAGE]})
    first = run_playbook(emulator, "update_image.yml", image_id=BAD_IMAGE, canary=True, health_url=health_url(emulator))
    assert first.returncode != 0
    [invoke] = rollouts(emulator, "invoke")
    [rollback] = rollouts(emulator, "rollback")

    again = run_playbook(emulator, "update_image.yml", image_id=BAD_IMAGE, canary=True, health_url=health_url(emulator))

    assert again.returncode != 0
    text = output(again)
    assert "(execution %s) was rolled back by execution %s" % (invoke["id"], rollback["id"]) in text
    assert "rolling_update_retry_after_rollback=true" in text
    assert len(rollouts(emulator, "invoke")) == 1
    assert_group_clean(group_state(emulator))

    retried = run_playbook(emulator, "update_image.yml", image_id=BAD_IMAGE, canary=True,
                           health_url=health_url(emulator), retry_after_rollback=True)

    assert retried.returncode != 0
    assert "Health gate (batch) failed" in output(retried)
    assert len(rollouts(emulator, "invoke")) == 2
    assert group_state(emulator)["scaling_configuration"]["image_id"] == OLD_IMAGE
