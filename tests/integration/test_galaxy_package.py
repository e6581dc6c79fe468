"""The Galaxy artifact: only collection content, and it works by FQCN once installed somewhere else."""
import fnmatch
import json
import os
import subprocess

import pytest
import yaml

from support.cloud import GROUP, NEW_IMAGE, group_state
from support.package import (BIN, ROOT, build_collection, install_collection, isolated_ansible_env, tarball_files)

# What a collection artifact may hold (top-level files and folders; tests only as the collection's unit tests).
ALLOWED_TOP_LEVEL = {
    "FILES.json", "MANIFEST.json", "README.md", "CHANGELOG.rst", "LICENSE", "COPYING", "requirements.txt",
    "bindep.txt", "changelogs", "docs", "extensions", "meta", "playbooks", "plugins", "roles", "tests",
}
ALLOWED_UNDER_TESTS = ("tests/unit/", "tests/config.yml")
FORBIDDEN_PATTERNS = ("*__pycache__*", "*.pyc", "*.tar.gz", ".venv*", "*/.venv*", "build/*", "tests/emulator/*",
                      "tests/integration/*", "tests/support/*", "tests/sanity/*", "tests/output/*", "tests/bench/*",
                      "tests/demo/*", "Makefile", "pytest.ini", ".ci/*", ".git*", "*.egg-info*",
                      "changelogs/.plugin-cache.yaml")
PLAYBOOK_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    return build_collection(tmp_path_factory.mktemp("galaxy-build"))


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory):
    collections_path = tmp_path_factory.mktemp("collections")
    return collections_path, install_collection(tarball, collections_path)


def test_tarball_holds_only_collection_content(tarball):
    files = tarball_files(tarball)
    top_level = {name.split("/")[0] for name in files}
    assert top_level <= ALLOWED_TOP_LEVEL, sorted(top_level - ALLOWED_TOP_LEVEL)
    assert [f for f in files if f.startswith("tests/") and not f.startswith(ALLOWED_UNDER_TESTS)] == []
    assert [f for f in files if any(fnmatch.fnmatch(f, pattern) for pattern in FORBIDDEN_PATTERNS)] == []
    # What users and ansible-builder need is all there.
    for needed in ("meta/runtime.yml", "meta/execution-environment.yml", "README.md", "requirements.txt",
                   "bindep.txt", "extensions/awx/credential_type.yml", "docs/ram-policy.json",
                   "plugins/modules/ess_rolling_update.py", "plugins/modules/oos_execution_info.py",
                   "plugins/doc_fragments/connection.py"):
        assert needed in files
    modules = {f for f in files if f.startswith("plugins/modules/") and f.endswith(".py")}
    checkout_modules = {"plugins/modules/" + name for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                        if name.endswith(".py")}
    assert modules == checkout_modules


def test_manifest_matches_galaxy_yml(tarball, installed):
    _, collection_dir = installed
    with open(os.path.join(collection_dir, "MANIFEST.json")) as handle:
        info = json.load(handle)["collection_info"]
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        galaxy = yaml.safe_load(handle)
    assert (info["namespace"], info["name"], info["version"]) == (galaxy["namespace"], galaxy["name"],
                                                                  galaxy["version"])
    assert os.path.basename(tarball) == "alicloud-rollout-%s.tar.gz" % galaxy["version"]


def test_installed_collection_runs_a_playbook_by_fqcn_against_the_emulator(emulator, installed, tmp_path):
    collections_path, collection_dir = installed
    env = isolated_ansible_env(collections_path, ALICLOUD_ENDPOINT_URL=emulator.url)
    admin = emulator.account("admin")
    env.update({"ALICLOUD_ACCESS_KEY": admin["access_key_id"], "ALICLOUD_SECRET_KEY": admin["access_key_secret"]})

    # The module Ansible resolves is the installed copy, not this checkout.
    doc = subprocess.run([os.path.join(BIN, "ansible-doc"), "--json", "alicloud.rollout.ess_rolling_update"],
                         env=env, capture_output=True, text=True, check=True, cwd=str(tmp_path))
    filename = json.loads(doc.stdout)["alicloud.rollout.ess_rolling_update"]["doc"]["filename"]
    assert os.path.realpath(filename).startswith(os.path.realpath(collection_dir))

    playbook = tmp_path / "rollout.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Roll a new image out with the installed collection",
        "hosts": "localhost",
        "gather_facts": False,
        "module_defaults": {"group/alicloud.rollout.alicloud": {"region": "cn-hangzhou"}},
        "tasks": [
            {"name": "Roll out", "register": "rollout",
             "alicloud.rollout.ess_rolling_update": {"scaling_group_id": GROUP, "image_id": NEW_IMAGE,
                                                     "batch_number": 2}},
            {"name": "Read the execution", "register": "info",
             "alicloud.rollout.oos_execution_info": {"execution_ids": ["{{ rollout.execution_id }}"]}},
            {"name": "Check", "ansible.builtin.assert": {"that": [
                "rollout is changed", "rollout.status == 'Success'",
                "info.executions | length == 1", "info.executions[0].execution_id == rollout.execution_id",
                "info.executions[0].status == 'Success'"]}},
        ],
    }], sort_keys=False))
    process = subprocess.run([os.path.join(BIN, "ansible-playbook"), str(playbook)], env=env, cwd=str(tmp_path),
                             capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT_S)
    assert process.returncode == 0, process.stdout + process.stderr

    assert {i["image_id"] for i in group_state(emulator)["instances"]} == {NEW_IMAGE}
