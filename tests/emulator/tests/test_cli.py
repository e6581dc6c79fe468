"""`alicloud-emulator serve`: start, `listening on`, flags, clean shutdown on SIGTERM/SIGINT."""
import signal
import subprocess

import pytest
import requests

from emulator_harness import DEFAULT_WORLD, EmulatorProcess, emulator_command


def test_serve_prints_listening_line_and_stops_on_sigterm():
    process = EmulatorProcess.start(speed=None)
    try:
        assert process.url.startswith("http://127.0.0.1:")
        health = requests.get(process.url + "/_emulator/health", timeout=10).json()
        assert health["speed"] == 60  # the default world's speed, no --speed given
        assert health["run_commands"] is True
    finally:
        assert process.stop() == 0


def test_speed_and_no_exec_flags():
    process = EmulatorProcess.start(speed=250, extra_args=["--no-exec"])
    try:
        health = requests.get(process.url + "/_emulator/health", timeout=10).json()
        assert health["speed"] == 250 and health["run_commands"] is False
    finally:
        process.stop()


def test_sigint_also_stops_cleanly():
    process = EmulatorProcess.start()
    process.proc.send_signal(signal.SIGINT)
    assert process.proc.wait(timeout=10) == 0


def test_json_world_file(tmp_path):
    import json
    import yaml
    world = tmp_path / "world.json"
    world.write_text(json.dumps(yaml.safe_load(DEFAULT_WORLD.read_text())))
    process = EmulatorProcess.start(world=world)
    try:
        assert requests.get(process.url + "/_emulator/health", timeout=10).status_code == 200
    finally:
        process.stop()


def test_bad_world_file_exits_with_a_message(tmp_path):
    world = tmp_path / "bad.yml"
    world.write_text("accounts: [{name: x}]\n")
    result = subprocess.run(emulator_command() + ["serve", "--world", str(world), "--port", "0"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "access_key_id" in result.stderr
    assert "listening on" not in result.stdout


def test_missing_world_file_exits_with_a_message(tmp_path):
    result = subprocess.run(emulator_command() + ["serve", "--world", str(tmp_path / "none.yml")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "cannot load world" in result.stderr


def test_start_failure_is_reported_by_the_harness(tmp_path):
    with pytest.raises(RuntimeError) as raised:
        EmulatorProcess.start(world=tmp_path / "none.yml", timeout=10)
    assert "cannot load world" in str(raised.value)


def test_stdout_holds_exactly_the_listening_line():
    proc = subprocess.Popen(emulator_command() + ["serve", "--world", str(DEFAULT_WORLD), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("listening on http://127.0.0.1:")
        port = int(first.rsplit(":", 1)[1])
        assert port > 0
        assert requests.get("http://127.0.0.1:%d/_emulator/health" % port, timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert rest == ""
