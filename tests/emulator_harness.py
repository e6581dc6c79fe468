"""Start the emulator as a real process and talk to it: used by the pytest fixtures, the demo and the bench.

    process = EmulatorProcess.start()            # alicloud-emulator serve --port 0 ... ; reads `listening on`
    emulator = EmulatorClient(process.url)
    emulator.load_world()                        # the default world (or a dict / a YAML path)
    client = emulator.oos_client()               # Tea SDK clients pointed at the emulator
    emulator.calls(action="StartExecution")      # the call log
    process.stop()
"""
import atexit
import copy
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORLD = ROOT / "tests" / "emulator" / "worlds" / "default.yml"
DEFAULT_SPEED = 600
REGION = "cn-hangzhou"
START_TIMEOUT_S = 20


def emulator_command():
    """The console script next to the running Python, or `python -m alicloud_emulator.cli` as a fallback."""
    script = Path(sys.executable).parent / "alicloud-emulator"
    if script.exists():
        return [str(script)]
    found = shutil.which("alicloud-emulator")
    if found:
        return [found]
    return [sys.executable, "-m", "alicloud_emulator.cli"]


def _die_with_parent():
    """Linux: the emulator gets SIGTERM if the test runner dies without cleaning up (e.g. SIGKILL)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _kill_quietly(proc):
    if proc.poll() is None:
        proc.kill()


class EmulatorProcess:
    """An `alicloud-emulator serve` child process listening on a free loopback port."""

    def __init__(self, proc, url, stderr_lines):
        self.proc = proc
        self.url = url
        self._stderr_lines = stderr_lines

    @classmethod
    def start(cls, world=DEFAULT_WORLD, speed=DEFAULT_SPEED, extra_args=(), timeout=START_TIMEOUT_S, env=None):
        command = emulator_command() + ["serve", "--world", str(world), "--port", "0"]
        if speed is not None:
            command += ["--speed", str(speed)]
        command += list(extra_args)
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                start_new_session=True, preexec_fn=_die_with_parent)
        atexit.register(_kill_quietly, proc)
        lines = queue.Queue()
        stderr_lines = []

        def pump_stdout():
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        def pump_stderr():
            # Drained continuously so a chatty emulator never blocks on a full pipe.
            for line in proc.stderr:
                stderr_lines.append(line)
                if len(stderr_lines) > 2000:
                    del stderr_lines[:1000]

        threading.Thread(target=pump_stdout, daemon=True).start()
        threading.Thread(target=pump_stderr, daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = lines.get(timeout=max(0.01, remaining))
            except queue.Empty:
                line = ""
            if line and line.startswith("listening on "):
                return cls(proc, line.split(" ", 2)[2].strip(), stderr_lines)
            if line is None or remaining <= 0:
                proc.kill()
                proc.wait(timeout=5)
                raise RuntimeError("alicloud-emulator did not start (%s); stderr:\n%s"
                                   % ("exited" if line is None else "timeout", "".join(stderr_lines[-50:])))

    def stderr(self):
        return "".join(self._stderr_lines)

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL if it does not exit in time. Returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode


def read_world(doc_or_path=None):
    if doc_or_path is None:
        doc_or_path = DEFAULT_WORLD
    if isinstance(doc_or_path, (str, os.PathLike)):
        with open(doc_or_path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    return copy.deepcopy(doc_or_path)


class EmulatorClient:
    """Control-plane helper plus SDK client factories for one running emulator."""

    def __init__(self, url, speed=None):
        self.url = url.rstrip("/")
        self.host_port = self.url.split("://", 1)[1]
        self.speed = speed
        self.session = requests.Session()
        self.world = read_world(None)

    # -- control plane -----------------------------------------------------------------------------------

    def _control(self, method, path, **kwargs):
        response = self.session.request(method, self.url + "/_emulator/" + path, timeout=30, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError("control plane %s %s -> %s: %s" % (method, path, response.status_code, response.text))
        return response.json()

    def health(self):
        return self._control("GET", "health")

    def load_world(self, doc_or_path=None, **overrides):
        """Replace the world (default world when none is given); top-level keys in `overrides` win.

        Worlds without `accounts` get the default world's accounts and roles, so tests can stay short.
        `speed=` forces the speed; otherwise the process's `--speed` applies.
        """
        doc = read_world(doc_or_path)
        doc.update(overrides)
        if "accounts" not in doc:
            default = read_world(None)
            doc["accounts"] = default.get("accounts", [])
            doc.setdefault("roles", default.get("roles", []))
        params = {"speed": overrides["speed"]} if "speed" in overrides else None
        self._control("POST", "world", json=doc, params=params)
        self.world = doc
        return doc

    def state(self):
        return self._control("GET", "state")

    def calls(self, since=0, **filters):
        """Calls in the log; filters compare as strings, e.g. calls(action="StartExecution", status=200)."""
        params = dict(filters, since=since)
        return self._control("GET", "calls", params=params)["calls"]

    def clear_calls(self):
        return self._control("DELETE", "calls")

    def faults(self):
        return self._control("GET", "faults")

    def set_faults(self, faults, replace=False):
        return self._control("PUT" if replace else "POST", "faults", json=faults)

    def instance_health(self, instance_id):
        response = self.session.get(self.url + "/_emulator/instances/%s/health" % instance_id, timeout=30)
        return response.status_code, response.json()

    def mint_sts_token(self, role_arn=None, expired=False, duration_seconds=3600):
        role_arn = role_arn or self.world["roles"][0]["arn"]
        return self._control("POST", "sts-token", json={"role_arn": role_arn, "expired": expired,
                                                         "duration_seconds": duration_seconds})["Credentials"]

    # -- credentials -------------------------------------------------------------------------------------

    def account(self, name="admin"):
        for account in self.world.get("accounts", []):
            if account.get("name") == name:
                return account
        raise KeyError("no account named %r in the current world" % name)

    def admin_env(self, name="admin"):
        """Environment for a subprocess (ansible-playbook, the CLI) that should target this emulator."""
        account = self.account(name)
        return {
            "ALICLOUD_ENDPOINT_URL": self.url,
            "ALIBABA_CLOUD_ACCESS_KEY_ID": account["access_key_id"],
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": account["access_key_secret"],
            "ALICLOUD_REGION": REGION,
        }

    # -- SDK clients -------------------------------------------------------------------------------------

    def tea_config(self, account="admin", access_key_id=None, access_key_secret=None, security_token=None,
                   signature_algorithm=None, **extra):
        from alibabacloud_tea_openapi import models as open_api_models
        if access_key_id is None:
            credentials = self.account(account)
            access_key_id, access_key_secret = credentials["access_key_id"], credentials["access_key_secret"]
        config = open_api_models.Config(
            access_key_id=access_key_id, access_key_secret=access_key_secret, security_token=security_token,
            region_id=REGION, endpoint=self.host_port, protocol="http", read_timeout=30000, connect_timeout=5000,
            **extra)
        if signature_algorithm:
            config.signature_algorithm = signature_algorithm
        return config

    def openapi_client(self, **kwargs):
        from alibabacloud_tea_openapi.client import Client
        return Client(self.tea_config(**kwargs))

    def oos_client(self, **kwargs):
        from alibabacloud_oos20190601.client import Client
        return Client(self.tea_config(**kwargs))

    def ess_client(self, **kwargs):
        from alibabacloud_ess20220222.client import Client
        return Client(self.tea_config(**kwargs))

    def call(self, action, version, params=None, client=None, method="POST", **client_kwargs):
        """A generic RPC call through the Tea SDK (`call_api`), as the product clients make them.

        Returns the SDK's response dict ({"headers", "statusCode", "body"}); errors raise the SDK's exceptions.
        """
        from alibabacloud_tea_openapi import models as open_api_models
        from alibabacloud_tea_util import models as util_models
        client = client or self.openapi_client(**client_kwargs)
        api_params = open_api_models.Params(
            action=action, version=version, protocol="HTTP", pathname="/", method=method, auth_type="AK",
            style="RPC", req_body_type="formData", body_type="json")
        request = open_api_models.OpenApiRequest(query=dict(params or {}))
        return client.call_api(api_params, request, util_models.RuntimeOptions())

    def acs_client(self, account="admin", access_key_id=None, access_key_secret=None, security_token=None):
        """The legacy `aliyun-python-sdk-core` AcsClient (a second, independent official client)."""
        from aliyunsdkcore.client import AcsClient
        if access_key_id is None:
            credentials = self.account(account)
            access_key_id, access_key_secret = credentials["access_key_id"], credentials["access_key_secret"]
        if security_token:
            from aliyunsdkcore.auth.credentials import StsTokenCredential
            return AcsClient(region_id=REGION, credential=StsTokenCredential(access_key_id, access_key_secret,
                                                                             security_token))
        return AcsClient(access_key_id, access_key_secret, REGION)

    def common_request(self, action, version, params=None, method="POST"):
        from aliyunsdkcore.request import CommonRequest
        request = CommonRequest()
        request.set_domain(self.host_port)
        request.set_protocol_type("http")
        request.set_method(method)
        request.set_version(version)
        request.set_action_name(action)
        request.set_accept_format("json")
        for key, value in (params or {}).items():
            request.add_query_param(key, value)
        return request


# -- hand-made signed requests (for negative tests: every part can be bent) --------------------------------

def _utc_now(offset_s=0):
    import datetime
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def v3_request(url, access_key_id, secret, action, version, query=None, body=b"", content_type=None,
               method="POST", date=None, nonce=None, extra_headers=None, signed_headers=None,
               content_sha256=None, algorithm=None, security_token=None):
    """Build (method, url, headers, body) for an ACS3-HMAC-SHA256 request; any part can be overridden."""
    import hashlib
    import uuid
    from urllib.parse import urlencode
    from alicloud_emulator import signing
    query = dict(query or {})
    host = url.split("://", 1)[1]
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": date or _utc_now(),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": content_sha256 or hashlib.sha256(body).hexdigest(),
        "accept": "application/json",
    }
    if content_type:
        headers["content-type"] = content_type
    if security_token:
        headers["x-acs-security-token"] = security_token
        headers["x-acs-accesskey-id"] = access_key_id
    headers.update(extra_headers or {})
    names = signed_headers or sorted(headers)
    signature = signing.v3_signature(secret, method, "/", query, {k: [v] for k, v in headers.items()}, names,
                                     hashlib.sha256(body).hexdigest() if content_sha256 is None else content_sha256)
    headers["Authorization"] = "%s Credential=%s,SignedHeaders=%s,Signature=%s" % (
        algorithm or signing.V3_ALGORITHM, access_key_id, ";".join(names), signature)
    full_url = url + "/" + ("?" + urlencode(query) if query else "")
    return method, full_url, headers, body


def v2_params(access_key_id, secret, action, version, params=None, method="POST", timestamp=None, nonce=None,
              security_token=None, signature_method="HMAC-SHA1", drop=()):
    """The full V2 parameter set with `Signature`; `drop` leaves named parameters out before signing."""
    import uuid
    from alicloud_emulator import signing
    full = {
        "Action": action, "Version": version, "Format": "json", "AccessKeyId": access_key_id,
        "SignatureMethod": signature_method, "SignatureVersion": "1.0",
        "SignatureNonce": nonce or uuid.uuid4().hex, "Timestamp": timestamp or _utc_now(),
    }
    if security_token:
        full["SecurityToken"] = security_token
    full.update(params or {})
    for name in drop:
        full.pop(name, None)
    full["Signature"] = signing.v2_signature(secret, method, full)
    return full
