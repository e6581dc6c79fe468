#!/bin/sh
# Print the path of the first working Python among the versions given, in the order given (newest first), looked
# for the way a developer's machine has them: pythonX.Y on PATH, pyenv's versions, the usual system folders.
# Usage: find_python.sh 3.13 3.12   -> /root/.pyenv/versions/3.13.0/bin/python3.13 (exit 1 when none is found)
works() {
    # A pyenv shim for a version that is installed but not selected exists on PATH and fails: run it to be sure.
    # A virtualenv's Python (an activated venv, or this checkout's .venv on make's PATH) is not a base to build on.
    [ -n "$1" ] && [ -x "$1" ] && [ "$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2] if sys.prefix == sys.base_prefix else "venv")' 2>/dev/null)" = "$2" ]
}
pyenv_root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
for version in "$@"; do
    for candidate in "$(command -v "python$version" 2>/dev/null)" \
            $(ls -d "$pyenv_root"/versions/"$version".* 2>/dev/null | sort -t. -k3,3nr | sed "s|\$|/bin/python$version|") \
            "/usr/local/bin/python$version" "/usr/bin/python$version" "/opt/homebrew/bin/python$version" \
            "$(command -v python3 2>/dev/null)"; do
        if works "$candidate" "$version"; then
            echo "$candidate"
            exit 0
        fi
    done
done
exit 1
