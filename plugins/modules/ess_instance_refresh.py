#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r"""
module: ess_instance_refresh
short_description: Replace the instances of an ESS scaling group with ESS native instance refresh
version_added: 0.1.0
description:
  - Starts an Alibaba Cloud Auto Scaling (ESS) instance refresh (C(StartInstanceRefresh)) that replaces the
    instances of a scaling group with new ones created from a desired configuration, a few at a time, within a
    minimum and maximum healthy percentage, optionally pausing at checkpoints. Then waits for it.
  - With O(state=suspended), O(state=resumed), O(state=cancelled) or O(state=rolled_back), acts on an existing
    refresh task instead (C(SuspendInstanceRefresh), C(ResumeInstanceRefresh), C(CancelInstanceRefresh),
    C(RollbackInstanceRefresh)). Acting on a task already in the target state is C(ok) with C(changed=false).
  - Idempotent. If a refresh with the same request is already running in the group, it is adopted
    (C(changed=false)) and waited for, so a run that was interrupted can simply be run again. If ESS finds no
    instance to refresh, nothing changes (C(changed=false)).
  - Before any change, a preflight reads the scaling group and explains why it cannot use instance refresh
    (a group that is not ECS, a scale-out policy other than priority, the Economical or Forcibly-Recycle reclaim
    mode, another refresh running, an OOS rolling update of the group in flight (named by its execution ID), an
    image for a launch-template group) and warns when a rollback will not be
    possible (launch template version C(Default) or C(Latest)).
  - Instance refresh creates new instances and releases the old ones (new instance IDs, new private IPs). For
    in-place updates that keep the instances use M(alicloud.rollout.ess_rolling_update). The collection's
    strategies guide compares the two.
author:
  - alicloud.rollout maintainers (@alicloud-rollout)
options:
  scaling_group_id:
    description: ID of the scaling group.
    type: str
    required: true
  state:
    description:
      - V(present) starts a refresh with the request options below, or adopts a running one with the same request.
      - V(suspended) pauses a running refresh; V(resumed) continues a paused one (also after a checkpoint);
        V(cancelled) stops one (instances already replaced stay replaced); V(rolled_back) replaces the
        refreshed instances again from the configuration that was active before the refresh.
    type: str
    choices: [present, suspended, resumed, cancelled, rolled_back]
    default: present
  task_id:
    description:
      - ID of the refresh task (C(ir-...)) to act on with O(state) other than V(present).
      - Defaults to the running task of the group, else its newest task.
      - Ignored with O(state=present).
    type: str
  desired_configuration:
    description:
      - What the new instances are created from. Give at most one of O(desired_configuration.scaling_configuration_id),
        O(desired_configuration.image_id) and O(desired_configuration.launch_template_id).
      - Omitted or empty, the group's active configuration is used.
      - When the refresh succeeds, ESS makes this configuration (or image) the group's active one.
    type: dict
    suboptions:
      scaling_configuration_id:
        description: A scaling configuration of the group.
        type: str
      image_id:
        description:
          - An image; the group's active scaling configuration takes it when the refresh succeeds.
          - Not allowed when the group uses a launch template.
        type: str
      launch_template_id:
        description: A launch template.
        type: str
      launch_template_version:
        description:
          - Version of O(desired_configuration.launch_template_id) - a number, V(Default) or V(Latest).
          - With V(Default) or V(Latest) ESS cannot roll the refresh back (the module warns).
        type: str
      launch_template_overrides:
        description: Instance types that override the launch template's.
        type: list
        elements: dict
        suboptions:
          instance_type:
            description: An instance type, for example V(ecs.g7.large).
            type: str
            required: true
  min_healthy_percentage:
    description:
      - Share of the group's capacity (0 to 100) that stays in service during the refresh.
      - ESS default V(80). With O(min_healthy_percentage=100) and O(max_healthy_percentage=100) one instance is
        replaced at a time.
    type: int
  max_healthy_percentage:
    description: How far (100 to 200 percent of capacity) the group may grow during the refresh. ESS default V(120).
    type: int
  skip_matching:
    description:
      - Skip instances already created from the desired configuration. ESS matches by the ID of the desired
        configuration, not by comparing configuration items (SDK model, CONFIRMED); for a desired image no
        instance carries that ID yet, so every eligible instance is predicted (INFERRED). A re-run after a
        successful refresh to the same image, with every instance on it, starts nothing. V(false) replaces every
        instance.
    type: bool
    default: true
  checkpoints:
    description:
      - Percentages of refreshed instances (ascending, 1 to 100, the last one 100) at which ESS pauses the refresh
        (status C(CheckpointPause)) for O(checkpoint_pause_time) minutes, then goes on by itself.
      - The module returns at a checkpoint pause (C(paused=true)) so that a health gate can run; continue with
        O(state=resumed) or undo with O(state=rolled_back).
    type: list
    elements: int
  checkpoint_pause_time:
    description: Minutes (1 to 2880) a checkpoint pause lasts. ESS default V(60). Only used with O(checkpoints).
    type: int
  batch_number:
    description:
      - Pace the refresh in this many batches (1 to 100), as the OOS rolling-update templates do, for what is not
        given otherwise. O(min_healthy_percentage) becomes 100 - ceil(100 / N), at least 0, so that one batch is out
        of service at a time.
      - With O(batch_pause_option), O(checkpoints) follow the batches.
    type: int
  batch_pause_option:
    description:
      - "With O(batch_number) and no O(checkpoints): V(FirstBatchPause) pauses after the first batch (checkpoints
        C([ceil(100 / N), 100])), V(EveryBatchPause) after each (C(ceil(100 k / N)) for k = 1..N), V(Automatic)
        not at all."
    type: str
    choices: [Automatic, FirstBatchPause, EveryBatchPause]
  gate_seconds:
    description:
      - How long the health gate the caller runs at a checkpoint may take. A checkpoint pause must outlast it, or
        ESS goes on before the gate has judged the batch, so without O(checkpoint_pause_time) the pause is 4 times
        this, in minutes, at least 60 and at most 2880.
    type: int
  preflight:
    description:
      - V(strict) fails before any change when the preflight finds a reason the group cannot use instance refresh.
      - V(warn) reports those reasons as warnings and lets ESS decide (for example when the documented rules lag
        behind the service). A refresh already running with a different request always fails.
    type: str
    choices: [strict, warn]
    default: strict
  wait:
    description:
      - Wait until the task ends, or pauses (a checkpoint, or suspended), or O(wait_timeout) passes.
      - With O(state=suspended) until the task is C(Paused); with V(cancelled) and V(rolled_back) until the task
        has ended, past any pause.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait. On timeout the module fails and returns the last task seen; the refresh goes on in ESS
        and a new run adopts it.
    type: int
    default: 3600
  poll_interval:
    description:
      - Seconds between status calls while waiting.
      - Omitted, the collection's adaptive policy learns how long a wave takes and polls around its end.
    type: float
extends_documentation_fragment:
  - alicloud.rollout.connection
attributes:
  check_mode:
    support: full
    description: Reads the group and its tasks and reports what would be started, adopted or done; sends nothing.
  diff_mode:
    support: full
    description: The task's status (and for a start the desired configuration and predicted instances) before and after.
  action_group:
    support: full
    membership: [alicloud.rollout.alicloud]
    description: Use C(group/alicloud.rollout.alicloud) in C(module_defaults) to set the connection options once.
notes:
  - The preflight checks only what C(DescribeScalingGroups) returns. Groups measured in vCPU capacity cannot use
    instance refresh either; the module cannot tell them apart.
  - The instances predicted in check mode and in RV(plan) follow the documented matching rule; ESS decides
    which instances it refreshes.
  - The ClientToken is derived from the group, the request and the group's newest task, so a retried start never
    creates a second task.
seealso:
  - module: alicloud.rollout.ess_instance_refresh_info
  - module: alicloud.rollout.ess_rolling_update
"""

EXAMPLES = r"""
- name: Replace every instance with one from a new image, 20 percent at a time
  alicloud.rollout.ess_instance_refresh:
    region: cn-hangzhou
    scaling_group_id: asg-bp1demo0000000001
    desired_configuration:
      image_id: m-bp1newimage0000002
    min_healthy_percentage: 80
    max_healthy_percentage: 100
  register: refresh

- name: Canary - pause when a quarter of the instances are new
  alicloud.rollout.ess_instance_refresh:
    region: cn-hangzhou
    scaling_group_id: asg-bp1demo0000000001
    desired_configuration:
      scaling_configuration_id: asc-bp1newconfig000002
    checkpoints: [25, 100]
    checkpoint_pause_time: 120
  register: canary

- name: Continue after a healthy checkpoint
  alicloud.rollout.ess_instance_refresh:
    region: cn-hangzhou
    scaling_group_id: asg-bp1demo0000000001
    task_id: "{{ canary.task_id }}"
    state: resumed
  when: canary.paused

- name: Roll back after an unhealthy checkpoint
  alicloud.rollout.ess_instance_refresh:
    region: cn-hangzhou
    scaling_group_id: asg-bp1demo0000000001
    task_id: "{{ canary.task_id }}"
    state: rolled_back

- name: Refresh to a pinned launch template version with a bigger instance type
  alicloud.rollout.ess_instance_refresh:
    region: cn-hangzhou
    scaling_group_id: asg-bp1demo0000000001
    desired_configuration:
      launch_template_id: lt-bp1demo
      launch_template_version: "4"
      launch_template_overrides:
        - instance_type: ecs.g7.xlarge
"""

RETURN = r"""
action:
  description: What the task did with O(state=present) - V(started), V(adopted) a running refresh, or V(none).
  returned: always
  type: str
  sample: started
task_id:
  description:
    - The refresh task started, adopted or acted on; with nothing to do for a desired image (RV(action=none)),
      the earlier refresh to that image that did it. Null when there is none.
  returned: always
  type: str
  sample: ir-bp1abcdefghijklmnop
status:
  description:
    - The task's status as last read (expected status in check mode), one of C(Pending), C(InProgress),
      C(Paused), C(CheckpointPause), C(Successful), C(Failed), C(Cancelling), C(Cancelled),
      C(RollbackInProgress), C(RollbackSuccessful), C(RollbackFailed); null when there is no task.
  returned: always
  type: str
  sample: Successful
status_before:
  description: The task's status before this run acted on it (null for a new start).
  returned: always
  type: str
  sample: CheckpointPause
paused:
  description: True when the wait returned because the task is paused at a checkpoint or suspended.
  returned: always
  type: bool
  sample: false
task:
  description: The task as last read (expected values in check mode for a start are not shown).
  returned: when there is a task
  type: dict
  contains:
    task_id:
      description: Task ID.
      type: str
    scaling_group_id:
      description: Scaling group ID.
      type: str
    region:
      description: Region ID.
      type: str
    status:
      description: Status.
      type: str
    detail:
      description: Why the task failed, if it did.
      type: str
    start_time:
      description: Start time (UTC, ISO 8601).
      type: str
    end_time:
      description: End time (UTC, ISO 8601), null while running.
      type: str
    min_healthy_percentage:
      description: Minimum healthy percentage.
      type: int
    max_healthy_percentage:
      description: Maximum healthy percentage.
      type: int
    skip_matching:
      description: Whether matching instances are skipped.
      type: bool
    checkpoints:
      description: Checkpoint percentages.
      type: list
      elements: int
    checkpoint_pause_time:
      description: Minutes a checkpoint pause lasts.
      type: int
    desired_configuration:
      description: The desired configuration (snake_case keys as in the option).
      type: dict
    finished_update_capacity:
      description: Instances refreshed so far.
      type: int
    total_need_update_capacity:
      description: Instances the task refreshes in total.
      type: int
    percent_done:
      description: Share of the instances refreshed, 0 to 100.
      type: int
    strategy:
      description: The task's strategy as ESS reports it, or null.
      type: str
    running:
      description: Whether the task has not ended yet (paused counts as running).
      type: bool
  sample: {"task_id": "ir-bp1abcdefghijklmnop", "status": "Successful", "finished_update_capacity": 4,
           "total_need_update_capacity": 4, "percent_done": 100}
request:
  description: The start request with the ESS defaults filled in (snake_case).
  returned: with O(state=present)
  type: dict
  sample: {"min_healthy_percentage": 80, "max_healthy_percentage": 120, "skip_matching": true,
           "checkpoints": [50, 100], "checkpoint_pause_time": 60,
           "desired_configuration": {"image_id": "m-bp1newimage0000002"}}
plan:
  description:
    - With O(state=present), the instances the refresh is predicted to replace (a prediction; ESS decides) and
      the preflight's findings.
  returned: with O(state=present), unless a running refresh was adopted
  type: dict
  contains:
    instances_to_refresh:
      description:
        - IDs of the InService, auto-created instances that do not carry the desired configuration's ID (a
          prediction; for a desired image every one).
      type: list
      elements: str
    blockers:
      description: Reasons the group cannot use instance refresh (empty when it can).
      type: list
      elements: str
    warnings:
      description: Things to know before starting (also emitted as warnings).
      type: list
      elements: str
  sample: {"instances_to_refresh": ["i-bp1aaaaaaaaaaaaaaaaa"], "blockers": [], "warnings": []}
matching_instances:
  description:
    - IDs of the InService, auto-created instances that match the desired configuration once the wait ended
      C(Successful) or paused. At a checkpoint these are the new instances a health gate should judge.
  returned: with O(state=present) or O(state=resumed) when the wait ended Successful or paused
  type: list
  elements: str
  sample: ["i-bp1newinstance00001", "i-bp1newinstance00002"]
waited:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 42.5
msg:
  description: What was done, or why nothing was.
  returned: always
  type: str
  sample: Instance refresh ir-bp1abcdefghijklmnop is Successful (4 of 4 instances refreshed).
error:
  description: The API error (operation, code, message, request_id, http_status, recommend, advice) on an API failure.
  returned: on API failure
  type: dict
  sample: {"operation": "StartInstanceRefresh", "code": "OperationDenied", "request_id": "5A9FC38F-..."}
"""

from ansible_collections.alicloud.rollout.plugins.module_utils.client import AlicloudModule
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
from ansible_collections.alicloud.rollout.plugins.module_utils import ess as ess_api
from ansible_collections.alicloud.rollout.plugins.module_utils import instance_refresh as ir
from ansible_collections.alicloud.rollout.plugins.module_utils import rolling_update as ru


def _progress(task):
    return "%s of %s instances refreshed" % (task.get("FinishedUpdateCapacity"), task.get("TotalNeedUpdateCapacity"))


class Runner:
    """One run of the module: holds the module, the ESS client and the result being built."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.group_id = module.params["scaling_group_id"]
        self.result = dict(changed=False, action="none", task_id=None, status=None, status_before=None,
                           paused=False, waited=0.0)
        self.ess = None

    # -- helpers
    def fail(self, msg, task=None):
        self._record(task)
        self.module.fail_json(msg=msg, **self.result)

    def _record(self, task):
        if task:
            self.result.update(task_id=task.get("InstanceRefreshTaskId"), status=task.get("Status"),
                               task=ir.summarize(task), paused=task.get("Status") in ir.PAUSED_STATUSES)

    def fetch(self, task_id):
        def read():
            task = ir.get_instance_refresh(self.ess, self.group_id, task_id)
            if task is None:
                raise AlicloudApiError("InvalidInstanceRefreshTaskId.NotFound",
                                       "Instance refresh %s disappeared while waiting." % task_id,
                                       operation="DescribeInstanceRefreshes", product="ess")
            return task
        return read

    def wait(self, task, stop_on_pause=True, leaving=None):
        try:
            task, _polls, waited = ir.wait_for_task(self.fetch(task["InstanceRefreshTaskId"]),
                                                    self.params["wait_timeout"], self.params["poll_interval"],
                                                    stop_on_pause=stop_on_pause, initial=task, leaving=leaving)
        except ir.RefreshWaitTimeout as timeout:
            self.result["waited"] = round(timeout.waited, 3)
            self.fail(str(timeout), timeout.task)
        self.result["waited"] = round(waited, 3)
        return task

    def finish(self, task, wanted, verb):
        """Record the task; fail when it ended in a status other than ``wanted`` (pauses are fine)."""
        self._record(task)
        status = task.get("Status")
        if status in ir.FINAL_STATUSES and status != wanted:
            self.fail("Instance refresh %s %s but ended %s (%s)%s. Inspect it with ess_instance_refresh_info; "
                      "state=rolled_back undoes replaced instances." % (
                          task.get("InstanceRefreshTaskId"), verb, status, _progress(task),
                          ": %s" % task["Detail"] if task.get("Detail") else ""), task)
        if status in ir.PAUSED_STATUSES:
            self.result["msg"] = ("Instance refresh %s is %s (%s). Continue with state=resumed or undo with "
                                  "state=rolled_back." % (task.get("InstanceRefreshTaskId"), status, _progress(task)))
        else:
            self.result["msg"] = "Instance refresh %s is %s (%s)." % (task.get("InstanceRefreshTaskId"), status,
                                                                      _progress(task))

    def instances_and_images(self, request):
        """InService instances of the group and, when the desired configuration is an image, their images."""
        instances = ess_api.describe_scaling_instances(self.ess, self.group_id, lifecycle_states=["InService"])
        image_of = None
        if request["DesiredConfiguration"].get("ImageId") and instances:
            ecs = self.module.client("ecs")
            image_of = dict((i.get("InstanceId"), i.get("ImageId"))
                            for i in ess_api.describe_instances(ecs, [i["InstanceId"] for i in instances]))
        return instances, image_of

    def record_matching(self, task, group=None):
        """After a wait that ended Successful or paused: which instances now match (for a health gate)."""
        if task.get("Status") not in ("Successful",) + ir.PAUSED_STATUSES:
            return
        if group is None:
            group = ess_api.describe_scaling_group(self.ess, self.group_id)
        request = ir.task_request(task)
        instances, image_of = self.instances_and_images(request)
        self.result["matching_instances"] = ir.matching_instances(group, request, instances, image_of)

    # -- state=present
    def present(self):
        params = self.params
        try:
            request = ir.build_request(params)
        except ir.RequestError as error:
            self.module.fail_json(msg="Invalid %s" % error, **self.result)
        if params.get("checkpoint_pause_time") is not None and not request["Checkpoints"]:
            self.module.warn("checkpoint_pause_time has no effect without checkpoints.")
        self.result["request"] = ir.snake_request(request)
        self.ess = self.module.client("ess")

        group = ess_api.describe_scaling_group(self.ess, self.group_id)
        tasks = ir.describe_instance_refreshes(self.ess, scaling_group_id=self.group_id)
        running = ir.running_task(tasks)
        if running is not None and not ir.request_differences(running, request) \
                and running.get("Status") not in ("Cancelling", "RollbackInProgress"):
            return self.adopt(running)

        self.refuse_oos_rollout_in_flight()
        blockers, warnings = ir.preflight(group, request, running)
        instances, image_of = self.instances_and_images(request)
        predicted = ir.predict_instances(group, request, instances, image_of)
        self.result["plan"] = dict(instances_to_refresh=predicted, blockers=blockers, warnings=warnings)
        for warning in warnings:
            self.module.warn(warning)
        if running is not None:
            self.fail("Cannot start an instance refresh: %s" % blockers[-1], running)
        if blockers:
            if params["preflight"] == "strict":
                self.fail("Scaling group %s cannot use instance refresh: %s (Set preflight=warn to let ESS decide.)"
                          % (self.group_id, " ".join(blockers)))
            for blocker in blockers:
                self.module.warn("Preflight: " + blocker)

        if running is None and ir.image_refresh_done(request, tasks, instances, image_of):
            # Report the refresh that got the group here (a re-run gates its instances, and may roll it back).
            self._record(ir.newest_refresh_to_image(request, tasks))
            self.result["plan"]["instances_to_refresh"] = []
            self.result["msg"] = ("Nothing to refresh: the last instance refresh to image %s succeeded and every "
                                  "InService instance runs it." % request["DesiredConfiguration"]["ImageId"])
            return
        if self.module._diff:
            self.result["diff"] = {
                "before": {"instance_refresh": None,
                           "instances_to_refresh": predicted},
                "after": {"instance_refresh": {"status": "Successful",
                                               "desired_configuration": self.result["request"]["desired_configuration"]},
                          "instances_to_refresh": []},
            }
        if self.module.check_mode:
            if not predicted:
                self.result["msg"] = "Nothing to refresh: no InService instance differs from the desired configuration."
                self.result.pop("diff", None)
                return
            self.result.update(changed=True, action="started", status="Pending",
                               msg="Would start an instance refresh of %d instance(s) in scaling group %s." % (
                                   len(predicted), self.group_id))
            return

        newest = ir.newest_task(tasks)
        token = ir.client_token(self.group_id, request, newest.get("InstanceRefreshTaskId") if newest else None)
        task_id = ir.start_instance_refresh(self.ess, self.group_id, request, token)
        if task_id is None:
            self.result.pop("diff", None)
            self.result["msg"] = "Nothing to refresh: ESS found no instance that needs a refresh."
            return
        self.result.update(changed=True, action="started", task_id=task_id)
        task = self.fetch(task_id)()
        if params["wait"]:
            task = self.wait(task)
            self.record_matching(task, group)
        self.finish(task, "Successful", "was started")

    def refuse_oos_rollout_in_flight(self):
        """Two rollouts must not update the same instances: an OOS rolling update of the group (running, or
        paused between batches) blocks a new refresh, as a refresh in flight blocks ess_rolling_update."""
        oos = self.module.client("oos")
        try:
            in_flight = ru.find_in_flight(ru.group_rollouts(oos, self.group_id, limit=50))
        except AlicloudApiError as error:
            if not (error.code or "").startswith("Forbidden"):
                raise
            self.module.warn("Could not check for an OOS rolling update in flight (oos:ListExecutions denied: %s)."
                             % error.code)
            return
        if in_flight:
            other = in_flight[0]
            self.fail("Another rollout of scaling group %s is in flight: OOS execution %s (%s, status %s). Let it "
                      "end, or roll it back (alicloud.rollout.ess_rolling_update invoke_type=rollback "
                      "source_execution_id=%s), before starting an instance refresh; nothing was started." % (
                          self.group_id, other.get("ExecutionId"), other.get("TemplateName"), other.get("Status"),
                          other.get("ExecutionId")))

    def adopt(self, task):
        self.result.update(action="adopted", status_before=task.get("Status"))
        self._record(task)
        if self.module.check_mode or not self.params["wait"]:
            self.result["msg"] = "Instance refresh %s with the same request is already %s (%s); adopted it." % (
                task.get("InstanceRefreshTaskId"), task.get("Status"), _progress(task))
            return
        task = self.wait(task)
        self.record_matching(task)
        self.finish(task, "Successful", "was adopted")
        self.result["msg"] = "Adopted the running instance refresh. " + self.result["msg"]

    # -- state=suspended|resumed|cancelled|rolled_back
    def act(self):
        state = self.params["state"]
        self.ess = self.module.client("ess")
        task_id = self.params.get("task_id")
        if task_id:
            task = ir.get_instance_refresh(self.ess, self.group_id, task_id)
            if task is None:
                self.fail("Instance refresh %s does not exist in scaling group %s (region %s). Check task_id, "
                          "scaling_group_id and region." % (task_id, self.group_id, self.ess.region))
        else:
            tasks = ir.describe_instance_refreshes(self.ess, scaling_group_id=self.group_id)
            task = ir.running_task(tasks) or ir.newest_task(tasks)
            if task is None:
                self.fail("Scaling group %s has no instance refresh task in region %s; nothing to %s. Check "
                          "scaling_group_id and region." % (self.group_id, self.ess.region, ir.ACTIONS[state]))
        status = task.get("Status")
        self.result["status_before"] = status
        self._record(task)
        decision, reason = ir.action_decision(task, state)
        if decision == "refuse":
            self.fail("Cannot apply state=%s: %s." % (state, reason), task)
        if decision == "ok":
            if self.params["wait"] and status in ("Cancelling", "RollbackInProgress") and not self.module.check_mode:
                task = self.wait(task, stop_on_pause=False)
                self.finish(task, ir.EXPECTED_STATUS[state], "was already ending")
            self.result["msg"] = "Nothing to do: %s." % reason
            return

        expected = ir.EXPECTED_STATUS[state]
        self.result["changed"] = True
        if self.module._diff:
            self.result["diff"] = {"before": {"status": status}, "after": {"status": expected}}
        if self.module.check_mode:
            self.result.update(status=expected, msg="Would send %s to instance refresh %s (now %s)." % (
                ir.ACTIONS[state], task.get("InstanceRefreshTaskId"), status))
            return
        ir.act(self.ess, self.group_id, task["InstanceRefreshTaskId"], state)
        task = self.fetch(task["InstanceRefreshTaskId"])()
        if self.params["wait"]:
            # Suspended: until Paused. Resumed: like a start, to its next pause or its end. Cancel and rollback:
            # to their end.
            task = self.wait(task, stop_on_pause=state in ("suspended", "resumed"), leaving=status)
            if state == "resumed":
                self.record_matching(task)
        self.finish(task, "Successful" if state == "resumed" else expected,
                    "received %s" % ir.ACTIONS[state])


def argument_spec():
    desired_spec = dict(
        scaling_configuration_id=dict(type="str"),
        image_id=dict(type="str"),
        launch_template_id=dict(type="str"),
        launch_template_version=dict(type="str"),
        launch_template_overrides=dict(type="list", elements="dict", options=dict(
            instance_type=dict(type="str", required=True))),
    )
    return dict(
        scaling_group_id=dict(type="str", required=True),
        state=dict(type="str", default="present",
                   choices=["present", "suspended", "resumed", "cancelled", "rolled_back"]),
        task_id=dict(type="str"),
        desired_configuration=dict(type="dict", options=desired_spec,
                                   mutually_exclusive=[["scaling_configuration_id", "image_id",
                                                        "launch_template_id"]]),
        min_healthy_percentage=dict(type="int"),
        max_healthy_percentage=dict(type="int"),
        skip_matching=dict(type="bool", default=True),
        checkpoints=dict(type="list", elements="int"),
        checkpoint_pause_time=dict(type="int"),
        batch_number=dict(type="int"),
        batch_pause_option=dict(type="str", choices=["Automatic", "FirstBatchPause", "EveryBatchPause"]),
        gate_seconds=dict(type="int"),
        preflight=dict(type="str", default="strict", choices=["strict", "warn"]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        poll_interval=dict(type="float"),
    )


def main():
    module = AlicloudModule(argument_spec=argument_spec(), supports_check_mode=True)
    runner = Runner(module)
    state = module.params["state"]
    if module.params["poll_interval"] is not None and module.params["poll_interval"] <= 0:
        module.fail_json(msg="Invalid poll_interval: must be more than 0 seconds, got %s."
                         % module.params["poll_interval"], **runner.result)
    if module.params["wait_timeout"] < 0:
        module.fail_json(msg="Invalid wait_timeout: must be 0 or more seconds, got %s."
                         % module.params["wait_timeout"], **runner.result)
    try:
        if state == "present":
            runner.present()
        else:
            runner.act()
    except AlicloudApiError as error:
        module.fail_api(error, msg="Instance refresh (state=%s) of scaling group %s failed" % (
            state, runner.group_id), **runner.result)
    module.exit_json(**runner.result)


if __name__ == "__main__":
    main()
