"""Issue 12, the role as operators use it (1/2): `--check` first, mistyped inputs, a missing extra var.

Judged on the emulator's call log: none of these runs may make a single mutating call. The runs of one test are
read-only by design, so they share one world and run side by side (a mutating call by any of them fails the test
and is listed).
"""
import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import yaml

from playbook_runner import ANSIBLE_PLAYBOOK, ROOT, ansible_env, mutating_calls, run_tasks

GROUP = "asg-bp1demo0000000001"
OLD_IMAGE = "m-bp1oldimage0000001"
NEW_IMAGE = "m-bp1newimage0000002"
TIMEOUT_S = 300
PARALLEL = 3
FAST = {"poll_interval": 0.3, "health_delay": 1, "health_deadline": 3}


def health_url(emulator):
    return emulator.url + "/_emulator/instances/{instance_id}/health"


def playbook(emulator, name, extra_vars, check=False, diff=False, env=None):
    command = [ANSIBLE_PLAYBOOK, os.path.join(ROOT, "playbooks", name), "-e", json.dumps(extra_vars)]
    command += (["--check"] if check else []) + (["--diff"] if diff else [])
    run = subprocess.run(command, env=ansible_env(emulator, **(env or {})), cwd=ROOT, capture_output=True, text=True,
                         timeout=TIMEOUT_S)
    return run.returncode, run.stdout + run.stderr


def run_side_by_side(emulator, runs):
    """runs: {label: (playbook, extra_vars, check, diff)} -> {label: (rc, output)}."""
    with ThreadPoolExecutor(PARALLEL) as pool:
        futures = dict((label, pool.submit(playbook, emulator, *spec)) for label, spec in runs.items())
        return dict((label, future.result()) for label, future in futures.items())


def finished_script_rollout(emulator, tmp_path):
    """A finished rollout for rollback.yml to plan against (made before the call log is cleared)."""
    done = run_tasks(emulator, tmp_path, [{"alicloud.rollout.ess_rolling_update": {
        "scaling_group_id": GROUP, "invoke_script": "echo v2", "rollback_script": "echo v1", "batch_number": 2}}])[0]
    assert done["status"] == "Success", done
    return done["execution_id"]


def test_check_mode_is_a_plan_on_every_playbook_and_both_strategies(emulator, tmp_path):
    source = finished_script_rollout(emulator, tmp_path)
    emulator.clear_calls()
    before = emulator.state()
    url = health_url(emulator)
    common = dict(FAST, scaling_group_id=GROUP, health_url=url)
    cases = {
        "update_image oos_template canary": ("update_image.yml", dict(common, image_id=NEW_IMAGE, canary=True)),
        "update_image instance_refresh": ("update_image.yml", dict(common, image_id=NEW_IMAGE,
                                                                   rollout_strategy="instance_refresh")),
        "run_script": ("run_script.yml", dict(common, script="echo hello")),
        "install_package": ("install_package.yml", dict(common, package_name="nginx", package_version="1.26.1")),
        "rollback": ("rollback.yml", {"execution_id": source, "poll_interval": 0.3}),
    }
    runs = {}
    for label, (name, extra_vars) in cases.items():
        runs[label + " --check"] = (name, extra_vars, True, False)
        runs[label + " --check --diff"] = (name, extra_vars, True, True)

    results = run_side_by_side(emulator, runs)

    for label, (returncode, text) in results.items():
        assert returncode == 0, "%s:\n%s" % (label, text[-4000:])
    assert mutating_calls(emulator) == []
    after = emulator.state()
    assert after["scaling_groups"] == before["scaling_groups"]
    assert len(after["executions"]) == len(before["executions"])
    for label, (_rc, text) in results.items():
        if label.startswith(("update_image oos", "run_script", "install_package")):
            assert "PLAN only (check mode), nothing changed" in text, label
            assert re.search(r"Batches: 1=\[i-\w+, i-\w+\] 2=\[i-\w+, i-\w+\]", text), label
            to_suspend = re.search(r"Processes to suspend: ([^;]*);", text).group(1)
            assert sorted(to_suspend.split(", ")) == sorted(
                ["ScaleIn", "ScaleOut", "HealthCheck", "AlarmNotification", "ScheduledAction"]), label
            assert "Health gate: skipped: check mode (URL checked, current instances probed)" in text, label
        if label.startswith("update_image oos"):
            assert "Scaling configuration image: %s -> %s" % (OLD_IMAGE, NEW_IMAGE) in text
        if label.startswith("update_image instance_refresh"):
            assert "instance refresh start" in text and "4 instance(s) to replace" in text, text[-3000:]
        if not label.startswith("rollback"):
            # The role's plan is not a change (rollback.yml's module reports what it would change).
            assert re.search(r"localhost\s+: ok=\d+\s+changed=0 ", text), label + text[-1500:]


def bad_runs(emulator):
    url = health_url(emulator)
    image = dict(FAST, scaling_group_id=GROUP, image_id=NEW_IMAGE)
    return {
        "mistyped field": ("update_image.yml", dict(image, health_url=url.replace("{instance_id}", "{instance_ip}"))),
        "mistyped field, refresh": ("update_image.yml", dict(image, rollout_strategy="instance_refresh",
                                                             health_url="http://{ip}:8080/health")),
        "jinja on an undefined attribute": ("update_image.yml",
                                            dict(image, health_url="http://{{ instance.ip }}:8080/health")),
        "not a url": ("update_image.yml", dict(image, health_url="not a url")),
        "negative deadline": ("update_image.yml", dict(image, health_url=url, health_deadline=-5)),
        "zero delay": ("run_script.yml", dict(FAST, scaling_group_id=GROUP, script="true", health_delay=0)),
        "missing image_id": ("update_image.yml", {"scaling_group_id": GROUP}),
        "missing script": ("run_script.yml", {"scaling_group_id": GROUP}),
        "missing package_name": ("install_package.yml", {"scaling_group_id": GROUP}),
        "missing execution_id": ("rollback.yml", {}),
    }


def test_mistyped_inputs_fail_before_any_mutating_call(emulator):
    runs = dict((label, spec + (False, False)) for label, spec in bad_runs(emulator).items())

    results = run_side_by_side(emulator, runs)

    for label, (returncode, text) in results.items():
        assert returncode != 0, "%s:\n%s" % (label, text[-3000:])
    assert mutating_calls(emulator) == []
    text = dict((label, out) for label, (_rc, out) in results.items())
    for label in ("mistyped field", "mistyped field, refresh"):
        assert "rolling_update_health_url uses the unknown field" in text[label], text[label][-3000:]
        assert "{private_ip}, {image_id}, {zone_id}, {lifecycle_state}" in text[label]
    assert "'instance' is undefined" in text["jinja on an undefined attribute"] or \
        "rolling_update_health_url uses the unknown field ip" in text["jinja on an undefined attribute"]
    if "'instance' is undefined" in text["jinja on an undefined attribute"]:
        # Said in our words: the variable, and the fields it takes instead.
        for said in ("health_url (rolling_update_health_url) does not render",
                     "Per-instance fields go in single braces, not Jinja: {private_ip}"):
            assert said in text["jinja on an undefined attribute"]
    assert "which is not an http(s) URL" in text["not a url"] and "rolling_update_health_url" in text["not a url"]
    assert "rolling_update_health_deadline must be more than 0 seconds (got -5)" in text["negative deadline"]
    assert "rolling_update_health_delay must be more than 0 seconds (got 0)" in text["zero delay"]
    assert "needs the extra var(s) image_id" in text["missing image_id"]
    assert "needs the extra var(s) script" in text["missing script"]
    assert "needs the extra var(s) package_name" in text["missing package_name"]
    assert "needs the extra var execution_id" in text["missing execution_id"]
    for out in text.values():
        assert "is undefined" not in out or "'instance' is undefined" in out


def role_play(tmp_path, **role_vars):
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "roles": [
        {"role": "alicloud.rollout.rolling_update", "vars": dict({"rolling_update_scaling_group_id": GROUP,
                                                                 "rolling_update_poll_interval": 0.3}, **role_vars)}]}]))
    return path


def test_script_only_options_with_an_image_fail_before_any_call(emulator, tmp_path):
    path = role_play(tmp_path, rolling_update_image_id=NEW_IMAGE, rolling_update_rollback_script="echo v1",
                     rolling_update_health_deadline=0)

    run = subprocess.run([ANSIBLE_PLAYBOOK, str(path)], env=ansible_env(emulator), cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=TIMEOUT_S)

    text = run.stdout + run.stderr
    assert run.returncode != 0
    assert "rolling_update_rollback_script goes with rolling_update_script only" in text
    assert "rolling_update_health_deadline must be more than 0 seconds (got 0)" in text  # every problem at once
    assert emulator.calls() == []  # not even a read


def test_instances_unhealthy_before_any_change_stop_the_rollout(emulator):
    emulator.set_faults({"unhealthy_images": [OLD_IMAGE]})

    returncode, text = playbook(emulator, "update_image.yml", dict(FAST, scaling_group_id=GROUP, image_id=NEW_IMAGE,
                                                                   health_url=health_url(emulator)))

    assert returncode != 0
    assert "The current instances are unhealthy before any change: 4 of 4 instance(s)" in text, text[-3000:]
    assert "HTTP 503" in text
    assert mutating_calls(emulator) == []
