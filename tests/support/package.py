"""Build the collection the way Galaxy users get it, and install it into a collections path of its own."""
import os
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
ANSIBLE_GALAXY = os.path.join(BIN, "ansible-galaxy")
COMMAND_TIMEOUT_S = 180


def isolated_ansible_env(collections_path, **extra):
    """Ansible sees only `collections_path`: not this checkout, ~/.ansible/collections, or site-packages."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("ANSIBLE_", "ALICLOUD_", "ALIBABA_CLOUD_"))}
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
    })
    env.update(extra)
    return env


def run(command, **kwargs):
    kwargs.setdefault("timeout", COMMAND_TIMEOUT_S)
    process = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert process.returncode == 0, "%s failed (%d):\n%s\n%s" % (
        " ".join(map(str, command)), process.returncode, process.stdout, process.stderr)
    return process


def build_collection(output_dir):
    """`ansible-galaxy collection build` of this checkout; returns the tarball's path."""
    run([ANSIBLE_GALAXY, "collection", "build", ROOT, "--output-path", str(output_dir), "--force"],
        cwd=str(output_dir))
    tarballs = [name for name in os.listdir(str(output_dir)) if name.endswith(".tar.gz")]
    assert len(tarballs) == 1, tarballs
    return os.path.join(str(output_dir), tarballs[0])


def tarball_files(tarball):
    with tarfile.open(tarball) as archive:
        return sorted(member.name for member in archive.getmembers() if member.isfile())


def install_collection(tarball, collections_path):
    """Install offline (the collection has no collection dependencies) into a fresh collections path."""
    run([ANSIBLE_GALAXY, "collection", "install", tarball, "-p", str(collections_path), "--no-deps"],
        env=isolated_ansible_env(collections_path), cwd=str(collections_path))
    return os.path.join(str(collections_path), "ansible_collections", "alicloud", "rollout")
