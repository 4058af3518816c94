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
    assert result.cells["test-architecture"] == 2 and result.cells["test-accuracy"] == 4, result
    # the review answers were left as released: nbgrader scores an unchanged answer 0
    assert all(result.cells[q] == 0 for q in ("q1", "q2", "q3", "q4"))


def test_the_accuracy_check_recomputes_the_specified_network_from_its_weights(graded):
    course, results = graded
    tanh = results["tanh"]
    assert tanh.cells["test-architecture"] == 2 and tanh.cells["test-accuracy"] == 0
    nb = nbformat.read(course / "autograded" / "tanh" / "a4_mlp" / "a4_mlp.ipynb", as_version=4)
    [cell] = [c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == "test-accuracy"]
    assert "does not match the network's own weights" in cell.outputs[0]["evalue"]
