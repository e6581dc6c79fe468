"""Goal 3 (issue 7): what one oos_execution_info task costs next to a plain SDK script, as whole processes.

    python tests/bench/bench_overhead.py [--repetitions 7]

Four commands, run interleaved (A B C D A B C D ...) so that machine noise hits them alike, each timed
from spawn to exit:
- adhoc:  `ansible localhost -m alicloud.rollout.oos_execution_info -a execution_ids=<id>` (explicit interpreter,
          implicit localhost, so a local connection and no fact gathering)
- tuned:  the same with the controller settings docs/performance.md recommends on top: pipelining on, an
          explicit local connection, the module's result callback only (ANSIBLE_LOAD_CALLBACK_PLUGINS off)
- script: a plain Python script that imports the OOS SDK and makes the same ListExecutions call
- module: the module file run directly by Python with its arguments (what the module itself costs,
          without the Ansible controller), as `python plugins/modules/oos_execution_info.py args.json`
- ping:   `ansible localhost -m ansible.builtin.ping` (the controller's floor for any module task)
- playbook_1 / playbook_N: ansible-playbook with 1 and with 1 + EXTRA_TASKS oos_execution_info tasks; the
          difference divided by EXTRA_TASKS is what one more task costs inside a running playbook.
The ratio of medians adhoc/script is the issue's figure; module/script, (adhoc - ping) and the per-task
cost in a playbook show where the time goes.
"""
import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from bench_common import BIN, ROOT, EmulatorClient, EmulatorProcess, PACKAGE_TEMPLATE, median, subprocess_env

PLAIN_SCRIPT = '''\
import json, os, sys
from alibabacloud_oos20190601.client import Client
from alibabacloud_oos20190601 import models
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util import models as util_models

endpoint = os.environ["ALICLOUD_ENDPOINT_URL"]
config = open_api_models.Config(
    access_key_id=os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
    access_key_secret=os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
    region_id=os.environ["ALICLOUD_REGION"], endpoint=endpoint.split("://", 1)[1],
    protocol=endpoint.split("://", 1)[0])
client = Client(config)
request = models.ListExecutionsRequest(region_id=os.environ["ALICLOUD_REGION"], execution_id=sys.argv[1])
body = client.list_executions_with_options(request, util_models.RuntimeOptions()).body.to_map()
print(json.dumps(body["Executions"]))
'''


EXTRA_TASKS = 3


def _playbook(path, execution_id, tasks):
    import yaml
    play = {"hosts": "localhost", "gather_facts": False, "tasks": [
        {"alicloud.rollout.oos_execution_info": {"execution_ids": [execution_id]}} for _ in range(tasks)]}
    path.write_text(yaml.safe_dump([play]))
    return path


def _timed(command, env, cwd):
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=120)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError("%s failed (%s): %s %s" % (command[0], completed.returncode, completed.stdout[-800:],
                                                      completed.stderr[-800:]))
    return elapsed, completed.stdout


def run(repetitions=7):
    process = EmulatorProcess.start(speed=600)
    workdir = Path(tempfile.mkdtemp(prefix="alicloud-rollout-bench-overhead-"))
    try:
        emulator = EmulatorClient(process.url)
        emulator.load_world()
        oos = emulator.oos_client()
        from alibabacloud_oos20190601 import models
        group = emulator.world["scaling_groups"][0]["id"]
        started = oos.start_execution(models.StartExecutionRequest(
            region_id="cn-hangzhou", template_name=PACKAGE_TEMPLATE,
            parameters=json.dumps({"invokeType": "invoke", "scalingGroupId": group, "packageName": "nginx"})))
        execution_id = started.body.execution.execution_id

        script = workdir / "plain_list_executions.py"
        script.write_text(PLAIN_SCRIPT)
        args_file = workdir / "args.json"
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"execution_ids": [execution_id]}}))
        env = subprocess_env(emulator, {
            "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_PYTHON_INTERPRETER": str(BIN / "python"), "ANSIBLE_LOCAL_TEMP": str(workdir / "local-tmp"),
            "ANSIBLE_REMOTE_TMP": str(workdir / "remote-tmp"), "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        })
        module_env = dict(env, PYTHONPATH=str(ROOT / "build" / "collections"))
        tuned_env = dict(env, ANSIBLE_PIPELINING="True", ANSIBLE_LOAD_CALLBACK_PLUGINS="False",
                         ANSIBLE_DEPRECATION_WARNINGS="False")
        commands = {
            "adhoc": ([str(BIN / "ansible"), "localhost", "-m", "alicloud.rollout.oos_execution_info",
                       "-a", "execution_ids=%s" % execution_id], env),
            "tuned": ([str(BIN / "ansible"), "localhost", "-c", "local", "-m", "alicloud.rollout.oos_execution_info",
                       "-a", "execution_ids=%s" % execution_id], tuned_env),
            "script": ([str(BIN / "python"), str(script), execution_id], env),
            "module": ([str(BIN / "python"), str(ROOT / "plugins" / "modules" / "oos_execution_info.py"),
                        str(args_file)], module_env),
            "ping": ([str(BIN / "ansible"), "localhost", "-m", "ansible.builtin.ping"], env),
            "playbook_1": ([str(BIN / "ansible-playbook"), str(_playbook(workdir / "one.yml", execution_id, 1))], env),
            "playbook_N": ([str(BIN / "ansible-playbook"),
                            str(_playbook(workdir / "more.yml", execution_id, 1 + EXTRA_TASKS))], env),
        }
        # One untimed round warms the page cache and Ansible's caches, as any second run would find them.
        outputs = {name: _timed(command, cmd_env, str(workdir))[1] for name, (command, cmd_env) in commands.items()}
        if execution_id not in outputs["adhoc"] or execution_id not in outputs["script"] \
                or execution_id not in outputs["tuned"] \
                or execution_id not in outputs["module"]:
            raise RuntimeError("a command did not return the execution: %s" % outputs)
        times = {name: [] for name in commands}
        for _ in range(repetitions):
            for name, (command, cmd_env) in commands.items():
                times[name].append(_timed(command, cmd_env, str(workdir))[0])
    finally:
        process.stop()
    medians = {name: median(values) for name, values in times.items()}
    ratios = [a / s for a, s in zip(times["adhoc"], times["script"])]
    per_task = median([(n - one) / EXTRA_TASKS for n, one in zip(times["playbook_N"], times["playbook_1"])])
    return {
        "repetitions": repetitions,
        "median_s": {name: round(value, 3) for name, value in medians.items()},
        "adhoc_over_script": round(medians["adhoc"] / medians["script"], 3),
        "adhoc_over_script_pairwise_median": round(median(ratios), 3),
        "tuned_over_script": round(medians["tuned"] / medians["script"], 3),
        "module_over_script": round(medians["module"] / medians["script"], 3),
        "ansible_floor_s": round(medians["ping"], 3),
        "adhoc_minus_ping_s": round(medians["adhoc"] - medians["ping"], 3),
        "task_in_playbook_s": round(per_task, 3),
        "task_in_playbook_over_script": round(per_task / medians["script"], 3),
        "times_s": {name: [round(v, 3) for v in values] for name, values in times.items()},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=7)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.repetitions), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
