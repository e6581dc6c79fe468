"""One task over many scaling groups (ess_rolling_update scaling_group_ids) and oos_execution_info waiting for a
set of executions, in-process (support.inprocess) against the emulator."""
import copy

from emulator_harness import read_world
from support.cloud import NEW_IMAGE, OLD_IMAGE
from support.inprocess import run_tasks

MODULE = "alicloud.rollout.ess_rolling_update"
FLEET = ["asg-bp1fleet000000000001", "asg-bp1fleet000000000002", "asg-bp1fleet000000000003"]
MISSING = "asg-bp1fleet000000000404"  # not in the world


def fleet_world():
    world = read_world(None)
    template = world["scaling_groups"][0]
    groups = []
    for number, group_id in enumerate(FLEET):
        group = copy.deepcopy(template)
        group.update(id=group_id, name="fleet-%d" % number, instances=3,
                     scaling_configuration={"id": "asc" + group_id[3:], "image_id": OLD_IMAGE})
        groups.append(group)
    world["scaling_groups"] = groups
    return world


def test_one_task_rolls_out_every_group_and_isolates_a_failing_one(emulator):
    emulator.load_world(fleet_world())
    task = {MODULE: {"scaling_group_ids": FLEET[:2] + [MISSING] + FLEET[2:], "image_id": NEW_IMAGE,
                     "batch_number": 2}}
    first, again = run_tasks(emulator, [task, dict(task)])

    assert first.get("failed") is True
    assert MISSING in first["msg"] and "1 of 4" in first["msg"]
    by_group = dict((g["scaling_group_id"], g) for g in first["groups"])
    assert [g["scaling_group_id"] for g in first["groups"]] == FLEET[:2] + [MISSING] + FLEET[2:]
    for group_id in FLEET:
        assert by_group[group_id]["status"] == "Success", by_group[group_id]
        assert by_group[group_id]["changed"] is True and by_group[group_id]["failed"] is False
    assert by_group[MISSING]["failed"] is True and MISSING in by_group[MISSING]["msg"]
    assert "execution_id" not in first  # per-group results only

    state = dict((g["id"], g) for g in emulator.state()["scaling_groups"])
    for group_id in FLEET:
        assert {i["image_id"] for i in state[group_id]["instances"]} == {NEW_IMAGE}
    started = emulator.calls(action="StartExecution", status=200)
    assert len(started) == len(FLEET)

    # The same task again starts nothing: every group is already on the image.
    assert [g["scaling_group_id"] for g in again["groups"] if g.get("changed")] == []
    assert len(emulator.calls(action="StartExecution", status=200)) == len(FLEET)


def test_start_without_waiting_then_wait_for_the_set_in_one_task(emulator):
    emulator.load_world(fleet_world())
    [started] = run_tasks(emulator, [
        {MODULE: {"scaling_group_ids": FLEET, "image_id": NEW_IMAGE, "batch_number": 2, "wait": False}}])
    [waited] = run_tasks(emulator, [{"alicloud.rollout.oos_execution_info": {
        "execution_ids": [g["execution_id"] for g in started["groups"]], "wait_for": ["Success"],
        "wait_timeout": 120}}])

    assert not started.get("failed"), started.get("msg")
    assert {g["status"] for g in started["groups"]} <= {"Started", "Running", "Queued"}
    assert not waited.get("failed"), waited.get("msg")
    assert sorted(waited["ids"]) == sorted(g["execution_id"] for g in started["groups"])
    assert {e["status"] for e in waited["executions"]} == {"Success"}
