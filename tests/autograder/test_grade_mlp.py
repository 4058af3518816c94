"""Assignment 4 graded end to end: the network stays in the sandbox, the checks read its weights.

A PyTorch and a Keras solution both pass; a network with tanh hidden units (whose
``predict_proba`` is consistent with itself) has the right shape but fails the accuracy check,
because the grader recomputes the forward pass of the specified ReLU network from the weights.
"""

import nbformat
import pytest

from autograder import authoring, grade, release

pytestmark = pytest.mark.slow

KERAS = """
import keras


def build_and_train(X_train, y_train, X_val, y_val, epochs):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((X_train.shape[1],)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    stop = keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)
    model.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=epochs, batch_size=32,
              verbose=0, callbacks=[stop])
    return model


def predict_proba(model, X):
    return model.predict(X, verbose=0).ravel()
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("a4")
    course, subs = root / "course", root / "submitted"
    folder = release.main(assignment="a4_mlp", course=course)
    released = nbformat.read(folder / "a4_mlp.ipynb", as_version=4)
    source = nbformat.read(course / "source" / "a4_mlp" / "a4_mlp.ipynb", as_version=4)
    solution = authoring.solutions(source)
    tanh = solution["model"].replace("torch.nn.ReLU()", "torch.nn.Tanh()")
    assert tanh != solution["model"]
    for student, model in (("torch", solution["model"]), ("keras", KERAS), ("tanh", tanh)):
        nb = authoring.submission(released, {"model": model})
        (subs / student / "a4_mlp").mkdir(parents=True)
        nbformat.write(nb, subs / student / "a4_mlp" / "a4_mlp.ipynb")
    results = grade.main(
        assignment="a4_mlp", submissions=subs, course=course, jobs=2, progress=lambda *a: None
    )
    return course, {r.student_id: r for r in results}


@pytest.mark.parametrize("student", ["torch", "keras"])
def test_a_network_to_the_spec_passes_in_either_framework(graded, student):
    result = graded[1][student]
    assert result.scores["test-architecture"] == 2 and result.scores["test-accuracy"] == 4, result
    # the review answers wait for a person: pending, not 0
    assert all(result.scores[q] is None for q in ("q1", "q2", "q3", "q4"))
    assert result.pending == ["q1", "q2", "q3", "q4"] and result.score == 6


def test_the_accuracy_check_recomputes_the_specified_network_from_its_weights(graded):
    course, results = graded
    tanh = results["tanh"]
    assert tanh.scores["test-architecture"] == 2 and tanh.scores["test-accuracy"] == 0
    nb = nbformat.read(course / "autograded" / "tanh" / "a4_mlp" / "a4_mlp.ipynb", as_version=4)
    [cell] = [c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == "test-accuracy"]
    assert "does not match the network's own weights" in cell.outputs[0]["evalue"]


def test_needs_manual_grade_is_true_exactly_for_the_questions_nobody_graded(graded):
    from nbgrader.api import Gradebook

    course = graded[0]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="default_course") as gb:
        for student in ("torch", "keras", "tanh"):
            [nb] = gb.find_submission("a4_mlp", student).notebooks
            flags = {g.name: g.needs_manual_grade for g in nb.grades}
            assert flags == {
                "test-architecture": False,
                "test-accuracy": False,
                "q1": True,
                "q2": True,
                "q3": True,
                "q4": True,
            }, (student, flags)


def test_hand_graded_scores_reach_csv_feedback_and_report_without_regrading(graded, tmp_path):
    """Scores entered through nbgrader's API (as formgrader does) are shown everywhere next run."""
    import csv

    from nbgrader.api import Gradebook

    from autograder import feedback, report

    course = graded[0]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="default_course") as gb:
        for q, points in {"q1": 2, "q2": 2, "q3": 1.5, "q4": 2}.items():
            cell = gb.find_grade(q, "a4_mlp", "a4_mlp", "torch")
            cell.manual_score = points
            cell.needs_manual_grade = False
        comment = gb.find_comment("q3", "a4_mlp", "a4_mlp", "torch")
        comment.manual_comment = "Say why a plateau slows SGD down."
        gb.db.commit()
    regraded = []
    rows_path = tmp_path / "grades.csv"
    grades = grade.main(
        assignment="a4_mlp",
        course=course,
        submissions=course.parent / "submitted",
        csv_path=rows_path,
        progress=lambda n, t, g: regraded.append(g.student_id),
    )
    assert regraded == []  # nothing changed: nobody is regraded
    torch_grade = next(g for g in grades if g.student_id == "torch")
    assert torch_grade.score == 13.5 and torch_grade.pending == []
    rows = {r["student_id"]: r for r in csv.DictReader(rows_path.open())}
    assert float(rows["torch"]["score"]) == 13.5 and float(rows["torch"]["manual_score"]) == 7.5
    assert rows["keras"]["q1"] == "pending" and float(rows["keras"]["score"]) == 6
    assert "manual grading pending: q1, q2, q3, q4" in rows["keras"]["reason"]
    feedback.main(assignment="a4_mlp", course=course)
    page = (course / "feedback" / "torch" / "a4_mlp" / "feedback.html").read_text()
    assert "13.5 of 14 points" in page and "Say why a plateau slows SGD down." in page
    other = (course / "feedback" / "keras" / "a4_mlp" / "feedback.html").read_text()
    assert "6 of 14 points" in other and "to be graded by hand" in other
    text = (report.main(assignment="a4_mlp", course=course) / "report.md").read_text()
    q3 = next(line for line in text.splitlines() if line.startswith("| q3 |"))
    # graded by hand for one student (1.5 of 2), pending for the other two: kept apart
    assert [c.strip() for c in q3.split("|")[3:7]] == ["1", "2", "1.50", "75%"], q3
