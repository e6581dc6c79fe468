#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ess_scaling_processes
short_description: Suspend or resume the scaling processes of an Auto Scaling group
version_added: 0.1.0
description:
  - Suspends or resumes named scaling processes of an Alibaba Cloud Auto Scaling (ESS) group with
    C(SuspendProcesses) or C(ResumeProcesses).
  - Idempotent. Only processes not yet in the wanted state are sent; suspending what is already suspended, or
    resuming what runs, reports C(changed=false) and makes no call.
  - Returns the suspended set before and after, and the processes it changed, so a playbook can later resume
    exactly what it suspended.
author:
  - alicloud.rollout maintainers (@alicloud-rollout)
options:
  scaling_group_id:
    description: ID of the scaling group.
    type: str
    required: true
  processes:
    description: The scaling processes to suspend or resume.
    type: list
    elements: str
    choices: [ScaleIn, ScaleOut, HealthCheck, AlarmNotification, ScheduledAction]
    default: [ScaleIn, ScaleOut, HealthCheck, AlarmNotification, ScheduledAction]
  state:
    description: V(suspended) suspends O(processes); V(resumed) resumes them.
    type: str
    choices: [suspended, resumed]
    default: suspended
  current_suspended_processes:
    description:
      - The processes the group has suspended now, as a read made moments earlier in the same run returned them
        (for example RV(alicloud.rollout.ess_rolling_update#module:processes.suspended) of a plan). The task then
        makes no read before the change.
      - The group is always read after the change, and the task acts again on what that read shows, so a list
        that was out of date still ends with O(processes) in the O(state) asked for.
      - Omit it to read the group first (the usual case).
    type: list
    elements: str
    choices: [ScaleIn, ScaleOut, HealthCheck, AlarmNotification, ScheduledAction]
extends_documentation_fragment:
  - alicloud.rollout.connection
attributes:
  check_mode:
    support: full
    description: Reads the group and reports what would change; suspends or resumes nothing.
  diff_mode:
    support: full
    description: The suspended processes before and after.
  action_group:
    support: full
    description: Use C(group/alicloud.rollout.alicloud) in C(module_defaults) to set shared options once.
    membership: [alicloud.rollout.alicloud]
"""

EXAMPLES = r"""
- name: Suspend scale-in and scale-out while we work on the group
  alicloud.rollout.ess_scaling_processes:
    region: cn-hangzhou
    scaling_group_id: asg-web
    processes: [ScaleIn, ScaleOut]
    state: suspended
  register: suspended

- name: Resume exactly what the task above suspended
  alicloud.rollout.ess_scaling_processes:
    region: cn-hangzhou
    scaling_group_id: asg-web
    processes: "{{ suspended.processes_changed }}"
    state: resumed
  when: suspended.processes_changed | length > 0
"""

RETURN = r"""
suspended_processes_before:
  description: Processes suspended before the task, in the ESS order.
  returned: always
  type: list
  elements: str
  sample: [HealthCheck]
suspended_processes_after:
  description: Processes suspended after the task (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [ScaleIn, ScaleOut, HealthCheck]
processes_changed:
  description: The processes this task suspended or resumed (or would have, in check mode).
  returned: always
  type: list
  elements: str
  sample: [ScaleIn, ScaleOut]
error:
  description: The API error (operation, code, message, request_id, http_status, recommend, advice) on an API failure.
  returned: on API failure
  type: dict
  sample: {"operation": "SuspendProcesses", "code": "InvalidScalingGroupId.NotFound"}
"""

from ansible_collections.alicloud.rollout.plugins.module_utils.client import AlicloudModule
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
from ansible_collections.alicloud.rollout.plugins.module_utils import ess as ess_api
from ansible_collections.alicloud.rollout.plugins.module_utils import group_ops


def main():
    module = AlicloudModule(
        argument_spec=dict(
            scaling_group_id=dict(type="str", required=True),
            processes=dict(type="list", elements="str", choices=group_ops.PROCESSES,
                           default=list(group_ops.PROCESSES)),
            state=dict(type="str", choices=["suspended", "resumed"], default="suspended"),
            current_suspended_processes=dict(type="list", elements="str", choices=group_ops.PROCESSES),
        ),
        supports_check_mode=True,
    )
    params = module.params
    group_id = params["scaling_group_id"]
    ess = module.client("ess")
    result = dict(changed=False, suspended_processes_before=[], suspended_processes_after=[], processes_changed=[])
    known = params.get("current_suspended_processes")

    def read():
        return group_ops.suspended_processes(ess_api.describe_scaling_group(ess, group_id))

    def send(processes):
        if params["state"] == "suspended":
            ess_api.suspend_processes(ess, group_id, processes)
        else:
            ess_api.resume_processes(ess, group_id, processes)

    try:
        before = group_ops.ordered_processes(known) if known is not None else read()
        to_change, after = group_ops.processes_plan(before, params["processes"], params["state"])
        result.update(suspended_processes_before=before, suspended_processes_after=after,
                      processes_changed=to_change, changed=bool(to_change))
        if module._diff:
            result["diff"] = {"before": {"suspended_processes": before}, "after": {"suspended_processes": after}}
        if (to_change or known is not None) and not module.check_mode:
            if to_change:
                send(to_change)
            after = read()
            # A given list that was out of date: the read after shows what is still to do.
            left = group_ops.processes_plan(after, params["processes"], params["state"])[0] if known is not None else []
            if left:
                send(left)
                to_change = group_ops.ordered_processes(to_change + left)
                after = read()
                result.update(processes_changed=to_change, changed=True)
            result["suspended_processes_after"] = after
    except AlicloudApiError as error:
        module.fail_api(error, msg="Could not %s processes of scaling group %s" % (
            "suspend" if params["state"] == "suspended" else "resume", group_id), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
