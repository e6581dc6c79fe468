"""Load balancer health, read-only: CLB (slb 2014-05-15) DescribeHealthStatus; ALB (2020-06-16) and NLB (2022-04-30)
ListServerGroups, ListListeners, ListServerGroupServers and GetListenerHealthStatus.

Shapes follow the SDK models (alibabacloud-slb20140515, -alb20200616, -nlb20220430). The backends and their
states come from the model (loadbalancers.py). ALB and NLB list only the non-normal servers of a server group.
"""
from .. import loadbalancers
from ..api import ApiError, api
from ..state import offset_for, token_for

# CLB ServerHealthStatus: normal | abnormal | unavailable. [INFERRED] a backend whose first checks are not done yet
# and one with weight 0 (not checked) both read unavailable.
CLB_STATUS = {"normal": "normal", "unhealthy": "abnormal", "initial": "unavailable", "unused": "unavailable",
              "unavailable": "unavailable"}
# ALB NonNormalServers Status: Initial | Unhealthy | Unused (weight 0) | Unavailable (health check off).
ALB_STATUS = {"initial": "Initial", "unhealthy": "Unhealthy", "unused": "Unused", "unavailable": "Unavailable"}
# NLB: Initial | Unhealthy | Unavailable; the model names no Unused. [INFERRED] weight-0 backends keep being checked.
NLB_STATUS = {"initial": "Initial", "unhealthy": "Unhealthy", "unavailable": "Unavailable"}
REASON = {"alb": "RESPONSE_MISMATCH", "nlb": "HTTP_CODE_NOT_MATCH"}


def _region(req):
    region = req.require("RegionId") if req.product == "slb" else (req.get("RegionId") or _host_region(req))
    if region not in req.world.regions:
        raise ApiError("InvalidRegionId.NotFound", "The specified RegionId does not exist.", 404)
    return region


def _host_region(req):
    # ALB has no RegionId parameter: the region is in the endpoint (alb.cn-hangzhou.aliyuncs.com). Behind
    # endpoint_url there is none, so the first region of the world answers.
    parts = (req.host or "").split(".")
    if len(parts) > 2 and parts[1] in req.world.regions:
        return parts[1]
    return req.world.regions[0]


def _page(req, items, default_size=20, maximum=100):
    size = req.int("MaxResults", default_size, minimum=1, maximum=maximum)
    start = offset_for(req.get("NextToken"))
    page = items[start:start + size]
    following = start + size if start + size < len(items) else 0
    return page, {"TotalCount": len(items), "MaxResults": size, "NextToken": token_for(following)}


# ----------------------------------------------------------------------------- CLB


@api("slb", "DescribeHealthStatus")
def clb_describe_health_status(req):
    world = req.world
    attachments = loadbalancers.find_load_balancer(world, "clb", req.require("LoadBalancerId"), _region(req))
    wanted_port = req.int("ListenerPort", minimum=1, maximum=65535)
    servers = []
    for att in attachments:
        for listener_port in att.listener_ports:
            if wanted_port is not None and listener_port != wanted_port:
                continue
            for instance, state in loadbalancers.backends(world, att):
                servers.append({"ServerId": instance.id, "ServerIp": instance.private_ip, "Port": att.port,
                                "ListenerPort": listener_port, "Protocol": "http",
                                "ServerHealthStatus": CLB_STATUS[state]})
    return {"BackendServers": {"BackendServer": servers}}


# ----------------------------------------------------------------------------- ALB and NLB


def _kind(req):
    return req.product  # "alb" or "nlb"


def _server_group_item(req, kind, server_group_id, attachments):
    world = req.world
    servers = {i.id for att in attachments for i, _ in loadbalancers.backends(world, att)}
    item = {"ServerGroupId": server_group_id, "ServerGroupName": server_group_id, "ServerGroupType": "Instance",
            "ServerGroupStatus": "Available", "Protocol": "HTTP" if kind == "alb" else "TCP",
            "VpcId": "vpc-" + attachments[0].group_id[4:], "ServerCount": len(servers),
            "RelatedLoadBalancerIds": sorted({att.id for att in attachments}), "Tags": [],
            "ResourceGroupId": "rg-acfmemulator"}
    if kind == "alb":
        item["HealthCheckConfig"] = {"HealthCheckEnabled": attachments[0].health_check}
    else:
        item.update(RegionId=world.groups[attachments[0].group_id].region,
                    HealthCheck={"HealthCheckEnabled": attachments[0].health_check})
    return item


def list_server_groups(req):
    kind = _kind(req)
    region = _region(req)
    world = req.world
    by_id = {}
    for att in loadbalancers.all_attachments(world, kind):
        if world.groups[att.group_id].region == region:
            by_id.setdefault(att.server_group_id, []).append(att)
    wanted = req.list("ServerGroupIds")
    ids = [i for i in sorted(by_id) if not wanted or i in wanted]
    page, meta = _page(req, ids)
    body = {"ServerGroups": [_server_group_item(req, kind, i, by_id[i]) for i in page]}
    body.update(meta)
    return body


def _listeners(req, kind, region):
    """{listener id: (load balancer id, port, [attachments])} of the region."""
    world = req.world
    listeners = {}
    for att in loadbalancers.all_attachments(world, kind):
        if world.groups[att.group_id].region != region:
            continue
        for port in att.listener_ports:
            entry = listeners.setdefault(loadbalancers.listener_id(att, port), (att.id, port, []))
            entry[2].append(att)
    return listeners


def list_listeners(req):
    kind = _kind(req)
    listeners = _listeners(req, kind, _region(req))
    wanted_lbs = req.list("LoadBalancerIds")
    wanted_ids = req.list("ListenerIds")
    ids = [i for i in sorted(listeners) if (not wanted_lbs or listeners[i][0] in wanted_lbs)
           and (not wanted_ids or i in wanted_ids)]
    page, meta = _page(req, ids, maximum=100)
    items = []
    for listener in page:
        load_balancer_id, port, attachments = listeners[listener]
        item = {"ListenerId": listener, "LoadBalancerId": load_balancer_id, "ListenerPort": port,
                "ListenerStatus": "Running", "ListenerDescription": "", "Tags": []}
        if kind == "alb":
            item.update(ListenerProtocol="HTTP", DefaultActions=[{"Type": "ForwardGroup", "ForwardGroupConfig": {
                "ServerGroupTuples": [{"ServerGroupId": att.server_group_id} for att in attachments]}}])
        else:
            item.update(ListenerProtocol="TCP", ServerGroupId=attachments[0].server_group_id,
                        RegionId=_region(req))
        items.append(item)
    body = {"Listeners": items}
    body.update(meta)
    return body


def list_server_group_servers(req):
    kind = _kind(req)
    world = req.world
    server_group_id = req.require("ServerGroupId")
    attachments = loadbalancers.find_server_group(world, kind, server_group_id, _region(req))
    wanted = req.list("ServerIds")
    servers = []
    for att in attachments:
        for instance, state in loadbalancers.backends(world, att):
            if wanted and instance.id not in wanted:
                continue
            server = {"ServerId": instance.id, "ServerIp": instance.private_ip, "ServerType": "Ecs",
                      "Port": att.port, "Weight": 0 if state == "unused" else att.weight, "Status": "Available",
                      "ServerGroupId": server_group_id, "Description": ""}
            if kind == "alb":
                server["RemoteIpEnabled"] = False
            else:
                server["ZoneId"] = instance.zone_id
            servers.append(server)
    page, meta = _page(req, servers)
    body = {"Servers": page}
    body.update(meta)
    return body


def get_listener_health_status(req):
    kind = _kind(req)
    world = req.world
    listeners = _listeners(req, kind, _region(req))
    listener = req.require("ListenerId")
    if listener not in listeners:
        raise ApiError("ResourceNotFound.Listener", "The specified resource %s is not found." % listener, 404)
    _, port, attachments = listeners[listener]
    statuses = ALB_STATUS if kind == "alb" else NLB_STATUS
    infos = []
    for att in attachments:
        non_normal = []
        registered = loadbalancers.backends(world, att)
        for instance, state in registered:
            status = statuses.get(state)
            if status is None:  # normal (or NLB weight 0: judged by its health)
                if state == "unused" and loadbalancers.backend_state(
                        world, att, _as_serving(instance), world.now()) != "normal":
                    status = "Unhealthy"
                else:
                    continue
            server = {"ServerId": instance.id, "ServerIp": instance.private_ip, "Port": att.port, "Status": status}
            if status == "Unhealthy":
                server["Reason"] = {"ReasonCode": REASON[kind]}
            non_normal.append(server)
        info = {"ServerGroupId": att.server_group_id, "NonNormalServers": non_normal}
        if kind == "alb":
            info.update(ActionType="ForwardGroup", HealthCheckEnabled="on" if att.health_check else "off",
                        ServerCount=len(registered))
        else:
            info["HeathCheckEnabled"] = att.health_check  # sic: the NLB model's spelling
        infos.append(info)
    item = {"ListenerId": listener, "ListenerPort": port, "ListenerProtocol": "HTTP" if kind == "alb" else "TCP",
            "ServerGroupInfos": infos}
    body = {"ListenerHealthStatus": [item], "NextToken": ""}
    if kind == "alb":
        body["RuleHealthStatus"] = []
    else:
        body.update(TotalCount=1, MaxResults=req.int("MaxResults", 20, minimum=1, maximum=100))
    return body


class _as_serving:
    """An instance seen as InService (an NLB keeps checking a backend of weight 0)."""

    def __init__(self, instance):
        self.__dict__.update(instance.__dict__)
        self.__dict__["lifecycle_state"] = "InService"


for _product in ("alb", "nlb"):
    api(_product, "ListServerGroups")(list_server_groups)
    api(_product, "ListListeners")(list_listeners)
    api(_product, "ListServerGroupServers")(list_server_group_servers)
    api(_product, "GetListenerHealthStatus")(get_listener_health_status)
