"""Steps of grading one submission that nbgrader does not have, one per file.

The error outputs the trusted grader writes on test cells are named here, so that the step
that writes them (``sandboxed_execute``), the batch that names the limits a student hit
(``grade``) and the feedback that shows their messages (``feedback``) agree. Their messages
say what was checked, never an expected value or hidden code.
"""

TIMEOUT = "GradingTimeout"  # a cell or check over its time, or the notebook over its own
DIED = "SubmissionDied"  # the sandbox's process ended (crash, os._exit, CPU limit, ...)
NOT_RUN = "NotRun"  # the notebook's time ran out before this cell
FAILED = "CheckFailed"  # a hidden check's verdict
MEMORY = "MemoryLimit"  # a graded function hit the memory limit
