#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: oos_execution_info
short_description: Read OOS executions, their tasks, batches, per-instance children and logs
version_added: 0.1.0
description:
  - Lists OOS executions by ID or by filters (template name, status, tags such as C(scaling_group), start dates),
    following every page.
  - Optionally adds the task executions, the loop batches and per-instance child executions with status and
    output, and the execution logs.
  - Optionally waits until each execution named in O(execution_ids) reaches one of the statuses in O(wait_for),
    for playbooks that started a rollout with C(wait=false) or resume after an interrupted job.
  - Read-only.
author:
  - alicloud.rollout maintainers (@alicloud-rollout)
options:
  execution_ids:
    description: IDs of the executions to read. Filters are ignored when this is set.
    type: list
    elements: str
    aliases: [execution_id]
  template_name:
    description: Only executions of templates whose name contains this.
    type: str
  status:
    description: Only executions in this status.
    type: str
    choices: [Started, Queued, Running, Waiting, Success, Failed, Cancelled]
  tags:
    description: Only executions with all these tags, for example the tag C(scaling_group) with a group ID as value.
    type: dict
  start_date_after:
    description: Only executions started at or after this time (ISO 8601 UTC, for example V(2026-01-01T00:00:00Z)).
    type: str
  start_date_before:
    description: Only executions started at or before this time (ISO 8601 UTC).
    type: str
  max_results:
    description: Return at most this many executions (newest first). All pages are read up to this number.
    type: int
    default: 100
  include_task_executions:
    description: Add the task executions of each execution as C(task_executions).
    type: bool
    default: false
  include_children:
    description:
      - Add per-instance results (child executions with status, output and error) as C(instances) and the loop
        batches as C(batches) to each execution.
    type: bool
    default: false
  include_logs:
    description: Add the execution logs as C(logs).
    type: bool
    default: false
  wait_for:
    description:
      - Wait until every execution in O(execution_ids) has one of these statuses.
      - Waiting stops at a final status (V(Success), V(Failed), V(Cancelled)) or, when V(Waiting) is listed, at a
        pause; the task fails when the status reached is not in the list.
    type: list
    elements: str
    choices: [Started, Queued, Running, Waiting, Success, Failed, Cancelled]
  wait_timeout:
    description: Seconds O(wait_for) may take; on timeout the task fails and returns the last state.
    type: int
    default: 600
  poll_interval:
    description: Poll every this many seconds instead of the adaptive policy.
    type: float
extends_documentation_fragment:
  - alicloud.rollout.connection
attributes:
  check_mode:
    support: full
    description: This module is read only and operates the same regardless of check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to compare.
  action_group:
    support: full
    description: Use C(group/alicloud.rollout.alicloud) in C(module_defaults) to set shared options once.
    membership: [alicloud.rollout.alicloud]
"""

EXAMPLES = r"""
# The IDs below are those of the emulator's default world (tests/emulator/worlds/default.yml).
- name: Start a rollout without waiting
  alicloud.rollout.ess_rolling_update:
    region: cn-hangzhou
    scaling_group_id: asg-bp1demo0000000001
    invoke_script: uptime
    wait: false
  register: started

- name: Wait for it to end (or pause), up to 30 minutes
  alicloud.rollout.oos_execution_info:
    region: cn-hangzhou
    execution_ids: ["{{ started.execution_id }}"]
    wait_for: [Success, Waiting]
    wait_timeout: 1800

- name: Read it with its batches, per-instance output and logs
  alicloud.rollout.oos_execution_info:
    region: cn-hangzhou
    execution_ids: ["{{ started.execution_id }}"]
    include_children: true
    include_logs: true
  register: detail

- name: All successful rollouts of the scaling group
  alicloud.rollout.oos_execution_info:
    region: cn-hangzhou
    tags:
      scaling_group: asg-bp1demo0000000001
    status: Success
"""

RETURN = r"""
executions:
  description: The executions found, newest first; keys are snake_case, except inside parameters, outputs and tags.
  returned: always
  type: list
  elements: dict
  contains:
    execution_id:
      description: Execution ID.
      type: str
    template_name:
      description: Template name.
      type: str
    status:
      description: OOS status word.
      type: str
    status_message:
      description: Status message.
      type: str
    waiting_status:
      description: Why a V(Waiting) execution waits, when OOS says.
      type: str
    parameters:
      description: Template parameters.
      type: dict
    outputs:
      description: Parsed outputs.
      type: raw
    tags:
      description: Tags.
      type: dict
    start_date:
      description: Start time.
      type: str
    end_date:
      description: End time.
      type: str
    task_executions:
      description: Task executions (with O(include_task_executions)).
      type: list
      elements: dict
    instances:
      description: Per-instance results (with O(include_children)).
      type: list
      elements: dict
    batches:
      description: Loop batches with their instances and status (with O(include_children)).
      type: list
      elements: dict
    logs:
      description: Execution logs (with O(include_logs)).
      type: list
      elements: dict
  sample: [{"execution_id": "exec-1", "status": "Success", "template_name": "ACS-ESS-RollingUpdateByRunCommandInScalingGroup"}]
ids:
  description: IDs of the executions found.
  returned: always
  type: list
  elements: str
  sample: ["exec-1"]
waited:
  description: Seconds spent in O(wait_for).
  returned: when O(wait_for) is set
  type: float
  sample: 42.0
"""

import json
import time

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.alicloud.rollout.plugins.module_utils.client import AlicloudModule
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
from ansible_collections.alicloud.rollout.plugins.module_utils import oos as oos_api
from ansible_collections.alicloud.rollout.plugins.module_utils.waiter import WaitTimeout, is_terminal, wait_for_all

STATUSES = ["Started", "Queued", "Running", "Waiting", "Success", "Failed", "Cancelled"]
KEEP_AS_IS = ["Parameters", "Outputs", "Tags", "Counters", "Loop", "ExtraData", "Properties"]


def snake(item):
    converted = camel_dict_to_snake_dict(item, ignore_list=KEEP_AS_IS)
    for key in ("outputs", "properties"):
        value = converted.get(key)
        if isinstance(value, str) and value:
            try:
                converted[key] = json.loads(value)
            except ValueError:
                pass
    return converted


def find(oos, params):
    if params.get("execution_ids"):
        found = []
        for execution_id in params["execution_ids"]:
            execution = oos_api.get_execution(oos, execution_id)
            if execution is not None:
                found.append(execution)
        return found
    filters = dict((k, params[k]) for k in ("template_name", "status", "tags", "start_date_after",
                                            "start_date_before") if params.get(k))
    return oos_api.list_executions(oos, limit=params["max_results"], **filters)


def wait_all(oos, executions, params, clock=time.monotonic, sleep=time.sleep):
    """Wait until every execution has a status in wait_for (or a final status). Returns (executions, polls).

    Looks before sleeping, reads the whole unfinished set with one ListExecutions per round and sleeps once
    per round; raises WaitTimeout with ``executions`` (the last state of all of them).
    """
    wanted = set(params["wait_for"])
    done, polls, _waited = wait_for_all(
        lambda ids, latest: oos_api.get_executions(oos, ids, known=latest), executions,
        lambda execution: execution.get("Status") in wanted or is_terminal(execution),
        params["wait_timeout"], params.get("poll_interval"), clock=clock, sleep=sleep)
    return done, polls


def argument_spec():
    return dict(
        execution_ids=dict(type="list", elements="str", aliases=["execution_id"]),
        template_name=dict(type="str"),
        status=dict(type="str", choices=STATUSES),
        tags=dict(type="dict"),
        start_date_after=dict(type="str"),
        start_date_before=dict(type="str"),
        max_results=dict(type="int", default=100),
        include_task_executions=dict(type="bool", default=False),
        include_children=dict(type="bool", default=False),
        include_logs=dict(type="bool", default=False),
        wait_for=dict(type="list", elements="str", choices=STATUSES),
        wait_timeout=dict(type="int", default=600),
        poll_interval=dict(type="float"),
    )


def main():
    module = AlicloudModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_by={"wait_for": ("execution_ids",)},
    )
    params = module.params
    if params["max_results"] < 1:
        module.fail_json(msg="max_results must be at least 1.")
    if params["wait_timeout"] <= 0:
        module.fail_json(msg="wait_timeout must be positive.")
    oos = module.client("oos")
    result = {"changed": False, "executions": [], "ids": []}
    started = time.monotonic()
    try:
        executions = find(oos, params)
        if params.get("execution_ids"):
            missing = sorted(set(params["execution_ids"]) - set(e.get("ExecutionId") for e in executions))
            if missing:
                module.fail_json(msg="No such execution in region %s: %s." % (oos.region, ", ".join(missing)),
                                 **result)
        if params.get("wait_for"):
            try:
                executions, polls = wait_all(oos, executions, params)
            except WaitTimeout as timeout:
                result["executions"] = [snake(e) for e in timeout.executions]
                result["ids"] = [e.get("ExecutionId") for e in timeout.executions]
                result["waited"] = round(time.monotonic() - started, 3)
                module.fail_json(msg=str(timeout), **result)
            result["waited"] = round(time.monotonic() - started, 3)
            result["polls"] = polls
        shaped = []
        for execution in executions:
            item = snake(execution)
            execution_id = execution.get("ExecutionId")
            if params["include_task_executions"]:
                item["task_executions"] = [snake(t) for t in oos_api.list_task_executions(oos, execution_id)]
            if params["include_children"]:
                # Imported here: it pulls in the ESS SDK, which the other read paths do not need.
                from ansible_collections.alicloud.rollout.plugins.module_utils import rolling_update as ru
                kind = ru.KIND_OF_TEMPLATE.get(execution.get("TemplateName"))
                missing_details = []
                instances, batches = ru.instance_results(oos, execution, kind, warnings=missing_details)
                for warning in missing_details:
                    module.warn(warning)
                item["instances"] = instances
                item["batches"] = batches
            if params["include_logs"]:
                item["logs"] = [snake(log) for log in oos_api.list_execution_logs(oos, execution_id)]
            shaped.append(item)
        result["executions"] = shaped
        result["ids"] = [e.get("execution_id") for e in shaped]
        if params.get("wait_for"):
            unexpected = [e for e in shaped if e.get("status") not in params["wait_for"]]
            if unexpected:
                module.fail_json(msg="Execution %s ended %s, not one of %s." % (
                    unexpected[0]["execution_id"], unexpected[0].get("status"), ", ".join(params["wait_for"])),
                    **result)
    except AlicloudApiError as error:
        module.fail_api(error, msg="Could not read OOS executions", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
