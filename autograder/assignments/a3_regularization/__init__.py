"""Assignment 3: regularization and learning-rate schedules (lessons 4 and 5).

``notebook.py``: the notebook source (jupytext, py:percent; ``release`` builds it);
``visible.py``: the checks students run (shipped in the generated ``coursecheck.py``);
``hidden.py``: the checks that run at grading, on each student's hidden inputs.
"""
