"""The collection metadata that Ansible and Galaxy read."""
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load(path):
    with open(os.path.join(ROOT, path)) as handle:
        return yaml.safe_load(handle)


def test_galaxy_identity():
    galaxy = load("galaxy.yml")
    assert (galaxy["namespace"], galaxy["name"]) == ("alicloud", "rollout")
    assert galaxy["repository"] == "https://github.com/alicloud-rollout/alicloud.rollout"
    for ignored in ("tests/emulator", "tests/integration", ".venv", "build", "Makefile", ".ci"):
        assert ignored in galaxy["build_ignore"]


def test_runtime_declares_action_group_with_every_module():
    runtime = load("meta/runtime.yml")
    assert runtime["requires_ansible"] == ">=2.16.0"
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                     if name.endswith(".py") and not name.startswith("_"))
    assert sorted(runtime["action_groups"]["alicloud"] or []) == modules
