"""Build the large benchmark corpus: the Python documentation, as Debian ships it in HTML.

Nobody here wrote it, it is real prose with code, tables and navigation, and it is several MB.

1. `apt-get download python3.X-doc` (the version Debian's `python3-doc` depends on) into
   benchmarks/corpus/.deb/, unless a .deb is already there or given with --deb.
2. Unpack it with `dpkg-deb -x`.
3. Copy HTML pages, section by section (tutorial, faq, howto, reference, using, extending,
   installing, then the library reference), until --max-mb of HTML is reached, into
   benchmarks/corpus/python-docs/ (gitignored), keeping their relative paths.
4. Write benchmarks/corpus/python-docs.json: package, version, files, bytes.

    python benchmarks/make_corpus.py            # about 6 MB of HTML, ~300 pages
    python benchmarks/make_corpus.py --max-mb 2 # smaller and quicker
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS_ROOT = HERE / "corpus"
CORPUS_DIR = CORPUS_ROOT / "python-docs"
INFO_FILE = CORPUS_ROOT / "python-docs.json"
SECTIONS = ("tutorial", "faq", "howto", "reference", "using", "extending", "installing", "library")
DEFAULT_MAX_MB = 6.0


def doc_package() -> str:
    """The python3.X-doc package that Debian's python3-doc points at, e.g. 'python3.11-doc'."""
    out = _run(["apt-cache", "depends", "python3-doc"])
    for line in out.splitlines():
        name = line.strip().removeprefix("Depends:").strip()
        if name.startswith("python3.") and name.endswith("-doc"):
            return name
    raise SystemExit(
        "error: apt-cache knows no python3-doc package; run `apt-get update` first, "
        "or give a downloaded .deb with --deb"
    )


def download(package: str, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    found = sorted(into.glob(f"{package}_*.deb"))
    if not found:
        _run(["apt-get", "download", package], cwd=into)
        found = sorted(into.glob(f"{package}_*.deb"))
    if not found:
        raise SystemExit(f"error: `apt-get download {package}` left no .deb in {into}")
    return found[-1]


def html_root(unpacked: Path) -> Path:
    roots = sorted(unpacked.glob("usr/share/doc/python3*/html"))
    if not roots:
        raise SystemExit(f"error: no usr/share/doc/python3*/html in the package unpacked at {unpacked}")
    return roots[0]


def select(root: Path, max_bytes: int) -> list[Path]:
    """Pages in section order until max_bytes of HTML are reached (whole pages, so a little over)."""
    chosen: list[Path] = []
    total = 0
    for section in SECTIONS:
        for page in sorted((root / section).rglob("*.html")):
            if total >= max_bytes:
                return chosen
            chosen.append(page)
            total += page.stat().st_size
    return chosen


def make_corpus(deb: Path | None, max_mb: float, out: Path = CORPUS_DIR) -> dict[str, Any]:
    deb = deb or download(doc_package(), CORPUS_ROOT / ".deb")
    with tempfile.TemporaryDirectory() as tmp:
        _run(["dpkg-deb", "-x", str(deb), tmp])
        root = html_root(Path(tmp))
        pages = select(root, int(max_mb * 1e6))
        if out.exists():
            shutil.rmtree(out)
        for page in pages:
            target = out / page.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(page, target)
    info: dict[str, Any] = {
        "package": deb.name,
        "source": "Debian package " + deb.name.split("_")[0] + " (the Python documentation, HTML)",
        "folder": str(out),
        "files": len(pages),
        "html_bytes": sum(p.stat().st_size for p in out.rglob("*.html")),
        "max_mb": max_mb,
    }
    INFO_FILE.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise SystemExit(
            f"error: `{cmd[0]}` is not installed; this script needs Debian's apt and dpkg"
        ) from None
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"error: `{' '.join(cmd)}` failed: {exc.stderr.strip()[-500:]}") from None
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-mb", type=float, default=DEFAULT_MAX_MB, help="MB of HTML to copy (default 6)")
    parser.add_argument(
        "--deb", type=Path, default=None, help="use this python3.X-doc .deb instead of downloading"
    )
    args = parser.parse_args(argv)
    info = make_corpus(args.deb, args.max_mb)
    mb = info["html_bytes"] / 1e6
    print(f"{info['files']} pages, {mb:.1f} MB of HTML from {info['package']} in {info['folder']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
