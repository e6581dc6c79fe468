"""Fault injection: throttling with retry-after, random errors, dropped connections, latency."""
import pytest
import requests
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException

from alicloud_emulator.faults import TokenBucket, validate
from alicloud_emulator.accounts import WorldError
from emulator_harness import v3_request

STS = "2015-04-01"
ADMIN = ("LTAI5tEmulatorAdmin0001", "emulator-admin-secret-0001")


def raw_call(emulator, action="GetCallerIdentity"):
    method, url, headers, body = v3_request(emulator.url, *ADMIN, action, STS)
    return requests.request(method, url, headers=headers, data=body, timeout=10)


def test_token_bucket_allows_a_burst_of_rate_then_reports_wait():
    bucket = TokenBucket(2)
    assert bucket.take() == 0 and bucket.take() == 0
    wait_ms = bucket.take()
    assert 1 <= wait_ms <= 500


def test_zero_rate_always_throttles():
    bucket = TokenBucket(0)
    assert bucket.take() == 0  # capacity is at least one token
    assert bucket.take() == 1000


def test_validation_rejects_unknown_keys_and_bad_values():
    for bad in ({"nope": 1}, {"error_rate": 1.5}, {"drop_rate": "x"}, {"throttle": {"http_status": 418}},
                {"unhealthy_packages": ["nginx"]}, {"failing_instances": ["i-1"]}):
        with pytest.raises(WorldError):
            validate(bad)


def test_validation_normalises_numbers_to_per_action_tables():
    assert validate({"error_rate": 0.5, "throttle": {"qps": 3, "ListExecutions": 1}}) == {
        "error_rate": {"default": 0.5}, "throttle": {"default": 3, "ListExecutions": 1}}


def test_per_action_throttle_answers_throttling_user_with_retry_after(emulator):
    emulator.set_faults({"throttle": {"GetCallerIdentity": 1}})
    responses = [raw_call(emulator) for _ in range(3)]
    statuses = [r.status_code for r in responses]
    assert statuses[0] == 200 and 400 in statuses
    throttled = next(r for r in responses if r.status_code == 400)
    assert throttled.json()["Code"] == "Throttling.User"
    assert int(throttled.headers["x-acs-retry-after"]) >= 1
    # Another action is not limited by GetCallerIdentity's bucket.
    assert raw_call(emulator, "NoSuchAction").status_code == 404


def test_tea_sdk_sees_throttling_exception_with_retry_after(emulator):
    emulator.set_faults({"throttle": {"default": 1}})
    emulator.call("GetCallerIdentity", STS)
    with pytest.raises(ThrottlingException) as raised:
        for _ in range(5):
            emulator.call("GetCallerIdentity", STS)
    assert raised.value.code == "Throttling.User"
    assert raised.value.retry_after >= 1


def test_throttle_status_can_be_429(emulator):
    emulator.set_faults({"throttle": {"default": 1, "http_status": 429}})
    statuses = [raw_call(emulator).status_code for _ in range(3)]
    assert 429 in statuses


def test_error_rate_one_always_fails_with_503_or_500(emulator):
    emulator.set_faults({"error_rate": 1.0, "seed": 7})
    responses = [raw_call(emulator) for _ in range(8)]
    codes = {(r.status_code, r.json()["Code"]) for r in responses}
    assert codes <= {(503, "ServiceUnavailable"), (500, "InternalError")}
    assert len(codes) == 2  # with seed 7 both kinds appear in eight calls


def test_tea_sdk_raises_server_exception_for_injected_errors(emulator):
    emulator.set_faults({"error_rate": {"GetCallerIdentity": 1.0}})
    with pytest.raises(ServerException) as raised:
        emulator.call("GetCallerIdentity", STS)
    assert raised.value.code in ("ServiceUnavailable", "InternalError")


def test_per_action_error_rate_leaves_other_actions_alone(emulator):
    emulator.set_faults({"error_rate": {"AssumeRole": 1.0}})
    assert raw_call(emulator).status_code == 200


def test_seeded_errors_are_reproducible(emulator):
    def run():
        emulator.set_faults({"error_rate": 0.5, "seed": 42}, replace=True)
        return [raw_call(emulator).status_code for _ in range(12)]
    first, second = run(), run()
    assert first == second
    assert 200 in first and any(s >= 500 for s in first)


def test_drop_rate_one_resets_the_connection(emulator):
    emulator.set_faults({"drop_rate": 1.0})
    with pytest.raises(requests.ConnectionError):
        raw_call(emulator)
    [call] = emulator.calls()
    assert call["error_code"] == "ConnectionDropped" and call["fault"] == "drop"


def test_tea_sdk_sees_dropped_connection_as_an_error(emulator):
    emulator.set_faults({"drop_rate": {"GetCallerIdentity": 1.0}})
    with pytest.raises(Exception) as raised:
        emulator.call("GetCallerIdentity", STS)
    assert not isinstance(raised.value, ClientException)


def test_latency_is_added_and_recorded(emulator):
    emulator.set_faults({"latency_ms": {"GetCallerIdentity": 50}})
    assert raw_call(emulator).status_code == 200
    [call] = emulator.calls()
    assert call["fault"] == "latency"
    assert call["duration_ms"] >= 50  # a sleep of 50 ms happened inside the call (a lower bound, never flaky)


def test_faults_never_apply_to_the_control_plane(emulator):
    emulator.set_faults({"error_rate": 1.0, "drop_rate": 1.0, "throttle": {"default": 0}})
    for _ in range(3):
        assert emulator.health()["status"] == "ok"
    assert emulator.faults()["drop_rate"] == {"default": 1.0}


def test_faults_from_the_world_file_apply(emulator):
    emulator.load_world(faults={"error_rate": {"GetCallerIdentity": 1.0}})
    assert raw_call(emulator).status_code in (500, 503)


def test_model_faults_are_stored(emulator):
    emulator.set_faults({"failing_instances": {"i-abc": "RunCommand"}, "unhealthy_images": ["m-1"],
                         "unhealthy_packages": ["nginx@1.26.1"]})
    faults = emulator.faults()
    assert faults["failing_instances"] == {"i-abc": "RunCommand"}
    assert faults["unhealthy_packages"] == ["nginx@1.26.1"]


def test_lost_response_does_the_work_but_resets_the_connection_once(emulator):
    emulator.set_faults({"lost_responses": {"GetCallerIdentity": 1}})
    with pytest.raises(requests.ConnectionError):
        raw_call(emulator)
    assert raw_call(emulator).status_code == 200  # only the first N calls lose their response
    first, second = emulator.calls()
    assert (first["status"], first["fault"]) == (200, "lost_response") and second["fault"] is None
    with pytest.raises(WorldError):
        validate({"lost_responses": {"StartExecution": 1.5}})
