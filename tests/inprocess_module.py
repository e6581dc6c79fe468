"""Run a collection module's main() in this process against the emulator (real HTTP, real signed requests),
the way ansible-playbook would run it, without the cost of a playbook. For scenarios that do not need to show
anything only a playbook shows (callbacks, the role, AWX)."""
import contextlib
import importlib
import io
import json
import os
from unittest import mock

from ansible.module_utils import basic

MODULES = "ansible_collections.alicloud.rollout.plugins.modules."
# Modules that wait: a short poll interval tracks the fast emulator (as playbook_runner does).
POLLING_MODULES = ("ess_rolling_update", "oos_execution_info", "oos_execution", "ess_instance_refresh")
POLL_INTERVAL = 0.25


def module_env(emulator, account="admin"):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ALICLOUD_", "ALIBABA_CLOUD_")))
    env.update(emulator.admin_env(account))
    env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    env["ALICLOUD_RETRY_MAX_DELAY"] = "0.2"
    return env


def run_module(emulator, name, args, check=False, diff=False, account="admin"):
    """The module's result dict (``failed`` set when it failed); ``warnings`` as the module reported them.
    A waiting module gets poll_interval 0.25 unless ``args`` say otherwise or carry a wait_hint (whose adaptive
    wait is what is tested then)."""
    module = importlib.import_module(MODULES + name)
    args = dict(args)
    if name in POLLING_MODULES and "wait_hint" not in args:
        args.setdefault("poll_interval", POLL_INTERVAL)
    payload = dict(args, _ansible_check_mode=check, _ansible_diff=diff, _ansible_remote_tmp="/tmp",
                   _ansible_keep_remote_files=False, _ansible_tmpdir=None)
    buffer = json.dumps({"ANSIBLE_MODULE_ARGS": payload}).encode()
    patches = [mock.patch.object(basic, "_ANSIBLE_ARGS", buffer)]
    if hasattr(basic, "_ANSIBLE_PROFILE"):  # ansible-core >= 2.19
        patches.append(mock.patch.object(basic, "_ANSIBLE_PROFILE", "legacy"))
    if hasattr(basic, "_PARSED_MODULE_ARGS"):
        patches.append(mock.patch.object(basic, "_PARSED_MODULE_ARGS", None))
    out = io.StringIO()
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        stack.enter_context(mock.patch.dict(os.environ, module_env(emulator, account), clear=True))
        stack.enter_context(contextlib.redirect_stdout(out))
        try:
            module.main()
        except SystemExit:
            pass
    text = out.getvalue()
    result = json.loads(text[text.find("{"):])
    result["warnings"] = [_text(w) for w in result.get("warnings") or []]
    return result


def _text(warning):
    """A warning as a string (ansible-core 2.19 returns structured warning summaries)."""
    if isinstance(warning, dict):
        event = warning.get("event") or warning
        return event.get("msg") or json.dumps(warning)
    return warning
