#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ess_instance_health_info
short_description: Backend health of a scaling group's instances in every load balancer the group has attached
version_added: 0.1.0
description:
  - Reads what the scaling group has attached (ESS C(DescribeScalingGroups) - C(LoadBalancerIds) and
    C(VServerGroups) for CLB, C(AlbServerGroups) and C(ServerGroups) for ALB and NLB) and the health of each
    instance there - CLB C(DescribeHealthStatus), ALB and NLB C(GetListenerHealthStatus) on every listener that
    serves the server group.
  - ALB and NLB list only servers that are not normal, so the module also reads C(ListServerGroupServers) - an
    instance that is not registered in the server group (or has weight 0, as in Standby) is not healthy.
  - An instance is healthy when it is healthy in every attached load balancer, on every listener port.
  - A group with nothing attached is not an error here - RV(load_balancers) is empty and every instance is reported
    unhealthy with that reason.
  - Read-only - it runs the same in check mode.
author:
  - alicloud.rollout maintainers (@alicloud-rollout)
options:
  scaling_group_id:
    description: The scaling group.
    type: str
    required: true
  instance_ids:
    description:
      - The instances to judge. Default - the group's instances in V(InService) and V(Protected).
    type: list
    elements: str
  load_balancers:
    description:
      - Only these load balancer or server group IDs, of those the group has attached. Default - all of them.
    type: list
    elements: str
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
notes:
  - RAM actions - C(ess:DescribeScalingGroups), C(ess:DescribeScalingInstances), C(slb:DescribeHealthStatus),
    C(alb:ListServerGroups), C(alb:ListListeners), C(alb:ListServerGroupServers), C(alb:GetListenerHealthStatus)
    and the same four for C(nlb) (see docs/ram-policy.json).
"""

EXAMPLES = r"""
- name: Is every instance of the group healthy behind its load balancers?
  alicloud.rollout.ess_instance_health_info:
    scaling_group_id: asg-bp1demo0000000001
  register: lb_health

- name: Show the ones that are not
  ansible.builtin.debug:
    msg: "{{ lb_health.unhealthy }}"
"""

RETURN = r"""
load_balancers:
  description: What the group has attached (after O(load_balancers)).
  returned: always
  type: list
  elements: dict
  contains:
    type:
      description: V(clb), V(alb) or V(nlb).
      type: str
    load_balancer_id:
      description: The CLB instance (null for ALB and NLB server groups).
      type: str
    server_group_id:
      description: The VServer group (CLB) or server group (ALB, NLB); null for a CLB default server group.
      type: str
    port:
      description: Backend port ESS registers the instances with (null for a CLB default server group).
      type: int
  sample: [{"type": "alb", "load_balancer_id": null, "server_group_id": "sgp-1", "port": 8080}]
instances:
  description: Per instance, its health in every attached load balancer.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance.
      type: str
    healthy:
      description: Healthy in every attached load balancer, on every listener port.
      type: bool
    reasons:
      description: Why not, per load balancer (for example C(ALB server group sgp-1 - Initial on port 80)).
      type: list
      elements: str
    load_balancers:
      description: Per load balancer - C(load_balancer), C(healthy) and C(listeners) (C(listener_port), C(status), C(healthy)).
      type: list
      elements: dict
  sample: [{"instance_id": "i-1", "healthy": false, "reasons": ["ALB server group sgp-1: Initial on port 80"],
            "load_balancers": [{"load_balancer": "ALB server group sgp-1", "healthy": false,
                                "listeners": [{"listener_port": 80, "status": "Initial", "healthy": false}]}]}]
healthy:
  description: Instances healthy everywhere.
  returned: always
  type: list
  elements: str
unhealthy:
  description: The other instances, each as C(id reason).
  returned: always
  type: list
  elements: str
error:
  description: The API error (operation, code, message, request_id, http_status, recommend, advice) on an API failure.
  returned: on API failure
  type: dict
"""

from ansible_collections.alicloud.rollout.plugins.module_utils.client import AlicloudModule
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
from ansible_collections.alicloud.rollout.plugins.module_utils import ess as ess_api
from ansible_collections.alicloud.rollout.plugins.module_utils import lb_health

SERVING_STATES = ["InService", "Protected"]


def main():
    module = AlicloudModule(
        argument_spec=dict(
            scaling_group_id=dict(type="str", required=True),
            instance_ids=dict(type="list", elements="str"),
            load_balancers=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    ess = module.client("ess")
    result = dict(changed=False, load_balancers=[], instances=[], healthy=[], unhealthy=[])
    try:
        group = ess_api.describe_scaling_group(ess, params["scaling_group_id"])
        result["load_balancers"] = lb_health.attachments(group, params["load_balancers"])
        instance_ids = params["instance_ids"]
        if instance_ids is None:
            instance_ids = [i.get("InstanceId") for i in ess_api.describe_scaling_instances(
                ess, params["scaling_group_id"], lifecycle_states=SERVING_STATES)]
        try:
            states = lb_health.read_health(module.client, group, instance_ids, params["load_balancers"])
        except lb_health.NothingAttached as exc:
            states = dict((i, {"healthy": False, "reasons": [str(exc)], "load_balancers": []}) for i in instance_ids)
    except AlicloudApiError as error:
        module.fail_api(error, msg="Could not read the load balancer health of scaling group %s"
                        % params["scaling_group_id"], **result)
    for instance_id in instance_ids:
        state = states[instance_id]
        result["instances"].append(dict(instance_id=instance_id, **state))
        if state["healthy"]:
            result["healthy"].append(instance_id)
        else:
            result["unhealthy"].append("%s %s" % (instance_id, "; ".join(state["reasons"])))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
