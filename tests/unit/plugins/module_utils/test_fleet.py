"""fleet: each group runs the single-group logic with its own parameters; one group's end never ends the task."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.rollout.plugins.module_utils import fleet
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError


class Ended(Exception):
    pass


class FakeModule:
    def __init__(self, **params):
        self.params = dict({"scaling_group_ids": ["g1", "g2", "g3"], "wait": True, "wait_timeout": 60,
                            "poll_interval": None}, **params)
        self.check_mode = False
        self._diff = False
        self.warnings = []
        self.exit = None

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **result):
        self.exit = ("exit", result)
        raise Ended()

    def fail_json(self, msg, **result):
        self.exit = ("fail", dict(result, msg=msg))
        raise Ended()


def run_group(group_module):
    group = group_module.params["scaling_group_id"]
    assert group_module.params["wait"] is False and group_module.params["scaling_group_ids"] is None
    if group == "g2":
        group_module.fail_api(AlicloudApiError("Forbidden.RAM", "denied", operation="DescribeScalingGroups"),
                              msg="Rolling update of g2 failed")
    group_module.warn("checked")
    group_module.exit_json(changed=True, execution_id="exec-" + group, status="Success")


def test_each_group_gets_its_own_result_and_a_failure_does_not_stop_the_others():
    module = FakeModule()
    results = fleet.run_groups(module, run_group, ["g1", "g2", "g3"])
    assert [r["scaling_group_id"] for r in results] == ["g1", "g2", "g3"]
    assert [r["failed"] for r in results] == [False, True, False]
    assert "Forbidden.RAM" in results[1]["msg"] and results[1]["error"]["code"] == "Forbidden.RAM"
    assert results[2]["execution_id"] == "exec-g3"
    assert module.warnings == ["g1: checked", "g3: checked"]


def test_the_task_fails_at_the_end_naming_the_failed_groups():
    module = FakeModule()
    with pytest.raises(Ended):
        fleet.run_many(module, run_group)
    kind, result = module.exit
    assert kind == "fail" and "g2" in result["msg"] and "1 of 3" in result["msg"]
    assert [g["scaling_group_id"] for g in result["groups"]] == ["g1", "g2", "g3"]
    assert result["changed"] is True


def test_a_failed_execution_after_the_wait_fails_its_group(monkeypatch):
    module = FakeModule(scaling_group_ids=["g1", "g3", "g1"], poll_interval=0.01)
    module.client = lambda product: None

    def started(group_module):
        group_module.exit_json(changed=True, execution_id="exec-" + group_module.params["scaling_group_id"],
                               status="Running", start_date="2026-01-01T00:00:00Z")

    def read(oos, ids, known=None):
        return dict((i, {"ExecutionId": i, "Status": "Failed" if i == "exec-g3" else "Success",
                         "StatusMessage": "boom" if i == "exec-g3" else ""}) for i in ids), 1
    monkeypatch.setattr(fleet.oos_api, "get_executions", read)
    with pytest.raises(Ended):
        fleet.run_many(module, started)
    kind, result = module.exit
    assert kind == "fail"
    assert [(g["scaling_group_id"], g["status"], g["failed"]) for g in result["groups"]] == [
        ("g1", "Success", False), ("g3", "Failed", True)]
    assert "boom" in result["groups"][1]["msg"]
