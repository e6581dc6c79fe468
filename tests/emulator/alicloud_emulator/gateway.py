"""The API gateway: parse, route, authenticate, inject faults, authorise (RAM), dispatch, answer.

Independent of the HTTP server so that it can be exercised directly; server.py only moves bytes.
"""
import datetime
import hashlib
import json
import time
import uuid
from urllib.parse import parse_qsl, quote

from . import signing
from .api import PRODUCT_RAM_NAMES, VERSION_PRODUCTS, ApiError, ApiRequest, find_handler
from .app import log_exception

# Parameters that belong to the protocol, never to the business call.
COMMON_PARAMS = frozenset([
    "Action", "Version", "Format", "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion",
    "SignatureNonce", "SignatureType", "Timestamp", "TimeStamp", "SecurityToken", "BearerToken",
])
V3_REQUIRED_SIGNED = ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
                      "x-acs-content-sha256")
SIGNATURE_WINDOW_SECONDS = 15 * 60
PRODUCT_CODES = {"oos": "Oos", "ess": "Ess", "ecs": "Ecs", "sts": "Sts", "slb": "Slb", "alb": "Alb", "nlb": "Nlb"}

MSG_SIGNATURE = "Specified signature is not matched with our calculation."
MSG_INCOMPLETE = "The request signature does not conform to Aliyun standards."
MSG_FORBIDDEN_RAM = "User not authorized to operate on the specified resource, or this API doesn't support RAM."


def _missing(name):
    return ApiError("MissingParameter",
                    'The input parameter "%s" that is mandatory for processing this request is not supplied.' % name)


class ApiResponse:
    __slots__ = ("status", "headers", "body", "drop")

    def __init__(self, status=200, headers=None, body=b"", drop=False):
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.drop = drop


class IncomingRequest:
    """What the HTTP layer hands over. `headers` maps lowercase names to lists of values."""

    def __init__(self, method, path, query_string, headers, body):
        self.method = method.upper()
        self.path = path or "/"
        self.query_string = query_string or ""
        self.headers = headers
        self.body = body or b""

    def header(self, name):
        values = self.headers.get(name)
        return values[0] if values else None


def _parse_time(text):
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.timezone.utc).timestamp()
        except (TypeError, ValueError):
            continue
    return None


def _check_fresh(text, name):
    if not text:
        raise _missing(name)
    moment = _parse_time(text)
    if moment is None:
        raise ApiError("InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
    if abs(time.time() - moment) > SIGNATURE_WINDOW_SECONDS:
        raise ApiError("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")


def _flatten_json(doc):
    if not isinstance(doc, dict):
        raise ApiError("InvalidParameter", "The JSON request body must be an object.")
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in doc.items() if v is not None}


class Gateway:
    def __init__(self, emulator):
        self.emulator = emulator

    # -- entry point -------------------------------------------------------------------------------------

    def handle(self, request):
        started = time.perf_counter()
        request_id = str(uuid.uuid4()).upper()
        entry = {"time": self.emulator.now_iso(), "product": None, "action": None, "version": None,
                 "access_key_id": None, "status": None, "error_code": None, "request_id": request_id,
                 "mutating": False, "signature_version": None, "fault": None}
        product = None
        region = None
        try:
            query = dict(parse_qsl(request.query_string, keep_blank_values=True))
            body_params = self._body_params(request)
            params = dict(query)
            params.update(body_params)
            region = params.get("RegionId")
            # A first guess at what is called, so that even a request rejected early is logged with it.
            entry["action"] = request.header("x-acs-action") or params.get("Action")
            entry["version"] = request.header("x-acs-version") or params.get("Version")
            product = entry["product"] = VERSION_PRODUCTS.get(entry["version"])
            scheme = self._scheme(request, params)
            entry["signature_version"] = scheme
            action, version = self._action_version(request, params, scheme)
            entry["action"], entry["version"] = action, version
            product = VERSION_PRODUCTS.get(version) if version else None
            entry["product"] = product
            handler = self._route(product, action, version)
            entry["mutating"] = handler.mutating
            if scheme == "v3":
                principal = self._authenticate_v3(request, query, entry)
            else:
                principal = self._authenticate_v2(request, params, entry)

            if self._inject_faults(product, action, entry):
                return ApiResponse(drop=True)

            ram_action = "%s:%s" % (PRODUCT_RAM_NAMES[product], action)
            verdict = principal.decide(ram_action)
            if verdict != "Allow":
                raise self._forbidden(principal, ram_action, verdict)

            business = {k: v for k, v in params.items() if k not in COMMON_PARAMS}
            api_request = ApiRequest(self.emulator, product, version, action, business, principal, request_id,
                                     request.header("host"))
            with self.emulator.lock:
                result = handler.func(api_request)
            result = dict(result or {})
            result["RequestId"] = request_id
            entry["status"] = 200
            if self.emulator.injector.lose_response(product, action):
                # The work is done but the client never hears of it: what a retry with ClientToken is for.
                entry["fault"] = "lost_response"
                return ApiResponse(drop=True)
            return self._json(200, result, request_id)
        except ApiError as error:
            entry["status"], entry["error_code"] = error.status, error.code
            return self._error(error, request_id, product, region)
        except Exception:
            log_exception("%s %s" % (entry.get("action"), request_id))
            error = ApiError("InternalError",
                             "The request processing has failed due to some unknown error, exception or failure.",
                             status=500)
            entry["status"], entry["error_code"] = 500, error.code
            return self._error(error, request_id, product, region)
        finally:
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
            self.emulator.calls.append(entry)

    def _inject_faults(self, product, action, entry):
        """Sleep, throttle or fail as the faults say; return True when the connection must be dropped."""
        decision = self.emulator.injector.decide(product, action)
        if decision is None:
            return False
        if decision.latency_s:
            entry["fault"] = "latency"
            time.sleep(decision.latency_s)
        if decision.drop:
            entry["status"], entry["error_code"], entry["fault"] = 0, "ConnectionDropped", "drop"
            return True
        if decision.throttle_retry_ms:
            entry["fault"] = "throttle"
            raise ApiError("Throttling.User", "Request was denied due to user flow control.",
                           status=decision.throttle_status,
                           headers={"x-acs-retry-after": str(decision.throttle_retry_ms)})
        if decision.error == "ServiceUnavailable":
            entry["fault"] = "error"
            raise ApiError("ServiceUnavailable", "The request has failed due to a temporary failure of the server.",
                           status=503)
        if decision.error == "InternalError":
            entry["fault"] = "error"
            raise ApiError("InternalError",
                           "The request processing has failed due to some unknown error, exception or failure.",
                           status=500)
        return False

    # -- parsing and routing -----------------------------------------------------------------------------

    def _body_params(self, request):
        if not request.body:
            return {}
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type == "application/x-www-form-urlencoded":
            # parse_qsl decodes '+' as a space, as form encoding requires.
            return dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
        if content_type == "application/json":
            try:
                return _flatten_json(json.loads(request.body.decode("utf-8")))
            except ValueError:
                raise ApiError("InvalidParameter", "The request body is not valid JSON.")
        return {}

    def _scheme(self, request, params):
        authorization = request.header("authorization")
        if authorization:
            algorithm = authorization.split(" ", 1)[0]
            if algorithm == signing.V3_ALGORITHM:
                return "v3"
            if algorithm.startswith("ACS3-"):
                raise ApiError("IncompleteSignature",
                               "The signature algorithm %s is not supported by this endpoint; use %s or HMAC-SHA1."
                               % (algorithm, signing.V3_ALGORITHM))
            if "Signature" not in params:
                raise ApiError("IncompleteSignature", MSG_INCOMPLETE)
        if "Signature" in params or "AccessKeyId" in params:
            return "v2"
        if request.header("x-acs-action") and "Action" not in params:
            raise ApiError("IncompleteSignature", MSG_INCOMPLETE + " (no Authorization header)")
        return "v2"

    def _action_version(self, request, params, scheme):
        if scheme == "v3":
            action = request.header("x-acs-action") or params.get("Action")
            version = request.header("x-acs-version") or params.get("Version")
        else:
            action = params.get("Action") or request.header("x-acs-action")
            version = params.get("Version") or request.header("x-acs-version")
        return action, version

    def _route(self, product, action, version):
        if not action:
            raise _missing("Action")
        if not version:
            raise _missing("Version")
        if product is None:
            raise ApiError("InvalidVersion", "Specified parameter Version is not valid.")
        handler = find_handler(product, action)
        if handler is None or (handler.versions and version not in handler.versions):
            raise ApiError("InvalidAction.NotFound", "Specified api is not found, please check your url and method.",
                           status=404)
        return handler

    # -- authentication ----------------------------------------------------------------------------------

    def _principal(self, access_key_id, token, entry):
        entry["access_key_id"] = access_key_id
        principal = self.emulator.accounts.find_key(access_key_id)
        if principal is None:
            raise ApiError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", status=404)
        if principal.security_token is None:
            if token:
                # A long-term key presented with a token: the token does not belong to it.
                raise ApiError("InvalidSecurityToken.MismatchWithAccessKey",
                               "Specified SecurityToken mismatch with the AccessKey.")
            return principal
        if not token:
            raise ApiError("MissingSecurityToken", "SecurityToken is mandatory for this action.")
        if not signing.constant_time_equal(token, principal.security_token):
            owner = self._token_owner(token)
            if owner is None:
                raise ApiError("InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
            raise ApiError("InvalidSecurityToken.MismatchWithAccessKey",
                           "Specified SecurityToken mismatch with the AccessKey.")
        if principal.expired():
            raise ApiError("InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
        return principal

    def _token_owner(self, token):
        for principal in list(self.emulator.accounts.temporary.values()):
            if signing.constant_time_equal(token, principal.security_token):
                return principal
        return None

    def _authenticate_v3(self, request, query, entry):
        parsed = signing.parse_v3_authorization(request.header("authorization"))
        if parsed is None:
            raise ApiError("IncompleteSignature", MSG_INCOMPLETE + " (malformed Authorization header)")
        access_key_id, signed_names, signature = parsed
        signed_names = [name.strip().lower() for name in signed_names]
        missing = [name for name in V3_REQUIRED_SIGNED if name not in signed_names]
        if missing:
            raise ApiError("IncompleteSignature",
                           MSG_INCOMPLETE + " (headers that must be signed: %s)" % ", ".join(missing))
        _check_fresh(request.header("x-acs-date"), "x-acs-date")
        nonce = request.header("x-acs-signature-nonce")
        if not nonce:
            raise _missing("x-acs-signature-nonce")
        principal = self._principal(access_key_id, request.header("x-acs-security-token"), entry)
        payload_hash = hashlib.sha256(request.body).hexdigest()
        if not signing.constant_time_equal(payload_hash, (request.header("x-acs-content-sha256") or "").lower()):
            raise ApiError("SignatureDoesNotMatch",
                           MSG_SIGNATURE + " (x-acs-content-sha256 is not the SHA-256 of the request body)",
                           status=403)
        expected = signing.v3_signature(principal.secret, request.method, request.path, query, request.headers,
                                        signed_names, payload_hash)
        if not signing.constant_time_equal(expected, signature):
            # Like the real gateway, show the server's string to sign (it holds only a hash here).
            string_to_sign = signing.v3_string_to_sign(request.method, request.path, query, request.headers,
                                                       signed_names, payload_hash)
            raise ApiError("SignatureDoesNotMatch", "%s server string to sign is:%s" % (MSG_SIGNATURE, string_to_sign),
                           status=403)
        if not self.emulator.nonces.use(access_key_id, nonce):
            raise ApiError("SignatureNonceUsed", "Specified signature nonce was used already.")
        return principal

    def _authenticate_v2(self, request, params, entry):
        for name in ("AccessKeyId", "Signature", "SignatureNonce"):
            if not params.get(name):
                raise _missing(name)
        method = params.get("SignatureMethod")
        if not method:
            raise _missing("SignatureMethod")
        if method != "HMAC-SHA1":
            raise ApiError("IncompleteSignature",
                           "The signature method %s is not supported; use HMAC-SHA1." % method)
        version = params.get("SignatureVersion")
        if version is not None and version != "1.0":
            raise ApiError("IncompleteSignature", "The signature version %s is not supported; use 1.0." % version)
        _check_fresh(params.get("Timestamp") or params.get("TimeStamp"), "Timestamp")
        access_key_id = params["AccessKeyId"]
        principal = self._principal(access_key_id, params.get("SecurityToken"), entry)
        expected = signing.v2_signature(principal.secret, request.method, params)
        if not signing.constant_time_equal(expected, params["Signature"]):
            # The real gateway echoes its string to sign; the token is redacted so that it is never echoed.
            shown = dict(params)
            if "SecurityToken" in shown:
                shown["SecurityToken"] = "<redacted>"
            raise ApiError("SignatureDoesNotMatch", "%s server string to sign is:%s"
                           % (MSG_SIGNATURE, signing.v2_string_to_sign(request.method, shown)), status=403)
        if not self.emulator.nonces.use(access_key_id, params["SignatureNonce"]):
            raise ApiError("SignatureNonceUsed", "Specified signature nonce was used already.")
        return principal

    def _forbidden(self, principal, ram_action, verdict):
        error = ApiError("Forbidden.RAM", "%s (action: %s)" % (MSG_FORBIDDEN_RAM, ram_action), status=403)
        error.extra = {"AccessDeniedDetail": {
            "AuthAction": ram_action,
            "AuthPrincipalType": "AssumedRoleUser" if principal.kind == "AssumedRoleUser" else "SubUser",
            "AuthPrincipalOwnerId": principal.account_id,
            "AuthPrincipalDisplayName": principal.name,
            "NoPermissionType": verdict,
            "PolicyType": "AccountLevelIdentityBasedPolicy",
        }}
        return error

    # -- responses ---------------------------------------------------------------------------------------

    @staticmethod
    def host_id(product, region):
        if product == "ess" or product == "sts":
            return "%s.aliyuncs.com" % product
        if product:
            return "%s.%s.aliyuncs.com" % (product, region or "cn-hangzhou")
        return "aliyuncs.com"

    def _json(self, status, doc, request_id, extra_headers=None):
        headers = {"Content-Type": "application/json;charset=utf-8", "x-acs-request-id": request_id}
        if extra_headers:
            headers.update(extra_headers)
        return ApiResponse(status, headers, json.dumps(doc, ensure_ascii=False).encode("utf-8"))

    def _error(self, error, request_id, product, region):
        product_code = PRODUCT_CODES.get(product, "")
        body = {
            "RequestId": request_id,
            "HostId": self.host_id(product, region),
            "Code": error.code,
            "Message": error.message,
            "Recommend": "https://api.aliyun.com/troubleshoot?q=%s&product=%s&requestId=%s"
                         % (quote(error.code, safe=""), product_code, request_id),
        }
        body.update(getattr(error, "extra", None) or {})
        return self._json(error.status, body, request_id, error.headers)
