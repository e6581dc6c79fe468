"""DOCUMENTATION of the core modules matches their argument specs (what validate-modules checks)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib

import pytest
import yaml

from ansible_collections.alicloud.rollout.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.alicloud.rollout.plugins.module_utils.client import connection_argument_spec

MODULES = ["ess_rolling_update", "oos_execution_info"]


def load(name):
    return importlib.import_module("ansible_collections.alicloud.rollout.plugins.modules.%s" % name)


def documented_options(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert "alicloud.rollout.connection" in doc["extends_documentation_fragment"]
    options = dict(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    options.update(doc["options"])
    return doc, options


def compare(spec, options, where):
    assert sorted(spec) == sorted(options), where
    for name, rules in spec.items():
        doc = options[name]
        label = "%s.%s" % (where, name)
        assert doc.get("type", "str") == rules.get("type", "str"), label
        assert doc.get("default") == rules.get("default"), label
        assert doc.get("choices") == rules.get("choices"), label
        assert doc.get("elements") == rules.get("elements"), label
        assert sorted(doc.get("aliases") or []) == sorted(rules.get("aliases") or []), label
        assert bool(doc.get("required")) == bool(rules.get("required")), label
        assert doc.get("description"), label
        if rules.get("options"):
            compare(rules["options"], doc["suboptions"], label)


@pytest.mark.parametrize("name", MODULES)
def test_documentation_matches_argument_spec(name):
    module = load(name)
    doc, options = documented_options(module)
    assert doc["module"] == name
    assert str(doc["version_added"]) == "0.1.0"
    spec = connection_argument_spec()
    spec.update(module.argument_spec())
    compare(spec, options, name)


@pytest.mark.parametrize("name", MODULES)
def test_examples_and_return_are_yaml(name):
    module = load(name)
    examples = yaml.safe_load(module.EXAMPLES)
    assert examples and any("alicloud.rollout.%s" % name in task for task in examples)
    assert all(task.get("name") for task in examples)
    returned = yaml.safe_load(module.RETURN)
    for key, value in returned.items():
        assert value.get("description") and value.get("returned") and value.get("type"), key


def test_secrets_are_no_log():
    spec = connection_argument_spec()
    assert spec["access_key_secret"]["no_log"] is True
    assert spec["security_token"]["no_log"] is True
