"""Assignment 2: backpropagation by hand on the lecture's 2-2-1 network (lesson 2).

``notebook.py``: the notebook source (jupytext, py:percent; ``release`` builds it);
``visible.py``: the checks students run (shipped in the generated ``coursecheck.py``);
``hidden.py``: the checks that run at grading, on each student's hidden inputs.
"""
