"""Whose folders an index may read: the ones its user named, never the ones a manifest names alone.

An index folder can come from someone else, and its manifest.json is a file anyone can edit: its
recorded sources could point at any folder of this machine (`~/.ssh`, a private notes folder), and
`rag index` re-reads the recorded sources. So the folders a user named on this machine are
remembered outside the index, in the user's state folder ($XDG_STATE_HOME/rag, else
~/.local/state/rag, `trusted-sources.json`), and a recorded source is read only when it is

1. a folder the user named with `rag index PATHS` (or accepted) for this index folder,
2. inside the index folder itself (the chat panel's uploads), or
3. the demo article's seeds folder of the settings;

any other is read only after the user says yes (on a terminal) or with `--trust-sources`.

>>> outside([Path("/idx/uploads"), Path("/srv/private")], Path("/idx"), Path("/seeds"), set())
[PosixPath('/srv/private')]
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from rag.errors import RagError

STORE = "trusted-sources.json"
MAX_INDEXES = 500  # indexes remembered; the oldest are forgotten first


class UntrustedSourcesError(RagError):
    """The index records sources its user did not name; reading them needs the user's yes."""


def store_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "rag" / STORE


def _key(index_dir: Path) -> str:
    return str(Path(index_dir).resolve())


def _read() -> dict[str, list[str]]:
    try:
        data = json.loads(store_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: [p for p in v if isinstance(p, str)] for k, v in data.items() if isinstance(v, list)}


def trusted(index_dir: Path) -> set[str]:
    """The folders and files the user named for this index folder."""
    return set(_read().get(_key(index_dir), []))


def remember(index_dir: Path, sources: Iterable[Path]) -> None:
    """Remember `sources` as named by the user for this index folder (best effort)."""
    data = _read()
    key = _key(index_dir)
    known = data.pop(key, [])
    data[key] = sorted({*known, *(str(Path(s).resolve()) for s in sources)})
    while len(data) > MAX_INDEXES:
        data.pop(next(iter(data)))
    path = store_path()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(path)


def outside(sources: Sequence[Path], index_dir: Path, seeds_dir: Path, named: set[str]) -> list[Path]:
    """The sources that are none of: named by the user, inside the index folder, the seeds folder."""
    index = Path(index_dir).resolve()
    seeds = Path(seeds_dir).resolve()
    kept = []
    for source in sources:
        path = Path(source).resolve()
        if path == seeds or path.is_relative_to(index):
            continue
        if any(path == Path(n) or path.is_relative_to(Path(n)) for n in named):
            continue
        kept.append(Path(source))
    return kept
