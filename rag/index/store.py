"""The index on disk: sentence vectors in FAISS, the chunk table, the documents' text, a manifest.

Layout of the index folder:

    manifest.json          format version, model, chunk settings, sources, each document's hash,
                           the current generation and a sha256 of each of its files
    gen-<id>/faiss.index   FAISS index over one vector per sentence (flat, or HNSW when large)
    gen-<id>/vectors.npy   the same vectors (numpy, loaded with allow_pickle=False)
    gen-<id>/chunks.json   documents, sentences and chunks as offsets
    gen-<id>/texts.json    each document's text as indexed (for HTML: the extracted text)

A build writes a new generation folder, then replaces manifest.json atomically (the commit
point), then removes older generations. A crash at any moment leaves either the old index or
the new one, never a mix; checksums catch anything damaged afterwards. Nothing is unpickled.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings
from rag.errors import DiskFullError, IndexCorruptError, IndexMismatchError
from rag.index.embed import Embedder
from rag.index.ingest import TEXT_VERSION
from rag.types import Chunk, Document, Sentence

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FILES = ("faiss.index", "vectors.npy", "chunks.json", "texts.json")
_GENERATION = re.compile(r"gen-[0-9A-Za-z]+(-[0-9a-f]+)?")


@dataclass(frozen=True)
class Store:
    """Everything retrieval needs, in memory. Sentence i has vector vectors[i]."""

    documents: dict[str, Document]
    chunks: tuple[Chunk, ...]
    sentence_doc: tuple[str, ...]  # doc_id of each sentence
    sentence_spans: tuple[Sentence, ...]
    sentence_chunks: tuple[tuple[int, ...], ...]  # chunk indices holding each sentence
    chunk_sentences: tuple[tuple[int, ...], ...]  # sentence indices of each chunk
    vectors: np.ndarray
    index: Any  # faiss.Index
    manifest: dict[str, Any] = field(default_factory=dict)

    def sentence_text(self, i: int) -> str:
        span = self.sentence_spans[i]
        return self.documents[self.sentence_doc[i]].text[span.start : span.end]


@dataclass(frozen=True)
class BuildReport:
    embedded_docs: tuple[str, ...] = ()
    reused_docs: tuple[str, ...] = ()
    removed_docs: tuple[str, ...] = ()
    sentences_embedded: int = 0
    seconds: float = 0.0
    added_docs: tuple[str, ...] = ()  # of embedded_docs, those the previous index did not hold


# ---------------------------------------------------------------- build


def build(
    docs: Sequence[Document],
    settings: Settings,
    embedder: Embedder,
    previous: Store | None = None,
    progress: bool = False,
) -> tuple[Store, BuildReport]:
    """Chunk and embed `docs`; documents unchanged since `previous` keep their vectors."""
    t0 = time.perf_counter()
    reusable = _reusable(previous, settings, embedder)
    parts: list[_DocPart] = []
    to_embed: list[_DocPart] = []
    for doc in docs:
        part = reusable.get((doc.doc_id, doc.sha256)) or _chunk_document(doc, settings)
        parts.append(part)
        if part.vectors is None:
            to_embed.append(part)
    texts = [doc_text[s.start : s.end] for p in to_embed for doc_text in [p.doc.text] for s in p.sentences]
    new_vectors = encode_distinct(embedder, texts, settings.batch_size, progress)
    _assign_vectors(to_embed, new_vectors)
    store = _assemble(parts, embedder, settings)
    old_ids = set(previous.documents) if previous else set()
    report = BuildReport(
        embedded_docs=tuple(p.doc.doc_id for p in to_embed),
        reused_docs=tuple(p.doc.doc_id for p in parts if p not in to_embed),
        removed_docs=tuple(sorted(old_ids - {d.doc_id for d in docs})),
        sentences_embedded=len(texts),
        added_docs=tuple(p.doc.doc_id for p in to_embed if p.doc.doc_id not in old_ids),
        seconds=time.perf_counter() - t0,
    )
    return store, report


@dataclass
class _DocPart:
    doc: Document
    sentences: list[Sentence]
    chunks: list[Chunk]
    vectors: np.ndarray | None = None


def _chunk_document(doc: Document, settings: Settings) -> _DocPart:
    """The document's chunks and sentences; BudgetError (rag/index/budget.py) when it holds too many."""
    from rag.index.budget import chunks_within

    chunks = chunks_within(doc, settings)
    unique = sorted({s for c in chunks for s in c.sentences}, key=lambda s: (s.start, s.end))
    return _DocPart(doc, unique, chunks)


def encode_distinct(
    embedder: Embedder, texts: list[str], batch_size: int, progress: bool = False
) -> np.ndarray:
    """One vector per text, encoding each distinct text once: documentation repeats its headings,
    navigation and code lines, and a repeated sentence gets the same vector anyway."""
    first: dict[str, int] = {}
    rows = [first.setdefault(t, len(first)) for t in texts]
    if len(first) == len(texts):
        return embedder.encode(texts, batch_size=batch_size, progress=progress)
    vectors = embedder.encode(list(first), batch_size=batch_size, progress=progress)
    return vectors[np.asarray(rows, dtype=np.int64)]


def _assign_vectors(parts: list[_DocPart], vectors: np.ndarray) -> None:
    pos = 0
    for part in parts:
        part.vectors = vectors[pos : pos + len(part.sentences)]
        pos += len(part.sentences)


def _reusable(
    previous: Store | None, settings: Settings, embedder: Embedder
) -> dict[tuple[str, str], _DocPart]:
    if previous is None or not _compatible(previous.manifest, settings, embedder.name, embedder.dim):
        return {}
    if previous.manifest.get("text_version") != TEXT_VERSION:
        return {}  # its documents were read another way: their text, sentences and vectors may differ
    rows: dict[str, list[int]] = {}
    for i, doc_id in enumerate(previous.sentence_doc):
        rows.setdefault(doc_id, []).append(i)
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in previous.chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    parts = {}
    for doc_id, doc in previous.documents.items():
        idx = rows.get(doc_id, [])
        sents = [previous.sentence_spans[i] for i in idx]
        parts[(doc_id, doc.sha256)] = _DocPart(doc, sents, by_doc.get(doc_id, []), previous.vectors[idx])
    return parts


def _assemble(parts: list[_DocPart], embedder: Embedder, settings: Settings) -> Store:
    sentence_doc: list[str] = []
    spans: list[Sentence] = []
    chunks: list[Chunk] = []
    chunk_sentences: list[tuple[int, ...]] = []
    for part in parts:
        offset = len(spans)
        position = {s: offset + i for i, s in enumerate(part.sentences)}
        sentence_doc += [part.doc.doc_id] * len(part.sentences)
        spans += part.sentences
        for chunk in part.chunks:
            chunks.append(chunk)
            chunk_sentences.append(tuple(position[s] for s in chunk.sentences))
    holders: list[list[int]] = [[] for _ in spans]
    for c, members in enumerate(chunk_sentences):
        for s in members:
            holders[s].append(c)
    vectors = np.concatenate(
        [p.vectors for p in parts if p.vectors is not None and len(p.vectors)]
        or [np.zeros((0, embedder.dim), dtype=np.float32)]
    ).astype(np.float32, copy=False)
    index_type = "hnsw" if len(spans) >= settings.hnsw_min_chunks else "flat"
    manifest = _manifest(parts, embedder, settings, index_type)
    return Store(
        documents={p.doc.doc_id: p.doc for p in parts},
        chunks=tuple(chunks),
        sentence_doc=tuple(sentence_doc),
        sentence_spans=tuple(spans),
        sentence_chunks=tuple(tuple(h) for h in holders),
        chunk_sentences=tuple(chunk_sentences),
        vectors=vectors,
        index=make_faiss_index(vectors, index_type),
        manifest=manifest,
    )


def make_faiss_index(vectors: np.ndarray, index_type: str) -> Any:
    import faiss

    dim = vectors.shape[1]
    index: Any
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(vectors)
    return index


def _manifest(
    parts: list[_DocPart], embedder: Embedder, settings: Settings, index_type: str
) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "text_version": TEXT_VERSION,
        "model": embedder.name,
        "dim": embedder.dim,
        "chunking": chunk_settings(settings),
        "index_type": index_type,
        "documents": {
            p.doc.doc_id: {
                "sha256": p.doc.sha256,
                "source": p.doc.source,
                "chars": len(p.doc.text),
                "sentences": len(p.sentences),
                "chunks": len(p.chunks),
            }
            for p in parts
        },
    }


def chunk_settings(settings: Settings) -> dict[str, Any]:
    return {
        "splitter": "pysbd",
        "chunk_chars": settings.chunk_chars,
        "overlap_sentences": settings.overlap_sentences,
    }


def _compatible(manifest: dict[str, Any], settings: Settings, model: str, dim: int) -> bool:
    return not mismatch(manifest, settings, model, dim)


def mismatch(manifest: dict[str, Any], settings: Settings, model: str, dim: int | None = None) -> str:
    """Why an index built under `manifest` cannot serve `settings`, or '' when it can."""
    if manifest.get("format_version") != FORMAT_VERSION:
        return f"index format {manifest.get('format_version')!r}, this version reads {FORMAT_VERSION}"
    if manifest.get("model") != model:
        return f"index built with model {manifest.get('model')!r}, settings ask for {model!r}"
    if dim is not None and manifest.get("dim") != dim:
        return f"index vectors have {manifest.get('dim')} dimensions, the model gives {dim}"
    want = chunk_settings(settings)
    have = manifest.get("chunking")
    if not isinstance(have, dict):
        return f"index chunking settings are {have!r}, expected {want!r}"
    for key, value in want.items():
        if have.get(key) != value:
            return f"index built with {key}={have.get(key)!r}, settings ask for {value!r}"
    return ""


# ---------------------------------------------------------------- save


def save(
    store: Store,
    index_dir: Path,
    sources: Sequence[str],
    report: BuildReport | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write `store` as a new generation and commit it by replacing manifest.json atomically.

    DiskFullError (nothing changed on disk) when the disk has too little room for it."""
    index_dir.mkdir(parents=True, exist_ok=True)
    needed = estimated_bytes(store)
    if shutil.disk_usage(index_dir).free < needed:
        raise disk_full(index_dir, needed)
    try:
        return _save(store, index_dir, sources, report, extra or {})
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise disk_full(index_dir, needed) from exc
        raise


def estimated_bytes(store: Store) -> int:
    """About how many bytes a generation of `store` takes on disk (vectors twice, texts, tables)."""
    n = len(store.vectors)
    graph = n * 32 * 2 * 4 if store.manifest.get("index_type") == "hnsw" else 0
    texts = sum(len(d.text.encode("utf-8")) + 200 for d in store.documents.values())
    return 2 * int(store.vectors.nbytes) + graph + texts + 40 * n + 120 * len(store.chunks) + 65_536


def disk_full(index_dir: Path, needed: int) -> DiskFullError:
    free = shutil.disk_usage(index_dir).free if index_dir.is_dir() else 0
    return DiskFullError(
        f"the disk holding {index_dir} is full: {free / 1e6:.1f} MB free, about {needed / 1e6:.1f} MB "
        "needed for the new index; free space or use --index-dir elsewhere"
    )


def _save(
    store: Store, index_dir: Path, sources: Sequence[str], report: BuildReport | None, extra: dict[str, Any]
) -> Path:
    gen = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    tmp = index_dir / f".tmp-{gen}"
    tmp.mkdir()
    try:
        _write_generation(store, tmp)
        checksums = {name: _sha256_file(tmp / name) for name in FILES}
        _fsync_dir(tmp)
        os.replace(tmp, index_dir / gen)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest = dict(store.manifest)
    manifest.update(
        generation=gen,
        files=checksums,
        sources=list(sources),
        counts={
            "documents": len(store.documents),
            "chunks": len(store.chunks),
            "sentences": len(store.vectors),
        },
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **extra,
    )
    if report is not None:
        manifest["last_build"] = {
            "embedded_docs": len(report.embedded_docs),
            "reused_docs": len(report.reused_docs),
            "removed_docs": list(report.removed_docs),
            "sentences_embedded": report.sentences_embedded,
            "seconds": round(report.seconds, 3),
        }
    write_json_atomic(index_dir / MANIFEST, manifest)
    remove_old_generations(index_dir, keep=gen)
    return index_dir / gen


def _write_generation(store: Store, folder: Path) -> None:
    import faiss

    faiss.write_index(store.index, str(folder / "faiss.index"))
    with open(folder / "vectors.npy", "wb") as fh:
        np.save(fh, store.vectors, allow_pickle=False)
    doc_ids = list(store.documents)
    doc_pos = {d: i for i, d in enumerate(doc_ids)}
    table = {
        "doc_ids": doc_ids,
        "sentences": [
            [doc_pos[d], s.start, s.end]
            for d, s in zip(store.sentence_doc, store.sentence_spans, strict=True)
        ],
        "chunks": [
            {
                "chunk_id": c.chunk_id,
                "doc": doc_pos[c.doc_id],
                "start": c.start,
                "end": c.end,
                "sentences": list(m),
            }
            for c, m in zip(store.chunks, store.chunk_sentences, strict=True)
        ],
    }
    _write_json(folder / "chunks.json", table)
    texts = {
        d: {"text": doc.text, "sha256": doc.sha256, "source": doc.source}
        for d, doc in store.documents.items()
    }
    _write_json(folder / "texts.json", texts)


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        _write_json(tmp, data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, ensure_ascii=False))  # one C call: 3x faster than json.dump
        fh.flush()
        os.fsync(fh.fileno())


def remove_old_generations(index_dir: Path, keep: str) -> None:
    for entry in index_dir.iterdir():
        if entry.is_dir() and entry.name != keep and (entry.name.startswith(("gen-", ".tmp-gen-"))):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(f".{MANIFEST}.") and entry.name.endswith(".tmp"):
            entry.unlink(missing_ok=True)  # a manifest a killed build did not finish writing


def remove_leftovers(index_dir: Path) -> None:
    """Remove what a build killed midway left: unfinished or uncommitted generations, temporary manifests.

    Only safe while holding the build lock (no other build can be writing). Without a readable
    manifest naming the committed generation, only unfinished (.tmp-) data goes: the index data
    stays until a new generation is committed."""
    if not index_dir.is_dir():
        return
    try:
        manifest = read_manifest(index_dir) or {}
    except IndexCorruptError:
        manifest = {}
    keep = manifest.get("generation")
    if isinstance(keep, str) and _GENERATION.fullmatch(keep) and (index_dir / keep).is_dir():
        remove_old_generations(index_dir, keep=keep)
        return
    for entry in index_dir.iterdir():
        if entry.is_dir() and entry.name.startswith(".tmp-gen-"):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(f".{MANIFEST}.") and entry.name.endswith(".tmp"):
            entry.unlink(missing_ok=True)


def generations(index_dir: Path) -> list[str]:
    """The committed-looking generation folders in `index_dir` (whatever the manifest says)."""
    if not index_dir.is_dir():
        return []
    return sorted(e.name for e in index_dir.iterdir() if e.is_dir() and _GENERATION.fullmatch(e.name))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_file(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- load


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The manifest, or None when there is no index; IndexCorruptError when it is unreadable."""
    path = index_dir / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"{path} is unreadable ({exc}); run `rag index` to rebuild it") from exc
    if not isinstance(manifest, dict):
        raise IndexCorruptError(f"{path} is not a JSON object; run `rag index` to rebuild it")
    return manifest


def load(
    index_dir: Path, settings: Settings, model: str, on_check: Callable[[str], None] | None = None
) -> Store:
    """Load and verify the index; raise IndexCorruptError/IndexMismatchError saying how to fix it."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexCorruptError(f"no index in {index_dir}; run `rag index` to build it")
    why = mismatch(manifest, settings, model)
    if why:
        raise IndexMismatchError(f"{why}; run `rag index` to rebuild {index_dir}")
    folder = index_dir / _generation(manifest, index_dir)
    files = manifest.get("files")
    if not isinstance(files, dict) or not isinstance(manifest.get("sources", []), list):
        raise IndexCorruptError(f"{index_dir / MANIFEST} lacks file checksums; run `rag index` to rebuild")
    for name in FILES:
        path = folder / name
        if not path.is_file():
            raise IndexCorruptError(f"{path} is missing; run `rag index` to rebuild the index")
        if _sha256_file(path) != files.get(name):
            raise IndexCorruptError(
                f"{path} does not match its checksum; run `rag index` to rebuild the index"
            )
    try:
        return _read_generation(folder, manifest)
    except (ValueError, KeyError, IndexError, TypeError, RuntimeError, OSError) as exc:
        raise IndexCorruptError(f"{folder} cannot be read ({exc}); run `rag index` to rebuild it") from exc


def _generation(manifest: dict[str, Any], index_dir: Path) -> str:
    """The committed generation's folder name; never a path that leaves the index folder."""
    gen = manifest.get("generation")
    if not isinstance(gen, str) or not _GENERATION.fullmatch(gen):
        raise IndexCorruptError(f"{index_dir / MANIFEST} names no valid generation {gen!r}; run `rag index`")
    return gen


def _read_generation(folder: Path, manifest: dict[str, Any]) -> Store:
    import faiss

    with open(folder / "vectors.npy", "rb") as fh:
        vectors = np.load(fh, allow_pickle=False)
    table = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
    texts = json.loads((folder / "texts.json").read_text(encoding="utf-8"))
    doc_ids: list[str] = table["doc_ids"]
    documents = {
        d: Document(
            doc_id=d, text=texts[d]["text"], sha256=texts[d]["sha256"], source=texts[d].get("source", "")
        )
        for d in doc_ids
    }
    sentence_doc = tuple(doc_ids[row[0]] for row in table["sentences"])
    spans = tuple(Sentence(int(row[1]), int(row[2])) for row in table["sentences"])
    chunks, members = [], []
    for row in table["chunks"]:
        doc_id = doc_ids[row["doc"]]
        sents = tuple(spans[i] for i in row["sentences"])
        text = documents[doc_id].text[row["start"] : row["end"]]
        chunks.append(Chunk(row["chunk_id"], doc_id, row["start"], row["end"], text, sents))
        members.append(tuple(row["sentences"]))
    holders: list[list[int]] = [[] for _ in spans]
    for c, m in enumerate(members):
        for s in m:
            holders[s].append(c)
    _check_spans(documents, spans, sentence_doc, chunks, members)
    index = faiss.read_index(str(folder / "faiss.index"))
    if index.ntotal != len(spans) or vectors.shape != (len(spans), manifest.get("dim")):
        raise ValueError(
            f"FAISS holds {index.ntotal} vectors, vectors.npy {vectors.shape}, "
            f"the chunk table {len(spans)} sentences"
        )
    return Store(
        documents,
        tuple(chunks),
        sentence_doc,
        spans,
        tuple(map(tuple, holders)),
        tuple(members),
        vectors,
        index,
        manifest,
    )


def _check_spans(
    documents: dict[str, Document],
    spans: Sequence[Sentence],
    sentence_doc: Sequence[str],
    chunks: Sequence[Chunk],
    members: Sequence[tuple[int, ...]],
) -> None:
    """ValueError unless every sentence lies in its document and every chunk is made of its own sentences."""
    for span, doc_id in zip(spans, sentence_doc, strict=True):
        text = documents[doc_id].text
        if not isinstance(text, str) or not 0 <= span.start < span.end <= len(text):
            raise ValueError(f"sentence {span.start}:{span.end} lies outside {doc_id}")
    for chunk, m in zip(chunks, members, strict=True):
        own = [spans[i] for i in m if sentence_doc[i] == chunk.doc_id]
        if not own or len(own) != len(m) or (own[0].start, own[-1].end) != (chunk.start, chunk.end):
            raise ValueError(f"chunk {chunk.chunk_id} does not match its sentences")
