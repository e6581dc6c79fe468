# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY.
# The interfaces in this file are meant for use within the alicloud.rollout collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""One task over many scaling groups: start (or adopt) each group's rollout in this one process, then wait
for all of them together.

A module process costs about a second on the controller (Python, the SDK import, the reads before the start);
a fleet started one process per group pays that per group. Here every group runs the single-group logic
unchanged, in turn, with ``wait=false`` and its own copy of the parameters; whatever ends one group (success,
a failed check, an API error) is that group's result and the next group goes on. The wait then reads all
executions with one ListExecutions per round (see waiter.wait_for_all).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from . import oos as oos_api
from .errors import AlicloudApiError, fail_json_api, scrub
from .waiter import WaitTimeout, is_failed, is_paused, is_terminal, wait_for_all


class GroupFinished(Exception):
    """One group's run ended (exit_json or fail_json); carries its result."""

    def __init__(self, result, failed):
        super(GroupFinished, self).__init__(result.get("msg") or "")
        self.result = result
        self.failed = failed


class GroupModule:
    """The module as one group's run sees it: its own parameters; ending the run ends the group, not the task."""

    def __init__(self, module, params):
        self._module = module
        self.params = params
        self.check_mode = module.check_mode
        self._diff = getattr(module, "_diff", False)

    def client(self, product):
        return self._module.client(product)

    def warn(self, warning):
        self._module.warn("%s: %s" % (self.params.get("scaling_group_id"), warning))

    def exit_json(self, **result):
        raise GroupFinished(result, bool(result.get("failed")))

    def fail_json(self, msg, **result):
        result["msg"] = msg
        raise GroupFinished(result, True)

    def fail_api(self, error, msg=None, **result):
        connection = getattr(self._module, "_connection", None)
        error.message = scrub(error.message, connection.secrets() if connection else [])
        fail_json_api(self, error, msg=msg, **result)


def _settled(execution):
    return is_terminal(execution) or is_paused(execution)


def _apply(result, execution):
    """Refresh one group's result with the execution's state after the wait."""
    status = execution.get("Status")
    result.update(status=status, status_message=execution.get("StatusMessage"), paused=is_paused(execution),
                  pause_reason=(execution.get("WaitingStatus") or execution.get("StatusReason") or "Waiting")
                  if is_paused(execution) else None, end_date=execution.get("EndDate"))
    if isinstance(execution.get("Outputs"), dict):
        result["outputs"] = execution["Outputs"]
    if is_failed(execution):
        result["failed"] = True
        result["msg"] = "Rolling update %s ended %s%s" % (
            execution.get("ExecutionId"), status,
            (": " + execution["StatusMessage"]) if execution.get("StatusMessage") else ".")


def run_groups(module, run_group, group_ids):
    """Run ``run_group(group_module)`` for each group with wait=false; returns the per-group results."""
    results = []
    for group_id in group_ids:
        params = dict(module.params, scaling_group_id=group_id, scaling_group_ids=None, wait=False)
        try:
            run_group(GroupModule(module, params))
            result = {"failed": True, "msg": "The run of group %s ended without a result." % group_id}
        except GroupFinished as finished:
            result = dict(finished.result, failed=finished.failed)
        result["scaling_group_id"] = group_id
        results.append(result)
    return results


def wait_groups(module, results, timeout, poll_interval=None):
    """Wait until every started execution ends or pauses; updates ``results``. Returns (calls, timed_out message)."""
    settled = (None, "Success", "Failed", "Cancelled", "Waiting")
    waiting = [r for r in results if r.get("execution_id") and not r.get("failed") and r.get("status") not in settled]
    if not waiting:
        return 0, None
    oos = module.client("oos")
    by_id = dict((r["execution_id"], r) for r in waiting)
    start = [{"ExecutionId": r["execution_id"], "Status": r.get("status"), "StartDate": r.get("start_date"),
              "TemplateName": r.get("template_name")} for r in waiting]
    try:
        executions, calls, _waited = wait_for_all(
            lambda ids, latest: oos_api.get_executions(oos, ids, known=latest), start, _settled, timeout,
            poll_interval)
        message = None
    except WaitTimeout as timeout_error:
        executions, calls, message = timeout_error.executions, timeout_error.polls, str(timeout_error)
    for execution in executions:
        _apply(by_id[execution["ExecutionId"]], execution)
    return calls, message


def run_many(module, run_group):
    """The whole task for ``scaling_group_ids``: every group, then one wait; exits the module."""
    params = module.params
    group_ids = []
    for group_id in params["scaling_group_ids"]:
        if group_id not in group_ids:
            group_ids.append(group_id)
    results = run_groups(module, run_group, group_ids)
    summary = {"changed": any(r.get("changed") for r in results), "groups": results, "polls": 0}
    timed_out = None
    if params["wait"] and not module.check_mode:
        try:
            summary["polls"], timed_out = wait_groups(module, results, params["wait_timeout"],
                                                      params.get("poll_interval"))
        except AlicloudApiError as error:
            module.fail_api(error, msg="Started the groups' rollouts, then could not read them", **summary)
    failed = [r["scaling_group_id"] for r in results if r.get("failed")]
    if timed_out:
        module.fail_json(msg="%s The rollouts go on in OOS.%s" % (
            timed_out, " Failed groups: %s." % ", ".join(failed) if failed else ""), **summary)
    if failed:
        first = [r for r in results if r.get("failed")][0]
        module.fail_json(msg="%d of %d group(s) failed: %s. First: %s: %s" % (
            len(failed), len(results), ", ".join(failed), first["scaling_group_id"], first.get("msg")), **summary)
    module.exit_json(msg="%d group(s): %s." % (len(results), ", ".join(
        "%s %s" % (r["scaling_group_id"], r.get("status") or (r.get("plan") or {}).get("action")) for r in results)),
        **summary)
