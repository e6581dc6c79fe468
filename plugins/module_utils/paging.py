# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY.
# The interfaces in this file are meant for use within the alicloud.rollout collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""Collect every page of a list API, in the two styles Alibaba Cloud uses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# A guard against a server that never stops returning tokens.
MAX_PAGES = 1000


def _items(body, key):
    value = body.get(key) if isinstance(body, dict) else None
    if isinstance(value, dict) and len(value) == 1:
        # 2014-08-28 style wrapper: {"ScalingGroups": {"ScalingGroup": [...]}}
        value = next(iter(value.values()))
    return list(value or [])


def token_pages(fetch, items_key, max_results=None, limit=None):
    """NextToken/MaxResults style. ``fetch(next_token, max_results)`` returns a response body dict.

    Stops when NextToken is missing or empty, or once ``limit`` items are collected.
    """
    collected = []
    token = None
    seen_tokens = set()
    for _page in range(MAX_PAGES):
        body = fetch(token, max_results)
        collected.extend(_items(body, items_key))
        token = body.get("NextToken") if isinstance(body, dict) else None
        if limit is not None and len(collected) >= limit:
            return collected[:limit]
        if not token or token in seen_tokens:
            return collected
        seen_tokens.add(token)
    raise RuntimeError("more than %d pages of %s" % (MAX_PAGES, items_key))


def number_pages(fetch, items_key, page_size):
    """PageNumber/PageSize style. ``fetch(page_number, page_size)`` returns a response body dict.

    Stops when TotalCount items are collected, or on a short or empty page.
    """
    collected = []
    page = 1
    for _page in range(MAX_PAGES):
        body = fetch(page, page_size)
        items = _items(body, items_key)
        collected.extend(items)
        total = body.get("TotalCount") if isinstance(body, dict) else None
        if not items or len(items) < page_size:
            return collected
        if total is not None and len(collected) >= int(total):
            return collected
        page += 1
    raise RuntimeError("more than %d pages of %s" % (MAX_PAGES, items_key))
