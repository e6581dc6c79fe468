"""Pieces of the reliability suite: accounts, recorded playbook runs, evidence from the emulator's call log.
(The default world's ids, world() and group_state() live in support.cloud, playbook runs in support.playbook.)"""
import json
import os

from support.cloud import (BAD_IMAGE, CONFIG, GROUP, NEW_IMAGE, OLD_IMAGE, ROLE_ARN,  # noqa: F401 (re-exported)
                           ROLLOUT_TEMPLATES, group_state, world)
from support.cloud import rollouts as rollout_executions  # noqa: F401 (re-exported)
from support.playbook import ROOT, results_play, run_playbook, write_playbook  # noqa: F401 (run_playbook re-exported)

READONLY_POLICIES = ["AliyunOOSReadOnlyAccess", "AliyunESSReadOnlyAccess", "AliyunECSReadOnlyAccess"]
# What an unexpected Python exception looks like in ansible-playbook output.
CRASH_MARKERS = ("Traceback (most recent call last)", "MODULE FAILURE", "An exception occurred during task execution",
                 "The full traceback is")


def account(name, key_id, secret, policies=None):
    doc = {"name": name, "account_id": "1234567890123456", "access_key_id": key_id, "access_key_secret": secret}
    if policies is not None:
        doc["policies"] = policies
    return doc


def crash_markers(text):
    return [marker for marker in CRASH_MARKERS if marker in text]


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
