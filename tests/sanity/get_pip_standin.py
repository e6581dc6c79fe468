"""Stand-in for the get-pip bootstrap script ansible-test downloads from a host this machine cannot reach.

ansible-test runs it inside a fresh virtual environment created without pip, with pip's own install arguments.
"""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
                      stdout=subprocess.DEVNULL)
arguments = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + arguments)
