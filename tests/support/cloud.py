"""The default world (tests/emulator/worlds/default.yml) as tests see it: ids, world builders, state readers."""
import copy

from emulator_harness import read_world

GROUP = "asg-bp1demo0000000001"
CONFIG = "asc-bp1demo0000000001"
OTHER_GROUP = "asg-bp1other000000002"
OLD_IMAGE = "m-bp1oldimage0000001"
NEW_IMAGE = "m-bp1newimage0000002"
BAD_IMAGE = "m-bp1badimage0000003"
ADMIN_KEY = "LTAI5tEmulatorAdmin0001"
ROLE_ARN = "acs:ram::1234567890123456:role/rollout-operator"
ROLLOUT_TEMPLATES = ("ACS-ESS-RollingUpdateByReplaceSystemDiskInScalingGroup",
                     "ACS-ESS-RollingUpdateByRunCommandInScalingGroup",
                     "ACS-ESS-RollingUpdateByConfigureOOSPackage")


def world(extra_accounts=(), extra_groups=(), **group_changes):
    """The default world, its first group changed by ``group_changes``, plus accounts and groups."""
    doc = read_world(None)
    doc["scaling_groups"][0].update(copy.deepcopy(group_changes))
    doc["scaling_groups"].extend(copy.deepcopy(list(extra_groups)))
    doc["accounts"] = doc["accounts"] + list(extra_accounts)
    return doc


def world_with(**group_changes):
    """The default world with its first group changed."""
    return world(**group_changes)


def second_group(group_id=OTHER_GROUP, config_id="asc-bp1other000000002", **changes):
    """A copy of the default world's group under other ids (old image), for two-group scenarios."""
    group = copy.deepcopy(read_world(None)["scaling_groups"][0])
    group.update(id=group_id, scaling_configuration={"id": config_id, "image_id": OLD_IMAGE})
    group.update(copy.deepcopy(changes))
    return group


def group_state(emulator, group_id=GROUP):
    return next(g for g in emulator.state()["scaling_groups"] if g["id"] == group_id)


def execution_state(emulator, execution_id):
    return next(e for e in emulator.state()["executions"] if e["id"] == execution_id)


def rollouts(emulator, invoke_type=None):
    """Top-level rolling-update executions in the emulator's state (optionally of one invokeType)."""
    found = [e for e in emulator.state()["executions"]
             if e.get("template_name") in ROLLOUT_TEMPLATES and not e.get("parent_id")]
    if invoke_type:
        found = [e for e in found if (e.get("parameters") or {}).get("invokeType") == invoke_type]
    return found


def mutating_calls(emulator, since=0):
    return [c for c in emulator.calls(since=since) if c.get("mutating")]


def started(emulator, key=ADMIN_KEY):
    """Successful StartExecution calls made with one access key."""
    return [c for c in emulator.calls(action="StartExecution") if c["access_key_id"] == key and c["status"] == 200]
