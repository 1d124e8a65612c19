"""Content-addressed frame files: sha256 names, atomic writes (temp file + rename), never overwritten."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    relpath: str
    size_bytes: int


class FrameStore:
    """Files live at `<root>/<sha[:2]>/<sha>.<ext>`; the database stores the relative path."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, relpath: str) -> Path:
        path = (self.root / relpath).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"frame path {relpath!r} points outside the frame store {self.root}")
        return path

    def put(self, data: bytes, ext: str = "jpg") -> StoredFile:
        """Store `data` once; storing the same bytes again returns the existing file untouched."""
        if not data:
            raise ValueError("refusing to store an empty frame")
        digest = hashlib.sha256(data).hexdigest()
        relpath = f"{digest[:2]}/{digest}.{ext.lstrip('.')}"
        target = self.root / relpath
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.link(tmp, target)  # fails if another writer won the race; never overwrites
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        return StoredFile(sha256=digest, relpath=relpath, size_bytes=len(data))

    def read(self, relpath: str) -> bytes:
        return self.path_for(relpath).read_bytes()

    def verify(self, relpath: str, sha256: str) -> bool:
        return hashlib.sha256(self.read(relpath)).hexdigest() == sha256

    def stray_temp_files(self) -> list[Path]:
        """Leftovers of writes that were killed midway (never referenced by the database)."""
        return sorted(self.root.rglob(".tmp-*.part")) if self.root.exists() else []
