#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rollout_health_check
short_description: Health gate for a set of instances - HTTP, load balancer and in-instance command sources, one deadline
version_added: 0.1.0
description:
  - Judges a set of instances with one or more sources (O(sources)), all at the same time against one deadline
    O(deadline); an instance passes only when every source says it is healthy. A batch that fails costs one
    deadline, whatever its size and the number of sources.
  - V(http) - fills a per-instance URL template for each instance, then sends HTTP GET requests to all of them
    until each answers one of O(status_codes). Needs a network path from the controller to the instances.
  - V(load_balancer) - every instance must be healthy in every load balancer the scaling group O(scaling_group_id)
    has attached (CLB, ALB, NLB; or those in O(load_balancers)), on every listener port that serves it, and
    registered in the server group (M(alicloud.rollout.ess_instance_health_info) reads the same). An instance
    still warming up counts as not yet healthy until the deadline. A group with nothing attached fails before
    any wait.
  - V(command) - O(command) runs on each instance through Cloud Assistant (ECS C(RunCommand), see
    M(alicloud.rollout.ecs_command)); exit code 0 is healthy. It is run again on the instances that failed, every
    O(delay) seconds, until the deadline; the output of failures is in the result.
  - Fails before any request when an option a source needs is missing, or when the template does not give an
    http(s) URL for every instance (unknown field, a field an instance lacks, no scheme), with a message naming
    O(url_variable) and the allowed fields.
  - The V(http) and V(load_balancer) sources only read; V(command) runs the command (a Cloud Assistant invocation,
    nothing else changes). It runs the same in check mode, except that V(command) is skipped there.
  - Used by the role alicloud.rollout.rolling_update for its health gate and its probe of the current instances.
  - The connection options are used by the V(load_balancer) and V(command) sources only; C(module_defaults) for
    the action group apply to it unchanged.
author:
  - alicloud.rollout maintainers (@alicloud-rollout)
options:
  sources:
    description:
      - The sources that must all pass. V(http) needs O(url); V(load_balancer) needs O(scaling_group_id);
        V(command) needs O(command).
    type: list
    elements: str
    choices: [http, load_balancer, command]
    default: [http]
    version_added: 0.1.0
  url:
    description:
      - URL template for the V(http) source. Placeholders in single braces are filled per instance from the
        instance's facts - C({instance_id}), C({private_ip}), C({image_id}), C({zone_id}), C({lifecycle_state}).
      - The literal Jinja form C({{ instance.private_ip }}) (for example from an C(!unsafe) value) means the same.
    type: str
  url_variable:
    description: Name of the variable the URL came from, used in error messages.
    type: str
    default: url
  instances:
    description:
      - The instances to check, each a dict with at least C(instance_id) and the fields O(url) uses (as returned
        by M(alicloud.rollout.ess_scaling_group_info)).
    type: list
    elements: dict
    required: true
  status_codes:
    description: HTTP statuses that count as healthy.
    type: list
    elements: int
    default: [200]
  deadline:
    description: Seconds (more than 0) all instances together have to turn healthy, for all sources.
    type: float
    default: 300
  delay:
    description: Seconds (more than 0) between two checks of one instance (HTTP request, load balancer read, command run).
    type: float
    default: 10
  request_timeout:
    description: Timeout in seconds (more than 0) of one HTTP request.
    type: float
    default: 10
  validate_certs:
    description: Verify TLS certificates of https URLs (and of the API endpoints).
    type: bool
    default: true
  validate_only:
    description:
      - Only check the options, fill the URLs and, for V(load_balancer), check that the group has a load balancer
        attached; judge nothing.
    type: bool
    default: false
  stage:
    description:
      - What the check is for, used in messages. V(probe) is the check of the current instances before any
        change; V(batch) and V(final) judge updated instances.
    type: str
    choices: [probe, batch, final]
    default: batch
  scaling_group_id:
    description: The scaling group whose attached load balancers the V(load_balancer) source reads.
    type: str
    version_added: 0.1.0
  load_balancers:
    description:
      - For V(load_balancer), only these load balancer or server group IDs of those the group has attached.
        Default - all of them.
    type: list
    elements: str
    version_added: 0.1.0
  command:
    description: For V(command), the check run on each instance, for example C(curl -fsS http://127.0.0.1:8080/health).
    type: str
    version_added: 0.1.0
  command_type:
    description: For V(command), the interpreter.
    type: str
    choices: [RunShellScript, RunPowerShellScript, RunBatScript]
    default: RunShellScript
    version_added: 0.1.0
  command_timeout:
    description: For V(command), seconds (10 or more) one run may take on an instance.
    type: int
    default: 30
    version_added: 0.1.0
extends_documentation_fragment:
  - alicloud.rollout.connection
attributes:
  check_mode:
    support: full
    description: Sends the same read-only requests; the V(command) source is skipped (it would run a command).
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  action_group:
    support: full
    description: Use C(group/alicloud.rollout.alicloud) in C(module_defaults) to set shared options once.
    membership: [alicloud.rollout.alicloud]
notes:
  - RAM actions - none for V(http); for V(load_balancer) those of M(alicloud.rollout.ess_instance_health_info);
    for V(command) C(ecs:RunCommand) and C(ecs:DescribeInvocationResults).
"""

EXAMPLES = r"""
- name: Judge a batch (all instances at once, one deadline)
  alicloud.rollout.rollout_health_check:
    url: "http://{private_ip}:8080/health"
    instances: "{{ group.scaling_groups[0].instances }}"
    deadline: 300
    delay: 10

- name: Judge a batch by its load balancers' health and a check on the instances (no network path needed)
  alicloud.rollout.rollout_health_check:
    sources: [load_balancer, command]
    scaling_group_id: asg-bp1demo0000000001
    command: curl -fsS http://127.0.0.1:8080/health
    instances: "{{ group.scaling_groups[0].instances }}"
    deadline: 300

- name: Check only that the URL fills for every instance
  alicloud.rollout.rollout_health_check:
    url: "http://{private_ip}:8080/health"
    url_variable: rolling_update_health_url
    instances: "{{ group.scaling_groups[0].instances }}"
    validate_only: true
"""

RETURN = r"""
urls:
  description: The URL of each instance (V(http) source).
  returned: always
  type: dict
  sample: {"i-bp1aaa": "http://10.0.0.11:8080/health"}
load_balancers:
  description: The load balancers the V(load_balancer) source judged (as in M(alicloud.rollout.ess_instance_health_info)).
  returned: when O(sources) has V(load_balancer)
  type: list
  elements: dict
  version_added: 0.1.0
results:
  description:
    - Per instance, the verdict and each source's result. With the V(http) source its fields (C(url), C(status),
      C(attempts)...) are also at the top level of each entry, as before sources existed.
  returned: unless O(validate_only)
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance.
      type: str
    healthy:
      description: Whether every source said healthy in time.
      type: bool
    reason:
      description:
        - Why it is unhealthy, for example C(HTTP 503), C(connection refused) or C(timed out); with several
          sources each reason is prefixed with its source (C(load_balancer - ALB server group sgp-1 - Initial on
          port 80)). Null when healthy.
      type: str
    sources:
      description:
        - Per source, its result - C(healthy), C(reason), C(attempts), C(seconds), and C(url) and C(status) (http),
          C(detail) (load_balancer, per load balancer and listener) or C(exit_code) and C(output) (command).
      type: dict
      version_added: 0.1.0
    url:
      description: The URL checked (V(http)).
      type: str
    status:
      description: HTTP status of the last answer (null when there was none).
      type: int
    attempts:
      description: Checks made (HTTP requests; with several sources, those of the first source).
      type: int
    seconds:
      description: Seconds from the start of the check to its end for this instance.
      type: float
  sample: [{"instance_id": "i-bp1aaa", "url": "http://10.0.0.11:8080/health", "healthy": true, "status": 200,
            "reason": null, "attempts": 1, "seconds": 0.02,
            "sources": {"http": {"healthy": true, "status": 200, "reason": null, "attempts": 1, "seconds": 0.02}}}]
sources:
  description: Per source, a one-line verdict (C(passed 4/4), C(failed 1/2)), for summaries.
  returned: unless O(validate_only)
  type: dict
  sample: {"http": "passed 2/2", "load_balancer": "failed 1/2"}
  version_added: 0.1.0
healthy:
  description: Instances that passed.
  returned: always
  type: list
  elements: str
unhealthy:
  description: Instances that did not pass, each as C(id reason).
  returned: always
  type: list
  elements: str
seconds:
  description: Seconds the whole check took.
  returned: always
  type: float
error:
  description: The API error (operation, code, message, request_id, http_status, recommend, advice) on an API failure.
  returned: on API failure
  type: dict
  version_added: 0.1.0
"""

import time

from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.urls import open_url
from ansible_collections.alicloud.rollout.plugins.module_utils import cloud_assistant, gate, health, lb_health
from ansible_collections.alicloud.rollout.plugins.module_utils import ess as ess_api
from ansible_collections.alicloud.rollout.plugins.module_utils.client import AlicloudModule
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError

STAGE_TEXT = {"probe": "The current instances are unhealthy before any change",
              "batch": "Health gate (batch) failed", "final": "Health gate (final) failed"}
NEEDS = {"http": "url", "load_balancer": "scaling_group_id", "command": "command"}


def fetch_status(validate_certs):
    def fetch(url, timeout):
        try:
            response = open_url(url, method="GET", timeout=timeout, validate_certs=validate_certs,
                                follow_redirects="safe")
            return response.getcode()
        except HTTPError as error:
            return error.code
    return fetch


def http_check(params, urls):
    def check():
        return health.check_all(urls, fetch_status(params["validate_certs"]), params["status_codes"],
                                params["deadline"], params["delay"], params["request_timeout"])
    return check


def load_balancer_check(module, params, group, instance_ids):
    def read(pending):
        return lb_health.read_health(module.client, group, pending, params["load_balancers"])

    def check():
        return lb_health.wait_healthy(read, instance_ids, params["deadline"], params["delay"])
    return check


def command_check(ecs, params, instance_ids):
    def check():
        return cloud_assistant.wait_healthy(ecs, instance_ids, params["command"], params["deadline"], params["delay"],
                                            params["command_type"], params["command_timeout"])
    return check


def failure_message(params, sources, results):
    bad = ["%s %s" % (r["instance_id"], r["reason"]) for r in results if not r["healthy"]]
    if sources == ["http"]:
        what = "did not answer %s" % "/".join(str(c) for c in params["status_codes"])
    else:
        what = "were not healthy (%s)" % ", ".join(sources)
    advice = ""
    if params["stage"] == "probe":
        advice = (" A gate that fails on the old image measures nothing: make them healthy (or fix %s) and run "
                  "again; nothing was changed." % (params["url_variable"] if sources == ["http"] else "the gate"))
    return "%s: %d of %d instance(s) %s within %ss: %s.%s" % (
        STAGE_TEXT[params["stage"]], len(bad), len(results), what, params["deadline"], ", ".join(bad), advice)


def main():
    module = AlicloudModule(
        argument_spec=dict(
            sources=dict(type="list", elements="str", choices=list(gate.SOURCES), default=["http"]),
            url=dict(type="str"),
            url_variable=dict(type="str", default="url"),
            instances=dict(type="list", elements="dict", required=True),
            status_codes=dict(type="list", elements="int", default=[200]),
            deadline=dict(type="float", default=300),
            delay=dict(type="float", default=10),
            request_timeout=dict(type="float", default=10),
            validate_certs=dict(type="bool", default=True),
            validate_only=dict(type="bool", default=False),
            stage=dict(type="str", choices=["probe", "batch", "final"], default="batch"),
            scaling_group_id=dict(type="str"),
            load_balancers=dict(type="list", elements="str"),
            command=dict(type="str"),
            command_type=dict(type="str", choices=list(cloud_assistant.COMMAND_TYPES), default="RunShellScript"),
            command_timeout=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    params = module.params
    sources = [s for s in gate.SOURCES if s in params["sources"]]
    started = time.time()
    result = dict(changed=False, urls={}, healthy=[], unhealthy=[], seconds=0.0)
    if not sources:
        module.fail_json(msg="sources is empty: give at least one of %s." % ", ".join(gate.SOURCES), **result)
    missing = ["%s (for the %s source)" % (NEEDS[s], s) for s in sources if not params[NEEDS[s]]]
    if missing:
        module.fail_json(msg="Missing option(s): %s." % ", ".join(missing), **result)
    for name in ("deadline", "delay", "request_timeout"):
        if params[name] <= 0:
            module.fail_json(msg="%s must be more than 0 (got %s)." % (name, params[name]), **result)
    if params["command_timeout"] < 10:
        module.fail_json(msg="command_timeout must be 10 seconds or more (got %s)." % params["command_timeout"],
                         **result)
    instance_ids = [i.get("instance_id") for i in params["instances"]]
    urls = {}
    if "http" in sources:
        try:
            urls = health.render_all(params["url"], params["instances"], params["url_variable"])
        except health.UrlError as error:
            module.fail_json(msg=str(error), **result)
        result["urls"] = urls
    group = None
    if "load_balancer" in sources:
        try:
            group = ess_api.describe_scaling_group(module.client("ess"), params["scaling_group_id"])
        except AlicloudApiError as error:
            module.fail_api(error, msg="Could not read scaling group %s" % params["scaling_group_id"], **result)
        result["load_balancers"] = lb_health.attachments(group, params["load_balancers"])
        if not result["load_balancers"]:
            module.fail_json(msg="The load_balancer health gate needs a load balancer, but scaling group %s has %s "
                             "attached (ESS DescribeScalingGroups: LoadBalancerIds, VServerGroups, AlbServerGroups, "
                             "ServerGroups). Attach the group to its CLB/ALB/NLB, fix load_balancers, or choose "
                             "other sources (http, command). Nothing was changed." % (
                                 params["scaling_group_id"],
                                 "none of %s" % ", ".join(params["load_balancers"]) if params["load_balancers"]
                                 else "none"), **result)
    if params["validate_only"]:
        module.exit_json(**result)
    checks = {}
    if "http" in sources:
        checks["http"] = http_check(params, urls)
    if "load_balancer" in sources and instance_ids:
        checks["load_balancer"] = load_balancer_check(module, params, group, instance_ids)
    if "command" in sources and instance_ids and not module.check_mode:
        checks["command"] = command_check(module.client("ecs"), params, instance_ids)
    per_source, errors = gate.run_sources(checks)
    for name, error in sorted(errors.items()):
        if isinstance(error, AlicloudApiError):
            module.fail_api(error, msg="The %s health source could not read the instances' health" % name, **result)
        module.fail_json(msg="The %s health source failed: %s" % (name, error), **result)
    combined = gate.combine(instance_ids, per_source)
    results = []
    for entry in combined:
        if len(per_source) == 1:  # one source: its reason as it is (HTTP 503), without the source's name
            only = list(entry["sources"].values())[0]
            entry["reason"] = None if entry["healthy"] else only.get("reason") or "unhealthy"
        if "http" in per_source:
            http = dict(entry["sources"]["http"])
            http.update(entry)
            entry = http
        else:
            first = entry["sources"][sorted(entry["sources"])[0]] if entry["sources"] else {}
            entry.update(attempts=first.get("attempts", 0), seconds=first.get("seconds", 0.0))
        results.append(entry)
    result.update(results=results, sources=gate.summary(per_source, instance_ids),
                  healthy=[r["instance_id"] for r in results if r["healthy"]],
                  unhealthy=["%s %s" % (r["instance_id"], r["reason"]) for r in results if not r["healthy"]],
                  seconds=round(time.time() - started, 3))
    if "command" in sources and module.check_mode:
        result["sources"]["command"] = "skipped in check mode"
    if result["unhealthy"]:
        module.fail_json(msg=failure_message(params, [s for s in sources if s in per_source], results), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
