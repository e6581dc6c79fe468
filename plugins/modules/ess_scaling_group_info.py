#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ess_scaling_group_info
short_description: Read an Auto Scaling group with its configuration, processes and instances
version_added: 0.1.0
description:
  - Returns Alibaba Cloud Auto Scaling (ESS) groups with the image of the active scaling configuration, the
    capacities, the suspended processes and the instances (lifecycle state, health, image, protection, private IP).
  - With O(verify_region=true) it first checks that the credentials work and that the region exists with ECS
    C(DescribeRegions), and fails with a clear message otherwise.
  - Read-only.
author:
  - alicloud.rollout maintainers (@alicloud-rollout)
options:
  scaling_group_id:
    description:
      - ID of the scaling group. The task fails when the group does not exist.
      - Without it, every group of the region (or those matching O(scaling_group_name)) is returned.
    type: str
  scaling_group_name:
    description: Only groups with this name. Ignored when O(scaling_group_id) is set.
    type: str
  include_instances:
    description: Add the instances of each group (one more ESS call and one ECS call per 100 instances).
    type: bool
    default: true
  verify_region:
    description: Check the credentials and the region with ECS C(DescribeRegions) before reading the group.
    type: bool
    default: false
extends_documentation_fragment:
  - alicloud.rollout.connection
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  action_group:
    support: full
    description: Use C(group/alicloud.rollout.alicloud) in C(module_defaults) to set shared options once.
    membership: [alicloud.rollout.alicloud]
"""

EXAMPLES = r"""
- name: Read a group and its instances
  alicloud.rollout.ess_scaling_group_info:
    region: cn-hangzhou
    scaling_group_id: asg-web
    verify_region: true
  register: web

- name: Show the instances that are not InService
  ansible.builtin.debug:
    msg: "{{ web.scaling_groups[0].instances | rejectattr('lifecycle_state', 'equalto', 'InService') | list }}"
"""

RETURN = r"""
scaling_groups:
  description: The groups found.
  returned: always
  type: list
  elements: dict
  contains:
    scaling_group_id:
      description: Group ID.
      type: str
    scaling_group_name:
      description: Group name.
      type: str
    region_id:
      description: Region of the group.
      type: str
    lifecycle_state:
      description: V(Active), V(Inactive) or V(Deleting).
      type: str
    active_scaling_configuration_id:
      description: The active scaling configuration, if the group uses one.
      type: str
    image_id:
      description: Image of the active scaling configuration.
      type: str
    launch_template_id:
      description: Launch template, if the group uses one.
      type: str
    launch_template_version:
      description: Launch template version.
      type: str
    min_size:
      description: Minimum size.
      type: int
    max_size:
      description: Maximum size.
      type: int
    desired_capacity:
      description: Desired capacity, if set.
      type: int
    total_capacity:
      description: All instances in the group.
      type: int
    active_capacity:
      description: Instances InService.
      type: int
    standby_capacity:
      description: Instances in Standby.
      type: int
    protected_capacity:
      description: Protected instances.
      type: int
    pending_capacity:
      description: Instances being added.
      type: int
    removing_capacity:
      description: Instances being removed.
      type: int
    suspended_processes:
      description: Suspended scaling processes, in the ESS order.
      type: list
      elements: str
    system_suspended:
      description: True when ESS stopped scaling by itself after repeated failures.
      type: bool
    instances:
      description: The instances (with O(include_instances=true)).
      type: list
      elements: dict
      contains:
        instance_id:
          description: ECS instance ID.
          type: str
        lifecycle_state:
          description: V(InService), V(Standby), V(Protected), V(Pending), V(Removing)...
          type: str
        health_status:
          description: V(Healthy) or V(Unhealthy) as ESS sees it.
          type: str
        protected:
          description: True when the instance is protected from scale-in.
          type: bool
        creation_type:
          description: V(AutoCreated) or V(Attached).
          type: str
        scaling_configuration_id:
          description: Scaling configuration the instance was created from.
          type: str
        zone_id:
          description: Zone.
          type: str
        private_ip:
          description: Private IP address.
          type: str
        image_id:
          description: Image the instance runs (from ECS).
          type: str
        status:
          description: ECS status (V(Running), V(Stopped)...).
          type: str
  sample:
    - scaling_group_id: asg-web
      lifecycle_state: Active
      image_id: m-web-v1
      suspended_processes: []
      instances:
        - {instance_id: i-1, lifecycle_state: InService, health_status: Healthy, image_id: m-web-v1,
           private_ip: 10.0.0.11, protected: false}
regions:
  description: Region IDs ECS returned (with O(verify_region=true)).
  returned: when O(verify_region=true)
  type: list
  elements: str
  sample: [cn-hangzhou, cn-shanghai]
error:
  description: The API error (operation, code, message, request_id, http_status, recommend, advice) on an API failure.
  returned: on API failure
  type: dict
  sample: {"operation": "DescribeScalingGroups", "code": "InvalidScalingGroupId.NotFound"}
"""

from ansible_collections.alicloud.rollout.plugins.module_utils.client import AlicloudModule
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
from ansible_collections.alicloud.rollout.plugins.module_utils import ess as ess_api
from ansible_collections.alicloud.rollout.plugins.module_utils import group_ops


def main():
    module = AlicloudModule(
        argument_spec=dict(
            scaling_group_id=dict(type="str"),
            scaling_group_name=dict(type="str"),
            include_instances=dict(type="bool", default=True),
            verify_region=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    ess = module.client("ess")
    ecs = module.client("ecs")
    result = dict(changed=False, scaling_groups=[])
    try:
        if params["verify_region"]:
            regions = [r.get("RegionId") for r in ess_api.describe_regions(ecs)]
            result["regions"] = regions
            if ess.region not in regions:
                module.fail_json(msg="Region %s is not one of the regions these credentials can use: %s." % (
                    ess.region, ", ".join(regions)), **result)
        result["scaling_groups"] = group_ops.describe_group_facts(
            ess, ecs, scaling_group_id=params["scaling_group_id"], scaling_group_name=params["scaling_group_name"],
            include_instances=params["include_instances"])
    except AlicloudApiError as error:
        module.fail_api(error, msg="Could not read scaling group %s" % (params["scaling_group_id"] or "list"),
                        **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
