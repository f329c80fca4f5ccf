"""Bad questions get a clear message or an abstention, never a traceback: through the Python API and
through the CLI as a user runs it (a real subprocess over a real index).

The CLI cannot carry a NUL byte or more than 128 KiB in one argument (an operating-system limit), so
those go in through standard input (`rag ask -`), and through the API.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag import pipeline
from rag.config import ConfigError, Settings
from rag.errors import QuestionError
from rag.pipeline import clean_question
from tests.conftest import ARTICLE

LIMIT = Settings().max_question_chars
RAG = str(Path(sys.executable).parent / "rag")

# questions that cannot be asked: an error message, nothing retrieved
REJECTED = {
    "empty": ("", "empty"),
    "blank": ("  \t\n \r\n  ", "empty"),
    "only control characters": ("\x00\x01\x1b\x7f\u200b\u2028", "empty"),
    "200,000 characters": ("why " * 50_000, f"limit is {LIMIT:,}"),
    "one over the limit": ("x" * (LIMIT + 1), f"limit is {LIMIT:,}"),
    "only punctuation": ("?!... ;:-- «»", "no words"),
    "only emoji": ("🙂 🤔 🇧🇾", "no words"),
}

# questions the article cannot answer: an abstention (or a message), never an invented answer
UNANSWERABLE = {
    "script tag": "<script>alert(1)</script>",
    "image with onerror": '<img src=x onerror="alert(1)">',
    "python code": "__import__('os').system('echo pwned')",
    "template code": "{{7*7}} ${7*7} <%= 7*7 %>",
    "SQL": "'; DROP TABLE chunks; --",
    "Russian": "Сколько политических заключённых освободили?",
    "Chinese": "释放了多少名政治犯？",
    "Arabic": "كم عدد السجناء السياسيين الذين أطلق سراحهم؟",
    "a lone letter": "a",
}

# real questions wrapped in noise: answered or abstained, and any quote verifies
NOISY = {
    "control characters and NULs": "How many\x00 political\x01 prisoners\x7f were\x1b freed?\u200b",
    "HTML around a question": "<b>How many</b> political <i>prisoners</i> were freed?",
    "lone surrogate": "Which airline \udcff did the US ease sanctions on?",
    "right-to-left override": "Which airline did the \u202eUS ease sanctions on?",
    "exactly at the limit": "Which airline did the US ease sanctions on?".ljust(LIMIT, "?"),
}


def _check(answer: pipeline.Answer) -> None:
    """What holds for every answer: serialisable, one-line errors, quotes that verify against the source."""
    data = json.loads(json.dumps(answer.to_dict()))
    assert "Traceback" not in data["answer"] and "\n" not in data["error"]
    if data["error"]:
        assert data["abstained"] and not data["citations"]
    article = ARTICLE.read_text(encoding="utf-8")
    for c in data["citations"]:
        assert article[c["start"] : c["end"]] == c["quote"]


# ---------------------------------------------------------------- Python API


@pytest.mark.slow
@pytest.mark.parametrize("name", list(REJECTED))
def test_rejected_questions_get_a_clear_message(engine, name: str) -> None:  # type: ignore[no-untyped-def]
    question, message = REJECTED[name]
    answer = engine.ask(question)
    _check(answer)
    assert message in answer.error
    assert answer.abstained and not answer.passages
    assert len(answer.question) <= 200  # a huge question is not echoed back whole


@pytest.mark.slow
@pytest.mark.parametrize("name", list(UNANSWERABLE))
def test_unanswerable_questions_abstain(engine, name: str) -> None:  # type: ignore[no-untyped-def]
    answer = engine.ask(UNANSWERABLE[name])
    _check(answer)
    assert answer.abstained and not answer.citations


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NOISY))
def test_noisy_questions_are_cleaned_and_answered_or_abstained(engine, name: str) -> None:  # type: ignore[no-untyped-def]
    answer = engine.ask(NOISY[name])
    _check(answer)
    assert not answer.error
    assert not any(ch in answer.question for ch in "\x00\x01\x7f\x1b\u200b\udcff\u202e")
    assert answer.abstained or answer.citations


@pytest.mark.slow
@pytest.mark.parametrize("value", [None, 42, b"How many prisoners were freed?", ["How many?"]])
def test_non_text_questions_get_a_message(engine, value: object) -> None:  # type: ignore[no-untyped-def]
    answer = engine.ask(value)  # type: ignore[arg-type]
    _check(answer)
    assert "must be text" in answer.error


@pytest.mark.slow
@pytest.mark.parametrize(
    "history",
    [
        [("x" * 100_000, "\x00" * 1000)],
        [(None, None)],
        [("only one part",)],
        "not a list of turns",
        [("<script>alert(1)</script>", "{{7*7}}")] * 50,
    ],
)
def test_bad_history_never_breaks_a_question(engine, history: object) -> None:  # type: ignore[no-untyped-def]
    answer = engine.ask("Which airline did the US ease sanctions on?", history)  # type: ignore[arg-type]
    _check(answer)
    assert not answer.error


@pytest.mark.slow
def test_public_ask_shares_the_same_guarantees(engine, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from rag import ask

    monkeypatch.setitem(pipeline._engines, engine.settings, engine)  # reuse the loaded model
    for question in ("", "x" * 200_000, "\x00", "<script>alert(1)</script>"):
        answer = ask(question, settings=engine.settings)
        _check(answer)
        assert answer.abstained


def test_length_limit_is_stated_in_the_message() -> None:
    with pytest.raises(QuestionError, match=f"200,000 characters long; the limit is {LIMIT:,}"):
        clean_question("a" * 200_000, LIMIT)
    assert clean_question("a" * LIMIT, LIMIT) == "a" * LIMIT


@pytest.mark.parametrize(
    "env, name",
    [
        ({"RAG_TOP_K": "abc"}, "RAG_TOP_K"),
        ({"RAG_TOP_K": "0"}, "RAG_TOP_K"),
        ({"RAG_TOP_K": "1e9"}, "RAG_TOP_K"),
        ({"RAG_RETRIEVAL": "magic"}, "RAG_RETRIEVAL"),
        ({"RAG_ABSTAIN_THRESHOLD": "high"}, "RAG_ABSTAIN_THRESHOLD"),
        ({"RAG_ABSTAIN_THRESHOLD": "nan"}, "RAG_ABSTAIN_THRESHOLD"),
    ],
)
def test_bad_settings_in_the_environment_are_named(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError, match=f"{name}=.*expected"):
        Settings.from_env(env)


# ---------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def cli_env(engine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The environment of a user whose index is a copy of the session's article index."""
    index_dir = tmp_path_factory.mktemp("cli") / "index"
    shutil.copytree(engine.settings.index_dir, index_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return {**env, "RAG_INDEX_DIR": str(index_dir), "RAG_SEEDS_DIR": str(engine.settings.seeds_dir)}


def _rag(args: list[str | bytes], env: dict[str, str], stdin: bytes | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [RAG, *args],
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _finish(run: subprocess.Popen[bytes], stdin: bytes | None = None) -> tuple[int, str, str]:
    out, err = run.communicate(stdin, timeout=300)
    return run.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


CLI_REJECTED: dict[str, tuple[list[str | bytes], bytes | None, dict[str, str], str]] = {
    "empty": (["ask", ""], None, {}, "empty"),
    "blank": (["ask", " \t\n "], None, {}, "empty"),
    "only control characters": (["ask", "\x01\x02\x1b\x7f"], None, {}, "empty"),
    "only punctuation": (["ask", "?!...;:--"], None, {}, "no words"),
    "as long as argv allows": (["ask", "x" * 131_000], None, {}, f"limit is {LIMIT:,}"),
    "200,000 characters on stdin": (["ask", "-"], b"why " * 50_000, {}, f"limit is {LIMIT:,}"),
    "not UTF-8 on stdin": (["ask", "-"], b"How many \xff\xfe prisoners?", {}, "not UTF-8"),
    "bad RAG_TOP_K": (["ask", "How many prisoners?"], None, {"RAG_TOP_K": "abc"}, "RAG_TOP_K='abc'"),
    "bad RAG_RETRIEVAL": (["ask", "How many prisoners?"], None, {"RAG_RETRIEVAL": "x"}, "RAG_RETRIEVAL"),
}


@pytest.mark.slow
def test_cli_rejects_bad_questions_with_a_message(cli_env: dict[str, str]) -> None:
    runs = {
        name: (_rag(args, {**cli_env, **env}, stdin), stdin, message)
        for name, (args, stdin, env, message) in CLI_REJECTED.items()
    }
    for name, (run, stdin, message) in runs.items():
        code, out, err = _finish(run, stdin)
        assert code == 2, (name, err)
        assert err.startswith("error: ") and message in err, (name, err)
        assert "Traceback" not in err and not out, name


CLI_ANSWERED: dict[str, tuple[list[str | bytes], bytes | None]] = {
    "control characters and invalid UTF-8 in argv": (
        ["ask", "--json", b"How many\x01 political\x1b prisoners\x7f were \xff freed?"],
        None,
    ),
    "script tag": (["ask", "--json", "<script>alert(1)</script>"], None),
    "NUL bytes and Russian on stdin": (["ask", "--json", "-"], "Сколько\0 политзаключённых\0?\n".encode()),
}


@pytest.mark.slow
def test_cli_answers_or_abstains_on_odd_questions(cli_env: dict[str, str]) -> None:
    # started together: each loads the model, so they overlap rather than queue
    runs = {name: (_rag(args, cli_env, stdin), stdin) for name, (args, stdin) in CLI_ANSWERED.items()}
    article = ARTICLE.read_text(encoding="utf-8")
    results = {name: _finish(run, stdin) for name, (run, stdin) in runs.items()}
    for name, (code, out, err) in results.items():
        assert code == 0, (name, err)
        assert "Traceback" not in err, name
        data = json.loads(out)
        assert not data["error"], name
        assert data["abstained"] or data["citations"], name
        assert all(article[c["start"] : c["end"]] == c["quote"] for c in data["citations"]), name
    assert json.loads(results["script tag"][1])["abstained"]
    assert json.loads(results["NUL bytes and Russian on stdin"][1])["abstained"]
