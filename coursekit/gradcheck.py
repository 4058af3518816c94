r"""Gradient checking by central finite differences, with a diagnosis (chapter 2).

For every scalar parameter :math:`\phi_j`

.. math:: \frac{\partial L}{\partial \phi_j} \approx \frac{L(\phi + \varepsilon e_j) - L(\phi - \varepsilon e_j)}{2\varepsilon}

whose error is :math:`O(\varepsilon^2)`. The analytic gradient of each parameter array is
compared with it by the relative error

.. math:: r = \frac{\lVert g_{\mathrm{analytic}} - g_{\mathrm{numeric}} \rVert}
                   {\max(\lVert g_{\mathrm{analytic}} \rVert + \lVert g_{\mathrm{numeric}} \rVert,\ 10^{-300})}

(about 1e-9 or less for a correct float64 gradient on a smooth loss). When they disagree,
the *pattern* of the disagreement usually names the bug; :func:`diagnose` looks for the
common ones: a constant factor equal to the batch size (sum vs mean), a sign flip, a
transposed matrix, and an error confined to the first layer (the activation derivative).

Finite differences straddle a kink: a ReLU input exactly at 0 (as for the lecture's input
(0, 0) with zero biases) gets the average of the two one-sided slopes, 0.5, which neither
framework convention uses. Check gradients at points away from kinks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from coursekit._params import (
    ArrayDict,
    ArrayLike,
    CallableConstraint,
    Integral,
    Interval,
    Real,
    result_record,
    validate_params,
)

_LOSS_FN = CallableConstraint("a callable loss_fn(params) -> float")
_EPS = Interval(Real, 0, None, closed="neither")
_TOL = Interval(Real, 0, None, closed="left")
_BATCH = [Interval(Integral, 1, None), None]

__all__ = ["GradCheckResult", "check_gradients", "diagnose", "numerical_gradient", "rel_error"]


@validate_params({"loss_fn": [_LOSS_FN], "params": [ArrayDict(finite=True)], "eps": [_EPS]})
def numerical_gradient(
    loss_fn: Callable[[dict[str, np.ndarray]], float],
    params: Mapping[str, np.ndarray],
    eps: float = 1e-6,
) -> dict[str, np.ndarray]:
    """Central finite-difference gradient of ``loss_fn`` at ``params``.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params) -> float`` taking a dict shaped like ``params``; it must return one
        finite number (an array of several values raises a ``ValueError`` saying so).
    params : dict of str -> ndarray
        Finite numbers. Left unmodified: the function perturbs private float64 copies.
    eps : float
        Step size; 1e-6 balances truncation and rounding error in float64.

    Returns
    -------
    dict of str -> ndarray
        Same keys and shapes as ``params``.
    """
    work = {name: np.array(value, dtype=np.float64, copy=True) for name, value in params.items()}
    grads = {}
    for name, value in work.items():
        grad = np.zeros_like(value)
        flat, gflat = value.reshape(-1), grad.reshape(-1)  # views into value / grad
        for j in range(flat.size):
            original = flat[j]
            flat[j] = original + eps
            plus = _scalar(loss_fn(work), name)
            flat[j] = original - eps
            minus = _scalar(loss_fn(work), name)
            flat[j] = original
            gflat[j] = (plus - minus) / (2.0 * eps)
        grads[name] = grad
    return grads


@validate_params({"a": [ArrayLike(numeric=True)], "b": [ArrayLike(numeric=True)]})
def rel_error(a, b) -> float:
    """Relative error ``||a - b|| / (||a|| + ||b||)``; 0.0 when both are zero.

    ``a`` and ``b`` must have the same shape (no broadcasting).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / max(denom, 1e-300))


@result_record
@dataclass
class GradCheckResult:
    """Outcome of :func:`check_gradients`.

    Attributes
    ----------
    relative_errors : dict of str -> float
        Per parameter, the relative error between analytic and numerical gradient.
    numerical : dict of str -> ndarray
        The finite-difference gradients.
    passed : bool
        True when every relative error is at most ``tol``.
    diagnosis : list of str
        Likely bugs named from the error pattern (empty when ``passed``).
    """

    relative_errors: dict[str, float]
    numerical: dict[str, np.ndarray]
    tol: float
    diagnosis: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(err <= self.tol for err in self.relative_errors.values())

    def __str__(self) -> str:
        lines = [f"{name}: relative error {err:.2e}" for name, err in self.relative_errors.items()]
        lines.append("PASSED" if self.passed else "FAILED: " + " ".join(self.diagnosis))
        return "\n".join(lines)


@validate_params(
    {
        "loss_fn": [_LOSS_FN],
        "params": [ArrayDict(finite=True)],
        "grads": [ArrayDict(finite=False)],
        "eps": [_EPS],
        "tol": [_TOL],
        "batch_size": _BATCH,
    }
)
def check_gradients(
    loss_fn: Callable[[dict[str, np.ndarray]], float],
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    eps: float = 1e-6,
    tol: float = 1e-6,
    batch_size: int | None = None,
) -> GradCheckResult:
    """Compare analytic ``grads`` with finite differences of ``loss_fn`` at ``params``.

    Parameters
    ----------
    grads : dict
        Analytic gradients keyed like ``params`` (a ``"d"`` prefix is also accepted:
        ``{"dW1": ...}`` for ``params["W1"]``, the :mod:`coursekit.xor` layout), each of the
        shape of its parameter: a gradient of another shape raises a ``ValueError`` naming
        it (and saying "transposed?" when its shape is the reverse). NaN values make the
        check fail rather than raise.
    tol : float >= 0
        Largest relative error accepted per parameter.
    batch_size : int, optional
        When given, a factor of exactly ``batch_size`` is named as a sum/mean mix-up.

    Examples
    --------
    >>> from coursekit import xor
    >>> X, y = xor.dataset()
    >>> p = {"W1": [[0.3, -0.2], [0.5, 0.4]], "b1": [0.1, 0.1], "W2": [[0.7], [-0.6]], "b2": [0.0]}
    >>> p = {k: np.array(v) for k, v in p.items()}
    >>> g = xor.backward(p, xor.forward(p, X), y)
    >>> check_gradients(lambda q: xor.loss(q, X, y), p, g).passed
    True
    """
    analytic = _match_keys(params, grads)
    for name in params:
        got, want = np.shape(analytic[name]), np.shape(params[name])
        if got != want:
            hint = " (transposed?)" if len(got) == 2 and got == want[::-1] else ""
            key = name if name in grads else "d" + name
            raise ValueError(
                f"grads[{key!r}] has shape {got}, but params[{name!r}] has shape {want}{hint}"
            )
    numerical = numerical_gradient(loss_fn, params, eps)
    errors = {}
    for name in params:
        a, n = np.asarray(analytic[name], dtype=np.float64), numerical[name]
        errors[name] = rel_error(a, n)
    result = GradCheckResult(errors, numerical, tol)
    if not result.passed:
        result.diagnosis = diagnose(analytic, numerical, tol=tol, batch_size=batch_size)
    return result


@validate_params(
    {
        "analytic": [ArrayDict(finite=False)],
        "numerical": [ArrayDict(finite=False)],
        "tol": [_TOL],
        "batch_size": _BATCH,
    }
)
def diagnose(
    analytic: Mapping[str, np.ndarray],
    numerical: Mapping[str, np.ndarray],
    tol: float = 1e-6,
    batch_size: int | None = None,
) -> list[str]:
    """Name the likely bug behind a mismatch between analytic and numerical gradients.

    Patterns looked for, in order:

    - a shape that is the transpose of the expected one, or values equal to the transpose;
    - every parameter off by the same factor ``c``: ``c = -1`` is a sign flip,
      ``c = n`` or ``1/n`` (``n`` a whole number >= 2, the batch size when given) is a
      gradient of the sum where the loss takes the mean, or the other way round;
    - wrong only in the first layer (lowest layer number in the parameter names, e.g. ``W1``,
      ``b1``) while later layers are right: the activation derivative, which only the
      backward pass into the first layer uses.
    """
    names = list(numerical)
    a = {k: np.asarray(analytic[k], dtype=np.float64) for k in names}
    n = {k: np.asarray(numerical[k], dtype=np.float64) for k in names}
    bad = [k for k in names if a[k].shape != n[k].shape or rel_error(a[k], n[k]) > tol]
    if not bad:
        return []
    found = []

    for k in bad:
        if a[k].ndim == 2 and a[k].shape == n[k].shape[::-1] and a[k].shape != n[k].shape:
            found.append(
                f"{k}: gradient has shape {a[k].shape}, expected {n[k].shape}: transposed?"
            )
        elif (
            a[k].ndim == 2
            and a[k].shape == n[k].shape == a[k].shape[::-1]  # square: a transpose fits
            and rel_error(a[k].T, n[k]) <= tol
        ):
            found.append(f"{k}: gradient equals the transpose of the right one: transposed matrix.")
    if found:
        return found

    factor = _common_factor(a, n, names, tol)
    if factor is not None:
        if np.isclose(factor, -1.0, rtol=1e-3):
            return ["Every gradient has the wrong sign: sign flip (gradient ascent, or y - y_hat)."]
        k = factor if factor >= 1 else 1.0 / factor
        whole = round(k)
        if whole >= 2 and np.isclose(k, whole, rtol=1e-3) and batch_size in (None, whole):
            which = "larger" if factor > 1 else "smaller"
            return [
                f"Every gradient is {whole}x {which} than it should be: the batch size? "
                "Gradient of the sum where the loss takes the mean (or the other way round)."
            ]
        return [f"Every gradient is off by the same factor {factor:.4g}: a missing constant."]

    layers = {k: _layer_number(k) for k in names}
    if all(v is not None for v in layers.values()) and len(set(layers.values())) > 1:
        first = min(layers.values())
        if all(layers[k] == first for k in bad):
            wrong = ", ".join(bad)
            return [
                f"Only the first layer ({wrong}) is wrong and later layers are right: "
                "check the activation derivative (e.g. ReLU'(z), its value at 0, or using a "
                "instead of z)."
            ]
    return [f"Gradients of {', '.join(bad)} disagree with finite differences in no known pattern."]


# -- helpers ------------------------------------------------------------------------------


def _scalar(value, name: str) -> float:
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"loss_fn must return a number, got {value!r} while perturbing {name!r}")
    if arr.size != 1:
        raise ValueError(
            f"loss_fn must return one number (a scalar loss), got an array of shape {arr.shape} "
            f"while perturbing {name!r}: reduce it with .mean() or .sum()"
        )
    value = float(arr.reshape(()))
    if not np.isfinite(value):
        raise ValueError(f"loss_fn returned {value!r} while perturbing {name!r}")
    return value


def _match_keys(params, grads) -> dict[str, np.ndarray]:
    out = {}
    for name in params:
        if name in grads:
            out[name] = grads[name]
        elif "d" + name in grads:
            out[name] = grads["d" + name]
        else:
            raise ValueError(f"grads has no entry for parameter {name!r} (nor 'd{name}')")
    return out


def _common_factor(a, n, names, tol) -> float | None:
    """Least-squares c with a = c * n for all parameters at once, if it fits them all."""
    av = np.concatenate([a[k].ravel() for k in names])
    nv = np.concatenate([n[k].ravel() for k in names])
    if av.shape != nv.shape or not np.any(nv):
        return None
    c = float(av @ nv / (nv @ nv))
    if c == 0 or rel_error(av, c * nv) > max(tol, 1e-6):
        return None
    return c


def _layer_number(name: str) -> int | None:
    match = re.search(r"(\d+)$", name)
    return int(match.group(1)) if match else None
