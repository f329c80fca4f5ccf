"""`rag chat`: an interactive session with history, follow-ups and readline editing.

    $ rag chat
    rag> Who led the talks in Minsk?
    ...
    rag> What did he give Lukashenko?
    Understood as: What did John Coale give Lukashenko?

Each turn goes through the one pipeline (`Engine.ask(question, history)`), so follow-ups resolve as
in the UI. The session is saved after every turn in the state folder ($XDG_STATE_HOME/rag, else
~/.local/state/rag), one file per index folder; `rag chat --continue` picks it up again, and so does
`rag ask --continue "a follow-up"` (which adds its turn to it). `rag ask --history FILE` keeps a
conversation in a file of the user's choosing, in the same format: {"turns": [{"question", "answer",
"understood"}, ...]}. Line editing
and the history of typed lines (↑/↓, Ctrl-R) come from readline where Python has it.
Commands: /new (forget the conversation), /quit (or Ctrl-D), /help.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cli.terminal import format_answer
from rag.config import Settings
from rag.types import Answer

HELP = "Ask a question about the documents. /new starts over, /quit (or Ctrl-D) leaves, /help shows this."
MAX_TURNS_KEPT = 50


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "rag"


def session_file(settings: Settings) -> Path:
    """The saved session for this index folder (one per folder, so two indexes do not mix)."""
    key = hashlib.sha256(str(Path(settings.index_dir).resolve()).encode()).hexdigest()[:12]
    return state_dir() / f"chat-{key}.json"


@dataclass
class Session:
    path: Path
    turns: list[dict[str, str]] = field(default_factory=list)

    def history(self) -> list[tuple[str, str | Answer]]:
        """Earlier turns for follow-ups: each answer with its own short answer, so nothing is read
        back from the printed text (turns saved before short answers were kept give their text)."""
        return [
            (t["question"], Answer(t["question"], t["answer"], False, direct_answer=t["short"]))
            if "short" in t
            else (t["question"], t["answer"])
            for t in self.turns
        ]

    def add(self, question: str, answer: Answer) -> None:
        self.turns.append(
            {
                "question": question,
                "answer": answer.answer,
                "understood": answer.resolved_question,
                "short": "" if answer.abstained else answer.direct_answer,
            }
        )
        del self.turns[:-MAX_TURNS_KEPT]
        self.save()

    def save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"turns": self.turns}, ensure_ascii=False), encoding="utf-8")
            tmp.chmod(0o600)  # a conversation is the user's own business
            tmp.replace(self.path)
        except OSError:
            pass  # a session that cannot be saved still works; only --continue loses it

    @classmethod
    def load(cls, path: Path) -> Session:
        """The conversation in `path` (`rag ask --history FILE`): empty when the file does not exist
        yet; an error when it exists but is not one, so a file of the user's is never overwritten."""
        from rag.errors import RagError

        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            turns = data["turns"]
            if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
                raise TypeError
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise RagError(
                f'{path} is not a conversation saved by `rag ask --history` (JSON {{"turns": [...]}}); '
                "name a new file to start one"
            ) from None
        return cls(path, cls.resume(path).turns)

    @classmethod
    def resume(cls, path: Path, warn: TextIO | None = None) -> Session:
        """The saved session; a file that cannot be read as one is a one-line note on `warn` and a
        new session (a traceback on `{"turns": 5}` was the old answer)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError, RecursionError) as exc:
            return cls._unreadable(path, f"{type(exc).__name__}", warn)
        recorded = data.get("turns") if isinstance(data, dict) else None
        if not isinstance(recorded, list):
            return cls._unreadable(path, 'it holds no list of "turns"', warn)
        turns = [
            {k: str(t.get(k, "")) for k in ("question", "answer", "understood", "short") if k in t}
            | {k: str(t.get(k, "")) for k in ("question", "answer", "understood")}
            for t in recorded
            if isinstance(t, dict) and t.get("question")
        ]
        return cls(path, turns[-MAX_TURNS_KEPT:])

    @classmethod
    def _unreadable(cls, path: Path, why: str, warn: TextIO | None) -> Session:
        if warn is not None:
            print(
                f"note: the saved conversation {path} cannot be read ({why}); starting a new one", file=warn
            )
        return cls(path)


def run(
    settings: Settings,
    *,
    resume: bool,
    ask: Callable[[str, list[tuple[str, str | Answer]]], Any],
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> int:
    """The read-answer loop; `ask(question, history) -> Answer`. Returns the exit code."""
    interactive = stdin.isatty() and stdout.isatty()
    path = session_file(settings)
    session = Session.resume(path, warn=sys.stderr) if resume else Session(path)
    if not resume:
        session.save()
    history_file = state_dir() / "chat_history"
    if interactive:
        _readline_start(history_file)
        print(HELP, file=stdout)
    if resume and session.turns:
        print(f"(continuing a conversation of {len(session.turns)} turns)", file=stdout)
    try:
        for line in _lines(stdin, stdout, "rag> " if interactive else ""):
            if line in ("/quit", "/exit", "/q"):
                break
            session = _turn(line, session, ask, stdout)
    finally:
        if interactive:
            _readline_save(history_file)
    return 0


def _turn(
    line: str, session: Session, ask: Callable[[str, list[tuple[str, str | Answer]]], Any], stdout: TextIO
) -> Session:
    """One line of the session: a command or a question; returns the session that goes on."""
    if line == "/new":
        session = Session(session.path)
        session.save()
        print("(a new conversation)", file=stdout)
    elif line in ("/help", "/?"):
        print(HELP, file=stdout)
    else:
        answer = ask(line, session.history())
        print(format_answer(answer, bold=stdout.isatty()), file=stdout)
        print(file=stdout, flush=True)
        if not answer.error:
            session.add(line, answer)
    return session


def _lines(stdin: TextIO, stdout: TextIO, prompt: str) -> Iterator[str]:
    """Non-empty lines typed (with readline's editing when stdin is the terminal) until Ctrl-D."""
    while True:
        try:
            line = input(prompt) if stdin is sys.stdin else _read_line(stdin)
        except EOFError:
            if prompt:
                print(file=stdout)
            return
        except KeyboardInterrupt:  # Ctrl-C at the prompt drops the line, as a shell does
            print(file=stdout)
            continue
        if line.strip():
            yield line.strip()


def _read_line(stdin: TextIO) -> str:
    line = stdin.readline()
    if not line:
        raise EOFError
    return line


def _readline_start(history_file: Path) -> None:
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input() still works
        return
    readline.set_history_length(1000)
    with contextlib.suppress(OSError):
        readline.read_history_file(history_file)


def _readline_save(history_file: Path) -> None:
    try:
        import readline

        history_file.parent.mkdir(parents=True, exist_ok=True)
        readline.write_history_file(history_file)
    except (ImportError, OSError):
        pass
