"""Index changes run off the request path: one thread per change, with progress a page can show.

An upload or a removal starts a `Job`; the handler that started it only reports the job's
progress until it is done (a client that leaves does not stop it, so nothing is left half-done).
The embedder is wrapped so the job can say how far embedding has come.

>>> job = Job.start(lambda report: report("halfway") or 42, name="demo")
>>> job.wait(5), job.result, job.error
(True, 42, None)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.pipeline import Embedder

BATCH = 256  # sentences embedded between two progress reports


@dataclass
class Job:
    """One index change running in its own thread."""

    name: str
    progress: str = "waiting for the index"
    result: Any = None
    error: BaseException | None = None
    started: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def start(cls, run: Callable[[Callable[[str], None]], Any], name: str) -> Job:
        """Run `run(report)` in a thread; `report(text)` sets what the job says it is doing."""
        job = cls(name)

        def body() -> None:
            try:
                job.result = run(job.report)
            except BaseException as exc:  # handed to whoever waits for the job
                job.error = exc
            finally:
                job.done.set()

        threading.Thread(target=body, daemon=True, name=f"rag-job-{name}"[:60]).start()
        return job

    def report(self, text: str) -> None:
        self.progress = text

    def wait(self, timeout: float) -> bool:
        return self.done.wait(timeout)

    def status(self) -> str:
        seconds = time.monotonic() - self.started
        return f"{self.name}: {self.progress} ({seconds:.0f} s)"


class ReportingEmbedder:
    """An embedder that reports, every BATCH sentences, how many of them it has embedded."""

    def __init__(self, inner: Embedder, report: Callable[[str], None]) -> None:
        self.inner = inner
        self.report = report
        self.name = inner.name
        self.dim = inner.dim

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        total = len(texts)
        if total <= BATCH:
            self.report(f"embedding {total:,} sentences")
            return self.inner.encode(texts, batch_size=batch_size)
        parts = []
        for at in range(0, total, BATCH):
            self.report(f"embedding sentences: {at:,} of {total:,} done")
            parts.append(self.inner.encode(texts[at : at + BATCH], batch_size=batch_size))
        self.report(f"embedded {total:,} sentences; writing the index")
        return np.concatenate(parts)
