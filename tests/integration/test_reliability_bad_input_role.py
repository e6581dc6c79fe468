"""Issue 6, bad input given to the role: it fails in preflight with a message naming the variable or the API
code, no traceback, and no cloud-changing API call (each case signs with its own access key and works on a
scaling group of its own, so no case sees another's leftovers)."""
import pytest
import yaml

from emulator_harness import EmulatorClient
from support.reliability import summary
from support.reliability.common import (NEW_IMAGE, OLD_IMAGE, READONLY_POLICIES, account, crash_markers,
                                        run_recorded, world, write_playbook)

INACTIVE_GROUP = "asg-bp1roleinactive0001"
EMPTY_GROUP = "asg-bp1roleempty000001"
EXTRA_GROUPS = [
    {"id": INACTIVE_GROUP, "state": "Inactive", "instances": 1,
     "scaling_configuration": {"id": "asc-bp1roleinactive0001", "image_id": "m-bp1oldimage0000001"}},
    {"id": EMPTY_GROUP, "instances": 0, "max_size": 2,
     "scaling_configuration": {"id": "asc-bp1roleempty000001", "image_id": "m-bp1oldimage0000001"}},
]
FORKS = 4

# (name, role variables, texts the failure must name, readonly account?)
CASES = [
    ("role: image and script", {"rolling_update_image_id": NEW_IMAGE, "rolling_update_script": "true"},
     ["rolling_update_image_id", "rolling_update_script"], False),
    ("role: nothing to roll out", {}, ["rolling_update_image_id"], False),
    ("role: batch number zero", {"rolling_update_image_id": NEW_IMAGE, "rolling_update_batch_number": 0},
     ["batch_number"], False),
    ("role: unknown process", {"rolling_update_image_id": NEW_IMAGE, "rolling_update_processes": ["Reboot"]},
     ["rolling_update_processes"], False),
    ("role: unknown group", {"rolling_update_image_id": NEW_IMAGE,
                             "rolling_update_scaling_group_id": "asg-bp1nosuchgroup00003"},
     ["asg-bp1nosuchgroup00003"], False),
    ("role: inactive group", {"rolling_update_image_id": NEW_IMAGE, "rolling_update_scaling_group_id": INACTIVE_GROUP},
     [INACTIVE_GROUP, "Inactive"], False),
    ("role: empty group", {"rolling_update_script": "true", "rolling_update_scaling_group_id": EMPTY_GROUP},
     [EMPTY_GROUP], False),
    ("role: missing RAM permission", {"rolling_update_image_id": NEW_IMAGE}, ["Forbidden.RAM", "ess:SuspendProcesses"],
     True),
]


def key(index):
    return "LTAI5tRelRoleBad%04d" % index


def case_group(index):
    return "asg-bp1rolebadcase%04d" % index


def own_group(index):
    return {"id": case_group(index), "instances": 2,
            "scaling_configuration": {"id": "asc-bp1rolebadcase%04d" % index, "image_id": OLD_IMAGE}}


def uses_own_group(role_vars):
    return "rolling_update_scaling_group_id" not in role_vars


@pytest.fixture(scope="module")
def outcomes(emulator_process, tmp_path_factory, request):
    summary.install(request.config)
    emulator = EmulatorClient(emulator_process.url)
    accounts = [account("role-bad-%d" % i, key(i), "role-bad-secret-%d" % i, READONLY_POLICIES if readonly else None)
                for i, (_, _, _, readonly) in enumerate(CASES)]
    own_groups = [own_group(i) for i, (_, role_vars, _, _) in enumerate(CASES) if uses_own_group(role_vars)]
    emulator.load_world(world(extra_accounts=accounts, extra_groups=EXTRA_GROUPS + own_groups))
    work = tmp_path_factory.mktemp("bad_input_role")
    hosts = {"case%d" % i: {"ansible_connection": "local"} for i in range(len(CASES))}
    (work / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    for index, (name, role_vars, _, _) in enumerate(CASES):
        variables = {"rolling_update_scaling_group_id": case_group(index), "rolling_update_poll_interval": 0.3}
        variables.update(role_vars)
        write_playbook(work / ("case%d.yml" % index), [{
            "name": "case %d: %s" % (index, name),
            "environment": {"ALIBABA_CLOUD_ACCESS_KEY_ID": key(index),
                            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "role-bad-secret-%d" % index},
            "block": [{"ansible.builtin.include_role": {"name": "alicloud.rollout.rolling_update"},
                       "vars": variables}]}])
    play = {"hosts": "all", "gather_facts": False, "strategy": "free",
            "tasks": [{"ansible.builtin.include_tasks": "{{ playbook_dir }}/{{ inventory_hostname }}.yml"}]}
    run, failures = run_recorded(emulator, write_playbook(work / "playbook.yml", [play]), work, FORKS)
    calls = emulator.calls()
    emulator.session.close()
    changing = {i: [c for c in calls if c["access_key_id"] == key(i) and c["mutating"]
                    and c["error_code"] != "Forbidden.RAM"] for i in range(len(CASES))}
    summary.add(bad_inputs_tried=len(CASES), mutating_calls_on_bad_input=sum(len(v) for v in changing.values()))
    return {"run": run, "failures": failures, "changing": changing}


@pytest.mark.parametrize("index", range(len(CASES)), ids=[case[0] for case in CASES])
def test_role_bad_input_fails_clearly_without_changing_anything(outcomes, index):
    _, _, expected, _ = CASES[index]
    messages = outcomes["failures"].get("case%d" % index, [])
    assert messages, "the role did not fail"
    first = messages[0]
    for text in expected:
        assert text.lower() in first.lower(), (text, first)
    assert not crash_markers(" ".join(messages))
    assert outcomes["changing"][index] == []


def test_no_two_role_cases_share_a_scaling_group():
    groups = [role_vars.get("rolling_update_scaling_group_id", case_group(i))
              for i, (_, role_vars, _, _) in enumerate(CASES)]
    assert len(set(groups)) == len(groups)


def test_role_bad_input_output_has_no_traceback(outcomes):
    assert crash_markers(outcomes["run"].stdout + outcomes["run"].stderr) == []
