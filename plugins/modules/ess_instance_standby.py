#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ess_instance_standby
short_description: Move Auto Scaling instances into or out of Standby
version_added: 0.1.0
description:
  - Puts instances of an Alibaba Cloud Auto Scaling (ESS) group into Standby (C(EnterStandby)) or takes them back
    to InService (C(ExitStandby)).
  - A rolling update that fails or is cancelled leaves the instances it was working on in Standby; this module
    brings them back.
  - Idempotent. Only instances not yet in the wanted state are sent; the others are reported as unchanged.
author:
  - alicloud.rollout maintainers (@alicloud-rollout)
options:
  scaling_group_id:
    description: ID of the scaling group.
    type: str
    required: true
  instance_ids:
    description:
      - The instances to move. Each must belong to the group, or the task fails before changing anything.
    type: list
    elements: str
    required: true
  state:
    description: V(InService) takes the instances out of Standby; V(Standby) puts them into Standby.
    type: str
    choices: [InService, Standby]
    default: InService
extends_documentation_fragment:
  - alicloud.rollout.connection
attributes:
  check_mode:
    support: full
    description: Reports which instances would move; moves none.
  diff_mode:
    support: full
    description: Lifecycle state of each given instance, before and after.
  action_group:
    support: full
    description: Use C(group/alicloud.rollout.alicloud) in C(module_defaults) to set shared options once.
    membership: [alicloud.rollout.alicloud]
"""

EXAMPLES = r"""
- name: Take instances a failed rollout left in Standby back to InService
  alicloud.rollout.ess_instance_standby:
    region: cn-hangzhou
    scaling_group_id: asg-web
    instance_ids: [i-bp1aaaa, i-bp1bbbb]
    state: InService
"""

RETURN = r"""
instances_changed:
  description: The instances moved (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [i-bp1aaaa]
lifecycle_states_before:
  description: Lifecycle state of each given instance before the task.
  returned: always
  type: dict
  sample: {"i-bp1aaaa": "Standby", "i-bp1bbbb": "InService"}
lifecycle_states_after:
  description: Lifecycle state of each given instance after the task (as read back; expected in check mode).
  returned: always
  type: dict
  sample: {"i-bp1aaaa": "InService", "i-bp1bbbb": "InService"}
error:
  description: The API error (operation, code, message, request_id, http_status, recommend, advice) on an API failure.
  returned: on API failure
  type: dict
  sample: {"operation": "ExitStandby", "code": "IncorrectScalingGroupStatus"}
"""

from ansible_collections.alicloud.rollout.plugins.module_utils.client import AlicloudModule
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
from ansible_collections.alicloud.rollout.plugins.module_utils import ess as ess_api
from ansible_collections.alicloud.rollout.plugins.module_utils import group_ops


def _states(ess, group_id, instance_ids):
    found = ess_api.describe_scaling_instances(ess, group_id, instance_ids=instance_ids) if instance_ids else []
    return found, dict((i.get("InstanceId"), i.get("LifecycleState")) for i in found)


def main():
    module = AlicloudModule(
        argument_spec=dict(
            scaling_group_id=dict(type="str", required=True),
            instance_ids=dict(type="list", elements="str", required=True),
            state=dict(type="str", choices=["InService", "Standby"], default="InService"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    group_id, state = params["scaling_group_id"], params["state"]
    instance_ids = list(dict.fromkeys(params["instance_ids"]))
    ess = module.client("ess")
    result = dict(changed=False, instances_changed=[], lifecycle_states_before={}, lifecycle_states_after={})
    try:
        found, before = _states(ess, group_id, instance_ids)
        result["lifecycle_states_before"] = before
        to_change, missing = group_ops.standby_plan(found, instance_ids, state)
        if missing:
            module.fail_json(msg="Instance(s) %s are not in scaling group %s." % (", ".join(missing), group_id),
                             **result)
        expected = dict(before)
        for instance_id in to_change:
            expected[instance_id] = state
        result.update(changed=bool(to_change), instances_changed=to_change, lifecycle_states_after=expected)
        if module._diff:
            result["diff"] = {"before": {"lifecycle_states": before}, "after": {"lifecycle_states": expected}}
        if to_change and not module.check_mode:
            if state == "Standby":
                group_ops.enter_standby(ess, group_id, to_change)
            else:
                group_ops.exit_standby(ess, group_id, to_change)
            result["lifecycle_states_after"] = _states(ess, group_id, instance_ids)[1]
    except AlicloudApiError as error:
        module.fail_api(error, msg="Could not move instances of scaling group %s to %s" % (group_id, state),
                        **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
