"""Issue 6, failure: a script or image failure in any batch leads to a rollback; afterwards no instance is in
Standby, no process is suspended that was not before, the scaling configuration is on the source image, and the
role's result holds the execution ids of both the rollout and the rollback.
"""
import json
import threading
import time

import pytest

from support.reliability import summary
from support.reliability.common import (GROUP, NEW_IMAGE, OLD_IMAGE, crash_markers, group_state, rollout_executions,
                                        run_playbook, world, write_playbook)

SUSPENDED_BY_USER = ["AlarmNotification"]
# 4 instances in 3 batches: [0, 1], [2], [3] (the template takes the group's order; remainder first).
BATCH_OF_INDEX = {1: 0, 2: 2, 3: 3}
CASES = [("script", 1), ("image", 2), ("script", 3)]


@pytest.fixture(autouse=True)
def summary_table(request):
    summary.install(request.config)


def clear_faults_once_the_rollout_failed(emulator, stop):
    """The step fault hits the rollout only (a rollback replaces the disk again and must be able to)."""
    while not stop.is_set():
        if any(e["status"] == "Failed" for e in rollout_executions(emulator, "invoke")):
            emulator.set_faults({"failing_instances": None})
            return
        time.sleep(0.05)


def role_play(results_path, role_vars):
    """The role as the shipped playbooks call it, plus a rescue that saves rolling_update_result."""
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [{"block": [
        {"ansible.builtin.include_role": {"name": "alicloud.rollout.rolling_update"}, "vars": role_vars}],
        "always": [{"ansible.builtin.copy": {"dest": str(results_path),
                                             "content": "{{ rolling_update_result | default({}) | to_json }}"}}]}]}]


@pytest.mark.parametrize("kind,batch", CASES, ids=["%s fails in batch %d" % case for case in CASES])
def test_failure_in_any_batch_is_rolled_back_and_the_group_is_left_clean(emulator, tmp_path, kind, batch):
    emulator.load_world(world(suspended_processes=SUSPENDED_BY_USER))
    instances = [i["id"] for i in group_state(emulator)["instances"]]
    failing = instances[BATCH_OF_INDEX[batch]]
    role_vars = {"rolling_update_scaling_group_id": GROUP, "rolling_update_batch_number": 3,
                 "rolling_update_poll_interval": 0.3}
    if kind == "script":
        role_vars["rolling_update_script"] = 'if [ "$INSTANCE_ID" = "%s" ]; then echo broken; exit 3; fi' % failing
        role_vars["rolling_update_rollback_script"] = "echo restored"
    else:
        emulator.set_faults({"failing_instances": {failing: "ReplaceSystemDisk"}})
        role_vars["rolling_update_image_id"] = NEW_IMAGE
    results_path = tmp_path / "result.json"
    stop = threading.Event()
    watcher = threading.Thread(target=clear_faults_once_the_rollout_failed, args=(emulator, stop), daemon=True)
    if kind == "image":
        watcher.start()
    try:
        run = run_playbook(emulator, write_playbook(tmp_path / "play.yml", role_play(results_path, role_vars)),
                           cwd=tmp_path)
    finally:
        stop.set()
        if watcher.is_alive():
            watcher.join(timeout=5)
    text = run.stdout + run.stderr
    result = json.loads(results_path.read_text())
    summary.add(executions_created=len(rollout_executions(emulator)))

    assert run.returncode != 0, text[-4000:]
    assert crash_markers(text) == []
    assert result.get("failed") is True, text[-4000:]
    [invoke] = rollout_executions(emulator, "invoke")
    [rollback] = rollout_executions(emulator, "rollback")
    assert result["execution_id"] == invoke["id"]
    assert result["rollback_execution_id"] == rollback["id"]
    assert rollback["parameters"]["sourceExecutionId"] == invoke["id"]
    assert rollback["status"] == "Success" and result["rolled_back"] is True
    assert failing in text
    group = group_state(emulator)
    assert {i["lifecycle_state"] for i in group["instances"]} == {"InService"}
    assert sorted(group["suspended_processes"]) == SUSPENDED_BY_USER
    assert group["scaling_configuration"]["image_id"] == OLD_IMAGE
    assert {i["image_id"] for i in group["instances"]} == {OLD_IMAGE}
