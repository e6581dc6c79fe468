#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ess_rolling_update
short_description: Roll an image, a script or an OOS package through an Auto Scaling group in batches
version_added: 0.1.0
description:
  - Starts (or adopts) one rolling update of an Alibaba Cloud Auto Scaling (ESS) group through the public OOS
    templates and waits for it, batch by batch.
  - A new image uses C(ACS-ESS-RollingUpdateByReplaceSystemDiskInScalingGroup), a script
    C(ACS-ESS-RollingUpdateByRunCommandInScalingGroup) and an OOS package C(ACS-ESS-RollingUpdateByConfigureOOSPackage).
  - Fills what it can from the group, that is the active scaling configuration and its image (the image to roll back to),
    and leaves processes that were suspended before the rollout out of O(exit_process), so the rollout never
    resumes what you had suspended.
  - Idempotent. The same request on the same group gets the same client token, so a retried or re-run task never
    starts a second rollout; a rollout of the same request that is in flight is adopted (C(changed=false), same
    execution id); an image rollout where the configuration and every in-scope instance already run the image, and
    a package rollout where every instance already has the package version, start nothing. A different rollout
    in flight makes the task fail and names it.
  - "Rollback: O(invoke_type=rollback) with O(source_execution_id) runs the template in rollback mode on the
    instances the source execution reached. For an image rollout the module also puts the scaling configuration
    back on the source image (the public template does not)."
author:
  - alicloud.rollout maintainers (@alicloud-rollout)
options:
  scaling_group_id:
    description:
      - ID of the scaling group, for example V(asg-bp18p2yfxow2dloq0001).
      - One of O(scaling_group_id) and O(scaling_group_ids) is required.
    type: str
  scaling_group_ids:
    description:
      - Roll the same update through each of these scaling groups in one task (a fleet). Each group is planned,
        checked and started (or adopted) in turn exactly as with O(scaling_group_id), in this one process; then,
        with O(wait=true), the task waits for all of them together (one status read per round for the whole set).
      - A group that fails (a check, an API error, a failed rollout) does not stop the others; the task fails at the
        end and names the failed groups.
      - The per-group results are in RV(groups); the other return values are not set at the top level. Per-instance
        results are not read for a fleet; use M(alicloud.rollout.oos_execution_info) with O(alicloud.rollout.oos_execution_info#module:include_children).
      - Not with O(invoke_type=rollback) or O(client_token). See C(docs/performance.md) for the fleet pattern.
    type: list
    elements: str
  invoke_type:
    description:
      - V(invoke) rolls the update out; V(rollback) undoes the execution O(source_execution_id).
      - A rollback takes the template and its settings from the source execution; options given here override them.
    type: str
    choices: [invoke, rollback]
    default: invoke
  source_execution_id:
    description:
      - The rolling-update execution to roll back (the C(rollback_source_execution_id) a task returned).
      - Required with O(invoke_type=rollback). A source that is still running or paused is cancelled first.
    type: str
  image_id:
    description: Roll this image out (replaces the system disk of each instance). Template parameter C(imageId).
    type: str
  source_image_id:
    description:
      - Image to roll back to (C(sourceImageId)). Defaults to the image of the active scaling configuration.
    type: str
  scaling_configuration_id:
    description:
      - Scaling configuration whose image the template changes to O(image_id) (C(scalingConfigurationId)).
      - Defaults to the group's active scaling configuration. Groups using a launch template keep it unchanged.
    type: str
  max_errors:
    description: Instances that may fail before the image rollout stops (C(maxErrors); image template only).
    type: int
    default: 0
  invoke_script:
    description: Run this script on each instance (C(invokeScript)).
    type: str
  rollback_script:
    description: Script a rollback runs (C(rollbackScript)). Goes with O(invoke_script).
    type: str
  command_type:
    description: Kind of script (C(commandType)).
    type: str
    choices: [RunShellScript, RunBatScript, RunPowerShellScript]
    default: RunShellScript
  package_name:
    description:
      - Install or uninstall this OOS package on each instance (C(packageName)).
      - Checked with OOS C(GetTemplate) (a package is a template of type Package) before the rollout starts.
    type: str
  package_version:
    description:
      - Version of O(package_name) (C(packageVersion)); empty means the latest.
      - The version name the package was published with (for example V(1.26.1)); its OOS template version
        (for example V(v2)) is accepted too. Checked with OOS C(ListTemplateVersions) before the rollout starts.
    type: str
  package_action:
    description: What to do with O(package_name) (the template parameter C(action)).
    type: str
    choices: [install, uninstall]
    default: install
  batch_number:
    description: Number of batches, 1 to 100 (C(batchNumber)); each batch holds at least one instance.
    type: int
    default: 5
  batch_pause_option:
    description:
      - V(Automatic) runs all batches; V(FirstBatchPause) pauses after the first batch; V(EveryBatchPause) after each.
      - A paused rollout ends the wait with RV(paused=true); continue it from the ESS console or with NotifyExecution.
    type: str
    choices: [Automatic, FirstBatchPause, EveryBatchPause]
    default: Automatic
  enter_process:
    description: Scaling processes suspended while the rollout runs (C(enterProcess)).
    type: list
    elements: str
    choices: [ScaleIn, ScaleOut, HealthCheck, AlarmNotification, ScheduledAction]
    default: [ScaleIn, ScaleOut, HealthCheck, AlarmNotification, ScheduledAction]
  exit_process:
    description:
      - Scaling processes resumed at the end (C(exitProcess)).
      - Processes already suspended before the rollout are always left out.
    type: list
    elements: str
    choices: [ScaleIn, ScaleOut, HealthCheck, AlarmNotification, ScheduledAction]
    default: [ScaleIn, ScaleOut, HealthCheck, AlarmNotification, ScheduledAction]
  lifecycle_state:
    description: Instances in these lifecycle states are updated (C(lifecycleState)).
    type: list
    elements: str
    choices: [InService, Protected]
    default: [InService]
  oos_assume_role:
    description: RAM role OOS assumes to run the template (C(OOSAssumeRole)); empty uses the caller's identity.
    type: str
    default: ""
  template_name:
    description:
      - Use this OOS template instead of the public one (a copy that takes the same parameters).
      - When it is one of the three public names, it also selects what is rolled out.
    type: str
  template_version:
    description:
      - Pin the template version, for example V(v3).
      - A template named in O(template_name), or a version given here, is checked with OOS C(GetTemplate) before
        the start; the public template without a version is not (the group's C(ListExecutions) already showed that
        OOS answers in the region).
    type: str
  safety_check:
    description:
      - OOS C(SafetyCheck), always sent. V(ConfirmEveryHighRiskAction) makes each high-risk step wait for approval.
    type: str
    choices: [Skip, ConfirmEveryHighRiskAction]
    default: Skip
  tags:
    description: Extra tags for the execution. The tag C(scaling_group=<id>) is always set.
    type: dict
  client_token:
    description:
      - Override the derived client token, for example with a build number to deliberately run the same
        script again.
    type: str
  wait:
    description: Wait until the rollout ends (V(Success), V(Failed), V(Cancelled)) or pauses.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait. On timeout the task fails and returns the last state, with RV(execution_id).
    type: int
    default: 3600
  poll_interval:
    description:
      - Poll every this many seconds instead of the adaptive policy (which learns the batch duration and polls
        near the expected end of each batch).
    type: float
  verify:
    description:
      - After a rollout ends V(Success), read back every instance that was in scope when it started (the image ECS
        reports for an image rollout, the package state for a package, the result of the instance's child execution
        for a script) and return the ones not updated as RV(not_updated).
      - V(strict) fails the task when RV(not_updated) is not empty; V(warn) only warns.
      - OOS reports V(Success) by its own account. Whether the template's C(getInstance) step pages through
        C(DescribeScalingInstances) is not documented (INFERRED), so a group with more instances than one page could
        be only partly updated while the execution says V(Success); this catches it.
      - Not done for a fleet (O(scaling_group_ids)) or in check mode.
    type: str
    choices: [strict, warn]
    default: strict
  plan:
    description:
      - Pass back what an earlier task of this same request returned as RV(plan), moments earlier in the same run
        (the check-mode plan before the start, or the answer of the previous wait at a batch pause); do not build
        it yourself. The role C(alicloud.rollout.rolling_update) passes it to its launch and to each wait.
      - A plan that RV(plan.token) says is to start is trusted after one C(DescribeScalingGroups) read shows the
        group as the plan saw it (lifecycle state, active configuration or launch template, capacities). The task
        then starts with the plan's parameters, instances and client token and does not read the configuration,
        the instances, the images, the template, the rollouts or the instance refreshes again.
      - A plan that names an execution (C(execution_id) in RV(plan.token)) is trusted after one read of that
        execution shows it is this request on this group; the task follows it as an adopted execution.
      - Ignored, and everything is read again, when it is older than 15 minutes, was made with other options
        (the options that make up the request, see RV(plan.token)), the group changed, the execution is gone, or
        with O(invoke_type=rollback). The checks that guard a start (an instance refresh or another rollout in
        flight, an image or package that does not exist) were made by the plan; what changes in the moments
        between is not seen, but the client token still keeps the same request from starting twice.
    type: dict
  wait_hint:
    description:
      - The RV(wait_hint) the previous run of this rollout returned at a batch pause; the role
        C(alicloud.rollout.rolling_update) passes it on after each approval. Not used with O(scaling_group_ids).
      - When it belongs to the execution this run adopts and the next batch has just started, the wait knows the
        batch lengths and sizes without reading the execution's history (one C(ListTaskExecutions) call fewer) and
        sleeps until the batch is due. Otherwise it is ignored and the history is read.
      - Assumes the service counts the loop's items in the execution's C(Counters), as the batch marker does.
    type: dict
    suboptions:
      execution_id:
        description: The execution the hint describes.
        type: str
        required: true
      batch_sizes:
        description: Instances per batch.
        type: list
        elements: int
        required: true
      tasks_before_loop:
        description: Tasks of the execution that finished outside the loop of batches.
        type: int
        required: true
      batch_seconds:
        description: Lengths of the finished batches, from the API's timestamps.
        type: list
        elements: float
        required: true
extends_documentation_fragment:
  - alicloud.rollout.connection
attributes:
  check_mode:
    support: full
    description: Makes no change; returns the plan and C(changed) as a real run would.
  diff_mode:
    support: full
    description: Image or package per instance and the scaling configuration's image, before and after.
  action_group:
    support: full
    description: Use C(group/alicloud.rollout.alicloud) in C(module_defaults) to set shared options once.
    membership: [alicloud.rollout.alicloud]
notes:
  - The module runs on the controller or target host and polls there; under AWX keep O(wait_timeout) below the job
    timeout, or use O(wait=false) and M(alicloud.rollout.oos_execution_info) with O(alicloud.rollout.oos_execution_info#module:wait_for).
  - Batch sizes follow the template's C(Fn::CalculateBatch) with the remainder in the first batches (inferred).
"""

EXAMPLES = r"""
# The IDs below are those of the emulator's default world (tests/emulator/worlds/default.yml).
- name: Roll a new image through the group in two batches
  alicloud.rollout.ess_rolling_update:
    region: cn-hangzhou
    scaling_group_id: asg-bp1demo0000000001
    image_id: m-bp1newimage0000002
    batch_number: 2
  register: rollout

- name: Run a script on every instance, in four batches
  alicloud.rollout.ess_rolling_update:
    region: cn-hangzhou
    scaling_group_id: asg-bp1demo0000000001
    invoke_script: |
      echo "restarting app on $(hostname)"
    rollback_script: |
      echo "undo on $(hostname)"
    batch_number: 4

- name: Install version 1.26.1 of the OOS package nginx
  alicloud.rollout.ess_rolling_update:
    region: cn-hangzhou
    scaling_group_id: asg-bp1demo0000000001
    package_name: nginx
    package_version: "1.26.1"

- name: Roll back the image rollout (also puts the scaling configuration back on the old image)
  alicloud.rollout.ess_rolling_update:
    region: cn-hangzhou
    scaling_group_id: asg-bp1demo0000000001
    invoke_type: rollback
    source_execution_id: "{{ rollout.rollback_source_execution_id }}"

- name: Start without waiting; follow it with oos_execution_info
  alicloud.rollout.ess_rolling_update:
    region: cn-hangzhou
    scaling_group_id: asg-bp1demo0000000001
    image_id: m-bp1newimage0000002
    batch_pause_option: FirstBatchPause
    wait: false
  register: started

- name: Wait until the first batch is done and the rollout pauses
  alicloud.rollout.oos_execution_info:
    region: cn-hangzhou
    execution_ids: ["{{ started.execution_id }}"]
    wait_for: [Waiting, Success]
"""

RETURN = r"""
execution_id:
  description: ID of the OOS execution started or adopted (or the earlier one that already did this). Also on failure and timeout.
  returned: when an execution exists
  type: str
  sample: exec-0a1b2c3d4e5f6a7b8c9d
status:
  description: OOS status word of the execution (V(Success), V(Failed), V(Cancelled), V(Waiting), V(Running)...).
  returned: when an execution exists
  type: str
  sample: Success
status_message:
  description: OOS status message.
  returned: when an execution exists
  type: str
  sample: ""
template_name:
  description: The OOS template used.
  returned: always
  type: str
  sample: ACS-ESS-RollingUpdateByReplaceSystemDiskInScalingGroup
template_version:
  description: Template version of the execution, if known.
  returned: when an execution exists
  type: str
  sample: v3
kind:
  description: What is rolled out, V(image), V(script) or V(package).
  returned: always
  type: str
  sample: image
invoke_type:
  description: V(invoke) or V(rollback).
  returned: always
  type: str
  sample: invoke
paused:
  description: True when the execution waits (batch pause or a confirmation).
  returned: always
  type: bool
  sample: false
pause_reason:
  description: Why it waits (the OOS C(WaitingStatus) when given), or null.
  returned: always
  type: str
  sample: BatchPause
adopted:
  description: True when an in-flight execution of the same request was adopted instead of starting one.
  returned: always
  type: bool
  sample: false
parameters:
  description: The template parameters sent (or that would be sent in check mode).
  returned: always
  type: dict
  sample: {"invokeType": "invoke", "scalingGroupId": "asg-web", "imageId": "img-web-v2", "batchNumber": 2}
client_token:
  description: The client token sent with StartExecution.
  returned: always
  type: str
  sample: ansible-rollout-5f1c0a2b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b
outputs:
  description: Parsed execution outputs (the templates put per-instance outputs in C(commandOutputs)).
  returned: always
  type: dict
  sample: {"commandOutputs": ["ok", "ok"]}
batches:
  description: The batches, planned in check mode or as run.
  returned: always
  type: list
  elements: dict
  contains:
    number:
      description: Batch number, from 1.
      type: int
    instances:
      description: Instance IDs in the batch.
      type: list
      elements: str
    status:
      description: V(Planned), V(Running), V(Success) or V(Failed).
      type: str
  sample: [{"number": 1, "instances": ["i-1"], "status": "Success"}]
instances:
  description: Per-instance results of the execution.
  returned: when an execution was waited for or has ended
  type: list
  elements: dict
  contains:
    instance_id:
      description: Instance ID.
      type: str
    status:
      description: Status of the instance's child execution.
      type: str
    output:
      description: Script or package output, or the new system disk ID.
      type: raw
    error:
      description: Why it failed, for failed instances.
      type: str
    lifecycle_state:
      description: Lifecycle state of the instance when the rollout took it.
      type: str
    batch:
      description: Batch number.
      type: int
    child_execution_id:
      description: ID of the child execution for the instance.
      type: str
  sample: [{"instance_id": "i-1", "status": "Failed", "output": "exit 1", "error": "ExitCode 1", "batch": 1}]
plan:
  description: What the module decided, before it started anything.
  returned: always
  type: dict
  contains:
    action:
      description: V(start), V(adopt), V(none) (already done), or V(conflict).
      type: str
    instances_to_change:
      description: Instances whose image or package would change (all in-scope instances for a script).
      type: list
      elements: str
    batches:
      description: Planned instance IDs per batch.
      type: list
      elements: list
    token:
      description:
        - What a later task of this request needs to trust this plan or follow this execution (give the whole
          RV(plan) back as O(plan)). Set when RV(plan.action) is V(start) or V(adopt), not with O(invoke_type=rollback).
        - Opaque; its keys may change. It holds a digest of the options that make up the request, the time it was
          made, the template, its parameters and client token, the instances in scope, the group's state and
          C(execution_id) once an execution exists.
      type: dict
  sample: {"action": "start", "instances_to_change": ["i-1", "i-2"], "batches": [["i-1"], ["i-2"]]}
rollback_source_execution_id:
  description: Give this as O(source_execution_id) with O(invoke_type=rollback) to undo this rollout.
  returned: for invoke executions
  type: str
  sample: exec-0a1b2c3d4e5f6a7b8c9d
scaling_configuration:
  description: Scaling configuration ID and image before the run, and after it when the module changed it.
  returned: for image rollouts
  type: dict
  sample: {"scaling_configuration_id": "asc-web", "image_id_before": "img-web-v1", "image_id_after": "img-web-v2"}
duration:
  description: Seconds the task spent.
  returned: always
  type: float
  sample: 93.2
polls:
  description: Status calls made while waiting.
  returned: always
  type: int
  sample: 7
not_updated:
  description:
    - Instances in scope at the start of a rollout that ended V(Success) but do not show the update when read back
      (O(verify)), each with C(instance_id) and C(reason). Empty when all were updated; null when nothing was verified
      (no V(Success), check mode, a fleet).
  returned: always
  type: list
  elements: dict
  sample: [{"instance_id": "i-bp1abc", "reason": "runs image m-old, not m-new"}]
wait_hint:
  description:
    - What the next run needs to follow this paused rollout without a history read; give it back as O(wait_hint)
      after approving the pause. Null unless the execution is paused.
  returned: with O(scaling_group_id)
  type: dict
  contains:
    execution_id:
      description: The paused execution.
      type: str
    batch_sizes:
      description: Instances per batch.
      type: list
      elements: int
    tasks_before_loop:
      description: Tasks that finished outside the loop of batches.
      type: int
    batch_seconds:
      description: Lengths of the finished batches in seconds, from the API's timestamps.
      type: list
      elements: float
  sample: {"execution_id": "exec-1", "batch_sizes": [4, 4, 4], "tasks_before_loop": 3, "batch_seconds": [31.0]}
group:
  description:
    - In check mode (a plan), the scaling group as M(alicloud.rollout.ess_scaling_group_info) returns it, with only
      the instances in scope (O(lifecycle_state)) in C(instances), read with the plan's own calls.
  returned: in check mode, when the plan read the instances (not on a conflict, not with O(invoke_type=rollback))
  type: dict
  sample: {"scaling_group_id": "asg-web", "lifecycle_state": "Active", "image_id": "m-old", "suspended_processes": [],
           "instances": [{"instance_id": "i-1", "private_ip": "10.0.0.1", "lifecycle_state": "InService"}]}
rolled_back_by:
  description:
    - When the newest rollout of the group is a rollback of this same request (the same image, script, or package
      and version), that rollback. Starting the request again would repeat what it undid.
    - C(execution_id) and C(status) of the rollback, C(source_execution_id) (the rollout it undid) and
      C(source_suspended_processes) (what the run that started that rollout tagged as suspended by it, see RV(processes)).
    - Null otherwise. Also returned when the task fails because that rollback is still in flight.
  returned: with O(invoke_type=invoke), once the group's rollouts were read
  type: dict
  sample: {"execution_id": "exec-2", "status": "Success", "source_execution_id": "exec-1",
           "source_suspended_processes": ["ScaleIn", "ScaleOut"]}
processes:
  description:
    - The group's scaling processes as this task read them, and what an earlier run left suspended.
    - C(suspended) are the suspended processes. C(left_by_earlier_run) are the ones an earlier run of the role
      C(alicloud.rollout.rolling_update) suspended and never resumed, from the execution tag
      C(rollout_suspended_processes) that run set. That run is the one adopted here, or else the newest rollout of
      the group once it has ended with every process it tagged still suspended (it was interrupted and its execution
      ended unwatched). C(suspended_before) are the others, suspended by someone else, which a rollout leaves alone.
  returned: with O(invoke_type=invoke), once the group's rollouts were read
  type: dict
  contains:
    suspended:
      description: The group's suspended processes.
      type: list
      elements: str
    left_by_earlier_run:
      description: Those an interrupted earlier run of the role suspended and never resumed.
      type: list
      elements: str
    suspended_before:
      description: The others, suspended by someone else.
      type: list
      elements: str
  sample: {"suspended": ["ScaleIn", "HealthCheck"], "left_by_earlier_run": ["ScaleIn"], "suspended_before": ["HealthCheck"]}
groups:
  description:
    - With O(scaling_group_ids), one result per group in the order given, with the keys a single-group task returns
      (RV(execution_id), RV(status), RV(paused), RV(plan)...) plus C(scaling_group_id), C(changed), C(failed) and C(msg).
  returned: with O(scaling_group_ids)
  type: list
  elements: dict
  sample: [{"scaling_group_id": "asg-web", "execution_id": "exec-1", "status": "Success", "changed": true, "failed": false}]
error:
  description: The API error (operation, code, message, request_id, http_status, recommend, advice) on an API failure.
  returned: on API failure
  type: dict
  sample: {"operation": "StartExecution", "code": "Forbidden.RAM", "request_id": "5E0F..."}
"""

import hashlib
import time

from ansible_collections.alicloud.rollout.plugins.module_utils.client import AlicloudModule
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
from ansible_collections.alicloud.rollout.plugins.module_utils import ess as ess_api
from ansible_collections.alicloud.rollout.plugins.module_utils import fleet
from ansible_collections.alicloud.rollout.plugins.module_utils import group_ops
from ansible_collections.alicloud.rollout.plugins.module_utils import oos as oos_api
from ansible_collections.alicloud.rollout.plugins.module_utils import instance_refresh as ir
from ansible_collections.alicloud.rollout.plugins.module_utils import rolling_update as ru
from ansible_collections.alicloud.rollout.plugins.module_utils.waiter import (
    WaitTimeout, is_failed, is_paused, is_terminal, wait_for_rollout, wait_hint)

# The options that make up a request: a plan (RV plan.token) is trusted only by a task with the same ones.
REQUEST_OPTIONS = ("scaling_group_id", "image_id", "source_image_id", "scaling_configuration_id", "max_errors",
                   "invoke_script", "rollback_script", "command_type", "package_name", "package_version",
                   "package_action", "batch_number", "batch_pause_option", "enter_process", "exit_process",
                   "lifecycle_state", "oos_assume_role", "template_name", "template_version", "safety_check",
                   "client_token")
# A plan older than this is read again instead of trusted (it is meant for the next task of the same run).
PLAN_MAX_AGE = 900
# What one group read compares with the plan before the plan is trusted.
GROUP_STATE_KEYS = ("LifecycleState", "ActiveScalingConfigurationId", "LaunchTemplateId", "TotalCapacity",
                    "ActiveCapacity", "StandbyCapacity", "ProtectedCapacity", "PendingCapacity", "RemovingCapacity")


def argument_spec():
    return dict(
        scaling_group_id=dict(type="str"),
        scaling_group_ids=dict(type="list", elements="str"),
        invoke_type=dict(type="str", choices=["invoke", "rollback"], default="invoke"),
        source_execution_id=dict(type="str"),
        image_id=dict(type="str"),
        source_image_id=dict(type="str"),
        scaling_configuration_id=dict(type="str"),
        max_errors=dict(type="int", default=0),
        invoke_script=dict(type="str"),
        rollback_script=dict(type="str"),
        command_type=dict(type="str", choices=ru.COMMAND_TYPES, default="RunShellScript"),
        package_name=dict(type="str"),
        package_version=dict(type="str"),
        package_action=dict(type="str", choices=ru.PACKAGE_ACTIONS, default="install"),
        batch_number=dict(type="int", default=5),
        batch_pause_option=dict(type="str", choices=ru.BATCH_PAUSE_OPTIONS, default="Automatic"),
        enter_process=dict(type="list", elements="str", choices=ru.PROCESSES, default=list(ru.PROCESSES)),
        exit_process=dict(type="list", elements="str", choices=ru.PROCESSES, default=list(ru.PROCESSES)),
        lifecycle_state=dict(type="list", elements="str", choices=ru.LIFECYCLE_STATES, default=["InService"]),
        oos_assume_role=dict(type="str", default=""),
        template_name=dict(type="str"),
        template_version=dict(type="str"),
        safety_check=dict(type="str", choices=["Skip", "ConfirmEveryHighRiskAction"], default="Skip"),
        tags=dict(type="dict"),
        client_token=dict(type="str", no_log=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        poll_interval=dict(type="float"),
        verify=dict(type="str", choices=["strict", "warn"], default="strict"),
        plan=dict(type="dict"),
        wait_hint=dict(type="dict", options=dict(
            execution_id=dict(type="str", required=True),
            batch_sizes=dict(type="list", elements="int", required=True),
            tasks_before_loop=dict(type="int", required=True),
            batch_seconds=dict(type="list", elements="float", required=True),
        )),
    )


class Rollout:
    """One run of the module: read, decide, (start), wait, report."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.started_at = time.time()
        self.result = {"changed": False, "adopted": False, "paused": False, "pause_reason": None, "polls": 0,
                       "wait_hint": None, "batches": [], "outputs": {}, "parameters": {}, "plan": {}, "client_token": None,
                       "execution_id": None, "status": None, "rollback_source_execution_id": None,
                       "not_updated": None}
        self.rollback = self.params["invoke_type"] == "rollback"
        self.scope_ids = None  # instances in scope when the rollout started (for verify)
        self.scope_records = None  # their DescribeScalingInstances records (for the group facts of a plan)
        self.ecs_records = None  # {instance_id: DescribeInstances record}, read once
        self.token_base = None  # what a later task of this request needs to trust this run (RV plan.token)

    # -- helpers
    def finish(self, failed_msg=None, **extra):
        self.result.update(extra)
        if self.token_base is not None and isinstance(self.result.get("plan"), dict) and \
                self.result["plan"].get("action") in ("start", "adopt"):
            self.result["plan"]["token"] = dict(self.token_base, execution_id=self.result.get("execution_id"))
        self.result["duration"] = round(time.time() - self.started_at, 3)
        if failed_msg:
            self.module.fail_json(msg=failed_msg, **self.result)
        self.module.exit_json(**self.result)

    def run(self):
        params = self.params
        try:
            self.kind = ru.choose_kind(params)
            ru.validate(params, self.kind)
        except ru.ValidationError as exc:
            self.module.fail_json(msg=str(exc))
        self.oos = self.module.client("oos")
        self.ess = self.module.client("ess")
        try:
            self._run()
        except AlicloudApiError as error:
            self.result["duration"] = round(time.time() - self.started_at, 3)
            self.module.fail_api(error, msg="Rolling update of %s failed" % params["scaling_group_id"],
                                 **self.result)

    def _run(self):
        params = self.params
        group_id = params["scaling_group_id"]
        source = None
        if self.rollback:
            source = oos_api.get_execution(self.oos, params["source_execution_id"])
            if source is None:
                self.module.fail_json(msg="Execution %s (source_execution_id) does not exist in region %s." % (
                    params["source_execution_id"], self.oos.region), **self.result)
            source_group = ru.parameters_of(source).get("scalingGroupId")
            if source_group and source_group != params["scaling_group_id"]:
                self.module.fail_json(msg="Execution %s updated scaling group %s, not %s." % (
                    source["ExecutionId"], source_group, params["scaling_group_id"]), **self.result)
            if ru.parameters_of(source).get("invokeType") == "rollback":
                self.module.fail_json(msg="Execution %s is itself a rollback; a rollback cannot be rolled back." %
                                      source["ExecutionId"], **self.result)
            if self.kind is None:
                self.kind = ru.KIND_OF_TEMPLATE.get(source.get("TemplateName"))
                if self.kind is None and not params.get("template_name"):
                    self.module.fail_json(msg="Execution %s ran template %s, which is not a rolling-update "
                                          "template this module knows." % (source["ExecutionId"],
                                                                           source.get("TemplateName")),
                                          **self.result)
        template_name = params.get("template_name") or (source or {}).get("TemplateName") or ru.TEMPLATES[self.kind]
        self.result.update(template_name=template_name, kind=self.kind, invoke_type=params["invoke_type"])

        token = self._trusted_token(template_name)
        if token is not None:
            if token.get("execution_id"):
                if self._follow(token):
                    return None
            elif self._start_from_plan(token):
                return None

        group = ess_api.describe_scaling_group(self.ess, group_id)
        if group.get("LifecycleState") not in (None, "Active"):
            self.module.fail_json(msg="Scaling group %s is %s; a rolling update needs an Active group." % (
                group_id, group.get("LifecycleState")), **self.result)
        configuration = None
        config_id = params.get("scaling_configuration_id") or group.get("ActiveScalingConfigurationId")
        if self.kind == "image" and config_id:
            configuration = ess_api.describe_scaling_configuration(self.ess, config_id, group_id)
        try:
            parameters = ru.build_parameters(params, self.kind, group=group, configuration=configuration,
                                             source=source)
        except ru.ValidationError as exc:
            self.module.fail_json(msg=str(exc), **self.result)
        self.parameters = parameters
        self.result["parameters"] = parameters
        if self.kind == "image" and not parameters.get("scalingConfigurationId"):
            self.module.warn("Scaling group %s has no active scaling configuration (launch template?); the "
                             "template will not change the image new instances get." % group_id)

        rollouts = ru.group_rollouts(self.oos, group_id)
        in_flight = ru.find_in_flight(rollouts)
        if self.rollback and source.get("Status") in ru.IN_FLIGHT_STATUSES:
            # The source itself is in flight: a rollback cancels it first (as the ESS console does).
            in_flight = [e for e in in_flight if e.get("ExecutionId") != source["ExecutionId"]]
        mine = [e for e in in_flight if ru.same_request(e, template_name, parameters)]
        others = [e for e in in_flight if not ru.same_request(e, template_name, parameters)]
        if not self.rollback:
            self._history(rollouts, mine, group, parameters)
        if mine:
            return self._adopt(mine[0], configuration, source, group)
        if others:
            other = others[0]
            self.result["plan"] = {"action": "conflict", "instances_to_change": [], "batches": []}
            self.finish(failed_msg="Another rollout of scaling group %s is in flight: execution %s (%s, status %s). "
                        "Wait for it, or roll it back, before starting a different one." % (
                            group_id, other.get("ExecutionId"), other.get("TemplateName"), other.get("Status")),
                        execution_id=other.get("ExecutionId"), status=other.get("Status"))
        return self._start_or_skip(rollouts, group, configuration, source, template_name)

    # -- a plan made seconds earlier in the same run (RV plan.token)
    def _request_key(self):
        request = dict((k, self.params.get(k)) for k in REQUEST_OPTIONS)
        material = ru.canonical(dict(request, region=self.oos.region))
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]

    def _set_token_base(self, template_name, token, config_change, group, rollouts=()):
        """What the next task of this request needs to skip the reads this one made (returned as RV plan.token)."""
        self.token_base = {
            "request": self._request_key(), "planned_at": round(time.time(), 3), "template_name": template_name,
            "parameters": self.parameters, "client_token": token, "scope": list(self.scope_ids or []),
            "instances_to_change": list((self.result.get("plan") or {}).get("instances_to_change") or []),
            "configuration": list(config_change) if config_change else None,
            "group_state": dict((k, (group or {}).get(k)) for k in GROUP_STATE_KEYS) if group else None,
            # Earlier executions of this request: a start whose token finds one of them started nothing.
            "known_executions": [e.get("ExecutionId") for e in rollouts
                                 if ru.same_request(e, template_name, self.parameters)]}

    def _trusted_token(self, template_name):
        """The O(plan) token when this task may act on it instead of reading everything again, else None."""
        plan = self.params.get("plan") or {}
        token = plan.get("token") if isinstance(plan, dict) else None
        if self.rollback or not isinstance(token, dict) or token.get("template_name") != template_name:
            return None
        age = time.time() - float(token.get("planned_at") or 0)
        if token.get("request") != self._request_key() or not 0 <= age <= PLAN_MAX_AGE:
            return None
        if not isinstance(token.get("parameters"), dict) or not isinstance(token.get("scope"), list):
            return None
        return token

    def _adopt_token(self, token):
        self.parameters = token["parameters"]
        self.scope_ids = list(token["scope"])
        self.token_base = dict(token)
        self.result["parameters"] = self.parameters
        configuration = token.get("configuration")
        if self.kind == "image" and configuration:
            self.result["scaling_configuration"] = {"scaling_configuration_id": configuration[0],
                                                    "image_id_before": configuration[1],
                                                    "image_id_after": configuration[1]}

    def _start_from_plan(self, token):
        """Start what the plan planned, after one group read shows the group as the plan saw it. False when it
        does not (then everything is read again)."""
        if token.get("execution_id") or not token.get("client_token") or not token.get("group_state"):
            return False
        group = ess_api.describe_scaling_group(self.ess, self.params["scaling_group_id"])
        if dict((k, group.get(k)) for k in GROUP_STATE_KEYS) != token["group_state"]:
            return False
        self._adopt_token(token)
        ids = self.scope_ids
        plan_batches = ru.plan_batches(ids, self.parameters["batchNumber"])
        self.result["batches"] = [{"number": n + 1, "instances": b, "status": "Planned"}
                                  for n, b in enumerate(plan_batches)]
        self.result["plan"] = {"action": "start", "instances_to_change": list(token.get("instances_to_change") or []),
                               "batches": plan_batches}
        self.result["client_token"] = token["client_token"]
        self.result["changed"] = True
        if self.module.check_mode:
            self.result["msg"] = "Would start %s on %d instance(s) in %d batch(es) (as planned)." % (
                token["template_name"], len(ids), len(plan_batches))
            self.finish()
        known = set(token.get("known_executions") or [])
        return self._start(token["template_name"], token["client_token"],
                           lambda e: e.get("ExecutionId") in known) or True

    def _follow(self, token):
        """Go on with the execution the previous task of this request started or adopted. False when it is gone
        or is not that request (then everything is read again)."""
        execution = oos_api.get_execution(self.oos, token["execution_id"])
        if execution is None or not ru.same_request(execution, token["template_name"], token["parameters"]) or \
                ru.parameters_of(execution).get("scalingGroupId") != self.params["scaling_group_id"]:
            return False
        self._adopt_token(token)
        self.result["adopted"] = True
        self.result["plan"] = {"action": "adopt", "instances_to_change": [], "batches": []}
        self.result.update(ru.shape_result(execution, self.kind, self.parameters))
        if self.module.check_mode:
            self.finish()
        return self._wait_and_report(execution) or True

    def _history(self, rollouts, mine, group, parameters):
        """What the group's earlier rollouts mean for this request: RV rolled_back_by and RV processes."""
        self.result["rolled_back_by"] = ru.rollback_of_request(self.oos, rollouts, self.kind, parameters)
        suspended = group_ops.suspended_processes(group)
        earlier = mine[0] if mine else (rollouts[0] if rollouts else None)
        inherited = ru.inherited_processes(earlier, bool(mine), suspended)
        self.result["processes"] = {"suspended": suspended, "left_by_earlier_run": inherited,
                                    "suspended_before": [p for p in suspended if p not in inherited]}

    def _ecs_records(self, ids):
        if self.ecs_records is None:
            records = ess_api.describe_instances(self.module.client("ecs"), list(ids)) if ids else []
            self.ecs_records = dict((r.get("InstanceId"), r) for r in records)
        return self.ecs_records

    def _group_facts(self, group, configuration):
        """In check mode (a plan): the group and its in-scope instances as ess_scaling_group_info shows them."""
        if not self.module.check_mode or self.rollback or group is None or self.scope_records is None:
            return
        ecs = self._ecs_records([r.get("InstanceId") for r in self.scope_records])
        instances = [group_ops.instance_facts(r, ecs.get(r.get("InstanceId"))) for r in self.scope_records]
        self.result["group"] = group_ops.group_facts(group, configuration, instances)

    # -- decisions
    def _scope(self, source):
        """Instance IDs the execution will touch, in template order."""
        if self.rollback:
            children = oos_api.list_child_executions(self.oos, source["ExecutionId"])
            ids = []
            for child in children:
                instance_id = ru.parameters_of(child).get("instanceId")
                if instance_id and instance_id not in ids:
                    ids.append(instance_id)
            return ids
        instances = ru.in_scope_instances(self.ess, self.params["scaling_group_id"], self.params["lifecycle_state"])
        self.scope_records = instances
        return [i.get("InstanceId") for i in instances]

    def _target_state(self, ids, configuration):
        """(before, after, to_change, fingerprint) of what the rollout changes per instance."""
        parameters = self.parameters
        before, after = {}, {}
        if self.kind == "image":
            images = dict((i, record.get("ImageId")) for i, record in self._ecs_records(ids).items())
            target = parameters["sourceImageId"] if self.rollback else parameters["imageId"]
            for instance_id in ids:
                before[instance_id] = images.get(instance_id)
                after[instance_id] = target
        elif self.kind == "package":
            versions = ru.instance_packages(self.oos, ids, parameters["packageName"])
            wanted = None if parameters["action"] == "uninstall" else (parameters["packageVersion"] or "latest")
            for instance_id in ids:
                installed = versions.get(instance_id) or []
                before[instance_id] = installed[0] if installed else None
                matches = ru.package_matches(installed, parameters["packageVersion"], parameters["action"])
                after[instance_id] = before[instance_id] if matches else wanted
        else:
            return {}, {}, list(ids), None
        to_change = [i for i in ids if before.get(i) != after.get(i)]
        fingerprint = ru.canonical({"instances": before, "configuration": (configuration or {}).get("ImageId")})
        return before, after, to_change, fingerprint

    def _config_change(self, configuration):
        """(config_id, before, after) for the scaling configuration image, or None."""
        if self.kind != "image" or not configuration:
            return None
        target = self.parameters["sourceImageId"] if self.rollback else self.parameters["imageId"]
        return (configuration.get("ScalingConfigurationId"), configuration.get("ImageId"), target)

    def _set_diff(self, before, after, config_change):
        if not self.module._diff or self.kind == "script":
            return
        key = "image" if self.kind == "image" else "package"
        diff_before, diff_after = {"instances": {}}, {"instances": {}}
        for instance_id in sorted(set(before) | set(after)):
            diff_before["instances"][instance_id] = {key: before.get(instance_id)}
            diff_after["instances"][instance_id] = {key: after.get(instance_id)}
        if config_change:
            config_id, old, new = config_change
            diff_before["scaling_configuration"] = {"id": config_id, "image_id": old}
            diff_after["scaling_configuration"] = {"id": config_id, "image_id": new}
        self.result["diff"] = {"before": diff_before, "after": diff_after}

    def _start_or_skip(self, rollouts, group, configuration, source, template_name):
        params, parameters = self.params, self.parameters
        ids = self._scope(source)
        self.scope_ids = list(ids)
        plan_batches = ru.plan_batches(ids, parameters["batchNumber"])
        before, after, to_change, fingerprint = self._target_state(ids, configuration)
        self._group_facts(group, configuration)
        config_change = self._config_change(configuration)
        config_needs_change = bool(config_change and config_change[1] != config_change[2])
        self.result["batches"] = [{"number": n + 1, "instances": b, "status": "Planned"}
                                  for n, b in enumerate(plan_batches)]
        self.result["plan"] = {"action": "start", "instances_to_change": to_change, "batches": plan_batches}
        if config_change:
            self.result["scaling_configuration"] = {"scaling_configuration_id": config_change[0],
                                                    "image_id_before": config_change[1],
                                                    "image_id_after": config_change[1]}
        self._set_diff(before, after, config_change if config_needs_change else None)

        # Already done?
        done_execution = None
        if self.rollback:
            for execution in rollouts:
                p = ru.parameters_of(execution)
                if p.get("invokeType") == "rollback" and p.get("sourceExecutionId") == source["ExecutionId"] \
                        and execution.get("Status") == "Success":
                    done_execution = execution
                    break
        elif self.kind in ("image", "package"):
            if not to_change and not (self.kind == "image" and config_needs_change):
                self.result["plan"]["action"] = "none"
                previous = ru.last_success_of_request(rollouts, template_name, parameters)
                if previous is not None:
                    # Report the rollout that got the group here, so a re-run still returns its id (and, outside
                    # check mode, its batches and instances: a wait that finds it ended needs no other read).
                    self.result.update(ru.shape_result(previous, self.kind, parameters))
                    if config_change:
                        self.result["scaling_configuration"]["image_id_before"] = \
                            ru.parameters_of(previous).get("sourceImageId") or config_change[1]
                    if not self.module.check_mode:
                        self._add_instances(previous)
                self.result["msg"] = "Every in-scope instance%s already has the target %s; nothing to do." % (
                    " and the scaling configuration" if self.kind == "image" else "", self.kind)
                self.finish()
        else:
            done_execution = ru.last_success_of_request(rollouts, template_name, parameters)
        if done_execution is not None:
            self.result["plan"]["action"] = "none"
            self.result.update(ru.shape_result(done_execution, self.kind, parameters))
            self.result["msg"] = "Execution %s already did this; nothing started." % done_execution["ExecutionId"]
            if self.rollback and config_needs_change:
                self._restore_configuration(config_change)
            self.finish()

        if not self.rollback:
            self._refuse_instance_refresh_in_flight()
            self._check_inputs_exist(ids, template_name, config_needs_change)
        elif not parameters.get("enterProcess"):
            # The template's suspendProcessWithRollBack has no empty-list guard (public template definition).
            self.module.warn("Execution %s suspended no process (enterProcess empty). The template's rollback calls "
                             "SuspendProcesses with that empty list anyway, which ESS may refuse (INFERRED); then "
                             "the rollback fails before it touches an instance." % source["ExecutionId"])

        generation = ru.generation_marker(rollouts, template_name, parameters)
        token = params.get("client_token") or ru.client_token(
            self.oos.region, template_name, params.get("template_version"), parameters, generation, fingerprint)
        self.result["client_token"] = token
        self.result["changed"] = True
        if not self.rollback:
            self._set_token_base(template_name, token, config_change, group, rollouts)
        if self.module.check_mode:
            self.result["msg"] = "Would start %s on %d instance(s) in %d batch(es)." % (
                template_name, len(ids), len(plan_batches))
            if config_needs_change:
                self.result["scaling_configuration"]["image_id_after"] = config_change[2]
            self.finish()

        if self.rollback and source.get("Status") in ru.IN_FLIGHT_STATUSES:
            oos_api.cancel_execution(self.oos, source["ExecutionId"])
        known = set(e.get("ExecutionId") for e in rollouts)
        return self._start(template_name, token, lambda e: e.get("ExecutionId") in known, config_change
                           if self.rollback and config_needs_change else None)

    def _start(self, template_name, token, existed, config_to_restore=None):
        """StartExecution (idempotent by ``token``), then wait. ``existed(execution)``: it was there before."""
        params, parameters = self.params, self.parameters
        tags = dict(params.get("tags") or {})
        tags[ru.SCALING_GROUP_TAG] = params["scaling_group_id"]
        execution = oos_api.start_execution(
            self.oos, template_name, parameters, template_version=params.get("template_version"),
            client_token=token, tags=tags, safety_check=params["safety_check"])
        if existed(execution):
            # The token matched an execution that already existed: nothing new was started.
            self.result["changed"] = False
        if execution.get("Status") == "Waiting":
            # StartExecution's answer has no WaitingStatus/StatusReason (OOS SDK model): ListExecutions has.
            execution = oos_api.get_execution(self.oos, execution["ExecutionId"]) or execution
        self.result.update(ru.shape_result(execution, self.kind, parameters))
        self.result["plan"]["action"] = "start"
        if config_to_restore:
            self._restore_configuration(config_to_restore)
        return self._wait_and_report(execution)

    def _refuse_instance_refresh_in_flight(self):
        """Two rollouts must not update the same instances: an ESS instance refresh of the group in flight blocks a
        new rolling update, as an OOS rollout in flight blocks ess_instance_refresh."""
        group_id = self.params["scaling_group_id"]
        try:
            running = ir.running_task(ir.describe_instance_refreshes(self.ess, scaling_group_id=group_id))
        except AlicloudApiError as error:
            if not (error.code or "").startswith("Forbidden"):
                raise
            self.module.warn("Could not check for an instance refresh in flight (ess:DescribeInstanceRefreshes "
                             "denied: %s)." % error.code)
            return
        if running is not None:
            self.result["plan"]["action"] = "conflict"
            self.finish(failed_msg="Another rollout of scaling group %s is in flight: instance refresh %s (%s). Let "
                        "it end (or roll it back) first; no execution started." % (
                            group_id, running.get("InstanceRefreshTaskId"), running.get("Status")))

    def _check_inputs_exist(self, ids, template_name, config_needs_change):
        """Read-only checks so bad input fails before StartExecution instead of inside the template."""
        params, group_id = self.params, self.params["scaling_group_id"]
        if not ids and not (self.kind == "image" and config_needs_change):
            self.finish(failed_msg="Scaling group %s has no instance in lifecycle_state %s; nothing to roll out "
                        "(no execution started)." % (group_id, ", ".join(params["lifecycle_state"])))
        version = params.get("template_version")
        if params.get("template_name") or version:
            self._check_template_exists(template_name, version)
        # A public template without a version is not checked: the group's ListExecutions already showed that OOS
        # answers in the region, and the public templates are in every OOS region (INFERRED); were one missing,
        # StartExecution would refuse it before any instance is touched.
        if self.kind == "image":
            self._check_image_exists(self.parameters["imageId"])
        elif self.kind == "package":
            self._check_package_exists(self.parameters["packageName"], self.parameters["packageVersion"],
                                       self.parameters["action"])

    def _check_template_exists(self, template_name, version):
        try:
            oos_api.get_template(self.oos, template_name, version)
        except AlicloudApiError as error:
            if not (error.code or "").startswith("EntityNotExists"):
                raise
            what = "version %s of OOS template %s" % (version, template_name) if version and \
                error.code == "EntityNotExists.TemplateVersion" else "OOS template %s%s" % (
                    template_name, " (version %s)" % version if version else "")
            self.module.fail_api(error, msg="%s does not exist in region %s; no execution started" % (
                what, self.oos.region), **self.result)

    def _check_package_exists(self, name, version, action):
        """An OOS package is a template of type Package: GetTemplate finds it, ListTemplateVersions its versions."""
        try:
            oos_api.get_template(self.oos, name)
        except AlicloudApiError as error:
            if not (error.code or "").startswith("EntityNotExists"):
                raise
            self.module.fail_api(error, msg="OOS package %s (package_name) does not exist in region %s; no execution "
                                 "started" % (name, self.oos.region), **self.result)
        if not version or action != "install":
            return
        try:
            versions = oos_api.list_template_versions(self.oos, name)
        except AlicloudApiError as error:
            if not (error.code or "").startswith("Forbidden"):
                raise
            self.module.warn("Could not check that version %s of OOS package %s exists (oos:ListTemplateVersions "
                             "denied: %s)." % (version, name, error.code))
            return
        if ru.known_package_version(versions, version) is None:
            names = ", ".join(n for n in (v.get("VersionName") or v.get("TemplateVersion") for v in versions) if n)
            self.finish(failed_msg="OOS package %s has no version %s (package_version) in region %s; its versions "
                        "are %s. No execution started." % (name, version, self.oos.region, names or "none"))

    def _check_image_exists(self, image_id):
        """Refuse only an image that no DescribeImages query finds (any owner, any status); warn where the answer
        cannot decide (denied, an API error, a status other than Available)."""
        ecs = self.module.client("ecs")
        try:
            image = ess_api.find_image(ecs, image_id)
        except AlicloudApiError as error:
            self.module.warn("Could not check that image %s exists (ecs:DescribeImages: %s%s); starting anyway, the "
                             "template fails on the first instance if it does not." % (
                                 image_id, error.code, ", RequestId %s" % error.request_id if error.request_id
                                 else ""))
            return
        if image is None:
            self.finish(failed_msg="image_id %s does not exist in region %s: DescribeImages finds it neither among "
                        "system, own and shared images nor in the marketplace or the community images, in any "
                        "status. No execution started." % (image_id, ecs.region))
        status = image.get("Status")
        if status and status != "Available":
            self.module.warn("Image %s is %s, not Available; ReplaceSystemDisk may fail with it." % (image_id, status))

    def _restore_configuration(self, config_change):
        """Image rollback: new scale-outs must get the source image again (the template leaves the new one)."""
        config_id, old, new = config_change
        if self.module.check_mode:
            return
        ess_api.modify_scaling_configuration(self.ess, config_id, new)
        self.result["changed"] = True
        self.result["scaling_configuration"] = {"scaling_configuration_id": config_id, "image_id_before": old,
                                                "image_id_after": new}

    def _adopt(self, execution, configuration, source, group=None):
        self.result["adopted"] = True
        if not self.module.check_mode:
            # Its start is past: the instances its children name plus those in scope now.
            ids = [ru.parameters_of(c).get("instanceId") for c in
                   oos_api.list_child_executions(self.oos, execution["ExecutionId"])]
            self.scope_ids = [i for i in ids if i] + [i for i in self._scope(source) if i not in ids]
        elif not self.rollback:
            # The plan: the instances in scope now, with the facts the caller checks them with.
            self.scope_ids = self._scope(source)
            self._group_facts(group, configuration)
        self.result["plan"] = {"action": "adopt", "instances_to_change": [], "batches": []}
        self.result["client_token"] = None
        self.result.update(ru.shape_result(execution, self.kind, self.parameters))
        if self.kind == "image" and configuration and not self.rollback:
            # The image the adopted execution started from, so a report of the adopting run still shows the change.
            self.result["scaling_configuration"] = {
                "scaling_configuration_id": configuration.get("ScalingConfigurationId"),
                "image_id_before": ru.parameters_of(execution).get("sourceImageId") or configuration.get("ImageId"),
                "image_id_after": configuration.get("ImageId")}
        if self.rollback:
            config_change = self._config_change(configuration)
            if config_change and config_change[1] != config_change[2]:
                self._restore_configuration(config_change)
        else:
            self._set_token_base(self.result["template_name"], None, self._config_change(configuration), group)
        if self.module.check_mode:
            self.finish()
        return self._wait_and_report(execution)

    # -- waiting and reporting
    def _wait_and_report(self, execution):
        params = self.params
        if params["wait"] and not is_terminal(execution) and not is_paused(execution):
            # The poll policy follows the loop in batches; an adopted rollout is seeded from its finished batches.
            loop_task = ru.LOOP_TASKS.get(self.kind, (None, None))[1 if self.rollback else 0]
            planned = [len(b) for b in (self.result.get("plan") or {}).get("batches") or []] if loop_task else []
            try:
                execution, polls, _waited = wait_for_rollout(
                    self.oos, execution, loop_task, planned, params["wait_timeout"], params.get("poll_interval"),
                    adopted=self.result["adopted"], hint=params.get("wait_hint"))
                self.result["polls"] = polls
            except WaitTimeout as timeout:
                self.result["polls"] = timeout.polls
                self.result.update(ru.shape_result(timeout.execution, self.kind, self.parameters))
                self._add_instances(timeout.execution)
                self.finish(failed_msg="%s The rollout goes on in OOS; check it with oos_execution_info, or roll it "
                            "back with invoke_type=rollback and source_execution_id=%s." % (
                                timeout, timeout.execution.get("ExecutionId")))
        self.result.update(ru.shape_result(execution, self.kind, self.parameters))
        if is_terminal(execution) or is_paused(execution):
            self._add_instances(execution)
        if is_terminal(execution):
            # The image template changes the configuration; read it back once the rollout has ended.
            self._refresh_configuration()
        if execution.get("Status") == "Success":
            self._verify()
        if is_failed(execution):
            failing = [i for i in self.result.get("instances", []) if i["status"] in ("Failed", "Cancelled")]
            detail = "; ".join("%s: %s" % (i["instance_id"], i.get("error") or i.get("output") or i["status"])
                               for i in failing[:10])
            self.finish(failed_msg="Rolling update %s ended %s%s%s" % (
                execution.get("ExecutionId"), execution.get("Status"),
                (": " + execution["StatusMessage"]) if execution.get("StatusMessage") else "",
                (". Failing instances: " + detail) if detail else "."))
        self.finish()

    def _verify(self):
        """Read back every instance in scope at the start; fail (strict) or warn when one was not updated."""
        if self.scope_ids is None or self.module.check_mode:
            return
        try:
            not_updated = ru.not_updated(self.module.client("ecs") if self.kind == "image" else None, self.oos,
                                         self.kind, self.parameters, self.scope_ids, self.result.get("instances"))
        except AlicloudApiError as error:
            self.module.fail_api(error, msg="Execution %s ended Success but the instances could not be read back to "
                                 "verify it (verify=%s)" % (self.result["execution_id"], self.params["verify"]),
                                 **self.result)
        self.result["not_updated"] = not_updated
        if not not_updated:
            return
        detail = "; ".join("%s: %s" % (i["instance_id"], i["reason"]) for i in not_updated[:10])
        message = ("Execution %s ended Success, but %d of %d instance(s) in scope at its start were not updated: %s. "
                   "Run the task again to roll out to them, or roll back with invoke_type=rollback and "
                   "source_execution_id=%s." % (self.result["execution_id"], len(not_updated), len(self.scope_ids),
                                                detail, self.result["execution_id"]))
        if self.params["verify"] == "strict":
            self.finish(failed_msg=message)
        self.module.warn(message)

    def _refresh_configuration(self):
        """Report the scaling configuration's image as it is now (the image template changes it)."""
        reported = self.result.get("scaling_configuration")
        if not reported or self.module.check_mode:
            return
        try:
            current = ess_api.describe_scaling_configuration(self.ess, reported["scaling_configuration_id"],
                                                             self.params["scaling_group_id"])
        except AlicloudApiError as error:
            self.module.warn("Could not re-read the scaling configuration: %s" % error)
            return
        if current:
            reported["image_id_after"] = current.get("ImageId")

    def _add_instances(self, execution):
        warnings, loop_items = [], []
        try:
            instances, batches = ru.instance_results(self.oos, execution, self.kind, warnings=warnings,
                                                     loop_items=loop_items)
        except AlicloudApiError as error:
            self.module.warn("Could not read per-instance results: %s" % error)
            return
        for warning in warnings:
            self.module.warn(warning)
        self.result["wait_hint"] = wait_hint(execution, loop_items)
        self.result["instances"] = instances
        if batches:
            self.result["batches"] = batches


def main():
    module = AlicloudModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[("image_id", "invoke_script", "package_name"), ("scaling_group_id", "scaling_group_ids"),
                            ("scaling_group_ids", "source_execution_id"), ("scaling_group_ids", "client_token")],
        required_one_of=[("scaling_group_id", "scaling_group_ids")],
        required_if=[("invoke_type", "rollback", ("source_execution_id",))],
    )
    if module.params.get("scaling_group_ids"):
        fleet.run_many(module, lambda group_module: Rollout(group_module).run())
    Rollout(module).run()


if __name__ == "__main__":
    main()
