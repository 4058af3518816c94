"""Hand grading at class scale: one question across every student, with reusable rubric items.

``python -m autograder handgrade A`` serves a page (127.0.0.1, a token as formgrader has) that
shows one hand-graded question of assignment ``A`` with every student's answer (sanitised
markdown, a strict Content-Security-Policy), identical answers grouped, the rubric beside it and
keyboard navigation. A score is derived from the rubric items applied to an answer
(:mod:`~autograder.handgrade.scoring`) and written to nbgrader's gradebook as the cell's manual
score, so formgrader, ``export``, ``feedback`` and ``report`` show it.

The modules, one concept each:

- :mod:`~autograder.handgrade.records`: the typed records (rubric item, mark, audit entry,
  regrade request) and their JSON form;
- :mod:`~autograder.handgrade.store`: where they live (``COURSE/handgrade/A/``), written
  atomically under a lock, with the append-only audit log;
- :mod:`~autograder.handgrade.scoring`: the score of an answer from its rubric items;
- :mod:`~autograder.handgrade.answers`: the students' answers, rendered safely and grouped;
- :mod:`~autograder.handgrade.pseudonyms`: stable pseudonyms (HMAC with the course secret);
- :mod:`~autograder.handgrade.split`: the deterministic split of a question between graders;
- :mod:`~autograder.handgrade.roles`: who may take which action (the instructor; a TA in their
  share);
- :mod:`~autograder.handgrade.session`: every grading action, from the store to the gradebook;
- :mod:`~autograder.handgrade.server`: the page and its JSON API (token, anti-CSRF, CSP);
- :mod:`~autograder.handgrade.regrade`: ``regrade-request``;
- :mod:`~autograder.handgrade.analytics`: the per-question part of ``report``.
"""
