#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecs_command
short_description: Run a command on ECS instances through Cloud Assistant and return each one's exit code and output
version_added: 0.1.0
description:
  - Runs O(command) on every instance of O(instance_ids) with ECS C(RunCommand) (Cloud Assistant, no network path
    from the controller needed), then waits until every instance has finished or O(wait_timeout) passes, reading
    C(DescribeInvocationResults).
  - Returns per instance the status, exit code and the end of the output. Fails when an instance exits with a code
    other than 0 or does not finish in time, unless O(fail_on_error=false).
  - Running a command is a change - the module reports C(changed). In check mode it runs nothing and reports what
    it would run.
  - The instances must be Running and have the Cloud Assistant agent (Alibaba Cloud images have it).
author:
  - alicloud.rollout maintainers (@alicloud-rollout)
options:
  instance_ids:
    description: The instances (100 per C(RunCommand) call; more are split).
    type: list
    elements: str
    required: true
  command:
    description: The command content (a shell script for V(RunShellScript)).
    type: str
    required: true
  command_type:
    description: The interpreter.
    type: str
    choices: [RunShellScript, RunPowerShellScript, RunBatScript]
    default: RunShellScript
  timeout:
    description: Seconds (10 or more) the command may run on an instance before Cloud Assistant stops it.
    type: int
    default: 60
  wait:
    description: Wait for the results. With V(false) the module returns the invoke IDs at once.
    type: bool
    default: true
  wait_timeout:
    description: Seconds (more than 0) to wait for every instance to finish.
    type: float
    default: 300
  poll_interval:
    description: Seconds (more than 0) between two reads of the results.
    type: float
    default: 5
  fail_on_error:
    description: Fail when an instance exits with a code other than 0 or has not finished within O(wait_timeout).
    type: bool
    default: true
extends_documentation_fragment:
  - alicloud.rollout.connection
attributes:
  check_mode:
    support: full
    description: Runs nothing; returns the instances and command it would run, with C(changed=true).
  diff_mode:
    support: none
    description: Running a command has no before and after the module could show.
  action_group:
    support: full
    description: Use C(group/alicloud.rollout.alicloud) in C(module_defaults) to set shared options once.
    membership: [alicloud.rollout.alicloud]
notes:
  - RAM actions - C(ecs:RunCommand) and C(ecs:DescribeInvocationResults) (see docs/ram-policy.json).
"""

EXAMPLES = r"""
- name: Check the service on every instance of a batch, where the controller cannot reach them
  alicloud.rollout.ecs_command:
    instance_ids: "{{ batch_ids }}"
    command: curl -fsS http://127.0.0.1:8080/health
    timeout: 30
  register: check

- name: Collect disk usage without failing on an instance that errors
  alicloud.rollout.ecs_command:
    instance_ids: [i-bp1aaa, i-bp1bbb]
    command: df -h /
    fail_on_error: false
"""

RETURN = r"""
invoke_ids:
  description: The Cloud Assistant invocations (one per 100 instances); empty in check mode.
  returned: always
  type: list
  elements: str
results:
  description: Per instance, the outcome (when O(wait)).
  returned: when O(wait) and not in check mode
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance.
      type: str
    finished:
      description: Whether the command ended on it within O(wait_timeout).
      type: bool
    status:
      description: ECS InvocationStatus (V(Success), V(Failed), V(Timeout), V(Running)...).
      type: str
    exit_code:
      description: The exit code (null while not finished).
      type: int
    output:
      description: The output (stdout and stderr), its last 4 KB, decoded.
      type: str
    error:
      description: ECS ErrorInfo or ErrorCode when there is one.
      type: str
  sample: [{"instance_id": "i-bp1aaa", "finished": true, "status": "Success", "exit_code": 0,
            "output": "ok\n", "error": null}]
failed_instances:
  description: Instances that exited with a code other than 0 or did not finish, each as C(id reason).
  returned: when O(wait) and not in check mode
  type: list
  elements: str
error:
  description: The API error (operation, code, message, request_id, http_status, recommend, advice) on an API failure.
  returned: on API failure
  type: dict
"""

from ansible_collections.alicloud.rollout.plugins.module_utils.client import AlicloudModule
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
from ansible_collections.alicloud.rollout.plugins.module_utils import cloud_assistant


def main():
    module = AlicloudModule(
        argument_spec=dict(
            instance_ids=dict(type="list", elements="str", required=True),
            command=dict(type="str", required=True),
            command_type=dict(type="str", choices=list(cloud_assistant.COMMAND_TYPES), default="RunShellScript"),
            timeout=dict(type="int", default=60),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="float", default=300),
            poll_interval=dict(type="float", default=5),
            fail_on_error=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = dict(changed=True, invoke_ids=[])
    if not params["instance_ids"]:
        module.fail_json(msg="instance_ids is empty: give at least one instance.", **result)
    if params["timeout"] < 10:
        module.fail_json(msg="timeout must be 10 seconds or more (got %s)." % params["timeout"], **result)
    for name in ("wait_timeout", "poll_interval"):
        if params[name] <= 0:
            module.fail_json(msg="%s must be more than 0 (got %s)." % (name, params[name]), **result)
    if module.check_mode:
        module.exit_json(**result)
    ecs = module.client("ecs")
    instance_ids = params["instance_ids"]
    try:
        if not params["wait"]:
            result["invoke_ids"] = cloud_assistant.run_command(ecs, instance_ids, params["command"],
                                                               params["command_type"], params["timeout"])
            module.exit_json(**result)
        result["invoke_ids"], outcome = cloud_assistant.run_and_wait(
            ecs, instance_ids, params["command"], params["wait_timeout"], params["poll_interval"],
            params["command_type"], params["timeout"])
    except AlicloudApiError as error:
        module.fail_api(error, msg="Could not run the command on %s" % ", ".join(instance_ids), **result)
    result["results"] = [dict(instance_id=i, **outcome[i]) for i in instance_ids]
    result["failed_instances"] = [
        "%s %s" % (r["instance_id"], "exit code %s" % r["exit_code"] if r["finished"] else "not finished in time")
        for r in result["results"] if not (r["finished"] and r["exit_code"] == 0)]
    if result["failed_instances"] and params["fail_on_error"]:
        module.fail_json(msg="The command failed on %d of %d instance(s): %s." % (
            len(result["failed_instances"]), len(instance_ids), ", ".join(result["failed_instances"])), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
