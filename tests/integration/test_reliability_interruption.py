"""Issue 6, interruption: the controller (the ansible-playbook process group) is killed with SIGKILL at several
points; running the same playbook again finishes the job without a second rollout, and leaves the scaling
processes and Standby as they must be.
"""
import os
import signal
import subprocess
import time

import pytest

from support.reliability import summary
from support.reliability.common import (GROUP, NEW_IMAGE, OLD_IMAGE, BAD_IMAGE, crash_markers, group_state,
                                        rollout_executions, repo_path)
from support.playbook import ANSIBLE_PLAYBOOK, ROOT, ansible_env

KILL_DEADLINE_S = 180
RUN_TIMEOUT_S = 300
SPEED = 60  # slow enough that a rollout lasts a few real seconds, so a kill lands inside it


@pytest.fixture(autouse=True)
def summary_table(request):
    summary.install(request.config)


def command(emulator, image, canary=False):
    health_url = emulator.url + "/_emulator/instances/{instance_id}/health"
    extra = ('{"scaling_group_id": "%s", "image_id": "%s", "canary": %s, "health_url": "%s", "poll_interval": 0.3, '
             '"health_delay": 1, "health_deadline": 3}' % (GROUP, image, "true" if canary else "false", health_url))
    return [ANSIBLE_PLAYBOOK, repo_path("playbooks", "update_image.yml"), "-e", extra]


def run_and_kill_when(emulator, argv, condition, delay_s=0.0):
    """Start the playbook in its own process group; SIGKILL the group once ``condition(emulator)`` holds."""
    process = subprocess.Popen(argv, env=ansible_env(emulator), cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + KILL_DEADLINE_S
    try:
        while not condition(emulator):
            assert process.poll() is None, "the playbook ended before the kill point:\n" + process.stdout.read()[-3000:]
            assert time.monotonic() < deadline, "the kill point was never reached"
            time.sleep(0.05)
        time.sleep(delay_s)
        killed_at = time.time()
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
    return killed_at


def rerun(emulator, argv):
    return subprocess.run(argv, env=ansible_env(emulator), cwd=ROOT, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)


def calls_of(emulator, action, status=None):
    return [c for c in emulator.calls(action=action) if status is None or c["status"] == status]


def after_suspend(action, nth=1):
    """True once the role suspended the processes and then made its ``nth`` `action` call."""
    def condition(emulator):
        calls = emulator.calls()
        suspended = [c["index"] for c in calls if c["action"] == "SuspendProcesses" and c["status"] == 200]
        return bool(suspended) and len([c for c in calls if c["action"] == action
                                        and c["index"] > suspended[0]]) >= nth
    return condition


def execution_where(predicate, invoke_type="invoke"):
    return lambda emulator: any(predicate(e) for e in rollout_executions(emulator, invoke_type))


def assert_group_clean(emulator, image, text=""):
    group = group_state(emulator)
    assert group["suspended_processes"] == [], text[-6000:]
    assert group["scaling_configuration"]["image_id"] == image
    assert {i["image_id"] for i in group["instances"]} == {image}
    assert {i["lifecycle_state"] for i in group["instances"]} == {"InService"}
    assert group["suspended_processes"] == []


def finish_and_check_one_rollout(emulator, argv):
    run = rerun(emulator, argv)
    text = run.stdout + run.stderr
    summary.add(executions_created=len(rollout_executions(emulator)))
    assert run.returncode == 0, text[-5000:]
    assert crash_markers(text) == []
    [execution] = rollout_executions(emulator, "invoke")
    assert execution["status"] == "Success"
    assert rollout_executions(emulator, "rollback") == []
    assert_group_clean(emulator, NEW_IMAGE, text)
    summary.add(rollouts_completed=1)
    return text


def test_killed_while_start_execution_is_in_flight(emulator):
    """The request reaches OOS, but the controller dies before the answer: the re-run adopts that execution."""
    emulator.load_world(speed=SPEED)
    emulator.set_faults({"latency_ms": {"StartExecution": 4000}})
    argv = command(emulator, NEW_IMAGE)
    # The suspend reads the group back, then the launch reads it once and sends StartExecution (4 s to answer).
    killed_at = run_and_kill_when(emulator, argv, after_suspend("DescribeScalingGroups", nth=2), delay_s=1.5)
    time.sleep(3.5)  # the in-flight StartExecution completes on the server after the controller died
    [start] = calls_of(emulator, "StartExecution")
    assert start["status"] == 200 and start["fault"] == "latency"
    assert len(rollout_executions(emulator, "invoke")) == 1
    emulator.set_faults({"latency_ms": None})

    finish_and_check_one_rollout(emulator, argv)
    assert len(calls_of(emulator, "StartExecution", 200)) <= 2  # a retried start may only adopt the first
    assert killed_at


def test_killed_mid_wait(emulator):
    emulator.load_world(speed=SPEED)
    argv = command(emulator, NEW_IMAGE)
    run_and_kill_when(emulator, argv, execution_where(lambda e: e["status"] == "Running" and e.get("current_batch")))
    assert group_state(emulator)["suspended_processes"]  # the killed run never resumed them
    finish_and_check_one_rollout(emulator, argv)


def test_killed_during_a_batch_pause(emulator):
    emulator.load_world(speed=SPEED)
    argv = command(emulator, NEW_IMAGE, canary=True)
    run_and_kill_when(emulator, argv, execution_where(lambda e: e.get("waiting_status") == "BatchPause"))
    finish_and_check_one_rollout(emulator, argv)


def test_killed_during_the_rollback(emulator):
    emulator.load_world(speed=SPEED)
    emulator.set_faults({"unhealthy_images": [BAD_IMAGE]})
    argv = command(emulator, BAD_IMAGE, canary=True)
    run_and_kill_when(emulator, argv, execution_where(lambda e: e["status"] in ("Running", "Started", "Queued"),
                                                      invoke_type="rollback"))
    run = rerun(emulator, argv)
    text = run.stdout + run.stderr
    summary.add(executions_created=len(rollout_executions(emulator)))

    assert crash_markers(text) == []
    # The bad image is not rolled out a second time; the one rollback finishes; the group is as before.
    [invoke] = rollout_executions(emulator, "invoke")
    assert invoke["status"] in ("Cancelled", "Failed")
    rollbacks = rollout_executions(emulator, "rollback")
    assert [r["status"] for r in rollbacks] == ["Success"], rollbacks
    assert_group_clean(emulator, OLD_IMAGE)


def test_killed_after_suspending_before_the_start_was_sent(emulator):
    emulator.load_world(speed=SPEED)
    emulator.set_faults({"latency_ms": {"ListExecutions": 3000}})
    argv = command(emulator, NEW_IMAGE)
    run_and_kill_when(emulator, argv, after_suspend("DescribeScalingGroups"), delay_s=0.5)
    assert calls_of(emulator, "StartExecution") == []
    assert group_state(emulator)["suspended_processes"]
    emulator.set_faults({"latency_ms": None})
    finish_and_check_one_rollout(emulator, argv)
