"""OOS packages served as Package templates (GetTemplate / ListTemplateVersions / ListTemplates) and the Cloud
Assistant command-content limit, directly and through the RunCommand template (reliab-findings F3, F4)."""
import pytest
import yaml
from alibabacloud_oos20190601 import models as oos
from Tea.exceptions import TeaException

from model_support import REGION, SCRIPT_TEMPLATE, instance_ids, load, start, wait_for

ECS = "2014-05-26"
LIMIT = 18 * 1024
# A script whose Base64 form is just over / at the limit (Base64 is 4/3 of the bytes).
TOO_LARGE = "#" * (LIMIT * 3 // 4 + 3)
LARGEST = "#" * (LIMIT * 3 // 4)


def error_of(call):
    with pytest.raises(TeaException) as error:
        call()
    return error.value


def test_get_template_of_a_package_names_its_versions(emulator):
    load(emulator, instances=1)
    client = emulator.oos_client()
    latest = client.get_template(oos.GetTemplateRequest(region_id=REGION, template_name="nginx")).body
    assert (latest.template.template_type, latest.template.template_version, latest.template.version_name) == (
        "Package", "v2", "1.26.1")
    assert yaml.safe_load(latest.content)["VersionName"] == "1.26.1"
    first = client.get_template(oos.GetTemplateRequest(region_id=REGION, template_name="nginx", template_version="v1")).body
    assert first.template.version_name == "1.24.0"
    absent = error_of(lambda: client.get_template(oos.GetTemplateRequest(
        region_id=REGION, template_name="nginx", template_version="v3")))
    assert (absent.code, absent.statusCode) == ("EntityNotExists.TemplateVersion", 404)
    unknown = error_of(lambda: client.get_template(oos.GetTemplateRequest(region_id=REGION, template_name="no-such-package")))
    assert unknown.code == "EntityNotExists.Template"


def test_list_template_versions(emulator):
    load(emulator, instances=1)
    client = emulator.oos_client()
    versions = client.list_template_versions(oos.ListTemplateVersionsRequest(
        region_id=REGION, template_name="nginx")).body.template_versions
    assert [(v.template_version, v.version_name) for v in versions] == [("v2", "1.26.1"), ("v1", "1.24.0")]
    # The public template has had one version per published change (GitHub aliyun/oos-templates history).
    rollout = client.list_template_versions(oos.ListTemplateVersionsRequest(
        region_id=REGION, template_name=SCRIPT_TEMPLATE)).body.template_versions
    assert [v.template_version for v in rollout] == ["v6", "v5", "v4", "v3", "v2", "v1"]
    assert rollout[0].updated_date.startswith("2024-04-26") and rollout[-1].updated_date.startswith("2020-04-15")
    old = client.get_template(oos.GetTemplateRequest(region_id=REGION, template_name=SCRIPT_TEMPLATE,
                                                     template_version="v2")).body
    assert old.template.template_version == "v2"
    tasks = [t["Name"] for t in yaml.safe_load(old.content)["Tasks"]]
    assert tasks[:5] == ["choiceNextTask", "getInstance", "whetherTheScalingGroupInstanceIsEmpty",
                         "whetherTosuspendProcess", "suspendProcess"]
    assert "whetherToResumeProcessesWithRollback" in tasks and len(tasks) == 16
    assert error_of(lambda: client.list_template_versions(oos.ListTemplateVersionsRequest(
        region_id=REGION, template_name="no-such-package"))).code == "EntityNotExists.Template"


def test_list_templates_lists_packages_only_by_type(emulator):
    load(emulator, instances=1)
    client = emulator.oos_client()
    packages = client.list_templates(oos.ListTemplatesRequest(region_id=REGION, template_type="Package")).body.templates
    assert [(t.template_name, t.version_name) for t in packages] == [("nginx", "1.26.1")]
    default = client.list_templates(oos.ListTemplatesRequest(region_id=REGION)).body.templates
    assert all(t.template_type == "Automation" for t in default) and len(default) == 3


def test_run_command_refuses_content_over_the_limit(emulator):
    load(emulator, instances=1)
    [instance] = instance_ids(emulator)
    params = {"RegionId": REGION, "Type": "RunShellScript", "InstanceId.1": instance}
    refused = error_of(lambda: emulator.call("RunCommand", ECS, dict(params, CommandContent=TOO_LARGE)))
    assert refused.code == "InvalidCmdContent.ExceedLimit" and str(LIMIT) in refused.message
    assert emulator.call("RunCommand", ECS, dict(params, CommandContent=LARGEST))["body"]["InvokeId"]


def test_script_template_fails_each_instance_at_run_command_for_a_large_script(emulator):
    load(emulator, instances=2)
    done = wait_for(emulator, start(emulator, SCRIPT_TEMPLATE, invokeScript=TOO_LARGE, batchNumber=1).execution_id)  # one batch
    assert done.status == "Failed"
    assert "runCommand: InvalidCmdContent.ExceedLimit" in done.status_message
    assert [i["lifecycle_state"] for i in emulator.state()["scaling_groups"][0]["instances"]] == ["Standby"] * 2


def test_package_template_shapes_are_complete(emulator):
    from test_model_shapes import assert_complete
    load(emulator, instances=1)
    template = emulator.call("GetTemplate", "2019-06-01", {"RegionId": REGION, "TemplateName": "nginx"})["body"]
    assert_complete(template, oos.GetTemplateResponseBody)
    assert_complete(template["Template"], oos.GetTemplateResponseBodyTemplate)
    versions = emulator.call("ListTemplateVersions", "2019-06-01", {"RegionId": REGION, "TemplateName": "nginx"})["body"]
    assert_complete(versions, oos.ListTemplateVersionsResponseBody)
    assert_complete(versions["TemplateVersions"][0], oos.ListTemplateVersionsResponseBodyTemplateVersions)
