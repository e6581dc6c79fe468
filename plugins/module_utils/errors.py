# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY.
# The interfaces in this file are meant for use within the alicloud.rollout collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""One exception type for every Alibaba Cloud API failure, and how to report it to the user."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Codes answered by the gateway when it refused the request before the service ran it.
THROTTLING_CODES = ("Rejected.Throttling",)
THROTTLING_PREFIX = "Throttling"
TRANSIENT_CODES = ("ServiceUnavailable", "InternalError", "ServiceBusy")
NETWORK_ERROR_CODE = "NetworkError"
# The endpoint's certificate was refused: not transient, so never retried.
TLS_VERIFICATION_CODE = "TlsVerificationFailed"
_TLS_VERIFICATION_MARKERS = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed")
NO_CREDENTIALS_CODE = "NoCredentials"

# What to do about the codes people actually hit; matched exactly first, then by prefix.
ADVICE = {
    "InvalidAccessKeyId.NotFound": "The AccessKey ID is unknown to Alibaba Cloud. Check access_key_id, "
                                   "ALIBABA_CLOUD_ACCESS_KEY_ID / ALICLOUD_ACCESS_KEY or the profile in use.",
    "InvalidAccessKeyId.Inactive": "The AccessKey is disabled. Enable it in the RAM console or use another one.",
    "SignatureDoesNotMatch": "The AccessKey secret does not match the AccessKey ID. Check access_key_secret "
                             "(and that no proxy rewrites the request).",
    "IncompleteSignature": "The request signature was rejected. Check the endpoint and that no proxy rewrites requests.",
    "InvalidTimeStamp.Expired": "The local clock is more than 15 minutes off. Synchronize the clock (NTP).",
    "SignatureNonceUsed": "A request was replayed. Retry the task.",
    "Forbidden.RAM": "The RAM identity lacks a permission. Grant the action named in the message "
                     "(see the 'Permissions' section of the collection README for a custom policy).",
    "Forbidden": "The identity is not allowed to call this API. Check its RAM policies.",
    "InvalidSecurityToken.Expired": "The STS security token has expired. Get a new token or use assume_role "
                                    "so the collection requests one.",
    "InvalidSecurityToken.Malformed": "The STS security token is malformed. Check security_token.",
    "InvalidSecurityToken.MismatchWithAccessKey": "The STS security token does not belong to this AccessKey ID.",
    "InvalidScalingGroupId.NotFound": "No such scaling group in this region. Check scaling_group_id and region.",
    "IncorrectScalingGroupStatus": "The scaling group's state does not allow this action (is it disabled, or "
                                   "is a scaling activity running?). Enable the group or wait and retry.",
    "EntityNotExists.Template": "No such OOS template (or OOS package) in this region. Check template_name / "
                                "template_version, or package_name, and the region.",
    "EntityNotExists.TemplateVersion": "This OOS template has no such version in this region. Check "
                                       "template_version (omit it to use the latest version).",
    "MissingSecurityToken": "The AccessKey is an STS (STS.*) key and needs its security token. Give "
                            "security_token (or ALIBABA_CLOUD_SECURITY_TOKEN / ALICLOUD_SECURITY_TOKEN).",
    "EntityNotExists.Execution": "No such OOS execution in this region. Check the execution id and region.",
    "EntityNotExists.Role": "The RAM role does not exist. Check the role ARN.",
    "IdempotentParameterMismatch": "The same client token was used with different parameters.",
    "InvalidParameter": "A parameter was rejected by the service; see the message.",
    "MissingParameter": "A required parameter is missing; see the message.",
    "Throttling": "Alibaba Cloud throttled the calls and the retries ran out. Raise 'retries' / "
                  "'retry_max_delay' or run fewer tasks in parallel.",
    "ServiceUnavailable": "The service is temporarily unavailable and the retries ran out. Retry later.",
    "InternalError": "The service failed internally and the retries ran out. Retry later.",
    NO_CREDENTIALS_CODE: "No credentials were found. Give access_key_id/access_key_secret, set "
                         "ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET (or ALICLOUD_ACCESS_KEY/"
                         "ALICLOUD_SECRET_KEY), or name a profile of ~/.aliyun/config.json.",
    TLS_VERIFICATION_CODE: "The endpoint's TLS certificate could not be verified. Use an endpoint whose certificate "
                           "a trusted CA issued, or add your CA to the trust store the SDK reads (the certifi CA "
                           "bundle); validate_certs: false only for a test endpoint you control.",
    NETWORK_ERROR_CODE: "The endpoint could not be reached. Check endpoint_url / endpoints, DNS, proxies "
                        "and network access to Alibaba Cloud.",
}

_SDK_MESSAGE = re.compile(r"^code: \d+, (?P<message>.*?)(?: request id: [^ ]*)?$", re.S)


def advice_for(code):
    """A sentence saying what to do about an error code, or None."""
    if not code:
        return None
    if code in ADVICE:
        return ADVICE[code]
    for known, text in ADVICE.items():
        if code.startswith(known + "."):
            return text
    if code.startswith(THROTTLING_PREFIX):
        return ADVICE["Throttling"]
    return None


def is_throttling(code):
    return bool(code) and (code.startswith(THROTTLING_PREFIX) or code in THROTTLING_CODES)


class AlicloudApiError(Exception):
    """A failed Alibaba Cloud API call, whatever the SDK raised.

    ``retry_after`` is in seconds (the SDK's value from ``x-acs-retry-after`` is taken as
    milliseconds; INFERRED, the unit is not documented).
    """

    def __init__(self, code, message, request_id=None, http_status=None, recommend=None,
                 operation=None, product=None, retry_after=None):
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        self.recommend = recommend
        self.operation = operation
        self.product = product
        self.retry_after = retry_after
        super(AlicloudApiError, self).__init__(self.summary())

    @property
    def is_network_error(self):
        return self.code == NETWORK_ERROR_CODE

    @property
    def is_throttling(self):
        return is_throttling(self.code)

    @property
    def is_transient(self):
        """Worth retrying: throttling, 5xx, or the network."""
        server_error = self.http_status is not None and self.http_status >= 500
        return self.is_throttling or self.is_network_error or self.code in TRANSIENT_CODES or server_error

    @property
    def advice(self):
        return advice_for(self.code)

    def summary(self):
        where = "%s %s" % ((self.product or "").upper(), self.operation or "call")
        text = "%s failed: %s: %s" % (where.strip(), self.code, self.message)
        if self.request_id:
            text += " (RequestId %s)" % self.request_id
        return text

    def to_dict(self):
        return {
            "operation": self.operation,
            "product": self.product,
            "code": self.code,
            "message": self.message,
            "request_id": self.request_id,
            "http_status": self.http_status,
            "recommend": self.recommend,
            "advice": self.advice,
        }

    @classmethod
    def from_exception(cls, exc, operation=None, product=None, secrets=()):
        """Build from whatever the Tea/darabonba SDK raised; ``secrets`` are scrubbed from the text."""
        if isinstance(exc, AlicloudApiError):
            return exc
        if type(exc).__name__ == "CredentialException":
            # alibabacloud-credentials found nothing in its default chain (raised before any request).
            return cls(NO_CREDENTIALS_CODE, scrub(str(exc), secrets), operation=operation, product=product)
        if _is_tls_verification_failure(exc):
            return cls(TLS_VERIFICATION_CODE, scrub(_describe_network_error(exc), secrets),
                       operation=operation, product=product)
        inner = getattr(exc, "inner_exception", None)
        if inner is not None and inner is not exc:
            # UnretryableException wraps the real cause (a network error, or an API error).
            if getattr(inner, "code", None) or getattr(inner, "status_code", None):
                return cls.from_exception(inner, operation, product, secrets)
            return cls(NETWORK_ERROR_CODE, scrub(_describe_network_error(inner), secrets),
                       operation=operation, product=product)
        code = getattr(exc, "code", None)
        data = getattr(exc, "data", None)
        data = data if isinstance(data, dict) else {}
        status = getattr(exc, "status_code", None) or data.get("statusCode")
        if not code and status is None:
            return cls(NETWORK_ERROR_CODE, scrub(_describe_network_error(exc), secrets),
                       operation=operation, product=product)
        code = data.get("Code") or code or "Unknown"
        message = data.get("Message") or data.get("message")
        if not message:
            message = getattr(exc, "message", None) or str(exc)
            match = _SDK_MESSAGE.match(message)
            if match:
                message = match.group("message")
        request_id = data.get("RequestId") or getattr(exc, "request_id", None)
        if request_id in ("None", ""):
            request_id = None
        retry_after = getattr(exc, "retry_after", None)
        return cls(
            code=str(code),
            message=scrub(str(message), secrets),
            request_id=request_id,
            http_status=int(status) if status is not None else None,
            recommend=data.get("Recommend"),
            operation=operation,
            product=product,
            retry_after=(retry_after / 1000.0) if retry_after else None,
        )


class ConfigurationError(Exception):
    """The connection could not be set up from the options, environment or profile (no API call made)."""


def _causes(exc, limit=10):
    """The exception and what it wraps (SDK ``inner_exception``, ``__cause__``, ``__context__``, exception args)."""
    seen, todo = [], [exc]
    while todo and len(seen) < limit:
        current = todo.pop(0)
        if current is None or any(current is known for known in seen):
            continue
        seen.append(current)
        todo.extend([getattr(current, "inner_exception", None), current.__cause__, current.__context__])
        todo.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
    return seen


def _is_tls_verification_failure(exc):
    for cause in _causes(exc):
        if type(cause).__name__ == "SSLCertVerificationError":
            return True
        if getattr(cause, "status_code", None) or isinstance(getattr(cause, "data", None), dict):
            continue  # the service answered: its message is not about this connection
        text = str(cause)
        if any(marker in text for marker in _TLS_VERIFICATION_MARKERS):
            return True
    return False


def _describe_network_error(exc):
    return "%s: %s" % (type(exc).__name__, exc)


def scrub(text, secrets):
    """Remove secret values from a text before it can reach a result or a log."""
    if text is None:
        return text
    for secret in secrets or ():
        if secret and len(secret) >= 4:
            text = text.replace(secret, "********")
    return text


def error_result(error):
    """The ``error`` entry of a module result for an API failure."""
    return error.to_dict()


def fail_json_api(module, error, msg=None, **result):
    """Fail the module for an API error: which call, code, RequestId, HTTP status, Recommend, advice.

    No traceback: the error is expected and fully described.
    """
    parts = []
    if msg:
        parts.append(msg.rstrip(".") + ".")
    parts.append(error.summary() + ".")
    if error.http_status:
        parts.append("HTTP %s." % error.http_status)
    if error.advice:
        parts.append(error.advice)
    if error.recommend:
        parts.append("Diagnosis: %s" % error.recommend)
    result["error"] = error_result(error)
    module.fail_json(msg=" ".join(parts), **result)
