# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY.
# The interfaces in this file are meant for use within the alicloud.rollout collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""OOS (2019-06-01) API helpers. Each takes the ``ApiClient`` from ``module.client("oos")``,
makes one logical call (all pages), retries per the collection policy and raises AlicloudApiError.
Results are the API's own dicts (PascalCase keys)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from .paging import token_pages

try:
    from alibabacloud_oos20190601 import models as oos_models
except ImportError:  # pragma: no cover - AlicloudModule reports the missing SDK
    oos_models = None


def _parse_outputs(execution):
    """Outputs arrive as a JSON string; parse it in place (keeping the text if it is not JSON)."""
    outputs = execution.get("Outputs")
    if isinstance(outputs, str):
        try:
            execution["Outputs"] = json.loads(outputs) if outputs else {}
        except ValueError:
            pass
    return execution


def start_execution(oos, template_name, parameters, template_version=None, client_token=None, tags=None,
                    safety_check="Skip", mode=None, loop_mode=None, description=None):
    request = oos_models.StartExecutionRequest(
        region_id=oos.region, template_name=template_name, template_version=template_version,
        parameters=json.dumps(parameters, sort_keys=True), client_token=client_token, tags=tags,
        safety_check=safety_check, mode=mode, loop_mode=loop_mode, description=description)
    body = oos.call("StartExecution", lambda rt: oos.sdk.start_execution_with_options(request, rt),
                    mutating=True, safe_to_repeat=bool(client_token))
    return _parse_outputs(body.get("Execution") or {})


def list_executions(oos, limit=None, page_size=50, **filters):
    """ListExecutions with filters in snake_case (``template_name``, ``status``, ``tags`` as a dict,
    ``parent_execution_id``, ``include_child_execution``, ``start_date_after``...), every page."""
    def fetch(token, max_results):
        request = oos_models.ListExecutionsRequest(region_id=oos.region, next_token=token,
                                                   max_results=max_results, **filters)
        return oos.call("ListExecutions", lambda rt: oos.sdk.list_executions_with_options(request, rt))
    return [_parse_outputs(e) for e in token_pages(fetch, "Executions", max_results=page_size, limit=limit)]


def get_executions(oos, execution_ids, known=None):
    """The executions with these ids: one ListExecutions read (pages of 100) for a set, instead of one call each.

    ``known``: executions seen before (id -> execution); the set is listed by the earliest of their start dates
    (and their template, when they share one). Ids the listing does not return are read one by one. Returns
    (id -> execution, calls made).
    """
    ids = list(execution_ids)
    known = known or {}
    found, calls = {}, 0
    starts = [(known.get(i) or {}).get("StartDate") or (known.get(i) or {}).get("CreateDate") for i in ids]
    if len(ids) > 1 and all(starts):
        templates = set((known.get(i) or {}).get("TemplateName") for i in ids)
        filters = {"start_date_after": min(starts)}
        if len(templates) == 1 and None not in templates:
            filters["template_name"] = templates.pop()
        counter = [0]

        def fetch(token, max_results):
            counter[0] += 1
            request = oos_models.ListExecutionsRequest(region_id=oos.region, next_token=token,
                                                       max_results=max_results, **filters)
            return oos.call("ListExecutions", lambda rt: oos.sdk.list_executions_with_options(request, rt))
        wanted = set(ids)
        for execution in token_pages(fetch, "Executions", max_results=100):
            if execution.get("ExecutionId") in wanted:
                found[execution["ExecutionId"]] = _parse_outputs(execution)
        calls += counter[0]
    for execution_id in ids:
        if execution_id not in found:
            calls += 1
            execution = get_execution(oos, execution_id)
            if execution is not None:
                found[execution_id] = execution
    return found, calls


def get_execution(oos, execution_id):
    """One execution by id, or None (OOS answers an empty list for an unknown id)."""
    found = list_executions(oos, execution_id=execution_id)
    for execution in found:
        if execution.get("ExecutionId") == execution_id:
            return execution
    return None


def list_child_executions(oos, execution_id):
    return list_executions(oos, parent_execution_id=execution_id)


def list_task_executions(oos, execution_id, **filters):
    def fetch(token, max_results):
        request = oos_models.ListTaskExecutionsRequest(region_id=oos.region, execution_id=execution_id,
                                                       next_token=token, max_results=max_results, **filters)
        return oos.call("ListTaskExecutions", lambda rt: oos.sdk.list_task_executions_with_options(request, rt))
    return token_pages(fetch, "TaskExecutions", max_results=100)


def list_execution_logs(oos, execution_id, task_execution_id=None, limit=None):
    def fetch(token, max_results):
        request = oos_models.ListExecutionLogsRequest(region_id=oos.region, execution_id=execution_id,
                                                      task_execution_id=task_execution_id,
                                                      next_token=token, max_results=max_results)
        return oos.call("ListExecutionLogs", lambda rt: oos.sdk.list_execution_logs_with_options(request, rt))
    return token_pages(fetch, "ExecutionLogs", max_results=100, limit=limit)


def notify_execution(oos, execution_id, notify_type, task_execution_id=None, task_name=None, loop_item=None,
                     notify_note=None):
    request = oos_models.NotifyExecutionRequest(region_id=oos.region, execution_id=execution_id,
                                                notify_type=notify_type, task_execution_id=task_execution_id,
                                                task_name=task_name, loop_item=loop_item, notify_note=notify_note)
    oos.call("NotifyExecution", lambda rt: oos.sdk.notify_execution_with_options(request, rt), mutating=True)


def cancel_execution(oos, execution_id):
    request = oos_models.CancelExecutionRequest(region_id=oos.region, execution_id=execution_id)
    # Cancelling twice has the same effect as once.
    oos.call("CancelExecution", lambda rt: oos.sdk.cancel_execution_with_options(request, rt),
             mutating=True, safe_to_repeat=True)


def get_template(oos, template_name, template_version=None):
    request = oos_models.GetTemplateRequest(region_id=oos.region, template_name=template_name,
                                            template_version=template_version)
    return oos.call("GetTemplate", lambda rt: oos.sdk.get_template_with_options(request, rt))


def list_template_versions(oos, template_name):
    """Every version of a template (or OOS package): TemplateVersion (vN) and VersionName."""
    def fetch(token, max_results):
        request = oos_models.ListTemplateVersionsRequest(region_id=oos.region, template_name=template_name,
                                                         next_token=token, max_results=max_results)
        return oos.call("ListTemplateVersions", lambda rt: oos.sdk.list_template_versions_with_options(request, rt))
    return token_pages(fetch, "TemplateVersions", max_results=100)


def list_instance_package_states(oos, instance_id, package_name=None):
    """The OOS packages installed on an instance (PackageStates[].TemplateName/TemplateVersion)."""
    def fetch(token, max_results):
        request = oos_models.ListInstancePackageStatesRequest(
            region_id=oos.region, instance_id=instance_id, next_token=token, max_results=max_results,
            template_names=json.dumps([package_name]) if package_name else None)
        return oos.call("ListInstancePackageStates",
                        lambda rt: oos.sdk.list_instance_package_states_with_options(request, rt))
    return token_pages(fetch, "PackageStates", max_results=100)
