"""ESS native instance refresh (reference 3.7), simplified: waves of replacement on simulated time.

A wave replaces floor(n*(Max-100)/100) + floor(n*(100-Min)/100) instances (at least 1) in REPLACE_SECONDS:
each old instance is removed and a new one (new id) is created from the desired configuration.
"""
from ..api import ApiError, api
from ..clock import iso

REPLACE_SECONDS = 60
SCHEDULE_SECONDS = 2
RUNNING = ("Pending", "InProgress", "Paused", "CheckpointPause", "Cancelling", "RollbackInProgress")
FINAL = ("Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed")


class Refresh:
    def __init__(self, world, group, desired, minimum, maximum, skip_matching, checkpoints, pause_minutes, strategy):
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
        self.original = {"configuration_id": group.scaling_configuration_id, "image_id": config["image_id"]}
        self.created_seq = world.engine.next_sequence()

    def api(self):
        desired = {k: v for k, v in self.desired.items() if v not in (None, "")}
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


def _desired_image(world, refresh):
    if refresh.desired.get("ImageId"):
        return refresh.desired["ImageId"]
    if refresh.desired.get("ScalingConfigurationId"):
        return world.configurations[refresh.desired["ScalingConfigurationId"]]["image_id"]
    return world.configurations[refresh.original["configuration_id"]]["image_id"]


def _replace(world, group, old_id, image_id, configuration_id, refresh_id, cause):
    old = world.instances.pop(old_id, None)
    if old is not None and old_id in group.instance_ids:
        position = group.instance_ids.index(old_id)
        group.instance_ids.remove(old_id)
    else:
        position = len(group.instance_ids)
    new = world.create_instance(group, image_id, configuration_id, position)
    activity = world.record_activity(group, "Replace instance %s with %s." % (old_id, new.id), cause, [new.id])
    world.activities[-1]["InstanceRefreshTaskId"] = refresh_id
    return new.id, activity


def _next_wave(refresh):
    world = refresh.world
    if refresh.status not in ("InProgress",):
        return
    group = world.groups.get(refresh.group_id)
    if group is None:
        refresh.status, refresh.detail, refresh.ended = "Failed", "The scaling group no longer exists.", world.now()
        return
    if not refresh.queue:
        _complete(refresh, group)
        return
    wave = refresh.queue[:_wave_size(refresh)]
    del refresh.queue[:len(wave)]
    refresh.wave = wave

    def replaced():
        refresh.wave = []
        configuration_id = refresh.desired.get("ScalingConfigurationId") or refresh.original["configuration_id"]
        for old_id in wave:
            if old_id in world.instances:
                new_id, _ = _replace(world, group, old_id, _desired_image(world, refresh), configuration_id,
                                     refresh.id, "Instance refresh %s." % refresh.id)
                refresh.replaced.append(new_id)
            refresh.finished += 1
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
    world = refresh.world
    if refresh.desired.get("ScalingConfigurationId"):
        group.scaling_configuration_id = refresh.desired["ScalingConfigurationId"]
    elif refresh.desired.get("ImageId"):
        world.configurations[group.scaling_configuration_id]["image_id"] = refresh.desired["ImageId"]
    refresh.status = "Successful"
    refresh.ended = world.now()
    refresh.event = None


@api("ess", "StartInstanceRefresh", mutating=True)
def start_instance_refresh(req):
    world = req.world

    def apply():
        req.require("RegionId")
        group = world.group(req.require("ScalingGroupId"), req.region)
        if group.state != "Active":
            raise ApiError("IncorrectScalingGroupStatus",
                           "The current status of the specified scaling group does not support this action.")
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
        desired = req.prefixed("DesiredConfiguration")
        desired = {k: v for k, v in desired.items() if k in ("ScalingConfigurationId", "ImageId", "LaunchTemplateId",
                                                              "LaunchTemplateVersion") and v}
        kinds = [k for k in ("ScalingConfigurationId", "ImageId", "LaunchTemplateId") if desired.get(k)]
        if len(kinds) > 1:
            raise ApiError("InvalidParameter", "DesiredConfiguration.%s are mutually exclusive." % " and ".join(kinds))
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
                          req.get("Strategy"))
        # Standby, Protected and manually attached instances are ignored (reference 3.7).
        candidates = [world.instances[i] for i in group.instance_ids
                      if world.instances[i].lifecycle_state == "InService" and world.instances[i].creation_type == "AutoCreated"]
        if skip_matching:
            if desired.get("ScalingConfigurationId"):
                candidates = [i for i in candidates if i.scaling_configuration_id != desired["ScalingConfigurationId"]]
            else:  # simplified matching for an image or the active configuration: compare the image
                image = _desired_image(world, refresh)
                candidates = [i for i in candidates if i.image_id != image]
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
        tasks = {"InstanceRefreshTask": items}
    else:
        tasks = items
    return {"InstanceRefreshTasks": tasks, "TotalCount": len(refreshes), "MaxResults": size,
            "NextToken": token_for(start + size) if start + size < len(refreshes) else ""}


@api("ess", "SuspendInstanceRefresh", mutating=True)
def suspend_instance_refresh(req):
    refresh = _refresh(req)
    if refresh.status not in ("Pending", "InProgress", "CheckpointPause"):
        _wrong_status(refresh, "SuspendInstanceRefresh")
    _stop_wave(refresh)
    refresh.status = "Paused"
    return {}


@api("ess", "ResumeInstanceRefresh", mutating=True)
def resume_instance_refresh(req):
    refresh = _refresh(req)
    if refresh.status not in ("Paused", "CheckpointPause"):
        _wrong_status(refresh, "ResumeInstanceRefresh")
    _resume(refresh)
    return {}


@api("ess", "CancelInstanceRefresh", mutating=True)
def cancel_instance_refresh(req):
    refresh = _refresh(req)
    if refresh.status not in ("Pending", "InProgress", "Paused", "CheckpointPause"):
        _wrong_status(refresh, "CancelInstanceRefresh")
    _stop_wave(refresh)
    refresh.status = "Cancelling"

    def cancelled():
        refresh.status = "Cancelled"
        refresh.ended = refresh.world.now()
    _schedule(refresh, SCHEDULE_SECONDS, cancelled)
    return {}


@api("ess", "RollbackInstanceRefresh", mutating=True)
def rollback_instance_refresh(req):
    world = req.world
    refresh = _refresh(req)
    if refresh.status not in ("InProgress", "Paused", "CheckpointPause", "Successful", "Failed", "Cancelled"):
        _wrong_status(refresh, "RollbackInstanceRefresh")
    if refresh.desired.get("LaunchTemplateVersion") in ("Default", "Latest"):
        raise ApiError("OperationDenied", "A refresh to launch template version Default or Latest cannot be rolled back.")
    group = world.group(refresh.group_id)
    _stop_wave(refresh)
    refresh.status = "RollbackInProgress"
    refresh.queue = []
    # The previous configuration becomes active again, then the refreshed instances are replaced from it.
    group.scaling_configuration_id = refresh.original["configuration_id"]
    world.configurations[group.scaling_configuration_id]["image_id"] = refresh.original["image_id"]
    to_restore = [i for i in refresh.replaced if i in world.instances]

    def rolled_back():
        for instance_id in to_restore:
            _replace(world, group, instance_id, refresh.original["image_id"], refresh.original["configuration_id"],
                     refresh.id, "Rollback of instance refresh %s." % refresh.id)
        refresh.status = "RollbackSuccessful"
        refresh.ended = world.now()
        refresh.event = None
    _schedule(refresh, REPLACE_SECONDS * max(1, -(-len(to_restore) // _wave_size(refresh))), rolled_back)
    return {}
