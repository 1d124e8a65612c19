#!/usr/bin/env python3
"""Set-up and the two everyday jobs, with nothing but python3 on the machine:

    python3 tasks.py demo      create .venv, install labloop, run `labloop demo`
    python3 tasks.py test      create .venv, install labloop with its test extras, run the whole test suite

Other jobs: `install`, `migration` (regenerate the initial schema migration), `benchmarks`.
Extra arguments after `test` go to pytest (e.g. `python3 tasks.py test -k robot`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("LABLOOP_VENV", ROOT / ".venv"))
BIN = VENV / "bin"
PY = BIN / "python"
STAMP = VENV / ".labloop-installed"


def run(*cmd: str | Path, **kw) -> None:
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)


def make_venv() -> None:
    """`python3 -m venv`; where the system Python lacks ensurepip (Debian without python3-venv), a venv without
    pip that the system's own pip installs into."""
    try:
        run(sys.executable, "-m", "venv", VENV)
    except subprocess.CalledProcessError:
        run(sys.executable, "-m", "venv", "--clear", "--without-pip", VENV)
        if subprocess.call([sys.executable, "-m", "pip", "--version"], stdout=subprocess.DEVNULL) != 0:
            sys.exit("python3 has neither venv's ensurepip nor pip: install one (Debian: apt-get install python3-venv)")
        run(sys.executable, "-m", "pip", "--python", PY, "install", "--quiet", "pip")
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")


def install() -> None:
    """Create the virtual environment and install labloop (+ train, dev extras), torch pinned to the CPU build."""
    if not PY.exists():
        make_venv()
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    run(PY, "-m", "pip", "install", "--quiet", "-c", "constraints.txt", "-e", ".[train,dev]")
    STAMP.write_text(want)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    job, rest = argv[0], argv[1:]
    install()
    if job == "install":
        return 0
    if job == "demo":
        return subprocess.call([str(BIN / "labloop"), "demo", *rest], cwd=ROOT)
    if job == "test":
        return subprocess.call([str(PY), "-m", "pytest", *rest], cwd=ROOT)
    if job == "migration":
        return subprocess.call([str(PY), "-m", "labloop.knowledge_base.migrations.regenerate"], cwd=ROOT)
    if job == "benchmarks":
        status = 0
        for bench in sorted((ROOT / "benchmarks").glob("bench_*.py")):
            status |= subprocess.call([str(PY), str(bench), *rest], cwd=ROOT)
        return status
    print(f"unknown job {job!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
