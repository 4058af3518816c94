"""The grading core: a batch of submissions through named steps to the gradebook.

``grade`` (plan, pool, record) hands typed tasks (``worker.GradeTask``) to a pool of workers
(``pool``, or the Dask cluster: ``cluster``); each worker runs the named steps (``steps/``:
repair, the sandboxed execution) and returns typed records (``records``); the gradebook
(``gradebook``) is the one truth every score is read from, with the late policy
(``deadlines``) applied when read; ``state`` keeps the grader's own records and secret.
It never imports the term tools (``autograder.term``), which build on it.
"""
