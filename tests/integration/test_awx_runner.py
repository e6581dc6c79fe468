"""A job run the way AWX runs it: ansible-runner, credentials injected from the shipped credential type.

The injection follows AWX's CredentialType.inject_credential for custom types: the injector templates are
rendered in a Jinja2 sandbox with the inputs that have a value; env injectors become the job's environment;
extra_vars injectors are written to a private file under <private_data_dir>/env and passed as `-e @file`.
The job runs the playbook documented in docs/awx.md against the emulator.
"""
import json
import os
import re
import stat
import sys
import tempfile

import ansible_runner
import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from support.cloud import GROUP, NEW_IMAGE, group_state

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CREDENTIAL_TYPE = os.path.join(ROOT, "extensions", "awx", "credential_type.yml")
AWX_DOC = os.path.join(ROOT, "docs", "awx.md")
COLLECTIONS = os.path.join(ROOT, "build", "collections")
ROLE_ARN = "acs:ram::1234567890123456:role/rollout-operator"
STS_VERSION = "2015-04-01"
JOB_TIMEOUT_S = 180


def load_credential_type():
    with open(CREDENTIAL_TYPE) as handle:
        return yaml.safe_load(handle)


def documented_playbook():
    """The job template playbook from docs/awx.md (the first YAML block with module_defaults)."""
    with open(AWX_DOC) as handle:
        blocks = re.findall(r"```yaml\n(.*?)```", handle.read(), re.S)
    for block in blocks:
        if "module_defaults" in block:
            return yaml.safe_load(block)
    raise AssertionError("docs/awx.md has no playbook with module_defaults")


def inject_like_awx(credential_type, inputs, private_data_dir):
    """Return (env, command-line args) as AWX builds them for a credential of a custom type."""
    injectors = credential_type["injectors"]
    assert set(injectors) <= {"env", "extra_vars"}, "file injectors are not emulated here"
    sandbox = ImmutableSandboxedEnvironment()
    namespace = {name: value for name, value in inputs.items() if value}
    env = {name: sandbox.from_string(template).render(**namespace)
           for name, template in injectors.get("env", {}).items()}
    args = []
    extra_vars = {name: sandbox.from_string(template).render(**namespace)
                  for name, template in injectors.get("extra_vars", {}).items()}
    if extra_vars:
        handle, path = tempfile.mkstemp(dir=os.path.join(private_data_dir, "env"))
        with os.fdopen(handle, "w") as extra_vars_file:
            extra_vars_file.write(yaml.safe_dump(extra_vars))
        os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)
        args = ["-e", "@%s" % path]
    return env, args


def run_job(emulator, private_data_dir, credential_type, inputs, job_extra_vars):
    """One AWX-style job; returns the runner and the artifact directory."""
    os.makedirs(os.path.join(private_data_dir, "env"))
    os.makedirs(os.path.join(private_data_dir, "project"))
    os.makedirs(os.path.join(private_data_dir, "inventory"))
    with open(os.path.join(private_data_dir, "project", "rollout.yml"), "w") as handle:
        handle.write(yaml.safe_dump(documented_playbook(), sort_keys=False))
    with open(os.path.join(private_data_dir, "inventory", "hosts"), "w") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    env, args = inject_like_awx(credential_type, inputs, private_data_dir)
    env.update({
        "ALICLOUD_ENDPOINT_URL": emulator.url,  # the only addition to what AWX injects: the emulator
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
    })
    runner = ansible_runner.run(
        private_data_dir=private_data_dir, playbook="rollout.yml", ident="job", envvars=env,
        extravars=job_extra_vars, cmdline=" ".join(args), suppress_env_files=True, quiet=True,
        timeout=JOB_TIMEOUT_S)
    return runner, os.path.join(private_data_dir, "artifacts", "job")


def leaks(runner, artifact_dir, secrets):
    """Where any secret appears: job events (as AWX stores them), stdout, and every artifact file."""
    found = []
    for event in runner.events:
        text = json.dumps(event)
        found += ["event %s %s" % (event.get("counter"), event.get("event")) for s in secrets if s in text]
    stdout = runner.stdout.read()
    found += ["stdout" for s in secrets if s in stdout]
    for folder, _, files in os.walk(artifact_dir):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                content = handle.read()
            found += [os.path.relpath(path, artifact_dir) for s in secrets if s.encode() in content]
    return sorted(set(found))


@pytest.fixture
def awx_process_env(monkeypatch):
    """ansible-runner copies this process's environment into the job: only what AWX would give it."""
    for name in list(os.environ):
        if name.startswith(("ALICLOUD_", "ALIBABA_CLOUD_", "ANSIBLE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))


def sts_credentials(emulator):
    """Temporary credentials minted by the emulator's STS AssumeRole (signed with the admin account)."""
    body = emulator.call("AssumeRole", STS_VERSION, {"RoleArn": ROLE_ARN, "RoleSessionName": "awx-job",
                                                      "DurationSeconds": "3600"})["body"]
    return body["Credentials"]


def job_calls(emulator, since):
    return [c for c in emulator.calls(since=since) if c["product"] in ("oos", "ess")]


def test_credential_type_matches_the_documented_inputs():
    credential_type = load_credential_type()
    fields = {field["id"]: field for field in credential_type["inputs"]["fields"]}
    assert set(fields) == {"access_key_id", "access_key_secret", "security_token", "region", "role_arn"}
    assert {name for name, field in fields.items() if field.get("secret")} == {"access_key_secret",
                                                                               "security_token"}
    assert set(credential_type["inputs"]["required"]) == {"access_key_id", "access_key_secret", "region"}
    # AWX refuses injected variables whose names start with ANSIBLE_.
    assert not [name for name in credential_type["injectors"].get("env", {}) if name.startswith("ANSIBLE_")]
    # No secret field is rendered into the environment (runner copies it into artifacts/<job>/command).
    for template in credential_type["injectors"].get("env", {}).values():
        assert "access_key_secret" not in template and "security_token" not in template


def test_job_with_sts_credentials_succeeds_and_no_secret_reaches_events_or_artifacts(
        emulator, tmp_path, awx_process_env):
    credentials = sts_credentials(emulator)
    since = len(emulator.calls())
    inputs = {"access_key_id": credentials["AccessKeyId"], "access_key_secret": credentials["AccessKeySecret"],
              "security_token": credentials["SecurityToken"], "region": "cn-hangzhou", "role_arn": ""}
    runner, artifact_dir = run_job(emulator, str(tmp_path / "job"), load_credential_type(), inputs,
                                   {"scaling_group_id": GROUP, "image_id": NEW_IMAGE})

    assert runner.status == "successful", runner.stdout.read()
    assert runner.rc == 0
    assert {i["image_id"] for i in group_state(emulator)["instances"]} == {NEW_IMAGE}
    calls = job_calls(emulator, since)
    assert calls and {c["access_key_id"] for c in calls} == {credentials["AccessKeyId"]}
    assert any(c["action"] == "StartExecution" and c["status"] == 200 for c in calls)

    assert leaks(runner, artifact_dir, [credentials["AccessKeySecret"], credentials["SecurityToken"]]) == []


def test_job_with_role_arn_assumes_the_role_and_leaks_no_secret(emulator, tmp_path, awx_process_env):
    admin = emulator.account("admin")
    since = len(emulator.calls())
    inputs = {"access_key_id": admin["access_key_id"], "access_key_secret": admin["access_key_secret"],
              "security_token": "", "region": "cn-hangzhou", "role_arn": ROLE_ARN}
    runner, artifact_dir = run_job(emulator, str(tmp_path / "job"), load_credential_type(), inputs,
                                   {"scaling_group_id": GROUP, "image_id": NEW_IMAGE})

    assert runner.status == "successful", runner.stdout.read()
    assumed = [c for c in emulator.calls(since=since) if c["action"] == "AssumeRole"]
    assert assumed and assumed[0]["access_key_id"] == admin["access_key_id"] and assumed[0]["status"] == 200
    calls = job_calls(emulator, since)
    assert calls and all(c["access_key_id"].startswith("STS.") for c in calls)
    assert leaks(runner, artifact_dir, [admin["access_key_secret"]]) == []


def test_secrets_injected_as_environment_would_reach_the_runner_command_artifact(
        emulator, tmp_path, awx_process_env):
    """Why the credential type uses extra vars: the same job with env injectors leaks through runner."""
    env_style = {"injectors": {"env": {
        "ALICLOUD_ACCESS_KEY": "{{ access_key_id }}", "ALICLOUD_SECRET_KEY": "{{ access_key_secret }}",
        "ALICLOUD_SECURITY_TOKEN": "{{ security_token }}", "ALICLOUD_REGION": "{{ region }}"}}}
    readonly = emulator.account("readonly")
    inputs = {"access_key_id": readonly["access_key_id"], "access_key_secret": readonly["access_key_secret"],
              "region": "cn-hangzhou"}
    # The read-only account may not start a rollout: the job fails, but only after the modules read the env.
    since = len(emulator.calls())
    runner, artifact_dir = run_job(emulator, str(tmp_path / "job"), env_style, inputs,
                                   {"scaling_group_id": GROUP, "image_id": NEW_IMAGE})

    assert runner.status == "failed"
    assert {c["access_key_id"] for c in job_calls(emulator, since)} == {readonly["access_key_id"]}
    assert leaks(runner, artifact_dir, [readonly["access_key_secret"]]) == ["command"]
