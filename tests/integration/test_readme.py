"""README stays true to the code: error codes, action group, linked files, make targets."""
import os
import re

import yaml

from ansible_collections.alicloud.rollout.plugins.module_utils.errors import ADVICE

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readme():
    with open(os.path.join(ROOT, "README.md")) as handle:
        return handle.read()


def section(text, title):
    start = text.index("## " + title)
    following = text.find("\n## ", start + 1)
    return text[start:following if following != -1 else len(text)]


def test_troubleshooting_covers_every_error_code_with_advice():
    table = section(readme(), "Troubleshooting by error code")
    missing = [code for code in ADVICE if "`%s`" % code not in table]
    assert missing == []


def test_module_defaults_section_uses_the_declared_action_group():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as handle:
        groups = yaml.safe_load(handle)["action_groups"]
    text = section(readme(), "`module_defaults` and the action group")
    used = set(re.findall(r"group/alicloud\.rollout\.(\w+)", text))
    assert used and used <= set(groups)


def test_linked_files_exist():
    links = re.findall(r"\]\(((?:docs|extensions)/[^)#]+)\)", readme())
    assert "docs/ram-policy.json" in links
    assert [link for link in links if not os.path.exists(os.path.join(ROOT, link))] == []


def test_every_make_target_in_the_test_table_exists():
    with open(os.path.join(ROOT, "Makefile")) as handle:
        makefile = handle.read()
    table = section(readme(), "The two commands")
    targets = re.findall(r"^\s*\| `([a-z-]+)` \|", table, re.M)
    assert "sanity" in targets and "test-python" in targets
    test_prerequisites = re.search(r"^test: (.*)$", makefile, re.M).group(1).split()
    assert targets == test_prerequisites
