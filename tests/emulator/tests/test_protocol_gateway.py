"""The gateway in-process (no HTTP): what handlers receive, and what happens when one breaks."""
import hashlib
import json
import uuid

import pytest

from alicloud_emulator import signing
from alicloud_emulator.api import ApiError, api
from alicloud_emulator.app import Emulator
from alicloud_emulator.gateway import Gateway, IncomingRequest
from emulator_harness import _utc_now

SEEN = {}


@api("sts", "EchoForGatewayTest")
def _echo(req):
    SEEN["params"] = dict(req.params)
    SEEN["processes"] = req.list("Processes", "Process")
    SEEN["caller"] = req.caller.access_key_id
    return {"Echo": "ok"}


@api("sts", "BreakForGatewayTest")
def _break(req):
    raise RuntimeError("handler bug")


@api("sts", "RefuseForGatewayTest")
def _refuse(req):
    raise ApiError("IncorrectScalingGroupStatus", "The current status of the specified scaling group does not "
                   "support this action.", status=400)


WORLD = {"accounts": [{"name": "t", "access_key_id": "LTAI5tGateway", "access_key_secret": "gateway-secret"}]}


@pytest.fixture(scope="module")
def gateway():
    emulator = Emulator(speed_override=600)
    emulator.load_world(dict(WORLD))
    yield Gateway(emulator)
    emulator.shutdown()


def v2(gateway, action, params, method="POST"):
    full = {"Action": action, "Version": "2015-04-01", "Format": "json", "AccessKeyId": "LTAI5tGateway",
            "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": _utc_now()}
    full.update(params)
    full["Signature"] = signing.v2_signature("gateway-secret", method, full)
    query = "&".join("%s=%s" % (signing.percent_encode(k), signing.percent_encode(v)) for k, v in full.items())
    response = gateway.handle(IncomingRequest(method, "/", query, {"host": ["127.0.0.1:1"]}, b""))
    return response.status, json.loads(response.body)


def test_handlers_receive_business_parameters_only(gateway):
    status, body = v2(gateway, "EchoForGatewayTest", {"RegionId": "cn-hangzhou", "Process.1": "ScaleIn",
                                                      "Process.2": "ScaleOut", "Note": "a b"})
    assert status == 200 and body["Echo"] == "ok" and body["RequestId"]
    assert SEEN["params"] == {"RegionId": "cn-hangzhou", "Process.1": "ScaleIn", "Process.2": "ScaleOut",
                              "Note": "a b"}
    assert SEEN["processes"] == ["ScaleIn", "ScaleOut"]
    assert SEEN["caller"] == "LTAI5tGateway"


def test_handler_exception_is_internal_error_500_with_traceback_on_stderr(gateway, capsys):
    status, body = v2(gateway, "BreakForGatewayTest", {})
    assert (status, body["Code"]) == (500, "InternalError")
    assert "handler bug" in capsys.readouterr().err
    assert "handler bug" not in body["Message"]


def test_handler_api_error_keeps_code_and_status(gateway):
    status, body = v2(gateway, "RefuseForGatewayTest", {})
    assert (status, body["Code"]) == (400, "IncorrectScalingGroupStatus")
    assert body["HostId"] == "sts.aliyuncs.com"


def test_v3_json_body_values_reach_handlers_as_strings(gateway):
    body = json.dumps({"Tags": {"k": "v"}, "Count": 3}).encode()
    headers = {"host": "127.0.0.1:1", "x-acs-action": "EchoForGatewayTest", "x-acs-version": "2015-04-01",
               "x-acs-date": _utc_now(), "x-acs-signature-nonce": uuid.uuid4().hex,
               "x-acs-content-sha256": hashlib.sha256(body).hexdigest(), "content-type": "application/json"}
    names = sorted(headers)
    listed = {k: [v] for k, v in headers.items()}
    signature = signing.v3_signature("gateway-secret", "POST", "/", {}, listed, names,
                                     hashlib.sha256(body).hexdigest())
    listed["authorization"] = ["ACS3-HMAC-SHA256 Credential=LTAI5tGateway,SignedHeaders=%s,Signature=%s"
                               % (";".join(names), signature)]
    response = gateway.handle(IncomingRequest("POST", "/", "", listed, body))
    assert response.status == 200, response.body
    assert SEEN["params"] == {"Tags": '{"k": "v"}', "Count": "3"}


def test_call_log_marks_mutating_from_the_registry(gateway):
    v2(gateway, "EchoForGatewayTest", {})
    entries, _ = gateway.emulator.calls.list(action="EchoForGatewayTest")
    assert entries[-1]["mutating"] is False


def test_nonces_are_forgotten_after_the_signature_window():
    from alicloud_emulator import app
    now = [1000.0]
    nonces = app.NonceCache(clock=lambda: now[0])
    assert nonces.use("ak", "n1") is True
    assert nonces.use("ak", "n1") is False
    assert nonces.use("other-ak", "n1") is True  # nonces are per access key
    now[0] += app.NONCE_TTL_SECONDS + 1
    assert nonces.use("ak", "n2") is True  # this call also prunes the expired entries
    assert nonces.use("ak", "n1") is True
