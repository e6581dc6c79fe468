"""Simulated time and an event scheduler.

Simulated time starts at the real time of creation and runs `speed` times faster. One scheduler thread
sleeps until the next event is due (heap + condition variable), so an idle emulator costs no CPU.
Callbacks run on that thread; callers that touch the world wrap them to take the emulator lock.
"""
import datetime
import heapq
import itertools
import threading
import time


def iso(epoch_seconds):
    """ISO-8601 UTC with second precision, as the Alibaba Cloud APIs print it."""
    return datetime.datetime.fromtimestamp(int(epoch_seconds), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_minutes(epoch_seconds):
    """ESS `CreationTime` style (minute precision)."""
    return datetime.datetime.fromtimestamp(int(epoch_seconds), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def parse_iso(text):
    """Parse `2024-01-01T00:00:00Z` (seconds optional) to epoch seconds; None when unparsable."""
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            parsed = datetime.datetime.strptime(text, fmt)
        except (TypeError, ValueError):
            continue
        return parsed.replace(tzinfo=datetime.timezone.utc).timestamp()
    return None


class ScheduledEvent:
    __slots__ = ("due", "fn", "cancelled")

    def __init__(self, due, fn):
        self.due = due
        self.fn = fn
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class SimClock:
    def __init__(self, speed=1.0):
        self.speed = float(speed) if speed and float(speed) > 0 else 1.0
        self._real_start = time.time()
        self._sim_start = self._real_start
        self._heap = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._thread = None
        self._stopped = False

    def now(self):
        return self._sim_start + (time.time() - self._real_start) * self.speed

    def _real_time_of(self, sim_time):
        return self._real_start + (sim_time - self._sim_start) / self.speed

    def call_at(self, sim_time, fn):
        event = ScheduledEvent(sim_time, fn)
        with self._condition:
            if self._stopped:
                return event
            heapq.heappush(self._heap, (sim_time, next(self._sequence), event))
            self._ensure_thread()
            self._condition.notify()
        return event

    def call_later(self, sim_seconds, fn):
        return self.call_at(self.now() + max(0.0, float(sim_seconds)), fn)

    def cancel(self, event):
        if event is not None:
            event.cancel()

    def pending(self):
        with self._condition:
            return sum(1 for _, _, event in self._heap if not event.cancelled)

    def stop(self):
        with self._condition:
            self._stopped = True
            self._heap.clear()
            self._condition.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _ensure_thread(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="alicloud-emulator-clock", daemon=True)
            self._thread.start()

    def _run(self):
        while True:
            with self._condition:
                while not self._stopped:
                    while self._heap and self._heap[0][2].cancelled:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._condition.wait()
                        continue
                    wait = self._real_time_of(self._heap[0][0]) - time.time()
                    if wait <= 0:
                        break
                    self._condition.wait(wait)
                if self._stopped:
                    return
                _, _, event = heapq.heappop(self._heap)
            try:
                event.fn()
            except Exception:  # a broken callback must not kill the scheduler
                import traceback
                traceback.print_exc()
