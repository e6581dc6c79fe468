# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health gate over several sources (http, load_balancer, command): all run at the same time against one
deadline, and an instance passes only when every source says healthy. rollout_health_check is the module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

SOURCES = ("http", "load_balancer", "command")


def run_sources(checks, clock=time.monotonic):
    """``checks`` maps a source name to a callable returning {instance id: {healthy, reason, ...}}; each runs in
    its own thread (each was given the same deadline). Returns ({source: results}, {source: exception})."""
    results, errors = {}, {}
    lock = threading.Lock()

    def run(name, check):
        try:
            outcome = check()
        except Exception as error:  # reported per source; the caller decides (API errors fail the gate)
            with lock:
                errors[name] = error
            return
        with lock:
            results[name] = outcome

    threads = [threading.Thread(target=run, args=(name, check)) for name, check in sorted(checks.items())]
    for thread in threads:
        thread.daemon = True
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def combine(instance_ids, per_source):
    """[{instance_id, healthy, reason, sources: {source: result}}] in ``instance_ids`` order."""
    combined = []
    for instance_id in instance_ids:
        sources = dict((name, outcome.get(instance_id) or {"healthy": False, "reason": "no result"})
                       for name, outcome in sorted(per_source.items()))
        bad = ["%s: %s" % (name, r.get("reason") or "unhealthy") for name, r in sorted(sources.items())
               if not r.get("healthy")]
        combined.append({"instance_id": instance_id, "healthy": not bad, "reason": "; ".join(bad) or None,
                         "sources": sources})
    return combined


def summary(per_source, instance_ids):
    """{source: "passed n/m" or "failed n/m"} for the role's summary."""
    lines = {}
    for name, outcome in sorted(per_source.items()):
        passed = len([i for i in instance_ids if (outcome.get(i) or {}).get("healthy")])
        lines[name] = "%s %d/%d" % ("passed" if passed == len(instance_ids) else "failed", passed,
                                    len(instance_ids))
    return lines
