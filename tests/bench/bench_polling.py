"""Goal 1 (issue 7): detection lag and API economy of the wait, adaptive policy vs fixed intervals.

    python tests/bench/bench_polling.py [--groups-per-strategy 6] [--batch-seconds ...]

One emulator at speed 1 (API timestamps are then real time, as on Alibaba Cloud, so a policy that reads
them is measured honestly). Every strategy rolls out its own scaling groups of 20 instances in 5 batches
with EveryBatchPause, all groups at the same time, so the strategies see the same emulator, machine load
and batch durations. A rollout is driven as a playbook drives ess_rolling_update: start and wait; at each
batch pause the module returns, the pause is approved (NotifyExecution Approve) and the module is run
again, which adopts the running execution and waits with a fresh poll policy (a new process).

What runs is the module's own code: module_utils Connection/ApiClient (signed SDK calls, retry policy),
waiter.wait_for with the module's progress marker, and after each wait the per-instance result reads the
module makes before it returns. Ansible's process start is not in the lag: it happens before the wait.

Lag = real time when that "module" returns - the emulator's real timestamp of the status change
(Waiting/BatchPause or the final status). Status calls per minute = status polls / minutes spent waiting.
"""
import argparse
import datetime
import json
import threading
import time

from bench_common import (EmulatorClient, EmulatorProcess, PACKAGE_TEMPLATE, connection, group_id, median,
                          percentile, world_with_groups)

INSTANCES = 20
BATCHES = 5
# A batch holding a Protected instance takes 4 s longer (protection off and on again): batch lengths vary.
PROTECTED_SHARE = 0.15
WAIT_TIMEOUT_S = 600

STRATEGIES = ("adaptive", "adaptive_seeded", "fixed_5s", "fixed_30s", "adaptive_automatic",
              "automatic_proposal")
AUTOMATIC = ("adaptive_automatic", "automatic_proposal")
STRATEGY_LABELS = {
    "adaptive": "adaptive policy as the module uses it today (fresh policy per module run)",
    "adaptive_seeded": "adaptive policy seeded from the execution's finished batches (proposal)",
    "fixed_5s": "fixed interval 5 s (until:/delay: 5 baseline)",
    "fixed_30s": "fixed interval 30 s (until:/delay: 30 baseline)",
    "adaptive_automatic": "module's adaptive policy, batchPauseOption Automatic: one wait over all batches "
                          "(one sample per rollout: the final status)",
    "automatic_proposal": "Automatic mode with the proposal's rules 3 and 4 (no learning from parent steps; "
                          "after the last batch, poll from the floor)",
}


def _imports():
    from ansible_collections.alicloud.rollout.plugins.module_utils import oos as oos_api
    from ansible_collections.alicloud.rollout.plugins.module_utils import rolling_update as ru
    from ansible_collections.alicloud.rollout.plugins.module_utils import waiter
    return oos_api, ru, waiter


def _api_epoch(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


LOOP_TASK = "invokeByConfigureOOSPackage"
FINAL_ITEM_STATUSES = ("Success", "Failed", "Cancelled", "Skipped")


def loop_history(oos, execution_id):
    """What the loop task says about batches, from one ListTaskExecutions call (the loop task and its items).

    Returns (durations of finished batches, API start of the running batch or None, total batches, finished
    batches). A batch lasts from its first item's StartDate to its last item's EndDate (whole seconds).
    """
    oos_api, _, _ = _imports()
    tasks = oos_api.list_task_executions(oos, execution_id, task_name=LOOP_TASK, include_child_task_execution=True)
    batches = {}
    for task in tasks:
        if task.get("ParentTaskExecutionId") and task.get("LoopBatchNumber") is not None:
            batches.setdefault(int(task["LoopBatchNumber"]), []).append(task)
    durations, running_since, finished = [], None, 0
    for number in sorted(batches):
        items = batches[number]
        if all(t.get("Status") in FINAL_ITEM_STATUSES and t.get("EndDate") and t.get("StartDate") for t in items):
            durations.append(max(_api_epoch(t["EndDate"]) for t in items) - min(_api_epoch(t["StartDate"]) for t in items))
            finished += 1
        elif any(t.get("StartDate") for t in items) and running_since is None:
            running_since = min(_api_epoch(t["StartDate"]) for t in items if t.get("StartDate"))
    return durations, running_since, len(batches), finished


# The proposal wakes just after the predicted end (a measured estimate), not before it; 2 s covers the
# whole-second resolution of API timestamps.
SEEDED_LEAD_S = -2.0


def seeded_policy_class(waiter):
    class SeededPolicy(waiter.PollPolicy):
        """The proposal: the module's PollPolicy plus three rules (see bench-findings.md / docs/performance.md).

        1. A run that starts mid-rollout learns the batch length from the finished batches (API timestamps)
           and anchors the running batch at its start, then sleeps until just after the predicted end
           (lead < 0: the estimate is measured, not guessed).
        2. Intervals shorter than two floors (parent steps such as getInstance, 2 s each) are not learned as
           batch lengths.
        3. Once a seeded wait has seen progress inside the running batch (an item finished, or the last batch
           ended and only tagging/resuming is left), the end is near: poll from the floor up instead of
           predicting one more batch.
        """

        def __init__(self, **kwargs):
            kwargs.setdefault("lead", SEEDED_LEAD_S)
            super().__init__(**kwargs)
            self._anchor = None

        def seed(self, durations, running_since, total, finished, clock=time.monotonic):
            for duration in durations:
                self.learn(duration)
            if durations and running_since is not None:
                self._anchor = clock() - max(0.0, time.time() - running_since)

        def record(self, now, marker):
            first = self._last_change is None
            learned_before = len(self._durations)
            super().record(now, marker)
            if len(self._durations) > learned_before and self._durations[-1][0] < 2 * self.floor:
                self._durations.pop()
            if first and self._anchor is not None:
                self._last_change = self._anchor

        def next_delay(self, now):
            if not self.fixed and self._anchor is not None and self._changes_seen > 0:
                return max(self.floor, min(self.cap, self.floor * (self.growth ** max(0, self._polls_since_change - 1))))
            return super().next_delay(now)

    return SeededPolicy


def automatic_policy_class(waiter):
    class AutomaticProposal(waiter.PollPolicy):
        """Rules 3 and 4 of the proposal for a wait over all batches (the module's first run knows its plan).

        ``finished_tasks(marker)`` reads the finished-task count of ``progress_marker``; once it reaches the
        planned loop items, only the short tail (tagging, resuming) is left: poll from the floor up.
        """

        def __init__(self, planned_items, finished_tasks, **kwargs):
            super().__init__(**kwargs)
            self.planned_items = planned_items
            self.finished_tasks = finished_tasks

        def record(self, now, marker):
            learned_before = len(self._durations)
            super().record(now, marker)
            if len(self._durations) > learned_before and self._durations[-1][0] < 2 * self.floor:
                self._durations.pop()

        def next_delay(self, now):
            done = self.finished_tasks(self._marker)
            if not self.fixed and done is not None and done >= self.planned_items:
                return max(self.floor, min(self.cap, self.floor * (self.growth ** max(0, self._polls_since_change - 1))))
            return super().next_delay(now)

    return AutomaticProposal


def _finished_tasks(marker):
    """The finished-task count in the module's progress marker (its last element), or None."""
    if isinstance(marker, tuple) and marker and isinstance(marker[-1], int):
        return marker[-1]
    return None


def make_policy(strategy, adopted):
    """The policy a module run builds: as ess_rolling_update does (an adopting run does not learn from its
    first, partial interval), a fixed interval as poll_interval gives, or the proposal."""
    _, _, waiter = _imports()
    if strategy == "fixed_5s":
        return waiter.PollPolicy(fixed=5)
    if strategy == "fixed_30s":
        return waiter.PollPolicy(fixed=30)
    if strategy == "automatic_proposal":
        return automatic_policy_class(waiter)(INSTANCES, _finished_tasks)
    policy_class = seeded_policy_class(waiter) if strategy == "adaptive_seeded" else waiter.PollPolicy
    try:
        return policy_class(learn_first=not adopted)
    except TypeError:  # an older PollPolicy without learn_first
        return policy_class()


def progress_marker(ru):
    """The module's progress marker (what changes when the rollout makes progress)."""
    marker = getattr(ru, "progress_marker", None)
    if marker is not None:
        return marker
    return lambda execution: (execution or {}).get("Status")


class Rollout(threading.Thread):
    """One scaling group's rollout, driven like a playbook drives ess_rolling_update."""

    def __init__(self, emulator, strategy, scaling_group_id, state_lock, snapshot):
        super().__init__(daemon=True)
        self.emulator = emulator
        self.strategy = strategy
        self.scaling_group_id = scaling_group_id
        self.state_lock = state_lock
        self.snapshot = snapshot
        self.samples = []  # {event, lag_s, polls, waited_s, seeded_batches}
        self.error = None
        self.final_status = None

    def run(self):
        try:
            self._run()
        except Exception as error:  # reported in the results, never hidden
            self.error = "%s: %s" % (type(error).__name__, error)

    def _run(self):
        oos_api, ru, waiter = _imports()
        api = connection(self.emulator)
        oos = api.client("oos")
        parameters = {
            "invokeType": "invoke", "scalingGroupId": self.scaling_group_id,
            "batchPauseOption": "Automatic" if self.strategy in AUTOMATIC else "EveryBatchPause",
            "batchNumber": BATCHES, "packageName": "nginx", "packageVersion": "1.26.1",
            "lifecycleState": ["InService", "Protected"],
        }
        execution = oos_api.start_execution(oos, PACKAGE_TEMPLATE, parameters,
                                            tags={ru.SCALING_GROUP_TAG: self.scaling_group_id})
        execution_id = execution["ExecutionId"]
        marker = progress_marker(ru)
        first_run = True
        while True:
            # A new module run: a fresh policy (an adopting run when the rollout was already going).
            policy = make_policy(self.strategy, adopted=not first_run)
            calls_before = len(api.call_log)
            seeded = 0
            if self.strategy == "adaptive_seeded" and not first_run:
                history = loop_history(oos, execution_id)
                policy.seed(*history)
                seeded = len(history[0])
            history_calls = len(api.call_log) - calls_before

            def fetch():
                found = oos_api.get_execution(oos, execution_id)
                return found if found is not None else execution

            execution, _, waited = waiter.wait_for(fetch, policy, WAIT_TIMEOUT_S, progress=marker,
                                                   initial=execution)
            # Every API call of the wait counts, the seeding reads of the proposal included.
            polls = len(api.call_log) - calls_before
            ru.instance_results(oos, execution, "package")  # what the module reads before returning
            returned_at = time.time()
            changed_at = self.snapshot(execution_id)["status_changed_at_real"]
            self.samples.append({"event": execution.get("WaitingStatus") or execution.get("Status"),
                                 "lag_s": returned_at - changed_at, "polls": polls, "waited_s": waited,
                                 "history_calls": history_calls, "seeded_batches": seeded})
            if waiter.is_terminal(execution):
                self.final_status = execution.get("Status")
                return
            oos_api.notify_execution(oos, execution_id, "Approve")
            # The next module run lists the group's executions and adopts the running one.
            execution = oos_api.get_execution(oos, execution_id)
            first_run = False


def summarize(strategy, rollouts):
    samples = [s for r in rollouts for s in r.samples]
    lags = [s["lag_s"] for s in samples]
    polls = sum(s["polls"] for s in samples)
    waited = sum(s["waited_s"] for s in samples)
    return {
        "strategy": strategy,
        "label": STRATEGY_LABELS[strategy],
        "rollouts": len(rollouts),
        "failed_rollouts": sum(1 for r in rollouts if r.error or r.final_status != "Success"),
        "errors": [r.error for r in rollouts if r.error],
        "samples": len(lags),
        "lag_median_s": round(median(lags), 2) if lags else None,
        "lag_p95_s": round(percentile(lags, 0.95), 2) if lags else None,
        "lag_max_s": round(max(lags), 2) if lags else None,
        "status_calls": polls,
        "history_calls": sum(s["history_calls"] for s in samples),
        "waiting_minutes": round(waited / 60.0, 2),
        "calls_per_minute": round(polls / (waited / 60.0), 2) if waited else None,
        "by_wait": _by_wait(rollouts),
        "outliers": [dict(s, group=r.scaling_group_id, wait=i + 1) for r in rollouts for i, s in enumerate(r.samples)
                     if s["lag_s"] > 10 and not strategy.startswith("fixed")],
    }


def _by_wait(rollouts):
    """Per module run (1 = the run that started the rollout): median lag, mean polls, mean seconds waited."""
    rows = []
    for index in range(max((len(r.samples) for r in rollouts), default=0)):
        samples = [r.samples[index] for r in rollouts if len(r.samples) > index]
        rows.append({"wait": index + 1, "lag_median_s": round(median([s["lag_s"] for s in samples]), 2),
                     "lag_max_s": round(max(s["lag_s"] for s in samples), 2),
                     "polls_mean": round(sum(s["polls"] for s in samples) / float(len(samples)), 2),
                     "waited_mean_s": round(sum(s["waited_s"] for s in samples) / float(len(samples)), 1)})
    return rows


def _world(groups, strategies):
    """Every strategy gets the same group layouts (which instances are Protected), so batch lengths match."""
    import random
    all_groups = [g for s in strategies for g in groups[s]]
    world = world_with_groups(all_groups, INSTANCES)
    by_id = {g["id"]: g for g in world["scaling_groups"]}
    for position in range(len(groups[strategies[0]])):
        layout = random.Random(position)
        protected = [layout.random() < PROTECTED_SHARE for _ in range(INSTANCES)]
        for strategy in strategies:
            by_id[groups[strategy][position]]["instances"] = [{"protected": p} for p in protected]
    return world


def run(groups_per_strategy=6, strategies=STRATEGIES, speed=1):
    """Run every strategy side by side; returns {"strategies": {name: summary}, ...}."""
    groups = {s: [group_id("lag%d" % i, n) for n in range(groups_per_strategy)] for i, s in enumerate(strategies)}
    all_groups = [g for s in strategies for g in groups[s]]
    process = EmulatorProcess.start(speed=speed)
    try:
        emulator = EmulatorClient(process.url)
        emulator.load_world(_world(groups, strategies), speed=speed)
        state_lock = threading.Lock()
        cache = {"at": 0.0, "executions": {}}

        def snapshot(execution_id):
            # One control-plane read serves every rollout that detected something in the same instant.
            with state_lock:
                if execution_id not in cache["executions"] or time.monotonic() - cache["at"] > 0.05:
                    cache["executions"] = {e["id"]: e for e in emulator.state()["executions"]}
                    cache["at"] = time.monotonic()
                return cache["executions"][execution_id]

        rollouts = {s: [Rollout(emulator, s, g, state_lock, snapshot) for g in groups[s]] for s in strategies}
        started = time.monotonic()
        for strategy in strategies:
            for rollout in rollouts[strategy]:
                rollout.start()
        for strategy in strategies:
            for rollout in rollouts[strategy]:
                rollout.join()
        elapsed = time.monotonic() - started
    finally:
        process.stop()
    return {
        "speed": speed,
        "instances": INSTANCES,
        "batches": BATCHES,
        "groups_per_strategy": groups_per_strategy,
        "wall_s": round(elapsed, 1),
        "strategies": {s: summarize(s, rollouts[s]) for s in strategies},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups-per-strategy", type=int, default=6)
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    args = parser.parse_args(argv)
    print(json.dumps(run(args.groups_per_strategy, args.strategies.split(",")), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
