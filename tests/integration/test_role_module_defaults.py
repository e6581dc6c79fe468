"""The role alicloud.rollout.rolling_update keeps the connection settings a user gives in play-level
module_defaults for the action group (credentials, endpoint, region): nothing inside the role replaces them.
"""
import json
import subprocess

import yaml

from playbook_runner import ANSIBLE_PLAYBOOK, ansible_env

GROUP = "asg-bp1demo0000000001"
NEW_IMAGE = "m-bp1newimage0000002"
REGION = "cn-hangzhou"
PLAYBOOK_TIMEOUT_S = 240


def environment_without_connection_settings(emulator, home):
    env = ansible_env(emulator, ALICLOUD_ENDPOINT_URL=None, ALIBABA_CLOUD_ACCESS_KEY_ID=None,
                      ALIBABA_CLOUD_ACCESS_KEY_SECRET=None, ALICLOUD_REGION=None, HOME=str(home))
    leaked = sorted(name for name in env if name.startswith(("ALICLOUD_", "ALIBABA_CLOUD_"))
                    and name != "ALIBABA_CLOUD_ECS_METADATA_DISABLED")
    assert leaked == [], "connection settings leak in from the environment: %s" % leaked
    return env


def run_role_with_play_defaults(emulator, tmp_path, strategy, region_in_defaults=True):
    account = emulator.account("admin")
    connection = {"access_key_id": account["access_key_id"], "access_key_secret": account["access_key_secret"],
                  "endpoint_url": emulator.url}
    role_vars = {"rolling_update_scaling_group_id": GROUP, "rolling_update_image_id": NEW_IMAGE,
                 "rolling_update_strategy": strategy, "rolling_update_poll_interval": 0.3}
    if region_in_defaults:
        connection["region"] = REGION
    else:
        role_vars["rolling_update_region"] = REGION
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "module_defaults": {"group/alicloud.rollout.alicloud": connection},
        "roles": [{"role": "alicloud.rollout.rolling_update", "vars": role_vars}],
    }
    playbook = tmp_path / "play_defaults.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    # An empty HOME: no aliyun CLI profile can supply credentials either.
    env = environment_without_connection_settings(emulator, tmp_path)
    return subprocess.run([ANSIBLE_PLAYBOOK, str(playbook), "-e", json.dumps({})], env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT_S)


def group_images(emulator):
    group = next(g for g in emulator.state()["scaling_groups"] if g["id"] == GROUP)
    return {i["image_id"] for i in group["instances"]}


def test_oos_strategy_uses_credentials_and_endpoint_from_play_module_defaults(emulator, tmp_path):
    run = run_role_with_play_defaults(emulator, tmp_path, "oos_template")

    assert run.returncode == 0, run.stdout + run.stderr
    assert group_images(emulator) == {NEW_IMAGE}


def test_instance_refresh_strategy_keeps_play_module_defaults_and_takes_the_region_from_the_role(emulator, tmp_path):
    run = run_role_with_play_defaults(emulator, tmp_path, "instance_refresh", region_in_defaults=False)

    assert run.returncode == 0, run.stdout + run.stderr
    assert group_images(emulator) == {NEW_IMAGE}
    assert [r["Status"] for r in emulator.state()["instance_refreshes"]] == ["Successful"]
