"""The wire format between the grader and a sandboxed submission: JSON with typed arrays.

Both sides import this file (the sandbox sees it read-only at ``/harness/wire.py``), so it
uses the standard library and numpy only. What a submission sends is *untrusted*: the
grader decodes it with :func:`decode`, which builds only plain data — ``None``, ``bool``,
``int``, ``float``, ``str``, ``list``, ``tuple``, ``dict`` with string keys, numeric numpy
arrays and numpy ``Generator`` states — or :class:`Handle` references to objects that stay in
the sandbox. Nothing is unpickled and no code runs while decoding.

One message is one line: ``<length>\\n<json>`` (length in bytes, at most ``MAX_MESSAGE``, or
the smaller limit the reader names for the answer it waits for).

Bounds, enforced by the reader before anything is materialised (a 64 MB message of ``[],``
would otherwise become 21 million lists):

- **bytes**: the header announces the length; over the limit, not a byte of the body is read;
- **values**: :func:`parse` counts the body's ``[``, ``{`` and ``,`` bytes (an upper bound on
  the JSON values it holds: base64 array data holds none of them) and refuses more than
  ``MAX_VALUES`` before ``json.loads`` runs;
- **depth**: ``json.loads`` stops past the interpreter's recursion limit, :func:`decode` past
  ``MAX_DEPTH``;
- **arrays**: a dtype from the allowed set, at most ``MAX_NDIM`` dimensions of plain
  non-negative ints whose product matches the data's length, checked on the base64 text
  before it is decoded;
- **numbers**: ints within 64 bits (``10**400`` is refused here, as unreadable, so no check
  meets an int it cannot turn into a float).

Whatever is malformed, :func:`decode` raises :class:`WireError` and nothing else.
"""

from __future__ import annotations

import base64
import json

import numpy as np

MAX_MESSAGE = 64 * 1024 * 1024  # bytes; a larger answer is refused, not read
MAX_DEPTH = 32
MAX_VALUES = 1_000_000  # JSON values in one message (counted before it is parsed)
MAX_NDIM = 32
MAX_INT = 2**64  # ints a message may hold: within (-MAX_INT, MAX_INT)
_DTYPES = frozenset("?bBhHiIlLqQefdgFDG")  # bool, integers, floats, complex: no objects


class WireError(ValueError):
    """A message that is not well formed (too large, bad JSON, a type the grader refuses)."""


class TooLarge(WireError):
    """A message over ``MAX_MESSAGE`` bytes (refused from its header, before its body)."""


class TooMany(WireError):
    """A message holding more than ``MAX_VALUES`` values (refused before it is parsed)."""


class Handle:
    """An object that stays inside the sandbox (a model, say), named by a number."""

    def __init__(self, ref: int, type_name: str):
        self.ref, self.type_name = int(ref), str(type_name)

    def __repr__(self) -> str:
        return f"<{self.type_name} in the sandbox #{self.ref}>"


def encode(value, handles: dict | None = None, depth: int = 0, callbacks: dict | None = None):
    """A JSON-ready form of ``value``.

    Objects of other types become handles registered in ``handles`` (the sandbox's side) and
    functions become callbacks registered in ``callbacks`` (the grader's side: the sandbox
    calls them back through the channel); with neither, they are refused.
    """
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)  # json writes NaN and Infinity, and reads them back
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Handle):
        return {"__handle__": value.ref, "type": value.type_name}
    if isinstance(value, np.ndarray) and value.dtype.char in _DTYPES:
        return {  # (np.ascontiguousarray would turn a 0-d array into a 1-d one)
            "__array__": base64.b64encode(value.tobytes(order="C")).decode("ascii"),
            "dtype": value.dtype.str,
            "shape": list(value.shape),
        }
    if isinstance(value, np.random.Generator):
        return {"__rng__": value.bit_generator.state}
    if isinstance(value, (list, tuple)):
        items = [encode(v, handles, depth + 1, callbacks) for v in value]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: encode(v, handles, depth + 1, callbacks) for k, v in value.items()}
        return {"__dict__": items}
    if callbacks is not None and callable(value):
        ref = len(callbacks) + 1
        callbacks[ref] = value
        return {"__callback__": ref}
    if handles is None:
        raise WireError(f"cannot send a value of type {type(value).__name__}")
    ref = len(handles) + 1
    handles[ref] = value
    return {"__handle__": ref, "type": type(value).__name__}


def decode(data, handles: dict | None = None, callback=None):
    """The value ``data`` (from :func:`encode`) stands for; :class:`WireError` for anything
    else, whatever was wrong with it (never another exception).

    ``callback(ref)`` makes the stand-in for a grader's function (the sandbox's side only).
    """
    try:
        return _decode(data, handles, 0, callback)
    except WireError:
        raise
    except (ValueError, TypeError, OverflowError, KeyError, AttributeError, RecursionError):
        raise WireError("malformed value in a message") from None


def _array(data: dict) -> np.ndarray:
    """A numeric array from its message form, checked before its data is decoded."""
    dtype_text, shape, text = data.get("dtype"), data.get("shape", []), data["__array__"]
    if not isinstance(dtype_text, str) or len(dtype_text) > 8 or not isinstance(text, str):
        raise WireError("refused array")
    dtype = np.dtype(dtype_text)
    if dtype.char not in _DTYPES:
        raise WireError("refused array of a non-numeric dtype")
    if not isinstance(shape, list) or len(shape) > MAX_NDIM:
        raise WireError("refused array shape")
    size = 1
    for n in shape:
        if type(n) is not int or not 0 <= n <= MAX_MESSAGE:
            raise WireError("refused array shape")
        size *= n
    nbytes = size * dtype.itemsize
    if nbytes > MAX_MESSAGE or len(text) != 4 * -(-nbytes // 3):
        raise WireError("array data does not match its shape")
    raw = base64.b64decode(text, validate=True)
    if len(raw) != nbytes:
        raise WireError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _decode(data, handles, depth: int, callback):
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if type(data) is int:
        if not -MAX_INT < data < MAX_INT:
            raise WireError("an int too large for a message")
        return data
    if data is None or isinstance(data, (bool, float, str)):
        return data
    if isinstance(data, list):
        return [_decode(v, handles, depth + 1, callback) for v in data]
    if not isinstance(data, dict) or len(data) not in (1, 2, 3):
        raise WireError("unexpected value in a message")
    if "__array__" in data:
        return _array(data)
    if "__tuple__" in data:
        items = data["__tuple__"]
        if not isinstance(items, list):
            raise WireError("malformed tuple")
        return tuple(_decode(v, handles, depth + 1, callback) for v in items)
    if "__dict__" in data:
        items = data["__dict__"]
        if not isinstance(items, dict):
            raise WireError("malformed dict")
        return {str(k): _decode(v, handles, depth + 1, callback) for k, v in items.items()}
    if "__handle__" in data:
        ref = data["__handle__"]
        if type(ref) is not int:
            raise WireError("malformed handle")
        if handles is not None:  # the sandbox's side: the object itself
            if ref not in handles:
                raise WireError("no such object in the sandbox")
            return handles[ref]
        return Handle(ref, str(data.get("type", "object"))[:100])
    if "__callback__" in data and callback is not None:
        if type(data["__callback__"]) is not int:
            raise WireError("malformed callback")
        return callback(data["__callback__"])
    if "__rng__" in data:
        state = data["__rng__"]
        if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
            raise WireError("only PCG64 generators can be sent")
        bits = np.random.PCG64()
        bits.state = state
        return np.random.Generator(bits)
    raise WireError("unexpected keys in a message")


# -- framing: the one definition of a message on the pipe, used by both sides -------------------

HEADER_MAX = 32  # bytes of a header line, newline included


def frame(message: dict) -> bytes:
    """``message`` as it travels: ``<length>\\n<json>``; :class:`WireError` if over the limit."""
    body = json.dumps(message).encode("utf-8")
    if len(body) > MAX_MESSAGE:
        raise TooLarge(f"message of {len(body)} bytes is over the {MAX_MESSAGE} byte limit")
    return b"%d\n" % len(body) + body


def body_size(header: bytes, limit: int = MAX_MESSAGE) -> int:
    """The body length a header line announces; :class:`WireError` unless it is a length
    within ``limit`` bytes (decided before a byte of the body is read)."""
    try:
        size = int(header)
    except ValueError:
        raise WireError("malformed message header") from None
    if size < 0:
        raise WireError("malformed message header")
    if size > min(limit, MAX_MESSAGE):
        raise TooLarge(f"message of {size} bytes is over the {min(limit, MAX_MESSAGE)} byte limit")
    return size


def count_values(body: bytes | str) -> int:
    """An upper bound on the JSON values ``body`` holds, without parsing it: one more than
    its ``[``, ``{`` and ``,`` characters (every value but the first follows one of them)."""
    if isinstance(body, str):
        return body.count("[") + body.count("{") + body.count(",") + 1
    return body.count(b"[") + body.count(b"{") + body.count(b",") + 1


def count_parsed(data, most: int) -> int:
    """How many JSON values parsed ``data`` holds, counting no further than past ``most``."""
    seen, stack = 0, [data]
    while stack and seen <= most:
        value = stack.pop()
        seen += 1
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
    return seen


def parse(body: bytes | str, max_values: int = MAX_VALUES) -> dict:
    """The message a body holds; :class:`WireError` unless it is one JSON object of at most
    ``max_values`` values (:class:`TooMany`, counted before parsing)."""
    if count_values(body) > max_values:
        raise TooMany(f"a message holds more than {max_values} values")
    try:
        message = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WireError(f"malformed message: {str(exc)[:200]}") from None
    if not isinstance(message, dict):
        raise WireError("a message must be a JSON object")
    return message


class Frames:
    """Incremental reader of framed messages (the grader's non-blocking side).

    :meth:`feed` bytes as they arrive; :meth:`next` returns a message once one is complete
    (``None`` before). Never holds more than one message's bytes plus one read's worth.
    """

    def __init__(self, limit: int = MAX_MESSAGE):
        self._data = bytearray()
        self._size: int | None = None
        self.limit = limit  # bytes of the next message's body (the reader may lower it)

    def feed(self, chunk: bytes) -> None:
        self._data += chunk

    def wanted(self) -> int:
        """How many more bytes the message being read needs (a header's worth if unknown)."""
        if self._size is None:
            return HEADER_MAX
        return max(self._size - len(self._data), 0)

    def next(self) -> dict | None:
        if self._size is None:
            end = self._data.find(b"\n", 0, HEADER_MAX)
            if end < 0:
                if len(self._data) >= HEADER_MAX:
                    raise WireError("malformed message header")
                return None
            self._size = body_size(bytes(self._data[:end]), self.limit)
            del self._data[: end + 1]
        if len(self._data) < self._size:
            return None
        # one copy of the body at a time: the buffer is dropped before the text is decoded,
        # the bytes before the JSON is parsed
        body, rest = bytes(memoryview(self._data)[: self._size]), self._data[self._size :]
        self._data, self._size = bytearray(rest), None
        del rest
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WireError(f"malformed message: {str(exc)[:200]}") from None
        del body
        return parse(text)


def write_message(stream, message: dict) -> None:
    """Write one message (a dict of JSON-ready values) to a binary stream."""
    stream.write(frame(message))
    stream.flush()


def read_message(stream) -> dict:
    """Read one message; :class:`WireError` if the stream ended or the message is malformed."""
    header = stream.readline(HEADER_MAX)
    if not header:
        raise EOFError("the other side closed the channel")
    size = body_size(header)
    body = stream.read(size)
    if len(body) != size:
        raise EOFError("the other side closed the channel mid-message")
    return parse(body)
