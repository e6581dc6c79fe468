# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud Assistant: run a command on instances (ECS RunCommand) and collect each one's exit code and output
(DescribeInvocationResults), waiting against one deadline. Used by ecs_command and the command health gate."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import threading
import time

from .paging import number_pages

COMMAND_TYPES = ("RunShellScript", "RunPowerShellScript", "RunBatScript")
# ECS RunCommand takes at most 100 instances per call (InstanceId.N, N up to 100).
MAX_INSTANCES_PER_CALL = 100
# InvocationStatus values that are final (ECS DescribeInvocationResults).
FINAL_STATUSES = ("Success", "Failed", "Timeout", "Error", "Cancelled", "Terminated", "Invalid", "Aborted")
OUTPUT_LIMIT = 4096  # what a result keeps of each output (the end, where errors are)


def decode_output(text):
    try:
        return base64.b64decode(text or "").decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return text or ""


def tail(text, limit=OUTPUT_LIMIT):
    return text if len(text) <= limit else "..." + text[-limit:]


def run_command(ecs, instance_ids, content, command_type="RunShellScript", timeout=60, name=None):
    """Start the command on the instances; returns the invoke ids (one per 100 instances)."""
    invoke_ids = []
    for start in range(0, len(instance_ids), MAX_INSTANCES_PER_CALL):
        chunk = instance_ids[start:start + MAX_INSTANCES_PER_CALL]
        params = {"Type": command_type, "CommandContent": content, "Timeout": int(timeout),
                  "Name": name or "alicloud-rollout"}
        for index, instance_id in enumerate(chunk):
            params["InstanceId.%d" % (index + 1)] = instance_id
        body = ecs.rpc("RunCommand", params, mutating=True)
        invoke_ids.append(body.get("InvokeId"))
    return invoke_ids


def invocation_results(ecs, invoke_id):
    """{instance id: {finished, status, exit_code, output, error}} of one invocation, every page."""
    def fetch(page, size):
        body = ecs.rpc("DescribeInvocationResults", {"InvokeId": invoke_id, "PageNumber": page, "PageSize": size})
        return body.get("Invocation") or {}
    results = {}
    for item in number_pages(fetch, "InvocationResults", page_size=50):
        status = item.get("InvocationStatus")
        finished = item.get("InvokeRecordStatus") == "Finished" or status in FINAL_STATUSES
        results[item.get("InstanceId")] = {
            "finished": finished, "status": status, "exit_code": item.get("ExitCode") if finished else None,
            "output": tail(decode_output(item.get("Output"))),
            "error": item.get("ErrorInfo") or item.get("ErrorCode") or None}
    return results


def run_and_wait(ecs, instance_ids, content, deadline, poll, command_type="RunShellScript", timeout=60,
                 name=None, clock=time.monotonic, sleep=None):
    """Run once and wait until every instance finished or the deadline passed.

    Returns (invoke ids, {instance id: {finished, status, exit_code, output, error}}); unfinished ones have
    finished False."""
    sleep = sleep or threading.Event().wait
    stop_at = clock() + deadline
    invoke_ids = run_command(ecs, list(instance_ids), content, command_type, timeout, name)
    results = {}
    while True:
        for invoke_id in invoke_ids:
            results.update(invocation_results(ecs, invoke_id))
        pending = [i for i in instance_ids if not (results.get(i) or {}).get("finished")]
        remaining = stop_at - clock()
        if not pending or remaining <= 0:
            break
        sleep(min(poll, remaining))
    for instance_id in instance_ids:
        results.setdefault(instance_id, {"finished": False, "status": "Pending", "exit_code": None, "output": "",
                                         "error": "no result yet"})
    return invoke_ids, results


def wait_healthy(ecs, instance_ids, content, deadline, delay, command_type="RunShellScript", timeout=60,
                 clock=time.monotonic, sleep=None):
    """The command gate: run the command on the instances not yet healthy, round after round, until each exits 0
    or the one deadline passes. Returns {instance id: {healthy, exit_code, output, reason, attempts, seconds}}."""
    sleep = sleep or threading.Event().wait
    started = clock()
    stop_at = started + deadline
    outcome = {}
    pending = list(instance_ids)
    attempts = 0
    while pending:
        attempts += 1
        remaining = stop_at - clock()
        round_results = run_and_wait(ecs, pending, content, max(remaining, 0), min(delay, 5), command_type,
                                     timeout, name="alicloud-rollout-health-check", clock=clock, sleep=sleep)[1]
        now = clock()
        for instance_id in list(pending):
            r = round_results[instance_id]
            if not r["finished"] and instance_id in outcome:
                # Cut off by the deadline: the previous run's verdict (exit code, output) says more.
                outcome[instance_id]["seconds"] = round(now - started, 3)
                continue
            healthy = r["finished"] and r["exit_code"] == 0
            if healthy:
                reason = None
            elif not r["finished"]:
                reason = "command still running at the deadline"
            else:
                reason = "exit code %s%s" % (r["exit_code"], " (%s)" % r["error"] if r["error"] else "")
            outcome[instance_id] = {"healthy": healthy, "exit_code": r["exit_code"], "output": r["output"],
                                    "reason": reason, "attempts": attempts, "seconds": round(now - started, 3)}
            if healthy:
                pending.remove(instance_id)
        remaining = stop_at - clock()
        if not pending or remaining <= 0:
            break
        sleep(min(delay, remaining))
    return outcome
