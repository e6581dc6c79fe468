"""Goal 1 (issue 7): detection lag and API economy of the wait, adaptive policy vs fixed intervals.

    python tests/bench/bench_polling.py [--groups-per-strategy 6] [--image-groups 3] [--strategies ...]

One emulator at speed 1 (API timestamps are then real time, as on Alibaba Cloud, so a policy that reads
them is measured honestly). Every strategy rolls out its own scaling groups of 20 instances in 5 batches
with EveryBatchPause (the package template, ~31-35 s per batch; "module_image": the image template, ~81 s
per batch; "module_automatic": Automatic, one wait over all batches), all groups at the same time, so the
strategies see the same emulator, machine load and batch durations. A rollout is driven as a playbook drives ess_rolling_update: start and wait; at each
batch pause the module returns, the pause is approved (NotifyExecution Approve) and the module is run
again, which adopts the running execution and waits with a fresh poll policy (a new process), given the
wait_hint the previous run returned (as the role rolling_update passes it).

What runs is the module's own code: module_utils Connection/ApiClient (signed SDK calls, retry policy),
waiter.wait_for_rollout exactly as ess_rolling_update calls it (fixed strategies through its poll_interval),
and after each wait the per-instance result reads the
module makes before it returns. Ansible's process start is not in the lag: it happens before the wait.

Lag = real time when that "module" returns - the emulator's real timestamp of the status change
(Waiting/BatchPause or the final status). Status calls per minute = every API call of the wait (status polls
and an adopting run's history read) / minutes spent waiting.
"""
import argparse
import json
import threading
import time

from bench_common import (EmulatorClient, EmulatorProcess, IMAGE_TEMPLATE, NEW_IMAGE, OLD_IMAGE, PACKAGE_TEMPLATE,
                          connection, group_id, median, percentile, world_with_groups)

INSTANCES = 20
BATCHES = 5
# A batch holding a Protected instance takes 4 s longer (protection off and on again): batch lengths vary.
PROTECTED_SHARE = 0.15
WAIT_TIMEOUT_S = 900

STRATEGIES = ("module", "fixed_5s", "fixed_30s", "module_automatic", "module_image")
AUTOMATIC = ("module_automatic",)
IMAGE = ("module_image",)
FIXED = {"fixed_5s": 5.0, "fixed_30s": 30.0}
STRATEGY_LABELS = {
    "module": "the module's wait (ess_rolling_update: batch-boundary marker, seeded from the previous run's "
              "wait_hint or the finished batches when it adopts, tail rule), package template",
    "fixed_5s": "fixed interval 5 s (poll_interval: 5, like until:/delay: 5)",
    "fixed_30s": "fixed interval 30 s (poll_interval: 30, like until:/delay: 30)",
    "module_automatic": "the module's wait, batchPauseOption Automatic: one wait over all batches "
                        "(one sample per rollout: the final status)",
    "module_image": "the module's wait, image template (longer batches), EveryBatchPause",
}


def _imports():
    from ansible_collections.alicloud.rollout.plugins.module_utils import oos as oos_api
    from ansible_collections.alicloud.rollout.plugins.module_utils import rolling_update as ru
    from ansible_collections.alicloud.rollout.plugins.module_utils import waiter
    return oos_api, ru, waiter


def rollout_parameters(strategy, scaling_group_id):
    parameters = {
        "invokeType": "invoke", "scalingGroupId": scaling_group_id,
        "batchPauseOption": "Automatic" if strategy in AUTOMATIC else "EveryBatchPause",
        "batchNumber": BATCHES, "lifecycleState": ["InService", "Protected"],
    }
    if strategy in IMAGE:
        parameters.update(imageId=NEW_IMAGE, sourceImageId=OLD_IMAGE, scalingConfigurationId="asc" + scaling_group_id[3:],
                          maxErrors=0)
    else:
        parameters.update(packageName="nginx", packageVersion="1.26.1")
    return parameters


class Rollout(threading.Thread):
    """One scaling group's rollout, driven like a playbook drives ess_rolling_update."""

    def __init__(self, emulator, strategy, scaling_group_id, state_lock, snapshot):
        super().__init__(daemon=True)
        self.emulator = emulator
        self.strategy = strategy
        self.scaling_group_id = scaling_group_id
        self.state_lock = state_lock
        self.snapshot = snapshot
        self.samples = []  # {event, lag_s, polls, waited_s}
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
        kind = "image" if self.strategy in IMAGE else "package"
        execution = oos_api.start_execution(oos, IMAGE_TEMPLATE if kind == "image" else PACKAGE_TEMPLATE,
                                            rollout_parameters(self.strategy, self.scaling_group_id),
                                            tags={ru.SCALING_GROUP_TAG: self.scaling_group_id})
        execution_id = execution["ExecutionId"]
        loop_task = ru.LOOP_TASKS[kind][0]
        planned = [len(b) for b in ru.plan_batches(["i-%d" % n for n in range(INSTANCES)], BATCHES)]
        first_run, hint = True, None
        while True:
            # A new module run, as ess_rolling_update waits: the run that started the rollout knows its plan;
            # later runs adopt the running execution.
            calls_before = len(api.call_log)
            execution, _, waited = waiter.wait_for_rollout(
                oos, execution, loop_task, planned if first_run else None, WAIT_TIMEOUT_S,
                FIXED.get(self.strategy), adopted=not first_run, hint=hint)
            # Every API call of the wait counts, the history read of an adopting run included.
            polls = len(api.call_log) - calls_before
            loop_items = []
            ru.instance_results(oos, execution, kind, loop_items=loop_items)  # what the module reads before it returns
            hint = waiter.wait_hint(execution, loop_items)  # returned by the module; the role passes it to the next run
            returned_at = time.time()
            changed_at = self.snapshot(execution_id)["status_changed_at_real"]
            self.samples.append({"event": execution.get("WaitingStatus") or execution.get("Status"),
                                 "lag_s": returned_at - changed_at, "polls": polls, "waited_s": waited})
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
    for strategy in strategies:
        for position, gid in enumerate(groups[strategy]):
            layout = random.Random(position)
            protected = [layout.random() < PROTECTED_SHARE for _ in range(INSTANCES)]
            by_id[gid]["instances"] = [{"protected": p} for p in protected]
    return world


def run(groups_per_strategy=6, strategies=STRATEGIES, speed=1, image_groups=3):
    """Run every strategy side by side; returns {"strategies": {name: summary}, ...}."""
    groups = {s: [group_id("lag%d" % i, n) for n in range(image_groups if s in IMAGE else groups_per_strategy)]
              for i, s in enumerate(strategies)}
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
    parser.add_argument("--image-groups", type=int, default=3)
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    args = parser.parse_args(argv)
    print(json.dumps(run(args.groups_per_strategy, args.strategies.split(","), image_groups=args.image_groups), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
