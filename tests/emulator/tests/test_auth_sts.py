"""STS AssumeRole, temporary credentials and security-token checks (V2 `SecurityToken`, V3 header)."""
import pytest
import requests
from alibabacloud_tea_openapi.exceptions import ClientException

from emulator_harness import v2_params, v3_request

STS = "2015-04-01"
ROLE = "acs:ram::1234567890123456:role/rollout-operator"


def assume(emulator, **params):
    params = dict({"RoleArn": ROLE, "RoleSessionName": "tests"}, **params)
    return emulator.call("AssumeRole", STS, params)["body"]


def sdk_error(call):
    with pytest.raises(ClientException) as raised:
        call()
    return raised.value.status_code, raised.value.code


def test_assume_role_returns_credentials_and_assumed_role_user(emulator):
    body = assume(emulator, DurationSeconds="900")
    credentials = body["Credentials"]
    assert credentials["AccessKeyId"].startswith("STS.")
    assert credentials["AccessKeySecret"] and credentials["SecurityToken"]
    assert credentials["Expiration"].endswith("Z")
    assert body["AssumedRoleUser"]["Arn"] == "acs:ram::1234567890123456:assumed-role/rollout-operator/tests"
    assert body["AssumedRoleUser"]["AssumedRoleId"].endswith(":tests")


@pytest.mark.parametrize("signature_algorithm", [None, "v2"])
def test_temporary_credentials_work_in_both_signatures(emulator, signature_algorithm):
    credentials = assume(emulator)["Credentials"]
    body = emulator.call("GetCallerIdentity", STS, access_key_id=credentials["AccessKeyId"],
                         access_key_secret=credentials["AccessKeySecret"],
                         security_token=credentials["SecurityToken"],
                         signature_algorithm=signature_algorithm)["body"]
    assert body["IdentityType"] == "AssumedRoleUser"
    assert body["Arn"].endswith(":assumed-role/rollout-operator/tests")
    assert set(body) >= {"AccountId", "UserId", "Arn", "IdentityType", "PrincipalId", "RequestId"}


def test_expired_token_is_rejected(emulator):
    credentials = emulator.mint_sts_token(ROLE, expired=True)
    assert sdk_error(lambda: emulator.call(
        "GetCallerIdentity", STS, access_key_id=credentials["AccessKeyId"],
        access_key_secret=credentials["AccessKeySecret"],
        security_token=credentials["SecurityToken"])) == (400, "InvalidSecurityToken.Expired")


def test_expired_token_is_rejected_in_v2(emulator):
    credentials = emulator.mint_sts_token(ROLE, expired=True)
    params = v2_params(credentials["AccessKeyId"], credentials["AccessKeySecret"], "GetCallerIdentity", STS,
                       security_token=credentials["SecurityToken"])
    response = requests.post(emulator.url + "/", params=params, timeout=10)
    assert (response.status_code, response.json()["Code"]) == (400, "InvalidSecurityToken.Expired")


def test_token_of_another_key_is_a_mismatch(emulator):
    first, second = emulator.mint_sts_token(ROLE), emulator.mint_sts_token(ROLE)
    assert sdk_error(lambda: emulator.call(
        "GetCallerIdentity", STS, access_key_id=first["AccessKeyId"], access_key_secret=first["AccessKeySecret"],
        security_token=second["SecurityToken"])) == (400, "InvalidSecurityToken.MismatchWithAccessKey")


def test_made_up_token_is_malformed(emulator):
    credentials = emulator.mint_sts_token(ROLE)
    assert sdk_error(lambda: emulator.call(
        "GetCallerIdentity", STS, access_key_id=credentials["AccessKeyId"],
        access_key_secret=credentials["AccessKeySecret"],
        security_token="CAISnot-a-real-token")) == (400, "InvalidSecurityToken.Malformed")


def test_sts_key_without_token(emulator):
    credentials = emulator.mint_sts_token(ROLE)
    method, url, headers, body = v3_request(emulator.url, credentials["AccessKeyId"],
                                            credentials["AccessKeySecret"], "GetCallerIdentity", STS)
    response = requests.request(method, url, headers=headers, data=body, timeout=10)
    assert (response.status_code, response.json()["Code"]) == (400, "MissingSecurityToken")


def test_long_term_key_with_a_token_is_a_mismatch(emulator):
    credentials = emulator.mint_sts_token(ROLE)
    assert sdk_error(lambda: emulator.call("GetCallerIdentity", STS,
                                           security_token=credentials["SecurityToken"])) == (
        400, "InvalidSecurityToken.MismatchWithAccessKey")


def test_duration_limits(emulator):
    assert sdk_error(lambda: assume(emulator, DurationSeconds="899")) == (400, "InvalidParameter.DurationSeconds")
    # The default role allows at most 3600 s (max_session_duration default).
    assert sdk_error(lambda: assume(emulator, DurationSeconds="3601")) == (400, "InvalidParameter.DurationSeconds")


def test_role_max_session_duration_allows_longer_sessions(emulator):
    emulator.load_world(roles=[{"arn": ROLE, "max_session_duration": 43200}])
    assert assume(emulator, DurationSeconds="43200")["Credentials"]["AccessKeyId"].startswith("STS.")
    assert sdk_error(lambda: assume(emulator, DurationSeconds="43201")) == (400, "InvalidParameter.DurationSeconds")


def test_unknown_role(emulator):
    assert sdk_error(lambda: assume(emulator, RoleArn="acs:ram::1234567890123456:role/nope")) == (
        404, "EntityNotExist.Role")


def test_missing_role_parameters(emulator):
    assert sdk_error(lambda: emulator.call("AssumeRole", STS, {"RoleSessionName": "x1"})) == (400, "MissingRoleArn")
    assert sdk_error(lambda: emulator.call("AssumeRole", STS, {"RoleArn": ROLE})) == (400, "MissingRoleSessionName")


def test_invalid_session_policy(emulator):
    assert sdk_error(lambda: assume(emulator, Policy="{not json")) == (400, "InvalidParameter.PolicyGrammar")


def test_world_reset_forgets_temporary_credentials(emulator):
    credentials = emulator.mint_sts_token(ROLE)
    emulator.load_world()
    # A new world has new accounts: old temporary keys are gone.
    assert sdk_error(lambda: emulator.call(
        "GetCallerIdentity", STS, access_key_id=credentials["AccessKeyId"],
        access_key_secret=credentials["AccessKeySecret"],
        security_token=credentials["SecurityToken"])) == (404, "InvalidAccessKeyId.NotFound")


def test_caller_identity_of_the_account_itself(emulator):
    emulator.load_world(accounts=[{"name": "admin", "account_id": "5555", "root": True,
                                   "access_key_id": "LTAI5tRoot", "access_key_secret": "r"}])
    body = emulator.call("GetCallerIdentity", STS)["body"]
    assert (body["IdentityType"], body["Arn"], body["UserId"], body["PrincipalId"]) == (
        "Account", "acs:ram::5555:root", "5555", "5555")


def test_caller_identity_of_a_ram_user_is_stable(emulator):
    first = emulator.call("GetCallerIdentity", STS)["body"]
    second = emulator.call("GetCallerIdentity", STS, signature_algorithm="v2")["body"]
    assert first["UserId"] == second["UserId"] == first["PrincipalId"]
    assert first["IdentityType"] == "RAMUser"
