"""Any correct official client is accepted: Tea SDK in V3 and V2 signing, and the legacy aliyun-python-sdk-core."""
import json

import pytest

STS = "2015-04-01"


def test_tea_sdk_v3_signature_is_accepted(emulator):
    response = emulator.call("GetCallerIdentity", STS)
    assert response["statusCode"] == 200
    assert response["body"]["Arn"] == "acs:ram::1234567890123456:user/admin"
    [call] = emulator.calls(action="GetCallerIdentity")
    assert call["signature_version"] == "v3"
    assert call["access_key_id"] == "LTAI5tEmulatorAdmin0001"


def test_tea_sdk_v2_signature_is_accepted(emulator):
    response = emulator.call("GetCallerIdentity", STS, signature_algorithm="v2")
    assert response["statusCode"] == 200
    assert response["body"]["AccountId"] == "1234567890123456"
    [call] = emulator.calls(action="GetCallerIdentity")
    assert call["signature_version"] == "v2"


def test_response_has_uppercase_uuid_request_id_and_json_content_type(emulator):
    response = emulator.call("GetCallerIdentity", STS)
    request_id = response["body"]["RequestId"]
    assert len(request_id) == 36 and request_id == request_id.upper() and request_id.count("-") == 4
    assert response["headers"]["content-type"] == "application/json;charset=utf-8"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_legacy_acs_client_is_accepted(emulator, method):
    client = emulator.acs_client()
    raw = client.do_action_with_exception(emulator.common_request("GetCallerIdentity", STS, method=method))
    body = json.loads(raw)
    assert body["IdentityType"] == "RAMUser"
    [call] = emulator.calls(action="GetCallerIdentity")
    assert call["status"] == 200


def test_legacy_acs_client_sees_server_errors(emulator):
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    client = emulator.acs_client(access_key_id="LTAI5tEmulatorAdmin0001", access_key_secret="wrong-secret")
    with pytest.raises(ServerException) as raised:
        client.do_action_with_exception(emulator.common_request("GetCallerIdentity", STS))
    assert raised.value.get_error_code() == "SignatureDoesNotMatch"
    assert raised.value.get_http_status() == 403


def test_legacy_acs_client_with_sts_token(emulator):
    credentials = emulator.mint_sts_token()
    client = emulator.acs_client(access_key_id=credentials["AccessKeyId"],
                                 access_key_secret=credentials["AccessKeySecret"],
                                 security_token=credentials["SecurityToken"])
    body = json.loads(client.do_action_with_exception(emulator.common_request("GetCallerIdentity", STS)))
    assert body["IdentityType"] == "AssumedRoleUser"


# One read call per product (and both ESS versions), through every client and signature.
PRODUCT_CALLS = [
    ("DescribeRegions", "2014-05-26", "ecs", lambda body: body["Regions"]["Region"][0]["RegionId"]),
    ("ListExecutions", "2019-06-01", "oos", lambda body: body["MaxResults"]),
    ("DescribeScalingGroups", "2014-08-28", "ess",
     lambda body: body["ScalingGroups"]["ScalingGroup"][0]["ScalingGroupId"]),
    ("DescribeScalingGroups", "2022-02-22", "ess", lambda body: body["ScalingGroups"][0]["ScalingGroupId"]),
]
EXPECTED = {"DescribeRegions": "cn-hangzhou", "ListExecutions": 50, "DescribeScalingGroups": "asg-bp1demo0000000001"}


@pytest.mark.parametrize("signature_algorithm", [None, "v2"], ids=["v3", "v2"])
@pytest.mark.parametrize("action,version,product,pick", PRODUCT_CALLS, ids=lambda v: v if isinstance(v, str) else "")
def test_tea_sdk_product_calls(emulator, signature_algorithm, action, version, product, pick):
    body = emulator.call(action, version, {"RegionId": "cn-hangzhou"},
                         signature_algorithm=signature_algorithm)["body"]
    assert pick(body) == EXPECTED[action]
    [call] = emulator.calls(action=action)
    assert (call["product"], call["version"]) == (product, version)
    assert call["signature_version"] == (signature_algorithm or "v3")


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("action,version,product,pick", PRODUCT_CALLS, ids=lambda v: v if isinstance(v, str) else "")
def test_legacy_acs_client_product_calls(emulator, method, action, version, product, pick):
    raw = emulator.acs_client().do_action_with_exception(
        emulator.common_request(action, version, {"RegionId": "cn-hangzhou"}, method=method))
    assert pick(json.loads(raw)) == EXPECTED[action]


@pytest.mark.parametrize("signature_algorithm", [None, "v2"], ids=["v3", "v2"])
def test_product_sdk_clients_parse_responses(emulator, signature_algorithm):
    from alibabacloud_ess20220222 import models as ess_models
    from alibabacloud_oos20190601 import models as oos_models
    oos = emulator.oos_client(signature_algorithm=signature_algorithm)
    listing = oos.list_executions(oos_models.ListExecutionsRequest(region_id="cn-hangzhou")).body
    assert listing.executions == [] and listing.max_results == 50
    ess = emulator.ess_client(signature_algorithm=signature_algorithm)
    groups = ess.describe_scaling_groups(ess_models.DescribeScalingGroupsRequest(region_id="cn-hangzhou")).body
    assert groups.scaling_groups[0].scaling_group_id == "asg-bp1demo0000000001"


def test_read_only_user_denied_a_mutating_ess_call_naming_the_action(emulator):
    from alibabacloud_ess20220222 import models as ess_models
    from alibabacloud_tea_openapi.exceptions import ClientException
    ess = emulator.ess_client(account="readonly")
    with pytest.raises(ClientException) as raised:
        ess.suspend_processes(ess_models.SuspendProcessesRequest(
            region_id="cn-hangzhou", scaling_group_id="asg-bp1demo0000000001", processes=["ScaleIn"]))
    assert raised.value.status_code == 403 and raised.value.code == "Forbidden.RAM"
    assert "(action: ess:SuspendProcesses)" in raised.value.message
    # The denial happened before the handler: nothing was suspended.
    groups = ess.describe_scaling_groups(ess_models.DescribeScalingGroupsRequest(region_id="cn-hangzhou")).body
    assert not groups.scaling_groups[0].suspended_processes
    [call] = emulator.calls(action="SuspendProcesses")
    assert call["mutating"] is True and call["status"] == 403
