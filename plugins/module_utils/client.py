# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY.
# The interfaces in this file are meant for use within the alicloud.rollout collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""Shared connection options, credentials, region, endpoints, and API clients for every module.

A module does::

    module = AlicloudModule(argument_spec=dict(...), supports_check_mode=True)
    oos = module.client("oos")          # ApiClient; ess, ecs, sts likewise
    try:
        execution = oos_utils.get_execution(oos, "exec-...")
    except AlicloudApiError as e:
        module.fail_api(e, msg="Could not read the execution")

Credential precedence (first that yields credentials wins):

1. module options ``access_key_id`` + ``access_key_secret`` (+ ``security_token``);
2. ``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` / ``ALIBABA_CLOUD_SECURITY_TOKEN``;
3. ``ALICLOUD_ACCESS_KEY`` / ``ALICLOUD_SECRET_KEY`` / ``ALICLOUD_SECURITY_TOKEN`` (AWX, older tools);
4. a profile of the aliyun CLI file (``config_file``, default ``~/.aliyun/config.json``): the one named by
   ``profile``, ``ALIBABA_CLOUD_PROFILE`` or ``ALICLOUD_PROFILE``, else the file's ``current`` profile;
   modes AK, StsToken, RamRoleArn, EcsRamRole;
5. the ``alibabacloud-credentials`` default chain (OIDC, ``~/.alibabacloud/credentials``, ECS metadata...).

``assume_role`` (and profile mode RamRoleArn) then calls STS AssumeRole through this client layer, so
it honours ``endpoint_url``/``endpoints``. Region: option, ``ALICLOUD_REGION``, ``ALIBABA_CLOUD_REGION_ID``,
the profile's ``region_id``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import json
import os

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from .errors import AlicloudApiError, ConfigurationError, fail_json_api, scrub
from .retry import DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_DELAY, RetryPolicy

try:
    from alibabacloud_tea_openapi import models as open_api_models
    from darabonba.policy.retry import RetryOptions
    from darabonba.runtime import RuntimeOptions
    HAS_SDK = True
    SDK_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module
    HAS_SDK = False
    SDK_IMPORT_ERROR = exc

COLLECTION_NAME = "alicloud.rollout"
COLLECTION_VERSION = "0.1.0"
USER_AGENT = "%s/%s" % (COLLECTION_NAME, COLLECTION_VERSION)

PRODUCTS = ("oos", "ess", "ecs", "sts", "slb", "alb", "nlb")
API_VERSIONS = {"oos": "2019-06-01", "ess": "2022-02-22", "ecs": "2014-05-26", "sts": "2015-04-01",
                "slb": "2014-05-15", "alb": "2020-06-16", "nlb": "2022-04-30"}
# The ALB and NLB SDKs send list parameters as RepeatList (Name.N); the ALB request models have no RegionId.
REPEAT_LIST_PRODUCTS = ("slb", "alb", "nlb")
NO_REGION_PARAM = ("alb",)
DEFAULT_CONFIG_FILE = "~/.aliyun/config.json"
DEFAULT_SESSION_NAME = "ansible-alicloud-rollout"
# Read when assume_role.role_arn is not given; setting one alone turns assume_role on (AWX, CI).
ROLE_ARN_ENV = ("ALICLOUD_ASSUME_ROLE_ARN", "ALIBABA_CLOUD_ROLE_ARN")
ROLE_SESSION_NAME_ENV = "ALIBABA_CLOUD_ROLE_SESSION_NAME"
# STS AssumeRole accepts 900 s up to the role's maximum session duration, at most 12 h.
ASSUME_ROLE_DURATION_RANGE = (900, 43200)
CONNECT_TIMEOUT_MS = 10000
READ_TIMEOUT_MS = 30000


def connection_argument_spec():
    """The options every module of the collection takes (documented in doc fragment ``connection``)."""
    return dict(
        access_key_id=dict(type="str", aliases=["alicloud_access_key"], no_log=False),
        access_key_secret=dict(type="str", aliases=["alicloud_secret_key"], no_log=True),
        security_token=dict(type="str", no_log=True),
        region=dict(type="str", aliases=["region_id"]),
        profile=dict(type="str"),
        config_file=dict(type="path"),
        assume_role=dict(type="dict", options=dict(
            role_arn=dict(type="str"),
            session_name=dict(type="str"),
            duration_seconds=dict(type="int", default=3600),
            policy=dict(type="str"),
            external_id=dict(type="str"),
        )),
        endpoint_url=dict(type="str"),
        endpoints=dict(type="dict", options=dict(
            oos=dict(type="str"),
            ess=dict(type="str"),
            ecs=dict(type="str"),
            sts=dict(type="str"),
            slb=dict(type="str"),
            alb=dict(type="str"),
            nlb=dict(type="str"),
        )),
        validate_certs=dict(type="bool", default=True),
        retries=dict(type="int", default=DEFAULT_MAX_ATTEMPTS, fallback=(env_fallback, ["ALICLOUD_RETRIES"])),
        retry_max_delay=dict(type="float", default=DEFAULT_MAX_DELAY,
                             fallback=(env_fallback, ["ALICLOUD_RETRY_MAX_DELAY"])),
    )


# ---------------------------------------------------------------- credentials (pure functions)

class Credentials:
    """Where API credentials come from. ``kind``: ak | sts | ram_role_arn | ecs_ram_role | default."""

    def __init__(self, kind, source, access_key_id=None, access_key_secret=None, security_token=None,
                 role_arn=None, session_name=None, duration_seconds=None, policy=None, external_id=None,
                 role_name=None, region=None):
        self.kind = kind
        self.source = source
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.security_token = security_token
        self.role_arn = role_arn
        self.session_name = session_name
        self.duration_seconds = duration_seconds
        self.policy = policy
        self.external_id = external_id
        self.role_name = role_name
        self.region = region
        self.base = None  # for ram_role_arn: the Credentials that call AssumeRole

    def secrets(self):
        values = [self.access_key_secret, self.security_token]
        if self.base is not None:
            values.extend(self.base.secrets())
        return [v for v in values if v]

    def describe(self):
        """Safe to show: kind, source and the AccessKey ID only."""
        return {"kind": self.kind, "source": self.source, "access_key_id": self.access_key_id}


def _static(key_id, secret, token, source):
    if token:
        return Credentials("sts", source, key_id, secret, token)
    return Credentials("ak", source, key_id, secret)


def load_cli_profiles(path):
    """The aliyun CLI config file as {"current": name, "profiles": {name: dict}}; None if absent."""
    path = os.path.expanduser(path)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigurationError("Cannot read the aliyun CLI config file %s: %s" % (path, exc))
    profiles = {}
    for profile in document.get("profiles") or []:
        if isinstance(profile, dict) and profile.get("name"):
            profiles[profile["name"]] = profile
    return {"current": document.get("current"), "profiles": profiles}


def credentials_from_profile(profile, path):
    """Credentials for one aliyun CLI profile (modes AK, StsToken, RamRoleArn, EcsRamRole)."""
    name = profile.get("name")
    mode = profile.get("mode") or "AK"
    source = "profile %s in %s" % (name, path)
    region = profile.get("region_id") or None
    if mode == "AK":
        creds = Credentials("ak", source, profile.get("access_key_id"), profile.get("access_key_secret"))
    elif mode == "StsToken":
        creds = Credentials("sts", source, profile.get("access_key_id"), profile.get("access_key_secret"),
                            profile.get("sts_token"))
    elif mode == "RamRoleArn":
        creds = Credentials("ram_role_arn", source, role_arn=profile.get("ram_role_arn"),
                            session_name=profile.get("ram_session_name") or DEFAULT_SESSION_NAME,
                            duration_seconds=int(profile.get("expired_seconds") or 3600),
                            external_id=profile.get("external_id") or None)
        creds.base = _static(profile.get("access_key_id"), profile.get("access_key_secret"),
                             profile.get("sts_token"), source)
        if not creds.role_arn:
            raise ConfigurationError("Profile %s (mode RamRoleArn) has no ram_role_arn." % name)
    elif mode == "EcsRamRole":
        creds = Credentials("ecs_ram_role", source, role_name=profile.get("ram_role_name") or None)
    else:
        raise ConfigurationError("Profile %s uses mode %s; supported modes are AK, StsToken, RamRoleArn and "
                                 "EcsRamRole." % (name, mode))
    creds.region = region
    if creds.kind in ("ak", "sts") and not (creds.access_key_id and creds.access_key_secret):
        raise ConfigurationError("Profile %s (mode %s) lacks access_key_id or access_key_secret." % (name, mode))
    if creds.base is not None and not (creds.base.access_key_id and creds.base.access_key_secret):
        raise ConfigurationError("Profile %s (mode RamRoleArn) lacks access_key_id or access_key_secret." % name)
    return creds


def resolve_credentials(params, environ):
    """Apply the documented precedence to module params and an environment mapping."""
    key_id, secret = params.get("access_key_id"), params.get("access_key_secret")
    if key_id or secret:
        if not (key_id and secret):
            raise ConfigurationError("access_key_id and access_key_secret must be given together.")
        creds = _static(key_id, secret, params.get("security_token"), "module options")
    else:
        creds = None
        for prefix_id, prefix_secret, prefix_token, source in (
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
                 "environment ALIBABA_CLOUD_*"),
                ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN", "environment ALICLOUD_*")):
            if environ.get(prefix_id) and environ.get(prefix_secret):
                creds = _static(environ[prefix_id], environ[prefix_secret], environ.get(prefix_token), source)
                break
        if creds is None:
            creds = _credentials_from_cli_config(params, environ)
    if creds is None:
        creds = Credentials("default", "alibabacloud-credentials default chain")
    assume = params.get("assume_role")
    env_role_arn = next((environ[name] for name in ROLE_ARN_ENV if environ.get(name)), None)
    if assume is None and env_role_arn:
        assume = {}
    if assume is not None:
        role_arn = assume.get("role_arn") or env_role_arn
        if not role_arn:
            raise ConfigurationError("assume_role needs role_arn (or env %s)." % " / ".join(ROLE_ARN_ENV))
        duration = assume.get("duration_seconds") or 3600
        low, high = ASSUME_ROLE_DURATION_RANGE
        if not low <= duration <= high:
            raise ConfigurationError("assume_role.duration_seconds must be between %d and %d (got %d)." % (
                low, high, duration))
        role = Credentials("ram_role_arn", "assume_role option", role_arn=role_arn,
                           session_name=assume.get("session_name") or environ.get(ROLE_SESSION_NAME_ENV) or DEFAULT_SESSION_NAME,
                           duration_seconds=duration,
                           policy=assume.get("policy"), external_id=assume.get("external_id"))
        role.base = creds
        role.region = creds.region
        creds = role
    return creds


def _credentials_from_cli_config(params, environ):
    path = params.get("config_file") or DEFAULT_CONFIG_FILE
    wanted = params.get("profile") or environ.get("ALIBABA_CLOUD_PROFILE") or environ.get("ALICLOUD_PROFILE")
    config = load_cli_profiles(path)
    if config is None:
        if wanted:
            raise ConfigurationError("Profile %s was asked for but %s does not exist." % (wanted, path))
        return None
    name = wanted or config.get("current")
    if not name:
        return None
    profile = config["profiles"].get(name)
    if profile is None:
        if wanted:
            raise ConfigurationError("Profile %s is not in %s (profiles: %s)." % (
                wanted, path, ", ".join(sorted(config["profiles"])) or "none"))
        return None
    return credentials_from_profile(profile, path)


def resolve_region(params, environ, credentials=None):
    sources = (params.get("region"), environ.get("ALICLOUD_REGION"), environ.get("ALICLOUD_REGION_ID"),
               environ.get("ALIBABA_CLOUD_REGION_ID"), credentials.region if credentials else None)
    region = next((value for value in sources if value), None)
    if not region:
        raise ConfigurationError(
            "No region is set. Give the 'region' option (or module_defaults for group/alicloud.rollout.alicloud), "
            "or set ALICLOUD_REGION or ALIBABA_CLOUD_REGION_ID, or a region_id in the aliyun CLI profile.")
    return region


# ---------------------------------------------------------------- endpoints (pure functions)

SDK_PACKAGES = {"oos": "alibabacloud_oos20190601", "ess": "alibabacloud_ess20220222",
                "ecs": "alibabacloud_ecs20140526", "sts": "alibabacloud_sts20150401",
                "slb": "alibabacloud_slb20140515", "alb": "alibabacloud_alb20200616",
                "nlb": "alibabacloud_nlb20220430"}


def sdk_client_class(product):
    """The official SDK client of a product; each carries Alibaba's endpoint map and rules for its product.
    Imported on first use (the ECS SDK is large)."""
    if product not in SDK_PACKAGES:
        raise ValueError("unknown product %s" % product)
    package = SDK_PACKAGES[product]
    try:
        module = importlib.import_module(package + ".client")
    except ImportError as exc:
        raise ConfigurationError("The Python package %s is missing on the host that runs the module (pip install "
                                 "%s; see the collection's requirements.txt): %s"
                                 % (package.replace("_", "-"), package.replace("_", "-"), exc))
    return module.Client


def default_endpoint(product, region):
    """The host the product's SDK picks for a region (its endpoint map, then its endpoint rules).

    Only for showing it: a client built without an endpoint resolves the same host by itself.
    """
    config = open_api_models.Config(region_id=region, access_key_id="-", access_key_secret="-")
    return sdk_client_class(product)(config)._endpoint


def _split_url(url, allow_http):
    if "://" in url:
        scheme, rest = url.split("://", 1)
        scheme = scheme.lower()
    else:
        scheme, rest = "https", url
    host = rest.split("/", 1)[0]
    if scheme not in ("http", "https") or not host:
        raise ConfigurationError("Endpoint %r is not a host name or an http(s) URL." % url)
    if scheme == "http" and not allow_http:
        raise ConfigurationError("Endpoint %r uses plain http; only endpoint_url (ALICLOUD_ENDPOINT_URL) may." % url)
    return host, scheme


def endpoint_override(product, params, environ):
    """(host[:port], protocol) from endpoint_url (ALICLOUD_ENDPOINT_URL) or endpoints.<product>; None when
    neither is given, and the product's SDK resolves the endpoint itself."""
    url = params.get("endpoint_url") or environ.get("ALICLOUD_ENDPOINT_URL")
    if url:
        return _split_url(url, allow_http=True)
    override = (params.get("endpoints") or {}).get(product)
    if override:
        return _split_url(override, allow_http=False)
    return None


def resolve_endpoint(product, region, params, environ):
    """(host[:port], protocol) for a product: endpoint_url, then endpoints.<product>, then the SDK's choice."""
    return endpoint_override(product, params, environ) or (default_endpoint(product, region), "https")


# ---------------------------------------------------------------- clients

class ApiClient:
    """One product's client: SDK calls with the collection's retry policy and error mapping."""

    def __init__(self, product, sdk, region, retry_policy, runtime, secrets, call_log):
        self.product = product
        self.sdk = sdk
        self.region = region
        self.retry_policy = retry_policy
        self.runtime = runtime
        self._secrets = secrets
        self._call_log = call_log

    def call(self, operation, invoke, mutating=False, safe_to_repeat=None):
        """Run ``invoke(runtime)`` (an SDK ``*_with_options`` call) and return the body as a dict.

        ``safe_to_repeat`` defaults to ``not mutating``; pass True for a mutating call that carries a
        ClientToken or is naturally idempotent.
        """
        if safe_to_repeat is None:
            safe_to_repeat = not mutating

        def attempt():
            self._call_log.append({"product": self.product, "operation": operation, "mutating": mutating})
            try:
                response = invoke(self.runtime)
            except Exception as exc:  # the SDK raises many types; all become AlicloudApiError
                raise AlicloudApiError.from_exception(exc, operation, self.product, self._secrets)
            body = getattr(response, "body", response)
            if hasattr(body, "to_map"):
                body = body.to_map()
            if isinstance(body, dict) and "body" in body and "statusCode" in body:
                body = body["body"]  # generic call_api answer
            return body or {}

        return self.retry_policy.call(attempt, safe_to_repeat=safe_to_repeat)

    def rpc(self, operation, params=None, mutating=False, safe_to_repeat=None):
        """A generic RPC call (ECS, STS, CLB, ALB, NLB) through the Tea OpenAPI client.

        Lists go as JSON text, or as ``Name.1``, ``Name.2`` for the products whose SDKs send them so (their
        request models); booleans as true/false. ALB takes no RegionId (its region is the endpoint's)."""
        query = {} if self.product in NO_REGION_PARAM else {"RegionId": self.region}
        for key, value in (params or {}).items():
            if value is None:
                continue
            if isinstance(value, list) and self.product in REPEAT_LIST_PRODUCTS:
                for index, item in enumerate(value):
                    query["%s.%d" % (key, index + 1)] = str(item)
            elif isinstance(value, bool):
                query[key] = "true" if value else "false"
            else:
                query[key] = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        api = open_api_models.Params(
            action=operation, version=API_VERSIONS[self.product], protocol="HTTPS", pathname="/",
            method="POST", auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
        request = open_api_models.OpenApiRequest(query=query)
        return self.call(operation, lambda runtime: self.sdk.call_api(api, request, runtime),
                         mutating=mutating, safe_to_repeat=safe_to_repeat)


class Connection:
    """Resolved credentials, region and endpoints, and the clients built from them."""

    def __init__(self, params, environ=None, sleep=None):
        self.params = params
        self.environ = os.environ if environ is None else environ
        self.credentials = resolve_credentials(params, self.environ)
        self.region = resolve_region(params, self.environ, self.credentials)
        attempts = params.get("retries")
        policy_args = dict(max_attempts=max(1, DEFAULT_MAX_ATTEMPTS if attempts is None else attempts),
                           max_delay=params.get("retry_max_delay") or DEFAULT_MAX_DELAY)
        if sleep is not None:
            policy_args["sleep"] = sleep
        self.retry_policy = RetryPolicy(**policy_args)
        self.call_log = []
        self._clients = {}
        self._effective = None  # the static credentials used to sign (after AssumeRole)

    def secrets(self):
        values = list(self.credentials.secrets())
        if self._effective is not None:
            values.extend(self._effective.secrets())
        return values

    def endpoint(self, product):
        return resolve_endpoint(product, self.region, self.params, self.environ)

    def _runtime(self):
        return RuntimeOptions(autoretry=False, max_attempts=0, ignore_ssl=not self.params.get("validate_certs", True),
                              read_timeout=READ_TIMEOUT_MS, connect_timeout=CONNECT_TIMEOUT_MS)

    def _config(self, product, creds):
        host, protocol = endpoint_override(product, self.params, self.environ) or (None, "https")
        config = open_api_models.Config(
            region_id=self.region, endpoint=host, protocol=protocol, user_agent=USER_AGENT,
            read_timeout=READ_TIMEOUT_MS, connect_timeout=CONNECT_TIMEOUT_MS,
            retry_options=RetryOptions({"retryable": False}))
        if creds.kind in ("ak", "sts"):
            config.access_key_id = creds.access_key_id
            config.access_key_secret = creds.access_key_secret
            if creds.security_token:
                config.security_token = creds.security_token
        else:
            config.credential = _credential_client(creds)
        return config

    def _signing_credentials(self):
        if self._effective is None:
            self._effective = self._assume(self.credentials) if self.credentials.kind == "ram_role_arn" \
                else self.credentials
        return self._effective

    def _assume(self, role):
        """STS AssumeRole through our own STS client (honours endpoint_url / endpoints.sts)."""
        base = role.base
        if base.kind == "ram_role_arn":
            base = self._assume(base)
        sts = self._build("sts", base)
        params = {"RoleArn": role.role_arn, "RoleSessionName": role.session_name,
                  "DurationSeconds": role.duration_seconds}
        if role.policy:
            params["Policy"] = role.policy
        if role.external_id:
            params["ExternalId"] = role.external_id
        body = sts.rpc("AssumeRole", params)
        cred = body.get("Credentials") or {}
        assumed = Credentials("sts", "AssumeRole %s (%s)" % (role.role_arn, role.source),
                              cred.get("AccessKeyId"), cred.get("AccessKeySecret"), cred.get("SecurityToken"))
        return assumed

    def _build(self, product, creds):
        config = self._config(product, creds)
        SdkClient = sdk_client_class(product)  # endpoint None: the SDK resolves it from the region
        secrets = [s for s in (creds.access_key_secret, creds.security_token) if s] + self.credentials.secrets()
        return ApiClient(product, SdkClient(config), self.region, self.retry_policy, self._runtime(),
                         secrets, self.call_log)

    def client(self, product):
        if product not in PRODUCTS:
            raise ValueError("unknown product %s" % product)
        if product not in self._clients:
            self._clients[product] = self._build(product, self._signing_credentials())
        return self._clients[product]


def _credential_client(creds):
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials import models as credential_models
    if creds.kind == "ecs_ram_role":
        return CredentialClient(credential_models.Config(type="ecs_ram_role", role_name=creds.role_name))
    return CredentialClient()


class AlicloudModule(AnsibleModule):
    """AnsibleModule with the shared connection options, client factory and API-error reporting."""

    def __init__(self, argument_spec=None, **kwargs):
        spec = connection_argument_spec()
        spec.update(argument_spec or {})
        super(AlicloudModule, self).__init__(argument_spec=spec, **kwargs)
        if not HAS_SDK:
            self.fail_json(msg=missing_required_lib("alibabacloud-tea-openapi, alibabacloud-oos20190601 and "
                                                    "alibabacloud-ess20220222"), exception=str(SDK_IMPORT_ERROR))
        self._connection = None

    @property
    def connection(self):
        if self._connection is None:
            try:
                self._connection = Connection(self.params)
            except ConfigurationError as exc:
                self.fail_json(msg=str(exc))
            for secret in self._connection.credentials.secrets():
                self.no_log_values.add(secret)
        return self._connection

    @property
    def region(self):
        return self.connection.region

    def client(self, product):
        connection = self.connection
        try:
            client = connection.client(product)
        except AlicloudApiError as error:
            self.fail_api(error, msg="Could not get credentials (STS AssumeRole)")
        except ConfigurationError as exc:
            self.fail_json(msg=str(exc))
        for secret in connection.secrets():
            self.no_log_values.add(secret)
        return client

    def fail_api(self, error, msg=None, **result):
        secrets = self._connection.secrets() if self._connection else []
        error.message = scrub(error.message, secrets)
        fail_json_api(self, error, msg=msg, **result)
