"""ECS 2014-05-26 through the generic Tea `call_api` (V3 and V2) and the legacy AcsClient."""
import base64
import json
import time

import pytest
from Tea.exceptions import TeaException

from model_support import GROUP, NEW_IMAGE, OLD_IMAGE, REGION, WAIT_LIMIT_S, group_state, instance_ids, load

ECS = "2014-05-26"


def ecs(emulator, action, **params):
    params.setdefault("RegionId", REGION)
    return emulator.call(action, ECS, params)["body"]


def wait_invocation(emulator, invoke_id):
    deadline = time.monotonic() + WAIT_LIMIT_S
    while True:
        [invocation] = ecs(emulator, "DescribeInvocations", InvokeId=invoke_id)["Invocations"]["Invocation"]
        if invocation["InvokeStatus"] != "Running":
            return invocation
        assert time.monotonic() < deadline, "invocation still running"
        time.sleep(0.02)


@pytest.mark.parametrize("signature_algorithm", [None, "v2"])
def test_describe_regions_is_the_credential_check(emulator, signature_algorithm):
    load(emulator, instances=1)
    body = emulator.call("DescribeRegions", ECS, {}, signature_algorithm=signature_algorithm)["body"]
    assert [r["RegionId"] for r in body["Regions"]["Region"]] == [REGION, "cn-shanghai"]


def test_describe_regions_with_the_legacy_client(emulator):
    load(emulator, instances=1)
    raw = emulator.acs_client().do_action_with_exception(emulator.common_request("DescribeRegions", ECS))
    assert json.loads(raw)["Regions"]["Region"][0]["RegionId"] == REGION


def test_describe_instances_shape_filters_and_paging(emulator):
    load(emulator, instances=[{"status": "Stopped", "lifecycle_state": "Standby"}, {"tags": {"app": "web"}}, {}, {}])
    ids = instance_ids(emulator)
    body = ecs(emulator, "DescribeInstances", InstanceIds=json.dumps(ids[:2]))
    items = body["Instances"]["Instance"]
    assert [i["InstanceId"] for i in items] == ids[:2]
    assert items[0]["Status"] == "Stopped" and items[1]["Status"] == "Running"
    assert items[1]["OSType"] == "linux" and items[1]["ImageId"] == OLD_IMAGE
    assert items[1]["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0].startswith("10.")
    assert items[1]["Tags"]["Tag"] == [{"TagKey": "app", "TagValue": "web"}]
    tagged = ecs(emulator, "DescribeInstances", **{"Tag.1.Key": "app", "Tag.1.Value": "web"})
    assert [i["InstanceId"] for i in tagged["Instances"]["Instance"]] == [ids[1]]
    running = ecs(emulator, "DescribeInstances", Status="Running", PageSize="2", PageNumber="2")
    assert running["TotalCount"] == 3 and [i["InstanceId"] for i in running["Instances"]["Instance"]] == [ids[3]]
    first = ecs(emulator, "DescribeInstances", MaxResults="3")
    rest = ecs(emulator, "DescribeInstances", MaxResults="3", NextToken=first["NextToken"])
    assert [i["InstanceId"] for i in first["Instances"]["Instance"] + rest["Instances"]["Instance"]] == ids
    assert rest["NextToken"] == ""


def test_describe_images(emulator):
    load(emulator, instances=1)
    body = ecs(emulator, "DescribeImages", ImageId=NEW_IMAGE)
    [image] = body["Images"]["Image"]
    assert (image["ImageId"], image["ImageName"], image["OSType"], image["Status"]) == (NEW_IMAGE, "web-v2", "linux", "Available")
    assert ecs(emulator, "DescribeImages")["TotalCount"] == 2


def test_run_command_returns_real_output_and_exit_code(emulator):
    load(emulator, instances=2)
    ids = instance_ids(emulator)
    script = 'echo "hello from $INSTANCE_ID"; echo oops >&2; exit 7'
    started = ecs(emulator, "RunCommand", Type="RunShellScript", CommandContent=script,
                  **{"InstanceId.1": ids[0], "InstanceId.2": ids[1]})
    assert started["InvokeId"].startswith("t-") and started["CommandId"].startswith("c-")
    invocation = wait_invocation(emulator, started["InvokeId"])
    assert invocation["InvokeStatus"] == "Failed" and invocation["InvocationStatus"] == "Failed"
    assert base64.b64decode(invocation["CommandContent"]).decode() == script
    results = ecs(emulator, "DescribeInvocationResults", InvokeId=started["InvokeId"])["Invocation"]["InvocationResults"]["InvocationResult"]
    assert sorted(r["InstanceId"] for r in results) == sorted(ids)
    for result in results:
        assert result["ExitCode"] == 7 and result["InvokeRecordStatus"] == "Finished"
        assert base64.b64decode(result["Output"]).decode() == "hello from %s\noops\n" % result["InstanceId"]
    assert emulator.instance_health(ids[0])[0] == 503


def test_run_command_base64_content_and_working_dir_per_instance(emulator):
    load(emulator, instances=1)
    [instance] = instance_ids(emulator)
    content = base64.b64encode(b"touch here; basename $(pwd)").decode()
    started = ecs(emulator, "RunCommand", Type="RunShellScript", CommandContent=content, ContentEncoding="Base64",
                  **{"InstanceId.1": instance})
    wait_invocation(emulator, started["InvokeId"])
    [result] = ecs(emulator, "DescribeInvocationResults", InvokeId=started["InvokeId"])["Invocation"]["InvocationResults"]["InvocationResult"]
    assert (result["ExitCode"], base64.b64decode(result["Output"]).decode()) == (0, instance + "\n")


def test_run_command_is_simulated_when_real_execution_is_off(emulator):
    doc = load(emulator, instances=1)
    emulator.load_world(dict(doc, run_commands=False), speed=3000)
    [instance] = instance_ids(emulator)
    started = ecs(emulator, "RunCommand", Type="RunShellScript", CommandContent="exit 9", **{"InstanceId.1": instance})
    invocation = wait_invocation(emulator, started["InvokeId"])
    assert invocation["InvokeStatus"] == "Finished"
    assert invocation["InvokeInstances"]["InvokeInstance"][0]["ExitCode"] == 0


def test_run_command_errors(emulator):
    load(emulator, instances=[{"status": "Stopped", "lifecycle_state": "Standby"}])
    [instance] = instance_ids(emulator)
    with pytest.raises(TeaException) as not_running:
        ecs(emulator, "RunCommand", Type="RunShellScript", CommandContent="true", **{"InstanceId.1": instance})
    assert not_running.value.code == "InvalidInstance.NotRunning"
    with pytest.raises(TeaException) as unknown:
        ecs(emulator, "RunCommand", Type="RunShellScript", CommandContent="true", **{"InstanceId.1": "i-nope"})
    assert unknown.value.code == "InvalidInstance.NotFound"
    with pytest.raises(TeaException) as bad_type:
        ecs(emulator, "RunCommand", Type="RunPythonScript", CommandContent="true", **{"InstanceId.1": instance})
    assert bad_type.value.code == "InvalidParameter"


def test_tag_and_list_tag_resources(emulator):
    load(emulator, instances=2)
    ids = instance_ids(emulator)
    ecs(emulator, "TagResources", ResourceType="instance",
        **{"ResourceId.1": ids[0], "Tag.1.Key": "ess:rollingupdate", "Tag.1.Value": "oos:exec-1"})
    assert group_state(emulator, GROUP)["instances"][0]["tags"] == {"ess:rollingupdate": "oos:exec-1"}
    listed = ecs(emulator, "ListTagResources", ResourceType="instance", **{"ResourceId.1": ids[0]})
    assert listed["TagResources"]["TagResource"] == [
        {"ResourceId": ids[0], "ResourceType": "instance", "TagKey": "ess:rollingupdate", "TagValue": "oos:exec-1"}]
    by_tag = ecs(emulator, "ListTagResources", ResourceType="instance", **{"Tag.1.Key": "ess:rollingupdate"})
    assert [r["ResourceId"] for r in by_tag["TagResources"]["TagResource"]] == [ids[0]]
    with pytest.raises(TeaException) as unknown:
        ecs(emulator, "TagResources", ResourceType="instance", **{"ResourceId.1": "i-nope", "Tag.1.Key": "k"})
    assert unknown.value.code == "InvalidResourceId.NotFound"
