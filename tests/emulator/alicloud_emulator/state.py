"""The cloud model: regions, images, OOS packages, scaling groups, instances, invocations, executions.

`World(emulator)` is created by `Emulator.load_world`; `load(doc)` reads the world file (keys documented in
tests/emulator/README.md). All mutation happens with `emulator.lock` held (handlers and scheduler callbacks).
"""
import base64
import concurrent.futures
import hashlib
import json
import os
import random
import shutil
import string
import subprocess
import tempfile
import uuid
import weakref

from . import loadbalancers
from .api import ApiError
from .clock import iso

# Keys of the world file read by the protocol layer (app.py); the model ignores them.
PROTOCOL_KEYS = {"speed", "run_commands", "accounts", "roles", "faults"}
MODEL_KEYS = {"regions", "images", "oos_packages", "scaling_groups", "launch_templates", "fidelity"}
# World key `fidelity`: switch each INFERRED behaviour to a plausible alternative, so tests show the collection
# does not depend on it (tests/emulator/README.md, "Fidelity"). The first value of each is the default.
FIDELITY_CHOICES = {
    "counters": ("emulator", "ros", "absent"),         # Counters keys: ours, ROS's (TotalTasks...), none at all
    "waiting_status": ("inferred", "absent", "other"),  # WaitingStatus: BatchPause/FailurePause, empty, other names
    "loop_item": ("inferred", "id"),                    # LoopItem of an invoke loop: JSON object text, or the bare id
}
FIDELITY_DEFAULTS = {"counters": "emulator", "waiting_status": "inferred", "loop_item": "inferred",
                     "instance_page_size": "all"}
GROUP_KEYS = {"id", "region", "name", "state", "min_size", "max_size", "desired_capacity", "scaling_configuration",
              "launch_template", "suspended_processes", "instances", "zone_id", "scaling_policy", "multi_az_policy",
              "group_type", "load_balancers"}
CONFIGURATION_KEYS = {"id", "image_id", "name", "instance_type", "key_pair_name", "user_data"}
LAUNCH_TEMPLATE_KEYS = {"id", "version"}
TEMPLATE_KEYS = {"id", "versions", "default_version"}
TEMPLATE_VERSION_KEYS = {"image_id", "instance_type"}
# Values and API defaults of the group fields that decide instance refresh eligibility (ESS 2022-02-22 SDK docs;
# the SDK names no default for ScalingPolicy: `release` is assumed, INFERRED).
SCALING_POLICIES = ("recycle", "release", "forcerelease", "forcerecycle")
MULTI_AZ_POLICIES = ("PRIORITY", "COST_OPTIMIZED", "BALANCE", "COMPOSABLE")
GROUP_TYPES = ("ECS", "ECI")
GROUP_DEFAULTS = {"scaling_policy": "release", "multi_az_policy": "PRIORITY", "group_type": "ECS"}
INSTANCE_KEYS = {"id", "lifecycle_state", "image_id", "packages", "protected", "private_ip", "status",
                 "creation_type", "tags"}
IMAGE_KEYS = {"id", "name", "os_type", "owner_alias", "status", "is_public"}
# DescribeImages' ImageOwnerAlias values and image statuses (ECS SDK model DescribeImagesRequest).
IMAGE_OWNER_ALIASES = ("system", "self", "others", "marketplace")
IMAGE_STATUSES = ("Creating", "Waiting", "Available", "UnAvailable", "CreateFailed", "Deprecated")

PROCESSES = ("ScaleIn", "ScaleOut", "HealthCheck", "AlarmNotification", "ScheduledAction")
LIFECYCLE_STATES = ("InService", "Pending", "Pending:Wait", "Protected", "Standby", "Stopped", "Removing",
                    "Removing:Wait")
SCRIPT_OUTPUT_LIMIT = 24 * 1024  # ECS keeps at most 24 KB of command output
# Cloud Assistant command content: at most 18 KB once Base64-encoded (ECS/ROS docs); the code is INFERRED.
COMMAND_CONTENT_LIMIT = 18 * 1024
COMMAND_TOO_LARGE_CODE = "InvalidCmdContent.ExceedLimit"


def check_command_content(content):
    """Raise the ECS error for command content over the limit (measured Base64-encoded, as ECS does)."""
    size = len(base64.b64encode((content or "").encode("utf-8")))
    if size > COMMAND_CONTENT_LIMIT:
        raise ApiError(COMMAND_TOO_LARGE_CODE, "The command content is %d bytes Base64-encoded; the limit is %d." % (
            size, COMMAND_CONTENT_LIMIT))

# Real bash runs happen here, never on the scheduler thread; bounded so a fleet cannot fork-bomb the host.
_SCRIPT_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="alicloud-emulator-script")


class WorldError(ValueError):
    """The world document is invalid (unknown key, bad value)."""


def _random_suffix(rng, length):
    alphabet = string.ascii_lowercase + string.digits
    return "".join(rng.choice(alphabet) for _ in range(length))


def _check_keys(where, doc, allowed):
    if not isinstance(doc, dict):
        raise WorldError("%s must be a mapping, got %r" % (where, doc))
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise WorldError("%s: unknown key(s) %s (allowed: %s)" % (where, ", ".join(unknown), ", ".join(sorted(allowed))))


def _count(where, key, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WorldError("%s.%s must be a whole number >= 0, got %r" % (where, key, value))
    return value


class Group:
    def __init__(self, **fields):
        self.__dict__.update(fields)


class Instance:
    # A change of these restarts the load balancers' warm-up of the instance (loadbalancers.py).
    _SERVING_FIELDS = ("lifecycle_state", "status")

    def __init__(self, **fields):
        self.clock = None  # World.now, to stamp state changes
        self.state_changed = fields.get("created", 0)
        self.tags = {}
        self.packages = {}
        self.last_exit_code = None
        self.last_output = None
        self.system_disk_id = None
        self.launch_template = None  # {id, version} for launch-template groups
        self.status = "Running"
        self.__dict__.update(fields)

    def __setattr__(self, name, value):
        if name in self._SERVING_FIELDS and self.__dict__.get("clock") and self.__dict__.get(name) != value:
            object.__setattr__(self, "state_changed", self.clock())
        object.__setattr__(self, name, value)

    @property
    def protected(self):
        return self.lifecycle_state == "Protected"


def _load_fidelity(doc):
    doc = doc or {}
    if not isinstance(doc, dict):
        raise WorldError("fidelity must be a mapping")
    _check_keys("fidelity", doc, set(FIDELITY_DEFAULTS))
    fidelity = dict(FIDELITY_DEFAULTS)
    for name, choices in FIDELITY_CHOICES.items():
        value = doc.get(name, fidelity[name])
        if value not in choices:
            raise WorldError("fidelity.%s must be one of %s" % (name, ", ".join(choices)))
        fidelity[name] = value
    size = doc.get("instance_page_size", "all")
    if size != "all" and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise WorldError("fidelity.instance_page_size must be a positive number or all")
    fidelity["instance_page_size"] = size
    return fidelity


class Invocation:
    """An ECS RunCommand invocation on one or more instances."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


class World:
    def __init__(self, emulator):
        self.emulator = emulator
        self.regions = []
        self.images = {}
        self.oos_packages = {}
        self.groups = {}
        self.configurations = {}
        self.instances = {}
        self.activities = []
        self.invocations = {}
        self.refreshes = {}
        self.launch_templates = {}   # id -> {"id", "default_version", "versions": {number: {image_id, instance_type}}}
        self.fidelity = dict(FIDELITY_DEFAULTS)
        self.idempotency = {}
        self._rng = random.Random(0)
        self._script_root = None
        from .engine import Engine  # late import: engine imports this module
        self.engine = Engine(self)

    # ----- helpers used everywhere -----
    @property
    def clock(self):
        return self.emulator.clock

    def now(self):
        return self.emulator.clock.now()

    def now_iso(self):
        return iso(self.now())

    @property
    def faults(self):
        return getattr(self.emulator, "faults", None) or {}

    def new_id(self, prefix, length=20):
        return prefix + _random_suffix(self._rng, length)

    def schedule(self, sim_seconds, fn):
        """Run `fn` after `sim_seconds` of simulated time, with the emulator lock held."""
        lock = self.emulator.lock

        def locked():
            with lock:
                if self.emulator.world is not self:  # the world was replaced meanwhile
                    return
                fn()
        return self.clock.call_later(sim_seconds, locked)

    def script_dir(self, instance_id):
        if self._script_root is None:
            self._script_root = tempfile.mkdtemp(prefix="alicloud-emulator-")
            # Removed when this world is dropped (a new world is loaded) or at exit.
            weakref.finalize(self, shutil.rmtree, self._script_root, True)
        path = os.path.join(self._script_root, instance_id)
        os.makedirs(path, exist_ok=True)
        return path

    # ----- loading -----
    def load(self, doc):
        doc = doc or {}
        _check_keys("world", doc, PROTOCOL_KEYS | MODEL_KEYS)
        regions = doc.get("regions") or ["cn-hangzhou"]
        if not isinstance(regions, list) or not all(isinstance(r, str) and r for r in regions):
            raise WorldError("regions must be a list of region ids, e.g. [cn-hangzhou]")
        self.regions = list(regions)
        images = doc.get("images") or []
        if not isinstance(images, list):
            raise WorldError("images must be a list of {id, name} or image ids")
        groups = doc.get("scaling_groups") or []
        if not isinstance(groups, list):
            raise WorldError("scaling_groups must be a list")
        for entry in images:
            if isinstance(entry, str):
                entry = {"id": entry}
            _check_keys("images[]", entry, IMAGE_KEYS)
            if not entry.get("id"):
                raise WorldError("images[]: every image needs an id")
            owner = entry.get("owner_alias", "self")
            status = entry.get("status", "Available")
            if owner not in IMAGE_OWNER_ALIASES or status not in IMAGE_STATUSES:
                raise WorldError("images[] %s: owner_alias must be one of %s and status one of %s" % (
                    entry["id"], ", ".join(IMAGE_OWNER_ALIASES), ", ".join(IMAGE_STATUSES)))
            self.images[entry["id"]] = {"id": entry["id"], "name": entry.get("name") or entry["id"],
                                        "os_type": entry.get("os_type", "linux"), "owner_alias": owner,
                                        "status": status, "is_public": bool(entry.get("is_public", False))}
        packages = doc.get("oos_packages") or {}
        if not isinstance(packages, dict):
            raise WorldError("oos_packages must map a package name to a list of versions")
        for name, versions in packages.items():
            if not isinstance(versions, list) or not versions:
                raise WorldError("oos_packages.%s must be a non-empty list of versions" % name)
            self.oos_packages[str(name)] = [str(v) for v in versions]
        self.fidelity = _load_fidelity(doc.get("fidelity"))
        templates = doc.get("launch_templates") or []
        if not isinstance(templates, list):
            raise WorldError("launch_templates must be a list of {id, versions, default_version?}")
        for index, template_doc in enumerate(templates):
            self._load_launch_template(index, template_doc)
        for index, group_doc in enumerate(groups):
            self._load_group(index, group_doc)

    def _load_launch_template(self, index, doc):
        where = "launch_templates[%d]" % index
        _check_keys(where, doc, TEMPLATE_KEYS)
        if not doc.get("id"):
            raise WorldError("%s: id is required" % where)
        if doc["id"] in self.launch_templates:
            raise WorldError("%s: duplicate launch template id %s" % (where, doc["id"]))
        raw_versions = doc.get("versions")
        if not isinstance(raw_versions, dict) or not raw_versions:
            raise WorldError("%s.versions must map version numbers to an image id or {image_id, instance_type}" % where)
        versions = {}
        for number, entry in raw_versions.items():
            number = str(number)
            if not number.isdigit() or int(number) < 1:
                raise WorldError("%s.versions: %r is not a version number (1, 2, ...)" % (where, number))
            if isinstance(entry, str):
                entry = {"image_id": entry}
            _check_keys("%s.versions.%s" % (where, number), entry, TEMPLATE_VERSION_KEYS)
            if not entry.get("image_id"):
                raise WorldError("%s.versions.%s needs an image_id" % (where, number))
            self._require_image("%s.versions.%s" % (where, number), entry["image_id"])
            versions[str(int(number))] = {"image_id": entry["image_id"], "instance_type": entry.get("instance_type")}
        default = str(doc.get("default_version", min(versions, key=int)))
        if default not in versions:
            raise WorldError("%s.default_version %s is not in versions" % (where, default))
        self.launch_templates[doc["id"]] = {"id": doc["id"], "default_version": default, "versions": versions}

    def resolve_template_version(self, template_id, version):
        """(version number, {image_id, instance_type}) of a declared launch template; None when the template is
        not declared in the world (then it is only carried). Unknown versions raise the API error."""
        template = self.launch_templates.get(template_id)
        if template is None:
            return None
        version = str(version or "Default")
        if version == "Default":
            number = template["default_version"]
        elif version == "Latest":
            number = max(template["versions"], key=int)
        else:
            number = version
        if number not in template["versions"]:
            # [INFERRED] code for a version the template does not have.
            raise ApiError("InvalidLaunchTemplateVersion.NotFound",
                           "The launch template %s has no version %s." % (template_id, version), 404)
        return number, template["versions"][number]

    def _load_group(self, index, doc):
        where = "scaling_groups[%d]" % index
        _check_keys(where, doc, GROUP_KEYS)
        for required in ("id", "scaling_configuration"):
            if not doc.get(required):
                raise WorldError("%s: %s is required" % (where, required))
        group_id = doc["id"]
        if group_id in self.groups:
            raise WorldError("%s: duplicate scaling group id %s" % (where, group_id))
        region = doc.get("region") or self.regions[0]
        if region not in self.regions:
            raise WorldError("%s: region %s is not in regions" % (where, region))
        state = doc.get("state", "Active")
        if state not in ("Active", "Inactive"):
            raise WorldError("%s: state must be Active or Inactive" % where)
        suspended = list(doc.get("suspended_processes") or [])
        for process in suspended:
            if process not in PROCESSES:
                raise WorldError("%s: unknown process %s (allowed: %s)" % (where, process, ", ".join(PROCESSES)))
        config_doc = doc["scaling_configuration"]
        _check_keys(where + ".scaling_configuration", config_doc, CONFIGURATION_KEYS)
        if not config_doc.get("id") or not config_doc.get("image_id"):
            raise WorldError("%s.scaling_configuration needs id and image_id" % where)
        self._require_image(where + ".scaling_configuration", config_doc["image_id"])
        created = self.now() - 86400
        config = {
            "id": config_doc["id"], "name": config_doc.get("name") or "config-" + group_id[-6:],
            "group_id": group_id, "image_id": config_doc["image_id"],
            "instance_type": config_doc.get("instance_type", "ecs.g7.large"),
            "key_pair_name": config_doc.get("key_pair_name", ""), "user_data": config_doc.get("user_data", ""),
            "created": created,
        }
        self.configurations[config["id"]] = config
        launch_template = doc.get("launch_template")
        if launch_template is not None:
            _check_keys(where + ".launch_template", launch_template, LAUNCH_TEMPLATE_KEYS)
            if not launch_template.get("id"):
                raise WorldError("%s.launch_template needs an id" % where)
            launch_template = {"id": launch_template["id"], "version": str(launch_template.get("version", "Default"))}
            try:
                resolved = self.resolve_template_version(launch_template["id"], launch_template["version"])
            except ApiError as error:
                raise WorldError("%s.launch_template: %s" % (where, error.message))
            if resolved is not None:  # instances start from the template version's image
                config = dict(config, image_id=resolved[1]["image_id"],
                              instance_type=resolved[1]["instance_type"] or config["instance_type"])
        eligibility = {}
        for key, allowed in (("scaling_policy", SCALING_POLICIES), ("multi_az_policy", MULTI_AZ_POLICIES),
                             ("group_type", GROUP_TYPES)):
            value = doc.get(key, GROUP_DEFAULTS[key])
            if value not in allowed:
                raise WorldError("%s.%s must be one of %s, got %r" % (where, key, ", ".join(allowed), value))
            eligibility[key] = value
        group = Group(
            id=group_id, region=region, name=doc.get("name") or group_id, state=state,
            min_size=_count(where, "min_size", doc.get("min_size", 0)),
            max_size=_count(where, "max_size", doc.get("max_size", 0)),
            desired_capacity=doc.get("desired_capacity"), scaling_configuration_id=config["id"],
            launch_template=launch_template, suspended=[p for p in PROCESSES if p in suspended],
            instance_ids=[], created=created, zone_id=doc.get("zone_id") or region + "-h",
            launch_template_overrides=[],
            load_balancers=loadbalancers.parse(where, group_id, doc.get("load_balancers"), WorldError),
            **eligibility
        )
        self.groups[group_id] = group
        instances = doc.get("instances", 0)
        rng = random.Random(group_id)
        if isinstance(instances, int) and not isinstance(instances, bool):
            instances = [{} for _ in range(_count(where, "instances", instances))]
        if not isinstance(instances, list):
            raise WorldError("%s.instances must be a count or a list" % where)
        for position, instance_doc in enumerate(instances):
            self._load_instance("%s.instances[%d]" % (where, position), group, config, instance_doc, rng)
        count = len(group.instance_ids)
        group.max_size = max(group.max_size, count, 1)
        if group.desired_capacity is None:
            group.desired_capacity = count
        group.desired_capacity = _count(where, "desired_capacity", group.desired_capacity)

    def _require_image(self, where, image_id):
        if image_id not in self.images:
            raise WorldError("%s: image %s is not in images" % (where, image_id))

    def _load_instance(self, where, group, config, doc, rng):
        _check_keys(where, doc, INSTANCE_KEYS)
        instance_id = doc.get("id") or "i-bp1" + _random_suffix(rng, 17)
        if instance_id in self.instances:
            raise WorldError("%s: duplicate instance id %s" % (where, instance_id))
        state = doc.get("lifecycle_state", "InService")
        if state not in LIFECYCLE_STATES:
            raise WorldError("%s: unknown lifecycle_state %s" % (where, state))
        if doc.get("protected"):
            if state not in ("InService", "Protected"):
                raise WorldError("%s: protected instances must be InService" % where)
            state = "Protected"
        image_id = doc.get("image_id") or config["image_id"]
        self._require_image(where, image_id)
        packages = {}
        raw_packages = doc.get("packages") or []
        if isinstance(raw_packages, dict):
            raw_packages = ["%s@%s" % item for item in raw_packages.items()]
        for entry in raw_packages:
            name, _, version = str(entry).partition("@")
            if name not in self.oos_packages or version not in self.oos_packages[name]:
                raise WorldError("%s: package %s is not in oos_packages" % (where, entry))
            packages[name] = {"version": version, "updated": self.now()}
        status = doc.get("status", "Stopped" if state == "Stopped" else "Running")
        if status not in ("Running", "Stopped"):
            raise WorldError("%s: status must be Running or Stopped" % where)
        creation_type = doc.get("creation_type", "AutoCreated")
        if creation_type not in ("AutoCreated", "Attached"):
            raise WorldError("%s: creation_type must be AutoCreated or Attached" % where)
        tags = doc.get("tags") or {}
        if not isinstance(tags, dict):
            raise WorldError("%s: tags must be a mapping" % where)
        number = len(self.instances) + 1
        instance = Instance(
            id=instance_id, region=group.region, group_id=group.id, lifecycle_state=state, status=status,
            image_id=image_id, packages=packages, scaling_configuration_id=config["id"],
            private_ip=doc.get("private_ip") or "10.%d.%d.%d" % (number // 65536 % 256, number // 256 % 256, number % 256 or 1),
            creation_type=creation_type, created=self.now() - 3600, zone_id=group.zone_id,
            instance_type=config["instance_type"], tags={str(k): str(v) for k, v in tags.items()},
            system_disk_id="d-bp1" + _random_suffix(rng, 17),
            launch_template=self.instance_launch_template(group.launch_template),
        )
        instance.clock = self.now
        self.instances[instance_id] = instance
        group.instance_ids.append(instance_id)

    def instance_launch_template(self, launch_template):
        """The {id, version} an instance records: the version number for a declared template, else as given."""
        if not launch_template:
            return None
        resolved = self.resolve_template_version(launch_template["id"], launch_template["version"])
        return {"id": launch_template["id"], "version": resolved[0] if resolved else launch_template["version"]}

    def create_instance(self, group, image_id, configuration_id, position=None, launch_template=None,
                        instance_type=None):
        """A new AutoCreated, InService instance in `group` (instance refresh replacements).

        `launch_template` ({id, version}) defaults to the group's; `instance_type` to the configuration's."""
        config = self.configurations[configuration_id]
        number = len(self.instances) + 1 + len(self.activities)
        instance = Instance(
            id="i-bp1" + _random_suffix(self._rng, 17), region=group.region, group_id=group.id,
            lifecycle_state="InService", status="Running", image_id=image_id, packages={},
            scaling_configuration_id=configuration_id,
            private_ip="10.%d.%d.%d" % (200 + number // 65536 % 56, number // 256 % 256, number % 256 or 1),
            creation_type="AutoCreated", created=self.now(), zone_id=group.zone_id,
            instance_type=instance_type or config["instance_type"], tags={},
            system_disk_id="d-bp1" + _random_suffix(self._rng, 17),
            launch_template=self.instance_launch_template(launch_template or group.launch_template),
        )
        instance.clock = self.now
        self.instances[instance.id] = instance
        if position is None:
            group.instance_ids.append(instance.id)
        else:
            group.instance_ids.insert(position, instance.id)
        return instance

    # ----- lookups that raise the real API errors -----
    def group(self, group_id, region=None):
        group = self.groups.get(group_id)
        if group is None or (region and group.region != region):
            raise ApiError("InvalidScalingGroupId.NotFound", "The specified scaling group does not exist.", 404)
        return group

    def group_instance(self, group, instance_id):
        instance = self.instances.get(instance_id)
        if instance is None or instance.group_id != group.id:
            raise ApiError("InvalidInstanceId.NotFound", 'Instance "%s" does not exist.' % instance_id, 404)
        return instance

    def configuration(self, configuration_id):
        config = self.configurations.get(configuration_id)
        if config is None:
            raise ApiError("InvalidScalingConfigurationId.NotFound",
                           "The specified scaling configuration does not exist.", 404)
        return config

    # ----- ClientToken idempotency (same token + same params = same answer) -----
    def idempotent(self, req, compute):
        token = req.get("ClientToken")
        if not token:
            return compute()
        fingerprint = hashlib.sha256(json.dumps(
            {k: v for k, v in sorted(req.params.items()) if k != "ClientToken"}).encode()).hexdigest()
        key = (req.product, req.action, getattr(req.caller, "account_id", None) if req.caller else None, token)
        previous = self.idempotency.get(key)
        if previous is not None:
            if previous[0] != fingerprint:
                raise ApiError("IdempotentParameterMismatch",
                               "The request uses the same client token as a previous, but non-identical request.")
            return previous[1]() if callable(previous[1]) else previous[1]
        result = compute()
        self.idempotency[key] = (fingerprint, result)
        return result

    # ----- activities (ESS) -----
    def record_activity(self, group, description, cause, instance_ids=()):
        activity = {
            "ScalingActivityId": self.new_id("asa-bp1", 17), "ScalingGroupId": group.id,
            "Description": description, "Cause": cause, "StartTime": self.now_iso(), "EndTime": self.now_iso(),
            "Progress": 100, "StatusCode": "Successful", "StatusMessage": "",
            "TotalCapacity": str(len(group.instance_ids)), "AttachedCapacity": "0", "AutoCreatedCapacity": "0",
            "CreatedCapacity": 0, "DestroyedCapacity": 0, "ScalingInstanceNumber": len(instance_ids),
            "StartedCapacity": 0, "StoppedCapacity": 0, "ErrorCode": "", "ErrorMessage": "", "Detail": "",
            "TriggerSourceType": "", "TriggerSourceId": "", "InstanceRefreshTaskId": "",
            "instance_ids": list(instance_ids), "created": self.now(),
        }
        self.activities.append(activity)
        return activity["ScalingActivityId"]

    # ----- ECS RunCommand, shared by the ECS API and the template engine -----
    def run_command(self, instance_ids, content, command_type="RunShellScript", name="", working_dir="",
                    timeout=600, on_done=None):
        """Start an invocation. Real bash runs in a worker thread; completion is posted back as an event."""
        invoke_id = "t-" + _random_suffix(self._rng, 18)
        invocation = Invocation(
            invoke_id=invoke_id, command_id="c-" + _random_suffix(self._rng, 18), name=name or invoke_id,
            content=content, command_type=command_type, working_dir=working_dir, timeout=int(timeout or 60),
            created=self.now(), results={}, on_done=on_done,
        )
        self.invocations[invoke_id] = invocation
        for instance_id in instance_ids:
            invocation.results[instance_id] = {"status": "Running", "exit_code": None, "output": "",
                                               "start": self.now(), "finish": None, "error_code": "", "error_info": ""}
            self._start_script(invocation, instance_id)
        return invocation

    def _start_script(self, invocation, instance_id):
        failing = (self.faults.get("failing_instances") or {}).get(instance_id)
        if failing == "RunCommand":
            self.schedule(5, lambda: self._finish_script(invocation, instance_id, 1,
                                                          "injected failure (faults.failing_instances)\n"))
            return
        if invocation.command_type != "RunShellScript" or not getattr(self.emulator, "run_commands", True):
            self.schedule(5, lambda: self._finish_script(invocation, instance_id, 0, ""))
            return
        workdir = self.script_dir(instance_id)
        instance = self.instances.get(instance_id)
        # INSTANCE_HEALTHY: the model's health of the instance when the script starts (1 or 0), what a health
        # check command on a real instance would find out (curl localhost/health).
        env = dict(os.environ, INSTANCE_ID=instance_id,
                   IMAGE_ID=instance.image_id if instance else "",
                   PRIVATE_IP=instance.private_ip if instance else "",
                   INSTANCE_HEALTHY="1" if instance and self.instance_health(instance_id)[0] == 200 else "0")
        content, timeout = invocation.content, invocation.timeout

        def run():
            try:
                completed = subprocess.run(["bash", "-c", content], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
                code, output = completed.returncode, completed.stdout
            except subprocess.TimeoutExpired as expired:
                code, output = None, expired.stdout or b""
            except OSError as error:
                code, output = 127, str(error).encode()
            text = output.decode("utf-8", "replace")[:SCRIPT_OUTPUT_LIMIT]
            # Back onto simulated time: the result is visible after at least a few simulated seconds.
            self.schedule(2, lambda: self._finish_script(invocation, instance_id, code, text))

        _SCRIPT_POOL.submit(run)

    def _finish_script(self, invocation, instance_id, exit_code, output):
        result = invocation.results[instance_id]
        if result["status"] != "Running":
            return
        result["finish"] = self.now()
        result["output"] = output
        if exit_code is None:
            result.update(status="Timeout", exit_code=-1, error_code="InvocationTimeout",
                          error_info="the command timed out after %d seconds" % invocation.timeout)
        else:
            result.update(status="Success" if exit_code == 0 else "Failed", exit_code=exit_code)
            if exit_code != 0:
                result.update(error_code="NonZeroExitCode", error_info="the command exited with code %d" % exit_code)
        instance = self.instances.get(instance_id)
        if instance is not None:
            instance.last_exit_code = result["exit_code"]
            instance.last_output = output
        if invocation.on_done and all(r["status"] != "Running" for r in invocation.results.values()):
            invocation.on_done(invocation)

    def invocation_status(self, invocation):
        statuses = [r["status"] for r in invocation.results.values()]
        if any(s == "Running" for s in statuses):
            return "Running"
        if all(s == "Success" for s in statuses):
            return "Success"
        if any(s == "Success" for s in statuses):
            return "PartialFailed"
        return "Failed"

    @staticmethod
    def encode_output(text):
        return base64.b64encode((text or "").encode("utf-8")).decode("ascii")

    # ----- health endpoint -----
    def instance_health(self, instance_id):
        instance = self.instances.get(instance_id)
        if instance is None:
            return 404, {"instance_id": instance_id, "healthy": False, "reasons": ["unknown instance"]}
        reasons = []
        faults = self.faults
        if instance.image_id in (faults.get("unhealthy_images") or []):
            reasons.append("image %s is listed in faults.unhealthy_images" % instance.image_id)
        if instance.image_id in (faults.get("unhealthy_app_images") or []):
            reasons.append("image %s is listed in faults.unhealthy_app_images" % instance.image_id)
        bad_packages = set(faults.get("unhealthy_packages") or [])
        for name, package in sorted(instance.packages.items()):
            label = "%s@%s" % (name, package["version"])
            if label in bad_packages:
                reasons.append("package %s is listed in faults.unhealthy_packages" % label)
        if instance.last_exit_code not in (None, 0):
            reasons.append("last script exited with code %s" % instance.last_exit_code)
        body = {"instance_id": instance_id, "healthy": not reasons, "reasons": reasons,
                "image_id": instance.image_id, "packages": self.package_labels(instance),
                "status": instance.status, "lifecycle_state": instance.lifecycle_state}
        return (503 if reasons else 200), body

    @staticmethod
    def package_labels(instance):
        return ["%s@%s" % (name, package["version"]) for name, package in sorted(instance.packages.items())]

    # ----- control plane snapshot -----
    def snapshot(self):
        groups = []
        for group in self.groups.values():
            config = self.configurations[group.scaling_configuration_id]
            instances = []
            for instance_id in group.instance_ids:
                instance = self.instances[instance_id]
                instances.append({
                    "id": instance.id, "lifecycle_state": instance.lifecycle_state, "status": instance.status,
                    "health": self.instance_health(instance.id)[0] == 200,
                    "image_id": instance.image_id, "packages": self.package_labels(instance),
                    "tags": dict(instance.tags), "protected": instance.protected, "private_ip": instance.private_ip,
                    "creation_type": instance.creation_type, "instance_type": instance.instance_type,
                    "launch_template": dict(instance.launch_template) if instance.launch_template else None,
                    "last_script_exit_code": instance.last_exit_code, "last_script_output": instance.last_output,
                })
            groups.append({
                "id": group.id, "name": group.name, "region": group.region, "state": group.state,
                "min_size": group.min_size, "max_size": group.max_size, "desired_capacity": group.desired_capacity,
                "scaling_configuration": {"id": config["id"], "image_id": config["image_id"], "name": config["name"]},
                "launch_template": dict(group.launch_template) if group.launch_template else None,
                "suspended_processes": list(group.suspended), "instances": instances,
                "scaling_policy": group.scaling_policy, "multi_az_policy": group.multi_az_policy,
                "group_type": group.group_type,
                "launch_template_overrides": [dict(o) for o in group.launch_template_overrides],
                "load_balancers": [{"type": att.type, "id": att.id, "server_group_id": att.server_group_id,
                                    "backends": {i.id: state for i, state in loadbalancers.backends(self, att)}}
                                   for att in group.load_balancers],
            })
        return {
            "now": self.now_iso(),
            "regions": list(self.regions),
            "images": list(self.images.values()),
            "oos_packages": {k: list(v) for k, v in self.oos_packages.items()},
            "launch_templates": [{"id": t["id"], "default_version": t["default_version"],
                                  "versions": {k: dict(v) for k, v in t["versions"].items()}}
                                 for t in self.launch_templates.values()],
            "scaling_groups": groups,
            "executions": self.engine.snapshot(),
            "instance_refreshes": [r.api() for r in self.refreshes.values()],
            "invocations": [{"invoke_id": inv.invoke_id, "status": self.invocation_status(inv),
                             "instances": {k: {"status": r["status"], "exit_code": r["exit_code"]}
                                           for k, r in inv.results.items()}}
                            for inv in self.invocations.values()],
        }


def token_for(offset):
    """Opaque-looking pagination token for an offset."""
    return base64.urlsafe_b64encode(("o:%d" % offset).encode()).decode().rstrip("=") if offset else ""


def offset_for(token):
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        kind, _, value = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        if kind == "o":
            return int(value)
    except (ValueError, UnicodeDecodeError):
        pass
    raise ApiError("InvalidParameter", 'The specified value of parameter "NextToken" is not valid.')


def unique_token():
    return uuid.uuid4().hex
