"""The code that runs inside the sandbox: the only folder of the grader mounted there.

``enter.py`` binds this folder, read-only, at ``/harness``; the harness (``harness.py``) runs
the submission and imports its siblings by bare name: ``wire`` (the message framing, which the
grader's side imports from here too, so it is written once) and ``models`` (a model's weights).
Everything here is untrusted once a submission runs, imports nothing from ``autograder`` outside
this folder and nothing from ``coursekit``, and needs only the standard library and numpy.
"""
