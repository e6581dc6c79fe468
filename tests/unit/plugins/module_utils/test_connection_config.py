"""Credential precedence, region and endpoint resolution (no API calls)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.alicloud.rollout.plugins.module_utils.client import (
    Connection, resolve_credentials, resolve_endpoint, resolve_region, connection_argument_spec, USER_AGENT)
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import ConfigurationError


def params(**overrides):
    base = dict((name, spec.get("default")) for name, spec in connection_argument_spec().items())
    base["config_file"] = "/nonexistent/config.json"
    base.update(overrides)
    return base


ENV_NEW = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "env-new-id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-new-secret"}
ENV_OLD = {"ALICLOUD_ACCESS_KEY": "env-old-id", "ALICLOUD_SECRET_KEY": "env-old-secret",
           "ALICLOUD_SECURITY_TOKEN": "env-old-token"}


def write_config(tmp_path, profiles, current=None):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"current": current or profiles[0]["name"], "profiles": profiles}))
    return str(path)


def test_module_options_win_over_everything():
    creds = resolve_credentials(params(access_key_id="opt-id", access_key_secret="opt-secret"),
                                dict(ENV_NEW, **ENV_OLD))
    assert (creds.kind, creds.access_key_id, creds.source) == ("ak", "opt-id", "module options")


def test_option_with_token_is_sts():
    creds = resolve_credentials(params(access_key_id="i", access_key_secret="s", security_token="t"), {})
    assert creds.kind == "sts" and creds.security_token == "t"


def test_half_a_key_pair_in_options_is_an_error():
    with pytest.raises(ConfigurationError):
        resolve_credentials(params(access_key_id="only-id"), ENV_NEW)


def test_alibaba_cloud_env_wins_over_alicloud_env():
    creds = resolve_credentials(params(), dict(ENV_NEW, **ENV_OLD))
    assert creds.access_key_id == "env-new-id"


def test_alicloud_env_names_used_by_awx_work():
    creds = resolve_credentials(params(), ENV_OLD)
    assert (creds.kind, creds.access_key_id, creds.security_token) == ("sts", "env-old-id", "env-old-token")


def test_env_wins_over_profile(tmp_path):
    path = write_config(tmp_path, [{"name": "p", "mode": "AK", "access_key_id": "prof", "access_key_secret": "x"}])
    assert resolve_credentials(params(config_file=path), ENV_NEW).access_key_id == "env-new-id"


def test_current_profile_is_used_when_no_keys(tmp_path):
    path = write_config(tmp_path, [
        {"name": "a", "mode": "AK", "access_key_id": "a-id", "access_key_secret": "a-s", "region_id": "cn-a"},
        {"name": "b", "mode": "AK", "access_key_id": "b-id", "access_key_secret": "b-s"}], current="a")
    creds = resolve_credentials(params(config_file=path), {})
    assert creds.access_key_id == "a-id"
    assert resolve_region(params(), {}, creds) == "cn-a"


def test_profile_option_and_env_select_a_profile(tmp_path):
    path = write_config(tmp_path, [
        {"name": "a", "mode": "AK", "access_key_id": "a-id", "access_key_secret": "a-s"},
        {"name": "b", "mode": "StsToken", "access_key_id": "b-id", "access_key_secret": "b-s", "sts_token": "tok"},
        {"name": "c", "mode": "AK", "access_key_id": "c-id", "access_key_secret": "c-s"}], current="a")
    assert resolve_credentials(params(config_file=path, profile="b"), {}).kind == "sts"
    assert resolve_credentials(params(config_file=path), {"ALIBABA_CLOUD_PROFILE": "c"}).access_key_id == "c-id"
    assert resolve_credentials(params(config_file=path), {"ALICLOUD_PROFILE": "b"}).access_key_id == "b-id"


def test_ram_role_arn_profile_keeps_base_keys(tmp_path):
    path = write_config(tmp_path, [{"name": "r", "mode": "RamRoleArn", "access_key_id": "base",
                                    "access_key_secret": "base-s", "ram_role_arn": "acs:ram::1:role/x",
                                    "ram_session_name": "sess", "expired_seconds": 900}])
    creds = resolve_credentials(params(config_file=path), {})
    assert (creds.kind, creds.role_arn, creds.session_name, creds.duration_seconds) == (
        "ram_role_arn", "acs:ram::1:role/x", "sess", 900)
    assert creds.base.access_key_id == "base"
    assert "base-s" in creds.secrets()


def test_ecs_ram_role_profile(tmp_path):
    path = write_config(tmp_path, [{"name": "e", "mode": "EcsRamRole", "ram_role_name": "web-role"}])
    creds = resolve_credentials(params(config_file=path), {})
    assert (creds.kind, creds.role_name) == ("ecs_ram_role", "web-role")


def test_unknown_profile_and_unknown_mode_fail_clearly(tmp_path):
    path = write_config(tmp_path, [{"name": "x", "mode": "ChainableRamRoleArn"}])
    with pytest.raises(ConfigurationError, match="missing"):
        resolve_credentials(params(config_file=path, profile="missing"), {})
    with pytest.raises(ConfigurationError, match="mode"):
        resolve_credentials(params(config_file=path), {})
    with pytest.raises(ConfigurationError, match="does not exist"):
        resolve_credentials(params(profile="p"), {})


def test_default_chain_when_nothing_is_configured():
    assert resolve_credentials(params(), {}).kind == "default"


def test_assume_role_wraps_the_found_credentials():
    creds = resolve_credentials(params(assume_role={"role_arn": "acs:ram::1:role/r", "session_name": None,
                                                    "duration_seconds": 1200, "policy": None,
                                                    "external_id": "ext"}), ENV_NEW)
    assert creds.kind == "ram_role_arn" and creds.duration_seconds == 1200 and creds.external_id == "ext"
    assert creds.base.access_key_id == "env-new-id"
    assert creds.session_name


def test_region_precedence():
    env = {"ALICLOUD_REGION": "cn-old", "ALIBABA_CLOUD_REGION_ID": "cn-new"}
    assert resolve_region(params(region="cn-opt"), env) == "cn-opt"
    assert resolve_region(params(), env) == "cn-old"
    assert resolve_region(params(), {"ALIBABA_CLOUD_REGION_ID": "cn-new"}) == "cn-new"
    with pytest.raises(ConfigurationError, match="No region"):
        resolve_region(params(), {})


def test_default_endpoints_are_the_sdks_choice():
    assert resolve_endpoint("oos", "cn-hangzhou", params(), {}) == ("oos.cn-hangzhou.aliyuncs.com", "https")
    assert resolve_endpoint("ess", "cn-hangzhou", params(), {}) == ("ess.aliyuncs.com", "https")
    assert resolve_endpoint("ess", "eu-central-1", params(), {}) == ("ess.eu-central-1.aliyuncs.com", "https")
    # Regions a hand-kept list once sent to ess.<region>.aliyuncs.com; the ESS SDK's endpoint map says central.
    for region in ("ap-southeast-1", "us-east-1", "us-west-1", "cn-shanghai-finance-1", "cn-shenzhen-finance-1",
                   "cn-north-2-gov-1"):
        assert resolve_endpoint("ess", region, params(), {}) == ("ess.aliyuncs.com", "https"), region
    assert resolve_endpoint("ecs", "cn-hangzhou", params(), {})[0] == "ecs-cn-hangzhou.aliyuncs.com"
    assert resolve_endpoint("ecs", "cn-beijing", params(), {})[0] == "ecs.cn-beijing.aliyuncs.com"


@pytest.mark.parametrize("product, module", [
    ("oos", "alibabacloud_oos20190601.client"), ("ess", "alibabacloud_ess20220222.client"),
    ("ecs", "alibabacloud_ecs20140526.client"), ("sts", "alibabacloud_sts20150401.client")])
@pytest.mark.parametrize("region", ["cn-hangzhou", "ap-southeast-1", "us-east-1", "cn-shenzhen-finance-1",
                                    "eu-central-1", "me-central-1"])
def test_connection_without_override_lets_the_sdk_resolve(product, module, region):
    import importlib
    from alibabacloud_tea_openapi import models as open_api_models
    sdk = importlib.import_module(module).Client(open_api_models.Config(
        region_id=region, access_key_id="a", access_key_secret="b"))
    connection = Connection(params(region=region), environ=dict(ENV_NEW))
    client = connection._build(product, connection.credentials)
    assert type(client.sdk).__module__ == module
    assert client.sdk._endpoint == sdk._endpoint and client.sdk._protocol == "https"


def test_no_hand_kept_endpoint_list():
    import inspect
    from ansible_collections.alicloud.rollout.plugins.module_utils import client as client_module
    assert "aliyuncs.com" not in inspect.getsource(client_module)


def test_endpoint_url_routes_every_product_and_may_be_http():
    env = {"ALICLOUD_ENDPOINT_URL": "http://127.0.0.1:8080"}
    for product in ("oos", "ess", "ecs", "sts"):
        assert resolve_endpoint(product, "cn-hangzhou", params(), env) == ("127.0.0.1:8080", "http")
    assert resolve_endpoint("oos", "r", params(endpoint_url="proxy.example:443"), env) == ("proxy.example:443", "https")


def test_per_product_endpoints_must_be_https():
    endpoints = {"oos": "oos-vpc.cn-hangzhou.aliyuncs.com", "ess": None, "ecs": None, "sts": None}
    assert resolve_endpoint("oos", "cn-hangzhou", params(endpoints=endpoints), {}) == (
        "oos-vpc.cn-hangzhou.aliyuncs.com", "https")
    assert resolve_endpoint("ess", "cn-hangzhou", params(endpoints=endpoints), {})[0] == "ess.aliyuncs.com"
    with pytest.raises(ConfigurationError, match="http"):
        resolve_endpoint("oos", "r", params(endpoints=dict(endpoints, oos="http://plain")), {})


def test_connection_builds_clients_with_user_agent_and_no_sdk_retries():
    connection = Connection(params(region="cn-hangzhou"), environ=dict(ENV_NEW, ALICLOUD_ENDPOINT_URL="http://h:1"))
    oos = connection.client("oos")
    assert oos.sdk._endpoint == "h:1" and oos.sdk._protocol == "http"
    assert oos.sdk._user_agent == USER_AGENT
    assert oos.sdk._retry_options.retryable is False
    assert oos.runtime.autoretry is False
    assert connection.client("oos") is oos
    assert "env-new-secret" in connection.secrets()


def test_validate_certs_false_turns_off_tls_verification_only_then():
    on = Connection(params(region="r"), environ=ENV_NEW).client("ess")
    off = Connection(params(region="r", validate_certs=False), environ=ENV_NEW).client("ess")
    assert not on.runtime.ignore_ssl and off.runtime.ignore_ssl


def assume_role_option(**values):
    option = {"role_arn": None, "session_name": None, "duration_seconds": 3600, "policy": None, "external_id": None}
    option.update(values)
    return option


@pytest.mark.parametrize("variable", ["ALICLOUD_ASSUME_ROLE_ARN", "ALIBABA_CLOUD_ROLE_ARN"])
def test_role_arn_from_environment_turns_assume_role_on(variable):
    env = dict(ENV_NEW, **{variable: "acs:ram::1:role/from-env", "ALIBABA_CLOUD_ROLE_SESSION_NAME": "awx-job-7"})
    creds = resolve_credentials(params(), env)
    assert (creds.kind, creds.role_arn, creds.session_name) == ("ram_role_arn", "acs:ram::1:role/from-env", "awx-job-7")
    assert creds.base.access_key_id == "env-new-id"


def test_role_arn_option_wins_over_environment():
    env = dict(ENV_NEW, ALICLOUD_ASSUME_ROLE_ARN="acs:ram::1:role/from-env")
    creds = resolve_credentials(params(assume_role=assume_role_option(role_arn="acs:ram::1:role/option")), env)
    assert creds.role_arn == "acs:ram::1:role/option"


def test_assume_role_without_any_role_arn_fails_naming_the_variables():
    with pytest.raises(ConfigurationError, match="ALICLOUD_ASSUME_ROLE_ARN"):
        resolve_credentials(params(assume_role=assume_role_option()), ENV_NEW)


@pytest.mark.parametrize("seconds", [899, 43201])
def test_assume_role_duration_outside_the_sts_range_fails_locally(seconds):
    with pytest.raises(ConfigurationError, match="duration_seconds"):
        resolve_credentials(params(assume_role=assume_role_option(role_arn="acs:ram::1:role/r",
                                                                  duration_seconds=seconds)), ENV_NEW)
