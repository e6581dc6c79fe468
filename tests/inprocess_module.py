"""Moved to support.inprocess (issue 14); kept so that branches written against the old path still import.
Remove once no test imports it."""
from support.inprocess import POLL_INTERVAL, POLLING_MODULES, module_env, run_module  # noqa: F401
