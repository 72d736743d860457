"""A compact table keyed by ids: what a bulk job remembers per target.

A job of millions of targets must remember, per target, whether it has seen the id
(to drop duplicates) and what an earlier run recorded for it (to resume). Python sets
and dicts of the ids cost a string object and a slot per id, 100 to 200 bytes; this
table keeps a 16-byte BLAKE2b digest of the id and one small value per slot, in two flat
buffers, open-addressed with linear probing: about 35 bytes per id (18 to 46, by where
the table stands between two doublings). Strictly private.

Two distinct ids share a digest with probability about n^2 / 2^129 for n ids: 1.5e-27
for a million ids, 1.5e-21 for a billion (far below the odds of a memory error flipping
a bit). Such a pair would be taken for one id: the second dropped as a duplicate, or
given the first one's journal status.
"""

from __future__ import annotations

from array import array
from hashlib import blake2b
from struct import iter_unpack

__all__ = ["DigestTable", "digest"]

_SIZE = 16
"""Bytes per digest: the slot arithmetic below shifts by 4."""
_EMPTY = 0
"""The value of a free slot: stored values are 1 or more."""


def digest(id: str) -> bytes:
    """The 16-byte key of an id (``surrogatepass``: ids read from JSON may hold lone
    surrogates, which are still distinct ids)."""
    return blake2b(id.encode("utf-8", "surrogatepass"), digest_size=_SIZE).digest()


class DigestTable:
    """Id digest -> small positive int (1..255, or 1..65535 with ``wide``)."""

    __slots__ = ("_keys", "_mask", "_values", "count")

    def __init__(self, *, wide: bool = False, expected: int = 0) -> None:
        # Sized for ``expected`` ids without growing (a list of ids, a journal's lines):
        # growing moves every digest, about 1 µs each.
        size = 64
        while size * 3 < expected * 4:
            size *= 2
        self._mask = size - 1
        self._keys = bytearray(size * _SIZE)
        self._values = array("H" if wide else "B", bytes(size * (2 if wide else 1)))
        self.count = 0
        """Distinct ids in the table."""

    def __len__(self) -> int:
        return self.count

    @property
    def nbytes(self) -> int:
        """The bytes its two buffers hold (for the memory tests and benchmarks)."""
        return len(self._keys) + self._values.itemsize * len(self._values)

    def _slot(self, key: bytes) -> int:
        """The slot holding ``key``, or the free slot where it would go."""
        keys, values, mask = self._keys, self._values, self._mask
        # hash() of a 16-byte digest is as well spread as the digest, and cheaper to
        # get as an int than int.from_bytes (it is cached on the bytes object, too).
        slot = hash(key) & mask
        while values[slot] and not keys.startswith(key, slot << 4):
            slot = (slot + 1) & mask
        return slot

    def get(self, key: bytes) -> int:
        """The value stored for ``key``; 0 when it is absent."""
        return self._values[self._slot(key)]

    def put(self, key: bytes, value: int) -> int:
        """Store ``value`` (>= 1) for ``key``; returns the value it had (0: it was new)."""
        slot = self._slot(key)
        old = self._values[slot]
        if old:
            self._values[slot] = value
        else:
            self._insert(slot, key, value)
        return old

    def _insert(self, slot: int, key: bytes, value: int) -> None:
        """Put a new key in its free ``slot`` (found again if the table must grow)."""
        if (self.count + 1) * 4 > (self._mask + 1) * 3:  # past 3/4 full: double
            self._grow()
            slot = self._slot(key)
        self.count += 1
        self._keys[slot << 4 : (slot << 4) + _SIZE] = key
        self._values[slot] = value

    def add(self, key: bytes) -> bool:
        """Mark ``key`` seen (value 1 unless it has one); True when it was not there."""
        if self.get(key):
            return False
        self.put(key, 1)
        return True

    def add_id(self, id: str) -> bool:
        """``add(digest(id))`` in one call, probing once: the per-id path of bulk jobs."""
        key = blake2b(id.encode("utf-8", "surrogatepass"), digest_size=_SIZE).digest()
        keys, values, mask = self._keys, self._values, self._mask
        slot = hash(key) & mask
        while values[slot]:
            if keys.startswith(key, slot << 4):
                return False
            slot = (slot + 1) & mask
        self._insert(slot, key, 1)
        return True

    def _grow(self) -> None:
        old_keys, old_values = self._keys, self._values
        size = (self._mask + 1) * 2
        mask = self._mask = size - 1
        keys = self._keys = bytearray(size * _SIZE)
        values = self._values = array(old_values.typecode, bytes(size * old_values.itemsize))
        for (key,), value in zip(iter_unpack("16s", old_keys), old_values, strict=True):
            if value:
                slot = hash(key) & mask
                while values[slot]:  # every key moved is distinct: no compare needed
                    slot = (slot + 1) & mask
                keys[slot << 4 : (slot << 4) + _SIZE] = key
                values[slot] = value
