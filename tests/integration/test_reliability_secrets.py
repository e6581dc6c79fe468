"""Issue 6, secrets: the AccessKey secret and the STS token never appear in task output at -vvvv, in error
messages or results, in the emulator's call log or its stderr, nor in ansible-runner job events and artifacts.

(The AWX credential-type injection itself is covered by test_awx_runner.py; here the secrets travel as module
options, task environment and extra vars, on success and on failure paths.)
"""
import json
import os
import sys

import ansible_runner
import pytest
import yaml

from support.reliability import summary
from support.reliability.common import (GROUP, account, crash_markers, leaks_in, rollout_executions, run_playbook,
                                        world, write_playbook)
from support.playbook import COLLECTIONS

KEY_ID = "LTAI5tRelSecrets0001"
SECRET = "reliab-SECRET-7f3a9c1e5b"
WRONG_SECRET = "reliab-WRONG-secret-4d2b8e"
ROLLOUT = "alicloud.rollout.ess_rolling_update"
RUNNER_TIMEOUT_S = 240


def secret_tasks(sts, expired):
    """Success and failure paths. Secrets only ever come from variables (an extra-vars file, as AWX passes them):
    ansible-core prints the source lines of a failing task, and at -vvv the shell command holding a task's
    `environment`, so a literal secret in a playbook or a secret in `environment:` is shown by Ansible itself."""
    by_option = {"access_key_id": KEY_ID, "access_key_secret": "{{ key_secret }}"}
    sts_option = {"access_key_id": sts["AccessKeyId"], "access_key_secret": "{{ sts_secret }}",
                  "security_token": "{{ sts_token }}"}
    return [
        {"name": "rollout with the secret as a module option",
         ROLLOUT: dict(by_option, scaling_group_id=GROUP, invoke_script="echo rolled", batch_number=2,
                       poll_interval=0.25), "register": "rollout"},
        {"name": "read it with STS credentials as options",
         "alicloud.rollout.oos_execution_info": dict(sts_option, execution_ids=["{{ rollout.execution_id }}"],
                                                     include_task_executions=True)},
        {"name": "credentials from module_defaults", "block": [
            {"alicloud.rollout.ess_scaling_group_info": {"scaling_group_id": GROUP}}],
         "module_defaults": {"group/alicloud.rollout.alicloud": by_option}},
        {"name": "expired token fails", "ignore_errors": True,
         "alicloud.rollout.ess_scaling_group_info": {
             "scaling_group_id": GROUP, "access_key_id": expired["AccessKeyId"],
             "access_key_secret": "{{ expired_secret }}", "security_token": "{{ expired_token }}"}},
        {"name": "wrong secret fails", "ignore_errors": True,
         ROLLOUT: {"scaling_group_id": GROUP, "invoke_script": "echo never", "access_key_id": KEY_ID,
                   "access_key_secret": "{{ wrong_secret }}"}},
        {"name": "token of another key fails", "ignore_errors": True,
         "alicloud.rollout.ess_scaling_processes": dict(by_option, scaling_group_id=GROUP, state="resumed",
                                                        security_token="{{ sts_token }}")},
    ]


@pytest.fixture
def secret_world(emulator, request):
    summary.install(request.config)
    emulator.load_world(world(extra_accounts=[account("secretive", KEY_ID, SECRET)]))
    sts = emulator.mint_sts_token()
    expired = emulator.mint_sts_token(expired=True)
    secrets = [SECRET, WRONG_SECRET, sts["AccessKeySecret"], sts["SecurityToken"], expired["AccessKeySecret"],
               expired["SecurityToken"]]
    extra_vars = {"key_secret": SECRET, "sts_secret": sts["AccessKeySecret"], "sts_token": sts["SecurityToken"],
                  "expired_secret": expired["AccessKeySecret"], "expired_token": expired["SecurityToken"],
                  "wrong_secret": WRONG_SECRET}
    return sts, expired, secrets, extra_vars


def emulator_evidence(emulator, emulator_process):
    raw_calls = emulator.session.get(emulator.url + "/_emulator/calls", timeout=30).text
    return {"emulator call log": raw_calls, "emulator stderr": emulator_process.stderr()}


def test_no_secret_at_vvvv_in_results_or_in_the_emulator(emulator, emulator_process, tmp_path, secret_world):
    sts, expired, secrets, extra_vars = secret_world
    tasks = secret_tasks(sts, expired)
    tasks.append({"name": "save results", "ansible.builtin.copy": {
        "dest": str(tmp_path / "results.json"),
        "content": "{{ {'rollout': rollout} | to_json }}"}})
    playbook = write_playbook(tmp_path / "secrets.yml", [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    vars_file = tmp_path / "secret-vars.yml"
    vars_file.write_text(yaml.safe_dump(extra_vars))
    # ansible-core 2.21 puts a module's `invocation` (its arguments) into results only with ANSIBLE_INJECT_INVOCATION;
    # earlier cores always do. With it, -vvvv shows every invocation on every core: the secrets must be masked.
    run = run_playbook(emulator, playbook, ["-vvvv", "-e", "@%s" % vars_file], cwd=tmp_path,
                       env={"ALIBABA_CLOUD_ACCESS_KEY_ID": None, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": None,
                            "ANSIBLE_INJECT_INVOCATION": "true"})
    texts = {"ansible-playbook -vvvv output": run.stdout + run.stderr,
             "registered results": (tmp_path / "results.json").read_text()}
    texts.update(emulator_evidence(emulator, emulator_process))
    found = leaks_in(texts, secrets)
    summary.add(secret_leaks_found=len(found))

    assert run.returncode == 0, run.stdout[-3000:]
    assert found == []
    assert crash_markers(run.stdout + run.stderr) == []
    output = run.stdout
    # The failure paths really ran and failed for the reason intended (so the scan covered error messages).
    for code in ("InvalidSecurityToken.Expired", "SignatureDoesNotMatch", "InvalidSecurityToken.MismatchWithAccessKey"):
        assert code in output, code
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output  # -vvvv shows the invocation, secrets masked
    [execution] = rollout_executions(emulator)
    assert execution["status"] == "Success"
    summary.add(rollouts_completed=1, executions_created=1)


def test_no_secret_in_ansible_runner_events_or_artifacts(emulator, emulator_process, tmp_path, secret_world,
                                                          monkeypatch):
    sts, expired, secrets, extra_vars = secret_world
    for name in list(os.environ):
        if name.startswith(("ALICLOUD_", "ALIBABA_CLOUD_", "ANSIBLE_")):
            monkeypatch.delenv(name)
    private = tmp_path / "job"
    for folder in ("project", "inventory", "env"):
        (private / folder).mkdir(parents=True)
    tasks = secret_tasks(sts, expired)
    write_playbook(private / "project" / "secrets.yml", [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    (private / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    env = {"ALICLOUD_ENDPOINT_URL": emulator.url, "ALICLOUD_REGION": "cn-hangzhou",
           "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS, "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    runner = ansible_runner.run(private_data_dir=str(private), playbook="secrets.yml", ident="job", envvars=env,
                                extravars=extra_vars, verbosity=4, quiet=True, timeout=RUNNER_TIMEOUT_S)
    artifacts = private / "artifacts" / "job"
    texts = {"runner events": json.dumps(list(runner.events), default=str)}
    for path in artifacts.rglob("*"):
        if path.is_file():
            texts["artifact " + str(path.relative_to(artifacts))] = path.read_text(errors="replace")
    texts.update(emulator_evidence(emulator, emulator_process))
    found = leaks_in(texts, secrets)
    summary.add(secret_leaks_found=len(found))

    assert runner.status == "successful", runner.stdout.read()[-3000:]
    assert found == []
    assert any(name.startswith("artifact job_events") for name in texts)
    summary.add(rollouts_completed=1, executions_created=1)
