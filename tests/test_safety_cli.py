"""A careless user and a flaky machine, through the real `rag` command (issue 11, findings 1, 2, 4, 5, 6).

Each test runs the installed `rag` in a subprocess over its own documents and index folder, with
the real model: a user's index is never swapped for the demo article or deleted, links never
carry files from outside the folder into the index, a full disk (a real, small tmpfs) still gets an
answer from the intact index, and every failure is one plain line saying what to do.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.index.store import MANIFEST, read_manifest
from rag.textsafe import printable
from tests.conftest import TINY_TEXT

pytestmark = pytest.mark.slow  # every test here runs the real model in a subprocess

RAG = str(Path(sys.executable).parent / "rag")
FERRY = "The ferry to Gull Island runs twice a day. Its pilot is Ines Varga.\n"
SECRET = "The vault code of Harrow Bank is 7731-alpha. Only Odile Brandt knows it.\n"


def rag(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["HF_HUB_OFFLINE"] = "1"
    return subprocess.run([RAG, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The single `error: ...` line a failed command must print, and nothing like a traceback."""
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def user_docs(tmp_path: Path) -> Path:
    docs = tmp_path / "my-docs"
    docs.mkdir()
    (docs / "boat-race.txt").write_text(TINY_TEXT, encoding="utf-8")
    (docs / "ferry.md").write_text(FERRY, encoding="utf-8")
    return docs


# ---------------------------------------------------------------- finding 1: never lose or swap an index


def test_a_users_index_is_never_swapped_for_the_demo_or_deleted(tmp_path: Path, user_docs: Path) -> None:
    index = tmp_path / "my-index"
    built = rag("index", "--index-dir", str(index), str(user_docs))
    assert built.returncode == 0, built.stderr

    # the manifest damaged: ask and serve refuse, naming the command that rebuilds it; nothing deleted
    (index / MANIFEST).write_bytes(b"\x00\xff{not json")
    before = files_of(index)
    refused = rag("ask", "--index-dir", str(index), "Who pilots the ferry?")
    line = one_line_error(refused)
    assert "manifest.json" in line and f"`rag index --index-dir {index} PATHS`" in line
    assert files_of(index) == before
    assert "belarus" not in refused.stdout.lower()

    # `rag index --index-dir X` with no paths cannot know the documents either: refused, untouched
    one_line_error(rag("index", "--index-dir", str(index)))
    assert files_of(index) == before

    # the command the message names repairs it, from the user's documents
    assert rag("index", "--index-dir", str(index), str(user_docs)).returncode == 0
    answered = rag("ask", "--index-dir", str(index), "Who is the pilot of the ferry?")
    assert answered.returncode == 0 and "Ines Varga" in answered.stdout, answered.stderr

    # `rag index --index-dir X` re-indexes X's own recorded sources, never the seeds folder
    (user_docs / "ferry.md").write_text(FERRY.replace("Ines Varga", "Tomas Weller"), encoding="utf-8")
    reindexed = rag("index", "--index-dir", str(index))
    assert reindexed.returncode == 0 and "1 embedded" in reindexed.stdout, reindexed.stderr
    manifest = read_manifest(index)
    assert manifest is not None and set(manifest["documents"]) == {"boat-race.txt", "ferry.md"}
    assert manifest["sources"] == [str(user_docs.resolve())]

    # a typo in --index-dir: a clear error, and nothing is created there
    typo = tmp_path / "my-indx"
    line = one_line_error(rag("ask", "--index-dir", str(typo), "Who pilots the ferry?"))
    assert f"no index at {typo}" in line and "does not exist" in line
    assert not typo.exists()
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    assert "holds no index" in one_line_error(rag("ask", "--index-dir", str(empty), "Who pilots the ferry?"))
    assert list(empty.iterdir()) == []
    assert "no documents were given" in one_line_error(rag("index", "--index-dir", str(empty)))


# ---------------------------------------------------------------- finding 2: links stay inside the folder


def test_links_leaving_the_indexed_folder_are_skipped_with_a_warning(tmp_path: Path, user_docs: Path) -> None:
    private = tmp_path / "private"
    private.mkdir()
    (private / "vault.txt").write_text(SECRET, encoding="utf-8")
    (user_docs / "notes.txt").symlink_to(private / "vault.txt")  # a file link leaving the folder
    (user_docs / "more").symlink_to(private, target_is_directory=True)  # a folder link leaving it
    (user_docs / "same-race.txt").symlink_to(user_docs / "boat-race.txt")  # a link inside: fine
    index = tmp_path / "index"

    done = rag("index", "--index-dir", str(index), str(user_docs))

    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: skipped")]
    assert len(warnings) == 2 and all("--follow-links" in w for w in warnings)
    assert any("notes.txt" in w and str(private / "vault.txt") in w for w in warnings)
    manifest = read_manifest(index)
    assert manifest is not None
    assert set(manifest["documents"]) == {"boat-race.txt", "ferry.md", "same-race.txt"}
    texts = b"".join(files_of(index).values())
    assert b"7731-alpha" not in texts  # the secret is nowhere in the index

    # asked for on purpose, links are followed (and remembered for later rebuilds)
    followed = rag("index", "--index-dir", str(index), "--follow-links", str(user_docs))
    assert followed.returncode == 0, followed.stderr
    manifest = read_manifest(index)
    assert manifest is not None and {"notes.txt", "more/vault.txt"} <= set(manifest["documents"])
    assert manifest.get("follow_links") is True


# ---------------------------------------------------------------- findings 4 and 5: a full disk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 3 MB tmpfs (needs root and mount permission; skipped with the reason otherwise)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> None:
    with open(disk / "filler.bin", "wb") as fh:
        block = b"\0" * 65536
        try:
            while True:
                fh.write(block)
                fh.flush()
        except OSError:
            pass
    assert shutil.disk_usage(disk).free < 65536


def test_full_disk_still_answers_from_the_intact_index(small_disk: Path, user_docs: Path) -> None:
    index = small_disk / "index"
    assert rag("index", "--index-dir", str(index), str(user_docs)).returncode == 0
    _fill(small_disk)
    before = files_of(index)
    (user_docs / "ferry.md").write_text(FERRY + "It also carries post on Fridays.\n", encoding="utf-8")

    answered = rag("ask", "--index-dir", str(index), "Who is the pilot of the ferry?")

    assert answered.returncode == 0, answered.stderr
    assert "Ines Varga" in answered.stdout
    warning = [line for line in answered.stderr.splitlines() if line.startswith("warning: ")]
    assert warning and f"the disk holding {index} is full" in warning[0]
    assert "Answering from the index as built" in warning[0]
    assert files_of(index) == before  # the intact index untouched

    # `rag index` says it in plain words: what is free, what is needed, what to do
    line = one_line_error(rag("index", "--index-dir", str(index), str(user_docs)))
    assert f"the disk holding {index} is full:" in line
    assert "MB free, about" in line and "MB needed" in line and "use --index-dir elsewhere" in line
    assert files_of(index) == before


# ---------------------------------------------------------------- finding 5: clear words


def test_each_failure_is_one_line_that_says_what_to_do(tmp_path: Path, user_docs: Path) -> None:
    index = tmp_path / "index"
    assert rag("index", "--index-dir", str(index), str(user_docs)).returncode == 0

    # a damaged index whose documents are gone: what happened, why it cannot repair itself, the fix
    generation = read_manifest(index)["generation"]  # type: ignore[index]
    (index / generation / "faiss.index").write_bytes(b"IxFI broken")
    moved = tmp_path / "moved-docs"
    user_docs.rename(moved)
    line = one_line_error(rag("ask", "--index-dir", str(index), "Who pilots the ferry?"))
    assert "is damaged" in line and "faiss.index" in line and f"{user_docs} no longer exists" in line
    assert f"`rag index --index-dir {index} PATHS`" in line

    # --index-dir naming a file
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not an index", encoding="utf-8")
    for command in (["ask", "Who?"], ["index", str(moved)]):
        line = one_line_error(rag(command[0], "--index-dir", str(a_file), *command[1:]))
        assert f"{a_file} is a file, not a folder" in line

    # ports: out of range, and in use
    line = one_line_error(rag("serve", "--port", "99999", "--index-dir", str(index), timeout=120))
    assert "--port 99999 is not a port number" in line
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_error(rag("serve", "--port", str(port), "--index-dir", str(index), timeout=120))
    assert f"port {port} on 127.0.0.1 is in use" in line and "--port" in line


def test_utf16_and_bom_files_are_read_as_text(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ferry-utf16.txt").write_bytes(FERRY.encode("utf-16"))  # with its byte-order mark
    (docs / "race-bom.txt").write_bytes(b"\xef\xbb\xbf" + TINY_TEXT.encode("utf-8"))
    (docs / "utf16be.txt").write_bytes(b"\xfe\xff" + "Kelp grows fast in cold water.\n".encode("utf-16-be"))
    index = tmp_path / "index"

    built = rag("index", "--index-dir", str(index), str(docs))

    assert built.returncode == 0 and "warning" not in built.stderr, built.stderr
    assert "indexed 3 documents" in built.stdout
    answered = rag("ask", "--json", "--index-dir", str(index), "Who is the pilot of the ferry?")
    assert answered.returncode == 0 and "Ines Varga" in answered.stdout, answered.stderr
    from rag.config import Settings
    from rag.index.store import load

    store = load(index, Settings(index_dir=index), "all-MiniLM-L6-v2")
    assert store.documents["ferry-utf16.txt"].text == FERRY
    assert store.documents["race-bom.txt"].text == TINY_TEXT  # the BOM is not part of the text
    assert not any(d.text.startswith("\ufeff") for d in store.documents.values())


def test_printable_neutralises_terminal_and_direction_controls() -> None:
    hostile = "Report\x1b]8;;http://evil\x07click\x1b[2J\rfake \u202eexe.txt\u202c done\r\nnext"
    shown = printable(hostile)
    assert not any(ch in shown for ch in "\x1b\x07\u202e\u202c")
    assert "\\x1b[2J" in shown and "\\u202e" in shown and "\\r" in shown  # visible, not acted on
    assert shown.endswith("done\r\nnext")  # line breaks are kept
    assert printable("plain text, é and 日本") == "plain text, é and 日本"
    assert "\n" not in printable("file\nname.txt", newlines=False)
