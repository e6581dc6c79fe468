"""Fault injection for API calls (never for the control plane).

The `faults` mapping (world key `faults`, or `POST /_emulator/faults`):

    seed: 42                       # seeds error_rate and drop_rate: each action has its own random stream
                                   # and every call takes the same draws, so the k-th call of an action
                                   # meets the same fault whatever other calls run in between
    throttle: {default: 50, ListExecutions: 10, http_status: 400}   # QPS token buckets in real time
    error_rate: 0.1                # or {default: 0.0, StartExecution: 1.0}
    drop_rate: 0.0                 # or per action, like error_rate
    lost_responses: {StartExecution: 1}   # the first N served calls of an action lose their response (RST)
    latency_ms: 20                 # or per action, like error_rate
    failing_instances: {i-xxx: RunCommand}    # read by the model
    unhealthy_images: [m-xxx]                 # read by the model
    unhealthy_packages: ["nginx@1.26.1"]      # read by the model
    unhealthy_app_images: [m-xxx]             # read by the model: the app is down, the ECS instance is fine
    failing_refresh_images: [m-xxx]           # read by the model: instance refresh cannot start instances
    refresh_control_delay: 2                  # or per action; simulated seconds before Suspend/Resume/Cancel/
                                              # RollbackInstanceRefresh show their effect (read by the model)

Per-action keys are the action name (`ListExecutions`) or `product:Action` (`oos:ListExecutions`).
"""
import math
import random
import threading
import time

from .accounts import WorldError

PER_ACTION_FAULTS = ("throttle", "error_rate", "drop_rate", "latency_ms", "lost_responses")
KNOWN_KEYS = set(PER_ACTION_FAULTS) | {"seed", "failing_instances", "unhealthy_images", "unhealthy_packages",
                                       "failing_refresh_images", "refresh_control_delay", "unhealthy_app_images"}
THROTTLE_OPTIONS = {"http_status"}
DEFAULT_THROTTLE_STATUS = 400


def _per_action(name, value, allow_options=()):
    """Normalise a number or {default, Action: number} mapping into a dict."""
    if value is None:
        return {}
    if isinstance(value, bool):
        raise WorldError("faults.%s must be a number or a mapping" % name)
    if isinstance(value, (int, float)):
        if value < 0:
            raise WorldError("faults.%s must be a non-negative number" % name)
        return {"default": value}
    if not isinstance(value, dict):
        raise WorldError("faults.%s must be a number or a mapping" % name)
    result = {}
    for key, number in value.items():
        if key in allow_options:
            result[key] = number
            continue
        if key == "qps" and name == "throttle":
            key = "default"
        if isinstance(number, bool) or not isinstance(number, (int, float)) or number < 0:
            raise WorldError("faults.%s.%s must be a non-negative number" % (name, key))
        result[key] = number
    return result


def validate(faults):
    """Check and normalise a faults mapping; raises WorldError with a clear message."""
    if faults is None:
        return {}
    if not isinstance(faults, dict):
        raise WorldError("faults must be a mapping")
    unknown = set(faults) - KNOWN_KEYS
    if unknown:
        raise WorldError("unknown fault keys: %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(sorted(KNOWN_KEYS))))
    result = {}
    for name in ("error_rate", "drop_rate"):
        if name in faults and faults[name] is not None:
            rates = _per_action(name, faults[name])
            if any(rate > 1 for rate in rates.values()):
                raise WorldError("faults.%s values are probabilities between 0 and 1" % name)
            result[name] = rates
    for name in ("latency_ms", "refresh_control_delay"):
        if faults.get(name) is not None:
            result[name] = _per_action(name, faults[name])
    if faults.get("lost_responses") is not None:
        counts = _per_action("lost_responses", faults["lost_responses"])
        if any(int(count) != count for count in counts.values()):
            raise WorldError("faults.lost_responses values are whole numbers of calls")
        result["lost_responses"] = counts
    if faults.get("throttle") is not None:
        throttle = _per_action("throttle", faults["throttle"], THROTTLE_OPTIONS)
        status = throttle.get("http_status", DEFAULT_THROTTLE_STATUS)
        if status not in (400, 429, 503):
            raise WorldError("faults.throttle.http_status must be 400, 429 or 503")
        result["throttle"] = throttle
    if faults.get("seed") is not None:
        if not isinstance(faults["seed"], (int, str)):
            raise WorldError("faults.seed must be an integer or a string")
        result["seed"] = faults["seed"]
    failing = faults.get("failing_instances")
    if failing is not None:
        if not isinstance(failing, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in failing.items()):
            raise WorldError("faults.failing_instances maps instance ids to the name of the step that fails")
        result["failing_instances"] = dict(failing)
    for name in ("unhealthy_images", "unhealthy_packages", "failing_refresh_images", "unhealthy_app_images"):
        value = faults.get(name)
        if value is not None:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise WorldError("faults.%s must be a list of strings" % name)
            if name == "unhealthy_packages" and not all("@" in v for v in value):
                raise WorldError("faults.unhealthy_packages entries look like name@version")
            result[name] = list(value)
    return result


def merge(current, changes):
    """Top-level merge: keys in `changes` replace those in `current`; a null value removes the key."""
    merged = dict(current)
    for key, value in (changes or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def lookup_per_action(table, product, action):
    """The value for `product:Action`, else `Action`, else `default`, else None."""
    for key in (product + ":" + action, action, "default"):
        if key in table:
            return table[key]
    return None


class TokenBucket:
    """`rate` tokens per real second, holding at most max(1, rate) tokens."""

    def __init__(self, rate):
        self.rate = float(rate)
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self):
        """Take a token; return 0 when allowed, else the milliseconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0
        if self.rate <= 0:
            return 1000
        return max(1, int(math.ceil((1 - self.tokens) / self.rate * 1000)))


class FaultDecision:
    def __init__(self, latency_s=0.0, drop=False, throttle_retry_ms=0, throttle_status=400, error=None):
        self.latency_s = latency_s
        self.drop = drop
        self.throttle_retry_ms = throttle_retry_ms
        self.throttle_status = throttle_status
        self.error = error


class FaultInjector:
    """Decides, per API call, which faults hit it. Thread-safe; has its own lock (never the world's)."""

    def __init__(self, faults=None):
        self._lock = threading.Lock()
        self.configure(faults or {})

    def configure(self, faults):
        with self._lock:
            self.faults = faults
            self.seed = faults.get("seed")
            self.streams = {}  # per product:Action, so the draws do not depend on how calls interleave
            self.buckets = {}
            self.lost = {}  # per action key: responses lost so far

    def decide(self, product, action):
        faults = self.faults
        if not any(name in faults for name in PER_ACTION_FAULTS):
            return None
        with self._lock:
            drop_roll, error_roll, kind_roll = self._draws(product, action)
            decision = FaultDecision()
            latency = lookup_per_action(faults.get("latency_ms", {}), product, action)
            if latency:
                decision.latency_s = latency / 1000.0
            drop_rate = lookup_per_action(faults.get("drop_rate", {}), product, action)
            if drop_rate and drop_roll < drop_rate:
                decision.drop = True
                return decision
            throttle = faults.get("throttle")
            if throttle:
                decision.throttle_status = throttle.get("http_status", DEFAULT_THROTTLE_STATUS)
                # A global limit and a per-action limit both apply when both are set.
                for key in ("default", product + ":" + action, action):
                    if key in throttle:
                        bucket = self.buckets.get(key)
                        if bucket is None:
                            bucket = self.buckets[key] = TokenBucket(throttle[key])
                        wait_ms = bucket.take()
                        if wait_ms:
                            decision.throttle_retry_ms = max(decision.throttle_retry_ms, wait_ms)
                if decision.throttle_retry_ms:
                    return decision
            error_rate = lookup_per_action(faults.get("error_rate", {}), product, action)
            if error_rate and error_roll < error_rate:
                decision.error = "ServiceUnavailable" if kind_roll < 0.5 else "InternalError"
            return decision

    def _draws(self, product, action):
        key = product + ":" + action
        stream = self.streams.get(key)
        if stream is None:
            stream = self.streams[key] = random.Random(None if self.seed is None else "%s/%s" % (self.seed, key))
        return stream.random(), stream.random(), stream.random()

    def lose_response(self, product, action):
        """After a call was served: True when its response must be lost (the client sees a reset)."""
        counts = self.faults.get("lost_responses")
        if not counts:
            return False
        with self._lock:
            for key in (product + ":" + action, action, "default"):
                if key in counts:
                    if self.lost.get(key, 0) < counts[key]:
                        self.lost[key] = self.lost.get(key, 0) + 1
                        return True
                    return False
            return False
