"""`make bench`: the four performance measurements of issue 7, one table, bench-results.json.

    python tests/bench/run_bench.py [--only polling,fleet,overhead,emulator] [--quick]

Each measurement starts its own emulator process(es) and stops them. Nothing here is a test and nothing is
asserted: the figures are printed beside their goals and baselines and written to bench-results.json at the
repository root as a list of {name, value, unit, goal, baseline} (plus `met` and `note`); every section's raw
numbers go to build/bench-details.json. See docs/performance.md for what each figure means and how it is
measured.
"""
import argparse
import json
import os
import sys
import threading
import time
import traceback

from bench_common import ROOT

SECTIONS = ("polling", "fleet", "overhead", "emulator")


def _row(name, value, unit, goal, baseline=None, met=None, note=""):
    return {"name": name, "value": value, "unit": unit, "goal": goal, "baseline": baseline, "met": met,
            "note": note}


def _at_most(value, limit):
    return None if value is None else value <= limit


# Last session's figures for the module's wait before the seeded policy (06:33 run, bench-findings.md).
BEFORE = {"median": 5.39, "p95": 6.52, "per_min": 10.62, "automatic_median": 20.8}


def polling_rows(quick):
    import bench_polling
    result = bench_polling.run(groups_per_strategy=2 if quick else 6, image_groups=1 if quick else 3)
    strategies = result["strategies"]
    fixed5, fixed30 = strategies["fixed_5s"], strategies["fixed_30s"]
    module = strategies["module"]
    rows = []
    setup = "%d rollouts/strategy, %d instances in %d batches (package template, 31-35 s per batch), " \
        "EveryBatchPause, speed %s, %d samples" % (result["groups_per_strategy"], result["instances"],
                                                  result["batches"], result["speed"], module["samples"])
    errors = "; errors: %s" % module["errors"] if module["errors"] else ""

    def baseline(key, before):
        return {"fixed 5 s": fixed5[key], "fixed 30 s": fixed30[key], "module before": before}
    rows.append(_row("1 detection lag, median", module["lag_median_s"], "s", "<= 3", baseline("lag_median_s",
                     BEFORE["median"]), _at_most(module["lag_median_s"], 3), module["label"] + errors))
    rows.append(_row("1 detection lag, p95", module["lag_p95_s"], "s", "<= 10", baseline("lag_p95_s", BEFORE["p95"]),
                     _at_most(module["lag_p95_s"], 10), setup))
    rows.append(_row("1 status calls per minute of waiting", module["calls_per_minute"], "calls/min", "<= 4",
                     baseline("calls_per_minute", BEFORE["per_min"]), _at_most(module["calls_per_minute"], 4),
                     "by module run (1 = the run that started the rollout, no history yet): %s" % ", ".join(
                         "%d: %.1f calls in %.0f s" % (w["wait"], w["polls_mean"], w["waited_mean_s"])
                         for w in module["by_wait"])))
    image = strategies.get("module_image")
    if image:
        rows.append(_row("1 detection lag, median [image template, ~81 s batches]", image["lag_median_s"], "s", "<= 3",
                         None, _at_most(image["lag_median_s"], 3), image["label"] + (
                             "; errors: %s" % image["errors"] if image["errors"] else "")))
        rows.append(_row("1 detection lag, p95 [image template]", image["lag_p95_s"], "s", "<= 10", None,
                         _at_most(image["lag_p95_s"], 10), "%d rollouts, %d samples" % (image["rollouts"],
                                                                                       image["samples"])))
        rows.append(_row("1 status calls per minute [image template]", image["calls_per_minute"], "calls/min", "<= 4",
                         None, _at_most(image["calls_per_minute"], 4)))
    automatic = strategies.get("module_automatic")
    if automatic:
        rows.append(_row("1 final-status lag, Automatic mode (one wait), median", automatic["lag_median_s"], "s",
                         "<= 3", {"module before": BEFORE["automatic_median"]}, _at_most(automatic["lag_median_s"], 3),
                         automatic["label"]))
        rows.append(_row("1 final-status lag, Automatic mode (one wait), max", automatic["lag_max_s"], "s", "<= 10",
                         None, _at_most(automatic["lag_max_s"], 10)))
        rows.append(_row("1 status calls per minute, Automatic mode", automatic["calls_per_minute"], "calls/min",
                         "<= 4", None, _at_most(automatic["calls_per_minute"], 4)))
    failed = sum(s["failed_rollouts"] for s in strategies.values())
    rows.append(_row("1 failed rollouts in the lag run", failed, "rollouts", "0", None, failed == 0))
    return rows, result


def fleet_rows(quick):
    import bench_fleet
    result = bench_fleet.run(pattern="one_task", groups=20 if quick else 100, instances=10, speed=2)
    setup = "pattern %s, %d groups x %d instances, speed %s, ListExecutions throttled at %d/s" % (
        result["pattern"], result["groups"], result["instances_per_group"], result["speed"],
        bench_fleet.LISTEXECUTIONS_QPS)
    serial = None
    # Last session's figure: one host per group starting with wait: false, then an until: loop (start_then_poll).
    before = 1.665
    if result["slowest_rollout_s"] and result["median_rollout_s"]:
        serial = round(result["groups"] * result["median_rollout_s"] / result["slowest_rollout_s"], 1)
    rows = [
        _row("2 fleet wall time / slowest group's rollout", result["wall_over_slowest"], "x", "<= 1.25",
             {"serial loop (computed)": serial, "one host per group (before)": before}, _at_most(result["wall_over_slowest"], 1.25),
             "%s; wall %s s, slowest rollout %s s; starts from %s s to %s s, last end at %s s" % (
                 setup, result["wall_s"], result["slowest_rollout_s"], result["first_start_after_s"],
                 result["last_start_after_s"], result["last_end_after_s"])),
        _row("2 fleet failed rollouts", result["failed_rollouts"] + (result["failed_hosts"] or 0), "rollouts", "0",
             None, (result["failed_rollouts"] + (result["failed_hosts"] or 0)) == 0,
             "executions not Success: %d, failed hosts: %s, ansible rc %s" % (
                 result["failed_rollouts"], result["failed_hosts"], result["returncode"])),
        _row("2 fleet peak controller memory (sum of RSS)", round(result["peak_rss_mib"] / 1024.0, 2), "GiB", "< 3",
             None, result["peak_rss_mib"] < 3 * 1024,
             "PSS %.2f GiB, up to %d processes" % (result["peak_pss_mib"] / 1024.0, result["peak_processes"])),
    ]
    return rows, result


def overhead_rows(quick):
    import bench_overhead
    result = bench_overhead.run(repetitions=3 if quick else 5)
    medians = result["median_s"]
    rows = [
        _row("3 oos_execution_info ad hoc / plain SDK script (whole processes)", result["adhoc_over_script"], "x",
             "<= 1.3", 1.0, _at_most(result["adhoc_over_script"], 1.3),
             "medians of %d: ansible %s s, script %s s" % (result["repetitions"], medians["adhoc"],
                                                             medians["script"])),
        _row("3 the same with pipelining, -c local, no callback plugins / plain SDK script",
             result["tuned_over_script"], "x", "<= 1.3", 1.0, _at_most(result["tuned_over_script"], 1.3),
             "median %s s" % medians["tuned"]),
        _row("3 module run directly by python / plain SDK script", result["module_over_script"], "x", "<= 1.3",
             1.0, _at_most(result["module_over_script"], 1.3),
             "module %s s: what the module costs without the Ansible controller" % medians["module"]),
        _row("3 one more oos_execution_info task in a playbook / plain SDK script", result["task_in_playbook_over_script"],
             "x", "<= 1.3", 1.0, _at_most(result["task_in_playbook_over_script"], 1.3),
             "%s s per task: (playbook with 1+%d tasks - playbook with 1) / %d" % (
                 result["task_in_playbook_s"], bench_overhead.EXTRA_TASKS, bench_overhead.EXTRA_TASKS)),
        _row("3 Ansible controller floor (ansible localhost -m ping)", result["ansible_floor_s"], "s", "-",
             medians["script"], None, "the script's time is the baseline"),
    ]
    return rows, result


def emulator_rows(quick):
    import bench_emulator
    result = bench_emulator.run(duration_s=5 if quick else 10, clients=8)
    saturation = result.get("saturation") or result
    paced_ok = result["p99_ms"] is not None and result["p99_ms"] < 50 and not result["errors"] \
        and result["calls_per_s"] >= 0.95 * (result.get("target_rate") or 100)
    rows = [
        _row("4 emulator signed calls per second (clients as fast as they can)", saturation["calls_per_s"], "calls/s",
             ">= 100", None, saturation["calls_per_s"] >= 100 and not saturation["errors"],
             "%d clients, %d calls, %d errors, p50 %s ms, p99 %s ms" % (
                 saturation["clients"], saturation["calls"], saturation["errors"], saturation["p50_ms"],
                 saturation["p99_ms"])),
        _row("4 emulator latency p99 at 100 signed calls/s offered", result["p99_ms"], "ms", "< 50", None, paced_ok,
             "paced phase: %s calls/s achieved, %d errors, p50 %s ms, server-side p99 %s ms" % (
                 result["calls_per_s"], result["errors"], result["p50_ms"], result["server_p99_ms"])),
    ]
    return rows, result


RUNNERS = {"polling": polling_rows, "fleet": fleet_rows, "overhead": overhead_rows, "emulator": emulator_rows}


def _format(value):
    if isinstance(value, dict):
        return ", ".join("%s: %s" % (k, _format(v)) for k, v in value.items())
    if value is None:
        return "-"
    return str(value)


def print_table(rows, out=sys.stdout):
    headers = ("figure", "value", "unit", "goal", "met", "baseline")
    table = [headers] + [(r["name"], _format(r["value"]), r["unit"], r["goal"],
                          {True: "yes", False: "NO", None: "-"}[r["met"]], _format(r["baseline"])) for r in rows]
    widths = [max(len(str(line[i])) for line in table) for i in range(len(headers))]
    for number, line in enumerate(table):
        out.write("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip() + "\n")
        if number == 0:
            out.write("  ".join("-" * width for width in widths) + "\n")
    for row in rows:
        if row["note"]:
            out.write("  * %s: %s\n" % (row["name"], row["note"]))


def run_section(section, quick, details):
    started = time.monotonic()
    print("== %s ..." % section, flush=True)
    try:
        rows, details[section] = RUNNERS[section](quick)
    except Exception as error:  # one broken section must not hide the others' figures
        traceback.print_exc()
        rows = [_row("%s: not measured" % section, None, "", "", None, None, "%s: %s" % (type(error).__name__, error))]
        details[section] = {"error": str(error)}
    load = os.getloadavg()[0]
    details.setdefault("load_average_1m_at_end", {})[section] = round(load, 2)
    print("== %s done in %.0f s (load average %.1f: other work on this machine skews the figures)" % (
        section, time.monotonic() - started, load), flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated subset of %s" % ", ".join(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="smaller samples (a smoke run, not the figures)")
    parser.add_argument("--serial", action="store_true",
                        help="run every section alone (by default the lag run, which sleeps most of the time, runs "
                             "beside the short overhead and emulator sections)")
    parser.add_argument("--output", default=str(ROOT / "bench-results.json"))
    parser.add_argument("--details", default=str(ROOT / "build" / "bench-details.json"),
                        help="every section's raw result (JSON); default build/bench-details.json")
    args = parser.parse_args(argv)
    started = time.monotonic()
    wanted = [s for s in args.only.split(",") if s]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        parser.error("unknown section(s): %s" % ", ".join(unknown))
    rows_of, details = {}, {}
    beside = [s for s in ("overhead", "emulator") if s in wanted]
    if not args.serial and "polling" in wanted and beside:
        # The lag run's rollouts sleep between polls; the short CPU-bound sections fit inside its ~5 minutes.
        # The fleet, which loads both cores, always runs alone.
        polling = threading.Thread(target=lambda: rows_of.__setitem__("polling", run_section("polling", args.quick,
                                                                                              details)))
        polling.start()
        for section in beside:
            rows_of[section] = run_section(section, args.quick, details)
        polling.join()
    for section in wanted:
        if section not in rows_of:
            rows_of[section] = run_section(section, args.quick, details)
    rows = [row for section in SECTIONS if section in rows_of for row in rows_of[section]]
    total = time.monotonic() - started
    rows.append(_row("make bench wall time", round(total, 1), "s", "< 900", None, total < 900,
                     "1-minute load average after each section: %s" % details.get("load_average_1m_at_end")))
    print()
    print_table(rows)
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(rows, handle, indent=2)
        handle.write("\n")
    if args.details:
        os.makedirs(os.path.dirname(os.path.abspath(args.details)), exist_ok=True)
        with open(args.details, "w", encoding="utf-8") as handle:
            json.dump(details, handle, indent=2)
            handle.write("\n")
    print("\nwrote %s" % args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
