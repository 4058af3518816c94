"""Assignment 4: an MLP to a given spec, trained to an accuracy (lesson 7).

``notebook.py``: the notebook source (jupytext, py:percent; ``release`` builds it);
``visible.py``: the checks students run (shipped in the generated ``coursecheck.py``);
``hidden.py``: the checks that run at grading, on each student's hidden inputs.
"""
