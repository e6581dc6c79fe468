"""Issue 15: backend health of a group's instances across its attached load balancers (ess_instance_health_info)
and the load_balancer source of the health gate (rollout_health_check), in-process against the emulator."""
import time

import pytest

from emulator_harness import read_world
from inprocess_module import run_module

GROUP = "asg-bp1demo0000000001"
OLD_IMAGE = "m-bp1oldimage0000001"
ALB, ALB_SG = "alb-bp1demo0000000001", "sgp-bp1demo0000000001"
CLB, VCLB, VSG = "lb-bp1clb0000000001", "lb-bp1vclb000000001", "rsp-bp1vsg000000001"
NLB, NLB_SG = "nlb-bp1nlb000000001", "sgp-bp1nlb000000001"


def world_with(load_balancers, instances=4, speed=None, **extra):
    world = read_world(None)
    group = dict(world["scaling_groups"][0], load_balancers=load_balancers, instances=instances)
    world["scaling_groups"] = [group]
    if speed is not None:
        world["speed"] = speed
    world.update(extra)
    return world


ALL_KINDS = [
    {"type": "clb", "id": CLB, "listener_ports": [80]},
    {"type": "clb", "id": VCLB, "server_group_id": VSG, "listener_ports": [8443], "port": 8443},
    {"type": "alb", "id": ALB, "server_group_id": ALB_SG, "listener_ports": [80, 443], "port": 8080},
    {"type": "nlb", "id": NLB, "server_group_id": NLB_SG, "listener_ports": [443]},
]


def group_instances(emulator):
    return [i["id"] for i in emulator.state()["scaling_groups"][0]["instances"]]


def test_every_attached_load_balancer_is_read_and_all_healthy_instances_pass(emulator):
    emulator.load_world(world_with(ALL_KINDS))
    result = run_module(emulator, "ess_instance_health_info", {"scaling_group_id": GROUP}, check=True)
    assert not result.get("failed"), result.get("msg")
    assert [(a["type"], a["load_balancer_id"], a["server_group_id"]) for a in result["load_balancers"]] == [
        ("clb", CLB, None), ("clb", VCLB, VSG), ("alb", None, ALB_SG), ("nlb", None, NLB_SG)]
    assert sorted(result["healthy"]) == sorted(group_instances(emulator))
    assert result["unhealthy"] == []
    one = result["instances"][0]
    assert len(one["load_balancers"]) == 4
    alb_entry = one["load_balancers"][2]
    assert sorted(l["listener_port"] for l in alb_entry["listeners"]) == [80, 443]
    actions = {c["action"] for c in emulator.calls()}
    assert {"DescribeHealthStatus", "ListServerGroupServers", "GetListenerHealthStatus", "ListListeners",
            "ListServerGroups"} <= actions
    assert [c for c in emulator.calls() if c["mutating"]] == []


def test_an_unhealthy_image_is_unhealthy_in_every_load_balancer(emulator):
    emulator.load_world(world_with(ALL_KINDS, faults={"unhealthy_images": [OLD_IMAGE]}))
    result = run_module(emulator, "ess_instance_health_info", {"scaling_group_id": GROUP})
    assert result["healthy"] == []
    reasons = result["instances"][0]["reasons"]
    assert [r.split(":")[0] for r in reasons] == ["CLB %s" % CLB, "CLB %s VServer group %s" % (VCLB, VSG),
                                                  "ALB server group %s" % ALB_SG, "NLB server group %s" % NLB_SG]
    assert "abnormal" in reasons[0] and "Unhealthy on port 80" in reasons[2]


def test_an_instance_not_registered_in_the_server_group_is_not_healthy(emulator):
    ids = ["i-bp1unreg0000000000%d" % n for n in range(1, 4)]
    emulator.load_world(world_with([dict(ALL_KINDS[2], unregistered=[ids[0]])],
                                   instances=[{"id": i} for i in ids]))
    result = run_module(emulator, "ess_instance_health_info", {"scaling_group_id": GROUP})
    # GetListenerHealthStatus does not list it (it lists non-normal servers only): only registration shows it.
    assert sorted(result["healthy"]) == ids[1:]
    assert result["unhealthy"] == ["%s ALB server group %s: NotRegistered" % (ids[0], ALB_SG)]


def test_only_the_load_balancers_asked_for_and_a_group_without_any(emulator):
    emulator.load_world(world_with(ALL_KINDS))
    result = run_module(emulator, "ess_instance_health_info", {"scaling_group_id": GROUP,
                                                                "load_balancers": [NLB_SG]})
    assert [a["server_group_id"] for a in result["load_balancers"]] == [NLB_SG]
    assert {c["product"] for c in emulator.calls()} == {"ess", "nlb"}
    emulator.load_world(world_with(None))
    result = run_module(emulator, "ess_instance_health_info", {"scaling_group_id": GROUP})
    assert not result.get("failed")
    assert result["load_balancers"] == [] and result["healthy"] == []
    assert "has no load balancer attached" in result["unhealthy"][0]


# ----------------------------------------------------------------------------- the gate's sources

HEALTHY_COMMAND = 'test "$INSTANCE_HEALTHY" = 1 && echo ok || { echo "service answers 503"; exit 1; }'


def health_url(emulator):
    return emulator.url + "/_emulator/instances/{instance_id}/health"


def instance_facts(emulator):
    info = run_module(emulator, "ess_scaling_group_info", {"scaling_group_id": GROUP})
    return info["scaling_groups"][0]["instances"]


def gate(emulator, **args):
    if "instances" not in args:
        args["instances"] = instance_facts(emulator)
    args.setdefault("scaling_group_id", GROUP)
    args.setdefault("deadline", 4)
    args.setdefault("delay", 0.5)
    return run_module(emulator, "rollout_health_check", args)


def test_each_source_and_all_together_pass_a_healthy_group(emulator):
    emulator.load_world(world_with([ALL_KINDS[2], ALL_KINDS[3]]))
    for sources in (["http"], ["load_balancer"], ["command"], ["http", "load_balancer", "command"]):
        result = gate(emulator, sources=sources, url=health_url(emulator), command=HEALTHY_COMMAND)
        assert not result.get("failed"), (sources, result.get("msg"))
        assert len(result["healthy"]) == 4 and result["unhealthy"] == []
        assert result["sources"] == dict((s, "passed 4/4") for s in sources)
        assert all(sorted(r["sources"]) == sorted(sources) for r in result["results"])
    entry = result["results"][0]
    assert entry["url"].endswith("/health") and entry["status"] == 200  # the http fields stay where they were
    assert entry["sources"]["command"]["exit_code"] == 0 and entry["sources"]["command"]["output"] == "ok\n"
    assert [lb["load_balancer"] for lb in entry["sources"]["load_balancer"]["detail"]] == [
        "ALB server group %s" % ALB_SG, "NLB server group %s" % NLB_SG]


def test_an_unhealthy_image_fails_the_load_balancer_and_command_sources_within_one_deadline(emulator):
    emulator.load_world(world_with([ALL_KINDS[2]], faults={"unhealthy_images": [OLD_IMAGE]}))
    deadline, delay = 3, 0.5
    started = time.monotonic()
    result = gate(emulator, sources=["load_balancer", "command"], command=HEALTHY_COMMAND, deadline=deadline,
                  delay=delay)
    took = time.monotonic() - started
    assert result["failed"] is True
    assert "Health gate (batch) failed: 4 of 4 instance(s) were not healthy (load_balancer, command)" in result["msg"]
    entry = result["results"][0]
    assert entry["sources"]["load_balancer"]["reason"] == \
        "ALB server group %s: Unhealthy on port 80, Unhealthy on port 443" % ALB_SG
    assert entry["sources"]["command"]["reason"].startswith("exit code 1")
    assert entry["sources"]["command"]["output"] == "service answers 503\n"
    assert result["sources"] == {"load_balancer": "failed 0/4", "command": "failed 0/4"}
    # Both sources kept checking every instance side by side until the one deadline: about one deadline in all.
    assert all(r["sources"]["load_balancer"]["attempts"] >= deadline / delay - 1 for r in result["results"])
    assert all(r["sources"]["command"]["attempts"] >= 2 for r in result["results"])
    assert result["seconds"] < 2 * deadline, result["seconds"]
    assert took < 2 * deadline + 5


def test_load_balancer_asked_for_a_group_without_any_fails_before_any_wait_with_zero_mutating_calls(emulator):
    emulator.load_world(world_with(None))
    facts = instance_facts(emulator)
    emulator.clear_calls()
    result = gate(emulator, instances=facts, sources=["load_balancer", "command"], command=HEALTHY_COMMAND,
                  stage="probe", deadline=60)
    assert result["failed"] is True
    assert "scaling group %s has none attached" % GROUP in result["msg"] and "Nothing was changed" in result["msg"]
    calls = emulator.calls()
    assert [c["action"] for c in calls] == ["DescribeScalingGroups"]
    assert [c for c in calls if c["mutating"]] == []
    result = gate(emulator, instances=facts, sources=["load_balancer"], load_balancers=[ALB_SG],
                  validate_only=True)
    assert result["failed"] is True and "none of %s" % ALB_SG in result["msg"]


def test_an_instance_in_warm_up_is_not_failed_early(emulator):
    # Speed 600: a 900 s warm-up lasts 1.5 s of real time after the instance re-joins (exits Standby).
    emulator.load_world(world_with([dict(ALL_KINDS[2], warmup_seconds=900)], instances=2), speed=600)
    facts = instance_facts(emulator)
    joining = facts[0]["instance_id"]
    for action in ("EnterStandby", "ExitStandby"):
        emulator.call(action, "2022-02-22", {"RegionId": "cn-hangzhou", "ScalingGroupId": GROUP,
                                             "InstanceIds.1": joining})
    result = gate(emulator, instances=facts, sources=["load_balancer"], deadline=20, delay=0.3)
    assert not result.get("failed"), result.get("msg")
    by_id = dict((r["instance_id"], r) for r in result["results"])
    assert by_id[joining]["sources"]["load_balancer"]["attempts"] > 1  # it was Initial at first, and waited for
    assert by_id[facts[1]["instance_id"]]["sources"]["load_balancer"]["attempts"] == 1
    assert result["seconds"] < 20


def test_the_command_source_is_skipped_in_check_mode_and_options_are_checked_first(emulator):
    emulator.load_world(world_with([ALL_KINDS[2]]))
    facts = instance_facts(emulator)
    emulator.clear_calls()
    result = run_module(emulator, "rollout_health_check", {
        "instances": facts, "sources": ["command"], "command": HEALTHY_COMMAND}, check=True)
    assert not result.get("failed"), result.get("msg")
    assert result["sources"] == {"command": "skipped in check mode"}
    assert emulator.calls() == []
    result = run_module(emulator, "rollout_health_check", {"instances": facts, "sources": ["load_balancer", "http"]})
    assert result["failed"] is True
    assert result["msg"] == ("Missing option(s): url (for the http source), scaling_group_id (for the "
                             "load_balancer source).")


def test_ecs_command_returns_each_instance_exit_code_and_output(emulator):
    emulator.load_world(world_with(None, instances=2))
    ids = [i["instance_id"] for i in instance_facts(emulator)]
    emulator.clear_calls()
    checked = run_module(emulator, "ecs_command", {"instance_ids": ids, "command": "echo hi"}, check=True)
    assert checked["changed"] is True and checked["invoke_ids"] == [] and emulator.calls() == []

    script = 'echo "on $INSTANCE_ID"; [ "$INSTANCE_ID" = %s ]' % ids[0]
    result = run_module(emulator, "ecs_command", {"instance_ids": ids, "command": script, "poll_interval": 0.2})
    assert result["failed"] is True
    assert result["failed_instances"] == ["%s exit code 1" % ids[1]]
    by_id = dict((r["instance_id"], r) for r in result["results"])
    assert (by_id[ids[0]]["exit_code"], by_id[ids[0]]["output"], by_id[ids[0]]["status"]) == \
        (0, "on %s\n" % ids[0], "Success")
    assert (by_id[ids[1]]["exit_code"], by_id[ids[1]]["status"]) == (1, "Failed")
    assert len(result["invoke_ids"]) == 1
    lenient = run_module(emulator, "ecs_command", {"instance_ids": ids, "command": script, "poll_interval": 0.2,
                                                   "fail_on_error": False})
    assert not lenient.get("failed") and lenient["changed"] is True
    assert [c["action"] for c in emulator.calls() if c["mutating"]] == ["RunCommand", "RunCommand"]


# ----------------------------------------------------------------------------- the role, both strategies

NEW_IMAGE = "m-bp1newimage0000002"
BAD_IMAGE = "m-bp1badimage0000003"
STRATEGIES = ("oos_template", "instance_refresh")


def run_role(emulator, strategy, **extra):
    import json
    import os
    import subprocess

    from playbook_runner import ANSIBLE_PLAYBOOK, ROOT, ansible_env
    variables = dict(scaling_group_id=GROUP, poll_interval=0.2, health_delay=1, health_deadline=3,
                     rollout_strategy=strategy, canary=True)
    variables.update(extra)
    command = [ANSIBLE_PLAYBOOK, os.path.join(ROOT, "playbooks", "update_image.yml"), "-e", json.dumps(variables)]
    run = subprocess.run(command, env=ansible_env(emulator), cwd=ROOT, capture_output=True, text=True, timeout=240)
    return run.returncode, run.stdout + run.stderr


def images(emulator):
    return sorted(i["image_id"] for i in emulator.state()["scaling_groups"][0]["instances"])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_role_healthy_rollout_passes_the_load_balancer_and_command_gates(emulator, strategy):
    returncode, text = run_role(emulator, strategy, image_id=NEW_IMAGE, health_sources="load_balancer,command",
                                health_command=HEALTHY_COMMAND)
    assert returncode == 0, text[-4000:]
    assert images(emulator) == [NEW_IMAGE] * 4
    assert "command passed 2/2, load_balancer passed 2/2" in text  # the canary batch, per source
    assert "command passed 4/4, load_balancer passed 4/4" in text  # the final gate


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_role_image_whose_app_is_down_fails_the_canary_gate_and_is_rolled_back(emulator, strategy):
    # The instances run (ESS's own health check passes) but the app on them is down: only the gate sees it.
    emulator.set_faults({"unhealthy_app_images": [BAD_IMAGE]})
    returncode, text = run_role(emulator, strategy, image_id=BAD_IMAGE, health_sources=["load_balancer", "command"],
                                health_command=HEALTHY_COMMAND, refresh_checkpoint_pause_time=2880)
    assert returncode != 0, text[-6000:]
    assert "Health gate (batch) failed: 2 of 2 instance(s) were not healthy (load_balancer, command)" in text, \
        text[-4000:]
    assert "Unhealthy on port 80" in text and "exit code 1" in text
    assert images(emulator) == [OLD_IMAGE] * 4
    group = emulator.state()["scaling_groups"][0]
    assert group["scaling_configuration"]["image_id"] == OLD_IMAGE
    assert group["suspended_processes"] == [] and {i["lifecycle_state"] for i in group["instances"]} == {"InService"}


def test_role_load_balancer_gate_on_a_group_without_one_stops_in_preflight_with_zero_mutating_calls(emulator):
    emulator.load_world(world_with(None))
    returncode, text = run_role(emulator, "oos_template", image_id=NEW_IMAGE, health_sources="load_balancer")
    assert returncode != 0
    assert "scaling group %s has none attached" % GROUP in text
    assert [c for c in emulator.calls() if c["mutating"]] == []
    assert images(emulator) == [OLD_IMAGE] * 4


def test_role_refuses_a_command_source_without_a_command_before_any_call(emulator):
    returncode, text = run_role(emulator, "oos_template", image_id=NEW_IMAGE, health_sources="command")
    assert returncode != 0
    assert "rolling_update_health_sources has command: give rolling_update_health_command" in text
    assert emulator.calls() == []
