"""Hostile uploads (issue 18): what a 5 MB upload of each shape costs the chat server. Prints figures.

    .venv/bin/python benchmarks/hostile_uploads.py                 # every shape, ~3 min
    .venv/bin/python benchmarks/hostile_uploads.py --shapes lines,prose --mb 5

1. An index of the article is built once in a temporary folder (the real model).
2. For each shape, a fresh process loads the real engine over a copy of that index, builds the
   chat app's handlers (ui/app.py ChatApp, as `rag serve` does) and uploads one file of that shape
   through `ChatApp.add`, the handler of the Documents panel, to its end: the file is indexed, or
   refused with a message. It prints the seconds the upload took, its peak RSS (the whole server
   process: model included) and the outcome. Target: within 60 s and 1 GB, or refused.
3. The example question suggester (ui/suggest.py) on text without sentence ends, at growing sizes
   (it was quadratic: 400 KB took 19 s).
4. `rag serve` over an index holding one document of 6,500 sentences: seconds until it listens and
   answers the page, and until its example questions are ready (drawn in the background).

The machine is shared: the load average is printed at the start and at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from load_test import stop_server  # the same way to stop `rag serve` (run as benchmarks/*.py)

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "seeds" / "belarus-prisoner-release-2025.txt"
TARGET_S = 60.0
TARGET_RSS_MB = 1024


def shape_text(shape: str, size: int) -> tuple[str, str]:
    """(file name, text) of about `size` bytes in the given shape."""
    article = ARTICLE.read_text(encoding="utf-8")
    units = {
        "lines": ("lines.txt", "word\n"),  # 1,000,000 one-word lines
        "blank": ("blank.txt", "word\n\n"),  # blank-line-separated words
        "noend": ("noend.txt", "lorem ipsum dolor sit amet "),  # one line, no sentence end
        "nospace": ("nospace.txt", "x"),  # one word of 5 MB
        "dots": ("dots.txt", "Ab. "),  # 1,300,000 tiny sentences in one paragraph
        "semicolons": ("semicolons.txt", "ab; "),
        "prose": ("prose.txt", article + "\n\n"),  # the article again and again
        "headings": ("headings.md", "# Heading\n\nSome text under it.\n\n"),
    }
    name, unit = units[shape]
    return name, (unit * (size // len(unit) + 1))[:size]


SHAPES = ("lines", "blank", "noend", "nospace", "dots", "semicolons", "prose", "headings")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_upload(index_dir: Path, shape: str, size: int) -> dict[str, object]:
    """In this process: the chat handlers over the index, one upload of `shape`, its figures."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from rag.config import Settings
    from rag.pipeline import Engine
    from ui.app import ChatApp
    from ui.render import Conversation

    settings = Settings.from_env().replace(index_dir=index_dir, seeds_dir=ARTICLE.parent)
    engine = Engine.load(settings)
    engine.ask("How many political prisoners were freed?")  # the model loaded and warm
    handlers = ChatApp(engine)
    handlers.examples_ready.wait(120)
    rss_before = peak_rss_mb()
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    name, text = shape_text(shape, size)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    last = ""
    for outputs in handlers.add([str(path)], Conversation()):
        last = str(outputs[-1])
    seconds = time.perf_counter() - t0
    shutil.rmtree(folder, ignore_errors=True)
    refused = "error" in last
    docs = sorted(handlers.live.documents)
    return {
        "shape": shape,
        "bytes": len(text.encode()),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_rss_mb()),
        "rss_before_mb": round(rss_before),
        "outcome": "refused" if refused else "indexed",
        "documents": len(docs),
        "message": _strip_html(last)[:240],
    }


def _strip_html(html: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", html).replace("&#x27;", "'").replace("&quot;", '"')


def build_article_index(root: Path) -> Path:
    from rag.config import Settings
    from rag.index.embed import SentenceTransformerEmbedder
    from rag.index.indexer import update_index

    seeds = root / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)
    index = root / "index"
    update_index(Settings(seeds_dir=seeds, index_dir=index), SentenceTransformerEmbedder, [seeds])
    return index


def suggester_figures() -> list[tuple[int, float]]:
    from rag.types import Document
    from ui.suggest import candidates

    rows = []
    for kb in (50, 100, 200, 400, 1600):
        text = ("Lorem Ipsum Dolor sit Amet and Consectetur " * (kb * 1024 // 40 + 1))[: kb * 1024]
        t0 = time.perf_counter()
        candidates(Document("noend.txt", text, "", ""))
        rows.append((kb, time.perf_counter() - t0))
    return rows


def serve_figures(root: Path) -> dict[str, float]:
    """`rag serve` over one document of 6,500 sentences: seconds to listen, to examples ready."""
    from rag.index.chunk import sentences

    article = ARTICLE.read_text(encoding="utf-8")
    spans = [article[s.start : s.end] for s in sentences(article)]
    docs = root / "big"
    docs.mkdir()
    lines = [f"{spans[i % len(spans)]}" for i in range(6500)]
    (docs / "big.txt").write_text("\n\n".join(lines), encoding="utf-8")
    index = root / "big-index"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    cli = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]
    subprocess.run([*cli, "index", "--index-dir", str(index), str(docs)], env=env, check=True, timeout=1800)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [*cli, "serve", "--index-dir", str(index), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    listening = page = examples = float("nan")
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    listening = time.perf_counter() - t0
                    break
            except OSError:
                time.sleep(0.2)
        page = _page_seconds(port)
        while time.monotonic() < deadline and examples != examples:
            if _examples_shown(port):
                examples = time.perf_counter() - t0
                break
            time.sleep(1)
    finally:
        stop_server(proc)
    return {"listening_s": listening, "page_s": page, "examples_s": examples}


def _page_seconds(port: int) -> float:
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/")
    conn.getresponse().read()
    conn.close()
    return time.perf_counter() - t0


def _examples_shown(port: int) -> bool:
    """Whether the page's load event now names example questions (the header's placeholder)."""
    from gradio_client import Client

    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        reply = client.predict(api_name="/examples")
    except Exception:
        return False
    return bool(reply)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--one", default="", help=argparse.SUPPRESS)
    parser.add_argument("--index", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--skip-serve", action="store_true", help="leave out the `rag serve` figures")
    args = parser.parse_args()
    size = int(args.mb * 1_000_000)
    if args.one:
        print(json.dumps(one_upload(args.index, args.one, size)), flush=True)
        os._exit(0)  # background threads of the model are not waited for
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    root = Path(tempfile.mkdtemp(prefix="hostile-bench-"))
    failures = 0
    try:
        index = build_article_index(root)
        print(f"\n{'shape':<11} {'MB':>5} {'seconds':>8} {'peak RSS MB':>12}  outcome")
        for shape in args.shapes.split(","):
            copy = root / f"index-{shape}"
            shutil.copytree(index, copy)
            done = subprocess.run(
                [sys.executable, __file__, "--one", shape, "--index", str(copy), "--mb", str(args.mb)],
                capture_output=True,
                text=True,
                timeout=900,
                env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
            )
            if done.returncode != 0:
                print(f"{shape:<11} failed: {done.stderr.strip().splitlines()[-1:]}")
                failures += 1
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            ok = row["outcome"] == "refused" or (
                row["seconds"] <= TARGET_S and row["peak_rss_mb"] <= TARGET_RSS_MB
            )
            failures += not ok
            print(
                f"{shape:<11} {row['bytes'] / 1e6:>5.1f} {row['seconds']:>8.1f} {row['peak_rss_mb']:>12}  "
                f"{row['outcome']}{'' if ok else ' (OVER TARGET)'}: {row['message']}"
            )
        print("\nexample suggester on text without sentence ends (ui/suggest.py candidates):")
        for kb, seconds in suggester_figures():
            print(f"  {kb:>5} KB: {seconds:.2f} s")
        if not args.skip_serve:
            figures = serve_figures(root)
            print(
                "\n`rag serve` over one document of 6,500 sentences: listening and page in "
                f"{figures['listening_s']:.1f} s (page {figures['page_s']:.2f} s); example questions "
                f"ready after {figures['examples_s']:.1f} s"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")
    print(f"{failures} shape(s) over target" if failures else "every shape within target or refused")
    return 1 if failures else 0


if __name__ == "__main__":
    threading.current_thread().name = "hostile-uploads"
    sys.exit(main())
