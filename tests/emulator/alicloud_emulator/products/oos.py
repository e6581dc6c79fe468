"""OOS 2019-06-01: executions of the three ESS rolling-update templates, templates, package states."""
import json

from .. import templates
from ..api import ApiError, api
from ..clock import iso, parse_iso
from ..state import offset_for, token_for

MODES = ("Automatic", "FailurePause", "Debug")
LOOP_MODES = ("Automatic", "FirstBatchPause", "EveryBatchPause")
SAFETY_CHECKS = ("Skip", "ConfirmEveryHighRiskAction")
NOTIFY_TYPES = ("Approve", "Reject", "ExecuteTask", "CancelTask", "CompleteExecution", "RetryTask", "SkipTask")


def _invalid(name, detail=""):
    raise ApiError("InvalidParameter", 'The specified value of parameter "%s" is not valid.%s' % (
        name, (" " + detail) if detail else ""))


def _choice(req, name, allowed):
    value = req.get(name)
    if value is not None and value not in allowed:
        _invalid(name, "Allowed values: %s." % ", ".join(allowed))
    return value


def _json_object(req, name):
    value = req.json(name, {})
    if not isinstance(value, dict):
        _invalid(name, "It must be a JSON object.")
    return value


def _execution(req, name="ExecutionId"):
    execution_id = req.require(name)
    execution = req.world.engine.executions.get(execution_id)
    if execution is None:
        # [INFERRED] OOS names missing entities EntityNotExists.<Entity> (reference 2.10).
        raise ApiError("EntityNotExists.Execution", "The execution %s does not exist." % execution_id, 404)
    return execution


def _paginate(req, items, minimum, maximum, default):
    size = req.int("MaxResults", default, minimum=minimum, maximum=maximum)
    start = offset_for(req.get("NextToken"))
    page = items[start:start + size]
    next_token = token_for(start + size) if start + size < len(items) else ""
    return page, size, next_token


def _date_filters(req, items, created_attr="started", ended_attr="ended"):
    for name, attr, before in (("StartDateBefore", created_attr, True), ("StartDateAfter", created_attr, False),
                               ("EndDateBefore", ended_attr, True), ("EndDateAfter", ended_attr, False)):
        text = req.get(name)
        if text is None:
            continue
        moment = parse_iso(text)
        if moment is None:
            _invalid(name, "Use the format yyyy-MM-ddTHH:mm:ssZ.")
        items = [x for x in items if getattr(x, attr) is not None and (
            getattr(x, attr) <= moment if before else getattr(x, attr) >= moment)]
    return items


def _sorted(req, items, field_map):
    field = _choice(req, "SortField", tuple(field_map)) or "StartDate"
    order = _choice(req, "SortOrder", ("Ascending", "Descending")) or "Descending"
    attr = field_map[field]

    def key(item):
        value = getattr(item, attr)
        if value is None:
            value = float("inf") if attr != "status" else ""
        return (value, item.sequence if hasattr(item, "sequence") else item.created)
    return sorted(items, key=key, reverse=(order == "Descending"))


# ----------------------------------------------------------------------------- executions


@api("oos", "StartExecution", mutating=True)
def start_execution(req):
    world = req.world
    engine = world.engine

    def create():
        if req.get("TemplateContent") or req.get("TemplateURL"):
            raise ApiError("InvalidParameter", "The emulator runs only the public ESS rolling-update templates; "
                           "pass TemplateName.")
        template_name = req.require("TemplateName")
        templates.require(template_name, req.get("TemplateVersion"))
        mode = _choice(req, "Mode", MODES) or "Automatic"
        if mode == "Debug":
            raise ApiError("InvalidParameter", "Mode Debug is not modelled by the emulator.")
        _choice(req, "LoopMode", LOOP_MODES)
        _choice(req, "SafetyCheck", SAFETY_CHECKS)
        tags = _json_object(req, "Tags")
        if len(tags) > 20:
            _invalid("Tags", "At most 20 tags are allowed.")
        parameters = templates.resolve_parameters(template_name, _json_object(req, "Parameters"))
        if req.get("ParentExecutionId") and req.get("ParentExecutionId") not in engine.executions:
            raise ApiError("EntityNotExists.Execution", "The execution %s does not exist." % req.get("ParentExecutionId"), 404)
        options = {
            "Mode": mode, "LoopMode": req.get("LoopMode"), "SafetyCheck": req.get("SafetyCheck"),
            "Description": req.get("Description"), "Tags": {str(k): str(v) for k, v in tags.items()},
            "ParentExecutionId": req.get("ParentExecutionId"), "RegionId": req.region,
            "ResourceGroupId": req.get("ResourceGroupId"),
            "ExecutedBy": getattr(req.caller, "arn", None) or getattr(req.caller, "access_key_id", "") if req.caller else "",
            "AccountId": getattr(req.caller, "account_id", "") if req.caller else "",
        }
        return engine.start(template_name, req.get("TemplateVersion"), parameters, options).id

    execution_id = world.idempotent(req, create)
    return {"Execution": engine.executions[execution_id].start_api()}


def _visible_executions(req):
    engine = req.world.engine
    executions = list(engine.executions.values())
    if req.get("ExecutionId"):
        return [e for e in executions if e.id == req.get("ExecutionId")]
    if req.get("ParentExecutionId"):
        return [e for e in executions if e.parent_id == req.get("ParentExecutionId")]
    depth = _choice(req, "Depth", ("RootDepth", "FirstChildDepth"))
    if depth == "FirstChildDepth":
        return [e for e in executions if not e.is_parent]
    if req.bool("IncludeChildExecution", False) and depth is None:
        return executions
    return [e for e in executions if e.is_parent]


@api("oos", "ListExecutions")
def list_executions(req):
    executions = _visible_executions(req)
    if req.get("TemplateName"):
        executions = [e for e in executions if req.get("TemplateName") in e.template_name]
    status = req.get("Status")
    if status:
        executions = [e for e in executions if e.status == status]
    for name, attr in (("Mode", "mode"), ("ExecutedBy", "executed_by"), ("RamRole", "ram_role"),
                       ("ResourceGroupId", "resource_group_id"), ("Description", "description")):
        if req.get(name):
            executions = [e for e in executions if getattr(e, attr) == req.get(name)]
    if req.get("Category") and req.get("Category") != "Other":
        executions = []
    tags = _json_object(req, "Tags")
    if tags:
        executions = [e for e in executions if all(e.tags.get(str(k)) == str(v) for k, v in tags.items())]
    executions = _date_filters(req, executions)
    executions = _sorted(req, executions, {"StartDate": "started", "EndDate": "ended", "Status": "status"})
    page, size, next_token = _paginate(req, executions, 10, 100, 50)
    return {"Executions": [e.api() for e in page], "MaxResults": size, "NextToken": next_token,
            "TotalCount": len(executions)}


@api("oos", "ListTaskExecutions")
def list_task_executions(req):
    engine = req.world.engine
    if req.get("ExecutionId"):
        tasks = list(_execution(req).tasks)
    else:
        tasks = [t for e in engine.executions.values() for t in e.tasks]
    if req.get("TaskExecutionId"):
        tasks = [t for t in tasks if t.id == req.get("TaskExecutionId")]
    elif req.get("ParentTaskExecutionId"):
        tasks = [t for t in tasks if t.parent_task_id == req.get("ParentTaskExecutionId")]
    elif not req.bool("IncludeChildTaskExecution", False):
        tasks = [t for t in tasks if not t.parent_task_id]
    for name, attr in (("TaskName", "name"), ("TaskAction", "action"), ("Status", "status")):
        if req.get(name):
            tasks = [t for t in tasks if getattr(t, attr) == req.get(name)]
    tasks = _date_filters(req, tasks)
    if req.get("SortField") or req.get("SortOrder"):
        tasks = _sorted(req, tasks, {"StartDate": "started", "EndDate": "ended", "Status": "status"})
    page, size, next_token = _paginate(req, tasks, 20, 100, 50)
    return {"TaskExecutions": [t.api() for t in page], "MaxResults": size, "NextToken": next_token}


@api("oos", "ListExecutionLogs")
def list_execution_logs(req):
    execution = _execution(req)
    logs = list(execution.logs)
    if req.get("TaskExecutionId"):
        logs = [log for log in logs if log["TaskExecutionId"] == req.get("TaskExecutionId")]
    if req.get("LogType"):
        logs = [log for log in logs if log["LogType"] == req.get("LogType")]
    page, size, next_token = _paginate(req, logs, 1, 100, 50)
    return {"ExecutionLogs": page, "IsTruncated": bool(next_token), "MaxResults": size, "NextToken": next_token}


@api("oos", "NotifyExecution", mutating=True)
def notify_execution(req):
    execution = _execution(req)
    notify_type = req.require("NotifyType")
    if notify_type not in NOTIFY_TYPES:
        _invalid("NotifyType", "Allowed values: %s." % ", ".join(NOTIFY_TYPES))
    task_execution_id = req.get("TaskExecutionId")
    if task_execution_id is None and req.get("TaskExecutionIds"):
        ids = req.json("TaskExecutionIds")
        task_execution_id = ids[0] if isinstance(ids, list) and ids else None
    req.world.engine.notify(execution, notify_type, task_execution_id)
    return {}


@api("oos", "CancelExecution", mutating=True)
def cancel_execution(req):
    execution = _execution(req)
    # Cancelling a finished execution is a no-op answered with 200 [INFERRED choice, reference 2.4].
    req.world.engine.cancel(execution)
    return {}


# ----------------------------------------------------------------------------- templates


@api("oos", "GetTemplate")
def get_template(req):
    name = req.require("TemplateName")
    versions = req.world.oos_packages.get(name)
    if versions and name not in templates.ACTIONS:
        number = templates.package_version(name, versions, req.get("TemplateVersion"))
        return {"Content": templates.package_content(name, versions, number),
                "Template": templates.package_summary(name, versions, number)}
    templates.require(name, req.get("TemplateVersion"))
    return {"Content": templates.content(name), "Template": templates.summary(name, req.get("TemplateVersion"))}


@api("oos", "ListTemplateVersions")
def list_template_versions(req):
    name = req.require("TemplateName")
    versions = req.world.oos_packages.get(name)
    if versions and name not in templates.ACTIONS:
        numbers = range(len(versions), 0, -1)  # newest first (INFERRED order)
        items = [templates.package_summary(name, versions, n) for n in numbers]
    else:
        templates.require(name)
        items = [templates.summary(name, v) for v in reversed(templates.versions(name))]  # newest first
    fields = ("TemplateVersion", "VersionName", "Description", "TemplateFormat", "UpdatedBy", "UpdatedDate")
    page, size, next_token = _paginate(req, [{k: item[k] for k in fields} for item in items], 1, 100, 50)
    return {"TemplateVersions": page, "MaxResults": size, "NextToken": next_token}


@api("oos", "ListTemplates")
def list_templates(req):
    names = [n for n in templates.ACTIONS]
    if req.get("TemplateType") == "Package":  # packages are listed only when asked for by type
        names = sorted(req.world.oos_packages)
    if req.get("TemplateName"):
        names = [n for n in names if req.get("TemplateName") in n]
    if req.get("ShareType") and req.get("ShareType") != "Public":
        names = []
    if req.get("TemplateType") not in (None, "Automation", "Package"):
        names = []
    if req.get("Category") and req.get("Category") != "elastic_manage":
        names = []
    page, size, next_token = _paginate(req, sorted(names), 20, 100, 50)
    items = []
    for name in page:
        if name in templates.ACTIONS:
            item = templates.summary(name)
        else:
            versions = req.world.oos_packages[name]
            item = templates.package_summary(name, versions, len(versions))
        item.update(Category="elastic_manage", Popularity=10, TotalExecutionCount=0, IsFavorite=False,
                    Publisher="ACS", Constraints="")
        item.pop("SharedAccounts", None)  # not in ListTemplatesResponseBodyTemplates
        items.append(item)
    return {"Templates": items, "MaxResults": size, "NextToken": next_token}


@api("oos", "ListInstancePackageStates")
def list_instance_package_states(req):
    world = req.world
    instance_id = req.require("InstanceId")
    instance = world.instances.get(instance_id)
    if instance is None:
        raise ApiError("EntityNotExists.Instance", "The instance %s does not exist." % instance_id, 404)
    wanted = req.get("TemplateNames")
    names = None
    if wanted:
        try:
            parsed = json.loads(wanted)
            names = [str(n) for n in (parsed if isinstance(parsed, list) else [parsed])]
        except ValueError:
            names = [n.strip() for n in wanted.split(",") if n.strip()]
    states = []
    for name, package in sorted(instance.packages.items()):
        if names is not None and name not in names:
            continue
        versions = world.oos_packages.get(name, [])
        number = versions.index(package["version"]) + 1 if package["version"] in versions else 0
        states.append({
            "TemplateName": name, "TemplateId": templates.package_template_id(name),
            "TemplateVersion": "v%d" % number, "TemplateVersionName": package["version"],
            "TemplateCategory": "Public", "Publisher": "ACS", "Description": "",
            "Parameters": {}, "ConfigurationInfo": "", "UpdateTime": iso(package["updated"]),
        })
    page, size, next_token = _paginate(req, states, 1, 100, 50)
    return {"PackageStates": page, "MaxResults": size, "NextToken": next_token}
