# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY.
# The interfaces in this file are meant for use within the alicloud.rollout collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""Scaling-group and execution helpers for the supporting modules (processes, group facts, standby,
acting on one OOS execution). Built on the core helpers in ``ess`` and ``oos``; pure functions are kept
apart from API calls so the decisions can be unit-tested."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from . import ess as ess_api
from . import oos as oos_api
from .errors import AlicloudApiError

try:
    from alibabacloud_ess20220222 import models as ess_models
except ImportError:  # pragma: no cover - AlicloudModule reports the missing SDK
    ess_models = None

PROCESSES = list(ess_api.ALL_PROCESSES)
STANDBY_BATCH = 20  # EnterStandby/ExitStandby take at most 20 instance ids per call
IN_FLIGHT = ("Started", "Queued", "Running", "Waiting", "Pending")


# ---------------------------------------------------------------- scaling processes

def ordered_processes(names):
    """Process names in the canonical ESS order, without duplicates."""
    wanted = set(names or [])
    return [p for p in PROCESSES if p in wanted]


def suspended_processes(group):
    return ordered_processes(group.get("SuspendedProcesses") or [])


def processes_plan(current, requested, state):
    """(to_change, after) for suspending or resuming ``requested`` when ``current`` are suspended."""
    current = set(current)
    requested = ordered_processes(requested)
    if state == "suspended":
        to_change = [p for p in requested if p not in current]
        after = current | set(requested)
    else:
        to_change = [p for p in requested if p in current]
        after = current - set(requested)
    return to_change, ordered_processes(after)


# ---------------------------------------------------------------- group facts

def instance_facts(scaling_instance, ecs_instance=None):
    """One instance as the info module returns it (snake_case, stable keys)."""
    ecs_instance = ecs_instance or {}
    lifecycle_state = scaling_instance.get("LifecycleState")
    private_ip = scaling_instance.get("PrivateIpAddress")
    if not private_ip:
        vpc = ecs_instance.get("VpcAttributes") or {}
        addresses = (vpc.get("PrivateIpAddress") or {}).get("IpAddress") or []
        private_ip = addresses[0] if addresses else None
    return {
        "instance_id": scaling_instance.get("InstanceId"),
        "lifecycle_state": lifecycle_state,
        "health_status": scaling_instance.get("HealthStatus"),
        "protected": lifecycle_state == "Protected",
        "creation_type": scaling_instance.get("CreationType"),
        "scaling_configuration_id": scaling_instance.get("ScalingConfigurationId"),
        "zone_id": scaling_instance.get("ZoneId"),
        "private_ip": private_ip,
        "image_id": ecs_instance.get("ImageId"),
        "status": ecs_instance.get("Status"),
    }


def group_facts(group, configuration=None, instances=None):
    """A scaling group with its active configuration, capacities, suspended processes and instances."""
    configuration = configuration or {}
    facts = {
        "scaling_group_id": group.get("ScalingGroupId"),
        "scaling_group_name": group.get("ScalingGroupName"),
        "region_id": group.get("RegionId"),
        "lifecycle_state": group.get("LifecycleState"),
        "active_scaling_configuration_id": group.get("ActiveScalingConfigurationId"),
        "image_id": configuration.get("ImageId"),
        "launch_template_id": group.get("LaunchTemplateId"),
        "launch_template_version": group.get("LaunchTemplateVersion"),
        "min_size": group.get("MinSize"),
        "max_size": group.get("MaxSize"),
        "desired_capacity": group.get("DesiredCapacity"),
        "total_capacity": group.get("TotalCapacity"),
        "active_capacity": group.get("ActiveCapacity"),
        "standby_capacity": group.get("StandbyCapacity"),
        "protected_capacity": group.get("ProtectedCapacity"),
        "pending_capacity": group.get("PendingCapacity"),
        "removing_capacity": group.get("RemovingCapacity"),
        "suspended_processes": suspended_processes(group),
        "system_suspended": bool(group.get("SystemSuspended")),
    }
    if instances is not None:
        facts["instances"] = instances
    return facts


def describe_group_facts(ess, ecs, scaling_group_id=None, scaling_group_name=None, include_instances=True):
    """Facts of the matching groups (one by id, or all by name / all in the region). API calls."""
    if scaling_group_id:
        # Facts are wanted for an Inactive group too (its state is one of them).
        groups = [ess_api.describe_scaling_group(ess, scaling_group_id, include_inactive=True)]
    else:
        groups = ess_api.describe_scaling_groups(ess, scaling_group_name=scaling_group_name)
    found = []
    for group in groups:
        configuration = None
        if group.get("ActiveScalingConfigurationId"):
            configuration = ess_api.describe_scaling_configuration(
                ess, group["ActiveScalingConfigurationId"], group.get("ScalingGroupId"))
        instances = None
        if include_instances:
            scaling_instances = ess_api.describe_scaling_instances(ess, group.get("ScalingGroupId"))
            ids = [i.get("InstanceId") for i in scaling_instances]
            by_id = dict((i.get("InstanceId"), i) for i in ess_api.describe_instances(ecs, ids)) if ids else {}
            instances = [instance_facts(i, by_id.get(i.get("InstanceId"))) for i in scaling_instances]
        found.append(group_facts(group, configuration, instances))
    return found


# ---------------------------------------------------------------- standby

def standby_plan(instances, instance_ids, state):
    """(to_change, missing): which of ``instance_ids`` must move to ``state`` (Standby or InService)."""
    by_id = dict((i.get("InstanceId"), i) for i in instances)
    missing = [i for i in instance_ids if i not in by_id]
    to_change = []
    for instance_id in instance_ids:
        current = (by_id.get(instance_id) or {}).get("LifecycleState")
        if instance_id in missing:
            continue
        if state == "Standby" and current != "Standby":
            to_change.append(instance_id)
        elif state == "InService" and current == "Standby":
            to_change.append(instance_id)
    return to_change, missing


def enter_standby(ess, scaling_group_id, instance_ids):
    for start in range(0, len(instance_ids), STANDBY_BATCH):
        chunk = list(instance_ids[start:start + STANDBY_BATCH])
        request = ess_models.EnterStandbyRequest(scaling_group_id=scaling_group_id,
                                                 instance_ids=chunk)
        # Entering Standby twice leaves the instance in Standby: safe to repeat.
        ess.call("EnterStandby", lambda rt, r=request: ess.sdk.enter_standby_with_options(r, rt),
                 mutating=True, safe_to_repeat=True)


def exit_standby(ess, scaling_group_id, instance_ids):
    for start in range(0, len(instance_ids), STANDBY_BATCH):
        ess_api.exit_standby(ess, scaling_group_id, list(instance_ids[start:start + STANDBY_BATCH]))


# ---------------------------------------------------------------- acting on one execution

# action -> (NotifyType or None for CancelExecution, statuses that already satisfy it, statuses it acts on)
EXECUTION_ACTIONS = {
    "approve": ("Approve", ("Running", "Queued", "Started", "Success"), ("Waiting",)),
    "reject": ("Reject", ("Failed", "Cancelled"), ("Waiting",)),
    "cancel": (None, ("Cancelled", "Success", "Failed"), IN_FLIGHT),
    "retry_task": ("RetryTask", ("Running", "Queued", "Started", "Success"), ("Waiting",)),
    "skip_task": ("SkipTask", ("Running", "Queued", "Started", "Success"), ("Waiting",)),
}
WAIT_KINDS = {"approve": "BatchPause", "reject": "BatchPause", "retry_task": "FailurePause",
              "skip_task": "FailurePause"}


def execution_decision(execution, action):
    """("act" | "ok" | "refuse", reason) for ``action`` on ``execution`` as it is now."""
    status = execution.get("Status")
    _notify_type, satisfied, actionable = EXECUTION_ACTIONS[action]
    waiting_status = execution.get("WaitingStatus") or None
    if status in actionable:
        wanted_wait = WAIT_KINDS.get(action)
        # WaitingStatus values are INFERRED: only the other known kind of pause refuses; an absent or unknown
        # value never blocks (OOS itself refuses a NotifyType that does not fit the pause).
        other_kinds = set(WAIT_KINDS.values()) - {wanted_wait}
        if status == "Waiting" and wanted_wait and waiting_status in other_kinds:
            return "refuse", "execution %s waits on %s, which %s cannot act on" % (
                execution.get("ExecutionId"), waiting_status, action)
        return "act", None
    if status in satisfied:
        return "ok", "execution %s is already %s" % (execution.get("ExecutionId"), status)
    return "refuse", "execution %s is %s; %s is not possible" % (execution.get("ExecutionId"), status, action)


def expected_status(action):
    return {"approve": "Running", "reject": "Failed", "cancel": "Cancelled", "retry_task": "Running",
            "skip_task": "Running"}[action]


def failed_task_execution_id(oos, execution_id):
    """The task execution a failure pause waits on (newest failed one), or None. API call."""
    failed = oos_api.list_task_executions(oos, execution_id, status="Failed")
    if not failed:
        return None
    return failed[-1].get("TaskExecutionId")


def _still_waiting_as_before(execution, action, before):
    """True when ``action`` has visibly not taken effect: the execution waits as it did ``before``."""
    if execution_decision(execution, action)[0] != "act":
        return False
    # A later pause of the same kind has other counters (a batch finished since): the action landed. Counters'
    # keys are INFERRED and may be absent: then UpdateDate and the current tasks (documented fields) tell.
    if before is None:
        return True
    if execution.get("Counters") and before.get("Counters"):
        return execution.get("Counters") == before.get("Counters")
    return (execution.get("UpdateDate"), execution.get("CurrentTasks")) == \
        (before.get("UpdateDate"), before.get("CurrentTasks"))


def _landed(execution, action, before):
    """True when a re-read shows that ``action`` took effect."""
    if execution is None:
        return False
    decision = execution_decision(execution, action)[0]
    return decision == "ok" or (decision == "act" and not _still_waiting_as_before(execution, action, before))


def notify_once(send, read, action, before, policy):
    """Send a NotifyExecution so it takes effect once, though it has no ClientToken.

    After a 5xx or a dropped connection it is unknown whether the call landed: re-read the execution; if it shows
    the action took effect, that is success, if it still waits as ``before``, send again (up to
    ``policy.max_attempts`` sends). A repeat refused with an InvalidStatus* code means an earlier send landed
    after all, when a re-read confirms it. Returns the number of sends.
    """
    attempt, uncertain = 1, False
    while True:
        try:
            send()
            return attempt
        except AlicloudApiError as error:
            if uncertain and (error.code or "").startswith("InvalidStatus"):
                if _landed(read(), action, before):
                    return attempt
                raise
            # Throttling was already retried by the client layer (the gateway refused those sends).
            if error.is_throttling or not error.is_transient or attempt >= policy.max_attempts:
                raise
            current = read()
            if _landed(current, action, before):
                return attempt
            if current is None or not _still_waiting_as_before(current, action, before):
                raise
            uncertain = True
            policy.pause(attempt, error.retry_after)
            attempt += 1


def act_on_execution(oos, execution_id, action, task_execution_id=None, note=None, before=None):
    """Cancel, or notify ``action``; ``before`` is the execution as read to decide (guards a repeated notify)."""
    notify_type = EXECUTION_ACTIONS[action][0]
    if notify_type is None:
        oos_api.cancel_execution(oos, execution_id)
        return

    def send():
        oos_api.notify_execution(oos, execution_id, notify_type, task_execution_id=task_execution_id,
                                 notify_note=note)

    notify_once(send, lambda: oos_api.get_execution(oos, execution_id), action, before, oos.retry_policy)
