"""V2 RPC HMAC-SHA1 verification (SignatureVersion=1.0)."""
import pytest
import requests

from emulator_harness import v2_params

STS = "2015-04-01"
ADMIN = ("LTAI5tEmulatorAdmin0001", "emulator-admin-secret-0001")


def post(emulator, params):
    return requests.post(emulator.url + "/", params=params, timeout=10)


def error_of(response):
    return response.status_code, response.json()["Code"]


def test_correct_v2_request_is_accepted(emulator):
    assert post(emulator, v2_params(*ADMIN, "GetCallerIdentity", STS)).status_code == 200


def test_v2_signature_uses_the_real_http_method(emulator):
    signed_for_get = v2_params(*ADMIN, "GetCallerIdentity", STS, method="GET")
    assert error_of(post(emulator, signed_for_get)) == (403, "SignatureDoesNotMatch")


def test_unknown_access_key(emulator):
    assert error_of(post(emulator, v2_params("LTAI5tNobody", "x", "GetCallerIdentity", STS))) == (
        404, "InvalidAccessKeyId.NotFound")


def test_wrong_secret(emulator):
    assert error_of(post(emulator, v2_params(ADMIN[0], "bad", "GetCallerIdentity", STS))) == (
        403, "SignatureDoesNotMatch")


def test_parameter_changed_after_signing(emulator):
    params = v2_params(*ADMIN, "GetCallerIdentity", STS, params={"RegionId": "cn-hangzhou"})
    params["RegionId"] = "cn-shanghai"
    assert error_of(post(emulator, params)) == (403, "SignatureDoesNotMatch")


def test_stale_timestamp(emulator):
    params = v2_params(*ADMIN, "GetCallerIdentity", STS, timestamp="2024-01-01T00:00:00Z")
    assert error_of(post(emulator, params)) == (400, "InvalidTimeStamp.Expired")


def test_malformed_timestamp(emulator):
    params = v2_params(*ADMIN, "GetCallerIdentity", STS, timestamp="yesterday")
    assert error_of(post(emulator, params)) == (400, "InvalidTimeStamp.Format")


def test_replayed_nonce(emulator):
    assert post(emulator, v2_params(*ADMIN, "GetCallerIdentity", STS, nonce="v2-nonce")).status_code == 200
    assert error_of(post(emulator, v2_params(*ADMIN, "GetCallerIdentity", STS, nonce="v2-nonce"))) == (
        400, "SignatureNonceUsed")


@pytest.mark.parametrize("name", ["Signature", "SignatureNonce", "Timestamp", "AccessKeyId", "SignatureMethod"])
def test_missing_signature_parts(emulator, name):
    params = v2_params(*ADMIN, "GetCallerIdentity", STS)
    del params[name]
    response = post(emulator, params)
    assert error_of(response) == (400, "MissingParameter")
    assert name in response.json()["Message"]


def test_unsupported_signature_method(emulator):
    params = v2_params(*ADMIN, "GetCallerIdentity", STS, signature_method="HMAC-SHA256")
    assert error_of(post(emulator, params)) == (400, "IncompleteSignature")


def test_tea_sdk_v2_wrong_secret_raises_client_error(emulator):
    from alibabacloud_tea_openapi.exceptions import ClientException
    with pytest.raises(ClientException) as raised:
        emulator.call("GetCallerIdentity", STS, signature_algorithm="v2", access_key_id=ADMIN[0],
                      access_key_secret="bad")
    assert raised.value.code == "SignatureDoesNotMatch"


def test_signature_mismatch_shows_the_server_string_to_sign_but_never_the_token(emulator):
    credentials = emulator.mint_sts_token()
    params = v2_params(credentials["AccessKeyId"], "wrong-secret", "GetCallerIdentity", STS,
                       security_token=credentials["SecurityToken"])
    response = post(emulator, params)
    message = response.json()["Message"]
    assert error_of(response) == (403, "SignatureDoesNotMatch")
    assert "server string to sign is:POST&%2F&AccessKeyId%3D" + credentials["AccessKeyId"] in message
    assert credentials["SecurityToken"] not in message and "redacted" in message
