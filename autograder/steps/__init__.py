"""Steps of grading one submission that nbgrader does not have, one per file."""
