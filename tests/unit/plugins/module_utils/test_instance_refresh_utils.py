"""instance_refresh module_utils: request building, preflight, adoption matching, decisions, paging, waiting."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import pytest

from ansible_collections.alicloud.rollout.plugins.module_utils import instance_refresh as ir
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError

GROUP = {
    "ScalingGroupId": "asg-1", "LifecycleState": "Active", "GroupType": "ECS", "MultiAZPolicy": "PRIORITY",
    "ScalingPolicy": "release", "ActiveScalingConfigurationId": "asc-old", "LaunchTemplateId": "",
    "LaunchTemplateVersion": "", "StandbyCapacity": 0, "ProtectedCapacity": 0,
}


def group(**changes):
    value = dict(GROUP)
    value.update(changes)
    return value


def request(**params):
    return ir.build_request(params)


def task(status="InProgress", **changes):
    value = {
        "InstanceRefreshTaskId": "ir-1", "ScalingGroupId": "asg-1", "Status": status, "MinHealthyPercentage": 80,
        "MaxHealthyPercentage": 120, "SkipMatching": True, "Checkpoints": [], "CheckpointPauseTime": 60,
        "DesiredConfiguration": {"ImageId": "m-new", "Containers": [], "LaunchTemplateOverrides": []},
        "FinishedUpdateCapacity": 1, "TotalNeedUpdateCapacity": 4, "StartTime": "2026-01-01T00:00:00Z",
    }
    value.update(changes)
    return value


# ---- build_request

def test_build_request_fills_the_api_defaults():
    assert request() == {"MinHealthyPercentage": 80, "MaxHealthyPercentage": 120, "SkipMatching": True,
                         "Checkpoints": [], "CheckpointPauseTime": 60, "DesiredConfiguration": {}}


def test_build_request_keeps_every_option():
    built = request(min_healthy_percentage=100, max_healthy_percentage=100, skip_matching=False,
                    checkpoints=[20, 100], checkpoint_pause_time=5,
                    desired_configuration={"launch_template_id": "lt-1", "launch_template_version": "3",
                                           "launch_template_overrides": [{"instance_type": "ecs.g7.large"}]})
    assert built == {"MinHealthyPercentage": 100, "MaxHealthyPercentage": 100, "SkipMatching": False,
                     "Checkpoints": [20, 100], "CheckpointPauseTime": 5,
                     "DesiredConfiguration": {"LaunchTemplateId": "lt-1", "LaunchTemplateVersion": "3",
                                              "LaunchTemplateOverrides": [{"InstanceType": "ecs.g7.large"}]}}


@pytest.mark.parametrize("params, parameter", [
    ({"min_healthy_percentage": -1}, "min_healthy_percentage"),
    ({"min_healthy_percentage": 101}, "min_healthy_percentage"),
    ({"max_healthy_percentage": 99}, "max_healthy_percentage"),
    ({"max_healthy_percentage": 201}, "max_healthy_percentage"),
    ({"checkpoints": [50]}, "checkpoints"),
    ({"checkpoints": [60, 40, 100]}, "checkpoints"),
    ({"checkpoints": [50, 50, 100]}, "checkpoints"),
    ({"checkpoints": [0, 100]}, "checkpoints"),
    ({"checkpoint_pause_time": 0}, "checkpoint_pause_time"),
    ({"checkpoint_pause_time": 2881}, "checkpoint_pause_time"),
    ({"desired_configuration": {"image_id": "m-1", "launch_template_id": "lt-1"}}, "desired_configuration"),
    ({"desired_configuration": {"launch_template_version": "2"}}, "desired_configuration.launch_template_version"),
])
def test_build_request_rejects_bad_input_naming_the_option(params, parameter):
    with pytest.raises(ir.RequestError) as raised:
        ir.build_request(params)
    assert raised.value.parameter == parameter
    assert str(raised.value).startswith(parameter + ":")


def test_client_token_is_deterministic_and_changes_with_request_and_newest_task():
    base = ir.client_token("asg-1", request(), None)
    assert base == ir.client_token("asg-1", request(), None)
    assert base != ir.client_token("asg-1", request(), "ir-1")
    assert base != ir.client_token("asg-2", request(), None)
    assert base != ir.client_token("asg-1", request(min_healthy_percentage=50), None)
    assert base.startswith("ansible-ir-") and len(base) <= 64 and base.isascii()


# ---- adoption matching

def test_a_task_echoing_the_request_has_no_differences():
    wanted = request(desired_configuration={"image_id": "m-new"})
    assert ir.request_differences(task(), wanted) == []


def test_differences_name_the_fields():
    wanted = request(desired_configuration={"image_id": "m-other"}, min_healthy_percentage=50,
                     checkpoints=[50, 100])
    assert ir.request_differences(task(), wanted) == [
        "Checkpoints", "DesiredConfiguration.ImageId", "MinHealthyPercentage"]


def test_pause_time_is_compared_only_with_checkpoints_and_legacy_wrappers_are_read():
    echoed = task(Checkpoints={"Checkpoint": [{"Percentage": 50}, {"Percentage": 100}]}, CheckpointPauseTime=30)
    assert ir.request_differences(echoed, request(desired_configuration={"image_id": "m-new"},
                                                  checkpoints=[50, 100], checkpoint_pause_time=30)) == []
    assert ir.request_differences(echoed, request(desired_configuration={"image_id": "m-new"},
                                                  checkpoints=[50, 100])) == ["CheckpointPauseTime"]
    assert ir.request_differences(task(CheckpointPauseTime=0),
                                  request(desired_configuration={"image_id": "m-new"})) == []


# ---- preflight

def test_an_eligible_group_has_no_findings():
    assert ir.preflight(group(), request()) == ([], [])


@pytest.mark.parametrize("changes, words", [
    ({"GroupType": "ECI"}, "ECS groups only"),
    ({"MultiAZPolicy": "BALANCE"}, "needs PRIORITY"),
    ({"ScalingPolicy": "recycle"}, "Economical Mode"),
    ({"ScalingPolicy": "forcerecycle"}, "Force Economical Mode"),
    ({"LifecycleState": "Inactive"}, "Enable the group"),
])
def test_preflight_blocks_ineligible_groups_and_says_why(changes, words):
    blockers, warnings = ir.preflight(group(**changes), request())
    assert len(blockers) == 1 and words in blockers[0] and "asg-1" in blockers[0]
    assert warnings == []


def test_preflight_blocks_an_image_for_a_launch_template_group():
    blockers = ir.preflight(group(LaunchTemplateId="lt-1", LaunchTemplateVersion="3"),
                            request(desired_configuration={"image_id": "m-1"}))[0]
    assert len(blockers) == 1 and "launch_template_id" in blockers[0]


def test_preflight_blocks_when_another_refresh_runs_and_names_the_difference():
    blockers = ir.preflight(group(), request(desired_configuration={"image_id": "m-other"}), task())[0]
    assert len(blockers) == 1
    assert "ir-1" in blockers[0] and "DesiredConfiguration.ImageId" in blockers[0]
    assert "state=cancelled" in blockers[0]


def test_preflight_warns_that_default_or_latest_template_versions_cannot_roll_back():
    warnings = ir.preflight(group(LaunchTemplateId="lt-1", LaunchTemplateVersion="3"),
                            request(desired_configuration={"launch_template_id": "lt-1",
                                                           "launch_template_version": "Latest"}))[1]
    assert len(warnings) == 1 and "cannot roll this refresh back" in warnings[0]
    warnings = ir.preflight(group(LaunchTemplateId="lt-1", LaunchTemplateVersion="Default"), request())[1]
    assert len(warnings) == 1 and "rollback" in warnings[0]
    warnings = ir.preflight(group(LaunchTemplateId="lt-1", LaunchTemplateVersion="3"),
                            request(desired_configuration={"launch_template_id": "lt-1",
                                                           "launch_template_version": "4"}))[1]
    assert warnings == []


def test_preflight_warns_about_ignored_standby_and_protected_instances():
    warnings = ir.preflight(group(StandbyCapacity=2, ProtectedCapacity=1), request())[1]
    assert len(warnings) == 1 and "2 Standby and 1 Protected" in warnings[0]


def test_preflight_blocks_a_same_request_refresh_that_is_being_cancelled():
    blockers = ir.preflight(group(), request(desired_configuration={"image_id": "m-new"}), task("Cancelling"))[0]
    assert len(blockers) == 1 and "is already Cancelling" in blockers[0] and "different request" not in blockers[0]


# ---- prediction

INSTANCES = [
    {"InstanceId": "i-a", "LifecycleState": "InService", "CreationType": "AutoCreated", "ScalingConfigurationId": "asc-old"},
    {"InstanceId": "i-b", "LifecycleState": "InService", "CreationType": "AutoCreated", "ScalingConfigurationId": "asc-new"},
    {"InstanceId": "i-c", "LifecycleState": "Standby", "CreationType": "AutoCreated", "ScalingConfigurationId": "asc-old"},
    {"InstanceId": "i-d", "LifecycleState": "InService", "CreationType": "Attached", "ScalingConfigurationId": ""},
]


def test_prediction_ignores_standby_and_attached_and_matches_by_configuration_id():
    assert ir.predict_instances(group(), request(desired_configuration={"scaling_configuration_id": "asc-new"}),
                                INSTANCES) == ["i-a"]
    assert ir.predict_instances(group(), request(), INSTANCES) == ["i-b"]
    assert ir.predict_instances(group(), request(skip_matching=False), INSTANCES) == ["i-a", "i-b"]


def test_prediction_for_an_image_matches_no_instance_by_id():
    # SkipMatching goes by the desired configuration's ID, never by comparing images (ESS SDK model).
    predicted = ir.predict_instances(group(), request(desired_configuration={"image_id": "m-new"}), INSTANCES,
                                     {"i-a": "m-old", "i-b": "m-new"})
    assert predicted == ["i-a", "i-b"]


def test_prediction_for_a_launch_template_goes_by_its_id_and_version():
    instances = [dict(INSTANCES[0], LaunchTemplateId="lt-1", LaunchTemplateVersion="2"),
                 dict(INSTANCES[1], LaunchTemplateId="lt-1", LaunchTemplateVersion="3")]
    wanted = request(desired_configuration={"launch_template_id": "lt-1", "launch_template_version": "3"})
    assert ir.predict_instances(group(), wanted, instances) == ["i-a"]


def refresh_task(status, image, start="2026-01-01T00:00:00Z"):
    return {"InstanceRefreshTaskId": "ir-" + status, "Status": status, "StartTime": start,
            "DesiredConfiguration": {"ImageId": image}}


def test_an_image_refresh_is_done_when_the_last_one_succeeded_and_every_instance_runs_the_image():
    wanted = request(desired_configuration={"image_id": "m-new"})
    on_new = {"i-a": "m-new", "i-b": "m-new"}
    assert ir.image_refresh_done(wanted, [refresh_task("Successful", "m-new")], INSTANCES, on_new)
    # One instance still on the old image, a failed last attempt, or no refresh to this image: not done.
    assert not ir.image_refresh_done(wanted, [refresh_task("Successful", "m-new")], INSTANCES,
                                     dict(on_new, **{"i-b": "m-old"}))
    assert not ir.image_refresh_done(wanted, [refresh_task("Successful", "m-new"),
                                              refresh_task("Failed", "m-new", "2026-01-02T00:00:00Z")],
                                     INSTANCES, on_new)
    assert not ir.image_refresh_done(wanted, [refresh_task("Successful", "m-other")], INSTANCES, on_new)
    assert not ir.image_refresh_done(request(), [refresh_task("Successful", "m-new")], INSTANCES, on_new)


def test_matching_instances_are_the_in_service_auto_created_ones_already_on_the_desired_configuration():
    wanted = request(desired_configuration={"scaling_configuration_id": "asc-new"}, skip_matching=False)
    assert ir.matching_instances(group(), wanted, INSTANCES) == ["i-b"]
    images = {"i-a": "m-old", "i-b": "m-new"}
    assert ir.matching_instances(group(), request(desired_configuration={"image_id": "m-old"}), INSTANCES,
                                 images) == ["i-a"]


# ---- decisions

@pytest.mark.parametrize("state, status, decision", [
    ("suspended", "InProgress", "act"), ("suspended", "CheckpointPause", "act"), ("suspended", "Paused", "ok"),
    ("suspended", "RollbackInProgress", "refuse"), ("suspended", "Successful", "refuse"),
    ("resumed", "Paused", "act"), ("resumed", "CheckpointPause", "act"), ("resumed", "InProgress", "ok"),
    ("resumed", "Successful", "ok"), ("resumed", "Cancelled", "refuse"),
    ("cancelled", "InProgress", "act"), ("cancelled", "Paused", "act"), ("cancelled", "Cancelling", "ok"),
    ("cancelled", "Cancelled", "ok"), ("cancelled", "Successful", "ok"), ("cancelled", "RollbackInProgress", "refuse"),
    ("rolled_back", "CheckpointPause", "act"), ("rolled_back", "Successful", "act"), ("rolled_back", "Failed", "act"),
    ("rolled_back", "RollbackInProgress", "ok"), ("rolled_back", "RollbackSuccessful", "ok"),
    ("rolled_back", "RollbackFailed", "refuse"), ("rolled_back", "Pending", "refuse"),
])
def test_action_decisions(state, status, decision):
    assert ir.action_decision(task(status), state)[0] == decision


def test_rollback_of_a_latest_template_version_is_refused_with_the_reason():
    decision, reason = ir.action_decision(
        task("Successful", DesiredConfiguration={"LaunchTemplateId": "lt-1", "LaunchTemplateVersion": "Latest"}),
        "rolled_back")
    assert decision == "refuse" and "Latest" in reason and "cannot roll back" in reason


def test_running_and_newest_task():
    tasks = [task("Successful", InstanceRefreshTaskId="ir-3", StartTime="2026-01-03T00:00:00Z"),
             task("Paused", InstanceRefreshTaskId="ir-2", StartTime="2026-01-02T00:00:00Z")]
    assert ir.running_task(tasks)["InstanceRefreshTaskId"] == "ir-2"
    assert ir.newest_task(list(reversed(tasks)))["InstanceRefreshTaskId"] == "ir-3"
    assert ir.running_task(tasks[:1]) is None and ir.newest_task([]) is None


# ---- API layer with a fake client

class FakeEss:
    """Stands in for core's ApiClient: ``call`` runs the SDK lambda on a fake SDK."""

    region = "cn-hangzhou"

    def __init__(self, pages=None, error=None):
        self.sdk = self
        self.pages = pages or []
        self.error = error
        self.requests = []

    def call(self, operation, invoke, mutating=False, safe_to_repeat=None):
        self.requests.append((operation, mutating, safe_to_repeat))
        return invoke(None)

    def describe_instance_refreshes_with_options(self, request, runtime):
        self.requests.append(("page", request.next_token, request.max_results))
        return self.pages[int(request.next_token or 0)]

    def start_instance_refresh_with_options(self, request, runtime):
        if self.error:
            raise self.error
        self.start_request = request
        return {"InstanceRefreshTaskId": "ir-new"}


def test_describe_reads_every_page():
    ess = FakeEss(pages=[{"InstanceRefreshTasks": [task(InstanceRefreshTaskId="ir-%d" % i) for i in range(50)],
                          "NextToken": "1"},
                         {"InstanceRefreshTasks": [task(InstanceRefreshTaskId="ir-50")], "NextToken": ""}])
    tasks = ir.describe_instance_refreshes(ess, scaling_group_id="asg-1")
    assert len(tasks) == 51 and tasks[-1]["InstanceRefreshTaskId"] == "ir-50"
    assert [r for r in ess.requests if r[0] == "page"] == [("page", None, 50), ("page", "1", 50)]


def test_describe_needs_a_group_or_ids():
    with pytest.raises(ValueError):
        ir.describe_instance_refreshes(FakeEss())


def test_start_sends_the_request_with_the_token_and_is_safe_to_repeat():
    ess = FakeEss()
    wanted = request(checkpoints=[50, 100], checkpoint_pause_time=30, desired_configuration={"image_id": "m-1"})
    assert ir.start_instance_refresh(ess, "asg-1", wanted, "tok") == "ir-new"
    sent = ess.start_request
    assert (sent.scaling_group_id, sent.client_token, sent.region_id) == ("asg-1", "tok", "cn-hangzhou")
    assert [c.percentage for c in sent.checkpoints] == [50, 100] and sent.checkpoint_pause_time == 30
    assert sent.desired_configuration.image_id == "m-1"
    assert ess.requests == [("StartInstanceRefresh", True, True)]


def test_start_without_checkpoints_sends_no_pause_time():
    ess = FakeEss()
    ir.start_instance_refresh(ess, "asg-1", request(), "tok")
    assert ess.start_request.checkpoints is None and ess.start_request.checkpoint_pause_time is None
    assert ess.start_request.desired_configuration is None


def test_start_with_nothing_to_refresh_returns_none_and_other_errors_raise():
    nothing = AlicloudApiError(ir.NOTHING_TO_REFRESH, "No instance needs to be refreshed.")
    assert ir.start_instance_refresh(FakeEss(error=nothing), "asg-1", request(), "tok") is None
    with pytest.raises(AlicloudApiError):
        ir.start_instance_refresh(FakeEss(error=AlicloudApiError("OperationDenied", "busy")), "asg-1", request(), "t")


# ---- waiting

class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def wait(statuses, initial, **kwargs):
    """Run wait_for_task on a simulated clock; ``statuses`` are what the polls read, in order."""
    clock = FakeClock()
    reads = iter(statuses)
    kwargs.setdefault("poll_interval", 1)
    return ir.wait_for_task(lambda: task(next(reads), FinishedUpdateCapacity=3), 100, initial=task(initial),
                            clock=clock, sleep=clock.sleep, **kwargs)


def test_wait_returns_at_a_checkpoint_pause():
    result, polls, waited = wait(["InProgress", "CheckpointPause"], "Pending", poll_interval=5)
    assert result["Status"] == "CheckpointPause" and polls == 2 and waited == 10


def test_wait_can_go_past_pauses_until_the_end():
    result, polls, waited = wait(["CheckpointPause", "Cancelling", "Cancelled"], "InProgress", poll_interval=5,
                                 stop_on_pause=False)
    assert result["Status"] == "Cancelled" and polls == 3 and waited == 15


@pytest.mark.parametrize("status", ["Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"])
def test_wait_ends_on_every_final_status(status):
    result, polls, waited = wait([status], "InProgress")
    assert result["Status"] == status and polls == 1 and waited == 1


def test_wait_timeout_carries_the_last_task():
    with pytest.raises(ir.RefreshWaitTimeout) as raised:
        wait(["InProgress"] * 10, "Pending", poll_interval=30)
    assert raised.value.task["Status"] == "InProgress" and raised.value.waited >= 100
    assert "ir-1" in str(raised.value) and "3 of 4" in str(raised.value) and "adopt" in str(raised.value)


def test_wait_after_an_action_ignores_a_read_back_that_still_shows_the_old_status():
    result, polls, waited = wait(["Successful", "RollbackInProgress", "RollbackSuccessful"], "Successful",
                                 stop_on_pause=False, leaving="Successful")
    assert result["Status"] == "RollbackSuccessful" and polls == 3 and waited == 3


def test_wait_after_a_resume_does_not_stop_on_the_pause_it_left():
    result, polls, waited = wait(["CheckpointPause", "InProgress", "CheckpointPause"], "CheckpointPause",
                                 leaving="CheckpointPause")
    assert result["Status"] == "CheckpointPause" and polls == 3 and waited == 3


# ---- results

def test_summarize_is_snake_case_and_computes_progress():
    checkpoints = [{"Percentage": 50}, {"Percentage": 100}]
    summary = ir.summarize(task("CheckpointPause", FinishedUpdateCapacity=2, Checkpoints=checkpoints))
    assert summary["task_id"] == "ir-1" and summary["status"] == "CheckpointPause"
    assert summary["desired_configuration"] == {"image_id": "m-new"}
    assert summary["checkpoints"] == [50, 100] and summary["percent_done"] == 50
    assert summary["running"] is True and summary["end_time"] is None
    assert ir.summarize(None) is None


@pytest.mark.parametrize("given,expected", [
    # Two batches: half stays in service; a canary pauses after the first; the pause outlasts a 300 s gate.
    ({"batch_number": 2}, (50, [], 60)),
    ({"batch_number": 2, "batch_pause_option": "FirstBatchPause", "gate_seconds": 300}, (50, [50, 100], 60)),
    ({"batch_number": 3, "batch_pause_option": "EveryBatchPause", "gate_seconds": 1200}, (66, [34, 67, 100], 80)),
    ({"batch_number": 1, "batch_pause_option": "FirstBatchPause"}, (0, [100], 60)),
    ({"batch_number": 4, "batch_pause_option": "FirstBatchPause", "gate_seconds": 10 ** 6}, (75, [25, 100], 2880)),
    # What is given wins over what the batches would give.
    ({"batch_number": 2, "batch_pause_option": "FirstBatchPause", "min_healthy_percentage": 90,
      "checkpoints": [10, 100], "checkpoint_pause_time": 5, "gate_seconds": 3000}, (90, [10, 100], 5)),
])
def test_paced_request_follows_the_batches(given, expected):
    request = ir.build_request(dict(given, desired_configuration={"image_id": "m-1"}))
    assert (request["MinHealthyPercentage"], request["Checkpoints"], request["CheckpointPauseTime"]) == expected


def test_paced_request_refuses_a_pause_option_without_batches():
    with pytest.raises(ir.RequestError):
        ir.build_request({"batch_pause_option": "FirstBatchPause"})
    with pytest.raises(ir.RequestError):
        ir.build_request({"batch_number": 0, "batch_pause_option": "FirstBatchPause"})
