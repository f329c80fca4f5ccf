"""An index folder received from someone reads no folder its user did not name (issue 18, item 4).

Through the real CLI: a manifest whose recorded sources were edited to point at a private folder
makes `rag index` refuse in one line (naming the folders and --trust-sources) without reading any
file there; `--trust-sources` reads them; the folders the user names are read and said.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT
from rag.index.store import read_manifest
from tests.conftest import TINY_TEXT

pytestmark = pytest.mark.slow  # the real model

CLI = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]
SECRET = "The private key passphrase is correct-horse-battery.\n"


def rag(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1", "XDG_STATE_HOME": str(state)}
    env.pop("RAG_INDEX_DIR", None)
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=env, timeout=600, stdin=subprocess.DEVNULL
    )


def test_recorded_sources_outside_the_named_folders_are_not_read_unless_trusted(tmp_path: Path) -> None:
    docs = tmp_path / "shared-docs"
    docs.mkdir()
    (docs / "boat-race.txt").write_text(TINY_TEXT, encoding="utf-8")
    private = tmp_path / "home" / "private"
    private.mkdir(parents=True)
    (private / "keys.txt").write_text(SECRET, encoding="utf-8")
    index = tmp_path / "received-index"

    # the sender builds the index from their folder; re-reading it says which folder it reads
    built = rag(tmp_path / "sender-state", "index", "--index-dir", str(index), str(docs))
    assert built.returncode == 0, built.stderr
    again = rag(tmp_path / "sender-state", "index", "--index-dir", str(index))
    assert again.returncode == 0 and f"reading: {docs.resolve()}" in again.stderr, again.stderr

    # ... and edits its manifest to record a private folder of the receiver's machine
    manifest_path = index / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["sources"] = [str(docs.resolve()), str(private.resolve())]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    receiver = tmp_path / "receiver-state"
    refused = rag(receiver, "index", "--index-dir", str(index))
    assert refused.returncode != 0
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert str(private.resolve()) in errors[0] and "--trust-sources" in errors[0]
    assert str(docs.resolve()) in errors[0]  # not named on this machine either
    after = read_manifest(index)
    assert after is not None and set(after["documents"]) == {"boat-race.txt"}  # nothing was read

    # adding a folder (`rag index PATH` adds) still reads the recorded ones: the stranger is refused
    added = rag(receiver, "index", "--index-dir", str(index), str(docs))
    assert added.returncode != 0 and str(private.resolve()) in added.stderr, added.stderr
    # naming the folder to index instead (--replace) reads that folder only
    named = rag(receiver, "index", "--index-dir", str(index), "--replace", str(docs))
    assert named.returncode == 0, named.stderr
    assert str(private) not in named.stderr
    after = read_manifest(index)
    assert after is not None and after["sources"] == [str(docs.resolve())]
    assert set(after["documents"]) == {"boat-race.txt"}

    # the user's own folder, re-read without naming it: no question asked
    again = rag(receiver, "index", "--index-dir", str(index))
    assert again.returncode == 0, again.stderr

    # --trust-sources reads what the manifest records, as the user asked
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["sources"] = [str(docs.resolve()), str(private.resolve())]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    trusted = rag(receiver, "index", "--index-dir", str(index), "--trust-sources")
    assert trusted.returncode == 0, trusted.stderr
    after = read_manifest(index)
    assert after is not None and "keys.txt" in after["documents"]
