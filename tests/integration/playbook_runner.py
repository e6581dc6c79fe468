"""Moved to support.playbook (issue 14); kept so that branches written against the old path still import.
Remove once no test imports it."""
from support.playbook import (ANSIBLE_PLAYBOOK, COLLECTIONS, OUR_CONTENT, ROOT, PlaybookRun,  # noqa: F401
                              ansible_env, logged_warnings_about_our_content, mutating_calls, results_play,
                              run_playbook, run_tasks, warnings_about_our_content, write_playbook)
