"""Run a collection module's main() in this process against the emulator (real HTTP, real signed requests),
the way ansible-playbook would run it, without the cost of a playbook (about 1 s a run instead of 3-5 s).
For scenarios that do not need to show anything only a playbook shows (callbacks, the role, AWX, module_defaults,
no_log in Ansible's output)."""
import contextlib
import importlib
import io
import json
import os
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings

from support.playbook import OUR_CONTENT

MODULES = "ansible_collections.alicloud.rollout.plugins.modules."
COLLECTION_PREFIX = "alicloud.rollout."
# Modules that wait: a short poll interval tracks the fast emulator (as support.playbook does).
POLLING_MODULES = ("ess_rolling_update", "oos_execution_info", "oos_execution", "ess_instance_refresh")
POLL_INTERVAL = 0.25
# Task keywords run_tasks understands; anything else in a task is a mistake in the test.
TASK_KEYWORDS = ("name", "check_mode", "diff", "environment")


def module_env(emulator, account="admin", env=None):
    """The environment a module sees: the emulator's endpoint and the account's keys, nothing from the host;
    ``env`` entries override (None removes one), like a task's ``environment``."""
    result = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ALICLOUD_", "ALIBABA_CLOUD_")))
    result.update(emulator.admin_env(account))
    result["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    result["ALICLOUD_RETRY_MAX_DELAY"] = "0.2"
    for name, value in (env or {}).items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def run_module(emulator, name, args, check=False, diff=False, account="admin", env=None, poll_interval=POLL_INTERVAL):
    """The module's result dict (``failed`` set when it failed); ``warnings`` as the module reported them.
    A waiting module gets ``poll_interval`` (0.25 s) unless ``args`` say otherwise, carry a wait_hint (whose
    adaptive wait is what is tested then) or ``poll_interval`` is None (the adaptive poll policy)."""
    module = importlib.import_module(MODULES + name)
    args = dict(args)
    if name in POLLING_MODULES and "wait_hint" not in args and poll_interval is not None:
        args.setdefault("poll_interval", poll_interval)
    payload = dict(args, _ansible_check_mode=check, _ansible_diff=diff, _ansible_remote_tmp="/tmp",
                   _ansible_keep_remote_files=False, _ansible_tmpdir=None)
    buffer = json.dumps({"ANSIBLE_MODULE_ARGS": payload}).encode()
    patches = [mock.patch.object(basic, "_ANSIBLE_ARGS", buffer)]
    if hasattr(basic, "_ANSIBLE_PROFILE"):  # ansible-core >= 2.19
        patches.append(mock.patch.object(basic, "_ANSIBLE_PROFILE", "legacy"))
    if hasattr(basic, "_PARSED_MODULE_ARGS"):
        patches.append(mock.patch.object(basic, "_PARSED_MODULE_ARGS", None))
    out = io.StringIO()
    # module.warn() and deprecate() collect in module-level globals that a module's own process starts empty:
    # without this, one run's warnings would show up again in every later run of the test session.
    ansible_warnings._global_warnings.clear()
    ansible_warnings._global_deprecations.clear()
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        stack.enter_context(mock.patch.dict(os.environ, module_env(emulator, account, env), clear=True))
        stack.enter_context(contextlib.redirect_stdout(out))
        try:
            module.main()
        except SystemExit:
            pass
    text = out.getvalue()
    result = json.loads(text[text.find("{"):])
    result["warnings"] = [_text(w) for w in result.get("warnings") or []]
    # What the playbook suites' no-warnings check (tests/integration/conftest.py) would catch in a playbook's log.
    about_us = [w for w in result["warnings"] if OUR_CONTENT.search(w)]
    about_us += [_text(d) for d in result.get("deprecations") or []]
    assert about_us == [], "warnings about our content: %s" % about_us
    return result


def run_tasks(emulator, tasks, check=False, diff=False, account="admin", env=None, poll_interval=POLL_INTERVAL):
    """The in-process counterpart of support.playbook.run_tasks: the same task dicts ({"alicloud.rollout.<module>":
    args} with optional ``check_mode``, ``diff`` and ``environment``), run one after another; returns every
    result, failures included (each task of a results play has ignore_errors)."""
    results = []
    for task in tasks:
        modules = [key for key in task if key not in TASK_KEYWORDS]
        assert len(modules) == 1 and modules[0].startswith(COLLECTION_PREFIX), task
        name = modules[0][len(COLLECTION_PREFIX):]
        task_env = dict(env or {})
        task_env.update(task.get("environment") or {})
        results.append(run_module(emulator, name, task[modules[0]], check=task.get("check_mode", check),
                                  diff=task.get("diff", diff),
                                  account=account, env=task_env, poll_interval=poll_interval))
    return results


def _text(warning):
    """A warning as a string (ansible-core 2.19 returns structured warning summaries)."""
    if isinstance(warning, dict):
        event = warning.get("event") or warning
        return event.get("msg") or json.dumps(warning)
    return warning
