# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY.
# The interfaces in this file are meant for use within the alicloud.rollout collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""The one retry layer of the collection (the SDK's own retries are switched off).

Full-jitter exponential backoff: attempt n waits uniform(0, min(cap, base * 2**n)), but never less
than the server's ``x-acs-retry-after`` (capped too). Retried: ``Throttling*``,
``Rejected.Throttling``, ``ServiceUnavailable``, ``InternalError``, HTTP 5xx and network errors.

A mutating call is retried on 5xx/network errors only when it is safe to repeat (it carries a
ClientToken, or the operation is naturally idempotent, e.g. setting a value). Throttling errors are
retried for every call: the gateway refused the request before the service ran it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time

from .errors import AlicloudApiError

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BASE_DELAY = 0.5
DEFAULT_MAX_DELAY = 20.0


class RetryPolicy:
    def __init__(self, max_attempts=DEFAULT_MAX_ATTEMPTS, base_delay=DEFAULT_BASE_DELAY,
                 max_delay=DEFAULT_MAX_DELAY, sleep=time.sleep, rng=random.random):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self._rng = rng
        self.retries_done = 0

    def backoff(self, attempt, retry_after=None):
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        delay = self._rng() * ceiling
        if retry_after:
            delay = max(delay, min(retry_after, self.max_delay))
        return delay

    @staticmethod
    def should_retry(error, safe_to_repeat):
        if not isinstance(error, AlicloudApiError):
            return False
        if error.is_throttling:
            return True
        return safe_to_repeat and error.is_transient

    def pause(self, attempt, retry_after=None):
        """Sleep before attempt ``attempt + 1``, for callers that run their own guarded retry loop."""
        self._sleep(self.backoff(attempt, retry_after))
        self.retries_done += 1

    def call(self, func, safe_to_repeat=True):
        """Run ``func()`` (which raises AlicloudApiError) with retries; return its result."""
        attempt = 1
        while True:
            try:
                return func()
            except AlicloudApiError as error:
                if attempt >= self.max_attempts or not self.should_retry(error, safe_to_repeat):
                    raise
                self.pause(attempt, error.retry_after)
                attempt += 1
