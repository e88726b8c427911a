"""Files handed between processes: taken once, removed when taken, none left behind."""

from __future__ import annotations

import pyarrow as pa
import pytest

from distillwatch import handoff as handoff_module
from distillwatch.handoff import Handoff, put_table, take_bytes, take_table


def test_bytes_and_tables_are_taken_once_and_the_folder_is_removed() -> None:
    with Handoff(room=1 << 20) as handoff:
        piece = handoff.put_bytes(bytearray(b'{"a": 1}\n' * 1000))
        assert take_bytes(piece) == b'{"a": 1}\n' * 1000
        assert not piece.exists()
        table = pa.table({"x": list(range(10_000)), "s": ["v"] * 10_000})
        rows = put_table(table, handoff.path(".arrow"))
        taken = take_table(rows)
        assert not rows.exists()  # the name is gone, the mapped rows are not
        assert taken.equals(table)
        assert handoff.path(".arrow") != handoff.path(".arrow")
        leftover = handoff.put_bytes(b"never taken")
        root = handoff.root
    assert not root.exists() and not leftover.exists()
    with pytest.raises(FileNotFoundError):
        take_bytes(leftover)


def test_a_ram_folder_without_room_is_not_used(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(handoff_module, "_RAM", tmp_path)
    monkeypatch.setattr(handoff_module.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with Handoff(room=1 << 20) as roomy:
        assert roomy.root.parent == tmp_path
    with Handoff(room=1 << 62) as cramped:  # more than any disk: the temporary folder
        assert cramped.root.parent == tmp_path / "tmp"
