import hashlib
import os

import pytest

from labloop.knowledge_base.frame_store import FrameStore


def test_put_is_content_addressed_and_idempotent(tmp_path):
    store = FrameStore(tmp_path / "frames")
    first = store.put(b"jpeg bytes", "jpg")
    assert first.sha256 == hashlib.sha256(b"jpeg bytes").hexdigest()
    assert first.relpath == f"{first.sha256[:2]}/{first.sha256}.jpg"
    path = store.path_for(first.relpath)
    mtime = path.stat().st_mtime_ns
    second = store.put(b"jpeg bytes", "jpg")
    assert second == first
    assert path.stat().st_mtime_ns == mtime  # never rewritten
    assert store.verify(first.relpath, first.sha256)
    assert store.stray_temp_files() == []


def test_existing_file_is_never_overwritten(tmp_path):
    store = FrameStore(tmp_path)
    stored = store.put(b"original", "png")
    store.path_for(stored.relpath).chmod(0o444)
    assert store.put(b"original", "png") == stored
    assert store.read(stored.relpath) == b"original"


def test_empty_frames_and_escaping_paths_are_refused(tmp_path):
    store = FrameStore(tmp_path / "frames")
    with pytest.raises(ValueError, match="empty"):
        store.put(b"")
    with pytest.raises(ValueError, match="outside"):
        store.path_for("../../etc/passwd")


def test_no_partial_file_is_visible_under_the_final_name(tmp_path):
    store = FrameStore(tmp_path)
    data = os.urandom(1 << 20)
    stored = store.put(data)
    assert store.read(stored.relpath) == data
    assert not list(tmp_path.rglob("*.part"))
