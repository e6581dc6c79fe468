"""docs/ram-policy.json lists exactly the API actions the collection calls, and it is enough to roll out.

The actions are derived from the code: every `<client>.call("Action", ...)` / `<client>.rpc("Action", ...)` in
plugins/, where the receiver is named after its product (`oos`, `ess`, `ecs`, `sts`, `slb`, `alb`, `nlb`, as `module.client(...)`
returns them). An action held in a variable is resolved through the module-level dict it is looked up in.
"""
import ast
import copy
import json
import os
import re

from emulator_harness import read_world
from support.cloud import GROUP, NEW_IMAGE
from support.inprocess import run_tasks

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POLICY = os.path.join(ROOT, "docs", "ram-policy.json")
# What the public templates call themselves (read from their source); run by OOS as the caller or oos_assume_role.
TEMPLATE_POLICY = os.path.join(ROOT, "docs", "ram-policy-oos-template.json")
PRODUCTS = ("oos", "ess", "ecs", "sts", "slb", "alb", "nlb")
# The client layer's own generic wrappers pass their caller's action through; they call nothing themselves.
CLIENT_LAYER = os.path.join("plugins", "module_utils", "client.py")


def _module_dicts(tree):
    dicts = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    dicts[target.id] = [v.value for v in node.value.values if isinstance(v, ast.Constant)]
    return dicts


def _resolve(name, function, dicts):
    """Action names a variable can hold: `name = SOME_DICT[key]` inside the function."""
    for node in ast.walk(function):
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
                and isinstance(node.value, ast.Subscript) and isinstance(node.value.value, ast.Name)
                and node.value.value.id in dicts):
            return dicts[node.value.value.id]
    return None


def called_actions():
    actions, unresolved = set(), []
    for folder, _, files in os.walk(os.path.join(ROOT, "plugins")):
        for file_name in sorted(files):
            if not file_name.endswith(".py"):
                continue
            path = os.path.join(folder, file_name)
            relative = os.path.relpath(path, ROOT)
            with open(path) as handle:
                tree = ast.parse(handle.read())
            dicts = _module_dicts(tree)
            functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            for function in functions:
                for node in ast.walk(function):
                    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                            and node.func.attr in ("call", "rpc") and node.args):
                        continue
                    receiver = node.func.value
                    product = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", None)
                    if relative == CLIENT_LAYER and product not in PRODUCTS:
                        continue
                    where = "%s:%d" % (relative, node.lineno)
                    first = node.args[0]
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        names = [first.value]
                    elif isinstance(first, ast.Name):
                        names = _resolve(first.id, function, dicts)
                    else:
                        names = None
                    if product not in PRODUCTS or not names:
                        unresolved.append(where)
                        continue
                    actions.update("%s:%s" % (product, name) for name in names)
    return actions, unresolved


def policy_actions(policy):
    return [action for statement in policy["Statement"] for action in statement["Action"]]


def load_policy():
    with open(POLICY) as handle:
        return json.load(handle)


def test_policy_lists_exactly_the_actions_the_code_calls():
    actions, unresolved = called_actions()
    assert unresolved == [], "API calls whose product or action the scanner cannot tell: %s" % unresolved
    listed = policy_actions(load_policy())
    assert len(listed) == len(set(listed)), "duplicate actions in docs/ram-policy.json"
    assert sorted(set(listed) - actions) == [], "in the policy but never called"
    assert sorted(actions - set(listed)) == [], "called but missing from the policy"


def test_scanner_sees_the_calls_of_every_product():
    actions, _ = called_actions()
    for expected in ("oos:StartExecution", "oos:ListExecutions", "ess:DescribeScalingGroups",
                     "ess:SuspendProcesses", "ecs:DescribeInstances", "sts:AssumeRole", "ecs:RunCommand",
                     "slb:DescribeHealthStatus", "alb:GetListenerHealthStatus", "nlb:ListServerGroupServers"):
        assert expected in actions


def test_policies_are_well_formed():
    with open(TEMPLATE_POLICY) as handle:
        template_policy = json.load(handle)
    for policy in (load_policy(), template_policy):
        assert policy["Version"] == "1"
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow" and statement["Resource"]
            assert all(re.match(r"^(oos|ess|ecs|sts|slb|alb|nlb):[A-Z][A-Za-z]+$", action)
                       for action in statement["Action"])


def world_with_policy_account(policy):
    world = read_world(None)
    world["accounts"].append({"name": "least", "account_id": "1234567890123456",
                              "access_key_id": "LTAI5tEmulatorLeast001", "access_key_secret": "emulator-least-01",
                              "policies": [policy]})
    return world


ROLLOUT = [
    {"alicloud.rollout.ess_rolling_update": {"scaling_group_id": GROUP, "image_id": NEW_IMAGE, "batch_number": 2}},
    {"alicloud.rollout.oos_execution_info": {"tags": {"scaling_group": GROUP}}},
]


def test_an_account_with_only_this_policy_can_roll_out(emulator):
    emulator.load_world(world_with_policy_account(load_policy()))
    rollout, info = run_tasks(emulator, ROLLOUT, account="least")

    assert not rollout.get("failed"), rollout.get("msg")
    assert rollout["status"] == "Success"
    assert not info.get("failed"), info.get("msg")
    assert emulator.calls(access_key_id="LTAI5tEmulatorLeast001", status=403) == []


def test_the_policy_is_enforced_an_action_less_is_denied(emulator):
    policy = copy.deepcopy(load_policy())
    policy["Statement"][0]["Action"].remove("oos:StartExecution")
    emulator.load_world(world_with_policy_account(policy))
    [rollout] = run_tasks(emulator, ROLLOUT[:1], account="least")

    assert rollout.get("failed")
    denied = emulator.calls(access_key_id="LTAI5tEmulatorLeast001", action="StartExecution")
    assert denied and {c["status"] for c in denied} == {403}
