"""Paging helpers collect every page in both Alibaba Cloud styles."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.rollout.plugins.module_utils import paging


def token_server(items, page_size):
    calls = []

    def fetch(token, max_results):
        calls.append((token, max_results))
        start = int(token or 0)
        body = {"Executions": items[start:start + page_size]}
        if start + page_size < len(items):
            body["NextToken"] = str(start + page_size)
        return body
    return fetch, calls


def test_token_pages_follows_next_token_to_the_end():
    fetch, calls = token_server(list(range(23)), 10)
    assert paging.token_pages(fetch, "Executions", max_results=10) == list(range(23))
    assert [c[0] for c in calls] == [None, "10", "20"]
    assert all(c[1] == 10 for c in calls)


def test_token_pages_treats_empty_token_as_the_end():
    assert paging.token_pages(lambda t, m: {"Executions": [1], "NextToken": ""}, "Executions") == [1]


def test_token_pages_stops_at_limit():
    fetch, calls = token_server(list(range(100)), 10)
    assert paging.token_pages(fetch, "Executions", limit=15) == list(range(15))
    assert len(calls) == 2


def test_token_pages_stops_on_a_repeated_token():
    assert paging.token_pages(lambda t, m: {"Executions": [t], "NextToken": "same"}, "Executions") == [None, "same"]


def number_server(items, total=True):
    calls = []

    def fetch(page, size):
        calls.append(page)
        body = {"ScalingInstances": items[(page - 1) * size:page * size], "PageNumber": page}
        if total:
            body["TotalCount"] = len(items)
        return body
    return fetch, calls


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 250])
def test_number_pages_collects_every_item(count):
    fetch, calls = number_server(list(range(count)))
    assert paging.number_pages(fetch, "ScalingInstances", 100) == list(range(count))
    assert len(calls) == max(1, -(-count // 100))


def test_number_pages_without_total_stops_on_short_page():
    fetch, calls = number_server(list(range(150)), total=False)
    assert paging.number_pages(fetch, "ScalingInstances", 100) == list(range(150))
    assert calls == [1, 2]


def test_wrapped_lists_of_the_2014_api_are_unwrapped():
    body = {"ScalingGroups": {"ScalingGroup": [{"ScalingGroupId": "asg-1"}]}, "TotalCount": 1}
    assert paging.number_pages(lambda p, s: body, "ScalingGroups", 50) == [{"ScalingGroupId": "asg-1"}]
