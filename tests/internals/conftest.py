"""White-box tests of the pure algorithms: tag expressions, numeric ranges, Go's JSON.

They import private modules on purpose (like fakeredis's ``test_internals``). A few of the
tag-expression tests also check the evaluator through the fake's admin API; they use the
very fixtures of ``tests/fake`` (re-exported, so the two folders cannot drift apart).
"""

from fake.conftest import call, clock, fake

__all__ = ["call", "clock", "fake"]
