"""Instructor tooling built on nbgrader 0.9.6 (release, grade, feedback, report, check)."""
