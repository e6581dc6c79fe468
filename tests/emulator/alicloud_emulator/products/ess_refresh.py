"""ESS native instance refresh (reference 3.7), simplified: waves of replacement on simulated time.

A wave replaces floor(n*(Max-100)/100) + floor(n*(100-Min)/100) instances (at least 1) in REPLACE_SECONDS:
each old instance is removed and a new one (new id) is created from the desired configuration.
Faults read live: `failing_refresh_images` (new instances cannot be created: the wave fails, the old instances
stay), `unhealthy_images` (new instances are created but fail the health check: the refresh fails) and
`refresh_control_delay` (Suspend/Resume/Cancel/Rollback take effect that many simulated seconds after the call).
"""
from ..api import ApiError, api
from ..clock import iso
from ..faults import lookup_per_action

REPLACE_SECONDS = 60
SCHEDULE_SECONDS = 2
RUNNING = ("Pending", "InProgress", "Paused", "CheckpointPause", "Cancelling", "RollbackInProgress")
FINAL = ("Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed")
# Reference 3.7: only ECS groups with the priority policy, not in Economical / Force Economical reclaim mode.
INELIGIBLE_SCALING_POLICIES = {"recycle": "Economical Mode", "forcerecycle": "Force Economical Mode"}
# [INFERRED] the code ESS answers for a group that cannot use instance refresh.
INELIGIBLE_CODE = "OperationDenied"


class Refresh:
    def __init__(self, world, group, desired, minimum, maximum, skip_matching, checkpoints, pause_minutes, strategy,
                 overrides=()):
        self.world = world
        self.id = "ir-" + world.new_id("", 20)
        self.group_id = group.id
        self.region = group.region
        self.status = "Pending"
        self.detail = ""
        self.started = world.now()
        self.ended = None
        self.minimum = minimum
        self.maximum = maximum
        self.desired = desired
        self.overrides = list(overrides)   # DesiredConfiguration.LaunchTemplateOverrides instance types
        self.skip_matching = skip_matching
        self.checkpoints = checkpoints
        self.pause_minutes = pause_minutes
        self.strategy = strategy
        self.queue = []          # instance ids still to replace
        self.wave = []           # instance ids being replaced right now
        self.replaced = []       # new instance ids created by this refresh
        self.total = 0
        self.finished = 0
        self.next_checkpoint = 0
        self.event = None
        config = world.configurations[group.scaling_configuration_id]
        self.original = {
            "configuration_id": group.scaling_configuration_id, "image_id": config["image_id"],
            "launch_template": dict(group.launch_template) if group.launch_template else None,
            "launch_template_overrides": [dict(o) for o in group.launch_template_overrides],
        }
        self.original["target"] = _group_target(world, group)
        self.target = None       # what new instances are created from: see _target()
        self.created_seq = world.engine.next_sequence()

    def api(self):
        desired = {k: v for k, v in self.desired.items() if v not in (None, "")}
        if self.overrides:
            desired["LaunchTemplateOverrides"] = [{"InstanceType": t} for t in self.overrides]
        return {
            "InstanceRefreshTaskId": self.id, "ScalingGroupId": self.group_id, "RegionId": self.region,
            "Status": self.status, "Detail": self.detail, "StartTime": iso(self.started),
            "EndTime": iso(self.ended) if self.ended else "", "MinHealthyPercentage": self.minimum,
            "MaxHealthyPercentage": self.maximum, "DesiredConfiguration": desired, "SkipMatching": self.skip_matching,
            "Checkpoints": [{"Percentage": p} for p in self.checkpoints], "CheckpointPauseTime": self.pause_minutes,
            "FinishedUpdateCapacity": self.finished, "TotalNeedUpdateCapacity": self.total,
            "Strategy": self.strategy or "",
        }


def _refresh(req):
    world = req.world
    task_id = req.require("InstanceRefreshTaskId")
    refresh = world.refreshes.get(task_id)
    if refresh is None or (req.get("ScalingGroupId") and refresh.group_id != req.get("ScalingGroupId")):
        # [INFERRED] error code for an unknown task id.
        raise ApiError("InvalidInstanceRefreshTaskId.NotFound", "The specified instance refresh task does not exist.", 404)
    return refresh


def _wrong_status(refresh, action):
    # [INFERRED] error code for a refresh in a status that does not allow the action.
    raise ApiError("IncorrectInstanceRefreshStatus", "The instance refresh task %s in status %s does not support %s." % (
        refresh.id, refresh.status, action))


def _stop_wave(refresh):
    """Suspend or cancel mid-wave: the instances of the wave were not replaced yet."""
    if refresh.event is not None:
        refresh.event.cancel()
        refresh.event = None
    refresh.queue[:0] = refresh.wave
    refresh.wave = []


def _schedule(refresh, seconds, fn):
    if refresh.event is not None:
        refresh.event.cancel()
    refresh.event = refresh.world.schedule(seconds, fn)


def _wave_size(refresh):
    above = refresh.total * (refresh.maximum - 100) // 100
    below = refresh.total * (100 - refresh.minimum) // 100
    return max(1, above + below)


def _group_target(world, group):
    """What `group` creates instances from now: its configuration, or its declared launch template version."""
    config = world.configurations[group.scaling_configuration_id]
    target = {"configuration_id": config["id"], "image_id": config["image_id"], "instance_type": None,
              "launch_template": world.instance_launch_template(group.launch_template)}
    if group.launch_template:
        resolved = world.resolve_template_version(group.launch_template["id"], group.launch_template["version"])
        if resolved is not None:
            target["image_id"] = resolved[1]["image_id"]
            target["instance_type"] = resolved[1]["instance_type"]
    if group.launch_template_overrides:
        target["instance_type"] = group.launch_template_overrides[0]["InstanceType"]
    return target


def _desired_target(world, group, desired, overrides):
    """What the refresh creates instances from (an empty DesiredConfiguration = the group's active config)."""
    target = _group_target(world, group)
    if desired.get("ScalingConfigurationId"):
        config = world.configurations[desired["ScalingConfigurationId"]]
        target = {"configuration_id": config["id"], "image_id": config["image_id"], "instance_type": None,
                  "launch_template": None}
    elif desired.get("ImageId"):
        target["image_id"] = desired["ImageId"]
    elif desired.get("LaunchTemplateId"):
        version = desired.get("LaunchTemplateVersion") or "Default"
        resolved = world.resolve_template_version(desired["LaunchTemplateId"], version)
        target["launch_template"] = {"id": desired["LaunchTemplateId"], "version": resolved[0] if resolved else version}
        if resolved is not None:
            target["image_id"] = resolved[1]["image_id"]
            target["instance_type"] = resolved[1]["instance_type"]
        # A template the world does not declare is only carried: instances keep the current image.
        target["instance_type"] = overrides[0] if overrides else target["instance_type"]
    return target


def _matches(instance, refresh):
    """SkipMatching compares IDs, "not individual configuration items" (ESS SDK StartInstanceRefreshRequest):
    the desired scaling configuration ID, the desired launch template and version, or with no desired
    configuration the group's active one. A desired image gives a configuration ESS derives, whose ID no
    instance carries yet: nothing matches (INFERRED)."""
    if refresh.desired.get("ScalingConfigurationId"):
        return instance.scaling_configuration_id == refresh.desired["ScalingConfigurationId"]
    if refresh.desired.get("LaunchTemplateId"):
        return instance.launch_template == refresh.target["launch_template"]
    if refresh.desired.get("ImageId"):
        return False
    return instance.scaling_configuration_id == refresh.target["configuration_id"] and \
        instance.launch_template == refresh.target["launch_template"]


def _replace(world, group, old_id, target, refresh_id, cause):
    old = world.instances.pop(old_id, None)
    if old is not None and old_id in group.instance_ids:
        position = group.instance_ids.index(old_id)
        group.instance_ids.remove(old_id)
    else:
        position = len(group.instance_ids)
    new = world.create_instance(group, target["image_id"], target["configuration_id"], position,
                                instance_type=target["instance_type"])
    new.launch_template = dict(target["launch_template"]) if target["launch_template"] else None
    activity = world.record_activity(group, "Replace instance %s with %s." % (old_id, new.id), cause, [new.id])
    world.activities[-1]["InstanceRefreshTaskId"] = refresh_id
    return new.id, activity


def _replace_wave(refresh, group, old_ids, target, cause):
    """Replace `old_ids` from `target`. Returns (new ids, failure detail or "").

    An image in faults.failing_refresh_images cannot start: nothing is replaced. An image in
    faults.unhealthy_images starts but fails the health check: the new instances stay, the wave fails."""
    world = refresh.world
    faults = world.faults
    image = target["image_id"]
    if old_ids and image in (faults.get("failing_refresh_images") or []):
        return [], "Failed to create instances from image %s to replace %s: the instances could not be started." % (
            image, ", ".join(old_ids))
    new_ids = []
    for old_id in old_ids:
        if old_id in world.instances:
            new_id, _ = _replace(world, group, old_id, target, refresh.id, cause)
            new_ids.append(new_id)
    if new_ids and image in (faults.get("unhealthy_images") or []):
        return new_ids, "The new instances %s created from image %s did not pass the health check." % (
            ", ".join(new_ids), image)
    return new_ids, ""


def _fail(refresh, status, detail):
    refresh.status, refresh.detail, refresh.ended = status, detail, refresh.world.now()
    refresh.event = None


def _next_wave(refresh):
    world = refresh.world
    if refresh.status not in ("InProgress",):
        return
    group = world.groups.get(refresh.group_id)
    if group is None:
        _fail(refresh, "Failed", "The scaling group no longer exists.")
        return
    if not refresh.queue:
        _complete(refresh, group)
        return
    wave = refresh.queue[:_wave_size(refresh)]
    del refresh.queue[:len(wave)]
    refresh.wave = wave

    def replaced():
        refresh.wave = []
        new_ids, failure = _replace_wave(refresh, group, wave, refresh.target, "Instance refresh %s." % refresh.id)
        refresh.replaced.extend(new_ids)
        if failure:
            refresh.queue[:0] = [i for i in wave if i in world.instances]
            _fail(refresh, "Failed", failure)
            return
        refresh.finished += len(wave)
        percentage = refresh.finished * 100 // max(1, refresh.total)
        while refresh.next_checkpoint < len(refresh.checkpoints) and percentage >= refresh.checkpoints[refresh.next_checkpoint]:
            refresh.next_checkpoint += 1
            if refresh.queue:
                refresh.status = "CheckpointPause"
                _schedule(refresh, refresh.pause_minutes * 60, lambda: _resume(refresh))
                return
        _next_wave(refresh)
    _schedule(refresh, REPLACE_SECONDS, replaced)


def _resume(refresh):
    if refresh.status in ("Paused", "CheckpointPause"):
        refresh.status = "InProgress"
        _next_wave(refresh)


def _complete(refresh, group):
    """On success the desired configuration becomes the group's active configuration (reference 3.7)."""
    world = refresh.world
    desired = refresh.desired
    if desired.get("ScalingConfigurationId"):
        group.scaling_configuration_id = desired["ScalingConfigurationId"]
        group.launch_template = None
        group.launch_template_overrides = []
    elif desired.get("ImageId"):
        world.configurations[group.scaling_configuration_id]["image_id"] = desired["ImageId"]
    elif desired.get("LaunchTemplateId"):
        group.launch_template = {"id": desired["LaunchTemplateId"],
                                 "version": desired.get("LaunchTemplateVersion") or "Default"}
        group.launch_template_overrides = [{"InstanceType": t} for t in refresh.overrides]
    refresh.status = "Successful"
    refresh.ended = world.now()
    refresh.event = None


def _check_eligible(group):
    """Reference 3.7: ECS groups with the PRIORITY policy only, not in an Economical reclaim mode."""
    reasons = []
    if group.group_type != "ECS":
        reasons.append("GroupType is %s (only ECS groups are supported)" % group.group_type)
    if group.multi_az_policy != "PRIORITY":
        reasons.append("MultiAZPolicy is %s (only PRIORITY is supported)" % group.multi_az_policy)
    if group.scaling_policy in INELIGIBLE_SCALING_POLICIES:
        reasons.append("ScalingPolicy is %s (%s is not supported)" % (
            group.scaling_policy, INELIGIBLE_SCALING_POLICIES[group.scaling_policy]))
    if reasons:
        raise ApiError(INELIGIBLE_CODE, "The scaling group %s does not support instance refresh: %s." % (
            group.id, "; ".join(reasons)))


def _desired_configuration(req):
    """DesiredConfiguration flattened (`DesiredConfiguration.ImageId`, the Tea SDK's form) or as JSON text."""
    desired = req.prefixed("DesiredConfiguration")
    overrides = [o.get("InstanceType") for o in req.objects("DesiredConfiguration.LaunchTemplateOverrides")]
    as_json = req.json("DesiredConfiguration")
    if isinstance(as_json, dict):
        desired.update({k: str(v) for k, v in as_json.items() if isinstance(v, (str, int))})
        overrides += [o.get("InstanceType") if isinstance(o, dict) else None
                      for o in as_json.get("LaunchTemplateOverrides") or []]
    if any(not t for t in overrides):
        raise ApiError("InvalidParameter", "DesiredConfiguration.LaunchTemplateOverrides.N.InstanceType is required.")
    desired = {k: v for k, v in desired.items() if k in ("ScalingConfigurationId", "ImageId", "LaunchTemplateId",
                                                          "LaunchTemplateVersion") and v}
    return desired, overrides


@api("ess", "StartInstanceRefresh", mutating=True)
def start_instance_refresh(req):
    world = req.world

    def apply():
        req.require("RegionId")
        group = world.group(req.require("ScalingGroupId"), req.region)
        if group.state != "Active":
            raise ApiError("IncorrectScalingGroupStatus",
                           "The current status of the specified scaling group does not support this action.")
        _check_eligible(group)
        if any(r.group_id == group.id and r.status in RUNNING for r in world.refreshes.values()):
            # [INFERRED] code; the rule "one running refresh per group" is documented.
            raise ApiError("OperationDenied", "An instance refresh task is already running in the scaling group.")
        minimum = req.int("MinHealthyPercentage", 80, minimum=0, maximum=100)
        maximum = req.int("MaxHealthyPercentage", 120, minimum=100, maximum=200)
        skip_matching = req.bool("SkipMatching", True)
        pause_minutes = req.int("CheckpointPauseTime", 60, minimum=1, maximum=2880)
        checkpoints = []
        for checkpoint in req.objects("Checkpoints"):
            try:
                checkpoints.append(int(checkpoint.get("Percentage")))
            except (TypeError, ValueError):
                raise ApiError("InvalidParameter", 'The specified value of parameter "Checkpoints.N.Percentage" is not valid.')
        if checkpoints and (checkpoints != sorted(set(checkpoints)) or checkpoints[-1] != 100
                            or checkpoints[0] < 1):
            raise ApiError("InvalidParameter", "Checkpoints must be ascending percentages from 1 to 100, the last one 100.")
        desired, overrides = _desired_configuration(req)
        kinds = [k for k in ("ScalingConfigurationId", "ImageId", "LaunchTemplateId") if desired.get(k)]
        if len(kinds) > 1:
            raise ApiError("InvalidParameter", "DesiredConfiguration.%s are mutually exclusive." % " and ".join(kinds))
        if overrides and not desired.get("LaunchTemplateId"):
            # [INFERRED] overrides belong to a launch template.
            raise ApiError("InvalidParameter",
                           "DesiredConfiguration.LaunchTemplateOverrides requires DesiredConfiguration.LaunchTemplateId.")
        if desired.get("ImageId"):
            if group.launch_template:
                raise ApiError("InvalidParameter", "DesiredConfiguration.ImageId is not allowed for a scaling group that uses a launch template.")
            if desired["ImageId"] not in world.images:
                raise ApiError("InvalidImageId.NotFound", "The specified image does not exist.", 404)
        if desired.get("ScalingConfigurationId"):
            config = world.configuration(desired["ScalingConfigurationId"])
            if config["group_id"] != group.id:
                raise ApiError("InvalidParameter", "The scaling configuration does not belong to the scaling group.")
        refresh = Refresh(world, group, desired, minimum, maximum, skip_matching, checkpoints, pause_minutes,
                          req.get("Strategy"), overrides)
        refresh.target = _desired_target(world, group, desired, overrides)  # raises for an unknown version
        # Standby, Protected and manually attached instances are ignored (reference 3.7).
        candidates = [world.instances[i] for i in group.instance_ids
                      if world.instances[i].lifecycle_state == "InService" and world.instances[i].creation_type == "AutoCreated"]
        if skip_matching:
            candidates = [i for i in candidates if not _matches(i, refresh)]
        if not candidates:
            raise ApiError("InvalidInstance.NoInstanceNeedBeRefreshed", "No instance in the scaling group needs to be refreshed.")
        refresh.queue = [i.id for i in candidates]
        refresh.total = len(candidates)
        world.refreshes[refresh.id] = refresh

        def begin():
            if refresh.status == "Pending":
                refresh.status = "InProgress"
                _next_wave(refresh)
        _schedule(refresh, SCHEDULE_SECONDS, begin)
        return {"InstanceRefreshTaskId": refresh.id}
    return world.idempotent(req, apply)


@api("ess", "DescribeInstanceRefreshes")
def describe_instance_refreshes(req):
    world = req.world
    req.require("RegionId")
    group_id = req.get("ScalingGroupId")
    wanted = req.list("InstanceRefreshTaskIds", "InstanceRefreshTaskId")
    if not group_id and not wanted:
        raise ApiError("MissingParameter", 'The input parameter "ScalingGroupId" that is mandatory for processing this request is not supplied.')
    refreshes = [r for r in world.refreshes.values() if r.region == req.region]
    if group_id:
        refreshes = [r for r in refreshes if r.group_id == group_id]
    if wanted:
        refreshes = [r for r in refreshes if r.id in wanted]
    refreshes.sort(key=lambda r: r.created_seq, reverse=True)
    from ..state import offset_for, token_for
    size = req.int("MaxResults", 10, minimum=1, maximum=50)
    start = offset_for(req.get("NextToken"))
    page = refreshes[start:start + size]
    items = [r.api() for r in page]
    if req.version == "2014-08-28":
        for item in items:
            item["Checkpoints"] = {"Checkpoint": item["Checkpoints"]}
            overrides = item["DesiredConfiguration"].get("LaunchTemplateOverrides")
            if overrides is not None:
                item["DesiredConfiguration"]["LaunchTemplateOverrides"] = {"LaunchTemplateOverride": overrides}
        tasks = {"InstanceRefreshTask": items}
    else:
        tasks = items
    return {"InstanceRefreshTasks": tasks, "TotalCount": len(refreshes), "MaxResults": size,
            "NextToken": token_for(start + size) if start + size < len(refreshes) else ""}




def _later(req, refresh, transition):
    """Apply `transition` now, or after faults.refresh_control_delay simulated seconds (a lagging read-back).

    A delayed transition runs only if the task's status still allows it."""
    world = req.world
    delay = lookup_per_action(world.faults.get("refresh_control_delay") or {}, "ess", req.action) or 0
    if delay <= 0:
        transition()
        return {}
    world.schedule(delay, transition)
    return {}


@api("ess", "SuspendInstanceRefresh", mutating=True)
def suspend_instance_refresh(req):
    refresh = _refresh(req)
    allowed = ("Pending", "InProgress", "CheckpointPause")
    if refresh.status not in allowed:
        _wrong_status(refresh, "SuspendInstanceRefresh")

    def suspend():
        if refresh.status in allowed:
            _stop_wave(refresh)
            refresh.status = "Paused"
    return _later(req, refresh, suspend)


@api("ess", "ResumeInstanceRefresh", mutating=True)
def resume_instance_refresh(req):
    refresh = _refresh(req)
    if refresh.status not in ("Paused", "CheckpointPause"):
        _wrong_status(refresh, "ResumeInstanceRefresh")
    return _later(req, refresh, lambda: _resume(refresh))


@api("ess", "CancelInstanceRefresh", mutating=True)
def cancel_instance_refresh(req):
    refresh = _refresh(req)
    allowed = ("Pending", "InProgress", "Paused", "CheckpointPause")
    if refresh.status not in allowed:
        _wrong_status(refresh, "CancelInstanceRefresh")

    def cancel():
        if refresh.status not in allowed:
            return
        _stop_wave(refresh)
        refresh.status = "Cancelling"

        def cancelled():
            refresh.status = "Cancelled"
            refresh.ended = refresh.world.now()
        _schedule(refresh, SCHEDULE_SECONDS, cancelled)
    return _later(req, refresh, cancel)


@api("ess", "RollbackInstanceRefresh", mutating=True)
def rollback_instance_refresh(req):
    world = req.world
    refresh = _refresh(req)
    allowed = ("InProgress", "Paused", "CheckpointPause", "Successful", "Failed", "Cancelled")
    if refresh.status not in allowed:
        _wrong_status(refresh, "RollbackInstanceRefresh")
    if refresh.desired.get("LaunchTemplateVersion") in ("Default", "Latest"):
        raise ApiError("OperationDenied", "A refresh to launch template version Default or Latest cannot be rolled back.")
    group = world.group(refresh.group_id)

    def rollback():
        if refresh.status not in allowed or world.groups.get(group.id) is not group:
            return
        _stop_wave(refresh)
        refresh.status = "RollbackInProgress"
        refresh.queue = []
        # The previous configuration becomes active again, then the refreshed instances are replaced from it.
        original = refresh.original
        group.scaling_configuration_id = original["configuration_id"]
        world.configurations[group.scaling_configuration_id]["image_id"] = original["image_id"]
        group.launch_template = dict(original["launch_template"]) if original["launch_template"] else None
        group.launch_template_overrides = [dict(o) for o in original["launch_template_overrides"]]
        to_restore = [i for i in refresh.replaced if i in world.instances]

        def rolled_back():
            _, failure = _replace_wave(refresh, group, to_restore, original["target"],
                                       "Rollback of instance refresh %s." % refresh.id)
            if failure:
                _fail(refresh, "RollbackFailed", failure)
                return
            refresh.status = "RollbackSuccessful"
            refresh.ended = world.now()
            refresh.event = None
        _schedule(refresh, REPLACE_SECONDS * max(1, -(-len(to_restore) // _wave_size(refresh))), rolled_back)
    return _later(req, refresh, rollback)
