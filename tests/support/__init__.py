"""Test support shared by every suite (emulator, unit, integration): one place for the constants of the default
world, the readers of the emulator's state and the two ways to run a module against the emulator.

- ``support.cloud``: the default world's ids, world builders, state and call-log readers.
- ``support.inprocess``: a module's main() in this process (real HTTP, real signed requests), about 1 s a run.
- ``support.playbook``: a real ``ansible-playbook`` run, for what only a playbook shows.
- ``support.package``: the collection built and installed as Galaxy users get it.
- ``support.reliability``: the fault-matrix suite's recorder callback, TLS front and summary table.

``tests/conftest.py`` puts ``tests/`` on ``sys.path``, so tests import ``support.<module>``.
"""
