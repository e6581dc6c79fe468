#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: oos_execution
short_description: Approve, reject, cancel, retry or skip one OOS execution
version_added: 0.1.0
description:
  - Acts on exactly one Alibaba Cloud OOS execution, given by ID. It never looks for or touches other executions.
  - V(approve) continues an execution paused after a batch (C(NotifyExecution) with C(NotifyType=Approve));
    V(reject) ends it as failed (C(Reject)); V(cancel) stops it (C(CancelExecution)); V(retry_task) and
    V(skip_task) continue an execution paused on a failed task (C(RetryTask), C(SkipTask)).
  - Idempotent. Acting on an execution already in the target state is C(ok) with C(changed=false), for
    example approving a running execution or cancelling one that has ended. An action that is not possible in
    the execution's state (approving a cancelled execution) fails and says why.
  - That V(approve) continues a batch pause is inferred from the ESS console's Continue button; it is what the
    local emulator implements. Check it on your account before relying on it.
author:
  - alicloud.rollout maintainers (@alicloud-rollout)
options:
  execution_id:
    description: ID of the execution to act on.
    type: str
    required: true
  action:
    description: What to do.
    type: str
    choices: [approve, reject, cancel, retry_task, skip_task]
    required: true
  task_execution_id:
    description:
      - For V(retry_task) and V(skip_task), the failed task execution. Defaults to the newest failed task of
        O(execution_id).
    type: str
  note:
    description: A note recorded with the notification (C(NotifyNote)).
    type: str
  wait:
    description:
      - With V(cancel) or V(reject), wait until the execution reaches a final status.
      - Other actions return once OOS accepted them; follow the execution with
        M(alicloud.rollout.ess_rolling_update) (it adopts a rollout in flight) or M(alicloud.rollout.oos_execution_info).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait with O(wait=true).
    type: int
    default: 600
  poll_interval:
    description: Seconds between status calls while waiting.
    type: float
    default: 2
extends_documentation_fragment:
  - alicloud.rollout.connection
attributes:
  check_mode:
    support: full
    description: Reads the execution and reports whether it would act; sends nothing.
  diff_mode:
    support: full
    description: Status of the execution before and the status expected after.
  action_group:
    support: full
    description: Use C(group/alicloud.rollout.alicloud) in C(module_defaults) to set shared options once.
    membership: [alicloud.rollout.alicloud]
"""

EXAMPLES = r"""
- name: Continue a rollout paused after its first batch
  alicloud.rollout.oos_execution:
    region: cn-hangzhou
    execution_id: "{{ rollout.execution_id }}"
    action: approve

- name: Stop a rollout and wait until it is cancelled
  alicloud.rollout.oos_execution:
    region: cn-hangzhou
    execution_id: "{{ rollout.execution_id }}"
    action: cancel
    wait_timeout: 300

- name: Retry the failed instance of an execution started in FailurePause mode
  alicloud.rollout.oos_execution:
    region: cn-hangzhou
    execution_id: exec-0a1b2c3d4e5f6a7b8c9d
    action: retry_task
"""

RETURN = r"""
execution_id:
  description: The execution acted on.
  returned: always
  type: str
  sample: exec-0a1b2c3d4e5f6a7b8c9d
status_before:
  description: Status of the execution before the task.
  returned: always
  type: str
  sample: Waiting
waiting_status_before:
  description: Kind of wait before the task (V(BatchPause), V(FailurePause)), or null.
  returned: always
  type: str
  sample: BatchPause
status:
  description: Status after the task (as read back; the expected one in check mode).
  returned: always
  type: str
  sample: Running
task_execution_id:
  description: The task execution retried or skipped.
  returned: for retry_task and skip_task when acted
  type: str
  sample: exec-0a1b2c3d4e5f6a7b8c9d.t0003
msg:
  description: What was done, or why nothing was.
  returned: always
  type: str
  sample: Execution exec-0a1b2c3d4e5f6a7b8c9d is already Cancelled.
error:
  description: The API error (operation, code, message, request_id, http_status, recommend, advice) on an API failure.
  returned: on API failure
  type: dict
  sample: {"operation": "NotifyExecution", "code": "InvalidStatus.Execution"}
"""

from ansible_collections.alicloud.rollout.plugins.module_utils.client import AlicloudModule
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
from ansible_collections.alicloud.rollout.plugins.module_utils import group_ops
from ansible_collections.alicloud.rollout.plugins.module_utils import oos as oos_api
from ansible_collections.alicloud.rollout.plugins.module_utils.waiter import PollPolicy, WaitTimeout, wait_for


def main():
    module = AlicloudModule(
        argument_spec=dict(
            execution_id=dict(type="str", required=True),
            action=dict(type="str", choices=sorted(group_ops.EXECUTION_ACTIONS), required=True),
            task_execution_id=dict(type="str"),
            note=dict(type="str"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=600),
            poll_interval=dict(type="float", default=2),
        ),
        supports_check_mode=True,
    )
    params = module.params
    execution_id, action = params["execution_id"], params["action"]
    oos = module.client("oos")
    result = dict(changed=False, execution_id=execution_id, status_before=None, waiting_status_before=None,
                  status=None)
    try:
        execution = oos_api.get_execution(oos, execution_id)
        if execution is None:
            module.fail_json(msg="Execution %s does not exist in region %s." % (execution_id, oos.region), **result)
        status = execution.get("Status")
        result.update(status_before=status, waiting_status_before=execution.get("WaitingStatus") or None,
                      status=status)
        decision, reason = group_ops.execution_decision(execution, action)
        if decision == "refuse":
            module.fail_json(msg="Cannot %s: %s." % (action.replace("_", " "), reason), **result)
        if decision == "ok":
            result["msg"] = "Nothing to do: %s." % reason
            module.exit_json(**result)

        expected = group_ops.expected_status(action)
        result["changed"] = True
        if module._diff:
            result["diff"] = {"before": {"status": status}, "after": {"status": expected}}
        if module.check_mode:
            result.update(status=expected, msg="Would %s execution %s." % (action.replace("_", " "), execution_id))
            module.exit_json(**result)

        task_execution_id = params.get("task_execution_id")
        if action in ("retry_task", "skip_task"):
            task_execution_id = task_execution_id or group_ops.failed_task_execution_id(oos, execution_id)
            result["task_execution_id"] = task_execution_id
        group_ops.act_on_execution(oos, execution_id, action, task_execution_id=task_execution_id,
                                   note=params.get("note"), before=execution)
        current = oos_api.get_execution(oos, execution_id) or execution
        if params["wait"] and action in ("cancel", "reject"):
            try:
                current = wait_for(lambda: oos_api.get_execution(oos, execution_id) or current,
                                   PollPolicy(fixed=params["poll_interval"]), params["wait_timeout"],
                                   stop_on_pause=False, initial=current)[0]
            except WaitTimeout as timeout:
                result["status"] = (timeout.execution or {}).get("Status")
                module.fail_json(msg=str(timeout), **result)
        result["status"] = current.get("Status")
        result["msg"] = "Sent %s to execution %s; it is now %s." % (action, execution_id, result["status"])
    except AlicloudApiError as error:
        module.fail_api(error, msg="Could not %s execution %s" % (action.replace("_", " "), execution_id), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
