"""The /_emulator/ control plane: health, state, calls, world, faults, instance health, STS minting."""
import pytest
import requests
from alibabacloud_tea_openapi.exceptions import ClientException

STS = "2015-04-01"


def test_health(emulator):
    health = emulator.health()
    assert health["status"] == "ok"
    assert health["speed"] == 600  # the session process runs with --speed 600
    assert "sts" in health["products"]


def test_state_is_the_world_snapshot(emulator):
    state = emulator.state()
    assert isinstance(state, dict) and state


def test_calls_since_and_filters(emulator):
    emulator.call("GetCallerIdentity", STS)
    emulator.call("AssumeRole", STS, {"RoleArn": "acs:ram::1234567890123456:role/rollout-operator",
                                      "RoleSessionName": "cp"})
    emulator.call("GetCallerIdentity", STS)
    calls = emulator.calls()
    assert [c["action"] for c in calls] == ["GetCallerIdentity", "AssumeRole", "GetCallerIdentity"]
    assert [c["action"] for c in emulator.calls(since=calls[1]["index"])] == ["AssumeRole", "GetCallerIdentity"]
    assert [c["mutating"] for c in emulator.calls(action="AssumeRole")] == [True]
    entry = calls[0]
    assert set(entry) >= {"time", "product", "action", "version", "access_key_id", "status", "error_code",
                          "request_id", "mutating", "signature_version", "index"}
    assert entry["time"].endswith("Z")


def test_calls_next_index_and_delete(emulator):
    emulator.call("GetCallerIdentity", STS)
    listing = requests.get(emulator.url + "/_emulator/calls", timeout=10).json()
    assert listing["next"] == listing["calls"][-1]["index"] + 1
    emulator.clear_calls()
    assert emulator.calls() == []
    emulator.call("GetCallerIdentity", STS)
    # Indexes keep growing after a delete, so a stale `since` never repeats calls.
    assert emulator.calls(since=listing["next"])[0]["index"] >= listing["next"]


def test_post_world_replaces_accounts_and_clears_calls(emulator):
    emulator.call("GetCallerIdentity", STS)
    emulator.load_world(accounts=[{"name": "admin", "access_key_id": "LTAI5tNewAdmin", "access_key_secret": "n"}])
    assert emulator.calls() == []
    assert emulator.call("GetCallerIdentity", STS)["body"]["Arn"].endswith(":user/admin")
    with pytest.raises(ClientException) as raised:
        emulator.call("GetCallerIdentity", STS, access_key_id="LTAI5tEmulatorAdmin0001",
                      access_key_secret="emulator-admin-secret-0001")
    assert raised.value.code == "InvalidAccessKeyId.NotFound"


def test_post_world_clears_nonces(emulator):
    from emulator_harness import v3_request
    request = v3_request(emulator.url, "LTAI5tEmulatorAdmin0001", "emulator-admin-secret-0001",
                         "GetCallerIdentity", STS, nonce="same-nonce")
    method, url, headers, body = request
    assert requests.request(method, url, headers=headers, data=body, timeout=10).status_code == 200
    emulator.load_world()
    assert requests.request(method, url, headers=headers, data=body, timeout=10).status_code == 200


def test_post_world_speed_override(emulator):
    emulator.load_world(speed=5)
    assert emulator.health()["speed"] == 5


def test_invalid_world_is_a_400_with_a_reason(emulator):
    response = requests.post(emulator.url + "/_emulator/world", json={"accounts": [{"name": "x"}]}, timeout=10)
    assert response.status_code == 400
    assert "access_key_id" in response.json()["error"]
    response = requests.post(emulator.url + "/_emulator/world", json={"faults": {"nope": 1}}, timeout=10)
    assert response.status_code == 400 and "nope" in response.json()["error"]


def test_world_can_be_posted_as_yaml(emulator):
    text = open(emulator_default_world(), encoding="utf-8").read()
    response = requests.post(emulator.url + "/_emulator/world", data=text.encode(),
                             headers={"Content-Type": "application/yaml"}, timeout=10)
    assert response.status_code == 200, response.text


def emulator_default_world():
    from emulator_harness import DEFAULT_WORLD
    return DEFAULT_WORLD


def test_faults_merge_replace_and_remove(emulator):
    assert emulator.set_faults({"error_rate": 0.1}) == {"error_rate": {"default": 0.1}}
    merged = emulator.set_faults({"latency_ms": 5})
    assert merged == {"error_rate": {"default": 0.1}, "latency_ms": {"default": 5}}
    assert emulator.set_faults({"error_rate": None}) == {"latency_ms": {"default": 5}}
    assert emulator.set_faults({"drop_rate": 0.2}, replace=True) == {"drop_rate": {"default": 0.2}}
    assert emulator.faults() == {"drop_rate": {"default": 0.2}}
    response = requests.post(emulator.url + "/_emulator/faults?mode=replace", json={}, timeout=10)
    assert response.json() == {} and emulator.faults() == {}


def test_invalid_faults_are_a_400(emulator):
    response = requests.post(emulator.url + "/_emulator/faults", json={"error_rate": 2}, timeout=10)
    assert response.status_code == 400
    assert emulator.faults() == {}


def test_instance_health_for_unknown_instance(emulator):
    status, body = emulator.instance_health("i-doesnotexist")
    assert status == 404
    assert isinstance(body, dict)


def test_mint_sts_token(emulator):
    credentials = emulator.mint_sts_token()
    body = emulator.call("GetCallerIdentity", STS, access_key_id=credentials["AccessKeyId"],
                         access_key_secret=credentials["AccessKeySecret"],
                         security_token=credentials["SecurityToken"])["body"]
    assert body["IdentityType"] == "AssumedRoleUser"
    response = requests.post(emulator.url + "/_emulator/sts-token", json={"role_arn": "acs:ram::1:role/x"},
                             timeout=10)
    assert response.status_code == 400


def test_unknown_control_endpoint_is_404(emulator):
    response = requests.get(emulator.url + "/_emulator/nothing-here", timeout=10)
    assert response.status_code == 404 and "error" in response.json()


def test_control_plane_calls_are_not_logged(emulator):
    emulator.health()
    emulator.state()
    assert emulator.calls() == []


def test_call_log_drops_oldest_entries_beyond_its_cap(monkeypatch):
    from alicloud_emulator import app
    monkeypatch.setattr(app, "MAX_LOGGED_CALLS", 10)
    log = app.CallLog()
    for number in range(12):
        log.append({"n": number})
    entries, next_index = log.list()
    assert next_index == 12
    assert entries[0]["index"] == entries[0]["n"] == 2 and entries[-1]["n"] == 11
    assert [e["n"] for e in log.list(since=5)[0]] == list(range(5, 12))
