"""The user's documents (rag/index/library.py, ui/naming.py), saved conversations (ui/saved.py), example
questions (ui/suggest.py) and its streaming turn (ui/app.py ChatApp.chat_turn), fast: the real
indexer, FAISS and BM25 with the deterministic fake embedder; the browser tests run the same flows on
the real model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rag.config import SEED_ARTICLE, Settings
from rag.index import library
from rag.index.indexer import update_index
from rag.pipeline import Engine
from rag.types import Answer, Citation, Document
from tests.conftest import FakeEmbedder
from ui import naming, saved
from ui.render import Conversation
from ui.suggest import counted, examples, informative, names

NOTES = "# Notes\n\nThe orchard has 40 apple trees. Ada Lovelace planted them in spring.\n"


@pytest.fixture
def indexed(tiny_settings: Settings, tiny_corpus: Path, fake_embedder: FakeEmbedder) -> Settings:
    update_index(tiny_settings, lambda: fake_embedder, [tiny_corpus])
    return tiny_settings


def upload(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "browser-upload"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_subject_names_the_article_only_when_it_is_the_article() -> None:
    assert naming.subject([SEED_ARTICLE]) == "the article"
    assert naming.subject(["notes.md"]) == "notes.md"
    assert naming.subject([SEED_ARTICLE, "notes.md"]) == "the documents"
    assert naming.title(["notes.md"]) == "Ask notes.md"


def test_upload_is_stored_in_the_index_and_only_new_text_is_embedded(
    indexed: Settings, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    before = fake_embedder.texts_encoded
    change = library.add_files(indexed, lambda: fake_embedder, [upload(tmp_path, "notes.md", NOTES)])
    docs = change.index.store.documents
    assert set(docs) == {"boat-race.txt", "notes.md"}
    assert Path(docs["notes.md"].source).parent == (indexed.index_dir / "uploads").resolve()
    assert library.is_upload(docs["notes.md"], indexed) and not library.is_upload(
        docs["boat-race.txt"], indexed
    )
    embedded = fake_embedder.texts_encoded - before
    assert 0 < embedded == change.index.report.sentences_embedded  # the boat race kept its vectors
    assert "Added notes.md" in change.message
    again = library.add_files(indexed, lambda: fake_embedder, [upload(tmp_path, "notes.md", NOTES)])
    assert again.index.report.sentences_embedded == 0


def test_removing_an_upload_deletes_it_and_removing_own_files_leaves_them_on_disk(
    indexed: Settings, tiny_corpus: Path, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    (tiny_corpus / "second.txt").write_text("A second file about kites. Kites fly high.\n", encoding="utf-8")
    update_index(indexed, lambda: fake_embedder, [tiny_corpus])
    docs = library.add_files(
        indexed, lambda: fake_embedder, [upload(tmp_path, "n.md", NOTES)]
    ).index.store.documents
    stored = Path(docs["n.md"].source)

    gone = library.remove_document(indexed, lambda: fake_embedder, dict(docs), "n.md")
    assert "n.md" not in gone.index.store.documents and not stored.exists()

    docs = gone.index.store.documents
    kept = library.remove_document(indexed, lambda: fake_embedder, dict(docs), "second.txt")
    assert set(kept.index.store.documents) == {"boat-race.txt"}
    assert (tiny_corpus / "second.txt").exists()  # the user's own file is never deleted
    assert "left where it is" in kept.message
    with pytest.raises(library.LibraryError, match="only document"):
        library.remove_document(
            indexed, lambda: fake_embedder, dict(kept.index.store.documents), "boat-race.txt"
        )


def test_uploads_are_checked_before_anything_is_written(indexed: Settings, tmp_path: Path) -> None:
    big = upload(tmp_path, "big.txt", "x" * (library.MAX_UPLOAD_BYTES + 1))
    with pytest.raises(library.LibraryError, match="limited to 5 MB"):
        library.add_files(indexed, FakeEmbedder, [big])
    with pytest.raises(library.LibraryError, match=r"not a \.txt, \.md, \.html, \.csv, \.pdf or \.docx file"):
        library.add_files(indexed, FakeEmbedder, [upload(tmp_path, "run.sh", "echo hi")])
    assert not (indexed.index_dir / "uploads").exists()
    assert library.safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert library.safe_name("..\\..\\évil name.md") == "évil_name.md"


def test_a_question_can_be_limited_to_chosen_documents(
    indexed: Settings, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    library.add_files(indexed, lambda: fake_embedder, [upload(tmp_path, "notes.md", NOTES)])
    engine = Engine.load(indexed, fake_embedder)
    everywhere = engine.ask("Who won the boat race?", k=10)
    assert {p.chunk.doc_id for p in everywhere.passages} == {"boat-race.txt", "notes.md"}
    only = engine.ask("Who won the boat race?", k=10, doc_ids=frozenset({"notes.md"}))
    assert only.passages and {p.chunk.doc_id for p in only.passages} == {"notes.md"}
    assert all(c.doc_id == "notes.md" for c in only.citations)


def test_saved_conversation_keeps_only_quotes_that_still_verify() -> None:
    doc = Document("a.txt", "Ten boats raced. Mara won.", "0")
    good = Answer("Who won?", "“Mara won.” [1]", False, (Citation("a.txt", 17, 26, "Mara won."),))
    forged = Answer("Who lost?", "“Mara lost.” [1]", False, (Citation("a.txt", 17, 27, "Mara lost."),))
    conv = Conversation().add("Who won?", good).add("Who lost?", forged)
    back = saved.loads(saved.dumps(conv), {"a.txt": doc})
    assert [t.question for t in back.turns] == ["Who won?"]
    assert back.turns[0].answer.citations == good.citations
    for junk in ("", "{", "[]", '{"turns": [{"question": 1}]}', None, "x" * (saved.MAX_CHARS + 1)):
        assert saved.loads(junk, {"a.txt": doc}).turns == ()


def test_example_candidates_come_from_the_text() -> None:
    assert names("Talks in Minsk. Then John Coale met him; John Coale left.") == ["John Coale", "Minsk"]
    assert counted("The orchard has 40 apple trees and 2024 was dry.") == ["apple trees"]


def test_examples_keep_only_questions_answered_with_more_than_their_topic() -> None:
    doc = Document("n.md", NOTES, "0")
    heading = Answer("q", "“# Notes” [1]", False, (Citation("n.md", 0, 7, "# Notes"),))
    full = Answer("q", "…", False, (Citation("n.md", 9, 39, NOTES[9:39]),))
    refused = Answer("q", "The article does not say.", True)
    asked: list[str] = []

    def ask(question: str) -> Answer:
        asked.append(question)
        return {"How many apple trees?": full, "What about notes?": heading}.get(question, refused)

    assert examples({"n.md": doc}, ask) == ["How many apple trees?"]
    assert "What about notes?" in asked  # tried, and dropped: its quote is the heading itself
    assert not informative("What about notes?", heading)


# ---------------------------------------------------------------- the chat turn, streamed


@dataclass
class StreamingEngine:
    """An engine whose reader writes in pieces (as an LLM reader would), over a real store."""

    inner: Engine
    pieces: tuple[str, ...] = ("Mara ", "Quill ", "won.")
    asked: list[frozenset[str] | None] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.inner.settings

    @property
    def documents(self) -> Any:
        return self.inner.documents

    @property
    def embedder(self) -> Any:
        return self.inner.embedder

    def ask(self, question: str, history: Any = (), **kw: Any) -> Answer:
        return self.inner.ask(question, history, **kw)

    def stream(self, question: str, history: Any = (), **kw: Any) -> Iterator[str | Answer]:
        self.asked.append(kw.get("doc_ids"))
        yield from self.pieces
        yield self.inner.ask(question, history, **kw)


def test_chat_turn_shows_a_provisional_bubble_then_the_verified_answer(
    indexed: Settings, fake_embedder: FakeEmbedder
) -> None:
    from ui.app import ChatApp

    engine = StreamingEngine(Engine.load(indexed, fake_embedder))
    app = ChatApp(engine)  # type: ignore[arg-type]
    steps = list(app.chat_turn("Who won the race?", 5, ["boat-race.txt"], Conversation()))
    chats = [step[0] for step in steps]
    assert 'aria-busy="true"' in chats[0] and "Looking in boat-race.txt" in chats[0]
    assert [c.count('class="draft"') for c in chats[1:4]] == [1, 1, 1]
    assert "Mara Quill won." in chats[3] and "not yet checked" in chats[3]
    final = steps[-1]
    assert "aria-busy" not in final[0] and 'data-kind="pending"' not in final[0]
    assert len(final[2].turns) == 1 and final[4]  # the conversation, and its saved copy
    assert engine.asked == [None]  # every document chosen: no filter

    (empty,) = list(app.chat_turn("   ", 5, None, Conversation()))
    assert not any(isinstance(output, str) for output in empty)  # nothing changes: no bubble, no message
