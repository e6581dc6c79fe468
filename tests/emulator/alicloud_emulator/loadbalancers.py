"""Load balancers attached to scaling groups (CLB, ALB, NLB): what a backend's health looks like from the model.

World key `load_balancers` on a scaling group (tests/emulator/README.md). The backends of an attachment are the
group's instances; their state comes from the model: Running and InService/Protected serve traffic, Standby has
weight 0, anything else is down. A serving instance is healthy once its last state change is older than the
attachment's warm-up and world.instance_health() says healthy (unhealthy images, failing scripts, packages).
"""
import hashlib

from .api import ApiError

LB_TYPES = ("clb", "alb", "nlb")
ATTACHMENT_KEYS = {"type", "id", "server_group_id", "listener_ports", "port", "weight", "warmup_seconds",
                   "health_check", "unregistered", "attach_as"}
ATTACH_AS = ("server_groups", "alb_server_groups")
DEFAULT_WARMUP_SECONDS = 30
SERVING_STATES = ("InService", "Protected")
# Lifecycle states in which ESS has the instance registered with the group's load balancers. [INFERRED] ESS adds
# an instance after it is created (Pending) and removes it before release (Removing).
REGISTERED_STATES = ("InService", "Protected", "Standby", "Stopped")


class Attachment:
    def __init__(self, **fields):
        self.__dict__.update(fields)


def _short_id(*parts):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:17]


def listener_id(attachment, port):
    return "lsn-" + _short_id(attachment.id, str(port))


def parse(where, group_id, doc, world_error):
    """The attachments of one group from its world entry; raises world_error on bad input."""
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise world_error("%s.load_balancers must be a list of {type, id, ...}" % where)
    attachments = []
    for index, entry in enumerate(doc):
        here = "%s.load_balancers[%d]" % (where, index)
        if not isinstance(entry, dict):
            raise world_error("%s must be a mapping" % here)
        unknown = sorted(set(entry) - ATTACHMENT_KEYS)
        if unknown:
            raise world_error("%s: unknown key(s) %s (allowed: %s)" % (here, ", ".join(unknown),
                                                                      ", ".join(sorted(ATTACHMENT_KEYS))))
        kind = entry.get("type")
        if kind not in LB_TYPES:
            raise world_error("%s.type must be one of %s" % (here, ", ".join(LB_TYPES)))
        if not entry.get("id"):
            raise world_error("%s: id (the load balancer id) is required" % here)
        server_group_id = entry.get("server_group_id") or None
        if kind in ("alb", "nlb") and not server_group_id:
            raise world_error("%s: an %s attachment needs server_group_id" % (here, kind.upper()))
        attach_as = entry.get("attach_as", "server_groups")
        if attach_as not in ATTACH_AS or (attach_as == "alb_server_groups" and kind != "alb"):
            raise world_error("%s.attach_as must be server_groups, or alb_server_groups for an ALB" % here)
        ports = entry.get("listener_ports", [80])
        if not isinstance(ports, list) or not ports or not all(isinstance(p, int) and 0 < p < 65536 for p in ports):
            raise world_error("%s.listener_ports must be a non-empty list of ports" % here)
        warmup = entry.get("warmup_seconds", DEFAULT_WARMUP_SECONDS)
        if isinstance(warmup, bool) or not isinstance(warmup, (int, float)) or warmup < 0:
            raise world_error("%s.warmup_seconds must be a number >= 0" % here)
        unregistered = entry.get("unregistered") or []
        if not isinstance(unregistered, list):
            raise world_error("%s.unregistered must be a list of instance ids" % here)
        attachments.append(Attachment(
            type=kind, id=str(entry["id"]), server_group_id=server_group_id, group_id=group_id,
            listener_ports=list(ports), port=int(entry.get("port", 80)), weight=int(entry.get("weight", 50)),
            warmup_seconds=float(warmup), health_check=bool(entry.get("health_check", True)),
            unregistered=[str(i) for i in unregistered], attach_as=attach_as))
    return attachments


def ess_fields(attachments, legacy):
    """The ESS DescribeScalingGroups fields that list what the group has attached (ess20220222 model names)."""
    clb_ids, vserver, alb_groups, server_groups = [], {}, [], []
    for att in attachments:
        if att.type == "clb" and not att.server_group_id:
            clb_ids.append(att.id)
        elif att.type == "clb":
            vserver.setdefault(att.id, []).append({"VServerGroupId": att.server_group_id, "Port": att.port,
                                                   "Weight": att.weight})
        elif att.attach_as == "alb_server_groups":
            alb_groups.append({"AlbServerGroupId": att.server_group_id, "Port": att.port, "Weight": att.weight})
        else:
            server_groups.append({"ServerGroupId": att.server_group_id, "Type": att.type.upper(), "Port": att.port,
                                  "Weight": att.weight})
    fields = {"LoadBalancerIds": {"LoadBalancerId": clb_ids} if legacy else clb_ids}
    if not legacy:
        fields.update(
            VServerGroups=[{"LoadBalancerId": lb, "VServerGroupAttributes": attrs} for lb, attrs in vserver.items()],
            AlbServerGroups=alb_groups, ServerGroups=server_groups,
            LoadBalancerConfigs=[{"LoadBalancerId": lb, "Weight": 50} for lb in clb_ids])
    return fields


def all_attachments(world, kind):
    return [att for group in world.groups.values() for att in getattr(group, "load_balancers", [])
            if att.type == kind]


def find_load_balancer(world, kind, load_balancer_id, region):
    found = [att for att in all_attachments(world, kind)
             if att.id == load_balancer_id and world.groups[att.group_id].region == region]
    if not found:
        raise ApiError("InvalidLoadBalancerId.NotFound",
                       "The specified load balancer %s does not exist." % load_balancer_id, 404)
    return found


def find_server_group(world, kind, server_group_id, region):
    found = [att for att in all_attachments(world, kind)
             if att.server_group_id == server_group_id and world.groups[att.group_id].region == region]
    if not found:
        # Code from the ALB/NLB error docs (ResourceNotFound.ServerGroup).
        raise ApiError("ResourceNotFound.ServerGroup",
                       "The specified resource %s is not found." % server_group_id, 404)
    return found


def backends(world, att):
    """(instance, state) for every backend registered with the attachment; state is one of normal, initial,
    unhealthy, unused (weight 0) or unavailable (health check off)."""
    group = world.groups[att.group_id]
    now = world.now()
    found = []
    for instance_id in group.instance_ids:
        instance = world.instances.get(instance_id)
        if instance is None or instance.id in att.unregistered or instance.lifecycle_state not in REGISTERED_STATES:
            continue
        found.append((instance, backend_state(world, att, instance, now)))
    return found


def backend_state(world, att, instance, now):
    if instance.lifecycle_state == "Standby":
        return "unused"  # ESS sets the weight of a Standby instance to 0
    if not att.health_check:
        return "unavailable"
    if instance.status != "Running" or instance.lifecycle_state not in SERVING_STATES:
        return "unhealthy"
    if now - instance.state_changed < att.warmup_seconds:
        return "initial"
    return "normal" if world.instance_health(instance.id)[0] == 200 else "unhealthy"
