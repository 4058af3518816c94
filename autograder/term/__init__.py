"""The term tools around grading: roster, release and handout, extensions, collect, feedback,
report, formgrade, similarity, export and delivery, with their commands in ``term_cli``.

Each is one module with a typed ``main(*, ...)``; they may import the grading core
(``autograder.grading``), never the other way round.
"""
