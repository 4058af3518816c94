"""Stage 5 of the term (``story``): similarity flags the planted copy and no pair of students
who share no cell's style."""

from __future__ import annotations

from tests.autograder.term.scenario.story import A, cli, styles_of


def test_similarity_flags_the_planted_copy_and_no_independent_pair(store, tmp_path):
    from autograder.term import similarity

    state = store.copy("graded", tmp_path)
    cli("similarity", A, "--course", str(state.course))
    found = similarity.main(assignment=A, course=state.course)
    planted = next(p for p in found.pairs if (p.student_a, p.student_b) == ("s01", "s26"))
    assert planted in found.flagged and planted.score > 0.9

    def shared_style(a, b):
        sa, sb = styles_of(int(a[1:])), styles_of(int(b[1:]))
        return any(x == y for x, y in zip(sa, sb, strict=True))

    # students who share cells may be flagged: s24 left the ROC cell blank, so all of its
    # answer code is in s06's
    for pair in found.flagged:
        if (pair.student_a, pair.student_b) != ("s01", "s26"):
            assert shared_style(pair.student_a, pair.student_b), pair
