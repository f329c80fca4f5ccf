"""SQuAD v2.0 files as articles to index and questions to ask, and an engine for one article.

The official JSON format: `{"version": "v2.0", "data": [{"title", "paragraphs": [{"context",
"qas": [{"id", "question", "is_impossible", "answers": [{"text", "answer_start"}]}]}]}]}`.
Each article becomes one document: its paragraphs joined with a blank line, in order, so a
gold answer's offset in its paragraph plus the paragraph's offset in the document is where it
stands in the indexed text (`document_text[start:start + len(answer)] == answer`).

    >>> articles = load_squad(Path("dev-v2.0.json"))                       # doctest: +SKIP
    >>> engine = build_article_engine(articles[0], Path("/tmp/a"), Settings(), embedder)  # doctest: +SKIP
    >>> engine.ask(articles[0].questions[0].question).direct_answer           # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.datasets import DatasetError
from rag.config import Settings

if TYPE_CHECKING:
    from rag.index.embed import Embedder
    from rag.pipeline import Engine

PARAGRAPH_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[str, ...]  # every annotator's answer text (repeats kept); () when unanswerable
    answer_starts: tuple[int, ...]  # per answer: its offset in the article's document_text, -1 if not found
    is_impossible: bool


@dataclass(frozen=True)
class SquadArticle:
    title: str
    document_text: str  # the paragraphs joined with PARAGRAPH_SEPARATOR
    questions: tuple[SquadQuestion, ...]

    @property
    def file_name(self) -> str:
        """The document's file name in its index folder: the title made safe for a path."""
        return re.sub(r"[^A-Za-z0-9._-]+", "_", self.title).strip("._") + ".txt"


def load_squad(path: Path) -> tuple[SquadArticle, ...]:
    """The articles of a SQuAD v2.0 JSON file, in file order; DatasetError naming what is wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(
            f"no SQuAD file at {path}; pass --dataset PATH to a SQuAD v2.0 .json file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read the SQuAD file {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"{path} is not JSON ({exc.msg} at line {exc.lineno}); a .json dataset must be in the SQuAD v2.0 "
            "format, a JSON Lines set must end in .jsonl"
        ) from None
    return parse_squad(data, str(path))


def parse_squad(data: Any, source: str = "the SQuAD data") -> tuple[SquadArticle, ...]:
    if not isinstance(data, dict) or not isinstance(data.get("data"), list) or not data["data"]:
        found = f"keys {sorted(data)[:5]}" if isinstance(data, dict) else type(data).__name__
        raise DatasetError(
            f"{source}: expected SQuAD v2.0 JSON, an object with a non-empty `data` list of articles; "
            f"found {found}"
        )
    try:
        return tuple(_article(a) for a in data["data"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetError(
            f"{source}: an article does not follow the SQuAD v2.0 format (title, paragraphs[].context, "
            f"qas[].id/question/answers): {type(exc).__name__} {exc}"
        ) from None


def _article(raw: dict[str, Any]) -> SquadArticle:
    parts: list[str] = []
    questions: list[SquadQuestion] = []
    offset = 0
    for paragraph in raw["paragraphs"]:
        context = str(paragraph["context"])
        questions += [_question(qa, context, offset) for qa in paragraph["qas"]]
        parts.append(context)
        offset += len(context) + len(PARAGRAPH_SEPARATOR)
    return SquadArticle(str(raw["title"]), PARAGRAPH_SEPARATOR.join(parts), tuple(questions))


def _question(qa: dict[str, Any], context: str, offset: int) -> SquadQuestion:
    answers = [(str(a["text"]), int(a.get("answer_start", -1))) for a in qa.get("answers") or []]
    impossible = bool(qa.get("is_impossible", not answers))
    return SquadQuestion(
        id=str(qa["id"]),
        question=str(qa["question"]),
        answers=tuple(text for text, _ in answers),
        answer_starts=tuple(_locate(context, text, start, offset) for text, start in answers),
        is_impossible=impossible,
    )


def _locate(context: str, text: str, start: int, offset: int) -> int:
    """The answer's offset in the document: as given when the text is there, else its first occurrence."""
    if not (start >= 0 and context[start : start + len(text)] == text):
        start = context.find(text) if text else -1
    return offset + start if start >= 0 else -1


def select(
    articles: Sequence[SquadArticle], titles: Sequence[str] = (), limit: int | None = None
) -> tuple[SquadArticle, ...]:
    """The articles named in `titles` (all when empty), each cut to its first `limit` questions."""
    known = {a.title for a in articles}
    unknown = [t for t in titles if t not in known]
    if unknown:
        raise DatasetError(
            f"no article titled {', '.join(unknown)}; the file has: {', '.join(a.title for a in articles)}"
        )
    kept = [a for a in articles if not titles or a.title in titles]
    return tuple(SquadArticle(a.title, a.document_text, a.questions[:limit]) for a in kept)


def build_article_engine(
    article: SquadArticle, folder: Path, settings: Settings, embedder: Embedder
) -> Engine:
    """An engine over this one article, indexed by the library's own indexer in `folder`.

    The document goes to folder/seeds/<title>.txt and the index to folder/index; `settings` gives
    everything else (retrieval, reader, thresholds). The embedder is shared, so its model loads once.
    """
    from rag.index.indexer import update_index
    from rag.pipeline import Engine

    seeds = folder / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    (seeds / article.file_name).write_text(article.document_text, encoding="utf-8")
    local = settings.replace(seeds_dir=seeds, index_dir=folder / "index")
    update_index(local, lambda: embedder)
    return Engine.load(local, embedder)
