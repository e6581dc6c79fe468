# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY.
# The interfaces in this file are meant for use within the alicloud.rollout collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""The logic behind ``ess_rolling_update``: template choice, parameters, validation, batch plan,
client token, adoption, idempotency, rollback and result shaping. Pure functions first; the
functions that call APIs take ApiClients and say so."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

from . import ess as ess_api
from . import oos as oos_api
from .errors import AlicloudApiError
from .waiter import TERMINAL_STATUSES

TEMPLATES = {
    "image": "ACS-ESS-RollingUpdateByReplaceSystemDiskInScalingGroup",
    "script": "ACS-ESS-RollingUpdateByRunCommandInScalingGroup",
    "package": "ACS-ESS-RollingUpdateByConfigureOOSPackage",
}
KIND_OF_TEMPLATE = dict((name, kind) for kind, name in TEMPLATES.items())
LOOP_TASKS = {
    "image": ("invokeByReplaceImage", "rollbackByReplaceImage"),
    "script": ("invokeByRunCommand", "rollbackByRunCommand"),
    "package": ("invokeByConfigureOOSPackage", "rollbackByConfigureOOSPackage"),
}
PROCESSES = ["ScaleIn", "ScaleOut", "HealthCheck", "AlarmNotification", "ScheduledAction"]
LIFECYCLE_STATES = ["InService", "Protected"]
BATCH_PAUSE_OPTIONS = ["Automatic", "FirstBatchPause", "EveryBatchPause"]
COMMAND_TYPES = ["RunShellScript", "RunBatScript", "RunPowerShellScript"]
PACKAGE_ACTIONS = ["install", "uninstall"]
CREATION_TYPES = ["AutoCreated", "Attached"]
SCALING_GROUP_TAG = "scaling_group"
# The tag the role alicloud.rollout.rolling_update sets on its executions: the processes it suspended itself.
SUSPENDED_BY_ROLE_TAG = "rollout_suspended_processes"
IN_FLIGHT_STATUSES = ("Started", "Queued", "Running", "Waiting", "Pending")
BATCH_NUMBER_RANGE = (1, 100)
MAX_LOOP_ITEMS = 1000
# Parameters the module fills from the cloud; they are not part of what the user asked for.
FILLED_PARAMETERS = ("exitProcess", "scalingConfigurationId", "sourceImageId")


class ValidationError(Exception):
    """The request breaks a template rule; raised before any API call."""


class RolloutConflict(Exception):
    """Another rollout of the scaling group is in flight."""

    def __init__(self, message, execution):
        super(RolloutConflict, self).__init__(message)
        self.execution = execution


# ---------------------------------------------------------------- template choice and validation

# INFERRED from the ECS RunCommand docs (CommandContent up to 16 KB before Base64 encoding).
SCRIPT_MAX_BYTES = 16 * 1024


def choose_kind(params):
    """image | script | package, from what the user asked (or from a custom template's name)."""
    asked = [kind for kind, present in (
        ("image", params.get("image_id")),
        ("script", params.get("invoke_script") is not None),
        ("package", params.get("package_name"))) if present]
    if len(asked) > 1:
        raise ValidationError("image_id, invoke_script and package_name are mutually exclusive; give one.")
    if asked:
        return asked[0]
    template = params.get("template_name")
    if template in KIND_OF_TEMPLATE:
        return KIND_OF_TEMPLATE[template]
    return None


def validate(params, kind):
    """Check the template's rules locally. ``kind`` may be None only for a rollback."""
    rollback = params.get("invoke_type") == "rollback"
    if rollback and not params.get("source_execution_id"):
        raise ValidationError("invoke_type=rollback needs source_execution_id (the execution to roll back).")
    if not rollback and params.get("source_execution_id"):
        raise ValidationError("source_execution_id is only used with invoke_type=rollback.")
    if kind is None and not rollback:
        raise ValidationError("Say what to roll out: image_id (new image), invoke_script (a script) or "
                              "package_name (an OOS package).")
    low, high = BATCH_NUMBER_RANGE
    if not low <= params.get("batch_number", 5) <= high:
        raise ValidationError("batch_number must be between %d and %d." % (low, high))
    if params.get("max_errors") is not None and params["max_errors"] < 0:
        raise ValidationError("max_errors must be 0 or more.")
    if params.get("max_errors") and kind not in (None, "image"):
        raise ValidationError("max_errors is only supported by the image template (%s)." % TEMPLATES["image"])
    if not params.get("lifecycle_state"):
        raise ValidationError("lifecycle_state must name at least one of %s." % ", ".join(LIFECYCLE_STATES))
    for name in ("enter_process", "exit_process"):
        unknown = sorted(set(params.get(name) or []) - set(PROCESSES))
        if unknown:
            raise ValidationError("%s has unknown processes %s; allowed: %s." % (
                name, ", ".join(unknown), ", ".join(PROCESSES)))
    if kind == "script" and not rollback and not (params.get("invoke_script") or "").strip():
        raise ValidationError("invoke_script must not be empty.")
    for name in ("invoke_script", "rollback_script"):
        size = len((params.get(name) or "").encode("utf-8"))
        if size > SCRIPT_MAX_BYTES:
            raise ValidationError("%s is %d bytes; ECS RunCommand accepts at most %d bytes of script. Ship a "
                                  "larger script as a file (OSS, a package) and call it."
                                  % (name, size, SCRIPT_MAX_BYTES))
    if kind != "script" and params.get("rollback_script") is not None and params.get("invoke_script") is None \
            and not rollback:
        raise ValidationError("rollback_script goes with invoke_script.")
    if kind != "package" and params.get("package_version") and not rollback:
        raise ValidationError("package_version goes with package_name.")
    if kind != "image" and params.get("source_image_id") and not rollback:
        raise ValidationError("source_image_id goes with image_id.")
    if params.get("wait_timeout") is not None and params["wait_timeout"] <= 0:
        raise ValidationError("wait_timeout must be positive.")
    if params.get("poll_interval") is not None and params["poll_interval"] <= 0:
        raise ValidationError("poll_interval must be positive.")


def exit_processes(requested, already_suspended):
    """The processes the rollout may resume: never one the user had suspended before it started."""
    suspended = set(already_suspended or [])
    return [p for p in requested if p not in suspended]


def build_parameters(params, kind, group=None, configuration=None, source=None):
    """The template parameters (camelCase) for StartExecution.

    ``group``/``configuration`` are the ESS scaling group and its active scaling configuration (to
    fill scalingConfigurationId, sourceImageId and exitProcess); ``source`` is the execution rolled back.
    """
    rollback = params.get("invoke_type") == "rollback"
    source_params = (source or {}).get("Parameters") or {}
    if isinstance(source_params, str):
        source_params = json.loads(source_params or "{}")
    enter = list(params.get("enter_process") if params.get("enter_process") is not None else PROCESSES)
    exit_ = list(params.get("exit_process") if params.get("exit_process") is not None else PROCESSES)
    if rollback and source_params:
        # The template reuses the source's process lists anyway; send them so the request says so.
        enter = list(source_params.get("enterProcess", enter))
        exit_ = list(source_params.get("exitProcess", exit_))
    elif group is not None:
        exit_ = exit_processes(exit_, group.get("SuspendedProcesses"))
    parameters = {
        "invokeType": "rollback" if rollback else "invoke",
        "scalingGroupId": params["scaling_group_id"],
        "enterProcess": enter,
        "exitProcess": exit_,
        "lifecycleState": list(params.get("lifecycle_state") or ["InService"]),
        "sourceExecutionId": params.get("source_execution_id") or "",
        "batchPauseOption": params.get("batch_pause_option") or "Automatic",
        "batchNumber": params.get("batch_number") or 5,
        "OOSAssumeRole": params.get("oos_assume_role") or "",
    }

    def pick(option, source_key, default=""):
        value = params.get(option)
        if value is None or value == "":
            value = source_params.get(source_key, default) if rollback else default
        return value

    if kind == "image":
        parameters["imageId"] = pick("image_id", "imageId")
        parameters["sourceImageId"] = params.get("source_image_id") or source_params.get("sourceImageId") \
            or (configuration or {}).get("ImageId") or ""
        parameters["scalingConfigurationId"] = params.get("scaling_configuration_id") \
            or source_params.get("scalingConfigurationId") or (group or {}).get("ActiveScalingConfigurationId") or ""
        parameters["maxErrors"] = params.get("max_errors") or 0
    elif kind == "script":
        parameters["commandType"] = params.get("command_type") or source_params.get("commandType") \
            or "RunShellScript"
        parameters["invokeScript"] = pick("invoke_script", "invokeScript")
        parameters["rollbackScript"] = pick("rollback_script", "rollbackScript")
    elif kind == "package":
        parameters["action"] = params.get("package_action") or source_params.get("action") or "install"
        parameters["packageName"] = pick("package_name", "packageName")
        parameters["packageVersion"] = pick("package_version", "packageVersion")
    if rollback and kind == "image" and not parameters["sourceImageId"]:
        raise ValidationError("The source execution has no sourceImageId; give source_image_id to roll back to.")
    return parameters


def request_identity(parameters):
    """What the user asked for: the parameters minus what the module filled from the cloud."""
    return dict((k, v) for k, v in parameters.items() if k not in FILLED_PARAMETERS)


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def client_token(region, template_name, template_version, parameters, generation=None, fingerprint=None):
    """A deterministic ClientToken (<= 64 ASCII chars): the same request on the same starting point
    yields the same token, so a retried StartExecution returns the execution it already started."""
    material = canonical({
        "region": region, "template": template_name, "version": template_version or "",
        "request": request_identity(parameters), "generation": generation or "", "state": fingerprint or "",
    })
    return "ansible-rollout-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]


def calculate_batches(count, batch_number):
    """Batch sizes as ``Fn::CalculateBatch`` makes them: ``batch_number`` batches of at least one
    instance, the remainder in the first batches (INFERRED, see the reference)."""
    if count <= 0:
        return []
    batches = min(batch_number, count)
    base, extra = divmod(count, batches)
    return [base + 1 if index < extra else base for index in range(batches)]


def plan_batches(instance_ids, batch_number):
    """[[ids of batch 1], [ids of batch 2], ...] in the order the template takes them."""
    plan, start = [], 0
    for size in calculate_batches(len(instance_ids), batch_number):
        plan.append(list(instance_ids[start:start + size]))
        start += size
    return plan


# ---------------------------------------------------------------- state of the group

def in_scope_instances(ess, scaling_group_id, lifecycle_states):
    """The instances the template will update (same filters as its getInstance task). API call."""
    return ess_api.describe_scaling_instances(ess, scaling_group_id, lifecycle_states=list(lifecycle_states),
                                              creation_types=list(CREATION_TYPES))


def instance_images(ecs, instance_ids):
    """{instance_id: image_id} from ECS. API call."""
    if not instance_ids:
        return {}
    return dict((i.get("InstanceId"), i.get("ImageId")) for i in ess_api.describe_instances(ecs, instance_ids))


def instance_packages(oos, instance_ids, package_name):
    """{instance_id: [version names of package_name installed]} from OOS ListInstancePackageStates
    (an empty list when it is not installed). The first name is the one to show. API calls."""
    versions = {}
    for instance_id in instance_ids:
        states = oos_api.list_instance_package_states(oos, instance_id, package_name)
        names = []
        for state in states:
            if state.get("TemplateName") == package_name:
                names.extend(v for v in (state.get("TemplateVersionName"), state.get("TemplateVersion")) if v)
        if not names and any(state.get("TemplateName") == package_name for state in states):
            names = ["installed"]
        versions[instance_id] = names
    return versions


def known_package_version(versions, wanted):
    """The entry of ListTemplateVersions that ``wanted`` names, or None.

    INFERRED: C(packageVersion) of ACS-ESS-RollingUpdateByConfigureOOSPackage is the version name the package's
    author gave (VersionName, e.g. 1.26.1); the template version (v2) is accepted as well.
    """
    for version in versions:
        if wanted in (version.get("VersionName"), version.get("TemplateVersion")):
            return version
    return None


def package_matches(installed, wanted_version, action):
    """``installed`` is the list of names of the installed version ([] when absent)."""
    if action == "uninstall":
        return not installed
    if not installed:
        return False
    return not wanted_version or wanted_version in installed


def not_updated(ecs, oos, kind, parameters, instance_ids, instances=None):
    """Instances of ``instance_ids`` that a rollout which ended Success did not update, read back from the cloud:
    [{instance_id, reason}]. Image: the image ECS reports (an instance that no longer exists is left out);
    package: the package state OOS reports; script: the instance's child execution (``instances`` as
    instance_results returns them). API calls."""
    rollback = parameters.get("invokeType") == "rollback"
    missing = []
    if kind == "image":
        target = parameters.get("sourceImageId") if rollback else parameters.get("imageId")
        images = instance_images(ecs, instance_ids)
        for instance_id in instance_ids:
            if instance_id in images and images[instance_id] != target:
                missing.append({"instance_id": instance_id,
                                "reason": "runs image %s, not %s" % (images[instance_id], target)})
    elif kind == "package":
        versions = instance_packages(oos, instance_ids, parameters.get("packageName"))
        for instance_id in instance_ids:
            installed = versions.get(instance_id) or []
            if not package_matches(installed, parameters.get("packageVersion"), parameters.get("action")):
                missing.append({"instance_id": instance_id, "reason": "package %s is %s, not %s %s" % (
                    parameters.get("packageName"), ", ".join(installed) or "not installed",
                    parameters.get("action"), parameters.get("packageVersion") or "(latest)")})
    elif kind == "script":
        by_id = dict((i["instance_id"], i) for i in instances or [])
        for instance_id in instance_ids:
            status = (by_id.get(instance_id) or {}).get("status")
            if status != "Success":
                missing.append({"instance_id": instance_id, "reason": "the script did not run on it" if status is None
                                else "its child execution is %s" % status})
    return missing


# ---------------------------------------------------------------- executions of the group

def group_rollouts(oos, scaling_group_id, limit=100):
    """Top-level executions tagged with the scaling group, newest first. API call."""
    executions = oos_api.list_executions(oos, tags={SCALING_GROUP_TAG: scaling_group_id}, limit=limit)
    return [e for e in executions if not e.get("ParentExecutionId")]


def parameters_of(execution):
    value = (execution or {}).get("Parameters") or {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = {}
    return value


def same_request(execution, template_name, parameters):
    if execution.get("TemplateName") != template_name:
        return False
    return canonical(request_identity(parameters_of(execution))) == canonical(request_identity(parameters))


def find_in_flight(executions):
    return [e for e in executions if e.get("Status") in IN_FLIGHT_STATUSES]


def related_rollouts(executions, template_name, parameters):
    """Executions of this same request, and rollbacks of them, newest first (as listed)."""
    mine = [e for e in executions if same_request(e, template_name, parameters)]
    ids = set(e.get("ExecutionId") for e in mine)
    return [e for e in executions
            if e.get("ExecutionId") in ids or parameters_of(e).get("sourceExecutionId") in ids]


def generation_marker(executions, template_name, parameters):
    """The newest finished attempt of this request that did not stick (failed, cancelled, or rolled back).

    It goes into the client token: a re-run after a success keeps the token (and finds the same
    execution), while a retry after a failure or a rollback gets a new one. Unrelated rollouts of
    other requests do not matter.
    """
    for execution in related_rollouts(executions, template_name, parameters):
        if execution.get("Status") not in TERMINAL_STATUSES:
            continue
        if execution.get("Status") == "Success" and same_request(execution, template_name, parameters):
            continue
        return execution.get("ExecutionId")
    return None


def last_success_of_request(executions, template_name, parameters):
    """The newest successful run of this request if nothing undid or superseded it (a later failure of the
    same request, or a rollback of it), else None."""
    for execution in related_rollouts(executions, template_name, parameters):
        if execution.get("Status") not in TERMINAL_STATUSES:
            continue
        if execution.get("Status") == "Success" and same_request(execution, template_name, parameters):
            return execution
        return None
    return None


def same_target(execution, kind, parameters):
    """True when ``execution`` rolled out what ``parameters`` ask for: the same image, script, or package and
    version (batching and process options aside)."""
    theirs = parameters_of(execution)
    keys = {"image": ("imageId",), "script": ("invokeScript",), "package": ("packageName", "packageVersion")}
    return bool(kind in keys and all((theirs.get(k) or "") == (parameters.get(k) or "") for k in keys[kind]))


def tagged_processes(execution, tag=SUSPENDED_BY_ROLE_TAG):
    """Processes a run tagged as suspended by it (the role's tag), as a list."""
    value = ((execution or {}).get("Tags") or {}).get(tag) or "none"
    return [p for p in str(value).split(",") if p and p != "none"]


def rollback_of_request(oos, executions, kind, parameters):
    """When the newest rollout of the group is a rollback of this same request: {execution_id, status,
    source_execution_id, source_suspended_processes}; else None. ``executions``: group_rollouts, newest first.
    API call only when the source is older than the listed page."""
    if not executions:
        return None
    newest = executions[0]
    newest_parameters = parameters_of(newest)
    source_id = newest_parameters.get("sourceExecutionId")
    if newest_parameters.get("invokeType") != "rollback" or not source_id:
        return None
    source = next((e for e in executions if e.get("ExecutionId") == source_id), None)
    if source is None:
        source = oos_api.get_execution(oos, source_id)
    if source is None or not same_target(source, kind, parameters):
        return None
    return {"execution_id": newest.get("ExecutionId"), "status": newest.get("Status"),
            "source_execution_id": source_id, "source_suspended_processes": tagged_processes(source)}


def inherited_processes(earlier, adopting, suspended_now):
    """Processes an interrupted earlier run of the role left suspended, which this run must resume.

    ``earlier``: the execution adopted, or else the newest rollout of the group. Adopting, it is what that run
    tagged and is still suspended; otherwise only when every process it tagged is still suspended and it has
    ended, i.e. its cleanup never ran (it was interrupted and its execution ended unwatched)."""
    if earlier is None:
        return []
    tagged = tagged_processes(earlier)
    suspended = list(suspended_now or [])
    if adopting or (all(p in suspended for p in tagged) and earlier.get("Status") in TERMINAL_STATUSES):
        return [p for p in tagged if p in suspended]
    return []


# ---------------------------------------------------------------- results

def _loop_children(oos, execution_id, kind, rollback):
    """Loop child task executions (with LoopBatchNumber/LoopItem/ChildExecutionId), or []. API calls."""
    if kind is None:
        return []
    task_name = LOOP_TASKS[kind][1 if rollback else 0]
    # With the children included one call usually answers; the second read covers a service that names them apart.
    tasks = oos_api.list_task_executions(oos, execution_id, task_name=task_name, include_child_task_execution=True)
    parents = [t for t in tasks if not t.get("ParentTaskExecutionId")]
    children = [t for t in tasks if t.get("ParentTaskExecutionId")]
    if parents and not children:
        children = oos_api.list_task_executions(oos, execution_id,
                                                parent_task_execution_id=parents[0].get("TaskExecutionId"))
    return children


def _loop_item_instance(item):
    if isinstance(item, str):
        try:
            item = json.loads(item)
        except ValueError:
            return item
    if isinstance(item, dict):
        return item.get("InstanceId")
    return item


def _output_text(outputs):
    if isinstance(outputs, str):
        try:
            outputs = json.loads(outputs)
        except ValueError:
            return outputs
    if isinstance(outputs, dict):
        for key in ("commandOutput", "invocationOutput", "newSystemDiskId"):
            if key in outputs:
                return outputs[key]
        return outputs or None
    return outputs


def instance_results(oos, execution, kind, warnings=None, loop_items=None):
    """Per-instance results and batches of an execution. API calls.

    Returns ``(instances, batches)``: instances = [{instance_id, status, output, error, lifecycle_state,
    child_execution_id, batch}], batches = [{number, instances, status}]. Batch numbers are a nicety: when they
    cannot be read, a sentence saying why (naming the denied action) goes to ``warnings`` and batches is empty.
    ``loop_items``, a list, receives the loop's child task executions that were read (for waiter.wait_hint).
    """
    execution_id = execution.get("ExecutionId")
    rollback = parameters_of(execution).get("invokeType") == "rollback"
    children = oos_api.list_child_executions(oos, execution_id)
    by_instance = {}
    for child in children:
        child_params = parameters_of(child)
        instance_id = child_params.get("instanceId")
        if not instance_id:
            continue
        failed = child.get("Status") in ("Failed", "Cancelled")
        by_instance[instance_id] = {
            "instance_id": instance_id,
            "status": child.get("Status"),
            "output": _output_text(child.get("Outputs")),
            "error": child.get("StatusMessage") if failed else None,
            "lifecycle_state": child_params.get("lifecycleState"),
            "child_execution_id": child.get("ExecutionId"),
            "batch": None,
        }
    batch_of = {}
    try:
        children_tasks = _loop_children(oos, execution_id, kind, rollback)
        if loop_items is not None:
            loop_items.extend(children_tasks)
        for task in children_tasks:
            instance_id = _loop_item_instance(task.get("LoopItem"))
            if instance_id and task.get("LoopBatchNumber") is not None:
                batch_of[instance_id] = int(task["LoopBatchNumber"])
            if instance_id and instance_id not in by_instance:
                by_instance[instance_id] = {
                    "instance_id": instance_id, "status": task.get("Status"),
                    "output": _output_text(task.get("Outputs")),
                    "error": task.get("StatusMessage") if task.get("Status") in ("Failed", "Cancelled") else None,
                    "lifecycle_state": None, "child_execution_id": task.get("ChildExecutionId"), "batch": None,
                }
    except AlicloudApiError as error:  # the per-instance results stand without batch numbers
        batch_of = {}
        if warnings is not None:
            warnings.append(batch_detail_warning(error))
    except (TypeError, ValueError):  # a LoopBatchNumber that is not a number
        batch_of = {}
    instances = sorted(by_instance.values(), key=lambda i: (batch_of.get(i["instance_id"], 0), i["instance_id"]))
    for item in instances:
        item["batch"] = batch_of.get(item["instance_id"])
    batches = {}
    for item in instances:
        if item["batch"] is not None:
            batches.setdefault(item["batch"], []).append(item)
    batch_list = []
    for number in sorted(batches):
        members = batches[number]
        statuses = set(m["status"] for m in members)
        if "Failed" in statuses:
            status = "Failed"
        elif "Cancelled" in statuses:
            # Cancelled before it ran (a rollout stopped after an earlier batch) is not a failure of this batch.
            status = "Cancelled"
        elif statuses == {"Success"}:
            status = "Success"
        else:
            status = "Running"
        batch_list.append({"number": number, "instances": [m["instance_id"] for m in members], "status": status})
    return instances, batch_list


def batch_detail_warning(error):
    """Why per-batch details are missing, naming the RAM action when it was denied."""
    action = "%s:%s" % (error.product or "oos", error.operation or "ListTaskExecutions")
    if (error.code or "").startswith("Forbidden"):
        return ("Per-batch details are missing: %s was denied (%s%s). Grant %s (docs/ram-policy.json) to get the "
                "batch of each instance." % (action, error.code, ", RequestId %s" % error.request_id
                                             if error.request_id else "", action))
    return "Per-batch details are missing: %s" % error


def shape_result(execution, kind, parameters=None):
    """The top-level result keys of ess_rolling_update for an execution."""
    execution = execution or {}
    status = execution.get("Status")
    paused = status == "Waiting"
    params = parameters if parameters is not None else parameters_of(execution)
    rollback = params.get("invokeType") == "rollback"
    return {
        "execution_id": execution.get("ExecutionId"),
        "template_name": execution.get("TemplateName"),
        "template_version": execution.get("TemplateVersion"),
        "status": status,
        "status_message": execution.get("StatusMessage"),
        "paused": paused,
        "pause_reason": (execution.get("WaitingStatus") or execution.get("StatusReason") or "Waiting")
        if paused else None,
        "parameters": params,
        "outputs": execution.get("Outputs") if isinstance(execution.get("Outputs"), dict) else {},
        "kind": kind,
        "invoke_type": "rollback" if rollback else "invoke",
        "rollback_source_execution_id": None if rollback else execution.get("ExecutionId"),
        "start_date": execution.get("StartDate"),
        "end_date": execution.get("EndDate"),
    }
