"""RAM policy evaluation and `Forbidden.RAM` denials that name the action."""
import pytest
from alibabacloud_tea_openapi.exceptions import ClientException

from alicloud_emulator.accounts import PolicySet, WorldError

STS = "2015-04-01"
ROLE = "acs:ram::1234567890123456:role/rollout-operator"


def test_omitted_policies_mean_full_access():
    assert PolicySet(None).decide("ess:SuspendProcesses") == "Allow"


def test_empty_policy_list_means_no_access():
    assert PolicySet([]).decide("oos:ListExecutions") == "ImplicitDeny"


def test_system_policies():
    policies = PolicySet(["AliyunOOSFullAccess", "AliyunESSReadOnlyAccess"])
    assert policies.decide("oos:StartExecution") == "Allow"
    assert policies.decide("ess:DescribeScalingGroups") == "Allow"
    assert policies.decide("ess:SuspendProcesses") == "ImplicitDeny"
    assert policies.decide("ecs:DescribeRegions") == "ImplicitDeny"


def test_read_only_policy_allows_get_list_describe_only():
    policies = PolicySet(["AliyunOOSReadOnlyAccess"])
    assert [policies.decide("oos:" + a) for a in ("GetTemplate", "ListExecutions", "StartExecution")] == [
        "Allow", "Allow", "ImplicitDeny"]


def test_custom_document_with_wildcards_and_deny():
    policies = PolicySet([{"Statement": [
        {"Effect": "Allow", "Action": ["ess:Describe*", "oos:*"], "Resource": "*"},
        {"Effect": "Deny", "Action": "oos:CancelExecution", "Resource": "*"},
    ]}])
    assert policies.decide("ess:DescribeScalingInstances") == "Allow"
    assert policies.decide("ess:EnterStandby") == "ImplicitDeny"
    assert policies.decide("oos:StartExecution") == "Allow"
    assert policies.decide("oos:CancelExecution") == "ExplicitDeny"


def test_bare_action_document_and_case_insensitive_actions():
    policies = PolicySet([{"Action": ["ESS:suspendprocesses"]}])
    assert policies.decide("ess:SuspendProcesses") == "Allow"


def test_unknown_system_policy_is_a_world_error():
    with pytest.raises(WorldError):
        PolicySet(["AliyunNoSuchAccess"])


def test_read_only_user_is_denied_assume_role_naming_the_action(emulator):
    with pytest.raises(ClientException) as raised:
        emulator.call("AssumeRole", STS, {"RoleArn": ROLE, "RoleSessionName": "ro"}, account="readonly")
    assert raised.value.status_code == 403
    assert raised.value.code == "Forbidden.RAM"
    assert "(action: sts:AssumeRole)" in raised.value.message
    assert raised.value.data["AccessDeniedDetail"]["AuthAction"] == "sts:AssumeRole"
    [call] = emulator.calls(action="AssumeRole")
    assert (call["status"], call["error_code"], call["mutating"]) == (403, "Forbidden.RAM", True)


def test_get_caller_identity_needs_no_permission(emulator):
    body = emulator.call("GetCallerIdentity", STS, account="readonly")["body"]
    assert body["Arn"].endswith(":user/readonly")


def test_assume_role_access_policy_allows_assume_role(emulator):
    world = emulator.load_world(accounts=[{"name": "admin", "access_key_id": "LTAI5tOnlySts",
                                           "access_key_secret": "s", "policies": ["AliyunSTSAssumeRoleAccess"]}])
    assert world["accounts"][0]["access_key_id"] == "LTAI5tOnlySts"
    body = emulator.call("AssumeRole", STS, {"RoleArn": ROLE, "RoleSessionName": "ok"})["body"]
    assert body["Credentials"]["AccessKeyId"].startswith("STS.")


def test_explicit_deny_in_custom_policy_over_http(emulator):
    emulator.load_world(accounts=[{"name": "admin", "access_key_id": "LTAI5tDenied", "access_key_secret": "s",
                                   "policies": [{"Statement": [
                                       {"Effect": "Allow", "Action": "*", "Resource": "*"},
                                       {"Effect": "Deny", "Action": "sts:Assume*", "Resource": "*"}]}]}])
    with pytest.raises(ClientException) as raised:
        emulator.call("AssumeRole", STS, {"RoleArn": ROLE, "RoleSessionName": "no"})
    assert raised.value.code == "Forbidden.RAM"
    assert raised.value.data["AccessDeniedDetail"]["NoPermissionType"] == "ExplicitDeny"


def test_session_policy_narrows_the_role(emulator):
    # The role may do oos/ess/ecs; a session policy of oos:List* leaves sts:AssumeRole (not in the role) denied
    # and intersects the rest.
    emulator.load_world(roles=[{"arn": ROLE, "policies": ["AliyunSTSAssumeRoleAccess", "AliyunOOSFullAccess"]}])
    full = emulator.call("AssumeRole", STS, {"RoleArn": ROLE, "RoleSessionName": "full"})["body"]["Credentials"]
    narrow = emulator.call("AssumeRole", STS, {"RoleArn": ROLE, "RoleSessionName": "narrow",
                                                "Policy": '{"Statement": [{"Effect": "Allow", '
                                                          '"Action": ["oos:List*"], "Resource": "*"}]}'}
                           )["body"]["Credentials"]

    def chain(credentials):
        return emulator.call("AssumeRole", STS, {"RoleArn": ROLE, "RoleSessionName": "chain"},
                             access_key_id=credentials["AccessKeyId"],
                             access_key_secret=credentials["AccessKeySecret"],
                             security_token=credentials["SecurityToken"])

    assert chain(full)["statusCode"] == 200
    with pytest.raises(ClientException) as raised:
        chain(narrow)
    assert raised.value.code == "Forbidden.RAM"
