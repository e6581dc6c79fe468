"""Issue 6, TLS: certificate verification is on by default, for endpoint_url and for per-product endpoints
(which are HTTPS unless given otherwise); plain http is only accepted through endpoint_url.

The emulator is put behind a local HTTPS front with a self-signed certificate made at test time.
"""
import pytest

from support.reliability.common import GROUP, crash_markers, run_tasks
from support.reliability.tls import TlsFront, self_signed_certificate

INFO = "alicloud.rollout.ess_scaling_group_info"
TLS_ERROR_WORDS = ("certificate verify failed", "CERTIFICATE_VERIFY_FAILED")
# Two attempts at most, quickly: a verification failure must not be retried at all.
FAST_RETRY = {"retries": 2, "retry_max_delay": 0.2}
NO_ENDPOINT_ENV = {"ALICLOUD_ENDPOINT_URL": None}


@pytest.fixture
def tls_front(emulator, tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    with TlsFront(emulator.host_port, cert, key) as front:
        yield front


def all_endpoints(value):
    return {"oos": value, "ess": value, "ecs": value, "sts": value}


def info(**args):
    task_args = {"scaling_group_id": GROUP}
    task_args.update(args)
    return {INFO: task_args}


def test_validate_certs_false_is_the_only_way_through_a_self_signed_endpoint(emulator, tmp_path, tls_front):
    host_port = "127.0.0.1:%d" % tls_front.port
    process, results = run_tasks(emulator, tmp_path, [
        info(endpoint_url=tls_front.url, **FAST_RETRY),
        info(endpoint_url=tls_front.url, validate_certs=False),
        # A per-product endpoint without a scheme is HTTPS, and verified too.
        info(endpoints=all_endpoints(host_port), **FAST_RETRY),
        info(endpoints=all_endpoints(host_port), validate_certs=False),
        info(endpoints=all_endpoints("https://" + host_port), **FAST_RETRY),
        # Plain http is refused for per-product endpoints, before any request.
        info(endpoints=all_endpoints("http://" + emulator.host_port)),
    ], env=NO_ENDPOINT_ENV)
    verified_url, unverified_url, verified_host, unverified_host, verified_https, plain_http = results

    for refused in (verified_url, verified_host, verified_https):
        assert refused.get("failed") is True, refused
        assert any(word.lower() in refused["msg"].lower() for word in TLS_ERROR_WORDS), refused["msg"]
    for accepted in (unverified_url, unverified_host):
        assert not accepted.get("failed"), accepted.get("msg")
        assert [g["scaling_group_id"] for g in accepted["scaling_groups"]] == [GROUP]
    assert plain_http.get("failed") is True and "plain http" in plain_http["msg"]
    assert crash_markers(process.stdout + process.stderr) == []
    # Every request the emulator saw came through the front, from the two unverified runs; the plain-http
    # configuration never sent one.
    calls = emulator.calls()
    assert calls and all(c["status"] == 200 for c in calls)
    assert len(calls) == tls_front.requests


def test_a_certificate_failure_is_not_retried_and_says_what_to_do(emulator, tmp_path, tls_front):
    process, results = run_tasks(emulator, tmp_path, [info(endpoint_url=tls_front.url, **FAST_RETRY)],
                                 env=NO_ENDPOINT_ENV)
    refused = results[0]
    assert refused.get("failed") is True
    assert refused["error"]["code"] == "TlsVerificationFailed"
    assert "validate_certs" in refused["msg"] and "trust store" in refused["msg"]
    assert tls_front.connections == 1, "the failed handshake was retried"
    assert crash_markers(process.stdout + process.stderr) == []
