"""SDK exceptions become one AlicloudApiError that says what to do, without secrets."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException
from darabonba.exceptions import UnretryableException
from darabonba.policy.retry import RetryPolicyContext
import requests

from ansible_collections.alicloud.rollout.plugins.module_utils.errors import (
    AlicloudApiError, fail_json_api, advice_for)


def body(code, message, request_id="RID-1", recommend=None):
    data = {"Code": code, "Message": message, "RequestId": request_id}
    if recommend:
        data["Recommend"] = recommend
    return data


def test_client_exception_fields_are_kept():
    data = body("Forbidden.RAM", "User not authorized (action: ess:SuspendProcesses)",
                recommend="https://api.aliyun.com/troubleshoot?q=Forbidden.RAM")
    exc = ClientException(status_code=403, code="Forbidden.RAM", request_id="RID-1", data=data,
                          message="code: 403, %s request id: RID-1" % data["Message"])
    error = AlicloudApiError.from_exception(exc, "SuspendProcesses", "ess")
    assert (error.code, error.http_status, error.request_id) == ("Forbidden.RAM", 403, "RID-1")
    assert error.message == "User not authorized (action: ess:SuspendProcesses)"
    assert error.recommend.startswith("https://api.aliyun.com/troubleshoot")
    assert error.operation == "SuspendProcesses" and error.product == "ess"
    assert "custom policy" in error.advice
    assert not error.is_transient


def test_message_without_data_is_cleaned_of_sdk_prefix():
    exc = ServerException(status_code=503, code="ServiceUnavailable", request_id="R",
                          message="code: 503, Service busy request id: R")
    error = AlicloudApiError.from_exception(exc)
    assert error.message == "Service busy"
    assert error.is_transient


def test_throttling_exception_retry_after_is_milliseconds():
    exc = ThrottlingException(status_code=400, code="Throttling.User", retry_after=1500,
                              data=body("Throttling.User", "Request was denied due to user flow control."))
    error = AlicloudApiError.from_exception(exc, "ListExecutions", "oos")
    assert error.retry_after == 1.5
    assert error.is_throttling and error.is_transient


def test_network_error_wrapped_by_the_sdk_becomes_network_error():
    context = RetryPolicyContext(retries_attempted=1, exception=requests.ConnectionError("refused"))
    exc = UnretryableException(context)
    error = AlicloudApiError.from_exception(exc, "ListExecutions", "oos")
    assert error.code == "NetworkError"
    assert error.is_network_error and error.is_transient
    assert "refused" in error.message


def wrapped_certificate_failure():
    """What the SDK raises for a self-signed endpoint: requests' SSLError around ssl's verification error."""
    import ssl
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                                            "self-signed certificate")
    outer = requests.exceptions.SSLError(cause)
    return UnretryableException(RetryPolicyContext(retries_attempted=1, exception=outer))


def test_a_certificate_failure_is_its_own_code_not_retried_and_says_what_to_do():
    error = AlicloudApiError.from_exception(wrapped_certificate_failure(), "DescribeScalingGroups", "ess")
    assert error.code == "TlsVerificationFailed"
    assert not error.is_network_error and not error.is_transient
    assert "validate_certs" in error.advice and "trust store" in error.advice
    assert "CERTIFICATE_VERIFY_FAILED" in error.message


def test_a_plain_connection_failure_is_still_a_network_error():
    outer = requests.exceptions.SSLError("EOF occurred in violation of protocol")
    error = AlicloudApiError.from_exception(UnretryableException(RetryPolicyContext(retries_attempted=1,
                                                                                    exception=outer)))
    assert error.code == "NetworkError" and error.is_transient


def test_an_api_error_quoting_certificate_words_stays_an_api_error():
    data = body("InvalidParameter", "certificate verify failed is not a valid description")
    exc = ClientException(status_code=400, code="InvalidParameter", request_id="RID-1", data=data)
    assert AlicloudApiError.from_exception(exc).code == "InvalidParameter"


def test_secrets_are_scrubbed_from_messages():
    exc = ClientException(status_code=400, code="SignatureDoesNotMatch",
                          data=body("SignatureDoesNotMatch", "string to sign used secret s3cr3t-value"))
    error = AlicloudApiError.from_exception(exc, secrets=["s3cr3t-value"])
    assert "s3cr3t-value" not in error.message
    assert "********" in error.message


def test_advice_matches_families():
    assert "expired" in advice_for("InvalidSecurityToken.Expired").lower()
    assert "throttled" in advice_for("Throttling.Api").lower()
    assert advice_for("Totally.Unknown") is None


class FakeModule:
    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)


def test_fail_json_api_reports_call_code_request_id_status_recommend_and_advice():
    module = FakeModule()
    error = AlicloudApiError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", "RID-9", 404,
                             "https://api.aliyun.com/troubleshoot?q=x", "DescribeScalingGroups", "ess")
    try:
        fail_json_api(module, error, msg="Could not read the group", changed=False)
    except SystemExit:
        pass
    msg = module.failed["msg"]
    for part in ("Could not read the group", "ESS DescribeScalingGroups", "InvalidAccessKeyId.NotFound",
                 "RID-9", "HTTP 404", "ALIBABA_CLOUD_ACCESS_KEY_ID", "troubleshoot"):
        assert part in msg
    assert module.failed["error"]["code"] == "InvalidAccessKeyId.NotFound"
    assert "exception" not in module.failed


def test_empty_default_credential_chain_is_reported_as_no_credentials():
    from alibabacloud_credentials.exceptions import CredentialException
    error = AlicloudApiError.from_exception(CredentialException("unable to load credentials from any of the providers"),
                                            "ListExecutions", "oos")
    assert error.code == "NoCredentials"
    assert not error.is_transient
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in error.advice


def test_advice_for_a_missing_template_version_and_a_missing_sts_token():
    assert "template_version" in advice_for("EntityNotExists.TemplateVersion")
    assert "security_token" in advice_for("MissingSecurityToken")
