"""Helpers of the reliability fault-matrix suite (tests/integration/test_reliability_*.py, issue 6)."""
