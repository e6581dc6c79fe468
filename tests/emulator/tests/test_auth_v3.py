"""ACS3-HMAC-SHA256 verification: every way a V3 request can be wrong gets the gateway's answer."""
import requests

from emulator_harness import v3_request

STS = "2015-04-01"
ADMIN = ("LTAI5tEmulatorAdmin0001", "emulator-admin-secret-0001")


def send(method, url, headers, body):
    return requests.request(method, url, headers=headers, data=body, timeout=10)


def error_of(response):
    return response.status_code, response.json()["Code"]


def test_correct_v3_request_is_accepted(emulator):
    response = send(*v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS, query={"A": "1"}))
    assert response.status_code == 200, response.text


def test_unknown_access_key(emulator):
    response = send(*v3_request(emulator.url, "LTAI5tNobody", "x", "GetCallerIdentity", STS))
    assert error_of(response) == (404, "InvalidAccessKeyId.NotFound")


def test_wrong_secret(emulator):
    response = send(*v3_request(emulator.url, ADMIN[0], "not-the-secret", "GetCallerIdentity", STS))
    assert error_of(response) == (403, "SignatureDoesNotMatch")


def test_query_changed_after_signing(emulator):
    method, url, headers, body = v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS, query={"A": "1"})
    response = send(method, url.replace("A=1", "A=2"), headers, body)
    assert error_of(response) == (403, "SignatureDoesNotMatch")


def test_signed_header_changed_after_signing(emulator):
    method, url, headers, body = v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS)
    headers["accept"] = "text/xml"
    assert error_of(send(method, url, headers, body)) == (403, "SignatureDoesNotMatch")


def test_content_sha256_must_match_the_body(emulator):
    # Signed consistently with a made-up hash, but the body is something else.
    method, url, headers, _ = v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS,
                                         content_sha256="0" * 64)
    response = send(method, url, headers, b"")
    assert error_of(response) == (403, "SignatureDoesNotMatch")
    assert "x-acs-content-sha256" in response.json()["Message"]


def test_body_changed_after_signing(emulator):
    method, url, headers, _ = v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS, body=b"A=1",
                                         content_type="application/x-www-form-urlencoded")
    assert error_of(send(method, url, headers, b"A=2")) == (403, "SignatureDoesNotMatch")


def test_stale_date_is_expired(emulator):
    response = send(*v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS, date="2024-01-01T00:00:00Z"))
    assert error_of(response) == (400, "InvalidTimeStamp.Expired")


def test_date_in_the_future_beyond_window_is_expired(emulator):
    from emulator_harness import _utc_now
    response = send(*v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS, date=_utc_now(16 * 60)))
    assert error_of(response) == (400, "InvalidTimeStamp.Expired")


def test_date_within_window_is_accepted(emulator):
    from emulator_harness import _utc_now
    response = send(*v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS, date=_utc_now(-14 * 60)))
    assert response.status_code == 200


def test_replayed_nonce(emulator):
    first = send(*v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS, nonce="replay-me"))
    second = send(*v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS, nonce="replay-me"))
    assert first.status_code == 200
    assert error_of(second) == (400, "SignatureNonceUsed")


def test_exact_replay_of_a_captured_request(emulator):
    captured = v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS)
    assert send(*captured).status_code == 200
    assert error_of(send(*captured)) == (400, "SignatureNonceUsed")


def test_rejected_request_does_not_burn_its_nonce(emulator):
    bad = send(*v3_request(emulator.url, ADMIN[0], "wrong", "GetCallerIdentity", STS, nonce="n-1"))
    good = send(*v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS, nonce="n-1"))
    assert bad.status_code == 403 and good.status_code == 200


def test_required_header_left_unsigned(emulator):
    names = ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-version"]  # no nonce
    response = send(*v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS, signed_headers=names))
    assert error_of(response) == (400, "IncompleteSignature")
    assert "x-acs-signature-nonce" in response.json()["Message"]


def test_host_must_be_signed(emulator):
    names = ["x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"]
    response = send(*v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS, signed_headers=names))
    assert error_of(response) == (400, "IncompleteSignature")


def test_minimal_signed_header_set_is_enough(emulator):
    names = ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce",
             "x-acs-version"]
    response = send(*v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS, signed_headers=names))
    assert response.status_code == 200, response.text


def test_malformed_authorization_header(emulator):
    method, url, headers, body = v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS)
    headers["Authorization"] = "ACS3-HMAC-SHA256 Credential=%s" % ADMIN[0]
    assert error_of(send(method, url, headers, body)) == (400, "IncompleteSignature")


def test_missing_authorization_header(emulator):
    method, url, headers, body = v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS)
    del headers["Authorization"]
    assert error_of(send(method, url, headers, body)) == (400, "IncompleteSignature")


def test_other_v3_algorithms_are_rejected_clearly(emulator):
    for algorithm in ("ACS3-HMAC-SM3", "ACS3-RSA-SHA256"):
        response = send(*v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS, algorithm=algorithm))
        assert error_of(response) == (400, "IncompleteSignature")
        assert algorithm in response.json()["Message"]
        assert response.json()["HostId"] == "sts.aliyuncs.com"
    rejected = emulator.calls(error_code="IncompleteSignature")
    assert [(c["action"], c["product"]) for c in rejected] == [("GetCallerIdentity", "sts")] * 2


def test_secrets_and_signatures_never_reach_the_call_log(emulator):
    send(*v3_request(emulator.url, *ADMIN, "GetCallerIdentity", STS))
    send(*v3_request(emulator.url, ADMIN[0], "wrong", "GetCallerIdentity", STS))
    text = repr(emulator.calls())
    assert ADMIN[1] not in text and "Signature=" not in text
    assert [c["access_key_id"] for c in emulator.calls()] == [ADMIN[0], ADMIN[0]]
