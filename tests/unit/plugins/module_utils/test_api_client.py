"""ApiClient: SDK answers become dicts, SDK errors become AlicloudApiError, and retries follow the policy."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from alibabacloud_tea_openapi.exceptions import ServerException

from ansible_collections.alicloud.rollout.plugins.module_utils.client import ApiClient
from ansible_collections.alicloud.rollout.plugins.module_utils.errors import AlicloudApiError
from ansible_collections.alicloud.rollout.plugins.module_utils.retry import RetryPolicy


class Body:
    def __init__(self, data):
        self.data = data

    def to_map(self):
        return self.data


class Response:
    def __init__(self, data):
        self.body = Body(data)


def client(log=None):
    return ApiClient("oos", sdk=None, region="cn-hangzhou", retry_policy=RetryPolicy(sleep=lambda s: None),
                     runtime="RUNTIME", secrets=["top-secret-value"], call_log=log if log is not None else [])


def flaky(answers):
    calls = []

    def invoke(runtime):
        calls.append(runtime)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
    return invoke, calls


def unavailable():
    return ServerException(status_code=503, code="ServiceUnavailable", request_id="R",
                           data={"Code": "ServiceUnavailable", "Message": "busy top-secret-value", "RequestId": "R"})


def test_typed_sdk_response_becomes_a_dict_and_runtime_is_passed():
    log = []
    invoke, calls = flaky([Response({"Executions": [], "RequestId": "R"})])
    assert client(log).call("ListExecutions", invoke) == {"Executions": [], "RequestId": "R"}
    assert calls == ["RUNTIME"]
    assert log == [{"product": "oos", "operation": "ListExecutions", "mutating": False}]


def test_generic_call_api_answer_is_unwrapped():
    invoke, dummy = flaky([{"body": {"Regions": {}}, "headers": {}, "statusCode": 200}])
    assert client().call("DescribeRegions", invoke) == {"Regions": {}}


def test_read_is_retried_and_secrets_are_scrubbed_from_errors():
    invoke, calls = flaky([unavailable(), Response({"ok": True})])
    assert client().call("ListExecutions", invoke) == {"ok": True}
    assert len(calls) == 2
    invoke, dummy = flaky([unavailable()] * 10)
    try:
        client().call("ListExecutions", invoke)
    except AlicloudApiError as error:
        assert error.code == "ServiceUnavailable" and error.operation == "ListExecutions"
        assert "top-secret-value" not in error.message
    else:
        raise AssertionError("expected AlicloudApiError")


def test_mutating_call_is_not_repeated_unless_safe():
    invoke, calls = flaky([unavailable(), Response({})])
    try:
        client().call("NotifyExecution", invoke, mutating=True)
    except AlicloudApiError:
        pass
    assert len(calls) == 1
    invoke, calls = flaky([unavailable(), Response({"Execution": {}})])
    assert client().call("StartExecution", invoke, mutating=True, safe_to_repeat=True) == {"Execution": {}}
    assert len(calls) == 2
