"""Emulator throughput benchmark (not a test): concurrent clients making signed calls for a bounded time.

    python tests/bench/bench_emulator.py [--duration 10] [--clients 8]

Starts a fresh emulator process and runs `clients` threads, each with its own Tea SDK client, cycling through
a mix of signed read calls (V3 and V2 signatures, all four products). First a paced phase offers `--rate`
calls/s in total (the goal: 100 calls/s with p99 < 50 ms), then a saturation phase calls as fast as the
clients can. Prints calls/s and latency percentiles as JSON; `run()` returns them as a dict for `make bench`.
"""
import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from emulator_harness import EmulatorClient, EmulatorProcess  # noqa: E402

CALL_MIX = [
    ("GetCallerIdentity", "2015-04-01", {}),
    ("DescribeScalingGroups", "2022-02-22", {"RegionId": "cn-hangzhou"}),
    ("ListExecutions", "2019-06-01", {"RegionId": "cn-hangzhou"}),
    ("DescribeScalingInstances", "2014-08-28", {"RegionId": "cn-hangzhou", "ScalingGroupId": "asg-bp1demo0000000001"}),
    ("DescribeRegions", "2014-05-26", {"RegionId": "cn-hangzhou"}),
]


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def _client_loop(emulator, signature_algorithm, window, interval_s, latencies, errors, offset):
    """Call until the window closes; with `interval_s` the calls are paced (open loop), else back to back.

    Each client warms up (SDK imports, credential set-up, TCP connection) before the measured window opens.
    """
    client = emulator.openapi_client(signature_algorithm=signature_algorithm)
    emulator.call("GetCallerIdentity", "2015-04-01", client=client)
    window["ready"].wait()
    stop_at = window["stop_at"]
    index = offset
    next_at = time.monotonic() + (interval_s or 0) * offset / 8.0  # spread the clients' first calls
    while True:
        if interval_s:
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            next_at += interval_s
        if time.monotonic() >= stop_at:
            return
        action, version, params = CALL_MIX[index % len(CALL_MIX)]
        index += 1
        started = time.perf_counter()
        try:
            emulator.call(action, version, params, client=client)
        except Exception as error:  # counted, never fatal: the benchmark reports error counts
            errors.append("%s: %s" % (action, type(error).__name__))
            continue
        latencies.append(time.perf_counter() - started)


def _phase(emulator, duration_s, clients, target_rate):
    """One measured phase; `target_rate` calls/s in total (paced), or None for as fast as possible."""
    emulator.clear_calls()
    latencies, errors = [], []
    interval_s = clients / float(target_rate) if target_rate else None
    window = {}

    def open_window():  # runs once, when every client has warmed up, before any is released
        window["started"] = time.monotonic()
        window["stop_at"] = window["started"] + duration_s

    window["ready"] = threading.Barrier(clients + 1, action=open_window)
    threads = [threading.Thread(target=_client_loop, args=(emulator, None if i % 2 == 0 else "v2", window,
                                                           interval_s, latencies, errors, i))
               for i in range(clients)]
    for thread in threads:
        thread.start()
    window["ready"].wait()
    started = window["started"]
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    emulator_calls = emulator.calls()
    # Warm-up calls are left out of the server-side numbers too.
    server_side = sorted(c["duration_ms"] for c in emulator_calls[clients:] if c.get("duration_ms") is not None)
    latencies.sort()
    return {
        "target_rate": target_rate,
        "duration_s": round(elapsed, 3),
        "clients": clients,
        "calls": len(latencies),
        "errors": len(errors),
        "calls_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2) if latencies else None,
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        "server_p50_ms": percentile(server_side, 0.50),
        "server_p99_ms": percentile(server_side, 0.99),
    }


def run(duration_s=10, clients=8, target_rate=100, saturate=True):
    """Paced phase at `target_rate` calls/s (the goal's load), then optionally a saturation phase.

    The top-level numbers are the paced phase's; `saturation` holds the as-fast-as-possible phase.
    """
    process = EmulatorProcess.start()
    try:
        emulator = EmulatorClient(process.url)
        emulator.load_world()
        result = _phase(emulator, duration_s, clients, target_rate)
        if saturate:
            result["saturation"] = _phase(emulator, duration_s, clients, None)
    finally:
        process.stop()
    result["goal"] = {"calls_per_s": 100, "p99_ms": 50}
    result["goal_met"] = bool(result["calls_per_s"] >= 0.95 * (target_rate or 100) and result["p99_ms"] is not None
                              and result["p99_ms"] < 50 and not result["errors"])
    try:
        result["load_average_1m"] = os.getloadavg()[0]  # other work on the machine skews the numbers
    except OSError:
        pass
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=float, default=100, help="paced phase: total calls/s (default 100)")
    parser.add_argument("--no-saturation", action="store_true", help="skip the as-fast-as-possible phase")
    args = parser.parse_args(argv)
    result = run(args.duration, args.clients, args.rate, not args.no_saturation)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
