"""ess_instance_refresh(_info) modules: documentation matches the argument specs, and the module's flow on the
paths the emulator cannot produce (a refresh that ends Failed, a timeout) with a scripted fake ESS client."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import importlib

import pytest
import yaml

from ansible_collections.alicloud.rollout.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.alicloud.rollout.plugins.module_utils.client import connection_argument_spec

MODULES = ["ess_instance_refresh", "ess_instance_refresh_info"]
GROUP_ID = "asg-1"


def load(name):
    return importlib.import_module("ansible_collections.alicloud.rollout.plugins.modules.%s" % name)


def check_options(spec, documented, where):
    assert sorted(spec) == sorted(documented), where
    for name, rules in spec.items():
        doc, label = documented[name], "%s.%s" % (where, name)
        for key, default in (("type", "str"), ("default", None), ("choices", None), ("elements", None)):
            assert doc.get(key, default) == rules.get(key, default), label + " " + key
        assert bool(doc.get("required")) == bool(rules.get("required")), label
        assert sorted(doc.get("aliases") or []) == sorted(rules.get("aliases") or []), label
        assert doc.get("description"), label
        if rules.get("options"):
            check_options(rules["options"], doc["suboptions"], label)


@pytest.mark.parametrize("name", MODULES)
def test_documentation_matches_the_argument_spec(name):
    module = load(name)
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["module"] == name and str(doc["version_added"]) == "0.1.0"
    assert doc["extends_documentation_fragment"] == ["alicloud.rollout.connection"]
    assert doc["attributes"]["action_group"]["membership"] == ["alicloud.rollout.alicloud"]
    documented = dict(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    documented.update(doc["options"])
    spec = connection_argument_spec()
    spec.update(module.argument_spec())
    check_options(spec, documented, name)
    examples = yaml.safe_load(module.EXAMPLES)
    assert all(task.get("name") and "alicloud.rollout.%s" % name in task for task in examples)
    for key, value in yaml.safe_load(module.RETURN).items():
        assert value.get("description") and value.get("returned") and value.get("type"), key


# ---- the module's flow with fakes

class Exit(Exception):
    def __init__(self, failed, result):
        super(Exit, self).__init__(result.get("msg"))
        self.failed = failed
        self.result = result


class FakeModule:
    check_mode = False
    _diff = False

    def __init__(self, ess, **params):
        self.params = dict(scaling_group_id=GROUP_ID, state="present", task_id=None, desired_configuration=None,
                           min_healthy_percentage=None, max_healthy_percentage=None, skip_matching=True,
                           checkpoints=None, checkpoint_pause_time=None, preflight="strict", wait=True,
                           wait_timeout=60, poll_interval=0.001)
        self.params.update(params)
        self.ess = ess
        self.warnings = []

    def client(self, product):
        assert product == "ess"
        return self.ess

    def warn(self, text):
        self.warnings.append(text)

    def fail_json(self, **result):
        raise Exit(True, result)

    def exit_json(self, **result):
        raise Exit(False, result)


class ScriptedEss:
    """An eligible group with two instances; the started task reads back through ``statuses`` in turn."""

    region = "cn-hangzhou"

    def __init__(self, statuses, detail=""):
        self.sdk = self
        self.statuses = list(statuses)
        self.detail = detail
        self.started = False
        self.operations = []

    def call(self, operation, invoke, mutating=False, safe_to_repeat=None):
        self.operations.append(operation)
        return invoke(None)

    def describe_scaling_groups_with_options(self, request, runtime):
        return {"ScalingGroups": [{"ScalingGroupId": GROUP_ID, "LifecycleState": "Active", "GroupType": "ECS",
                                   "MultiAZPolicy": "PRIORITY", "ScalingPolicy": "release",
                                   "ActiveScalingConfigurationId": "asc-old"}], "TotalCount": 1}

    def describe_scaling_instances_with_options(self, request, runtime):
        instances = [{"InstanceId": "i-%d" % n, "LifecycleState": "InService", "CreationType": "AutoCreated",
                      "ScalingConfigurationId": "asc-old"} for n in (1, 2)]
        return {"ScalingInstances": instances, "TotalCount": 2}

    def describe_instance_refreshes_with_options(self, request, runtime):
        if not self.started:
            return {"InstanceRefreshTasks": [], "NextToken": ""}
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"InstanceRefreshTasks": [{
            "InstanceRefreshTaskId": "ir-1", "ScalingGroupId": GROUP_ID, "Status": status,
            "Detail": self.detail if status == "Failed" else "", "MinHealthyPercentage": 80,
            "MaxHealthyPercentage": 120, "SkipMatching": True, "Checkpoints": [], "CheckpointPauseTime": 60,
            "DesiredConfiguration": {"ScalingConfigurationId": "asc-new"}, "FinishedUpdateCapacity": 1,
            "TotalNeedUpdateCapacity": 2}], "NextToken": ""}

    def start_instance_refresh_with_options(self, request, runtime):
        assert request.client_token and request.desired_configuration.scaling_configuration_id == "asc-new"
        self.started = True
        return {"InstanceRefreshTaskId": "ir-1"}


def run_present(ess, **params):
    module_file = load("ess_instance_refresh")
    module = FakeModule(ess, desired_configuration={"scaling_configuration_id": "asc-new"}, **params)
    runner = module_file.Runner(module)
    with pytest.raises(Exit) as exited:
        runner.present()
        module.exit_json(**runner.result)
    return exited.value, module


def test_a_refresh_that_ends_failed_fails_the_module_with_the_detail():
    ess = ScriptedEss(["Pending", "InProgress", "Failed"], detail="Insufficient inventory of ecs.g7.large.")
    exited, _module = run_present(ess)

    assert exited.failed is True
    assert "ir-1" in exited.result["msg"] and "ended Failed" in exited.result["msg"]
    assert "Insufficient inventory" in exited.result["msg"] and "state=rolled_back" in exited.result["msg"]
    assert exited.result["changed"] is True and exited.result["action"] == "started"
    assert exited.result["task"]["status"] == "Failed"
    assert ess.operations.count("StartInstanceRefresh") == 1


def test_a_successful_refresh_exits_changed():
    exited, module = run_present(ScriptedEss(["Pending", "InProgress", "Successful"]))

    assert exited.failed is False and exited.result["status"] == "Successful"
    assert exited.result["plan"]["instances_to_refresh"] == ["i-1", "i-2"]
    assert module.warnings == []


def test_a_timeout_fails_with_the_last_task_seen():
    exited, _module = run_present(ScriptedEss(["InProgress"]), wait_timeout=0)

    assert exited.failed is True and "Timed out" in exited.result["msg"]
    assert exited.result["task_id"] == "ir-1" and exited.result["status"] == "InProgress"
    assert exited.result["task"]["running"] is True


def test_without_wait_the_module_returns_the_new_task():
    exited, _module = run_present(ScriptedEss(["Pending"]), wait=False)

    assert exited.failed is False and exited.result["status"] == "Pending" and exited.result["changed"] is True
