"""The Redis cache's serializer: Django's, except that bytes are stored as they are.

Django's RedisSerializer pickles every value but an int, and on reading first tries `int(value)`: for a
cached rendered answer (the analytics' bytes, tens of KB) the failed int() and the unpickling cost more
than the rest of the request. Bytes are stored behind a NUL marker instead, which neither an int (digits
and a sign) nor a pickle (protocol 2 and later start with 0x80) can begin with.
"""

import pickle
from typing import Any

_RAW = b"\x00"
_PICKLE = 0x80


class RedisSerializer:
    def __init__(self, protocol: int | None = None) -> None:
        self.protocol = pickle.HIGHEST_PROTOCOL if protocol is None else protocol

    def dumps(self, obj: Any) -> Any:
        if type(obj) is int:  # stored as Redis integers, so incr() and decr() work on them
            return obj
        if type(obj) is bytes:
            return _RAW + obj
        return pickle.dumps(obj, self.protocol)

    def loads(self, data: bytes) -> Any:
        if data[:1] == _RAW:
            return data[1:]
        if data and data[0] == _PICKLE:
            return pickle.loads(data)
        return int(data)
