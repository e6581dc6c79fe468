"""ESS (Auto Scaling) in both API versions: 2022-02-22 (flat lists, `Processes.N`, `InstanceIds.N`) and
2014-08-28 (wrapped lists, `Process.N`, `InstanceId.N`, legacy `InstanceId1`)."""
import re

from .. import loadbalancers
from ..api import ApiError, api
from ..clock import iso, iso_minutes
from ..state import PROCESSES

LEGACY = "2014-08-28"

_NUMBERED = {}


def _legacy(req):
    return req.version == LEGACY


def _wrap(req, plural, singular, items):
    """2014-08-28 wraps lists (`{"ScalingGroups": {"ScalingGroup": [...]}}`); 2022-02-22 does not."""
    return {plural: {singular: items}} if _legacy(req) else {plural: items}


def _numbered(req, name):
    """Legacy RepeatList spelled without a dot: `InstanceId1`, `ScalingGroupId1` (used by the OOS actions)."""
    pattern = _NUMBERED.get(name)
    if pattern is None:
        pattern = _NUMBERED[name] = re.compile(r"^%s(\d+)$" % re.escape(name))
    found = []
    for key, value in req.params.items():
        match = pattern.match(key)
        if match and value:
            found.append((int(match.group(1)), value))
    return [value for _, value in sorted(found)]


def _ids(req, new_name, old_name):
    """A list parameter under its 2022 name, its 2014 name, or the legacy numbered spelling."""
    if _legacy(req):
        values = req.list(old_name) or _numbered(req, old_name)
    else:
        values = req.list(new_name)
    return values


def _page(req, items, max_size):
    number = req.int("PageNumber", 1, minimum=1)
    size = req.int("PageSize", 10, minimum=1, maximum=max_size)
    start = (number - 1) * size
    return items[start:start + size], {"TotalCount": len(items), "PageNumber": number, "PageSize": size}


def _region_groups(req):
    region = req.require("RegionId")
    return [g for g in req.world.groups.values() if g.region == region]


def _group(req):
    return req.world.group(req.require("ScalingGroupId"), req.region)


def _active_group(req):
    group = _group(req)
    if group.state != "Active":
        raise ApiError("IncorrectScalingGroupStatus",
                       "The current status of the specified scaling group does not support this action.")
    return group


# ----------------------------------------------------------------------------- scaling groups


def group_item(world, group, legacy):
    instances = [world.instances[i] for i in group.instance_ids]
    states = {}
    for instance in instances:
        states[instance.lifecycle_state] = states.get(instance.lifecycle_state, 0) + 1
    config = world.configurations[group.scaling_configuration_id]
    launch_template = group.launch_template or {}
    vswitch = "vsw-" + group.id[4:]

    def wrap(singular, values):
        return {singular: values} if legacy else values

    item = {
        "ScalingGroupId": group.id, "ScalingGroupName": group.name, "RegionId": group.region,
        "LifecycleState": group.state, "ActiveScalingConfigurationId": "" if launch_template else config["id"],
        "LaunchTemplateId": launch_template.get("id", ""), "LaunchTemplateVersion": launch_template.get("version", ""),
        "MinSize": group.min_size, "MaxSize": group.max_size, "DesiredCapacity": group.desired_capacity,
        "TotalCapacity": len(instances), "TotalInstanceCount": len(instances),
        "ActiveCapacity": states.get("InService", 0), "StandbyCapacity": states.get("Standby", 0),
        "ProtectedCapacity": states.get("Protected", 0), "PendingCapacity": states.get("Pending", 0),
        "PendingWaitCapacity": states.get("Pending:Wait", 0), "RemovingCapacity": states.get("Removing", 0),
        "RemovingWaitCapacity": states.get("Removing:Wait", 0), "StoppedCapacity": states.get("Stopped", 0),
        "InitCapacity": 0, "SpotCapacity": 0,
        "SuspendedProcesses": wrap("SuspendedProcess", list(group.suspended)), "SystemSuspended": False,
        "HealthCheckType": "ECS", "MultiAZPolicy": group.multi_az_policy, "ScalingPolicy": group.scaling_policy,
        "GroupType": group.group_type,
        "LaunchTemplateOverrides": wrap("LaunchTemplateOverride", [dict(o) for o in group.launch_template_overrides]),
        "RemovalPolicies": wrap("RemovalPolicy", ["OldestScalingConfiguration", "OldestInstance"]),
        "DefaultCooldown": 300, "VSwitchId": vswitch, "VSwitchIds": wrap("VSwitchId", [vswitch]),
        "VpcId": "vpc-" + group.id[4:], "LoadBalancerIds": wrap("LoadBalancerId", []),
        "DBInstanceIds": wrap("DBInstanceId", []), "CreationTime": iso_minutes(group.created),
        "ModificationTime": iso_minutes(group.created), "GroupDeletionProtection": False,
        "EnableDesiredCapacity": True, "AzBalance": False, "CompensateWithOnDemand": False,
        "OnDemandBaseCapacity": 0, "OnDemandPercentageAboveBaseCapacity": 100, "SpotInstancePools": 0,
        "SpotInstanceRemedy": False, "ResourceGroupId": "rg-acfmemulator", "MaxInstanceLifetime": 0,
        "StopInstanceTimeout": 0, "IsElasticStrengthInAlarm": False,
    }
    if not legacy:
        item.update(HealthCheckTypes=["ECS"], Tags=[], DBInstances=[], AllocationStrategy="priority",
                    SpotAllocationStrategy="priority", AutoRebalance=False, BalanceMode="", MonitorGroupId="",
                    CurrentHostName="", CustomPolicyARN="", CapacityOptions={})
    item.update(loadbalancers.ess_fields(getattr(group, "load_balancers", []), legacy))
    return item


@api("ess", "DescribeScalingGroups")
def describe_scaling_groups(req):
    groups = _region_groups(req)
    wanted_ids = _ids(req, "ScalingGroupIds", "ScalingGroupId")
    names = req.list("ScalingGroupNames") or _numbered(req, "ScalingGroupName")
    if req.get("ScalingGroupName"):
        names.append(req.get("ScalingGroupName"))
    if wanted_ids or names:
        # Inactive groups named in the request are silently left out (reference 3.3).
        groups = [g for g in groups if (g.id in wanted_ids or g.name in names) and g.state == "Active"]
    if req.get("GroupType"):
        groups = [g for g in groups if g.group_type == req.get("GroupType")]
    page, meta = _page(req, groups, 50)
    body = _wrap(req, "ScalingGroups", "ScalingGroup", [group_item(req.world, g, _legacy(req)) for g in page])
    body.update(meta)
    return body


# ----------------------------------------------------------------------------- scaling instances


def instance_item(world, instance):
    group = world.groups.get(instance.group_id)
    launch_template = instance.launch_template or (group.launch_template if group else None) or {}
    return {
        "InstanceId": instance.id, "ScalingGroupId": instance.group_id,
        "ScalingConfigurationId": "" if launch_template else instance.scaling_configuration_id,
        "LaunchTemplateId": launch_template.get("id", ""), "LaunchTemplateVersion": launch_template.get("version", ""),
        "LifecycleState": instance.lifecycle_state,
        "HealthStatus": "Healthy" if instance.status == "Running" or instance.lifecycle_state == "Standby" else "Unhealthy",
        "CreationType": instance.creation_type, "Entrusted": instance.creation_type == "AutoCreated",
        "CreatedTime": iso(instance.created), "CreationTime": iso_minutes(instance.created),
        "ZoneId": instance.zone_id, "PrivateIpAddress": instance.private_ip, "ScalingActivityId": "",
        "WarmupState": "NoNeedWarmup", "WeightedCapacity": 1, "LoadBalancerWeight": 0 if instance.lifecycle_state == "Standby" else 50,
        "SpotStrategy": "NoSpot", "ScalingInstanceId": "si-" + instance.id[2:],
    }


@api("ess", "DescribeScalingInstances")
def describe_scaling_instances(req):
    world = req.world
    region = req.require("RegionId")
    instances = [i for i in world.instances.values() if i.region == region and i.group_id]
    if req.get("ScalingGroupId"):
        instances = [i for i in instances if i.group_id == req.get("ScalingGroupId")]
    wanted = _ids(req, "InstanceIds", "InstanceId")
    if wanted:
        instances = [i for i in instances if i.id in wanted]  # unknown ids are silently ignored
    states = req.list("LifecycleStates") or ([req.get("LifecycleState")] if req.get("LifecycleState") else [])
    if states:
        instances = [i for i in instances if i.lifecycle_state in states]
    creation_types = req.list("CreationTypes") or ([req.get("CreationType")] if req.get("CreationType") else [])
    if creation_types:
        allowed = set(creation_types) | ({"AutoCreated", "Attached"} if "Managed" in creation_types else set())
        instances = [i for i in instances if i.creation_type in allowed]
    if req.get("HealthStatus"):
        instances = [i for i in instances if instance_item(world, i)["HealthStatus"] == req.get("HealthStatus")]
    if req.get("ScalingConfigurationId"):
        instances = [i for i in instances if i.scaling_configuration_id == req.get("ScalingConfigurationId")]
    page, meta = _page(req, instances, 100)
    body = _wrap(req, "ScalingInstances", "ScalingInstance", [instance_item(world, i) for i in page])
    body.update(meta)
    body["TotalSpotCount"] = 0
    return body


# ----------------------------------------------------------------------------- scaling configurations


def configuration_item(world, config, legacy):
    group = world.groups.get(config["group_id"])
    image = world.images.get(config["image_id"], {})
    security_group = "sg-" + config["group_id"][4:]
    item = {
        "ScalingConfigurationId": config["id"], "ScalingConfigurationName": config["name"],
        "ScalingGroupId": config["group_id"], "ImageId": config["image_id"], "ImageName": image.get("name", ""),
        "InstanceType": config["instance_type"], "KeyPairName": config["key_pair_name"],
        "UserData": config["user_data"], "CreationTime": iso_minutes(config["created"]),
        "LifecycleState": "Active" if group and group.scaling_configuration_id == config["id"] else "Inactive",
        "SecurityGroupId": security_group, "InternetChargeType": "PayByTraffic", "InternetMaxBandwidthIn": 200,
        "InternetMaxBandwidthOut": 0, "IoOptimized": "optimized", "SystemDiskCategory": "cloud_essd",
        "SystemDiskSize": 40, "SpotStrategy": "NoSpot", "PasswordInherit": False, "DeletionProtection": False,
        "LoadBalancerWeight": 50, "HostName": "", "InstanceName": "", "RamRoleName": "",
        "SecurityEnhancementStrategy": "Active", "ResourceGroupId": "rg-acfmemulator", "Tenancy": "default",
        "ZoneId": group.zone_id if group else "",
    }
    if legacy:
        item.update(InstanceTypes={"InstanceType": [config["instance_type"]]},
                    SecurityGroupIds={"SecurityGroupId": [security_group]}, DataDisks={"DataDisk": []},
                    Tags={"Tag": []}, SystemDiskCategories={"SystemDiskCategory": []})
    else:
        item.update(InstanceTypes=[config["instance_type"]], SecurityGroupIds=[security_group], DataDisks=[],
                    Tags=[], SystemDiskCategories=[], InstancePatternInfos=[], SpotPriceLimits=[],
                    WeightedCapacities=[], CustomPriorities=[], NetworkInterfaces=[])
    return item


@api("ess", "DescribeScalingConfigurations")
def describe_scaling_configurations(req):
    world = req.world
    region = req.require("RegionId")
    configs = [c for c in world.configurations.values()
               if world.groups.get(c["group_id"]) and world.groups[c["group_id"]].region == region]
    if req.get("ScalingGroupId"):
        configs = [c for c in configs if c["group_id"] == req.get("ScalingGroupId")]
    wanted = _ids(req, "ScalingConfigurationIds", "ScalingConfigurationId")
    if wanted:
        configs = [c for c in configs if c["id"] in wanted]
    names = req.list("ScalingConfigurationNames") or _numbered(req, "ScalingConfigurationName")
    if names:
        configs = [c for c in configs if c["name"] in names]
    page, meta = _page(req, configs, 50)
    body = _wrap(req, "ScalingConfigurations", "ScalingConfiguration",
                 [configuration_item(world, c, _legacy(req)) for c in page])
    body.update(meta)
    return body


@api("ess", "ModifyScalingConfiguration", mutating=True)
def modify_scaling_configuration(req):
    world = req.world

    def apply():
        config = world.configuration(req.require("ScalingConfigurationId"))
        image_id = req.get("ImageId")
        if image_id is not None:
            if image_id not in world.images:
                raise ApiError("InvalidImageId.NotFound", "The specified image does not exist.", 404)
            config["image_id"] = image_id
        if req.get("ScalingConfigurationName"):
            config["name"] = req.get("ScalingConfigurationName")
        if req.get("InstanceType"):
            config["instance_type"] = req.get("InstanceType")
        if req.get("KeyPairName") is not None:
            config["key_pair_name"] = req.get("KeyPairName")
        if req.get("UserData") is not None:
            config["user_data"] = req.get("UserData")
        return {}
    return world.idempotent(req, apply)


# ----------------------------------------------------------------------------- processes


def _processes(req):
    processes = req.list("Process") if _legacy(req) else req.list("Processes")
    if not processes:
        name = "Process.1" if _legacy(req) else "Processes.1"
        raise ApiError("MissingParameter",
                       'The input parameter "%s" that is mandatory for processing this request is not supplied.' % name)
    for process in processes:
        if process not in PROCESSES:
            raise ApiError("InvalidParameter", 'The specified value of parameter "%s" is not valid.' % (
                "Process" if _legacy(req) else "Processes"))
    return processes


@api("ess", "SuspendProcesses", mutating=True)
def suspend_processes(req):
    def apply():
        group = _group(req)
        for process in _processes(req):
            if process not in group.suspended:  # an already suspended process stays so (no error)
                group.suspended.append(process)
        group.suspended = [p for p in PROCESSES if p in group.suspended]
        return {}
    return req.world.idempotent(req, apply)


@api("ess", "ResumeProcesses", mutating=True)
def resume_processes(req):
    def apply():
        group = _group(req)
        processes = _processes(req)
        group.suspended = [p for p in group.suspended if p not in processes]
        return {}
    return req.world.idempotent(req, apply)


# ----------------------------------------------------------------------------- standby and protection


def _instance_ids(req, limit):
    ids = _ids(req, "InstanceIds", "InstanceId")
    if not ids:
        name = "InstanceId.1" if _legacy(req) else "InstanceIds.1"
        raise ApiError("MissingParameter",
                       'The input parameter "%s" that is mandatory for processing this request is not supplied.' % name)
    if len(ids) > limit:
        raise ApiError("InvalidParameter", 'The specified value of parameter "InstanceIds" is not valid.')
    return ids


def _standby(req, entering):
    world = req.world

    def apply():
        group = _active_group(req)
        instances = [world.group_instance(group, i) for i in _instance_ids(req, 20)]
        for instance in instances:
            wanted_from = ("InService", "Standby") if entering else ("Standby", "InService")
            if instance.lifecycle_state not in wanted_from:
                raise ApiError("IncorrectInstanceStatus",
                               'The current status of instance "%s" (%s) does not support this action.' % (
                                   instance.id, instance.lifecycle_state))
        for instance in instances:
            instance.lifecycle_state = "Standby" if entering else "InService"
        activity = world.record_activity(
            group, ("Enter" if entering else "Exit") + " standby.",
            "A user requested to %s standby." % ("enter" if entering else "exit"), [i.id for i in instances])
        return {"ScalingActivityId": activity}
    return world.idempotent(req, apply)


@api("ess", "EnterStandby", mutating=True)
def enter_standby(req):
    return _standby(req, True)


@api("ess", "ExitStandby", mutating=True)
def exit_standby(req):
    return _standby(req, False)


@api("ess", "SetInstancesProtection", mutating=True)
def set_instances_protection(req):
    world = req.world

    def apply():
        group = _group(req)
        protected = req.bool("ProtectedFromScaleIn")
        if protected is None:
            raise ApiError("MissingParameter", 'The input parameter "ProtectedFromScaleIn" that is mandatory for processing this request is not supplied.')
        instances = [world.group_instance(group, i) for i in _instance_ids(req, 20)]
        for instance in instances:
            if protected and instance.lifecycle_state == "InService":
                instance.lifecycle_state = "Protected"
            elif not protected and instance.lifecycle_state == "Protected":
                instance.lifecycle_state = "InService"
        return {}
    return world.idempotent(req, apply)


# ----------------------------------------------------------------------------- activities


@api("ess", "DescribeScalingActivities")
def describe_scaling_activities(req):
    world = req.world
    group = _group(req)
    activities = [a for a in world.activities if a["ScalingGroupId"] == group.id]
    wanted = _ids(req, "ScalingActivityIds", "ScalingActivityId")
    if wanted:
        activities = [a for a in activities if a["ScalingActivityId"] in wanted]
    if req.get("StatusCode"):
        activities = [a for a in activities if a["StatusCode"] == req.get("StatusCode")]
    if req.get("InstanceRefreshTaskId"):
        activities = [a for a in activities if a["InstanceRefreshTaskId"] == req.get("InstanceRefreshTaskId")]
    activities = sorted(activities, key=lambda a: a["created"], reverse=True)
    page, meta = _page(req, activities, 50)
    items = []
    for activity in page:
        item = {k: v for k, v in activity.items() if k not in ("instance_ids", "created")}
        if not _legacy(req):
            item.update(CreatedInstances=list(activity["instance_ids"]) if "Replace" in activity["Description"] else [],
                        DestroyedInstances=[], StartedInstances=[], StoppedInstances=[], ErrorMessages=[],
                        ActivityMetadata="", LifecycleHookContext={"DisableLifecycleHook": False,
                                                                   "IgnoredLifecycleHookIds": []})
        items.append(item)
    body = _wrap(req, "ScalingActivities", "ScalingActivity", items)
    body.update(meta)
    return body


# ----------------------------------------------------------------------------- instance refresh

from . import ess_refresh  # noqa: E402,F401  (registers the instance refresh family)
