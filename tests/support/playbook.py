"""Run collection modules through a real `ansible-playbook` against the emulator and read their results.

A playbook run costs an ansible-playbook start (2-4 s of CPU): use it for what only a playbook shows (check and
diff through Ansible, module_defaults, no_log in the output, callbacks, the role, operator scenarios);
support.inprocess runs a module's main() in this process for everything else.
"""
import json
import os
import re
import subprocess
import sys

import yaml

from support.cloud import mutating_calls  # noqa: F401  (re-exported: tests import it with run_tasks)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
PLAYBOOK_TIMEOUT_S = 120
PLAY_TIMEOUT_S = 300
# Modules that wait and take a poll_interval option.
POLLING_MODULES = ("ess_rolling_update", "oos_execution_info", "oos_execution", "ess_instance_refresh")


# What a warning about our content mentions: the collection's name, a module or the role, or a file of this checkout.
# (The virtualenvs under ROOT hold Ansible itself, not our content.)
OUR_CONTENT = re.compile(r"alicloud[._]rollout|rolling_update|\b(ess|oos)_[a-z_]+|" + re.escape(ROOT) + r"/(?!\.venv)")
WARNING_START = re.compile(r"^\[(DEPRECATION )?WARNING\]|^(DEPRECATION )?WARNING:")
# Where a warning's text (which from ansible-core 2.19 on spans blank lines, an Origin and source lines) ends.
NEXT_OUTPUT = re.compile(r"^(\[|PLAY|TASK|RUNNING HANDLER|ok:|changed:|fatal:|failed:|skipping:|included:|"
                         r"\.\.\.ignoring|\*\*\*)")


def warnings_about_our_content(*outputs):
    """The warnings in ansible-playbook outputs (stdout, stderr; each warning with its continuation lines) that name
    our content."""
    blocks, current = [], None
    for line in "\n".join(output + "\n[end of output]" for output in outputs).splitlines():
        if WARNING_START.match(line):
            current = [line]
            blocks.append(current)
        elif current is not None and not NEXT_OUTPUT.match(line):
            current.append(line)
        else:
            current = None
    return ["\n".join(block).strip() for block in blocks if OUR_CONTENT.search("\n".join(block))]


LOG_ENTRY_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ p=\d+ u=\S+ n=\S+ (\| |\w+\| )?")


def logged_warnings_about_our_content(log_path):
    """The same for an ANSIBLE_LOG_PATH file: each entry starts with a timestamp, its text may span lines."""
    if not os.path.exists(str(log_path)):
        return []
    with open(str(log_path)) as handle:
        lines = [LOG_ENTRY_START.sub("", line.rstrip("\n")) if LOG_ENTRY_START.match(line)
                 else "\x00" + line.rstrip("\n") for line in handle]
    entries = []
    for line in lines:
        if line.startswith("\x00") and entries:
            entries[-1].append(line[1:])
        else:
            entries.append([line.lstrip("\x00")])
    return ["\n".join(entry) for entry in entries
            if WARNING_START.match(entry[0].strip()) and OUR_CONTENT.search("\n".join(entry))]


def ansible_env(emulator, account="admin", **overrides):
    env = dict(os.environ)
    # Only what the test says: no credentials, profiles or endpoints leak in from the host.
    for name in list(env):
        if name.startswith(("ALICLOUD_", "ALIBABA_CLOUD_")):
            del env[name]
    env.update(emulator.admin_env(account))
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
    })
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class PlaybookRun:
    def __init__(self, process, results):
        self.returncode = process.returncode
        self.stdout = process.stdout
        self.stderr = process.stderr
        self.results = results

    def __getitem__(self, index):
        return self.results[index]


def results_play(tasks, results_path, module_defaults=None):
    """One localhost play: ``tasks`` (dicts), each with ignore_errors and a register unless it says otherwise,
    then a task that saves every registered result, failures included, to ``results_path`` as a JSON list."""
    play_tasks = []
    registered = []
    for index, task in enumerate(tasks):
        task = dict(task)
        task.setdefault("ignore_errors", True)
        task.setdefault("register", "result_%d" % index)
        registered.append(task["register"])
        play_tasks.append(task)
    play_tasks.append({
        "name": "save results",
        "ansible.builtin.copy": {
            "content": "{{ [%s] | to_json }}" % ", ".join(registered),
            "dest": str(results_path),
        },
        "check_mode": False,
        "diff": False,
    })
    play = {"hosts": "localhost", "gather_facts": False, "tasks": play_tasks}
    if module_defaults:
        play["module_defaults"] = module_defaults
    return play


def run_tasks(emulator, tmp_path, tasks, check=False, diff=False, account="admin", env=None, poll_interval=0.25):
    """Run module tasks (dicts) in one play; return each task's registered result, failures included.

    ``poll_interval`` goes to every module through module_defaults so waits track the fast emulator
    (None keeps the adaptive poll policy).
    """
    results_path = tmp_path / "results.json"
    module_defaults = None
    if poll_interval is not None:
        # Per module: not every module of the action group takes poll_interval.
        module_defaults = dict(("alicloud.rollout.%s" % name, {"poll_interval": poll_interval})
                               for name in POLLING_MODULES)
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([results_play(tasks, results_path, module_defaults)], sort_keys=False))
    command = [ANSIBLE_PLAYBOOK, str(playbook)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    process = subprocess.run(command, env=ansible_env(emulator, account, **(env or {})), cwd=str(tmp_path),
                             capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT_S)
    assert process.returncode == 0, process.stdout + process.stderr
    return PlaybookRun(process, json.loads(results_path.read_text()))


def write_playbook(path, plays):
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return path


def run_playbook(emulator, playbook, extra_args=(), account="admin", env=None, cwd=None, timeout=PLAY_TIMEOUT_S):
    """ansible-playbook as a user runs it; returns the CompletedProcess (any exit code)."""
    command = [ANSIBLE_PLAYBOOK, str(playbook)] + list(extra_args)
    return subprocess.run(command, env=ansible_env(emulator, account, **(env or {})), cwd=str(cwd or ROOT),
                          capture_output=True, text=True, timeout=timeout)
