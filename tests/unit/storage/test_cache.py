"""The stamped read cache: a value is served only under the stamp it was read with; old entries go first."""

from runreg.storage.cache import StampedCache


def test_a_changed_stamp_misses_and_the_least_recently_used_entry_goes_first() -> None:
    cache = StampedCache[str](max_entries=2)
    cache.put("a", (1, "t1"), "a@1")
    cache.put("b", (1, "t1"), "b@1")
    assert cache.get("a", (1, "t1")) == "a@1"
    assert cache.get("a", (2, "t2")) is None  # the run was written since: read it again
    cache.put("c", (1, "t1"), "c@1")  # "b" was used least recently
    assert cache.get("b", (1, "t1")) is None
    assert cache.get("a", (1, "t1")) == "a@1" and cache.get("c", (1, "t1")) == "c@1"
    assert len(cache) == 2
