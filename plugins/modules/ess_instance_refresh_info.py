#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r"""
module: ess_instance_refresh_info
short_description: Read the instance refresh tasks of an ESS scaling group
version_added: 0.1.0
description:
  - Reads Alibaba Cloud Auto Scaling (ESS) instance refresh tasks (C(DescribeInstanceRefreshes)) of a scaling
    group, or by task ID, every page, newest first.
author:
  - alicloud.rollout maintainers (@alicloud-rollout)
options:
  scaling_group_id:
    description: ID of the scaling group. At least one of O(scaling_group_id) and O(task_ids) is required.
    type: str
  task_ids:
    description: IDs of refresh tasks (C(ir-...)).
    type: list
    elements: str
  running_only:
    description: Return only tasks that have not ended (paused ones included).
    type: bool
    default: false
extends_documentation_fragment:
  - alicloud.rollout.connection
attributes:
  check_mode:
    support: full
    description: Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
  action_group:
    support: full
    membership: [alicloud.rollout.alicloud]
    description: Use C(group/alicloud.rollout.alicloud) in C(module_defaults) to set the connection options once.
seealso:
  - module: alicloud.rollout.ess_instance_refresh
"""

EXAMPLES = r"""
- name: Every refresh task of a group
  alicloud.rollout.ess_instance_refresh_info:
    region: cn-hangzhou
    scaling_group_id: asg-bp1demo0000000001
  register: refreshes

- name: Is a refresh running?
  alicloud.rollout.ess_instance_refresh_info:
    region: cn-hangzhou
    scaling_group_id: asg-bp1demo0000000001
    running_only: true
  register: running

- name: Two tasks by ID
  alicloud.rollout.ess_instance_refresh_info:
    region: cn-hangzhou
    task_ids: [ir-bp1abcdefghijklmnop, ir-bp1qrstuvwxyz012345]
"""

RETURN = r"""
tasks:
  description: The tasks, newest first.
  returned: always
  type: list
  elements: dict
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
      description:
        - C(Pending), C(InProgress), C(Paused), C(CheckpointPause), C(Successful), C(Failed), C(Cancelling),
          C(Cancelled), C(RollbackInProgress), C(RollbackSuccessful) or C(RollbackFailed).
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
      description: The desired configuration (C(scaling_configuration_id), C(image_id), C(launch_template_id), ...).
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
  sample: [{"task_id": "ir-bp1abcdefghijklmnop", "scaling_group_id": "asg-bp1demo0000000001",
            "status": "CheckpointPause", "checkpoints": [50, 100], "finished_update_capacity": 2,
            "total_need_update_capacity": 4, "percent_done": 50, "running": true}]
running_task_id:
  description: ID of the task that has not ended (ESS runs at most one per group), or null.
  returned: always
  type: str
  sample: ir-bp1abcdefghijklmnop
"""

from ansible_collections.alicloud.rollout.plugins.module_utils.client import AlicloudModule
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
from ansible_collections.alicloud.rollout.plugins.module_utils import instance_refresh as ir


def argument_spec():
    return dict(
        scaling_group_id=dict(type="str"),
        task_ids=dict(type="list", elements="str"),
        running_only=dict(type="bool", default=False),
    )


def main():
    module = AlicloudModule(argument_spec=argument_spec(), required_one_of=[["scaling_group_id", "task_ids"]],
                            supports_check_mode=True)
    params = module.params
    if not params.get("scaling_group_id") and not params.get("task_ids"):
        module.fail_json(msg="Give scaling_group_id or a non-empty task_ids.", tasks=[])
    ess = module.client("ess")
    try:
        tasks = ir.describe_instance_refreshes(ess, scaling_group_id=params.get("scaling_group_id"),
                                               task_ids=params.get("task_ids") or None)
    except AlicloudApiError as error:
        module.fail_api(error, msg="Could not read the instance refresh tasks", tasks=[])
    if params["running_only"]:
        tasks = [t for t in tasks if t.get("Status") in ir.RUNNING_STATUSES]
    running = ir.running_task(tasks)
    module.exit_json(changed=False, tasks=[ir.summarize(t) for t in tasks],
                     running_task_id=running.get("InstanceRefreshTaskId") if running else None)


if __name__ == "__main__":
    main()
