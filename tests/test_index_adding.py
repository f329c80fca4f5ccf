"""Adding is adding: `rag index PATH` adds PATH to what the index holds, `--replace` replaces, `rag
remove DOC` takes a document (or a whole source) out, and the summary says which, in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import change_summary, main
from rag.config import Settings
from rag.errors import NoDocumentsError
from rag.index.indexer import add_to_index, combined_sources, remove_from_index, update_index
from rag.index.store import BuildReport, read_manifest
from tests.conftest import FakeEmbedder


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def two_folders(tmp_path: Path) -> tuple[Path, Path]:
    notes = _write(
        tmp_path / "notes", {"ferry.txt": "Ines Varga pilots the ferry.\n", "sub/kelp.txt": "Kelp grows.\n"}
    )
    more = _write(tmp_path / "more", {"race.md": "# Race\n\nMara won the boat race.\n"})
    return notes, more


def test_adding_keeps_what_the_index_had(tmp_path: Path, two_folders: tuple[Path, Path]) -> None:
    notes, more = two_folders
    settings = Settings(seeds_dir=tmp_path / "no-seeds", index_dir=tmp_path / "index")
    first = add_to_index(settings, FakeEmbedder, [notes])
    assert set(first.store.documents) == {"ferry.txt", "sub/kelp.txt"}

    added = add_to_index(settings, FakeEmbedder, [more])
    assert set(added.store.documents) == {"ferry.txt", "sub/kelp.txt", "race.md"}
    assert added.report.added_docs == ("race.md",) and set(added.report.reused_docs) == {
        "ferry.txt",
        "sub/kelp.txt",
    }
    manifest = read_manifest(settings.index_dir)
    assert manifest is not None and manifest["sources"] == [str(notes.resolve()), str(more.resolve())]

    again = add_to_index(settings, FakeEmbedder, [notes / "ferry.txt"])  # already held: nothing to do
    assert again.up_to_date and set(again.store.documents) == set(added.store.documents)

    replaced = update_index(settings, FakeEmbedder, [more])  # what --replace runs
    assert set(replaced.store.documents) == {"race.md"}
    assert set(replaced.report.removed_docs) == {"ferry.txt", "sub/kelp.txt"}


def test_adding_after_a_source_was_moved_away(tmp_path: Path, two_folders: tuple[Path, Path]) -> None:
    notes, more = two_folders
    settings = Settings(seeds_dir=tmp_path / "no-seeds", index_dir=tmp_path / "index")
    add_to_index(settings, FakeEmbedder, [notes])
    notes.rename(tmp_path / "moved")
    result = add_to_index(settings, FakeEmbedder, [more])
    assert set(result.store.documents) == {"race.md"}
    assert set(result.report.removed_docs) == {"ferry.txt", "sub/kelp.txt"}


def test_removing_a_document_or_a_source(tmp_path: Path, two_folders: tuple[Path, Path]) -> None:
    notes, more = two_folders
    settings = Settings(seeds_dir=tmp_path / "no-seeds", index_dir=tmp_path / "index")
    update_index(settings, FakeEmbedder, [notes, more])

    by_id = remove_from_index(settings, FakeEmbedder, ["sub/kelp.txt"])  # a file inside a recorded folder
    assert set(by_id.store.documents) == {"ferry.txt", "race.md"}
    assert (notes / "sub" / "kelp.txt").exists()  # the file itself is left alone

    by_folder = remove_from_index(settings, FakeEmbedder, [str(more)])  # a whole source, by its path
    assert set(by_folder.store.documents) == {"ferry.txt"}

    with pytest.raises(NoDocumentsError, match="neither a document in the index"):
        remove_from_index(settings, FakeEmbedder, ["nothing.txt"])
    with pytest.raises(NoDocumentsError, match=r"would leave the index .* with no documents"):
        remove_from_index(settings, FakeEmbedder, ["ferry.txt"])


def test_combined_sources_take_in_what_they_hold(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "a" / "b"
    b.mkdir(parents=True)
    assert combined_sources([b], [a]) == [a.resolve()]  # the added folder holds the recorded one
    assert combined_sources([a], [b]) == [a]  # already held
    assert combined_sources([], [a, a]) == [a.resolve()]


def test_the_summary_names_what_was_added_changed_and_removed() -> None:
    report = BuildReport(
        embedded_docs=("new.md", "edited.txt"),
        reused_docs=("same.txt",),
        removed_docs=("old.txt",),
        added_docs=("new.md",),
    )
    assert change_summary(report) == (
        "added 1 document (new.md); changed 1 document (edited.txt); "
        "removed 1 document (old.txt); 1 unchanged"
    )
    many = BuildReport(
        embedded_docs=tuple(f"d{i}.txt" for i in range(7)), added_docs=tuple(f"d{i}.txt" for i in range(7))
    )
    assert change_summary(many).startswith(
        "added 7 documents (d0.txt, d1.txt, d2.txt, d3.txt, d4.txt and 2 more)"
    )


def test_rag_index_adds_replaces_and_removes(
    tmp_path: Path, two_folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The commands themselves, with the real model."""
    notes, more = two_folders
    index = str(tmp_path / "index")

    def run(*args: str) -> str:
        code = main([args[0], "--index-dir", index, *args[1:]])
        out, err = capsys.readouterr()
        assert code == 0, err
        return out

    assert "added 2 documents (ferry.txt, sub/kelp.txt)" in run("index", str(notes))
    out = run("index", str(more))
    assert (
        "indexed 3 documents" in out
        and "added 1 document (race.md); changed none; removed none; 2 unchanged" in out
    )
    out = run("remove", "race.md")
    assert "indexed 2 documents" in out and "removed 1 document (race.md)" in out
    out = run("index", "--replace", str(more))
    assert "indexed 1 document " in out and "removed 2 documents (ferry.txt, sub/kelp.txt)" in out
    assert main(["index", "--index-dir", index, "--replace"]) == 1
    assert "--replace needs the documents" in capsys.readouterr().err
