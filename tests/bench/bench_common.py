"""Shared pieces of the `make bench` measurements: emulator worlds, API clients, statistics, paths."""
import os
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent.parent
sys.path.insert(0, str(ROOT / "tests"))
COLLECTIONS = ROOT / "build" / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from emulator_harness import EmulatorClient, EmulatorProcess, read_world  # noqa: E402,F401

BIN = Path(sys.executable).parent
PACKAGE_TEMPLATE = "ACS-ESS-RollingUpdateByConfigureOOSPackage"
IMAGE_TEMPLATE = "ACS-ESS-RollingUpdateByReplaceSystemDiskInScalingGroup"
OLD_IMAGE = "m-bp1oldimage0000001"
NEW_IMAGE = "m-bp1newimage0000002"


def group_id(prefix, number):
    """Scaling group ids in the emulator's shape (asg-bp1 + 17 lowercase alnum)."""
    return "asg-bp1%s%0*d" % (prefix, 17 - len(prefix), number)


def world_with_groups(group_ids, instances_per_group, faults=None):
    """The default world's accounts, images and packages, with these scaling groups instead of its own."""
    world = read_world(None)
    world["scaling_groups"] = [{
        "id": gid,
        "name": gid,
        "max_size": instances_per_group,
        "scaling_configuration": {"id": "asc" + gid[3:], "image_id": OLD_IMAGE},
        "instances": instances_per_group,
    } for gid in group_ids]
    world["faults"] = faults or {}
    return world


def write_world(world, path):
    import json
    Path(path).write_text(json.dumps(world))
    return path


def connection(emulator, retries=None):
    """The collection's own Connection (credentials, endpoints, retry policy) aimed at the emulator."""
    from ansible_collections.alicloud.rollout.plugins.module_utils.client import Connection
    params = {"validate_certs": True}
    if retries is not None:
        params["retries"] = retries
    return Connection(params, environ=emulator.admin_env())


def percentile(values, fraction):
    """Nearest-rank percentile (p95 of 20 samples is the 19th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return None
    import math
    rank = max(1, int(math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def median(values):
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2.0


def subprocess_env(emulator=None, extra=None):
    """Environment for ansible/python child processes: the venv first on PATH, the collection path set."""
    env = dict(os.environ)
    env["PATH"] = "%s:%s" % (BIN, env.get("PATH", ""))
    env["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)
    env.setdefault("ANSIBLE_LOCAL_TEMP", "/tmp/alicloud-rollout-bench-ansible")
    env["ANSIBLE_HOST_KEY_CHECKING"] = "False"
    env["ANSIBLE_RETRY_FILES_ENABLED"] = "False"
    env["ANSIBLE_NOCOLOR"] = "1"
    if emulator is not None:
        env.update(emulator.admin_env())
    env.update(extra or {})
    return env
