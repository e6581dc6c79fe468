"""What ansible-test sanity (validate-modules) does not check in the modules' documentation, for every module.

validate-modules compares DOCUMENTATION with the argument spec (types, defaults, choices, elements, aliases,
required, suboptions, fragments) and RETURN's schema for all modules; this file once repeated that for 4 of them.
What stays here is ours: the shared fragment and action group, usable EXAMPLES, secrets never logged."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os

import pytest
import yaml

from ansible_collections.alicloud.rollout.plugins.module_utils.client import connection_argument_spec

MODULES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules")
MODULES = sorted(name[:-3] for name in os.listdir(MODULES_DIR) if name.endswith(".py") and not name.startswith("_"))


def load(name):
    return importlib.import_module("ansible_collections.alicloud.rollout.plugins.modules.%s" % name)


def test_every_module_is_checked():
    assert "ess_rolling_update" in MODULES and len(MODULES) >= 9


@pytest.mark.parametrize("name", MODULES)
def test_connection_fragment_and_action_group(name):
    doc = yaml.safe_load(load(name).DOCUMENTATION)
    assert doc["module"] == name
    assert "alicloud.rollout.connection" in doc["extends_documentation_fragment"]
    assert doc["attributes"]["action_group"]["membership"] == ["alicloud.rollout.alicloud"]


@pytest.mark.parametrize("name", MODULES)
def test_examples_are_named_tasks_that_use_the_module(name):
    examples = yaml.safe_load(load(name).EXAMPLES)
    assert examples and any("alicloud.rollout.%s" % name in task for task in examples)
    assert all(task.get("name") for task in examples)


def test_secrets_are_no_log():
    spec = connection_argument_spec()
    assert spec["access_key_secret"]["no_log"] is True
    assert spec["security_token"]["no_log"] is True
