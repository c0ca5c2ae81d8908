"""The streamed JSON list of /stats/api/fetch is one valid array whatever the number of chunks."""

from __future__ import annotations

import json

import orjson
import pytest

from runreg.workflows.legacy_api import _json_list


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 5])
def test_chunks_join_into_one_array(count: int) -> None:
    documents = [{"_id": f"w{i}", "n": i} for i in range(count)]
    chunks = list(_json_list((orjson.dumps(d) for d in documents), chunk=2))
    assert json.loads(b"".join(chunks)) == documents
    assert len(chunks) == 2 + (count + 1) // 2  # brackets + one chunk per two documents
