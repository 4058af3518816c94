"""Helpers the lessons use to show library code and figures (the book's only display glue).

- :func:`source` shows the source of a ``coursekit`` function or class, so the code the book
  prints is the code that runs, never a second copy.
- :func:`book_style` sets matplotlib defaults readable in the book's light and dark themes
  (figures get an opaque white background).
"""

from __future__ import annotations

import inspect

__all__ = ["book_style", "source"]


def source(obj):
    """The source code of ``obj`` as a syntax-highlighted IPython ``Code`` object."""
    from IPython.display import Code

    return Code(inspect.getsource(obj), language="python")


def book_style() -> None:
    """Matplotlib defaults for the book: white figure background, readable sizes, no clutter."""
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "axes.facecolor": "white",
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
        }
    )
