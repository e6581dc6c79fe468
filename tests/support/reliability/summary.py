"""The fault-matrix summary table, printed at the end of every pytest run that ran a reliability test.

Tests add to ``TOTALS``; ``install(config)`` registers a plugin whose ``pytest_terminal_summary`` prints the
table through the terminal reporter, so it shows with ``-q`` and without ``-rA``.
"""
import collections

ROWS = (
    ("faults injected", "faults_injected", None),
    ("rollouts completed", "rollouts_completed", None),
    ("executions created", "executions_created", None),
    ("bad inputs tried", "bad_inputs_tried", None),
    ("mutating calls on bad input", "mutating_calls_on_bad_input", 0),
    ("secret leaks found", "secret_leaks_found", 0),
)
TOTALS = collections.Counter()
PLUGIN_NAME = "alicloud-rollout-reliability-summary"


def add(**counts):
    for key, value in counts.items():
        TOTALS[key] += value


class _SummaryPlugin:
    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_sep("=", "reliability fault matrix (issue 6)")
        for label, key, required in ROWS:
            value = TOTALS.get(key, 0)
            verdict = ""
            if required is not None:
                verdict = "  ok (must be %d)" % required if value == required else "  FAIL (must be %d)" % required
            terminalreporter.write_line("%-32s %6d%s" % (label, value, verdict))


def install(config):
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(_SummaryPlugin(), PLUGIN_NAME)
