"""Retry policy: what is retried, how long it waits, and that mutating calls are protected."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
from ansible_collections.alicloud.rollout.plugins.module_utils.retry import RetryPolicy


def api_error(code, status=400, retry_after=None):
    return AlicloudApiError(code, "boom", request_id="RID", http_status=status, operation="Op", product="oos",
                            retry_after=retry_after)


class Flaky:
    """Fails with the given errors, then returns 'ok'."""

    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def policy(**kwargs):
    sleeps = []
    kwargs.setdefault("rng", lambda: 1.0)
    return RetryPolicy(sleep=sleeps.append, **kwargs), sleeps


@pytest.mark.parametrize("code,status", [
    ("Throttling", 400), ("Throttling.User", 400), ("Throttling.Api", 429), ("Rejected.Throttling", 400),
    ("ServiceUnavailable", 503), ("InternalError", 500), ("SomethingNew", 502), ("NetworkError", None),
])
def test_transient_errors_are_retried_until_success(code, status):
    retry, sleeps = policy(max_attempts=4)
    func = Flaky(api_error(code, status), api_error(code, status))
    assert retry.call(func) == "ok"
    assert func.calls == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize("code,status", [
    ("InvalidParameter", 400), ("Forbidden.RAM", 403), ("InvalidAccessKeyId.NotFound", 404),
    ("SignatureDoesNotMatch", 400), ("EntityNotExists.Execution", 404), ("TlsVerificationFailed", None),
])
def test_client_errors_are_not_retried(code, status):
    retry, sleeps = policy()
    func = Flaky(api_error(code, status))
    with pytest.raises(AlicloudApiError) as raised:
        retry.call(func)
    assert raised.value.code == code
    assert func.calls == 1 and sleeps == []


def test_attempts_are_bounded_and_last_error_raised():
    retry, sleeps = policy(max_attempts=3)
    func = Flaky(*[api_error("ServiceUnavailable", 503) for dummy in range(5)])
    with pytest.raises(AlicloudApiError):
        retry.call(func)
    assert func.calls == 3
    assert len(sleeps) == 2


def test_mutating_call_without_token_is_not_repeated_after_5xx_or_network_error():
    for error in (api_error("InternalError", 500), api_error("NetworkError", None)):
        retry, dummy = policy()
        func = Flaky(error)
        with pytest.raises(AlicloudApiError):
            retry.call(func, safe_to_repeat=False)
        assert func.calls == 1


def test_mutating_call_is_repeated_after_throttling_because_the_gateway_refused_it():
    retry, dummy = policy()
    func = Flaky(api_error("Throttling.User"))
    assert retry.call(func, safe_to_repeat=False) == "ok"
    assert func.calls == 2


def test_full_jitter_backoff_grows_and_is_capped():
    retry = RetryPolicy(base_delay=0.5, max_delay=4.0, rng=lambda: 1.0)
    assert [retry.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    jittered = RetryPolicy(base_delay=0.5, max_delay=4.0, rng=lambda: 0.25)
    assert jittered.backoff(3) == 0.5


def test_retry_after_from_the_server_is_honoured_up_to_the_cap():
    retry = RetryPolicy(base_delay=0.5, max_delay=10.0, rng=lambda: 0.0)
    assert retry.backoff(1, retry_after=3.0) == 3.0
    assert retry.backoff(1, retry_after=60.0) == 10.0


def test_sleep_uses_retry_after_of_throttling_error():
    retry, sleeps = policy(rng=lambda: 0.0)
    retry.call(Flaky(api_error("Throttling.User", retry_after=1.5)))
    assert sleeps == [1.5]


def test_max_attempts_must_be_positive():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
