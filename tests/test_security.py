"""Nothing is run that came from outside: no pickle or eval anywhere in rag/ and ui/, an index file
crafted to unpickle code is refused, and the server binds to this machine and serves no other files.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli.main import build_parser
from rag.config import PROJECT_ROOT, Settings
from rag.errors import IndexCorruptError
from rag.index.indexer import update_index
from rag.index.store import MANIFEST, load, read_manifest
from tests.conftest import TINY_TEXT, FakeEmbedder, free_port

SOURCES = sorted(p for d in ("rag", "cli", "ui") for p in (PROJECT_ROOT / d).rglob("*.py"))
UNSAFE_MODULES = {
    "pickle",
    "cPickle",
    "_pickle",
    "dill",
    "cloudpickle",
    "joblib",
    "marshal",
    "shelve",
    "jsonpickle",
}
UNSAFE_BUILTINS = {"eval", "exec", "compile", "__import__", "execfile"}
UNSAFE_ATTRIBUTES = {
    ("os", "system"),
    ("os", "popen"),
    ("torch", "load"),
    ("yaml", "load"),
    ("yaml", "unsafe_load"),
}


def unsafe_uses(source: str) -> list[str]:
    """What in `source` could run code that came from data: pickle-like imports, eval/exec, unsafe loaders."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call):
            found += _unsafe_call(node)
    return found


def _unsafe_call(node: ast.Call) -> list[str]:
    found = []
    func = node.func
    if isinstance(func, ast.Name) and func.id in UNSAFE_BUILTINS:
        found.append(f"{func.id}()")
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        if (func.value.id, func.attr) in UNSAFE_ATTRIBUTES:
            found.append(f"{func.value.id}.{func.attr}()")
        if (
            func.value.id in {"np", "numpy"}
            and func.attr == "load"
            and not _keyword_is(node, "allow_pickle", False)
        ):
            found.append("np.load() without allow_pickle=False")
    for kw in node.keywords:
        if kw.arg == "allow_pickle" and not _keyword_is(node, "allow_pickle", False):
            found.append("allow_pickle not False")
        if kw.arg == "shell" and not _keyword_is(node, "shell", False):
            found.append("shell=True")
        if kw.arg == "share" and not _keyword_is(node, "share", False):
            found.append("share=True (a public link)")
    return found


def _keyword_is(node: ast.Call, name: str, value: object) -> bool:
    return any(
        kw.arg == name and isinstance(kw.value, ast.Constant) and kw.value.value is value
        for kw in node.keywords
    )


# ---------------------------------------------------------------- the sources


def test_the_scanner_finds_what_it_looks_for() -> None:
    bad = """
import pickle
from joblib import load
import numpy as np
eval("1+1"); exec("x = 1"); __import__("os")
np.load("v.npy"); np.load("v.npy", allow_pickle=True); np.save("v.npy", x, allow_pickle=flag)
os.system("ls"); subprocess.run("ls", shell=True); app.launch(share=True); torch.load("m.pt")
"""
    assert unsafe_uses(bad) == [
        "import pickle",
        "from joblib import ...",
        "eval()",
        "exec()",
        "__import__()",
        "np.load() without allow_pickle=False",
        "np.load() without allow_pickle=False",
        "allow_pickle not False",
        "allow_pickle not False",
        "os.system()",
        "shell=True",
        "share=True (a public link)",
        "torch.load()",
    ]
    good = 'import numpy as np\nnp.load(fh, allow_pickle=False)\nre.compile("x")\napp.launch(share=False)\n'
    assert unsafe_uses(good) == []


def test_no_pickle_eval_or_unsafe_loader_in_rag_or_ui() -> None:
    assert len(SOURCES) >= 10  # the scan really covers the package
    problems = {
        str(p.relative_to(PROJECT_ROOT)): found
        for p in SOURCES
        if (found := unsafe_uses(p.read_text("utf-8")))
    }
    assert problems == {}


def test_every_numpy_load_refuses_pickles() -> None:
    loads = [
        node
        for p in SOURCES
        for node in ast.walk(ast.parse(p.read_text("utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load"
        and isinstance(node.func.value, ast.Name) and node.func.value.id in {"np", "numpy"}
    ]  # fmt: skip
    assert loads, "the index's vectors are read with np.load"
    assert all(_keyword_is(n, "allow_pickle", False) for n in loads)


def test_server_binds_this_machine_only_by_default() -> None:
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
    tree = ast.parse((PROJECT_ROOT / "ui" / "app.py").read_text("utf-8"))
    defaults = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in {"serve", "launch"}:
            names = [a.arg for a in node.args.args][-len(node.args.defaults) :]
            defaults[node.name] = dict(
                zip(names, [ast.literal_eval(d) for d in node.args.defaults], strict=True)
            )
    assert defaults["serve"]["host"] == "127.0.0.1" and defaults["launch"]["host"] == "127.0.0.1"
    launches = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and any(kw.arg == "server_name" for kw in n.keywords)
    ]
    assert launches and all(_keyword_is(n, "share", False) for n in launches)  # never a public share link
    assert not any(kw.arg == "allowed_paths" for n in launches for kw in n.keywords)


# ---------------------------------------------------------------- crafted index files


class _Payload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


@pytest.fixture
def tiny_index(tmp_path: Path) -> Settings:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(TINY_TEXT, encoding="utf-8")
    settings = Settings(seeds_dir=docs, index_dir=tmp_path / "index")
    update_index(settings, FakeEmbedder)
    return settings


def _replace_with_checksum(settings: Settings, name: str, write: Any) -> None:
    """Replace one index file and make the manifest's checksum agree, as a writer with access could."""
    manifest = read_manifest(settings.index_dir)
    assert manifest is not None
    path = settings.index_dir / manifest["generation"] / name
    write(path)
    manifest["files"][name] = hashlib.sha256(path.read_bytes()).hexdigest()
    (settings.index_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def test_vectors_file_carrying_a_pickle_is_refused_and_runs_nothing(
    tiny_index: Settings, tmp_path: Path
) -> None:
    marker = tmp_path / "code-ran"
    payload = np.array([_Payload(marker)], dtype=object)
    _replace_with_checksum(tiny_index, "vectors.npy", lambda p: np.save(p, payload, allow_pickle=True))

    with pytest.raises(IndexCorruptError, match=r"(?s)pickle.*`rag index`"):
        load(tiny_index.index_dir, tiny_index, FakeEmbedder.name)
    assert not marker.exists()


@pytest.mark.parametrize(
    "name, data",
    [
        ("faiss.index", b"IxFI" + os.urandom(256)),
        ("chunks.json", b'{"doc_ids": ["../../etc/passwd"], "sentences": [[0, 0, 5]], "chunks": []}'),
        ("texts.json", b'{"a.txt": {"text": 5, "sha256": null}}'),
    ],
)
def test_crafted_index_files_are_refused(tiny_index: Settings, name: str, data: bytes) -> None:
    _replace_with_checksum(tiny_index, name, lambda p: p.write_bytes(data))
    with pytest.raises(IndexCorruptError, match="`rag index`"):
        load(tiny_index.index_dir, tiny_index, FakeEmbedder.name)


# ---------------------------------------------------------------- the running server


@pytest.fixture(scope="module")
def server(engine) -> Iterator[tuple[str, int]]:  # type: ignore[no-untyped-def]
    from ui.app import build_app, launch

    app = build_app(engine.settings, engine)
    port = free_port()
    url = launch(app, "127.0.0.1", port, block=False)
    try:
        yield url.rstrip("/"), port
    finally:
        app.close()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.slow
def test_server_listens_on_loopback_only(server: tuple[str, int]) -> None:
    import psutil

    _, port = server
    listening = [
        c.laddr.ip
        for c in psutil.Process().net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    ]
    assert listening and set(listening) == {"127.0.0.1"}


@pytest.mark.slow
def test_server_serves_no_files_outside_what_it_needs(server: tuple[str, int], engine) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    secrets = {
        "/etc/passwd": b"root:",
        str(engine.settings.index_dir / MANIFEST): b"format_version",
        str(PROJECT_ROOT / "pyproject.toml"): b"[project]",
        str(PROJECT_ROOT / "rag" / "config.py"): b"class Settings",
    }
    for target, telltale in secrets.items():
        relative = os.path.relpath(target, PROJECT_ROOT)
        for path in (
            f"/gradio_api/file={target}",
            f"/file={target}",
            f"/gradio_api/file={relative}",
            f"/gradio_api/file=../../../..{target}",
            f"/static/../../../..{target}",
            f"/assets/..%2f..%2f..%2f..{target}",
            f"/gradio_api/file=%2e%2e/%2e%2e/%2e%2e{target}",
        ):
            status, body = _get(url + path)
            assert telltale not in body, f"{path} served {target} (HTTP {status})"
    status, body = _get(url + "/")
    assert status == 200 and b"<html" in body.lower()  # the server itself is up and serving its page
