"""The world file, the snapshot, the instance health endpoint and the simulated clock."""
import threading

import pytest

from alicloud_emulator.clock import SimClock, parse_iso
from model_support import NEW_IMAGE, OLD_IMAGE, group_state, instance_ids, load, world


@pytest.mark.parametrize("change,fragment", [
    (lambda d: d.update(colour="blue"), "unknown key(s) colour"),
    (lambda d: d["scaling_groups"][0].update(size=3), "scaling_groups[0]: unknown key(s) size"),
    (lambda d: d["scaling_groups"][0].update(instances=[{"id": "i-1", "disk": 1}]), "instances[0]: unknown key(s) disk"),
    (lambda d: d["scaling_groups"][0].update(state="Deleting"), "state must be Active or Inactive"),
    (lambda d: d["scaling_groups"][0]["scaling_configuration"].update(image_id="m-missing"), "image m-missing is not in images"),
    (lambda d: d["scaling_groups"][0].update(suspended_processes=["Nap"]), "unknown process Nap"),
    (lambda d: d["scaling_groups"][0].update(instances=[{"packages": ["nginx@0.1"]}]), "package nginx@0.1"),
    (lambda d: d["scaling_groups"][0].update(region="eu-central-1"), "region eu-central-1 is not in regions"),
    (lambda d: d["scaling_groups"][0].update(instances=-1), "instances must be a whole number"),
    (lambda d: d["scaling_groups"][0].update(max_size="ten"), "max_size must be a whole number"),
    (lambda d: d.update(regions="cn-hangzhou"), "regions must be a list"),
    (lambda d: d.update(fidelity={"counters": "guess"}), "fidelity.counters must be one of emulator, ros, absent"),
    (lambda d: d.update(fidelity={"waiting_status": "x"}), "fidelity.waiting_status must be one of"),
    (lambda d: d.update(fidelity={"instance_page_size": 0}), "instance_page_size must be a positive number or all"),
    (lambda d: d.update(fidelity={"paging": 1}), "fidelity: unknown key(s) paging"),
    (lambda d: d.update(images=[{"id": "m-x", "owner_alias": "friends"}]), "owner_alias must be one of"),
])
def test_invalid_worlds_are_refused_with_a_clear_message(emulator, change, fragment):
    doc = world(2)
    change(doc)
    with pytest.raises(RuntimeError) as error:
        emulator.load_world(doc)
    assert fragment in str(error.value)


def test_instances_as_a_list_keep_their_fields(emulator):
    load(emulator, instances=[
        {"id": "i-bp1aaaaaaaaaaaaaaaaa", "lifecycle_state": "Standby", "image_id": NEW_IMAGE,
         "packages": ["nginx@1.24.0"], "private_ip": "10.9.8.7", "tags": {"team": "web"}},
        {"protected": True},
    ], launch_template={"id": "lt-bp1demo", "version": "3"}, suspended_processes=["ScaleIn"])
    group = group_state(emulator)
    first, second = group["instances"]
    assert (first["id"], first["lifecycle_state"], first["image_id"], first["private_ip"]) == (
        "i-bp1aaaaaaaaaaaaaaaaa", "Standby", NEW_IMAGE, "10.9.8.7")
    assert first["packages"] == ["nginx@1.24.0"] and first["tags"] == {"team": "web"}
    assert second["protected"] and second["lifecycle_state"] == "Protected" and second["image_id"] == OLD_IMAGE
    assert group["launch_template"] == {"id": "lt-bp1demo", "version": "3"}
    assert group["suspended_processes"] == ["ScaleIn"]


def test_generated_ids_are_stable_for_a_group(emulator):
    load(emulator, instances=3)
    first = instance_ids(emulator)
    load(emulator, instances=3)
    assert instance_ids(emulator) == first and len(set(first)) == 3


def test_default_world_loads(emulator):
    state = emulator.state()
    assert state["scaling_groups"][0]["id"] == "asg-bp1demo0000000001"
    assert len(state["scaling_groups"][0]["instances"]) == 4


def test_health_endpoint(emulator):
    load(emulator, instances=[{"image_id": NEW_IMAGE}, {"packages": ["nginx@1.26.1"]}, {}])
    ids = instance_ids(emulator)
    assert [emulator.instance_health(i)[0] for i in ids] == [200, 200, 200]
    emulator.set_faults({"unhealthy_images": [NEW_IMAGE], "unhealthy_packages": ["nginx@1.26.1"]})
    status, body = emulator.instance_health(ids[0])
    assert status == 503 and body["healthy"] is False and NEW_IMAGE in body["reasons"][0]
    assert emulator.instance_health(ids[1])[0] == 503
    assert emulator.instance_health(ids[2])[0] == 200
    assert emulator.instance_health("i-unknown")[0] == 404
    assert [i["health"] for i in group_state(emulator)["instances"]] == [False, False, True]


def test_snapshot_exposes_when_an_execution_changed_status(emulator):
    from model_support import SCRIPT_TEMPLATE, snapshot_execution, start, wait_for
    load(emulator, instances=2)
    started = start(emulator, SCRIPT_TEMPLATE, invokeScript="true", batchNumber=2, batchPauseOption="FirstBatchPause")
    waiting = wait_for(emulator, started.execution_id, ("Waiting",))
    snap = snapshot_execution(emulator, started.execution_id)
    assert snap["status"] == "Waiting" and snap["waiting_status"] == "BatchPause"
    assert parse_iso(snap["status_changed_at"]) <= parse_iso(waiting.update_date)
    assert snap["status_changed_at_real"] > 0 and snap["children"]


def test_clock_runs_events_in_time_order_and_cancels():
    clock = SimClock(speed=1000)
    fired = []
    done = threading.Event()
    try:
        # Due times share one origin, far enough ahead that a busy machine cannot reorder them by
        # delaying the scheduling lines themselves.
        origin = clock.now()
        clock.call_at(origin + 300, lambda: fired.append("b"))
        clock.call_at(origin + 100, lambda: fired.append("a"))
        cancelled = clock.call_at(origin + 200, lambda: fired.append("cancelled"))
        cancelled.cancel()
        clock.call_at(origin + 400, done.set)
        assert done.wait(10)
        assert fired == ["a", "b"]
    finally:
        clock.stop()


def test_clock_time_runs_speed_times_faster():
    clock = SimClock(speed=1000)
    start = clock.now()
    done = threading.Event()
    clock.call_later(50, done.set)
    assert done.wait(10)
    assert clock.now() - start >= 50
    clock.stop()
    assert clock.call_later(1, lambda: None) is not None  # scheduling after stop is a harmless no-op
