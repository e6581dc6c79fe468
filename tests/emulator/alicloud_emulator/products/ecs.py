"""ECS 2014-05-26: regions, instances, images, Cloud Assistant RunCommand, tags (wrapped-list JSON shapes)."""
import base64
import binascii

from ..api import ApiError, api
from ..clock import iso, iso_minutes
from ..state import check_command_content, offset_for, token_for

COMMAND_TYPES = ("RunShellScript", "RunBatScript", "RunPowerShellScript")


def _page(req, items, max_size=100):
    number = req.int("PageNumber", 1, minimum=1)
    size = req.int("PageSize", 10, minimum=1, maximum=max_size)
    start = (number - 1) * size
    return items[start:start + size], {"TotalCount": len(items), "PageNumber": number, "PageSize": size}


def _region(req):
    region = req.require("RegionId")
    if region not in req.world.regions:
        raise ApiError("InvalidRegionId.NotFound", "The specified RegionId does not exist.", 404)
    return region


@api("ecs", "DescribeRegions")
def describe_regions(req):
    regions = [{"RegionId": r, "LocalName": r, "RegionEndpoint": "ecs.%s.aliyuncs.com" % r, "Status": "available"}
               for r in req.world.regions]
    return {"Regions": {"Region": regions}}


def _tags_of(instance):
    return [{"TagKey": k, "TagValue": v} for k, v in sorted(instance.tags.items())]


def instance_item(world, instance):
    image = world.images.get(instance.image_id, {})
    group_suffix = (instance.group_id or "asg-emulator")[4:]
    return {
        "InstanceId": instance.id, "InstanceName": "ess-" + instance.id[-8:], "HostName": "iZ" + instance.id[2:] + "Z",
        "RegionId": instance.region, "ZoneId": instance.zone_id, "Status": instance.status,
        "ImageId": instance.image_id, "OSType": image.get("os_type", "linux"), "OSName": image.get("name", ""),
        "InstanceType": instance.instance_type, "Cpu": 2, "Memory": 8192, "InstanceNetworkType": "vpc",
        "VpcAttributes": {"PrivateIpAddress": {"IpAddress": [instance.private_ip]}, "VpcId": "vpc-" + group_suffix,
                          "VSwitchId": "vsw-" + group_suffix, "NatIpAddress": ""},
        "PublicIpAddress": {"IpAddress": []}, "InnerIpAddress": {"IpAddress": []},
        "SecurityGroupIds": {"SecurityGroupId": ["sg-" + group_suffix]},
        "Tags": {"Tag": _tags_of(instance)}, "CreationTime": iso_minutes(instance.created),
        "StartTime": iso_minutes(instance.created), "ExpiredTime": "2099-12-31T15:59Z",
        "InstanceChargeType": "PostPaid", "InternetChargeType": "PayByTraffic", "StoppedMode": "Not-applicable",
        "DeletionProtection": False, "IoOptimized": True, "Description": "",
        "OperationLocks": {"LockReason": []}, "ResourceGroupId": "rg-acfmemulator",
    }


def _tag_filters(req):
    return [t for t in req.objects("Tag") if t.get("Key")]


def _matches_tags(tags, filters):
    for tag in filters:
        if tag["Key"] not in tags:
            return False
        if tag.get("Value") not in (None, "") and tags[tag["Key"]] != tag["Value"]:
            return False
    return True


@api("ecs", "DescribeInstances")
def describe_instances(req):
    world = req.world
    region = _region(req)
    instances = [i for i in world.instances.values() if i.region == region]
    wanted = req.list("InstanceIds")
    if wanted:
        if len(wanted) > 100:
            raise ApiError("InvalidParameter", 'The specified value of parameter "InstanceIds" is not valid.')
        instances = [i for i in instances if i.id in wanted]
    if req.get("Status"):
        instances = [i for i in instances if i.status == req.get("Status")]
    if req.get("ImageId"):
        instances = [i for i in instances if i.image_id == req.get("ImageId")]
    private_ips = req.list("PrivateIpAddresses")
    if private_ips:
        instances = [i for i in instances if i.private_ip in private_ips]
    filters = _tag_filters(req)
    if filters:
        instances = [i for i in instances if _matches_tags(i.tags, filters)]
    if req.get("MaxResults") or req.get("NextToken"):
        size = req.int("MaxResults", 10, minimum=1, maximum=100)
        start = offset_for(req.get("NextToken"))
        page = instances[start:start + size]
        next_offset = start + size if start + size < len(instances) else 0
        meta = {"TotalCount": len(instances), "NextToken": token_for(next_offset), "PageNumber": 1, "PageSize": size}
    else:
        page, meta = _page(req, instances)
        meta["NextToken"] = ""
    body = {"Instances": {"Instance": [instance_item(world, i) for i in page]}}
    body.update(meta)
    return body


@api("ecs", "DescribeImages")
def describe_images(req):
    world = req.world
    _region(req)
    images = list(world.images.values())
    # ECS SDK model DescribeImagesRequest: no ImageOwnerAlias = system, self and others (shared, not community);
    # community images need others + IsPublic=true; Status defaults to Available, ALL = every status.
    owner = req.get("ImageOwnerAlias") or ""
    public = (req.get("IsPublic") or "").lower() == "true"
    if owner:
        images = [i for i in images if i.get("owner_alias", "self") == owner]
    else:
        images = [i for i in images if i.get("owner_alias", "self") in ("system", "self", "others")]
    if owner == "others" and public:
        images = [i for i in images if i.get("is_public")]
    elif owner in ("", "others"):
        images = [i for i in images if not i.get("is_public")]
    status = req.get("Status") or "Available"
    if status != "ALL":
        wanted_status = [x.strip() for x in status.split(",")]
        images = [i for i in images if i.get("status", "Available") in wanted_status]
    if req.get("ImageId"):
        wanted = [x.strip() for x in req.get("ImageId").split(",")]
        images = [i for i in images if i["id"] in wanted]
    if req.get("ImageName"):
        images = [i for i in images if i["name"] == req.get("ImageName")]
    page, meta = _page(req, images)
    items = [{"ImageId": i["id"], "ImageName": i["name"], "OSType": i["os_type"], "OSName": i["name"],
              "Platform": "Aliyun" if i["os_type"] == "linux" else "Windows Server 2022",
              "Architecture": "x86_64", "Status": i.get("status", "Available"),
              "ImageOwnerAlias": i.get("owner_alias", "self"), "IsPublic": i.get("is_public", False), "Size": 40,
              "CreationTime": "2024-01-01T00:00:00Z", "IsSupportCloudinit": True, "Usage": "instance",
              "Description": "", "DiskDeviceMappings": {"DiskDeviceMapping": []}, "Tags": {"Tag": []}}
             for i in page]
    body = {"Images": {"Image": items}, "RegionId": req.region}
    body.update(meta)
    return body


# ----------------------------------------------------------------------------- Cloud Assistant


@api("ecs", "RunCommand", mutating=True)
def run_command(req):
    world = req.world

    def apply():
        _region(req)
        command_type = req.require("Type")
        if command_type not in COMMAND_TYPES:
            raise ApiError("InvalidParameter", 'The specified value of parameter "Type" is not valid.')
        content = req.require("CommandContent")
        if (req.get("ContentEncoding") or "PlainText").lower() == "base64":
            try:
                content = base64.b64decode(content, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise ApiError("InvalidParameter", 'The specified value of parameter "CommandContent" is not valid Base64.')
        check_command_content(content)
        instance_ids = req.list("InstanceId", "InstanceIds")
        if not instance_ids:
            raise ApiError("MissingParameter", 'The input parameter "InstanceId" that is mandatory for processing this request is not supplied.')
        for instance_id in instance_ids:
            instance = world.instances.get(instance_id)
            if instance is None or instance.region != req.region:
                raise ApiError("InvalidInstance.NotFound", "The specified instance %s does not exist." % instance_id, 404)
            if instance.status != "Running":
                raise ApiError("InvalidInstance.NotRunning", "The specified instance %s is not running." % instance_id)
        timeout = req.int("Timeout", 60, minimum=10, maximum=86400)
        invocation = world.run_command(instance_ids, content, command_type, name=req.get("Name", ""),
                                       working_dir=req.get("WorkingDir", ""), timeout=timeout)
        return {"CommandId": invocation.command_id, "InvokeId": invocation.invoke_id}
    return world.idempotent(req, apply)


def _invoke_status(world, invocation):
    status = world.invocation_status(invocation)
    return {"Running": "Running", "Success": "Finished", "Failed": "Failed", "PartialFailed": "PartialFinished"}[status]


def _result_item(world, invocation, instance_id, result):
    finished = result["status"] != "Running"
    return {
        "InstanceId": instance_id, "InvokeId": invocation.invoke_id, "CommandId": invocation.command_id,
        "Output": world.encode_output(result["output"]),
        "ExitCode": result["exit_code"] if finished else None,
        "InvokeRecordStatus": "Finished" if finished else "Running",
        "InvocationStatus": result["status"], "ErrorCode": result["error_code"], "ErrorInfo": result["error_info"],
        "StartTime": iso(result["start"]), "FinishedTime": iso(result["finish"]) if result["finish"] else "",
        "Dropped": 0, "Repeats": 1, "Username": "root", "ContainerId": "", "ContainerName": "",
        "Tags": {"Tag": []},
    }


def _invocation(req):
    invocation = req.world.invocations.get(req.get("InvokeId") or "")
    if req.get("InvokeId") and invocation is None:
        raise ApiError("InvalidInvokeId.NotFound", "The specified invoke id does not exist.", 404)
    return invocation


@api("ecs", "DescribeInvocations")
def describe_invocations(req):
    world = req.world
    _region(req)
    invocation = _invocation(req)
    invocations = [invocation] if invocation else list(world.invocations.values())
    if req.get("InstanceId"):
        invocations = [i for i in invocations if req.get("InstanceId") in i.results]
    if req.get("InvokeStatus"):
        invocations = [i for i in invocations if _invoke_status(world, i) == req.get("InvokeStatus")]
    invocations = sorted(invocations, key=lambda i: i.created, reverse=True)
    page, meta = _page(req, invocations, 50)
    items = []
    for inv in page:
        items.append({
            "InvokeId": inv.invoke_id, "CommandId": inv.command_id, "CommandName": inv.name,
            "CommandType": inv.command_type, "CommandContent": world.encode_output(inv.content),
            "InvokeStatus": _invoke_status(world, inv), "InvocationStatus": world.invocation_status(inv),
            "CreationTime": iso(inv.created), "Timeout": inv.timeout, "WorkingDir": inv.working_dir,
            "RepeatMode": "Once", "Frequency": "", "Parameters": "{}", "Username": "root", "Timed": False,
            "InvokeInstances": {"InvokeInstance": [
                {"InstanceId": iid, "InstanceInvokeStatus": "Finished" if r["status"] != "Running" else "Running",
                 "InvocationStatus": r["status"], "ExitCode": r["exit_code"], "Output": world.encode_output(r["output"]),
                 "StartTime": iso(r["start"]), "FinishTime": iso(r["finish"]) if r["finish"] else "",
                 "ErrorCode": r["error_code"], "ErrorInfo": r["error_info"], "Repeats": 1, "Dropped": 0,
                 "CreationTime": iso(r["start"]), "UpdateTime": iso(r["finish"] or r["start"])}
                for iid, r in inv.results.items()]},
            "Tags": {"Tag": []},
        })
    body = {"Invocations": {"Invocation": items}}
    body.update(meta)
    return body


@api("ecs", "DescribeInvocationResults")
def describe_invocation_results(req):
    world = req.world
    _region(req)
    invocation = _invocation(req)
    invocations = [invocation] if invocation else list(world.invocations.values())
    results = []
    for inv in invocations:
        for instance_id, result in inv.results.items():
            if req.get("InstanceId") and instance_id != req.get("InstanceId"):
                continue
            if req.get("InvokeRecordStatus") and req.get("InvokeRecordStatus") != (
                    "Finished" if result["status"] != "Running" else "Running"):
                continue
            results.append(_result_item(world, inv, instance_id, result))
    page, meta = _page(req, results, 50)
    body = {"InvocationResults": {"InvocationResult": page}}
    body.update(meta)
    return {"Invocation": body}


# ----------------------------------------------------------------------------- tags


def _resource_type(req):
    resource_type = req.require("ResourceType")
    if resource_type.lower() != "instance":
        raise ApiError("InvalidResourceType.NotSupported", "The emulator supports tags on instances only.")
    return "instance"


@api("ecs", "TagResources", mutating=True)
def tag_resources(req):
    world = req.world

    def apply():
        _region(req)
        _resource_type(req)
        ids = req.list("ResourceId")
        tags = req.objects("Tag")
        if not ids:
            raise ApiError("MissingParameter", 'The input parameter "ResourceId" that is mandatory for processing this request is not supplied.')
        if not tags:
            raise ApiError("MissingParameter", 'The input parameter "Tag" that is mandatory for processing this request is not supplied.')
        instances = []
        for resource_id in ids:
            instance = world.instances.get(resource_id)
            if instance is None or instance.region != req.region:
                raise ApiError("InvalidResourceId.NotFound", "The specified ResourceIds are not found in our records.", 404)
            instances.append(instance)
        for tag in tags:
            if not tag.get("Key"):
                raise ApiError("InvalidTagKey.Malformed", "The specified Tag.n.Key is not valid.")
        for instance in instances:
            for tag in tags:
                instance.tags[tag["Key"]] = tag.get("Value", "")
        return {}
    return world.idempotent(req, apply)


@api("ecs", "ListTagResources")
def list_tag_resources(req):
    world = req.world
    _region(req)
    _resource_type(req)
    ids = req.list("ResourceId")
    filters = _tag_filters(req)
    rows = []
    for instance in world.instances.values():
        if instance.region != req.region or (ids and instance.id not in ids):
            continue
        if filters and not _matches_tags(instance.tags, filters):
            continue
        for key, value in sorted(instance.tags.items()):
            rows.append({"ResourceId": instance.id, "ResourceType": "instance", "TagKey": key, "TagValue": value})
    size = 50  # ECS ListTagResources returns at most 50 rows per page
    start = offset_for(req.get("NextToken"))
    page = rows[start:start + size]
    return {"TagResources": {"TagResource": page},
            "NextToken": token_for(start + size) if start + size < len(rows) else ""}
