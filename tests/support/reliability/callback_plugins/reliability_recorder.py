# Test helper, not shipped: writes every task result as one JSON line to $RELIABILITY_RESULTS, next to the
# normal stdout callback, so a test reads results without extra tasks (no extra module runs).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: reliability_recorder
type: aggregate
short_description: record task results for the reliability tests
description: Appends one JSON line per task result to the file named by RELIABILITY_RESULTS.
requirements: [enable in ansible.cfg or ANSIBLE_CALLBACKS_ENABLED]
"""

import json
import os
import threading

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "reliability_recorder"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._path = os.environ.get("RELIABILITY_RESULTS")
        self._lock = threading.Lock()

    def _record(self, result, outcome):
        if not self._path:
            return
        line = {"host": result._host.get_name(), "task": result._task.get_name(), "outcome": outcome,
                "result": result._result}
        with self._lock, open(self._path, "a") as handle:
            handle.write(json.dumps(line, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")
