"""Goal 2 (issue 7): one ansible-playbook run rolls out a fleet of scaling groups on this machine.

    python tests/bench/bench_fleet.py [--pattern one_task] [--groups 100] [--instances 10] [--speed 2]

The emulator throttles ListExecutions at 10 calls/s. Each group gets the image template (10 instances,
5 batches, about 413 simulated seconds). Measured: wall time of the ansible-playbook process, the slowest
single group's rollout (its execution's start to end, from the emulator), failed rollouts (executions not
Success, plus failed hosts), and the peak memory of ansible-playbook and every process it starts (also
async jobs, which detach from it): the sum of RSS and, because forked workers share pages, the sum of PSS.

Patterns (playbooks are written to a temporary directory):
- forks: one inventory host per group (connection local), ess_rolling_update waits, forks = groups.
- async: one task on localhost loops over the groups with async/poll 0, then async_status until finished.
- one_task (recommended): one task on localhost, ess_rolling_update with scaling_group_ids = every group and
  wait: true; one process starts the groups in turn, then waits for all with one ListExecutions per round.
- start_then_wait: one host per group starts the rollout with wait: false (forks 10), then a single
  oos_execution_info task on localhost waits for all execution ids.
"""
import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import yaml

from bench_common import (BIN, EmulatorClient, EmulatorProcess, NEW_IMAGE, group_id, subprocess_env,
                          world_with_groups)

PATTERNS = ("one_task", "forks", "async", "start_then_wait", "start_then_poll")
FLEET_TAG = {"rollout_wave": "bench-fleet"}
LISTEXECUTIONS_QPS = 10
PLAYBOOK_TIMEOUT_S = 1800
SAMPLE_EVERY_S = 0.5


# ---------------------------------------------------------------- memory of a process tree

def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _processes():
    """{pid: (ppid, cmdline)} for every process we can read."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _read("/proc/%s/stat" % entry)
        if not stat:
            continue
        # The command name may hold spaces; fields after the closing parenthesis are fixed.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        found[int(entry)] = (ppid, _read("/proc/%s/cmdline" % entry).replace("\0", " "))
    return found


def _tree(root, processes, marker):
    """The root, its descendants, and processes whose command line names our private temp dir (async jobs)."""
    members = {root}
    changed = True
    while changed:
        changed = False
        for pid, (ppid, cmdline) in processes.items():
            if pid not in members and (ppid in members or (marker and marker in cmdline)):
                members.add(pid)
                changed = True
    return members


def _kib(text, field):
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class MemorySampler(threading.Thread):
    """Samples RSS and PSS sums of a process tree until stopped; keeps the peaks."""

    def __init__(self, root_pid, marker):
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.marker = marker
        self.peak_rss_kib = 0
        self.peak_pss_kib = 0
        self.peak_processes = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            members = _tree(self.root_pid, _processes(), self.marker)
            rss = sum(_kib(_read("/proc/%d/status" % pid), "VmRSS") for pid in members)
            pss = sum(_kib(_read("/proc/%d/smaps_rollup" % pid), "Pss") for pid in members)
            self.peak_rss_kib = max(self.peak_rss_kib, rss)
            self.peak_pss_kib = max(self.peak_pss_kib, pss)
            self.peak_processes = max(self.peak_processes, len(members))
            self.samples += 1
            self._halt.wait(SAMPLE_EVERY_S)

    def stop(self):
        self._halt.set()
        self.join(timeout=10)


# ---------------------------------------------------------------- playbooks

def _rollout_args(host_expr, wait):
    return {"scaling_group_id": host_expr, "image_id": NEW_IMAGE, "batch_number": 5, "wait": wait,
            "wait_timeout": 3600, "tags": dict(FLEET_TAG)}


def write_playbook(pattern, groups, workdir):
    """(inventory path, playbook path, forks) for a pattern."""
    inventory = {"all": {"children": {"fleet": {"hosts": {g: {} for g in groups}}},
                         "vars": {"ansible_connection": "local", "ansible_python_interpreter": str(BIN / "python")}}}
    if pattern == "one_task":
        args = _rollout_args(None, True)
        del args["scaling_group_id"]
        args["scaling_group_ids"] = "{{ fleet_groups }}"
        plays = [{"name": "roll out every group in one task", "hosts": "localhost", "gather_facts": False,
                  "vars": {"fleet_groups": list(groups)},
                  "tasks": [{"alicloud.rollout.ess_rolling_update": args}]}]
        inventory["all"]["hosts"] = {"localhost": {}}
        forks = 1
    elif pattern == "forks":
        plays = [{"name": "roll out every group, one host each", "hosts": "fleet", "gather_facts": False,
                  "tasks": [{"alicloud.rollout.ess_rolling_update": _rollout_args("{{ inventory_hostname }}", True)}]}]
        forks = len(groups)
    elif pattern == "async":
        plays = [{"name": "roll out every group from one host, async", "hosts": "localhost", "gather_facts": False,
                  "vars": {"fleet_groups": list(groups)},
                  "tasks": [
                      {"name": "start", "alicloud.rollout.ess_rolling_update": _rollout_args("{{ item }}", True),
                       "loop": "{{ fleet_groups }}", "async": 3600, "poll": 0, "register": "jobs"},
                      {"name": "wait", "ansible.builtin.async_status": {"jid": "{{ item.ansible_job_id }}"},
                       "loop": "{{ jobs.results }}", "register": "job", "until": "job.finished",
                       "retries": 720, "delay": 5},
                  ]}]
        forks = 5
    elif pattern == "start_then_wait":
        plays = [
            {"name": "start every group's rollout", "hosts": "fleet", "gather_facts": False,
             "tasks": [{"alicloud.rollout.ess_rolling_update": _rollout_args("{{ inventory_hostname }}", False),
                        "register": "rollout"}]},
            {"name": "wait for all of them at once", "hosts": "localhost", "gather_facts": False,
             "tasks": [{"alicloud.rollout.oos_execution_info": {
                 "execution_ids": "{{ groups['fleet'] | map('extract', hostvars, ['rollout', 'execution_id']) | list }}",
                 "wait_for": ["Success"], "wait_timeout": 3600}}]},
        ]
        forks = 10
    elif pattern == "start_then_poll":
        final = "['Success', 'Failed', 'Cancelled']"
        plays = [
            {"name": "start every group's rollout", "hosts": "fleet", "gather_facts": False,
             "tasks": [{"alicloud.rollout.ess_rolling_update": _rollout_args("{{ inventory_hostname }}", False),
                        "register": "rollout"}]},
            {"name": "watch the whole wave with one listing per check", "hosts": "localhost", "gather_facts": False,
             "vars": {"wave_size": len(groups)},
             "tasks": [
                 {"name": "wait until every rollout of the wave has ended",
                  "alicloud.rollout.oos_execution_info": {"tags": dict(FLEET_TAG), "max_results": 100},
                  "register": "wave",
                  "until": "(wave.executions | selectattr('status', 'in', %s) | list | length) >= wave_size" % final,
                  "retries": 1000, "delay": 10},
                 {"name": "every rollout succeeded", "ansible.builtin.assert": {
                     "that": ["(wave.executions | selectattr('status', 'equalto', 'Success') | list | length) "
                              ">= wave_size"]}},
             ]},
        ]
        forks = 10
    else:
        raise ValueError("unknown pattern %s" % pattern)
    inventory_path = Path(workdir) / "inventory.yml"
    playbook_path = Path(workdir) / "fleet.yml"
    inventory_path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    playbook_path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return inventory_path, playbook_path, forks


def _host_failures(stdout):
    """Hosts whose PLAY RECAP line shows failed or unreachable tasks (None when there is no recap)."""
    import re
    recap = stdout.split("PLAY RECAP", 1)
    if len(recap) < 2:
        return None
    failing = set()
    for host, unreachable, failed in re.findall(r"^(\S+)\s+:.*?unreachable=(\d+)\s+failed=(\d+)", recap[1], re.M):
        if int(failed) or int(unreachable):
            failing.add(host)
    return len(failing)


def _rollout_durations(state, groups, speed):
    """{group: real seconds from execution start to end} and the executions not Success."""
    wanted = set(groups)
    durations, not_success = {}, []
    for execution in state["executions"]:
        group = (execution.get("parameters") or {}).get("scalingGroupId")
        if execution.get("parent_id") or group not in wanted:
            continue
        if execution["status"] != "Success" or not execution.get("ended"):
            not_success.append({"group": group, "status": execution["status"],
                                "message": execution.get("status_message")})
            continue
        durations[group] = (_epoch(execution["ended"]) - _epoch(execution["created"])) / float(speed)
    return durations, not_success


def _epoch(text):
    import datetime
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def _epoch_precise(text):
    import datetime
    text = text.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text).timestamp()


def run(pattern="one_task", groups=100, instances=10, speed=2):
    group_ids = [group_id("fleet", n) for n in range(groups)]
    faults = {"throttle": {"ListExecutions": LISTEXECUTIONS_QPS}}
    process = EmulatorProcess.start(speed=speed)
    workdir = tempfile.mkdtemp(prefix="alicloud-rollout-bench-fleet-")
    try:
        emulator = EmulatorClient(process.url)
        emulator.load_world(world_with_groups(group_ids, instances, faults=faults), speed=speed)
        inventory, playbook, forks = write_playbook(pattern, group_ids, workdir)
        remote_tmp = os.path.join(workdir, "remote-tmp")
        env = subprocess_env(emulator, {
            "ANSIBLE_FORKS": str(forks),
            "ANSIBLE_REMOTE_TMP": remote_tmp,
            "ANSIBLE_LOCAL_TEMP": os.path.join(workdir, "local-tmp"),
            "ANSIBLE_ASYNC_DIR": os.path.join(workdir, "async"),
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        })
        command = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)]
        started, started_epoch = time.monotonic(), time.time()
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=workdir)
        sampler = MemorySampler(proc.pid, workdir)
        sampler.start()
        try:
            stdout, stderr = proc.communicate(timeout=PLAYBOOK_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        wall = time.monotonic() - started
        sampler.stop()
        state = emulator.state()
        throttled = len(emulator.calls(action="ListExecutions", fault="throttle"))
        list_calls = len(emulator.calls(action="ListExecutions"))
        start_times = sorted(_epoch_precise(c["time"]) for c in emulator.calls(action="StartExecution", status=200))
    finally:
        process.stop()
    durations, not_success = _rollout_durations(state, group_ids, speed)
    ends = [e["status_changed_at_real"] for e in state["executions"]
            if not e.get("parent_id") and e["status"] == "Success"]
    missing = [g for g in group_ids if g not in durations and g not in [n["group"] for n in not_success]]
    slowest = max(durations.values()) if durations else None
    host_failures = _host_failures(stdout)
    return {
        "pattern": pattern,
        "groups": groups,
        "instances_per_group": instances,
        "speed": speed,
        "forks": forks,
        "returncode": proc.returncode,
        "wall_s": round(wall, 1),
        "slowest_rollout_s": round(slowest, 1) if slowest else None,
        "median_rollout_s": round(sorted(durations.values())[len(durations) // 2], 1) if durations else None,
        "wall_over_slowest": round(wall / slowest, 3) if slowest else None,
        "failed_rollouts": len(not_success) + len(missing),
        "failed_hosts": host_failures,
        "not_success": not_success[:5],
        "first_start_after_s": round(start_times[0] - started_epoch, 1) if start_times else None,
        "last_start_after_s": round(start_times[-1] - started_epoch, 1) if start_times else None,
        "last_end_after_s": round(max(ends) - started_epoch, 1) if ends else None,
        "peak_rss_mib": round(sampler.peak_rss_kib / 1024.0, 1),
        "peak_pss_mib": round(sampler.peak_pss_kib / 1024.0, 1),
        "peak_processes": sampler.peak_processes,
        "memory_samples": sampler.samples,
        "list_executions_calls": list_calls,
        "list_executions_throttled": throttled,
        "stderr_tail": stderr[-1500:] if proc.returncode else "",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pattern", choices=PATTERNS, default="one_task")
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--speed", type=float, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.pattern, args.groups, args.instances, args.speed), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
