"""Routing by action/version, request parsing (`+` as space, form and JSON bodies) and the error body."""
import json

import pytest
import requests

from emulator_harness import v2_params, v3_request

STS = "2015-04-01"
ADMIN = ("LTAI5tEmulatorAdmin0001", "emulator-admin-secret-0001")


def send(method, url, headers, body):
    return requests.request(method, url, headers=headers, data=body, timeout=10)


def test_unknown_action_is_invalid_action_not_found_404(emulator):
    from alibabacloud_tea_openapi.exceptions import ClientException
    with pytest.raises(ClientException) as raised:
        emulator.call("NoSuchAction", STS)
    assert raised.value.code == "InvalidAction.NotFound"
    assert raised.value.status_code == 404


def test_unknown_version_is_invalid_version(emulator):
    response = send(*v3_request(emulator.url, *ADMIN, "GetCallerIdentity", "2099-01-01"))
    assert response.status_code == 400
    assert response.json()["Code"] == "InvalidVersion"


def test_missing_action_is_missing_parameter(emulator):
    params = v2_params(*ADMIN, "GetCallerIdentity", STS, drop=("Action",))
    response = requests.post(emulator.url + "/", params=params, timeout=10)
    assert response.status_code == 400
    body = response.json()
    assert body["Code"] == "MissingParameter" and "Action" in body["Message"]


def test_error_body_has_gateway_fields(emulator):
    response = send(*v3_request(emulator.url, *ADMIN, "NoSuchAction", STS))
    body = response.json()
    assert set(body) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    assert body["HostId"] == "sts.aliyuncs.com"
    assert body["Recommend"] == ("https://api.aliyun.com/troubleshoot?q=InvalidAction.NotFound&product=Sts"
                                 "&requestId=%s" % body["RequestId"])
    assert response.headers["x-acs-request-id"] == body["RequestId"]


def test_every_call_is_logged_with_its_outcome(emulator):
    send(*v3_request(emulator.url, *ADMIN, "NoSuchAction", STS))
    emulator.call("GetCallerIdentity", STS)
    calls = emulator.calls()
    assert [(c["action"], c["status"], c["error_code"]) for c in calls] == [
        ("NoSuchAction", 404, "InvalidAction.NotFound"), ("GetCallerIdentity", 200, None)]
    assert calls[1]["product"] == "sts" and calls[1]["version"] == STS and calls[1]["mutating"] is False


def test_v2_form_body_plus_is_decoded_as_space_and_signed(emulator):
    # The signature covers "a b"; the body carries "a+b": only a server that decodes '+' as space accepts it.
    params = v2_params(*ADMIN, "GetCallerIdentity", STS, params={"Note": "a b*~"})
    body = "&".join("%s=%s" % (k, requests.utils.quote(v, safe="~").replace("%20", "+")) for k, v in params.items())
    assert "Note=a+b%2A~" in body
    response = requests.post(emulator.url + "/", data=body, timeout=10,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text


def test_v2_get_with_everything_in_the_query(emulator):
    params = v2_params(*ADMIN, "GetCallerIdentity", STS, method="GET", params={"Note": "x y"})
    response = requests.get(emulator.url + "/", params=params, timeout=10)
    assert response.status_code == 200, response.text


def test_v3_query_plus_is_decoded_as_space(emulator):
    method, url, headers, body = v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS,
                                            query={"Note": "a b*"})
    assert "Note=a+b%2A" in url  # urlencode(quote_plus), as the SDK sends it
    assert send(method, url, headers, body).status_code == 200


def test_v3_form_body_is_hashed_and_accepted(emulator):
    form = b"RoleArn=acs%3Aram%3A%3A1234567890123456%3Arole%2Frollout-operator&RoleSessionName=form.body"
    response = send(*v3_request(emulator.url, *ADMIN, "AssumeRole", STS, body=form,
                                content_type="application/x-www-form-urlencoded"))
    assert response.status_code == 200, response.text
    assert response.json()["AssumedRoleUser"]["Arn"].endswith("/rollout-operator/form.body")


def test_v3_json_body_is_hashed_and_accepted(emulator):
    doc = json.dumps({"RoleArn": "acs:ram::1234567890123456:role/rollout-operator",
                      "RoleSessionName": "json-body"}).encode()
    response = send(*v3_request(emulator.url, *ADMIN, "AssumeRole", STS, body=doc, content_type="application/json"))
    assert response.status_code == 200, response.text
    assert response.json()["AssumedRoleUser"]["Arn"].endswith("/json-body")


def test_common_parameters_are_not_business_parameters(emulator):
    # AssumeRole reads RoleSessionName; a V2 call carries Action/Signature/... which must not leak into it.
    params = v2_params(*ADMIN, "AssumeRole", STS, params={
        "RoleArn": "acs:ram::1234567890123456:role/rollout-operator", "RoleSessionName": "v2-session"})
    response = requests.post(emulator.url + "/", params=params, timeout=10)
    assert response.status_code == 200, response.text


def test_chunked_form_body_is_read(emulator):
    params = v2_params(*ADMIN, "GetCallerIdentity", STS, params={"Note": "chunked body"})
    body = "&".join("%s=%s" % (k, requests.utils.quote(v, safe="")) for k, v in params.items()).encode()

    def chunks():  # a generator makes requests use Transfer-Encoding: chunked
        yield body[:10]
        yield body[10:]

    response = requests.post(emulator.url + "/", data=chunks(), timeout=10,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text


def test_many_calls_share_one_keep_alive_connection(emulator):
    import http.client
    from urllib.parse import urlencode
    connection = http.client.HTTPConnection(emulator.host_port, timeout=10)
    sockets = []
    for _ in range(3):
        connection.request("POST", "/?" + urlencode(v2_params(*ADMIN, "GetCallerIdentity", STS)))
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        sockets.append(connection.sock)  # None once the server has closed the connection
    connection.close()
    assert sockets[0] is not None and all(sock is sockets[0] for sock in sockets)  # one TCP connection
