"""Shared pieces of the reliability suite: worlds, playbook runs, evidence from the emulator's call log."""
import copy
import json
import os
import subprocess

import yaml

from emulator_harness import read_world
from playbook_runner import ANSIBLE_PLAYBOOK, ROOT, ansible_env, results_play

GROUP = "asg-bp1demo0000000001"
CONFIG = "asc-bp1demo0000000001"
OLD_IMAGE = "m-bp1oldimage0000001"
NEW_IMAGE = "m-bp1newimage0000002"
BAD_IMAGE = "m-bp1badimage0000003"
ROLE_ARN = "acs:ram::1234567890123456:role/rollout-operator"
ROLLOUT_TEMPLATES = ("ACS-ESS-RollingUpdateByReplaceSystemDiskInScalingGroup",
                     "ACS-ESS-RollingUpdateByRunCommandInScalingGroup",
                     "ACS-ESS-RollingUpdateByConfigureOOSPackage")
READONLY_POLICIES = ["AliyunOOSReadOnlyAccess", "AliyunESSReadOnlyAccess", "AliyunECSReadOnlyAccess"]
PLAY_TIMEOUT_S = 300
# What an unexpected Python exception looks like in ansible-playbook output.
CRASH_MARKERS = ("Traceback (most recent call last)", "MODULE FAILURE", "An exception occurred during task execution",
                 "The full traceback is")


def account(name, key_id, secret, policies=None):
    doc = {"name": name, "account_id": "1234567890123456", "access_key_id": key_id, "access_key_secret": secret}
    if policies is not None:
        doc["policies"] = policies
    return doc


def world(extra_accounts=(), extra_groups=(), **group_changes):
    """The default world, the first group changed by ``group_changes``, plus accounts and groups."""
    doc = read_world(None)
    doc["scaling_groups"][0].update(copy.deepcopy(group_changes))
    doc["scaling_groups"].extend(copy.deepcopy(list(extra_groups)))
    doc["accounts"] = doc["accounts"] + list(extra_accounts)
    return doc


def crash_markers(text):
    return [marker for marker in CRASH_MARKERS if marker in text]


def write_playbook(path, plays):
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return path


def run_playbook(emulator, playbook, extra_args=(), account="admin", env=None, cwd=None, timeout=PLAY_TIMEOUT_S):
    """ansible-playbook as a user runs it; returns the CompletedProcess (any exit code)."""
    command = [ANSIBLE_PLAYBOOK, str(playbook)] + list(extra_args)
    return subprocess.run(command, env=ansible_env(emulator, account, **(env or {})), cwd=str(cwd or ROOT),
                          capture_output=True, text=True, timeout=timeout)


RECORDER_PLUGINS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback_plugins")


def run_recorded(emulator, playbook, work, forks):
    """Run ``playbook`` over ``work/inventory.yml`` with no credentials in the environment and the recorder
    callback on; returns (CompletedProcess, {host: [messages of its failed tasks]})."""
    results_file = work / "results.jsonl"
    run = run_playbook(emulator, playbook, ["-i", str(work / "inventory.yml"), "-f", str(forks)], cwd=work, env={
        "ALIBABA_CLOUD_ACCESS_KEY_ID": None, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": None,
        "ANSIBLE_CALLBACK_PLUGINS": RECORDER_PLUGINS, "ANSIBLE_CALLBACKS_ENABLED": "reliability_recorder",
        "RELIABILITY_RESULTS": str(results_file)})
    failures = {}
    for line in results_file.read_text().splitlines():
        item = json.loads(line)
        if item["outcome"] == "failed":
            failures.setdefault(item["host"], []).append(str(item["result"].get("msg", "")))
    return run, failures


def run_tasks(emulator, tmp_path, tasks, extra_args=(), account="admin", env=None, module_defaults=None):
    """Run module tasks in one play, each with ignore_errors; return (process, [registered results])."""
    results_path = tmp_path / "results.json"
    playbook = write_playbook(tmp_path / "playbook.yml", [results_play(tasks, results_path, module_defaults)])
    process = run_playbook(emulator, playbook, extra_args, account, env, cwd=tmp_path)
    assert process.returncode == 0, process.stdout[-4000:] + process.stderr[-4000:]
    return process, json.loads(results_path.read_text())


def rollout_executions(emulator, invoke_type=None):
    """Top-level rolling-update executions in the emulator's state."""
    found = [e for e in emulator.state()["executions"]
             if e.get("template_name") in ROLLOUT_TEMPLATES and not e.get("parent_id")]
    if invoke_type:
        found = [e for e in found if (e.get("parameters") or {}).get("invokeType") == invoke_type]
    return found


def group_state(emulator, group_id=GROUP):
    return next(g for g in emulator.state()["scaling_groups"] if g["id"] == group_id)


def faults_hit(calls):
    return [c for c in calls if c.get("fault")]


def leaks_in(texts, secrets):
    """(where, secret prefix) for every secret found in any of the named texts."""
    found = []
    for where, text in texts.items():
        for secret in secrets:
            if secret and secret in text:
                found.append((where, secret[:4] + "..."))
    return found


def repo_path(*parts):
    return os.path.join(ROOT, *parts)
