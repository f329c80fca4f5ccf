"""ask(question, history) -> Answer: the one entry point the CLI, the UI and the evals share.

The model and the index are loaded once per process (per index folder and settings) and
shared by every call; a call never raises for any string, it answers, abstains or says what is
wrong with the question in `Answer.error`.

>>> from rag import ask                                  # doctest: +SKIP
>>> ask("How many political prisoners were freed?").direct_answer   # doctest: +SKIP
'52 political prisoners'
"""

from __future__ import annotations

import dataclasses
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.config import RetrievalMode, Settings
from rag.errors import QuestionError, RagError
from rag.index import library
from rag.index.embed import Embedder, SentenceTransformerEmbedder
from rag.index.indexer import IndexResult, open_index
from rag.index.library import Change
from rag.index.store import MANIFEST
from rag.index.store import load as load_store
from rag.query import make_query
from rag.query.followup import History
from rag.query.smalltalk import small_talk
from rag.readers import Reader, final, get_reader, resolve_reader
from rag.retrieve import Retriever
from rag.types import Answer, Document


@dataclass(frozen=True)
class _Live:
    retriever: Retriever
    index: IndexResult


@dataclass
class _Served:
    """The index an engine answers from now, shared by every engine over the same loaded model."""

    live: _Live  # replaced in one assignment when the index changes
    changing: threading.Lock = field(default_factory=threading.Lock)  # one index change at a time
    stamp: tuple[int, int, int] | None = None  # the manifest last seen: (inode, size, mtime)


class Engine:
    """A loaded model, index and BM25; safe to share between threads.

    The engine owns its index's life: `add_files`, `remove_document` and `reload` (a generation that
    `rag index` committed meanwhile) swap in the new index between questions; a question already
    being answered finishes on the index it started with."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        retriever: Retriever,
        index: IndexResult,
        reader: Reader | None = None,  # default: the one settings.reader names
        *,
        served: _Served | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.reader = reader
        self._served = served or _Served(_Live(retriever, index))

    @property
    def retriever(self) -> Retriever:
        return self._served.live.retriever

    @property
    def index(self) -> IndexResult:
        return self._served.live.index

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None) -> Engine:
        # the model loads in a thread while the index loads and BM25 is built
        if embedder is None:
            embedder = SentenceTransformerEmbedder(background=True)
        holder: list[Embedder] = [embedder]

        def factory() -> Embedder:
            return holder[0]

        index = open_index(settings, factory)
        return cls(settings, factory(), Retriever(index.store, settings), index)

    @property
    def documents(self) -> dict[str, Document]:
        """The documents answered from now, by id."""
        return self.retriever.store.documents

    @property
    def manifest_path(self) -> Path:
        """The file whose change means a new index generation was committed."""
        return self.settings.index_dir / MANIFEST

    def with_settings(self, settings: Settings) -> Engine:
        """This engine's model and index with other query settings (top_k, reader, thresholds); its
        reader is made anew from them (the LLM reader's model is loaded once per process anyway)."""
        if settings == self.settings:
            return self
        return Engine(settings, self.embedder, self.retriever, self.index, served=self._served)

    def add_files(self, paths: Sequence[Path], *, embedder: Embedder | None = None) -> Change:
        """Copy `paths` into the index's uploads folder, index them with the rest, answer from them.
        A name the index already holds gets a new one; `embedder` stands in for the engine's own
        (one that reports progress)."""
        with self._served.changing:
            use = embedder or self.embedder
            change = library.add_files(self.settings, lambda: use, paths, taken=set(self.documents))
            self._serve(change.index)
            return change

    def remove_document(self, doc_id: str, *, embedder: Embedder | None = None) -> Change:
        """Take `doc_id` out of the index (its file is deleted only when it was an upload)."""
        with self._served.changing:
            use = embedder or self.embedder
            change = library.remove_document(self.settings, lambda: use, self.documents, doc_id)
            self._serve(change.index)
            return change

    def index_changed(self) -> bool:
        """Has the index folder's manifest changed since last looked at (a cheap stat)?"""
        try:
            st = self.manifest_path.stat()
        except OSError:
            return False
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        changed = self._served.stamp is not None and stamp != self._served.stamp
        self._served.stamp = stamp
        return changed

    def reload(self) -> str:
        """Answer from the index generation now committed on disk when it is newer than the one
        served; the notice for a log ('' when nothing changed). A generation that does not load
        leaves the old one serving, with a warning."""
        with self._served.changing:
            settings = self.settings
            current = self.retriever.store.manifest.get("generation")
            try:
                store = load_store(settings.index_dir, settings, settings.model_name)
            except (RagError, OSError) as exc:
                return (
                    f"warning: the index in {settings.index_dir} changed but cannot be loaded ({exc}); "
                    f"still answering from {current}"
                )
            generation = store.manifest.get("generation")
            if generation == current:
                return ""
            index = dataclasses.replace(self.index, store=store, up_to_date=True, reason="new generation")
            self._serve(dataclasses.replace(index, warning=""))
            return (
                f"notice: the index in {settings.index_dir} has a new generation {generation} "
                f"({len(store.documents)} documents, {len(store.vectors)} sentences); answering from it now"
            )

    def _serve(self, index: IndexResult) -> None:
        # one assignment: a question reads self.retriever once and keeps that index throughout
        self._served.live = _Live(Retriever(index.store, self.settings), index)

    def reader_choice(self) -> tuple[str, str]:
        """Who writes this engine's answers ("llm" or "extractive") and, when `auto` could not pick the
        LLM reader, why not ("" otherwise)."""
        settings, missing = resolve_reader(self.settings)
        return settings.reader, missing

    def ask(
        self,
        question: str,
        history: History = (),
        *,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        doc_ids: frozenset[str] | None = None,
    ) -> Answer:
        """The verified answer; `doc_ids` limits the search to those documents (None: all of them)."""
        return final(self.stream(question, history, k=k, mode=mode, doc_ids=doc_ids))

    def stream(
        self,
        question: str,
        history: History = (),
        *,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        doc_ids: frozenset[str] | None = None,
    ) -> Iterator[str | Answer]:
        """The answer as it is written: text pieces (str) as a reader produces them, then the
        final, verified `Answer` (always last, always exactly once). Shown text pieces are a
        preview; the final Answer is what counts (verification may drop sentences)."""
        t0 = time.perf_counter()
        retriever = self.retriever  # one index for the whole answer, even if a new one is swapped in
        try:
            text = clean_question(question, self.settings.max_question_chars)
        except QuestionError as exc:
            yield Answer(question=str(question)[:200], answer=str(exc), abstained=True, error=str(exc))
            return
        reply = small_talk(text, list(retriever.store.documents), retriever.vocabulary.names)
        if reply is not None:  # a greeting, thanks, or a question not in English
            yield reply
            return
        query = make_query(text, _clean_history(history), retriever.vocabulary)
        t1 = time.perf_counter()
        qvec = self.embedder.encode([query.text])[0]
        t2 = time.perf_counter()
        evidence = retriever.evidence(query, qvec, k or self.settings.top_k, mode, doc_ids)
        t3 = time.perf_counter()
        if self.reader is None:
            self.reader = get_reader(self.settings)
        reader = self.reader
        first = 0.0
        for piece in reader.stream(evidence):
            if isinstance(piece, Answer):
                t4 = time.perf_counter()
                timings = {
                    "encode": (t2 - t1) * 1e3,
                    "retrieve": (t3 - t2) * 1e3,
                    "answer": (t4 - t3) * 1e3,
                    "first_token": ((first or t4) - t0) * 1e3,
                    "total": (t4 - t0) * 1e3,
                }
                yield _with_timings(piece, timings)
                return
            if piece and not first:
                first = time.perf_counter()
            yield piece


def clean_question(question: object, max_chars: int) -> str:
    """The question as text: control characters dropped, white space folded; QuestionError if unusable."""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, got {type(question).__name__}")
    if len(question) > max_chars:
        raise QuestionError(
            f"the question is {len(question):,} characters long; the limit is {max_chars:,}. "
            "Ask something shorter."
        )
    kept = "".join(" " if unicodedata.category(ch).startswith(("C", "Z")) else ch for ch in question)
    text = " ".join(kept.split())
    if not text:
        raise QuestionError("the question is empty; type a question about the article")
    if not any(ch.isalnum() for ch in text):
        raise QuestionError("the question has no words in it; type a question about the article")
    return text


def _clean_history(history: History) -> list[tuple[str, str | Answer]]:
    """Well-formed turns only: (question, Answer) kept as they are, text cut to 2,000 characters."""
    turns: list[tuple[str, str | Answer]] = []
    for turn in history or ():
        if isinstance(turn, (tuple, list)) and len(turn) == 2:
            answer = turn[1] if isinstance(turn[1], Answer) else str(turn[1] or "")[:2000]
            turns.append((str(turn[0] or "")[:2000], answer))
    return turns


def _with_timings(answer: Answer, timings: dict[str, float]) -> Answer:
    answer.timings_ms.update(timings)
    return answer


_engines: dict[tuple[object, ...], Engine] = {}
_engines_lock = threading.Lock()


def _load_key(settings: Settings) -> tuple[object, ...]:
    """What a second load would differ in: the index folder, its sources and how it is built and
    embedded. Query settings (top_k, reader, thresholds) share the loaded engine."""
    return (
        settings.index_dir.resolve(),
        settings.seeds_dir.resolve(),
        settings.model_name,
        settings.chunk_chars,
        settings.overlap_sentences,
        settings.hnsw_min_chunks,
        settings.max_document_bytes,
    )


def get_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine for `settings` (default: from the environment), loaded on first use;
    settings that differ only in how questions are answered share one model and index."""
    settings = settings or Settings.from_env()
    with _engines_lock:
        key = _load_key(settings)
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = Engine.load(settings)
        return engine.with_settings(settings)


def reset_engines() -> None:
    """Forget loaded engines (after the index was rebuilt by hand, or in tests)."""
    with _engines_lock:
        _engines.clear()


def ask(
    question: str,
    history: History = (),
    *,
    k: int | None = None,
    settings: Settings | None = None,
    mode: RetrievalMode | None = None,
) -> Answer:
    """Answer `question` about the indexed documents, using `history` [(question, answer), ...]."""
    return get_engine(settings).ask(question, history, k=k, mode=mode)
