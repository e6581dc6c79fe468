#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rollout_health_check
short_description: HTTP health gate for a set of instances, checked in parallel against one deadline
version_added: 0.2.0
description:
  - Fills a per-instance URL template for each instance, then sends HTTP GET requests to all of them at the same
    time until each answers one of O(status_codes) or the one deadline O(deadline) passes. A batch that fails
    costs one deadline, whatever its size.
  - Fails before any request when the template does not give an http(s) URL for every instance (unknown field,
    a field an instance lacks, no scheme), with a message naming O(url_variable) and the allowed fields.
  - Makes no cloud API call and changes nothing; it runs the same in check mode.
  - Used by the role alicloud.rollout.rolling_update for its health gate and its probe of the current instances.
  - Takes the shared connection options only so that C(module_defaults) for the action group apply to it unchanged;
    it uses none of them.
author:
  - alicloud.rollout maintainers (@alicloud-rollout)
options:
  url:
    description:
      - URL template. Placeholders in single braces are filled per instance from the instance's facts -
        C({instance_id}), C({private_ip}), C({image_id}), C({zone_id}), C({lifecycle_state}).
      - The literal Jinja form C({{ instance.private_ip }}) (for example from an C(!unsafe) value) means the same.
    type: str
    required: true
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
    description: Seconds (more than 0) all instances together have to turn healthy.
    type: float
    default: 300
  delay:
    description: Seconds (more than 0) between two requests to one instance.
    type: float
    default: 10
  request_timeout:
    description: Timeout in seconds (more than 0) of one request.
    type: float
    default: 10
  validate_certs:
    description: Verify TLS certificates of https URLs.
    type: bool
    default: true
  validate_only:
    description: Only fill and check the URLs; send no request.
    type: bool
    default: false
  stage:
    description:
      - What the check is for, used in messages. V(probe) is the check of the current instances before any
        change; V(batch) and V(final) judge updated instances.
    type: str
    choices: [probe, batch, final]
    default: batch
extends_documentation_fragment:
  - alicloud.rollout.connection
attributes:
  check_mode:
    support: full
    description: Sends the same read-only requests; nothing changes either way.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  action_group:
    support: full
    description: Use C(group/alicloud.rollout.alicloud) in C(module_defaults) to set shared options once.
    membership: [alicloud.rollout.alicloud]
"""

EXAMPLES = r"""
- name: Judge a batch (all instances at once, one deadline)
  alicloud.rollout.rollout_health_check:
    url: "http://{private_ip}:8080/health"
    instances: "{{ group.scaling_groups[0].instances }}"
    deadline: 300
    delay: 10

- name: Check only that the URL fills for every instance
  alicloud.rollout.rollout_health_check:
    url: "http://{private_ip}:8080/health"
    url_variable: rolling_update_health_url
    instances: "{{ group.scaling_groups[0].instances }}"
    validate_only: true
"""

RETURN = r"""
urls:
  description: The URL of each instance.
  returned: always
  type: dict
  sample: {"i-bp1aaa": "http://10.0.0.11:8080/health"}
results:
  description: Per instance, the outcome of its last request.
  returned: unless O(validate_only)
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance.
      type: str
    url:
      description: The URL checked.
      type: str
    healthy:
      description: Whether it answered a healthy status in time.
      type: bool
    status:
      description: HTTP status of the last answer (null when there was none).
      type: int
    reason:
      description: Why it is unhealthy, for example C(HTTP 503), C(connection refused) or C(timed out); null when healthy.
      type: str
    attempts:
      description: Requests sent.
      type: int
    seconds:
      description: Seconds from the start of the check to its end for this instance.
      type: float
  sample: [{"instance_id": "i-bp1aaa", "url": "http://10.0.0.11:8080/health", "healthy": true, "status": 200,
            "reason": null, "attempts": 1, "seconds": 0.02}]
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
"""

import time

from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.urls import open_url
from ansible_collections.alicloud.rollout.plugins.module_utils import health
from ansible_collections.alicloud.rollout.plugins.module_utils.client import AlicloudModule


def fetch_status(validate_certs):
    def fetch(url, timeout):
        try:
            response = open_url(url, method="GET", timeout=timeout, validate_certs=validate_certs,
                                follow_redirects="safe")
            return response.getcode()
        except HTTPError as error:
            return error.code
    return fetch


def main():
    module = AlicloudModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            url_variable=dict(type="str", default="url"),
            instances=dict(type="list", elements="dict", required=True),
            status_codes=dict(type="list", elements="int", default=[200]),
            deadline=dict(type="float", default=300),
            delay=dict(type="float", default=10),
            request_timeout=dict(type="float", default=10),
            validate_certs=dict(type="bool", default=True),
            validate_only=dict(type="bool", default=False),
            stage=dict(type="str", choices=["probe", "batch", "final"], default="batch"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for name in ("deadline", "delay", "request_timeout"):
        if params[name] <= 0:
            module.fail_json(msg="%s must be more than 0 (got %s)." % (name, params[name]))
    started = time.time()
    result = dict(changed=False, urls={}, healthy=[], unhealthy=[], seconds=0.0)
    try:
        urls = health.render_all(params["url"], params["instances"], params["url_variable"])
    except health.UrlError as error:
        module.fail_json(msg=str(error), **result)
    result["urls"] = urls
    if params["validate_only"]:
        module.exit_json(**result)
    outcome = health.check_all(urls, fetch_status(params["validate_certs"]), params["status_codes"],
                               params["deadline"], params["delay"], params["request_timeout"])
    results = [dict(instance_id=key, **outcome[key]) for key in sorted(outcome)]
    result.update(results=results, healthy=[r["instance_id"] for r in results if r["healthy"]],
                  unhealthy=["%s %s" % (r["instance_id"], r["reason"]) for r in results if not r["healthy"]],
                  seconds=round(time.time() - started, 3))
    if result["unhealthy"]:
        what = {"probe": "The current instances are unhealthy before any change",
                "batch": "Health gate (batch) failed", "final": "Health gate (final) failed"}[params["stage"]]
        module.fail_json(msg="%s: %d of %d instance(s) did not answer %s within %ss: %s.%s" % (
            what, len(result["unhealthy"]), len(results), "/".join(str(c) for c in params["status_codes"]),
            params["deadline"], ", ".join(result["unhealthy"]),
            " A gate that fails on the old image measures nothing: make them healthy (or fix %s) and run "
            "again; nothing was changed." % params["url_variable"] if params["stage"] == "probe" else ""),
            **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
