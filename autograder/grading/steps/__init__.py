"""Steps of grading one submission that nbgrader does not have, one job per file.

- :mod:`~autograder.grading.steps.repair`: restore what a submission may not change;
- :mod:`~autograder.grading.steps.sandboxed_execute`: the nbgrader preprocessor that runs the
  submission in a sandbox and decides every check outside it, composed of
- :mod:`~autograder.grading.steps.analysis` (what the source notebook says),
- :mod:`~autograder.grading.steps.remote` (the sandbox's client: the student's functions as
  a hidden check calls them) and
- :mod:`~autograder.grading.steps.verdicts` (each check's kind, from what the grader observed).

The error names written on test cells are the kinds' own
(:attr:`autograder.grading.records.Kind.ename`), so the step, the CSV and feedback agree.
"""
