"""No deprecation or other warning from our content on the ansible-core under test (issue 16): the docs examples.

The playbooks, the role and the modules are checked on every run the other integration tests make
(tests/integration/conftest.py). Here every documented example (module EXAMPLES, the YAML blocks of README.md,
docs/*.md and the roles' READMEs) runs once, in check mode, against the emulator with ANSIBLE_DEPRECATION_WARNINGS=1:
an example only has to load, template and reach its module; its IDs need not exist.
"""
import glob
import json
import os
import re
import subprocess

import yaml

from support.playbook import ANSIBLE_PLAYBOOK, ROOT, ansible_env, warnings_about_our_content

PLAYBOOK_TIMEOUT_S = 300
# Documented plays that need a collection this one does not depend on (awx.awx): they cannot load here.
FOREIGN_COLLECTIONS = ("awx.awx.",)


def run(emulator, argv, cwd=ROOT):
    process = subprocess.run([ANSIBLE_PLAYBOOK] + argv, env=ansible_env(emulator, ANSIBLE_DEPRECATION_WARNINGS="1"),
                             cwd=str(cwd), capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT_S)
    return process, warnings_about_our_content(process.stdout, process.stderr)


def module_examples():
    tasks = []
    for path in sorted(glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))):
        with open(path) as handle:
            source = handle.read()
        block = re.search(r'^EXAMPLES = r?"""(.*?)"""', source, re.S | re.M)
        assert block, path
        tasks.extend(yaml.safe_load(block.group(1)))
    return tasks


def documented_yaml():
    """(tasks, plays) from the YAML blocks of README.md, docs/*.md and the roles' READMEs."""
    tasks, plays = [], []
    paths = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))) + sorted(
        glob.glob(os.path.join(ROOT, "roles", "*", "README.md")))
    for path in paths:
        with open(path) as handle:
            for block in re.findall(r"```ya?ml\n(.*?)```", handle.read(), re.S):
                content = yaml.safe_load(block)
                if not isinstance(content, list):
                    continue  # a fragment (module_defaults of a play), not runnable on its own
                if any(foreign in block for foreign in FOREIGN_COLLECTIONS):
                    continue
                if all("hosts" in item for item in content):
                    plays.extend(content)
                else:
                    tasks.extend(content)
    return tasks, plays


def test_every_documented_example_warns_about_nothing_of_ours(emulator, tmp_path):
    doc_tasks, doc_plays = documented_yaml()
    tasks = module_examples() + doc_tasks
    assert len(tasks) > 20 and len(doc_plays) >= 4
    for task in tasks:
        task["ignore_errors"] = True
    plays = [{"name": "Documented example tasks", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]
    for play in doc_plays:
        plays.append(dict(play, ignore_errors=True))
    (tmp_path / "examples.yml").write_text(yaml.safe_dump(plays, sort_keys=False))
    # Examples point health checks at instance addresses: here they go to the emulator instead.
    health_url = emulator.url + "/_emulator/instances/{{ instance.instance_id }}/health"
    process, warnings = run(emulator, [str(tmp_path / "examples.yml"), "--check", "-e",
                                       json.dumps({"rolling_update_health_url": health_url})], cwd=tmp_path)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    assert "Documented example tasks" in output and "PLAY RECAP" in output
    assert warnings == []
