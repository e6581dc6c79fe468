"""Issue 6, least privilege: with an account restricted to the documented custom policy (docs/ram-policy.json)
the whole role works; with any one of the actions it used removed, it fails with an error naming that action.

One playbook run: one inventory host per account (the full policy, then the policy minus each action), each on a
scaling group of its own, run in parallel.
"""
import copy
import json

import pytest
import yaml

from support.reliability import summary
from support.reliability.common import (NEW_IMAGE, OLD_IMAGE, account, crash_markers, repo_path, rollout_executions,
                                        run_recorded, world, write_playbook)

POLICY_PATH = repo_path("docs", "ram-policy.json")
FORKS = 4


def policy():
    with open(POLICY_PATH) as handle:
        return json.load(handle)


def without(document, action):
    document = copy.deepcopy(document)
    for statement in document["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != action]
    return document


def group(index):
    return {"id": "asg-bp1leastpriv%06d" % index, "instances": 2,
            "scaling_configuration": {"id": "asc-bp1leastpriv%06d" % index, "image_id": OLD_IMAGE}}


def key(index):
    return "LTAI5tRelLeast%04d" % index


def run_role_per_account(emulator, work, documents):
    """Run the role once per policy document, each host with its own account and group; return results per host."""
    accounts = [account("least-%d" % i, key(i), "least-secret-%04d" % i, [doc]) for i, doc in enumerate(documents)]
    emulator.load_world(world(extra_accounts=accounts, extra_groups=[group(i) for i in range(len(documents))]))
    hosts = {"host%d" % i: {"ansible_connection": "local", "group_id": group(i)["id"], "key_id": key(i),
                            "key_secret": "least-secret-%04d" % i} for i in range(len(documents))}
    (work / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    play = {"hosts": "all", "gather_facts": False, "strategy": "free",
            # Per-host credentials the documented way: play-level module_defaults for the action group, which
            # must reach every module task inside the role.
            "module_defaults": {"group/alicloud.rollout.alicloud": {
                "access_key_id": "{{ key_id }}", "access_key_secret": "{{ key_secret }}"}},
            "roles": [{"role": "alicloud.rollout.rolling_update", "vars": {
                "rolling_update_scaling_group_id": "{{ group_id }}", "rolling_update_image_id": NEW_IMAGE,
                "rolling_update_canary": True,
                "rolling_update_poll_interval": 0.3}}]}
    run, failures = run_recorded(emulator, write_playbook(work / "play.yml", [play]), work, FORKS)
    return run, failures


@pytest.fixture(scope="module")
def full_policy_run(emulator_process, tmp_path_factory, request):
    """The role with exactly the documented policy; gives the actions it used."""
    from emulator_harness import EmulatorClient
    summary.install(request.config)
    emulator = EmulatorClient(emulator_process.url)
    run, failures = run_role_per_account(emulator, tmp_path_factory.mktemp("full_policy"), [policy()])
    calls = emulator.calls()
    used = sorted({"%s:%s" % (c["product"], c["action"]) for c in calls if c["access_key_id"] == key(0)})
    executions = rollout_executions(emulator)
    state = emulator.state()
    emulator.session.close()
    summary.add(executions_created=len(executions))
    return {"run": run, "failures": failures, "used": used, "calls": calls, "executions": executions, "state": state}


def test_the_whole_role_works_with_only_the_documented_policy(full_policy_run):
    run = full_policy_run["run"]
    assert run.returncode == 0, (run.stdout + run.stderr)[-5000:]
    assert full_policy_run["failures"] == {}
    assert [c for c in full_policy_run["calls"] if c["error_code"] == "Forbidden.RAM"] == []
    [execution] = full_policy_run["executions"]
    assert execution["status"] == "Success"
    [group_state] = [g for g in full_policy_run["state"]["scaling_groups"] if g["id"] == group(0)["id"]]
    assert {i["image_id"] for i in group_state["instances"]} == {NEW_IMAGE}
    assert group_state["suspended_processes"] == []
    listed = {a.lower() for s in policy()["Statement"] for a in s["Action"]}
    assert {a.lower() for a in full_policy_run["used"]} <= listed
    summary.add(rollouts_completed=1)


def test_removing_any_one_used_action_fails_with_an_error_naming_it(full_policy_run, emulator, tmp_path):
    used = [a for a in full_policy_run["used"] if not a.startswith("sts:")]
    assert len(used) >= 8, used
    run, failures = run_role_per_account(emulator, tmp_path, [without(policy(), action) for action in used])
    text = run.stdout + run.stderr

    assert run.returncode != 0
    assert crash_markers(text) == []
    warnings = [line for line in text.splitlines() if "WARNING" in line]
    unnamed = {}
    for index, action in enumerate(used):
        messages = failures.get("host%d" % index, [])
        if messages:
            named = any(action.lower() in m.lower() for m in messages)
        else:
            # The role carried on without it (e.g. per-instance details): then a warning must name it.
            named = any(action.lower() in line.lower() for line in warnings)
        if not named:
            unnamed[action] = messages[:2]
    assert unnamed == {}
