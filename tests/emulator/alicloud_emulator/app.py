"""The emulator object shared by the HTTP layer, the product handlers and the model's scheduler."""
import collections
import datetime
import importlib
import sys
import threading
import time
import traceback

from . import faults as faults_mod
from .accounts import Accounts, WorldError

PRODUCT_MODULES = ("sts", "ecs", "ess", "oos", "lb")

# Nonces are remembered for the signature freshness window (15 minutes) plus a margin.
NONCE_TTL_SECONDS = 16 * 60
MAX_LOGGED_CALLS = 200000


def load_products():
    """Import every product module that exists; return {name: error text} for those that failed."""
    failed = {}
    for name in PRODUCT_MODULES:
        module = "alicloud_emulator.products." + name
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                failed[name] = repr(error)
                traceback.print_exc()
            else:
                failed[name] = "not installed"
        except Exception as error:  # a broken product must not take the others down; say so loudly
            failed[name] = repr(error)
            traceback.print_exc()
    return failed


def _model_classes():
    """(World, SimClock) from the model, or stand-ins while the model is not there."""
    try:
        from .state import World
    except ModuleNotFoundError as error:
        if error.name != "alicloud_emulator.state":
            raise
        World = NullWorld
    try:
        from .clock import SimClock
    except ModuleNotFoundError as error:
        if error.name != "alicloud_emulator.clock":
            raise
        SimClock = None
    return World, SimClock


class NullWorld:
    """Used when the cloud model is not installed: an empty world."""

    def __init__(self, emulator):
        self.emulator = emulator

    def load(self, doc):
        pass

    def snapshot(self):
        return {"model": "not installed"}

    def instance_health(self, instance_id):
        return 404, {"InstanceId": instance_id, "Healthy": False, "Reason": "no cloud model"}


class CallLog:
    """Every API call, in order; `since` is an index into the log (stable until DELETE or POST world)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries = []
        self._offset = 0

    def append(self, entry):
        with self._lock:
            entry["index"] = self._offset + len(self._entries)
            self._entries.append(entry)
            if len(self._entries) > MAX_LOGGED_CALLS:
                # Long demos and benchmarks must not grow memory without bound: drop the oldest tenth.
                dropped = MAX_LOGGED_CALLS // 10
                del self._entries[:dropped]
                self._offset += dropped

    def list(self, since=0, **filters):
        with self._lock:
            start = max(0, int(since) - self._offset)
            entries = self._entries[start:]
            next_index = self._offset + len(self._entries)
        if filters:
            entries = [e for e in entries if all(str(e.get(k)) == str(v) for k, v in filters.items())]
        return entries, next_index

    def clear(self):
        with self._lock:
            # Indexes keep growing so that a stale `since` never returns calls twice.
            self._offset += len(self._entries)
            self._entries = []

    def __len__(self):
        with self._lock:
            return len(self._entries)


class NonceCache:
    """(access key id, nonce) pairs seen within the freshness window."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._seen = {}
        self._expiries = collections.deque()

    def use(self, access_key_id, nonce):
        """Record the nonce; return False when it was already used."""
        key = (access_key_id, nonce)
        now = self._clock()
        with self._lock:
            while self._expiries and self._expiries[0][0] <= now:
                _, old = self._expiries.popleft()
                if self._seen.get(old, 0) <= now:
                    self._seen.pop(old, None)
            if key in self._seen:
                return False
            self._seen[key] = now + NONCE_TTL_SECONDS
            self._expiries.append((now + NONCE_TTL_SECONDS, key))
            return True

    def clear(self):
        with self._lock:
            self._seen.clear()
            self._expiries.clear()


class Emulator:
    """Holds the world, accounts, faults and call log. Handlers and scheduler callbacks run under `lock`."""

    def __init__(self, speed_override=None, run_commands_override=None):
        self.lock = threading.RLock()
        self.speed_override = speed_override
        self.run_commands_override = run_commands_override
        self.speed = float(speed_override or 1.0)
        self.run_commands = True if run_commands_override is None else bool(run_commands_override)
        self.faults = {}
        self.injector = faults_mod.FaultInjector()
        self.accounts = Accounts()
        self.calls = CallLog()
        self.nonces = NonceCache()
        self.clock = None
        self.world = NullWorld(self)
        self.world_error = None
        self.failed_products = load_products()
        self.started_at = time.time()

    # -- world -------------------------------------------------------------------------------------------

    def load_world(self, doc, speed=None):
        """Replace the world: accounts, roles, faults, speed and the model's state; clears calls and nonces.

        Speed precedence: the `speed` argument, then the CLI `--speed`, then the document's `speed`.
        """
        if not isinstance(doc, dict):
            raise WorldError("a world document is a mapping")
        accounts = Accounts.from_world(doc)
        new_faults = faults_mod.validate(doc.get("faults"))
        if speed is None:
            speed = self.speed_override if self.speed_override is not None else doc.get("speed", 1)
        try:
            speed = float(speed)
        except (TypeError, ValueError):
            raise WorldError("speed must be a number")
        if speed <= 0:
            raise WorldError("speed must be positive")
        run_commands = doc.get("run_commands", True)
        if self.run_commands_override is not None:
            run_commands = self.run_commands_override
        World, SimClock = _model_classes()

        # Stop the old scheduler outside the lock: its callbacks take the lock, and stop() joins its thread.
        self.stop_clock()
        with self.lock:
            self.speed = speed
            self.run_commands = bool(run_commands)
            self.accounts = accounts
            self.set_faults(new_faults, replace=True, validated=True)
            self.calls.clear()
            self.nonces.clear()
            self.clock = SimClock(speed) if SimClock else None
            try:
                world = World(self)
                world.load(doc)
            except (ValueError, KeyError, TypeError) as error:
                self.world = NullWorld(self)
                self.world_error = "invalid world: %s" % error
                raise WorldError(self.world_error)
            except Exception as error:  # a model bug: keep serving (auth, STS, control plane) and say why
                log_exception("World.load")
                self.world = NullWorld(self)
                self.world_error = "the cloud model failed to load: %r" % error
                return
            self.world = world
            self.world_error = None

    def stop_clock(self):
        clock = self.clock
        if clock is not None and hasattr(clock, "stop"):
            clock.stop()

    def shutdown(self):
        self.stop_clock()

    # -- faults ------------------------------------------------------------------------------------------

    def set_faults(self, changes, replace=False, validated=False):
        """Merge (or replace) the faults now; returns the faults in force."""
        changes = changes or {}
        if not isinstance(changes, dict):
            raise WorldError("faults must be a mapping")
        # A null value removes that fault.
        removed = [k for k, v in changes.items() if v is None]
        if not validated:
            changes = faults_mod.validate({k: v for k, v in changes.items() if v is not None})
        if replace:
            merged = dict(changes)
        else:
            merged = faults_mod.merge(self.faults, changes)
            for key in removed:
                merged.pop(key, None)
        with self.lock:
            self.faults = merged
            self.injector.configure(merged)
        return merged

    # -- introspection -----------------------------------------------------------------------------------

    def now_iso(self):
        return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def health(self):
        from .api import registered_actions
        products = sorted({product for product, _ in registered_actions()})
        return {
            "status": "ok",
            "speed": self.speed,
            "run_commands": self.run_commands,
            "products": products,
            "failed_products": self.failed_products,
            "world_error": self.world_error,
            "calls": len(self.calls),
            "uptime_s": round(time.time() - self.started_at, 3),
        }


def log_exception(context):
    sys.stderr.write("alicloud-emulator: unexpected error in %s\n" % context)
    traceback.print_exc()
    sys.stderr.flush()
