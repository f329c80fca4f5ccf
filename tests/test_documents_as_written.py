"""Documents as people write them, through the real pipeline (real model, real FAISS, the extractive
reader): hard-wrapped text reads as sentences, a table row is quoted whole with its header (HTML,
Markdown, CSV, Word), a PDF's citation names its page, and a scan without text is refused clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.terminal import format_answer
from rag.cite import verify
from rag.config import Settings
from rag.errors import DocumentError
from rag.index.chunk import chunk_text, paragraphs, sentences
from rag.index.ingest import parse_document, read_document
from rag.types import Answer
from tests import sample_documents as samples


@pytest.fixture(scope="module")
def sample_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("samples") / "docs"
    samples.write_samples(folder)
    return folder


@pytest.fixture(scope="module")
def docs_engine(sample_folder: Path, real_embedder):  # type: ignore[no-untyped-def]
    from rag.pipeline import Engine

    settings = Settings(seeds_dir=sample_folder, index_dir=sample_folder.parent / "index")
    return Engine.load(settings, real_embedder)


def _quotes_from(answer: Answer, doc_id: str) -> list[str]:
    return [c.quote for c in answer.citations if c.doc_id == doc_id]


def _assert_verified(answer: Answer, engine) -> None:  # type: ignore[no-untyped-def]
    documents = engine.index.store.documents
    assert answer.citations and all(verify(c, documents) for c in answer.citations)


# ---------------------------------------------------------------- text as written


def test_a_hard_wrap_is_not_a_sentence_end() -> None:
    text = samples.MEETING_NOTES
    found = [text[s.start : s.end] for p0, p1 in paragraphs(text) for s in sentences(text, p0, p1)]
    assert any(s.startswith("The release of version 4.0") and s.endswith("staging servers.") for s in found)
    assert all(s[-1] in ".;,0123456789" or s == found[0] for s in found), found  # none ends at a wrap
    for chunk in chunk_text("notes.txt", text, 400, 1):
        assert text[chunk.start : chunk.end] == chunk.text


def test_hard_wrapped_text_without_blank_lines_finds_its_paragraphs() -> None:
    text = samples.MEETING_NOTES.replace("\n\n", "\n")
    found = [text[a:b] for a, b in paragraphs(text, hard_wraps=True)]
    assert found[0] == "Platform team meeting, 3 November 2026"  # a short line: a heading
    assert found[1].startswith("Present:") and found[1].endswith("before the release.")
    assert found[2].startswith("The budget") and len(found) == 3
    assert len(paragraphs(text)) == len(text.splitlines())  # extracted text (HTML, PDF): a block a line
    assert paragraphs("One.\nTwo.\nThree.", hard_wraps=True) == [(0, 4), (5, 9), (10, 16)]  # never joined


def test_wrapped_text_is_quoted_as_written_with_the_reason_kept(docs_engine) -> None:  # type: ignore[no-untyped-def]
    answer = docs_engine.ask("Why does the release move to 17 November?")
    assert not answer.abstained, answer.answer
    _assert_verified(answer, docs_engine)
    quotes = _quotes_from(answer, "meeting-notes.txt")
    assert any("because the\ndatabase migration needs another round of testing" in q for q in quotes), quotes


def test_a_table_row_is_one_sentence_even_with_abbreviations() -> None:
    text = "Intro line.\nOffice: Kraków · Address: ul. Lubicz 23 · Opens: 8:30\nKraków | ul. Lubicz 23 | 8:30"
    got = [text[s.start : s.end] for s in sentences(text)]
    assert got == ["Intro line.", *text.splitlines()[1:]]


# ---------------------------------------------------------------- tables


@pytest.mark.parametrize(
    ("question", "doc_id", "row_starts", "cell"),
    [
        ("Who is on call in week 3?", "handbook.md", "Week: 3 · Primary on-call: ", "Jonas Keller"),
        ("What's the pager number for week 2?", "handbook.md", "Week: 2 · ", "Pager: +44 20 7946 0102"),
        ("When does the Kraków office open?", "offices.html", "Office: Kraków · ", "Opens: 8:30"),
        ("Who owns the label printer?", "equipment.csv", "Item: Label printer · ", "Owner: Tomasz Nowak"),
        ("How much is the hotel allowance in Vienna?", "travel-policy.docx", "City: Vienna · ", "150 euros"),
    ],
)
def test_a_question_about_a_cell_is_answered_with_its_row(  # type: ignore[no-untyped-def]
    docs_engine, question: str, doc_id: str, row_starts: str, cell: str
) -> None:
    answer = docs_engine.ask(question)
    assert not answer.abstained, (question, answer.answer)
    _assert_verified(answer, docs_engine)
    first = answer.citations[0]
    assert first.doc_id == doc_id and first.quote.startswith(row_starts) and cell in first.quote, first
    assert "\n" not in first.quote  # the whole row, and only the row


def test_every_table_format_gives_rows_with_their_header(sample_folder: Path) -> None:
    read = {p.name: read_document(p, p.name, 10**7).text.splitlines() for p in sample_folder.iterdir()}
    assert (
        "Week: 3 · Primary on-call: Jonas Keller · Backup: Mei Lin · Pager: +44 20 7946 0103"
        in read["handbook.md"]
    )
    assert (
        "Office: Kraków · Address: ul. Lubicz 23, 31-503 Kraków · Opens: 8:30 · Closes: 17:00"
        in read["offices.html"]
    )
    assert (
        read["equipment.csv"][0] == "Item: Projector · Owner: Mei Lin · Room: 2.14 · Serial number: PJ-55102"
    )
    assert "City: Warsaw · Hotel per night: 110 euros · Meals per day: 35 euros" in read["travel-policy.docx"]
    for lines in read.values():  # a header is carried by its rows, never a line of its own
        assert not any(line.startswith(("Week | ", "Office | ", "Item | ", "City | ")) for line in lines)


def test_csv_with_semicolons_and_a_cell_across_lines() -> None:
    raw = 'Name;Note\nAna;"first line\nsecond line"\n'
    doc = parse_document(raw.encode(), "n.csv", Path("/nowhere/n.csv"))
    assert doc.text == "Name: Ana · Note: first line second line"


# ---------------------------------------------------------------- PDF and Word


def test_a_pdf_answer_names_its_page(docs_engine) -> None:  # type: ignore[no-untyped-def]
    answer = docs_engine.ask("Where is the fire assembly point?")
    assert not answer.abstained, answer.answer
    _assert_verified(answer, docs_engine)
    first = answer.citations[0]
    assert first.doc_id == "safety.pdf" and first.page == 2, first
    assert "car park behind building C" in first.quote
    assert json.loads(json.dumps(answer.to_dict()))["citations"][0]["page"] == 2
    assert "safety.pdf, page 2, characters" in format_answer(answer)


def test_unpaged_documents_cite_no_page(docs_engine) -> None:  # type: ignore[no-untyped-def]
    answer = docs_engine.ask("Who is on call in week 3?")
    assert answer.citations and all(c.page is None for c in answer.citations)
    assert answer.to_dict()["citations"][0]["page"] is None


def test_pdf_paragraphs_are_lines_and_pages_are_counted(sample_folder: Path) -> None:
    from rag.index.pdf import page_at

    text = read_document(sample_folder / "safety.pdf", "safety.pdf", 10**7).text
    lines = [line.lstrip("\f") for line in text.splitlines()]
    assert lines[0] == "Office safety" and "Fire" in lines  # headings stay lines of their own
    for _heading, paras in samples.SAFETY_PAGES:  # each wrapped paragraph comes back as one line
        for para in paras:
            assert para in lines
    assert page_at(text, text.index("First aid kits")) == 1
    assert page_at(text, text.index("The fire assembly point")) == 2


def test_a_scanned_pdf_is_refused_with_a_way_out(tmp_path: Path) -> None:
    scan = samples.write_scanned_pdf(tmp_path / "scan.pdf")
    with pytest.raises(DocumentError) as caught:
        read_document(scan, "scan.pdf", 10**7)
    message = str(caught.value)
    assert "no text layer" in message and "OCR" in message and str(scan) in message


def test_a_broken_pdf_or_docx_is_refused_by_name(tmp_path: Path) -> None:
    for name in ("broken.pdf", "broken.docx"):
        path = tmp_path / name
        path.write_bytes(b"this is not what the name says" * 10)
        with pytest.raises(DocumentError) as caught:
            read_document(path, name, 10**7)
        assert str(path) in str(caught.value) and "save" in str(caught.value)


def test_docx_keeps_the_order_of_paragraphs_and_tables(sample_folder: Path) -> None:
    text = read_document(sample_folder / "travel-policy.docx", "t.docx", 10**7).text
    lines = text.splitlines()
    assert lines[:3] == samples.TRAVEL_POLICY_TEXT
    assert lines[3] == "Allowances" and lines[4].startswith("City: Berlin · Hotel per night: 140 euros")


def test_the_documents_panel_takes_pdf_docx_and_csv(tmp_path: Path) -> None:
    from rag.index import library
    from tests.conftest import TINY_TEXT, FakeEmbedder

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "boat-race.txt").write_text(TINY_TEXT, encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    picked = tmp_path / "picked"
    picked.mkdir()
    files = [samples.write_pdf(picked / "safety.pdf"), samples.write_docx(picked / "travel-policy.docx")]
    (picked / "equipment.csv").write_text(samples.EQUIPMENT, encoding="utf-8")
    assert {".pdf", ".docx", ".csv"} <= set(library.UPLOAD_SUFFIXES)

    change = library.add_files(settings, FakeEmbedder, [*files, picked / "equipment.csv"])

    assert {"safety.pdf", "travel-policy.docx", "equipment.csv", "boat-race.txt"} <= set(
        change.index.store.documents
    )
    assert "Not indexed" not in change.message


def test_a_scanned_pdf_is_not_parsed_again_while_it_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.index import ingest
    from rag.index.indexer import open_index, update_index
    from tests.conftest import TINY_TEXT, FakeEmbedder

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "boat-race.txt").write_text(TINY_TEXT, encoding="utf-8")
    samples.write_scanned_pdf(folder / "scan.pdf")
    settings = Settings(seeds_dir=folder, index_dir=tmp_path / "index")
    first = update_index(settings, FakeEmbedder, [folder])
    assert [Path(s.path).name for s in first.skipped] == ["scan.pdf"]

    parsed: list[str] = []
    real_parse = ingest.parse_document
    monkeypatch.setattr(
        ingest,
        "parse_document",
        lambda data, doc_id, path: parsed.append(doc_id) or real_parse(data, doc_id, path),
    )
    opened = open_index(settings, FakeEmbedder)
    assert opened.up_to_date and parsed == []
    assert [s.reason for s in opened.skipped] == [s.reason for s in first.skipped]  # still said, not re-read

    samples.write_pdf(folder / "scan.pdf")  # the scan replaced by a PDF with text: read afresh
    assert "scan.pdf" in open_index(settings, FakeEmbedder).store.documents
    assert "scan.pdf" in parsed
