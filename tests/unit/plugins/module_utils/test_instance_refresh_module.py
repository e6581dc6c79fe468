"""ess_instance_refresh(_info) modules: documentation matches the argument specs.

The module's flow (success, Failed, timeout, no wait) is tested against the emulator in
tests/integration/test_instance_refresh.py and tests/integration/test_instance_refresh_failures.py."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import importlib

import pytest
import yaml

from ansible_collections.alicloud.rollout.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.alicloud.rollout.plugins.module_utils.client import connection_argument_spec

MODULES = ["ess_instance_refresh", "ess_instance_refresh_info"]


def load(name):
    return importlib.import_module("ansible_collections.alicloud.rollout.plugins.modules.%s" % name)


def check_options(spec, documented, where):
    assert sorted(spec) == sorted(documented), where
    for name, rules in spec.items():
        doc, label = documented[name], "%s.%s" % (where, name)
        for key, default in (("type", "str"), ("default", None), ("choices", None), ("elements", None)):
            assert doc.get(key, default) == rules.get(key, default), label + " " + key
        assert bool(doc.get("required")) == bool(rules.get("required")), label
        assert sorted(doc.get("aliases") or []) == sorted(rules.get("aliases") or []), label
        assert doc.get("description"), label
        if rules.get("options"):
            check_options(rules["options"], doc["suboptions"], label)


@pytest.mark.parametrize("name", MODULES)
def test_documentation_matches_the_argument_spec(name):
    module = load(name)
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["module"] == name and str(doc["version_added"]) == "0.1.0"
    assert doc["extends_documentation_fragment"] == ["alicloud.rollout.connection"]
    assert doc["attributes"]["action_group"]["membership"] == ["alicloud.rollout.alicloud"]
    documented = dict(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    documented.update(doc["options"])
    spec = connection_argument_spec()
    spec.update(module.argument_spec())
    check_options(spec, documented, name)
    examples = yaml.safe_load(module.EXAMPLES)
    assert all(task.get("name") and "alicloud.rollout.%s" % name in task for task in examples)
    for key, value in yaml.safe_load(module.RETURN).items():
        assert value.get("description") and value.get("returned") and value.get("type"), key
