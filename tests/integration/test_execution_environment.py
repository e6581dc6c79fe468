"""An execution environment with this collection: `ansible-builder create` and the dependency stages it scripts.

`create` needs no container engine. The image build's galaxy and introspection stages are replayed here with the
context's own files (its requirements.yml, the collection tarball it copied, its introspect.py), so the test sees
what the image would install.
"""
import os
import shutil
import sys

import pytest
import yaml
from ansible.release import __version__ as CORE_VERSION

from support.package import BIN, ROOT, build_collection, isolated_ansible_env, run

# The image gets the ansible-core of this venv (the newest supported one, 2.21, in the main .venv): it needs
# Python 3.12+, hence the base image.
CORE_MINOR = ".".join(CORE_VERSION.split(".")[:2])
EE_DEFINITION = {
    "version": 3,
    "images": {"base_image": {"name": "quay.io/fedora/python-312:latest"}},
    "dependencies": {
        "ansible_core": {"package_pip": "ansible-core==%s.*" % CORE_MINOR},
        "ansible_runner": {"package_pip": "ansible-runner>=2.3"},
        "galaxy": "requirements.yml",
    },
}


def requirement_lines(path):
    with open(path) as handle:
        return [line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """An EE build context whose galaxy requirements install the tarball built from this checkout."""
    work = tmp_path_factory.mktemp("ee")
    tarball = build_collection(tmp_path_factory.mktemp("ee-tarball"))
    shutil.copy(tarball, str(work))
    definition = dict(EE_DEFINITION, additional_build_files=[
        {"src": os.path.basename(tarball), "dest": "collections"}])
    (work / "execution-environment.yml").write_text(yaml.safe_dump(definition, sort_keys=False))
    (work / "requirements.yml").write_text(yaml.safe_dump({"collections": [
        {"name": "collections/" + os.path.basename(tarball), "type": "file"}]}))
    run([os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", "context",
         "--output-filename", "Containerfile"], cwd=str(work))
    return work / "context"


@pytest.fixture(scope="module")
def introspected(context, tmp_path_factory):
    """Replay the image build: install the galaxy requirements, then run the context's introspect.py."""
    share = tmp_path_factory.mktemp("usr-share-ansible-collections")
    build_dir = context / "_build"
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "-r", "requirements.yml",
         "--collections-path", str(share)], cwd=str(build_dir), env=isolated_ansible_env(share))
    pip_out, bindep_out = share / "requirements.txt", share / "bindep.txt"
    run([sys.executable, str(build_dir / "scripts" / "introspect.py"), "introspect",
         "--write-pip=%s" % pip_out, "--write-bindep=%s" % bindep_out, str(share)])
    return share, pip_out, bindep_out


def test_create_writes_a_context_that_installs_the_collection(context):
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-core==%s.*" % CORE_MINOR in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect.py introspect" in containerfile
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    tarball_name = os.path.basename(galaxy["collections"][0]["name"])
    assert (context / "_build" / "collections" / tarball_name).is_file()


def test_introspection_finds_the_collection_python_and_system_requirements(introspected):
    share, pip_out, bindep_out = introspected
    assert (share / "ansible_collections" / "alicloud" / "rollout" / "meta" / "execution-environment.yml").is_file()
    ours = requirement_lines(os.path.join(ROOT, "requirements.txt"))
    assert ours, "requirements.txt lists no Python requirement"
    assert sorted(requirement_lines(str(pip_out))) == sorted(ours)
    assert "from collection alicloud.rollout" in pip_out.read_text()
    assert sorted(requirement_lines(str(bindep_out))) == sorted(requirement_lines(os.path.join(ROOT, "bindep.txt")))


def test_metadata_points_at_the_shipped_files():
    with open(os.path.join(ROOT, "meta", "execution-environment.yml")) as handle:
        metadata = yaml.safe_load(handle)
    assert metadata["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    # The collection's runtime dependencies are the SDK packages, each with a lower bound.
    names = {}
    for line in requirement_lines(os.path.join(ROOT, "requirements.txt")):
        name = line.split(">")[0].split("<")[0].split("=")[0].strip()
        names[name] = line
    assert set(names) == {"alibabacloud-oos20190601", "alibabacloud-ess20220222", "alibabacloud-ecs20140526",
                          "alibabacloud-sts20150401", "alibabacloud-credentials", "alibabacloud-slb20140515",
                          "alibabacloud-alb20200616", "alibabacloud-nlb20220430"}
    assert all(">=" in line for line in names.values())


def test_bindep_file_parses_and_needs_no_compiler_by_default():
    from bindep.depends import Depends

    with open(os.path.join(ROOT, "bindep.txt")) as handle:
        depends = Depends(handle.read())
    default = [rule[0] for rule in depends.active_rules(["platform:rpm", "default"])]
    compile_profile = [rule[0] for rule in depends.active_rules(["platform:rpm", "compile"])]
    assert "ca-certificates" in default and "gcc" not in default
    assert "gcc" in compile_profile
