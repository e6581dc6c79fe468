"""`make galaxy-importer`: build the collection tarball and import it with galaxy-importer, as Galaxy does.

Settings: tests/galaxy-importer.cfg. Fails when the import fails, and also on any WARNING or ERROR line of the
import log (Galaxy shows those on the collection's import page: ansible-lint findings, metadata, docs problems).
"""
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
WORK = os.path.join(ROOT, "build", "galaxy-importer")


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", WORK],
                   check=True, stdout=subprocess.DEVNULL)
    tarball = [name for name in os.listdir(WORK) if name.endswith(".tar.gz")][0]
    env = dict(os.environ, GALAXY_IMPORTER_CONFIG=os.path.join(ROOT, "tests", "galaxy-importer.cfg"),
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    started = time.monotonic()
    process = subprocess.run([sys.executable, "-m", "galaxy_importer.main", tarball], cwd=WORK, env=env,
                             capture_output=True, text=True)
    log = process.stdout + process.stderr
    with open(os.path.join(WORK, "import.log"), "w") as handle:
        handle.write(log)
    findings = [line for line in log.splitlines() if line.startswith(("WARNING:", "ERROR:", "CRITICAL:"))]
    print("galaxy-importer %s: %s in %.0f s (log: build/galaxy-importer/import.log)"
          % (tarball, "import failed" if process.returncode else "imported", time.monotonic() - started))
    if process.returncode or findings or "Importer processing completed successfully" not in log:
        print(log if process.returncode else "\n".join(findings))
        sys.exit(1)


if __name__ == "__main__":
    main()
