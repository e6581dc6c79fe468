"""`make demo`: a guarded image rollout against the local emulator, then a readable summary.

Starts `alicloud-emulator serve` on a free port with the default world, runs playbooks/update_image.yml
(two batches, canary pause after the first, a health gate with two sources: HTTP against the emulator's
per-instance health endpoint and the backend health in the group's ALB), shows the playbook output as it runs, prints a summary per batch and per instance from the
emulator's state, stops the emulator and exits with the playbook's status (non-zero if the rollout failed).

    python tests/demo/run_demo.py [--image m-bp1badimage0000003 --unhealthy]   # see a rollback instead
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from emulator_harness import DEFAULT_WORLD, EmulatorClient, EmulatorProcess  # noqa: E402

GROUP = "asg-bp1demo0000000001"
NEW_IMAGE = "m-bp1newimage0000002"
BAD_IMAGE = "m-bp1badimage0000003"
SPEED = 600  # simulated seconds per real second: a 4-instance rollout takes a few seconds
# An explicit inventory (localhost, local connection): no "no inventory was parsed" or implicit-localhost warning.
INVENTORY = os.path.join(ROOT, "tests", "demo", "inventory.yml")
ROLLOUT_TEMPLATES = ("ACS-ESS-RollingUpdateByReplaceSystemDiskInScalingGroup",
                     "ACS-ESS-RollingUpdateByRunCommandInScalingGroup",
                     "ACS-ESS-RollingUpdateByConfigureOOSPackage")


def playbook_env(emulator):
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("ALICLOUD_", "ALIBABA_CLOUD_")):
            del env[name]
    env.update(emulator.admin_env())
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, "build", "collections"))
    env.update({"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"})
    return env


def run_playbook(emulator, image_id, health_sources="http,load_balancer"):
    extra_vars = {
        "scaling_group_id": GROUP,
        "image_id": image_id,
        "batch_number": 2,
        "canary": True,
        "health_url": emulator.url + "/_emulator/instances/{instance_id}/health",
        "health_sources": health_sources,
        "health_delay": 1,
        "health_deadline": 3,
        "poll_interval": 0.5,
    }
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               "-i", INVENTORY, os.path.join(ROOT, "playbooks", "update_image.yml"), "-e", json.dumps(extra_vars)]
    print("$ ansible-playbook -i tests/demo/inventory.yml playbooks/update_image.yml -e '%s'" % json.dumps(extra_vars),
          flush=True)
    process = subprocess.Popen(command, env=playbook_env(emulator), cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    recap = None
    for line in process.stdout:
        print(line, end="", flush=True)
        found = re.search(r"^\S+\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", line)
        if found:
            recap = [int(n) for n in found.groups()]
    return process.wait(), recap


LOAD_BALANCER_PRODUCTS = ("slb", "alb", "nlb")


def figures_lines(recap, calls):
    """The figures issue 12 sets targets for: task results, skipped, API calls (and how many change something)."""
    lines = []
    if recap:
        ok, changed, unreachable, failed, skipped = recap
        lines.append("Task results: %d (ok %d, changed %d, failed %d, skipped %d)" % (
            ok + unreachable + failed + skipped, ok, changed, failed, skipped))
    counts = {}
    for call in calls:
        counts[call["action"]] = counts.get(call["action"], 0) + 1
    load_balancer_reads = len([c for c in calls if c.get("product") in LOAD_BALANCER_PRODUCTS])
    lines.append("API calls: %d, of which %d change something and %d read load balancer health (%s)" % (
        len(calls), len([c for c in calls if c.get("mutating")]), load_balancer_reads,
        ", ".join("%s %d" % (name, count) for name, count in sorted(counts.items(), key=lambda kv: -kv[1]))))
    return lines


def summary_lines(state, images_before):
    """Per rollout execution: batches and per-instance child status; then each instance before/after."""
    by_id = dict((e["id"], e) for e in state["executions"])
    lines = []
    for execution in state["executions"]:
        if execution.get("template_name") not in ROLLOUT_TEMPLATES:
            continue
        parameters = execution.get("parameters") or {}
        kind = parameters.get("invokeType", "invoke")
        lines.append("%s %s (%s): %s%s" % (kind.capitalize(), execution["id"], execution["template_name"],
                                          execution["status"],
                                          (" - " + execution["status_message"]) if execution.get("status_message")
                                          else ""))
        child_status = {}
        for child_id in execution.get("children", []):
            child = by_id.get(child_id) or {}
            instance_id = (child.get("parameters") or {}).get("instanceId")
            if instance_id:
                child_status[instance_id] = child.get("status")
        batches = execution.get("batches") or []
        for number, batch in enumerate(batches, 1):
            statuses = [child_status.get(i, "NotStarted") for i in batch]
            batch_status = ("Success" if all(s == "Success" for s in statuses)
                            else "Failed" if any(s == "Failed" for s in statuses)
                            else "Partial" if any(s == "Success" for s in statuses) else statuses[0])
            lines.append("  batch %d of %d [%s]: %s" % (number, len(batches), batch_status, ", ".join(
                "%s %s" % (i, s) for i, s in zip(batch, statuses))))
    for group in state["scaling_groups"]:
        lines.append("Scaling group %s (%s): configuration %s image %s; suspended processes: %s" % (
            group["id"], group["name"], group["scaling_configuration"]["id"],
            group["scaling_configuration"]["image_id"], ", ".join(group["suspended_processes"]) or "none"))
        for instance in group["instances"]:
            before = images_before.get(instance["id"])
            lines.append("  %s %-9s %s image %s%s health %s" % (
                instance["id"], instance["lifecycle_state"], instance["private_ip"],
                before if before == instance["image_id"] else "%s -> %s" % (before, instance["image_id"]),
                "", "ok" if instance["health"] else "UNHEALTHY"))
        for lb in group.get("load_balancers") or []:
            lines.append("  %s %s%s backends: %s" % (
                lb["type"].upper(), lb["id"], (" server group " + lb["server_group_id"]) if lb["server_group_id"] else "",
                ", ".join("%s %s" % item for item in sorted(lb["backends"].items())) or "none"))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default=NEW_IMAGE, help="image to roll out (default %(default)s)")
    parser.add_argument("--unhealthy", action="store_true",
                        help="mark %s unhealthy in the emulator (use with --image %s to see a rollback)" % (
                            BAD_IMAGE, BAD_IMAGE))
    args = parser.parse_args(argv)

    started = time.monotonic()
    process = EmulatorProcess.start(world=DEFAULT_WORLD, speed=SPEED)
    try:
        emulator = EmulatorClient(process.url)
        emulator.load_world()
        if args.unhealthy:
            emulator.set_faults({"unhealthy_images": [BAD_IMAGE]})
        print("Emulator listening on %s (speed x%d)" % (process.url, SPEED), flush=True)
        images_before = dict((i["id"], i["image_id"]) for g in emulator.state()["scaling_groups"]
                             for i in g["instances"])
        emulator.clear_calls()
        returncode, recap = run_playbook(emulator, args.image)
        print()
        print("=" * 30 + " Summary " + "=" * 30)
        for line in summary_lines(emulator.state(), images_before):
            print(line)
        for line in figures_lines(recap, emulator.calls()):
            print(line)
        print("Rollout %s in %.1f s (playbook exit code %d)." % (
            "succeeded" if returncode == 0 else "FAILED", time.monotonic() - started, returncode))
    finally:
        process.stop()
    return returncode


if __name__ == "__main__":
    sys.exit(main())
