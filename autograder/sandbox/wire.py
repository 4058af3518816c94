"""The wire format between the grader and a sandboxed submission: JSON with typed arrays.

Both sides import this file (the sandbox sees it read-only at ``/harness/wire.py``), so it
uses the standard library and numpy only. What a submission sends is *untrusted*: the
grader decodes it with :func:`decode`, which builds only plain data — ``None``, ``bool``,
``int``, ``float``, ``str``, ``list``, ``tuple``, ``dict`` with string keys, numeric numpy
arrays and numpy ``Generator`` states — or :class:`Handle` references to objects that stay in
the sandbox. Nothing is unpickled and no code runs while decoding.

One message is one line: ``<length>\\n<json>`` (length in bytes, at most ``MAX_MESSAGE``).
"""

from __future__ import annotations

import base64
import json

import numpy as np

MAX_MESSAGE = 64 * 1024 * 1024  # bytes; a larger answer is refused, not read
MAX_DEPTH = 32
_DTYPES = frozenset("?bBhHiIlLqQefdgFDG")  # bool, integers, floats, complex: no objects


class WireError(ValueError):
    """A message that is not well formed (too large, bad JSON, a type the grader refuses)."""


class TooLarge(WireError):
    """A message over ``MAX_MESSAGE`` bytes (refused from its header, before its body)."""


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


def decode(data, handles: dict | None = None, depth: int = 0, callback=None):
    """The value ``data`` (from :func:`encode`) stands for; refuse anything else.

    ``callback(ref)`` makes the stand-in for a grader's function (the sandbox's side only).
    """
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v, handles, depth + 1, callback) for v in data]
    if not isinstance(data, dict) or len(data) not in (1, 2, 3):
        raise WireError(f"unexpected {type(data).__name__} in a message")
    if "__array__" in data:
        dtype = np.dtype(str(data.get("dtype")))
        shape = tuple(int(n) for n in data.get("shape", ()))
        raw = base64.b64decode(str(data["__array__"]), validate=True)
        if dtype.char not in _DTYPES or any(n < 0 for n in shape):
            raise WireError(f"refused array of dtype {dtype} and shape {shape}")
        if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize != len(raw):
            raise WireError("array data does not match its shape")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if "__tuple__" in data:
        return tuple(decode(v, handles, depth + 1, callback) for v in data["__tuple__"])
    if "__dict__" in data:
        items = data["__dict__"]
        if not isinstance(items, dict):
            raise WireError("malformed dict")
        return {str(k): decode(v, handles, depth + 1, callback) for k, v in items.items()}
    if "__handle__" in data:
        ref = int(data["__handle__"])
        if handles is not None:  # the sandbox's side: the object itself
            if ref not in handles:
                raise WireError(f"no object #{ref} in the sandbox")
            return handles[ref]
        return Handle(ref, str(data.get("type", "object"))[:100])
    if "__callback__" in data and callback is not None:
        return callback(int(data["__callback__"]))
    if "__rng__" in data:
        state = data["__rng__"]
        if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
            raise WireError("only PCG64 generators can be sent")
        bits = np.random.PCG64()
        bits.state = state
        return np.random.Generator(bits)
    raise WireError(f"unexpected keys {sorted(data)[:3]} in a message")


# -- framing: the one definition of a message on the pipe, used by both sides -------------------

HEADER_MAX = 32  # bytes of a header line, newline included


def frame(message: dict) -> bytes:
    """``message`` as it travels: ``<length>\\n<json>``; :class:`WireError` if over the limit."""
    body = json.dumps(message).encode("utf-8")
    if len(body) > MAX_MESSAGE:
        raise TooLarge(f"message of {len(body)} bytes is over the {MAX_MESSAGE} byte limit")
    return b"%d\n" % len(body) + body


def body_size(header: bytes) -> int:
    """The body length a header line announces; :class:`WireError` unless it is a length
    within ``MAX_MESSAGE`` (decided before a byte of the body is read)."""
    try:
        size = int(header)
    except ValueError:
        raise WireError("malformed message header") from None
    if size < 0:
        raise WireError("malformed message header")
    if size > MAX_MESSAGE:
        raise TooLarge(f"message of {size} bytes is over the {MAX_MESSAGE} byte limit")
    return size


def parse(body: bytes | str) -> dict:
    """The message a body holds; :class:`WireError` unless it is one JSON object."""
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

    def __init__(self):
        self._data = bytearray()
        self._size: int | None = None

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
            self._size = body_size(bytes(self._data[:end]))
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
