"""Run `ansible-test sanity` (or `units`) on a copy of the collection laid out as ansible-test requires.

ansible-test must run from .../ansible_collections/<namespace>/<name>/, so the collection's files (what git
tracks or would track, minus the galaxy.yml build_ignore entries, which are not collection content) are
copied under build/ansible-test/. Usage: run_sanity.py ANSIBLE_TEST [sanity|units] [extra ansible-test args]
"""
import fnmatch
import os
import re
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))


def collection_files():
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.splitlines()
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        ignored = yaml.safe_load(handle).get("build_ignore", [])
    for path in listed:
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes for pattern in ignored):
            continue
        if os.path.isfile(os.path.join(ROOT, path)):
            yield path


def provide_pip_bootstrap(ansible_test):
    """ansible-test downloads a get-pip script from a host outside the package registries; give it ours."""
    package = subprocess.run([ansible_test.replace("ansible-test", "python"), "-c",
                              "import ansible_test, os; print(os.path.dirname(ansible_test.__file__))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(package, "_internal", "python_requirements.py")) as handle:
        versions = set(re.findall(r"pip='([0-9.]+)'", handle.read()))
    cache = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache, exist_ok=True)
    for version in versions:
        shutil.copy(os.path.join(HERE, "get_pip_standin.py"),
                    os.path.join(cache, "get_pip_%s.py" % version.replace(".", "_")))


def main():
    ansible_test, command, extra = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3:]
    version = subprocess.run([ansible_test, "--version"], check=True, capture_output=True,
                             text=True).stdout.split()[-1]
    # One folder per run, so that runs started at the same time (two ansible-core versions, two people) never
    # share a tree.
    base = os.path.join(ROOT, "build", "ansible-test", "%s-%d" % (version, os.getpid()))
    target = os.path.join(base, "ansible_collections", "alicloud", "rollout")
    for path in collection_files():
        os.makedirs(os.path.dirname(os.path.join(target, path)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, path), os.path.join(target, path))
    # The copy lives inside this checkout's ignored build/ folder: give it a repository of its own so that
    # ansible-test lists its files instead of the (empty) ignored set of the outer checkout.
    with open(os.path.join(target, ".gitignore"), "w") as handle:
        handle.write("tests/output/\n")
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    subprocess.run(["git", "add", "-A"], cwd=target, check=True)
    provide_pip_bootstrap(ansible_test)
    # The controller Python is the one of ansible-test's own venv (2.16 runs on Python <= 3.12, 2.21 on >= 3.12),
    # found by ansible-test as pythonX.Y on PATH: that venv's bin comes first, ahead of any pyenv shim.
    venv_bin = os.path.dirname(ansible_test)
    python = subprocess.run([os.path.join(venv_bin, "python"), "-c",
                             "import sys; print('%d.%d' % sys.version_info[:2])"],
                            check=True, capture_output=True, text=True).stdout.strip()
    env = dict(os.environ, PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""))
    print("ansible-test %s %s (ansible-core %s, Python %s)" % (command, " ".join(extra), version, python), flush=True)
    try:
        result = subprocess.run([ansible_test, command, "--venv", "--python", python] + extra, cwd=target,
                                env=env, check=False)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
