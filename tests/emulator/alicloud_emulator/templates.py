"""The three public ESS rolling-update OOS templates: parameters (as published, reference 1.1/1.2) and a
readable template body for GetTemplate. The behaviour lives in engine.py."""
import hashlib

import yaml

from .api import ApiError

FIVE_PROCESSES = ["ScaleIn", "ScaleOut", "HealthCheck", "AlarmNotification", "ScheduledAction"]

IMAGE = "ACS-ESS-RollingUpdateByReplaceSystemDiskInScalingGroup"
SCRIPT = "ACS-ESS-RollingUpdateByRunCommandInScalingGroup"
PACKAGE = "ACS-ESS-RollingUpdateByConfigureOOSPackage"

# One version per published change of each template file in GitHub aliyun/oos-templates (PublicTemplates/YAML),
# oldest first: v1 = the first. That OOS numbers the versions the same way is INFERRED; that there were several
# is CONFIRMED by that history. The newest is what StartExecution runs without a TemplateVersion.
VERSION_DATES = {
    IMAGE: ["2020-04-15", "2020-07-29", "2022-12-30", "2023-09-01", "2024-02-02", "2024-04-26"],
    SCRIPT: ["2020-04-15", "2020-07-29", "2022-12-30", "2023-09-01", "2024-02-02", "2024-04-26"],
    PACKAGE: ["2020-08-31", "2022-12-30", "2023-09-01", "2024-02-02", "2024-04-26"],
}
TEMPLATE_DATE = "2024-04-26T00:00:00Z"


def versions(template_name):
    return ["v%d" % n for n in range(1, len(VERSION_DATES[template_name]) + 1)]


def latest_version(template_name):
    return versions(template_name)[-1]

_COMMON = [
    ("invokeType", {"Type": "String", "AllowedValues": ["invoke", "rollback"]}),
    ("scalingGroupId", {"Type": "String"}),
]
_COMMON_TAIL = [
    ("enterProcess", {"Type": "List", "Default": list(FIVE_PROCESSES)}),
    ("exitProcess", {"Type": "List", "Default": list(FIVE_PROCESSES)}),
    ("lifecycleState", {"Type": "List", "Default": "InService", "AllowedValues": ["InService", "Protected"]}),
    ("sourceExecutionId", {"Type": "String", "Default": ""}),
    ("batchPauseOption", {"Type": "String", "Default": "Automatic",
                          "AllowedValues": ["Automatic", "FirstBatchPause", "EveryBatchPause"]}),
    ("batchNumber", {"Type": "Number", "Default": 5, "MinValue": 1, "MaxValue": 100}),
    ("OOSAssumeRole", {"Type": "String", "Default": ""}),
]

_SPECIFIC = {
    IMAGE: [
        ("imageId", {"Type": "String", "Default": "", "Label": "InvokeImageId"}),
        ("sourceImageId", {"Type": "String", "Default": "", "Label": "RollbackImageId"}),
        ("scalingConfigurationId", {"Type": "String", "Default": ""}),
        ("maxErrors", {"Type": "Number", "Default": 0}),
    ],
    SCRIPT: [
        ("commandType", {"Type": "String", "Default": "RunShellScript",
                         "AllowedValues": ["RunBatScript", "RunPowerShellScript", "RunShellScript"]}),
        ("invokeScript", {"Type": "String", "Default": ""}),
        ("rollbackScript", {"Type": "String", "Default": ""}),
    ],
    PACKAGE: [
        ("action", {"Type": "String", "Default": "install", "AllowedValues": ["install", "uninstall"]}),
        ("packageName", {"Type": "String"}),
        ("packageVersion", {"Type": "String", "Default": ""}),
    ],
}

# Per template: the nested action each loop item runs as a child execution, and the loop task names.
ACTIONS = {
    IMAGE: {"child": "ACS::ESS::ReplaceSystemDisk", "invoke_task": "invokeByReplaceImage",
            "rollback_task": "rollbackByReplaceImage", "loop_output": "newSystemDiskIds"},
    SCRIPT: {"child": "ACS::ESS::RunCommand", "invoke_task": "invokeByRunCommand",
             "rollback_task": "rollbackByRunCommand", "loop_output": "commandOutputs"},
    PACKAGE: {"child": "ACS::ESS::ConfigureOOSPackage", "invoke_task": "invokeByConfigureOOSPackage",
              "rollback_task": "rollbackByConfigureOOSPackage", "loop_output": "commandOutputs"},
}

DESCRIPTIONS = {
    IMAGE: "Roll out a new image to the instances of a scaling group by replacing their system disks, in batches.",
    SCRIPT: "Run a script on the instances of a scaling group with Cloud Assistant, in batches.",
    PACKAGE: "Install or uninstall an OOS package on the instances of a scaling group, in batches.",
}

TEMPLATE_IDS = {name: "t-" + hashlib.md5(name.encode()).hexdigest()[:16] for name in ACTIONS}


def parameter_specs(template_name):
    return dict(_COMMON + _SPECIFIC[template_name] + _COMMON_TAIL)


def exists(template_name):
    return template_name in ACTIONS


def require(template_name, version=None):
    if template_name not in ACTIONS:
        raise ApiError("EntityNotExists.Template", "The template %s does not exist." % template_name, 404)
    if version and version not in versions(template_name):
        raise ApiError("EntityNotExists.TemplateVersion",
                       "The version %s of template %s does not exist." % (version, template_name), 404)


def _task(name, action, api=None, **extra):
    task = {"Name": name, "Action": action}
    if api:
        task["Properties"] = {"Service": api[0], "API": api[1]}
    task.update(extra)
    return task


def tasks(template_name):
    """The task list of the public template, in order: names, actions, the API each ExecuteApi step calls, the
    loops and the OnSuccess jump (as in PublicTemplates/YAML/<name>.yml; parameters of each step elided)."""
    action = ACTIONS[template_name]
    suspend_choice = "whetherToSuspendProcess" if template_name == PACKAGE else "whetherTosuspendProcess"
    loop = {"Items": "{{ getInstance.instanceIds }}", "BatchPauseOption": "{{ batchPauseOption }}",
            "Concurrency": {"Fn::CalculateBatch": ["{{ batchNumber }}", "{{ getInstance.instanceIds }}"]}}
    rollback_loop = {"Items": "{{ getExistInstanceIds.instanceIds }}", "BatchPauseOption": "{{ batchPauseOption }}",
                     "Concurrency": {"Fn::CalculateBatch": ["{{ batchNumber }}",
                                                            "{{ getExistInstanceIds.instanceIds }}"]}}
    result = [
        _task("choiceNextTask", "ACS::Choice"),
        _task("getInstance", "ACS::ExecuteApi", ("ESS", "DescribeScalingInstances")),
        _task("whetherTheScalingGroupInstanceIsEmpty", "ACS::Choice"),
        _task(suspend_choice, "ACS::Choice"),
        _task("suspendProcess", "ACS::ExecuteAPI", ("ESS", "SuspendProcesses")),
    ]
    if template_name == IMAGE:
        result += [_task("whetherToModifyScalingConfiguration", "ACS::Choice"),
                   _task("modifyScalingConfiguration", "ACS::ExecuteAPI", ("ESS", "ModifyScalingConfiguration"))]
    rollback_properties = {"rollBack": "true"} if template_name != PACKAGE else {}
    result += [
        _task(action["invoke_task"], action["child"], Loop=loop),
        _task("tagInstance", "ACS::ExecuteApi", ("ECS", "TagResources"),
              Loop={"Items": "{{ getInstance.instanceIds }}", "Mode": "Concurrency", "MaxErrors": 0,
                    "Concurrency": 10}),
        _task("whetherToResumeProcesses", "ACS::Choice"),
        _task("resumeProcesses", "ACS::ExecuteAPI", ("ESS", "ResumeProcesses"), OnSuccess="ACS::END"),
        _task("getExecutionInstanceIds", "ACS::ExecuteAPI", ("OOS", "ListExecutions")),
        _task("getExistInstanceIds", "ACS::SelectTargets"),
        _task("getRollbackProcess", "ACS::ExecuteAPI", ("OOS", "ListExecutions")),
        _task("suspendProcessWithRollBack", "ACS::ExecuteAPI", ("ESS", "SuspendProcesses")),
        _task(action["rollback_task"], action["child"], Loop=rollback_loop,
              **({"Properties": rollback_properties} if rollback_properties else {})),
        _task("whetherToResumeProcessesWithRollback", "ACS::Choice"),
        _task("resumeProcessesWithRollback", "ACS::ExecuteAPI", ("ESS", "ResumeProcesses")),
    ]
    return result


def content(template_name):
    """The template body (YAML): the real Parameters and the real task structure (see tasks())."""
    action = ACTIONS[template_name]
    body = {
        "FormatVersion": "OOS-2019-06-01",
        "Description": {"en": DESCRIPTIONS[template_name]},
        "Parameters": {name: dict(spec) for name, spec in parameter_specs(template_name).items()},
        "RamRole": "{{ OOSAssumeRole }}",
        "Tasks": tasks(template_name),
        "Outputs": {"commandOutputs": {"Type": "List", "Value": {"Fn::If": [
            {"Fn::Equals": ["invoke", "{{ invokeType }}"]},
            "{{ %s.%s }}" % (action["invoke_task"], action["loop_output"]),
            "{{ %s.%s }}" % (action["rollback_task"], action["loop_output"])]}}},
    }
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def summary(template_name, version=None):
    """The fields shared by GetTemplate's `Template` and ListTemplates' items (``version``: default the newest).
    Older versions are served with the newest body: only their number and date differ (their bodies are in the
    repository's history, not modelled)."""
    text = content(template_name)
    version = version or latest_version(template_name)
    dates = VERSION_DATES[template_name]
    return {
        "TemplateId": TEMPLATE_IDS[template_name], "TemplateName": template_name,
        "TemplateVersion": version, "TemplateFormat": "YAML", "TemplateType": "Automation",
        "Description": DESCRIPTIONS[template_name], "CreatedBy": "ACS", "CreatedDate": dates[0] + "T00:00:00Z",
        "UpdatedBy": "ACS", "UpdatedDate": dates[int(version[1:]) - 1] + "T00:00:00Z",
        "Hash": hashlib.sha256(text.encode()).hexdigest(),
        "ShareType": "Public", "HasTrigger": False, "Tags": {}, "ResourceGroupId": "", "VersionName": "",
        "SharedAccounts": "",
    }


# OOS packages (world key `oos_packages`) are served as templates of type Package, version N = `vN` in the
# order listed; VersionName is the package version (ListInstancePackageStates uses the same numbering).
PACKAGE_DATE = "2024-01-01T00:00:00Z"


def package_template_id(name):
    return "t-pkg" + name.replace("-", "")[:13]


def package_version(name, versions, version=None):
    """The 1-based position of `version` (`vN`, default the last); EntityNotExists.TemplateVersion otherwise."""
    if not version:
        return len(versions)
    if version.startswith("v") and version[1:].isdigit() and 1 <= int(version[1:]) <= len(versions):
        return int(version[1:])
    raise ApiError("EntityNotExists.TemplateVersion",
                   "The version %s of template %s does not exist." % (version, name), 404)


def package_content(name, versions, number):
    return yaml.safe_dump({"FormatVersion": "OOS-2019-06-01", "Description": "OOS package %s" % name,
                           "PackageName": name, "VersionName": versions[number - 1]}, sort_keys=False)


def package_summary(name, versions, number):
    text = package_content(name, versions, number)
    return {
        "TemplateId": package_template_id(name), "TemplateName": name, "TemplateVersion": "v%d" % number,
        "TemplateFormat": "YAML", "TemplateType": "Package", "Description": "OOS package %s" % name,
        "CreatedBy": "ACS", "CreatedDate": PACKAGE_DATE, "UpdatedBy": "ACS", "UpdatedDate": PACKAGE_DATE,
        "Hash": hashlib.sha256(text.encode()).hexdigest(), "ShareType": "Public", "HasTrigger": False, "Tags": {},
        "ResourceGroupId": "", "VersionName": versions[number - 1], "SharedAccounts": "",
    }


def _fail(message):
    raise ApiError("InvalidParameter", message)


def _check_allowed(name, spec, value):
    allowed = spec.get("AllowedValues")
    if allowed and value not in allowed:
        _fail("The value %r of parameter %s is not one of the allowed values %s." % (value, name, allowed))


def resolve_parameters(template_name, given):
    """Validate template parameters like OOS does (required, types, AllowedValues, Min/MaxValue) and
    return them with the defaults filled in (what ListExecutions then shows as `Parameters`)."""
    if not isinstance(given, dict):
        _fail("The parameter Parameters must be a JSON object.")
    specs = parameter_specs(template_name)
    unknown = sorted(set(given) - set(specs))
    if unknown:
        _fail("The parameter(s) %s are not defined in template %s." % (", ".join(unknown), template_name))
    resolved = {}
    for name, spec in specs.items():
        if name in given:
            value = given[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            _fail("The parameter %s of template %s is required." % (name, template_name))
        kind = spec["Type"]
        if kind == "String":
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                _fail("The parameter %s must be a String." % name)
            value = str(value)
            _check_allowed(name, spec, value)
        elif kind == "Number":
            if isinstance(value, bool):
                _fail("The parameter %s must be a Number." % name)
            try:
                value = int(value) if not isinstance(value, float) or value.is_integer() else value
                value = int(value)
            except (TypeError, ValueError):
                _fail("The parameter %s must be a Number." % name)
            if "MinValue" in spec and value < spec["MinValue"]:
                _fail("The parameter %s must be at least %d." % (name, spec["MinValue"]))
            if "MaxValue" in spec and value > spec["MaxValue"]:
                _fail("The parameter %s must be at most %d." % (name, spec["MaxValue"]))
        elif kind == "List":
            if isinstance(value, str):
                value = [value]  # the published lifecycleState default is a scalar on a List parameter
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                _fail("The parameter %s must be a List of strings." % name)
            for item in value:
                _check_allowed(name, spec, item)
            # enterProcess/exitProcess declare no AllowedValues: an unknown name fails later, in SuspendProcesses.
        resolved[name] = value
    if template_name == PACKAGE and not resolved["packageName"]:
        _fail("The parameter packageName of template %s is required." % template_name)
    if not resolved["scalingGroupId"]:
        _fail("The parameter scalingGroupId of template %s is required." % template_name)
    return resolved
