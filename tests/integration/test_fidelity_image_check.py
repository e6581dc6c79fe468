"""Issue 13 point 2: the image check finds every image a user may roll out (system, own, shared, marketplace,
community; any status) and warns, instead of refusing, where it cannot decide. In-process module runs."""
import pytest

from emulator_harness import read_world
from support.cloud import GROUP
from support.inprocess import run_module

MARKET = "m-bp1marketimage00001"


def world_with_images(*images):
    world = read_world(None)
    world["images"] = list(world["images"]) + list(images)
    return world


def mutating(emulator):
    return [c for c in emulator.calls() if c.get("mutating")]


@pytest.mark.parametrize("image", [
    {"id": MARKET, "owner_alias": "marketplace"},
    {"id": MARKET, "owner_alias": "system"},
    {"id": MARKET, "owner_alias": "others"},
    {"id": MARKET, "owner_alias": "others", "is_public": True},
    {"id": MARKET, "owner_alias": "self", "status": "Deprecated"},
], ids=["marketplace", "system", "shared", "community", "deprecated"])
def test_every_kind_of_image_passes_the_check(emulator, image):
    emulator.load_world(world_with_images(image))
    result = run_module(emulator, "ess_rolling_update", {"scaling_group_id": GROUP, "image_id": MARKET,
                                                         "batch_number": 2}, check=True)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True and result["plan"]["action"] == "start"
    deprecated = any("Deprecated" in w for w in result["warnings"])
    assert deprecated is (image.get("status") == "Deprecated")


def test_a_marketplace_image_is_rolled_out(emulator):
    emulator.load_world(world_with_images({"id": MARKET, "owner_alias": "marketplace"}))
    result = run_module(emulator, "ess_rolling_update", {"scaling_group_id": GROUP, "image_id": MARKET,
                                                         "batch_number": 1})
    assert not result.get("failed"), result.get("msg")
    assert result["status"] == "Success"
    images = {i["image_id"] for i in emulator.state()["scaling_groups"][0]["instances"]}
    assert images == {MARKET}


def test_an_image_no_query_finds_is_refused_before_any_mutating_call(emulator):
    emulator.load_world()
    result = run_module(emulator, "ess_rolling_update", {"scaling_group_id": GROUP, "image_id": "m-bp1nosuchimage001"})
    assert result["failed"] is True and "m-bp1nosuchimage001 does not exist" in result["msg"]
    assert mutating(emulator) == []
    queried = [c for c in emulator.calls(action="DescribeImages")]
    assert len(queried) == 3  # default owners, marketplace, community


def test_a_describe_images_error_warns_and_does_not_block(emulator):
    emulator.load_world(world_with_images({"id": MARKET, "owner_alias": "marketplace"}))
    emulator.set_faults({"error_rate": {"default": 0.0, "DescribeImages": 1.0}})
    result = run_module(emulator, "ess_rolling_update", {"scaling_group_id": GROUP, "image_id": MARKET,
                                                         "retries": 1}, check=True)
    assert not result.get("failed"), result.get("msg")
    assert any("Could not check that image" in w for w in result["warnings"])
    assert result["plan"]["action"] == "start"
