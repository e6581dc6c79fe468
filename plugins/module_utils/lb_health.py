# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backend health of a scaling group's instances in every load balancer the group has attached.

What is attached comes from ESS 2022-02-22 DescribeScalingGroups: LoadBalancerIds (CLB default server group),
VServerGroups (CLB), AlbServerGroups and ServerGroups (ALB / NLB). Health is read with CLB DescribeHealthStatus,
which lists every backend, and ALB / NLB GetListenerHealthStatus, which lists only the non-normal servers: an
instance missing there is healthy only when ListServerGroupServers shows it registered, so both are read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from .paging import token_pages

# The ALB and NLB reads have the same names and shapes; the RAM scanner resolves the action through this dict.
SERVER_GROUP_READS = {"server_groups": "ListServerGroups", "listeners": "ListListeners",
                      "servers": "ListServerGroupServers", "health": "GetListenerHealthStatus"}
LB_PRODUCTS = {"clb": "slb", "alb": "alb", "nlb": "nlb"}
CLB_NORMAL = "normal"


class NothingAttached(Exception):
    """The group has no load balancer (or none of those asked for)."""


def attachments(group, only=None):
    """[{type, load_balancer_id, server_group_id, port}] from a DescribeScalingGroups item (2022-02-22 names).

    ``only`` keeps those whose load balancer or server group id is listed."""
    found = []
    for lb_id in group.get("LoadBalancerIds") or []:
        found.append({"type": "clb", "load_balancer_id": lb_id, "server_group_id": None, "port": None})
    for entry in group.get("VServerGroups") or []:
        for attribute in entry.get("VServerGroupAttributes") or []:
            found.append({"type": "clb", "load_balancer_id": entry.get("LoadBalancerId"),
                          "server_group_id": attribute.get("VServerGroupId"), "port": attribute.get("Port")})
    for entry in group.get("AlbServerGroups") or []:
        found.append({"type": "alb", "load_balancer_id": None, "server_group_id": entry.get("AlbServerGroupId"),
                      "port": entry.get("Port")})
    for entry in group.get("ServerGroups") or []:
        kind = (entry.get("Type") or "").lower()
        if kind in ("alb", "nlb"):
            found.append({"type": kind, "load_balancer_id": None, "server_group_id": entry.get("ServerGroupId"),
                          "port": entry.get("Port")})
    if only:
        wanted = set(only)
        found = [a for a in found if a["load_balancer_id"] in wanted or a["server_group_id"] in wanted]
    # The same server group can be listed twice (AlbServerGroups and ServerGroups): judge it once.
    unique, seen = [], set()
    for item in found:
        key = (item["type"], item["load_balancer_id"], item["server_group_id"])
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def describe(attachment):
    if attachment["type"] == "clb":
        if attachment["server_group_id"]:
            return "CLB %s VServer group %s" % (attachment["load_balancer_id"], attachment["server_group_id"])
        return "CLB %s" % attachment["load_balancer_id"]
    return "%s server group %s" % (attachment["type"].upper(), attachment["server_group_id"])


def _server_group_read(alb, nlb, what, params):
    action = SERVER_GROUP_READS[what]
    if alb is not None:
        return alb.rpc(action, params)
    return nlb.rpc(action, params)


def _clients(kind, client):
    return (client, None) if kind == "alb" else (None, client)


def _clb_states(slb, attachment, instance_ids):
    body = slb.rpc("DescribeHealthStatus", {"LoadBalancerId": attachment["load_balancer_id"]})
    backends = (body.get("BackendServers") or {}).get("BackendServer") or []
    states = {}
    for server in backends:
        if server.get("ServerId") not in instance_ids:
            continue
        status = server.get("ServerHealthStatus")
        states.setdefault(server["ServerId"], []).append(
            {"listener_port": server.get("ListenerPort"), "status": status,
             "healthy": status == CLB_NORMAL})
    return states


def _listeners_of_server_group(kind, client, server_group_id):
    alb, nlb = _clients(kind, client)
    groups = token_pages(lambda token, size: _server_group_read(
        alb, nlb, "server_groups", {"ServerGroupIds": [server_group_id], "NextToken": token, "MaxResults": size}),
        "ServerGroups", max_results=100)
    lb_ids = sorted({lb for g in groups for lb in (g.get("RelatedLoadBalancerIds") or [])})
    if not lb_ids:
        return []
    listeners = token_pages(lambda token, size: _server_group_read(
        alb, nlb, "listeners", {"LoadBalancerIds": lb_ids, "NextToken": token, "MaxResults": size}),
        "Listeners", max_results=100)
    return [item["ListenerId"] for item in listeners if item.get("ListenerId")]


def _server_group_states(kind, client, attachment, instance_ids):
    alb, nlb = _clients(kind, client)
    server_group_id = attachment["server_group_id"]
    servers = token_pages(lambda token, size: _server_group_read(
        alb, nlb, "servers", {"ServerGroupId": server_group_id, "NextToken": token, "MaxResults": size}),
        "Servers", max_results=100)
    registered = dict((s.get("ServerId"), s) for s in servers if s.get("ServerId") in instance_ids)
    serving = []  # (listener id, port, {server id: non-normal server})
    for listener_id in _listeners_of_server_group(kind, client, server_group_id):
        def fetch(token, size, listener_id=listener_id):
            params = {"ListenerId": listener_id, "IncludeRule": True if kind == "alb" else None,
                      "NextToken": token, "MaxResults": size}
            return _server_group_read(alb, nlb, "health", params)
        pages = token_pages(fetch, "ListenerHealthStatus", max_results=30)
        for item in pages:
            infos = [i for i in item.get("ServerGroupInfos") or [] if i.get("ServerGroupId") == server_group_id]
            if infos:
                non_normal = dict((s.get("ServerId"), s) for info in infos for s in info.get("NonNormalServers") or [])
                serving.append((listener_id, item.get("ListenerPort"), non_normal))
    states = {}
    for instance_id in instance_ids:
        server = registered.get(instance_id)
        if server is None:
            states[instance_id] = [{"listener_port": None, "status": "NotRegistered", "healthy": False}]
            continue
        if server.get("Status") not in (None, "Available"):
            states[instance_id] = [{"listener_port": None, "status": server.get("Status"), "healthy": False}]
            continue
        if server.get("Weight") == 0:
            states[instance_id] = [{"listener_port": None, "status": "Weight0", "healthy": False}]
            continue
        if not serving:
            states[instance_id] = [{"listener_port": None, "status": "NoListener", "healthy": False}]
            continue
        entries = []
        for _listener_id, port, non_normal in serving:
            bad = non_normal.get(instance_id)
            status = bad.get("Status") if bad else "Normal"
            reason = ((bad or {}).get("Reason") or {}).get("ReasonCode")
            entries.append({"listener_port": port, "status": status, "healthy": bad is None, "reason": reason})
        states[instance_id] = entries
    return states


def read_health(connection_client, group, instance_ids, only=None):
    """{instance id: {healthy, reasons, load_balancers: [{load_balancer, healthy, listeners: [...]}]}}.

    ``connection_client(product)`` returns an ApiClient. Raises NothingAttached when the group has none."""
    targets = attachments(group, only)
    if not targets:
        raise NothingAttached("scaling group %s has no load balancer attached%s" % (
            group.get("ScalingGroupId"), " among %s" % ", ".join(only) if only else ""))
    instance_ids = list(instance_ids)
    wanted = set(instance_ids)
    result = dict((i, {"healthy": True, "reasons": [], "load_balancers": []}) for i in instance_ids)
    for target in targets:
        client = connection_client(LB_PRODUCTS[target["type"]])
        if target["type"] == "clb":
            states = _clb_states(client, target, wanted)
        else:
            states = _server_group_states(target["type"], client, target, wanted)
        for instance_id in instance_ids:
            entries = states.get(instance_id) or [{"listener_port": None, "status": "NotRegistered",
                                                   "healthy": False}]
            healthy = all(e["healthy"] for e in entries)
            record = result[instance_id]
            record["load_balancers"].append({"load_balancer": describe(target), "healthy": healthy,
                                             "listeners": entries})
            if not healthy:
                record["healthy"] = False
                record["reasons"].append("%s: %s" % (describe(target), ", ".join(
                    "%s%s" % (e["status"], " on port %s" % e["listener_port"] if e["listener_port"] else "")
                    for e in entries if not e["healthy"])))
    return result


def wait_healthy(read, instance_ids, deadline, delay, clock=time.monotonic, sleep=None, stop=None):
    """Poll ``read(pending ids)`` (one read for the whole batch each round) until every instance is healthy or
    the deadline passes. Returns {instance id: {healthy, reason, attempts, seconds, detail}}; an instance that
    turned healthy keeps its result (it is not read again)."""
    started = clock()
    stop_at = started + deadline
    sleep = sleep or threading.Event().wait
    results = {}
    pending = list(instance_ids)
    attempts = 0
    while pending:
        attempts += 1
        states = read(pending)
        now = clock()
        for instance_id in list(pending):
            state = states.get(instance_id) or {"healthy": False, "reasons": ["no answer"]}
            results[instance_id] = {"healthy": state["healthy"], "reason": "; ".join(state["reasons"]) or None,
                                    "attempts": attempts, "seconds": round(now - started, 3),
                                    "detail": state.get("load_balancers", [])}
            if state["healthy"]:
                pending.remove(instance_id)
        remaining = stop_at - clock()
        if not pending or remaining <= 0 or (stop is not None and stop.is_set()):
            break
        sleep(min(delay, remaining))
    return results
