"""Make `ansible_collections.alicloud.rollout` importable for the unit tests (see Makefile `collection`)."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

# --- The emulator fixtures (see tests/emulator_harness.py and tests/emulator/README.md) -------------------
import pytest  # noqa: E402

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from emulator_harness import EmulatorClient, EmulatorProcess  # noqa: E402


@pytest.fixture(scope="session")
def emulator_process():
    """One `alicloud-emulator serve --port 0 --speed 600` process for the whole session; killed at the end."""
    process = EmulatorProcess.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def emulator(emulator_process):
    """The shared emulator, reset to a fresh default world (faults and call log cleared) for this test."""
    client = EmulatorClient(emulator_process.url)
    client.load_world()
    yield client
    client.session.close()
