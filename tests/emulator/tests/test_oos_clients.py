"""Rolling updates driven by independent official clients: Tea SDK in V3 and V2, and the legacy AcsClient.
Scripts full of characters that signing must encode (space, *, ~, +, &, =, quotes, newlines, UTF-8)."""
import json

import pytest
from alibabacloud_oos20190601 import models as oos_models

from model_support import GROUP, REGION, SCRIPT_TEMPLATE, load, wait_for

SCRIPT = "printf '%s\\n' 'a*b ~c+d&e=f \"q\" 1/2 ü€'\necho second line"
EXPECTED = 'a*b ~c+d&e=f "q" 1/2 ü€\nsecond line\n'


@pytest.mark.parametrize("signature_algorithm", [None, "v2"])
def test_tea_sdk_both_signatures_carry_the_script_unchanged(emulator, signature_algorithm):
    load(emulator, instances=1)
    client = emulator.oos_client(signature_algorithm=signature_algorithm)
    started = client.start_execution(oos_models.StartExecutionRequest(
        region_id=REGION, template_name=SCRIPT_TEMPLATE, tags={"scaling_group": GROUP, "note": "a b*c"},
        parameters=json.dumps({"invokeType": "invoke", "scalingGroupId": GROUP, "invokeScript": SCRIPT}))).body.execution
    assert started.parameters["invokeScript"] == SCRIPT and started.tags["note"] == "a b*c"
    done = wait_for(emulator, started.execution_id)
    assert json.loads(done.outputs)["commandOutputs"] == [EXPECTED]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_legacy_client_starts_and_lists_executions(emulator, method):
    load(emulator, instances=1)
    client = emulator.acs_client()
    request = emulator.common_request("StartExecution", "2019-06-01", {
        "RegionId": REGION, "TemplateName": SCRIPT_TEMPLATE,
        "Parameters": json.dumps({"invokeType": "invoke", "scalingGroupId": GROUP, "invokeScript": SCRIPT})},
        method=method)
    execution_id = json.loads(client.do_action_with_exception(request))["Execution"]["ExecutionId"]
    done = wait_for(emulator, execution_id)
    assert json.loads(done.outputs)["commandOutputs"] == [EXPECTED]
    listed = json.loads(client.do_action_with_exception(emulator.common_request(
        "ListExecutions", "2019-06-01", {"RegionId": REGION, "ExecutionId": execution_id}, method=method)))
    assert listed["Executions"][0]["Status"] == "Success"
    legacy_ess = json.loads(client.do_action_with_exception(emulator.common_request(
        "DescribeScalingInstances", "2014-08-28", {"RegionId": REGION, "ScalingGroupId": GROUP}, method=method)))
    assert legacy_ess["ScalingInstances"]["ScalingInstance"][0]["LifecycleState"] == "InService"
