# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY.
# The interfaces in this file are meant for use within the alicloud.rollout collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""ESS native instance refresh (StartInstanceRefresh and its family): request building and validation,
the preflight, adoption, state decisions, API calls (all pages, retried) and waiting.

The modules ``ess_instance_refresh`` and ``ess_instance_refresh_info`` stay thin: everything that calls the
API, pages, waits or decides lives here. Requests and tasks are the API's own dicts (PascalCase keys);
``summarize`` turns a task into the snake_case dict the modules return.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

from .errors import AlicloudApiError
from .paging import token_pages
from .waiter import PollPolicy, WaitTimeout, wait_for

try:
    from alibabacloud_ess20220222 import models as ess_models
except ImportError:  # pragma: no cover - AlicloudModule reports the missing SDK
    ess_models = None

# Reference 3.7: request defaults and limits.
DEFAULT_MIN_HEALTHY = 80
DEFAULT_MAX_HEALTHY = 120
DEFAULT_CHECKPOINT_PAUSE_MINUTES = 60
MAX_CHECKPOINT_PAUSE_MINUTES = 2880
DESCRIBE_PAGE_SIZE = 50

# Reference 3.7: task statuses.
RUNNING_STATUSES = ("Pending", "InProgress", "Paused", "CheckpointPause", "Cancelling", "RollbackInProgress")
PAUSED_STATUSES = ("Paused", "CheckpointPause")
FINAL_STATUSES = ("Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed")
FAILED_STATUSES = ("Failed", "RollbackFailed")

# The module's ``state`` values other than ``present`` and the API call each one makes.
ACTIONS = {
    "suspended": "SuspendInstanceRefresh",
    "resumed": "ResumeInstanceRefresh",
    "cancelled": "CancelInstanceRefresh",
    "rolled_back": "RollbackInstanceRefresh",
}
# The status each action leads to (read back after the call; shown in check mode and diffs).
EXPECTED_STATUS = {
    "suspended": "Paused",
    "resumed": "InProgress",
    "cancelled": "Cancelled",
    "rolled_back": "RollbackSuccessful",
}

NOTHING_TO_REFRESH = "InvalidInstance.NoInstanceNeedBeRefreshed"
NO_ROLLBACK_VERSIONS = ("Default", "Latest")
# ScalingPolicy values that instance refresh does not support (SDK docs: recycle = Economical Mode,
# forcerecycle = Force Economical Mode; reference 3.7: not for Economical/Forcibly-Recycle).
UNSUPPORTED_RECLAIM_MODES = {"recycle": "Economical Mode", "forcerecycle": "Force Economical Mode"}


class RequestError(ValueError):
    """Bad module input, found before any API call. ``parameter`` names the module option."""

    def __init__(self, parameter, message):
        super(RequestError, self).__init__("%s: %s" % (parameter, message))
        self.parameter = parameter


class RefreshWaitTimeout(Exception):
    """The wait ran out; ``task`` is the last task seen."""

    def __init__(self, message, task, waited):
        super(RefreshWaitTimeout, self).__init__(message)
        self.task = task
        self.waited = waited


# ---------------------------------------------------------------- requests (pure functions)

def paced(params):
    """``params`` with the refresh's pace derived from batches, as the OOS templates take them, where not given.

    ``batch_number`` N: one batch (ceil(100 / N) percent) out of service at a time, so min_healthy_percentage is
    100 - ceil(100 / N), at least 0. ``batch_pause_option``: a checkpoint after the first batch (FirstBatchPause,
    ``[ceil(100 / N), 100]``) or after each (EveryBatchPause, ``ceil(100 k / N)`` for k = 1..N). ``gate_seconds``:
    a checkpoint pause must outlast the caller's health gate, or ESS goes on before the gate has judged the
    batch, so checkpoint_pause_time is 4 times the gate, in minutes, at least 60 and at most 2880.
    """
    number = params.get("batch_number")
    if not number:
        if params.get("batch_pause_option") not in (None, "Automatic"):
            raise RequestError("batch_pause_option", "goes with batch_number.")
        return params
    if not 1 <= number <= 100:
        raise RequestError("batch_number", "must be between 1 and 100, got %s." % number)
    step = -(-100 // number)
    found = dict(params)
    if found.get("min_healthy_percentage") is None:
        found["min_healthy_percentage"] = max(0, 100 - step)
    if found.get("checkpoints") is None:
        option = params.get("batch_pause_option") or "Automatic"
        if option == "FirstBatchPause":
            found["checkpoints"] = sorted(set([step, 100]))
        elif option == "EveryBatchPause":
            found["checkpoints"] = [min(100, -(-100 * k // number)) for k in range(1, number + 1)]
        else:
            found["checkpoints"] = []
    gate = params.get("gate_seconds")
    if found["checkpoints"] and found.get("checkpoint_pause_time") is None and gate:
        found["checkpoint_pause_time"] = min(MAX_CHECKPOINT_PAUSE_MINUTES, max(60, -(-int(gate) * 4 // 60)))
    return found


def build_request(params):
    """The StartInstanceRefresh request (without RegionId/ScalingGroupId/ClientToken) from module params.

    API defaults are filled in, so the request compares with what DescribeInstanceRefreshes echoes.
    Raises RequestError naming the option on bad input.
    """
    params = paced(params)
    minimum = params.get("min_healthy_percentage")
    maximum = params.get("max_healthy_percentage")
    minimum = DEFAULT_MIN_HEALTHY if minimum is None else minimum
    maximum = DEFAULT_MAX_HEALTHY if maximum is None else maximum
    if not 0 <= minimum <= 100:
        raise RequestError("min_healthy_percentage", "must be between 0 and 100, got %s." % minimum)
    if not 100 <= maximum <= 200:
        raise RequestError("max_healthy_percentage", "must be between 100 and 200, got %s." % maximum)
    if minimum == maximum == 100:
        pass  # allowed: one instance at a time (reference 3.7)
    checkpoints = list(params.get("checkpoints") or [])
    if checkpoints:
        if any(not 1 <= c <= 100 for c in checkpoints):
            raise RequestError("checkpoints", "every percentage must be between 1 and 100, got %s." % checkpoints)
        if checkpoints != sorted(set(checkpoints)):
            raise RequestError("checkpoints", "percentages must be strictly ascending, got %s." % checkpoints)
        if checkpoints[-1] != 100:
            raise RequestError("checkpoints", "the last percentage must be 100 (ESS requires it), got %s."
                               % checkpoints)
    pause = params.get("checkpoint_pause_time")
    pause = DEFAULT_CHECKPOINT_PAUSE_MINUTES if pause is None else pause
    if not 1 <= pause <= MAX_CHECKPOINT_PAUSE_MINUTES:
        raise RequestError("checkpoint_pause_time", "must be between 1 and %d minutes, got %s."
                           % (MAX_CHECKPOINT_PAUSE_MINUTES, pause))
    desired = desired_configuration(params.get("desired_configuration") or {})
    skip = params.get("skip_matching")
    request = {
        "MinHealthyPercentage": minimum,
        "MaxHealthyPercentage": maximum,
        "SkipMatching": True if skip is None else bool(skip),
        "Checkpoints": checkpoints,
        "CheckpointPauseTime": pause,
        "DesiredConfiguration": desired,
    }
    return request


def desired_configuration(options):
    """DesiredConfiguration (PascalCase, empty values dropped) from the ``desired_configuration`` option."""
    kinds = [k for k in ("scaling_configuration_id", "image_id", "launch_template_id") if options.get(k)]
    if len(kinds) > 1:
        raise RequestError("desired_configuration", "%s are mutually exclusive (ESS accepts one)."
                           % " and ".join(kinds))
    version = options.get("launch_template_version")
    overrides = options.get("launch_template_overrides") or []
    if (version or overrides) and not options.get("launch_template_id"):
        raise RequestError("desired_configuration.launch_template_version",
                           "launch_template_version and launch_template_overrides need launch_template_id.")
    desired = {}
    if options.get("scaling_configuration_id"):
        desired["ScalingConfigurationId"] = options["scaling_configuration_id"]
    if options.get("image_id"):
        desired["ImageId"] = options["image_id"]
    if options.get("launch_template_id"):
        desired["LaunchTemplateId"] = options["launch_template_id"]
        if version:
            desired["LaunchTemplateVersion"] = str(version)
        if overrides:
            desired["LaunchTemplateOverrides"] = [{"InstanceType": o["instance_type"]} for o in overrides]
    return desired


def client_token(scaling_group_id, request, newest_task_id):
    """A ClientToken derived from the group, the request and the group's newest task.

    The same start is retried with the same token (ESS returns the same task), while a later run of the same
    request after that task exists gets a new token (otherwise ESS would hand back the old, finished task).
    """
    material = json.dumps({"group": scaling_group_id, "request": request, "after": newest_task_id or ""},
                          sort_keys=True)
    return "ansible-ir-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]


def task_request(task):
    """The request fields of a DescribeInstanceRefreshes item, shaped like ``build_request``."""
    checkpoints = task.get("Checkpoints") or []
    if isinstance(checkpoints, dict):  # 2014-08-28 wrapper
        checkpoints = next(iter(checkpoints.values()), []) or []
    desired = dict((k, v) for k, v in (task.get("DesiredConfiguration") or {}).items()
                   if v not in (None, "", [], {}))
    if "LaunchTemplateVersion" in desired:
        desired["LaunchTemplateVersion"] = str(desired["LaunchTemplateVersion"])
    return {
        "MinHealthyPercentage": _int(task.get("MinHealthyPercentage")),
        "MaxHealthyPercentage": _int(task.get("MaxHealthyPercentage")),
        "SkipMatching": task.get("SkipMatching") in (True, "true", "True"),
        "Checkpoints": [_int(c.get("Percentage")) for c in checkpoints if isinstance(c, dict)],
        "CheckpointPauseTime": _int(task.get("CheckpointPauseTime")),
        "DesiredConfiguration": desired,
    }


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def request_differences(task, request):
    """The request fields in which a task differs from ``request`` ([] = the same request).

    Fields the service did not echo (missing from the task) are not compared.
    """
    echoed = task_request(task)
    differences = []
    for key in ("MinHealthyPercentage", "MaxHealthyPercentage", "SkipMatching", "Checkpoints",
                "CheckpointPauseTime"):
        if task.get(key) is None and key != "Checkpoints":
            continue
        if key == "CheckpointPauseTime" and not request["Checkpoints"]:
            continue  # meaningless (and not sent) without checkpoints
        if echoed[key] != request[key]:
            differences.append(key)
    wanted = request["DesiredConfiguration"]
    for key in set(wanted) | set(echoed["DesiredConfiguration"]):
        if key == "LaunchTemplateOverrides" and key not in echoed["DesiredConfiguration"]:
            continue  # not every service version echoes overrides
        if echoed["DesiredConfiguration"].get(key) != wanted.get(key):
            differences.append("DesiredConfiguration." + key)
    return sorted(differences)


# ---------------------------------------------------------------- preflight (pure)

def preflight(group, request, running_task=None):
    """Why ``group`` cannot (blockers) or should not without thought (warnings) use this instance refresh.

    Based on DescribeScalingGroups fields (reference 3.3) and the rules of reference 3.7. Returns
    ``(blockers, warnings)``, lists of sentences that say what to do.
    """
    blockers, warnings = [], []
    group_id = group.get("ScalingGroupId")
    state = group.get("LifecycleState")
    if state and state != "Active":
        blockers.append("Scaling group %s is %s; instance refresh needs an Active group. Enable the group first."
                        % (group_id, state))
    group_type = group.get("GroupType")
    if group_type and group_type.upper() != "ECS":
        blockers.append("Scaling group %s has GroupType %s; instance refresh supports ECS groups only. Use the "
                        "OOS-template strategy (ess_rolling_update) instead." % (group_id, group_type))
    policy = group.get("MultiAZPolicy")
    if policy and policy.upper() != "PRIORITY":
        blockers.append("Scaling group %s uses the %s scale-out policy (MultiAZPolicy); instance refresh needs "
                        "PRIORITY. Change the policy or use the OOS-template strategy." % (group_id, policy))
    reclaim = (group.get("ScalingPolicy") or "").lower()
    if reclaim in UNSUPPORTED_RECLAIM_MODES:
        mode = UNSUPPORTED_RECLAIM_MODES[reclaim]
        blockers.append("Scaling group %s reclaims instances in %s (ScalingPolicy %s); instance refresh does not "
                        "support Economical or Forcibly-Recycle reclaim modes. Switch the group to release mode "
                        "or use the OOS-template strategy." % (group_id, mode, group.get("ScalingPolicy")))
    desired = request["DesiredConfiguration"]
    uses_template = bool(group.get("LaunchTemplateId"))
    if desired.get("ImageId") and uses_template:
        blockers.append("desired_configuration.image_id is not allowed: scaling group %s uses launch template %s. "
                        "Give launch_template_id and launch_template_version instead." % (
                            group_id, group.get("LaunchTemplateId")))
    if running_task is not None:
        differences = request_differences(running_task, request)
        blockers.append("Instance refresh %s is already %s in scaling group %s%s; ESS runs one refresh per group. "
                        "Wait for it, or end it with state=cancelled or state=rolled_back." % (
                            running_task.get("InstanceRefreshTaskId"), running_task.get("Status"), group_id,
                            " with a different request (%s)" % ", ".join(differences) if differences else ""))
    version = desired.get("LaunchTemplateVersion")
    if desired.get("LaunchTemplateId") and version in NO_ROLLBACK_VERSIONS:
        warnings.append("desired_configuration.launch_template_version is %s: ESS cannot roll this refresh back. "
                        "Pin a version number to keep rollback." % version)
    elif not desired and uses_template and str(group.get("LaunchTemplateVersion")) in NO_ROLLBACK_VERSIONS:
        # INFERRED: a refresh to the group's own Default/Latest template version is treated the same way.
        warnings.append("Scaling group %s uses launch template version %s: a rollback of this refresh may be "
                        "refused. Pin a version number in desired_configuration to keep rollback." % (
                            group_id, group.get("LaunchTemplateVersion")))
    ignored = []
    for field, label in (("StandbyCapacity", "Standby"), ("ProtectedCapacity", "Protected")):
        if _int(group.get(field)) not in (None, 0, ""):
            ignored.append("%s %s" % (group.get(field), label))
    if ignored:
        warnings.append("Instance refresh ignores %s instance(s) of scaling group %s (and manually attached "
                        "ones); they keep their current configuration." % (" and ".join(ignored), group_id))
    return blockers, warnings


def _eligible(instances):
    """ESS refreshes InService, auto-created instances; Standby, Protected and attached ones keep theirs."""
    return [i for i in instances
            if i.get("LifecycleState") == "InService" and i.get("CreationType", "AutoCreated") == "AutoCreated"]


def _carries_desired_id(group, desired, instance):
    """True/False when the instance's IDs say whether it was created from the desired configuration; None when
    no ID can say (an image: the configuration ESS derives from it has an ID no instance carries yet)."""
    if desired.get("ScalingConfigurationId"):
        return instance.get("ScalingConfigurationId") == desired["ScalingConfigurationId"]
    if desired.get("LaunchTemplateId"):
        version = desired.get("LaunchTemplateVersion")
        return instance.get("LaunchTemplateId") == desired["LaunchTemplateId"] and \
            (not version or str(instance.get("LaunchTemplateVersion")) == version)
    if desired.get("ImageId"):
        return None
    active = group.get("ActiveScalingConfigurationId")
    if active:
        return instance.get("ScalingConfigurationId") == active
    return None


def matching_instances(group, request, instances, image_of=None):
    """InService, auto-created instances that are on the desired configuration now: after a refresh (or at a
    checkpoint) these are the new instances a health gate should judge. By configuration ID; for a desired
    image by the image each instance runs (read back from ECS: the end state, not a rule of ESS)."""
    desired = request["DesiredConfiguration"]
    image_of = image_of or {}
    matching = []
    for instance in _eligible(instances):
        carries = _carries_desired_id(group, desired, instance)
        if carries is None and desired.get("ImageId"):
            carries = image_of.get(instance["InstanceId"]) == desired["ImageId"]
        if carries:
            matching.append(instance["InstanceId"])
    return matching


def predict_instances(group, request, instances, image_of=None):
    """Instances a start would refresh (a prediction for check mode and the ``plan``).

    ``instances``: DescribeScalingInstances items. ESS ignores Standby, Protected and manually attached instances.
    SkipMatching skips instances "by the ID of the desired scaling configuration, not by comparing individual
    configuration items" (ESS SDK model StartInstanceRefreshRequest.skip_matching): a scaling configuration or
    launch template (and version) ID. A desired image matches no instance by ID, so every eligible instance is
    predicted (INFERRED: ESS derives a new configuration from the image). ``image_of`` is not used here.
    """
    candidates = _eligible(instances)
    if not request["SkipMatching"]:
        return [i["InstanceId"] for i in candidates]
    desired = request["DesiredConfiguration"]
    return [i["InstanceId"] for i in candidates if not _carries_desired_id(group, desired, i)]


def newest_refresh_to_image(request, tasks):
    """The newest refresh whose desired configuration names the image this request names, or None."""
    image = request["DesiredConfiguration"].get("ImageId")
    if not image:
        return None
    return newest_task([t for t in tasks if task_request(t)["DesiredConfiguration"].get("ImageId") == image])


def image_refresh_done(request, tasks, instances, image_of):
    """The module's own idempotence for a desired image: the newest refresh to this image ended Successful and
    every eligible instance runs the image now (read back from ECS). Then nothing is started, whatever ESS's
    matching would do with the new desired configuration it derives from the image."""
    image = request["DesiredConfiguration"].get("ImageId")
    newest = newest_refresh_to_image(request, tasks)
    if newest is None or newest.get("Status") != "Successful":
        return False
    eligible = _eligible(instances)
    return bool(eligible) and all((image_of or {}).get(i["InstanceId"]) == image for i in eligible)


# ---------------------------------------------------------------- decisions (pure)

def action_decision(task, state):
    """('act' | 'ok' | 'refuse', reason) for ``state`` (suspended, resumed, cancelled, rolled_back) on ``task``."""
    status = task.get("Status")
    task_id = task.get("InstanceRefreshTaskId")
    if state == "suspended":
        if status == "Paused":
            return "ok", "instance refresh %s is already Paused" % task_id
        if status in ("Pending", "InProgress", "CheckpointPause"):
            return "act", None
        return "refuse", ("instance refresh %s is %s; only Pending, InProgress or CheckpointPause tasks can be "
                          "suspended (not in the rollback phase)" % (task_id, status))
    if state == "resumed":
        if status in PAUSED_STATUSES:
            return "act", None
        if status in ("Pending", "InProgress", "Successful"):
            return "ok", "instance refresh %s is %s, not paused" % (task_id, status)
        return "refuse", "instance refresh %s is %s; only Paused or CheckpointPause tasks can be resumed" % (
            task_id, status)
    if state == "cancelled":
        if status in ("Cancelling", "Cancelled"):
            return "ok", "instance refresh %s is already %s" % (task_id, status)
        if status in ("Pending", "InProgress", "Paused", "CheckpointPause"):
            return "act", None
        if status in FINAL_STATUSES:
            return "ok", "instance refresh %s has already ended (%s); nothing to cancel" % (task_id, status)
        return "refuse", "instance refresh %s is %s; a rollback cannot be cancelled" % (task_id, status)
    if state == "rolled_back":
        if status in ("RollbackInProgress", "RollbackSuccessful"):
            return "ok", "instance refresh %s is already %s" % (task_id, status)
        version = (task.get("DesiredConfiguration") or {}).get("LaunchTemplateVersion")
        if version in NO_ROLLBACK_VERSIONS:
            return "refuse", ("instance refresh %s went to launch template version %s, which ESS cannot roll back; "
                              "start a new refresh to the previous version instead" % (task_id, version))
        if status in ("InProgress", "Paused", "CheckpointPause", "Successful", "Failed", "Cancelled"):
            return "act", None
        if status == "RollbackFailed":
            detail = task.get("Detail") or "no detail"
            return "refuse", ("the rollback of instance refresh %s failed (%s); a rollback cannot be rolled back. "
                              "Inspect the group and start a new refresh" % (task_id, detail))
        return "refuse", "instance refresh %s is %s; wait until it is InProgress or has ended, then roll back" % (
            task_id, status)
    raise ValueError("unknown state %s" % state)


def running_task(tasks):
    """The group's running task (newest first), or None."""
    for task in tasks:
        if task.get("Status") in RUNNING_STATUSES:
            return task
    return None


def newest_task(tasks):
    """The newest task: the API lists newest first; StartTime breaks ties for other orders."""
    if not tasks:
        return None
    return sorted(tasks, key=lambda t: t.get("StartTime") or "", reverse=True)[0]


# ---------------------------------------------------------------- API calls

def _request_model(scaling_group_id, region, request, token):
    desired = request["DesiredConfiguration"]
    desired_model = None
    if desired:
        overrides = [ess_models.StartInstanceRefreshRequestDesiredConfigurationLaunchTemplateOverrides(
            instance_type=o["InstanceType"]) for o in desired.get("LaunchTemplateOverrides") or []]
        desired_model = ess_models.StartInstanceRefreshRequestDesiredConfiguration(
            scaling_configuration_id=desired.get("ScalingConfigurationId"), image_id=desired.get("ImageId"),
            launch_template_id=desired.get("LaunchTemplateId"),
            launch_template_version=desired.get("LaunchTemplateVersion"),
            launch_template_overrides=overrides or None)
    checkpoints = [ess_models.StartInstanceRefreshRequestCheckpoints(percentage=p) for p in request["Checkpoints"]]
    return ess_models.StartInstanceRefreshRequest(
        region_id=region, scaling_group_id=scaling_group_id, client_token=token,
        min_healthy_percentage=request["MinHealthyPercentage"], max_healthy_percentage=request["MaxHealthyPercentage"],
        skip_matching=request["SkipMatching"], checkpoints=checkpoints or None,
        checkpoint_pause_time=request["CheckpointPauseTime"] if checkpoints else None,
        desired_configuration=desired_model)


def start_instance_refresh(ess, scaling_group_id, request, token):
    """StartInstanceRefresh; returns the task id, or None when ESS says no instance needs a refresh."""
    model = _request_model(scaling_group_id, ess.region, request, token)
    try:
        body = ess.call("StartInstanceRefresh", lambda rt: ess.sdk.start_instance_refresh_with_options(model, rt),
                        mutating=True, safe_to_repeat=bool(token))
    except AlicloudApiError as error:
        if error.code == NOTHING_TO_REFRESH:
            return None
        raise
    return body.get("InstanceRefreshTaskId")


def describe_instance_refreshes(ess, scaling_group_id=None, task_ids=None, limit=None):
    """DescribeInstanceRefreshes, every page, newest first (as the API lists them)."""
    if not scaling_group_id and not task_ids:
        raise ValueError("scaling_group_id or task_ids is required")

    def fetch(token, max_results):
        request = ess_models.DescribeInstanceRefreshesRequest(
            region_id=ess.region, scaling_group_id=scaling_group_id,
            instance_refresh_task_ids=list(task_ids) if task_ids else None,
            next_token=token, max_results=max_results)
        return ess.call("DescribeInstanceRefreshes",
                        lambda rt: ess.sdk.describe_instance_refreshes_with_options(request, rt))
    return token_pages(fetch, "InstanceRefreshTasks", max_results=DESCRIBE_PAGE_SIZE, limit=limit)


def get_instance_refresh(ess, scaling_group_id, task_id):
    """One task, or None."""
    for task in describe_instance_refreshes(ess, scaling_group_id=scaling_group_id, task_ids=[task_id]):
        if task.get("InstanceRefreshTaskId") == task_id:
            return task
    return None


def act(ess, scaling_group_id, task_id, state):
    """Suspend, resume, cancel or roll back one task (``state`` as in ACTIONS)."""
    operation = ACTIONS[state]
    if state == "suspended":
        model = ess_models.SuspendInstanceRefreshRequest
        method = "suspend_instance_refresh_with_options"
    elif state == "resumed":
        model = ess_models.ResumeInstanceRefreshRequest
        method = "resume_instance_refresh_with_options"
    elif state == "cancelled":
        model = ess_models.CancelInstanceRefreshRequest
        method = "cancel_instance_refresh_with_options"
    else:
        model = ess_models.RollbackInstanceRefreshRequest
        method = "rollback_instance_refresh_with_options"
    request = model(region_id=ess.region, scaling_group_id=scaling_group_id, instance_refresh_task_id=task_id)
    # Not safe to repeat blindly: a second call answers a wrong-status error. The caller reads the task back.
    ess.call(operation, lambda rt: getattr(ess.sdk, method)(request, rt), mutating=True, safe_to_repeat=False)


# ---------------------------------------------------------------- waiting

def _as_execution(task):
    """Map a task onto the execution vocabulary of core's waiter (Success/Failed/Cancelled/Waiting)."""
    status = (task or {}).get("Status")
    if status in ("Successful", "RollbackSuccessful"):
        mapped = "Success"
    elif status in FAILED_STATUSES:
        mapped = "Failed"
    elif status == "Cancelled":
        mapped = "Cancelled"
    elif status in PAUSED_STATUSES:
        mapped = "Waiting"
    else:
        mapped = "Running"
    return {"Status": mapped, "task": task}


def wait_for_task(fetch, timeout, poll_interval=None, stop_on_pause=True, initial=None, clock=None, sleep=None,
                  leaving=None):
    """Poll ``fetch()`` (returns the task dict) until it ends, or pauses (``stop_on_pause``), or ``timeout``.

    ``leaving``: the status the task had before an action; until the task shows another status it counts as
    running, so a read-back that lags behind the action (still Paused after a resume, still Successful after a
    rollback) does not end the wait.
    Uses core's waiter and poll policy; the progress marker is (status, finished capacity), so the adaptive
    policy learns how long a wave takes. Returns ``(task, polls, waited)``; raises RefreshWaitTimeout with the
    last task seen.
    """
    left = [leaving is None]

    def view(task):
        if not left[0] and (task or {}).get("Status") != leaving:
            left[0] = True
        return _as_execution(task) if left[0] else {"Status": "Running", "task": task}

    kwargs = {}
    if clock is not None:
        kwargs["clock"] = clock
    if sleep is not None:
        kwargs["sleep"] = sleep
    # The first progress change is Pending -> InProgress or the end of a wave that began before the wait, not a
    # whole wave: do not learn from it.
    policy = PollPolicy(fixed=poll_interval) if poll_interval else PollPolicy(learn_first=False)

    def progress(wrapped):
        task = wrapped.get("task") or {}
        return (task.get("Status"), task.get("FinishedUpdateCapacity"))
    try:
        wrapped, polls, waited = wait_for(lambda: view(fetch()), policy, timeout, progress=progress,
                                          stop_on_pause=stop_on_pause,
                                          initial=view(initial) if initial is not None else None, **kwargs)
    except WaitTimeout as timeout_error:
        task = (timeout_error.execution or {}).get("task") or {}
        raise RefreshWaitTimeout(
            "Timed out after %ds waiting for instance refresh %s (last status %s, %s of %s instances refreshed). "
            "It goes on in ESS: run the task again to adopt it, or raise wait_timeout." % (
                int(timeout_error.waited), task.get("InstanceRefreshTaskId"), task.get("Status"),
                task.get("FinishedUpdateCapacity"), task.get("TotalNeedUpdateCapacity")),
            task, timeout_error.waited)
    return wrapped.get("task"), polls, waited


# ---------------------------------------------------------------- results

def summarize(task):
    """A task as the modules return it (snake_case)."""
    if not task:
        return None
    echoed = task_request(task)
    desired = echoed["DesiredConfiguration"]
    total = _int(task.get("TotalNeedUpdateCapacity"))
    finished = _int(task.get("FinishedUpdateCapacity"))
    return {
        "task_id": task.get("InstanceRefreshTaskId"),
        "scaling_group_id": task.get("ScalingGroupId"),
        "region": task.get("RegionId"),
        "status": task.get("Status"),
        "detail": task.get("Detail") or None,
        "start_time": task.get("StartTime") or None,
        "end_time": task.get("EndTime") or None,
        "min_healthy_percentage": echoed["MinHealthyPercentage"],
        "max_healthy_percentage": echoed["MaxHealthyPercentage"],
        "skip_matching": echoed["SkipMatching"],
        "checkpoints": echoed["Checkpoints"],
        "checkpoint_pause_time": echoed["CheckpointPauseTime"],
        "desired_configuration": snake_desired(desired),
        "finished_update_capacity": finished,
        "total_need_update_capacity": total,
        "percent_done": (finished * 100 // total) if isinstance(total, int) and isinstance(finished, int) and total
        else (100 if task.get("Status") == "Successful" else 0),
        "strategy": task.get("Strategy") or None,
        "running": task.get("Status") in RUNNING_STATUSES,
    }


def snake_desired(desired):
    out = {}
    for key, name in (("ScalingConfigurationId", "scaling_configuration_id"), ("ImageId", "image_id"),
                      ("LaunchTemplateId", "launch_template_id"),
                      ("LaunchTemplateVersion", "launch_template_version")):
        if desired.get(key):
            out[name] = desired[key]
    if desired.get("LaunchTemplateOverrides"):
        out["launch_template_overrides"] = [{"instance_type": o.get("InstanceType")}
                                            for o in desired["LaunchTemplateOverrides"]]
    return out


def snake_request(request):
    return {
        "min_healthy_percentage": request["MinHealthyPercentage"],
        "max_healthy_percentage": request["MaxHealthyPercentage"],
        "skip_matching": request["SkipMatching"],
        "checkpoints": list(request["Checkpoints"]),
        "checkpoint_pause_time": request["CheckpointPauseTime"] if request["Checkpoints"] else None,
        "desired_configuration": snake_desired(request["DesiredConfiguration"]),
    }
