"""Preprocessor: drop stderr streams from graded cells before nbgrader scores them.

nbgrader 0.9.6 scores a test cell 0 when it printed anything to stderr, so an honest solution
that triggers a library warning (a DeprecationWarning, a TensorFlow log line) would lose the
points. A failed check is an *error* output, which this step keeps; only the stderr streams go.
"""

from nbconvert.preprocessors import Preprocessor


class DropStderr(Preprocessor):
    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            cell.outputs = [
                out
                for out in cell.get("outputs", [])
                if not (out.get("output_type") == "stream" and out.get("name") == "stderr")
            ]
        return cell, resources
