"""ask(question, history) -> Answer: the one entry point the CLI, the UI and the evals share.

The model and the index are loaded once per process (per index folder and settings) and
shared by every call; a call never raises for any string, it answers, abstains or says what is
wrong with the question in `Answer.error`.

>>> from rag import ask                                  # doctest: +SKIP
>>> ask("How many political prisoners were freed?").direct_answer   # doctest: +SKIP
'52 political prisoners'
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rag.config import RetrievalMode, Settings
from rag.embed import Embedder, SentenceTransformerEmbedder
from rag.errors import QuestionError
from rag.followup import resolve
from rag.indexer import IndexResult, open_index
from rag.readers import Reader, final, get_reader
from rag.retrieve import Retriever
from rag.smalltalk import small_talk
from rag.types import Answer

History = Sequence[tuple[str, str]]


@dataclass
class Engine:
    """A loaded model, index and BM25; safe to share between threads."""

    settings: Settings
    embedder: Embedder
    retriever: Retriever
    index: IndexResult
    reader: Reader | None = None  # default: the one settings.reader names

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
        reply = small_talk(text, list(retriever.store.documents))
        if reply is not None:  # a greeting, thanks, or a question not in English
            yield reply
            return
        resolved = resolve(text, _clean_history(history))
        t1 = time.perf_counter()
        qvec = self.embedder.encode([resolved])[0]
        t2 = time.perf_counter()
        retrieval = retriever.search(resolved, qvec, k or self.settings.top_k, mode, doc_ids)
        t3 = time.perf_counter()
        if self.reader is None:
            self.reader = get_reader(self.settings)
        reader = self.reader
        first = 0.0
        for piece in reader.stream(resolved, retrieval, retriever, text):
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


def _clean_history(history: History) -> list[tuple[str, str]]:
    turns = []
    for turn in history or ():
        if isinstance(turn, (tuple, list)) and len(turn) == 2:
            turns.append((str(turn[0] or "")[:2000], str(turn[1] or "")[:2000]))
    return turns


def _with_timings(answer: Answer, timings: dict[str, float]) -> Answer:
    answer.timings_ms.update(timings)
    return answer


_engines: dict[Settings, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine for `settings` (default: from the environment), loaded on first use."""
    settings = settings or Settings.from_env()
    with _engines_lock:
        engine = _engines.get(settings)
        if engine is None:
            engine = _engines[settings] = Engine.load(settings)
        return engine


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
