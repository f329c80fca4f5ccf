"""Sentence verification, overview detection, model assembly and the LLM reader's decisions, with
hand-written inputs and a scripted backend (fast); the real model runs in test_llm_reader.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from rag.config import ConfigError, Settings
from rag.query import make_query
from rag.query.parse import is_overview
from rag.readers.llm.answerability import Calibration, Signals
from rag.readers.llm.backends import LLMError, Message, yes_share
from rag.readers.llm.grounding import split_sentences, unsupported, verify_reply, verify_sentence
from rag.readers.llm.model_files import ModelFileError, ModelSpec, assemble, verify_file

QUOTES = [
    "On September 11, 2025, the government of President Alexander Lukashenko released 52 political "
    "prisoners, including 14 foreign nationals.",
    "The United States agreed to ease sanctions on Belarus’s national airline, Belavia.",
    "Lithuania did not reopen its border crossings, citing 1,000 smuggling balloons.",
]


# ---------------------------------------------------------------- verification


@pytest.mark.parametrize(
    "sentence",
    [
        "Lukashenko released 52 political prisoners [1].",
        "52 prisoners were released on September 11, 2025 [1].",  # inflection: released ~ release
        "They included 14 foreign nationals [1].",
        "The US eased sanctions on Belavia [2].",  # eased ~ ease; US: the initials of United States
        "The Lithuanian border crossings did not reopen, citing 1000 smuggling balloons [3].",
        "BELAVIA, the national airline, had sanctions eased [2].",  # case folded
    ],
)
def test_supported_sentences_are_kept(sentence: str) -> None:
    verdict = verify_sentence(sentence, QUOTES)
    assert verdict.supported, verdict.reason


@pytest.mark.parametrize(
    ("sentence", "missing"),
    [
        ("Lukashenko released 100 political prisoners [1].", "100"),  # a figure not in the quote
        ("Lukashenko released 52 political prisoners in Vilnius [1].", "vilnius"),  # in no quote
        ("Putin released 52 political prisoners [1].", "putin"),  # a name not in the quote
        ("The prisoners were tortured [1].", "tortured"),  # a content word not in the quote
        ("The United States did not ease sanctions on Belavia [2].", "not"),  # turned around
        ("The EU eased sanctions on Belavia [2].", "eu"),  # an acronym the quote does not spell out
        ("Lukashenko released 52 political prisoners [7].", "does not exist"),
    ],
)
def test_unsupported_sentences_are_dropped_with_the_reason(sentence: str, missing: str) -> None:
    verdict = verify_sentence(sentence, QUOTES)
    assert not verdict.supported
    assert missing in verdict.reason


def test_a_citation_slip_cites_the_quotes_that_hold_the_sentence() -> None:
    verdict = verify_sentence("Lukashenko released 52 political prisoners [2].", QUOTES)
    assert verdict.supported and verdict.cites == (1,)
    verdict = verify_sentence(
        "Lukashenko released 52 prisoners; the US eased sanctions on Belavia [1].", QUOTES
    )
    assert verdict.supported and verdict.cites == (1, 2)


def test_accents_and_number_formats_are_folded() -> None:
    quotes = ["Café Zürich served 1,200 guests."]
    assert verify_sentence("Cafe Zurich served 1200 guests [1].", quotes).supported
    assert verify_sentence("Café Zürich served 1,200 guests [1].", quotes).supported
    assert unsupported("It served 12,000 guests.", quotes) == ["12,000"]


def test_a_sentence_without_citation_cites_the_quotes_that_hold_it() -> None:
    verdict = verify_sentence("Belarus’s national airline is Belavia.", QUOTES)
    assert verdict.supported and verdict.cites == (2,)
    assert not verify_sentence("Belavia flies to Paris.", QUOTES).supported


def test_a_sentence_stating_nothing_is_dropped() -> None:
    assert not verify_sentence("Yes.", QUOTES).supported


def test_reply_split_keeps_markers_with_their_sentence() -> None:
    reply = "The capital of France is Paris. [1] Lukashenko released 52 political prisoners [1]."
    assert split_sentences(reply) == [
        "The capital of France is Paris. [1]",
        "Lukashenko released 52 political prisoners [1].",
    ]
    verdicts = verify_reply(reply, QUOTES)
    assert [v.supported for v in verdicts] == [False, True]


# ---------------------------------------------------------------- answerability and backends


def test_yes_share_reads_yes_and_no_tokens() -> None:
    import math

    assert yes_share([("yes", math.log(0.3)), (" No", math.log(0.1))]) == pytest.approx(0.75)
    assert yes_share([("maybe", -0.1)]) is None


def test_calibration_combines_signals() -> None:
    cal = Calibration((1.0, 2.0, 0.0, 1.0), -1.0, 0.5)
    high, low = Signals(0.9, 0.8, 0.5, 1.0), Signals(0.1, 0.2, 0.0, 0.0)
    assert cal.probability(high) > 0.5 > cal.probability(low)
    assert cal.probability(Signals(0.6, 0.5, 0.5, 1.0)) > cal.probability(Signals(0.6, 0.5, 0.5, 0.0))


def test_the_shipped_calibration_loads_with_the_features_the_reader_computes() -> None:
    from rag.readers.llm.answerability import FEATURES, load_calibration

    cal = load_calibration()
    assert len(cal.weights) == len(FEATURES) == len(Signals(0.5, 0.5, 0.5, 1.0).vector())
    assert 0.0 <= cal.gate <= 0.5 and 0.0 < cal.threshold < 1.0


def test_llm_settings_from_env() -> None:
    s = Settings.from_env({"RAG_READER": "llm", "RAG_LLM_URL": "http://x/v1", "RAG_LLM_API_KEY": "secret"})
    assert (s.reader, s.llm_url, s.llm_api_key) == ("llm", "http://x/v1", "secret")
    assert "secret" not in repr(s)
    with pytest.raises(ConfigError, match="RAG_LLM_TIMEOUT"):
        Settings.from_env({"RAG_LLM_TIMEOUT": "soon"})


# ---------------------------------------------------------------- overview questions


@pytest.mark.parametrize(
    "question",
    [
        "What is this article about?",
        "what's the text about",
        "Summarize the article.",
        "Can you summarise it, please?",
        "What are the main points?",
        "Give me a short summary of the document",
        "Key points",
        "TL;DR",
    ],
)
def test_overview_questions_are_detected(question: str) -> None:
    assert is_overview(question)


@pytest.mark.parametrize(
    "question",
    [
        "What is Belavia?",
        "What does the article say about Poland?",
        "Summarize what Poland did",
        "What are the main points of the deal?",
        "How many prisoners were released?",
    ],
)
def test_specific_questions_are_not_overviews(question: str) -> None:
    assert not is_overview(question)


# ---------------------------------------------------------------- model assembly


def _parts(folder: Path, contents: Sequence[bytes]) -> list[Path]:
    paths = []
    for i, data in enumerate(contents, 1):
        p = folder / f"part{i:02d}.bin"
        p.write_bytes(data)
        paths.append(p)
    return paths


def test_assembly_concatenates_in_order_and_checks_the_sha256(tmp_path: Path) -> None:
    contents = [b"alpha-" * 1000, b"beta-" * 777, b"gamma"]
    whole = b"".join(contents)
    spec = ModelSpec("model.gguf", len(whole), hashlib.sha256(whole).hexdigest())
    dest = assemble(_parts(tmp_path, contents), tmp_path / "cache" / "model.gguf", spec)
    assert dest.read_bytes() == whole
    verify_file(dest, spec)
    assert not list((tmp_path / "cache").glob("*.partial"))


def test_assembly_rejects_parts_with_another_checksum(tmp_path: Path) -> None:
    contents = [b"alpha-" * 1000, b"beta-" * 777]
    whole = b"".join(contents)
    spec = ModelSpec("model.gguf", len(whole), hashlib.sha256(whole).hexdigest())
    corrupt = [contents[0], contents[1][:-1] + b"X"]  # same size, one byte differs
    dest = tmp_path / "cache" / "model.gguf"
    with pytest.raises(ModelFileError, match="sha256"):
        assemble(_parts(tmp_path, corrupt), dest, spec)
    assert not dest.exists() and not list((tmp_path / "cache").glob("*"))


def test_assembly_rejects_missing_bytes_and_a_changed_file(tmp_path: Path) -> None:
    contents = [b"alpha-" * 1000, b"beta-" * 777]
    whole = b"".join(contents)
    spec = ModelSpec("model.gguf", len(whole), hashlib.sha256(whole).hexdigest())
    with pytest.raises(ModelFileError, match="bytes"):
        assemble(_parts(tmp_path, contents[:1]), tmp_path / "c" / "model.gguf", spec)
    dest = assemble(_parts(tmp_path, contents), tmp_path / "c" / "model.gguf", spec)
    dest.write_bytes(whole[:-1] + b"?")  # damaged later, same size
    with pytest.raises(ModelFileError, match="sha256"):
        verify_file(dest, spec)


# ---------------------------------------------------------------- the reader with a scripted backend


class ScriptedBackend:
    """Answers with fixed text; for fast tests of the reader's decisions (the real model runs elsewhere)."""

    name = "scripted"

    def __init__(self, p_yes: float, reply: str, fail: bool = False) -> None:
        self.p_yes, self.reply, self.fail = p_yes, reply, fail
        self.prompts: list[Sequence[Message]] = []

    def yes_probability(self, messages: Sequence[Message]) -> float:
        self.prompts.append(messages)
        if self.fail:
            raise LLMError("the LLM server at http://127.0.0.1:9/v1 cannot be reached")
        return self.p_yes

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        self.prompts.append(messages)
        for i, word in enumerate(self.reply.split(" ")):
            yield word if i == 0 else " " + word


def number_of(engine, question: str, fragment: str) -> int:  # type: ignore[no-untyped-def]
    """The number the reader gives the sentence holding `fragment` for `question` (as it numbers them)."""
    from rag.readers.llm.passages import number_passages

    qvec = engine.embedder.encode([question])[0]
    evidence = engine.retriever.evidence(make_query(question), qvec, engine.settings.top_k)
    numbered = number_passages(evidence)
    return next(s.number for s in numbered.sentences if fragment in s.citation.quote)


ALWAYS_YES = Calibration((1.0, 0, 0, 0), 0, 0.5)  # P(answerable) = P(yes), threshold 0.5, no gate


def _engine(tiny_settings: Settings, fake_embedder, backend: ScriptedBackend, calibration=None):  # type: ignore[no-untyped-def]
    from rag.pipeline import Engine
    from rag.readers.llm.reader import LLMReader

    engine = Engine.load(tiny_settings.replace(reader="llm"), fake_embedder)
    engine.reader = LLMReader(engine.settings, backend=backend, calibration=calibration or ALWAYS_YES)
    return engine


def test_the_reader_streams_then_keeps_only_verified_sentences(tiny_settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    from rag.cite import verify

    reply = "The winning crew came from the village of Lower Brook. The crew won gold in Paris."
    backend = ScriptedBackend(0.9, reply)
    engine = _engine(tiny_settings, fake_embedder, backend)
    pieces = list(engine.stream("Which village did the winning crew come from?"))
    answer = pieces[-1]
    assert all(isinstance(p, str) for p in pieces[:-1]) and len(pieces) > 2
    assert "".join(pieces[:-1]).strip() == reply  # the preview is what the model wrote
    assert answer.reader == "llm" and not answer.abstained
    assert answer.answer == "The winning crew came from the village of Lower Brook [1]."
    assert [d.sentence for d in answer.dropped] == ["The crew won gold in Paris."]
    assert "paris" in answer.dropped[0].reason
    assert all(verify(c, engine.retriever.store.documents) for c in answer.citations)
    assert "Lower Brook" in answer.citations[0].quote
    assert {"first_token", "total", "answerability", "generate"} <= set(answer.timings_ms)
    assert answer.to_dict()["dropped"][0]["reason"] == answer.dropped[0].reason


def test_the_reply_task_restates_the_question_after_the_judges_prefix(tiny_settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    from rag.readers.llm.reader import ASK_ANSWER

    backend = ScriptedBackend(0.9, "ANSWER: Lower Brook [<1>]")
    question = "Which village did the winning crew come from?"
    answer = _engine(tiny_settings, fake_embedder, backend).ask(question)
    task = backend.prompts[1][-1]["content"]
    assert task == f"Question: {question}\n{ASK_ANSWER}" and "1998" not in task
    assert list(backend.prompts[1][:2]) == list(backend.prompts[0])  # the judge's prompt is its prefix
    assert answer.direct_answer == "Lower Brook" and "Lower Brook" in answer.citations[0].quote


def test_a_low_yes_probability_abstains_without_writing(tiny_settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    from rag.readers.llm.reader import ASK_ANSWER, ASK_CORRECTION

    backend = ScriptedBackend(0.05, "NONE")
    gated = Calibration((1.0, 0, 0, 0), 0, 0.5, gate=0.3)
    answer = _engine(tiny_settings, fake_embedder, backend, gated).ask("Who won the football cup?")
    assert answer.abstained and answer.reader == "llm" and not answer.citations
    tasks = [m[-1]["content"] for m in backend.prompts[1:]]
    assert tasks == [ASK_CORRECTION]  # asked whether it can answer and for a correction, never to answer
    assert not any(ASK_ANSWER in t for t in tasks)
    # every call shares the judge's prompt as its prefix (llama.cpp reads it once)
    assert all(list(m[:2]) == list(backend.prompts[0]) for m in backend.prompts[1:])


def test_an_answer_below_the_threshold_is_withheld_and_listed_dropped(tiny_settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    backend = ScriptedBackend(0.6, "")
    strict = Calibration((1.0, 0, 0, 0), 0, 0.7, gate=0.3)  # P(yes) 0.6: written, then withheld
    engine = _engine(tiny_settings, fake_embedder, backend, strict)
    backend.reply = f"ANSWER: Lower Brook [{number_of(engine, VILLAGE, 'Lower Brook')}]"
    answer = engine.ask(VILLAGE)
    assert answer.abstained and not answer.direct_answer and "Lower Brook" not in answer.answer
    assert [d.sentence for d in answer.dropped] == [backend.reply]
    assert "0.60" in answer.dropped[0].reason and "0.70" in answer.dropped[0].reason
    # what the decision read is recorded with the answer, for refitting the calibration on eval runs
    signals = answer.to_dict()["signals"]
    assert signals["p_yes"] == 0.6 and signals["p_answerable"] == pytest.approx(0.6)
    assert signals["short_found"] == 1.0 and signals["short_words"] == 2.0
    assert 0 < signals["cited_words"] <= signals["coverage"] <= 1.0


def test_a_contradicted_premise_gets_the_correction_the_passages_state(tiny_settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    backend = ScriptedBackend(0.05, "")
    gated = Calibration((1.0, 0, 0, 0), 0, 0.5, gate=0.3)
    engine = _engine(tiny_settings, fake_embedder, backend, gated)
    question = "Why did the crew from Upper Brook lose the race?"
    n = number_of(engine, question, "Lower Brook")
    backend.reply = f"The winning crew came from the village of Lower Brook [{n}]."
    answer = engine.ask(question)
    assert answer.abstained and answer.reader == "llm"  # the question is not answered as asked
    assert "It says: The winning crew came from the village of Lower Brook [1]." in answer.answer
    assert [c.quote for c in answer.citations] == ["The winning crew came from the village of Lower Brook."]


def test_an_unsupported_correction_is_a_plain_abstention(tiny_settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    backend = ScriptedBackend(0.05, "The crew from Upper Brook won gold in Paris [1].")
    gated = Calibration((1.0, 0, 0, 0), 0, 0.5, gate=0.3)
    answer = _engine(tiny_settings, fake_embedder, backend, gated).ask("Why did the Upper Brook crew lose?")
    assert answer.abstained and not answer.citations and "Paris" not in answer.answer


def test_nothing_verified_gives_the_extractive_answer(tiny_settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    backend = ScriptedBackend(0.9, "The crew won gold in Paris in 1999.")
    answer = _engine(tiny_settings, fake_embedder, backend).ask(
        "Which village did the winning crew come from?"
    )
    assert answer.reader == "extractive"
    assert "no sentence" in answer.reader_note and len(answer.dropped) == 1
    assert "Paris" not in answer.answer


def test_an_unreachable_model_gives_the_extractive_answer(tiny_settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    backend = ScriptedBackend(0.9, "", fail=True)
    answer = _engine(tiny_settings, fake_embedder, backend).ask(
        "Which village did the winning crew come from?"
    )
    assert answer.reader == "extractive" and "cannot be reached" in answer.reader_note
    assert not answer.error


def test_the_extractive_overview_quotes_the_lead_and_central_sentences(tiny_settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    from rag.pipeline import Engine

    engine = Engine.load(tiny_settings, fake_embedder)
    answer = engine.ask("What is this article about?")
    assert not answer.abstained and answer.reader == "extractive"
    assert answer.citations[0].quote.startswith("The river town of Elmford")
    assert 2 <= len(answer.citations) <= 4
    starts = [c.start for c in answer.citations]
    assert starts == sorted(starts)
    assert all(f"“{c.quote}”" in answer.answer for c in answer.citations)


# ---------------------------------------------------------------- the short answer, checked in code


def _tiny_answer(tiny_settings: Settings, fake_embedder, question: str, fragment: str, reply: str):  # type: ignore[no-untyped-def]
    """(engine, answer) for `question` on the tiny corpus, the model replying `reply` with {n} the number
    of the sentence holding `fragment`."""
    backend = ScriptedBackend(0.9, "")
    engine = _engine(tiny_settings, fake_embedder, backend)
    backend.reply = reply.format(n=number_of(engine, question, fragment))
    return engine, engine.ask(question)


VILLAGE = "Which village did the winning crew come from?"
VILLAGE_SAYS = "\nSAYS: The winning crew came from the village of Lower Brook [{n}]."


def test_a_short_answer_verbatim_in_its_cited_sentence_leads_the_answer(tiny_settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    from rag.cite import verify

    reply = "ANSWER: lower  brook [{n}]" + VILLAGE_SAYS
    engine, answer = _tiny_answer(tiny_settings, fake_embedder, VILLAGE, "Lower Brook", reply)
    assert answer.reader == "llm" and not answer.abstained
    assert answer.direct_answer == "Lower Brook"  # the document's characters, not the model's
    assert answer.answer.startswith(
        "Lower Brook [1]. The winning crew came from the village of Lower Brook [1]."
    )
    quote = answer.citations[0]
    assert verify(quote, engine.retriever.store.documents)
    assert "Lower Brook" in quote.quote and len(answer.citations) == 1


@pytest.mark.parametrize(
    ("short", "why"),
    [
        ("Upper Brook", "not in any sentence"),
        ("Lower Brooks", "not on whole words"),
    ],
)
def test_a_short_answer_not_verbatim_in_a_cited_sentence_is_dropped(
    tiny_settings, fake_embedder, short, why
) -> None:  # type: ignore[no-untyped-def]
    reply = f"ANSWER: {short} [{{n}}]" + VILLAGE_SAYS
    _, answer = _tiny_answer(tiny_settings, fake_embedder, VILLAGE, "Lower Brook", reply)
    assert answer.direct_answer == "", why
    assert answer.answer == "The winning crew came from the village of Lower Brook [1]."
    # what the model answered is listed with the reason it is not shown
    not_verbatim = "the short answer is not word for word in any numbered sentence"
    assert [d.reason for d in answer.dropped] == [not_verbatim]


def test_a_reply_that_writes_out_its_instructions_is_dropped_with_that_reason(
    tiny_settings, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    from rag.readers.llm.reader import ASK_ANSWER

    echo = "ANSWER: " + ASK_ANSWER.split("ANSWER: ", 1)[1].split("\n")[0][:120]
    _, answer = _tiny_answer(tiny_settings, fake_embedder, VILLAGE, "Lower Brook", echo)
    assert answer.direct_answer == "" and answer.reader == "extractive"  # the quotes answer
    reason = "the model wrote out its instructions instead of an answer"
    assert [d.reason for d in answer.dropped] == [reason]
    assert reason in answer.reader_note


def test_who_is_someone_is_answered_with_the_sentences_description_of_them(
    tiny_settings, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    from rag.cite import verify

    question = "Who is Mara Quill?"
    # the model names her, which only repeats the question; the sentence describes her
    engine, answer = _tiny_answer(
        tiny_settings, fake_embedder, question, "Mara Quill", "ANSWER: Mara Quill [{n}]"
    )
    assert answer.reader == "llm" and not answer.abstained
    assert answer.direct_answer == "Their captain"
    assert answer.answer.startswith(
        "Their captain [1]. “Their captain, Mara Quill, has rowed for ten years.”"
    )
    assert verify(answer.citations[0], engine.retriever.store.documents)
    # a name the documents describe nowhere still gets the quotes, not an invented description
    _, answer = _tiny_answer(
        tiny_settings, fake_embedder, "Who is Elmford?", "Elmford", "ANSWER: Elmford [{n}]"
    )
    assert answer.direct_answer == ""


def test_a_short_answer_of_the_wrong_kind_gives_the_quotes_with_its_sentence_first(
    tiny_settings, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    from rag.cite import verify

    question = "Who praised the volunteers?"
    # "Sunday" is verbatim but no answer to "who": not shown; the sentence it came from is quoted first
    engine, answer = _tiny_answer(tiny_settings, fake_embedder, question, "boat race", "ANSWER: Sunday [{n}]")
    assert answer.direct_answer == "" and not answer.abstained and answer.reader == "extractive"
    assert [d.reason for d in answer.dropped] == ["a 'who' question is not answered by a time alone"]
    quotes = [c.quote for c in answer.citations]
    assert quotes[0] == "The river town of Elmford held its annual boat race on Sunday."
    assert "The mayor praised the volunteers who kept the course safe." in quotes[1:]  # the reader's own
    assert answer.answer.startswith("boat-race.txt says: “The river town of Elmford")
    assert all(verify(c, engine.retriever.store.documents) for c in answer.citations)


def test_the_passages_are_numbered_once_each_and_map_back_to_the_document(
    tiny_settings, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    from rag.cite import verify
    from rag.readers.llm.passages import number_passages

    engine = _engine(tiny_settings, fake_embedder, ScriptedBackend(0.9, ""))
    question = "Which village did the winning crew come from?"
    evidence = engine.retriever.evidence(make_query(question), fake_embedder.encode([question])[0], 5)
    numbered = number_passages(evidence)
    store = engine.retriever.store
    assert [s.number for s in numbered.sentences] == list(range(1, len(numbered) + 1))
    assert len({s.sentence for s in numbered.sentences}) == len(numbered)  # overlap numbered once
    assert len(numbered) == len(store.sentence_spans)  # the tiny corpus fits the budget whole
    text = numbered.text()
    for s in numbered.sentences:
        assert verify(s.citation, store.documents)
        assert s.citation.quote == store.sentence_text(s.sentence)
        assert f"[{s.number}] {' '.join(s.citation.quote.split())}" in text
    assert numbered.get(0) is None and numbered.get(len(numbered) + 1) is None
    # a budget keeps whole passages, the first one always
    small = number_passages(evidence, max_chars=10)
    first = store.chunk_sentences[evidence.retrieval.chunk_indices[0]]
    assert [s.sentence for s in small.sentences] == list(first)


def test_a_reply_citing_sentence_n_cites_that_sentence_of_the_document(tiny_settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    from rag.readers.llm.passages import number_passages
    from rag.readers.llm.reader import check_reply

    engine = _engine(tiny_settings, fake_embedder, ScriptedBackend(0.9, ""))
    question = "How long has the captain rowed?"
    evidence = engine.retriever.evidence(make_query(question), fake_embedder.encode([question])[0], 5)
    numbered = number_passages(evidence)
    n = next(s.number for s in numbered.sentences if "ten years" in s.citation.quote)
    written = check_reply(
        f"ANSWER: ten years [{n}]\nSAYS: Mara Quill has rowed for ten years [{n}].", numbered
    )
    assert written.short is not None and written.short.number == n
    doc = engine.retriever.store.documents["boat-race.txt"].text
    assert doc[written.short.start : written.short.end] == "ten years"
    assert [v.cites for v in written.verdicts] == [(n,)] and written.verdicts[0].supported


@pytest.mark.parametrize(
    ("reply", "short", "cites", "says"),
    [
        (
            "ANSWER: Belavia [2]\nSAYS: It eased sanctions on Belavia [2].",
            "Belavia",
            (2,),
            "It eased sanctions on Belavia [2].",
        ),
        (
            "answer: “52 political prisoners”.\nsays: 52 were freed [1].",
            "52 political prisoners",
            (),
            "52 were freed [1].",
        ),
        ("**Answer:** Minsk\n**Says:** They met in Minsk [3].", "Minsk", (), "They met in Minsk [3]."),
        ("They met in Minsk [3].", "", (), "They met in Minsk [3]."),
        ("Minsk [1]", "Minsk", (1,), ""),
        # the prompt's form "ANSWER: <words> [<number>]" copied with its angle brackets
        ("ANSWER: Robert Guiscard [<1>]", "Robert Guiscard", (1,), ""),
        ("ANSWER: <Belavia> [<2>]", "Belavia", (2,), ""),
        ("ANSWER: 1413 [<number>]", "1413", (), ""),
        ("ANSWER: 6 [<number>1]", "6", (1,), ""),  # the number after the placeholder
        ("ANSWER: 38 [<number> 24]", "38", (24,), ""),
        ("ANSWER: <the immune system adapts> [<", "the immune system adapts", (), ""),
        ("ANSWER: x < 5 [3]", "x < 5", (3,), ""),  # an angle bracket of the text's own is kept
    ],
)
def test_replies_are_parsed_into_short_answer_and_sentences(
    reply: str, short: str, cites: tuple[int, ...], says: str
) -> None:
    from rag.readers.llm.short_answer import parse_reply

    parsed = parse_reply(reply)
    assert (parsed.short, parsed.short_cites, parsed.says) == (short, cites, says)


def test_short_answers_are_found_after_folding_case_spaces_and_quotes() -> None:
    from rag.readers.llm.short_answer import find_folded, locate_short

    text = "Belarus’s national airline, Belavia,  was   named “Belavia” in 1996."
    assert find_folded("belarus's national airline", text) == (0, 26)
    at = text.index("was")
    assert find_folded('was named "belavia"', text) == (at, text.index("”") + 1)
    assert find_folded("1996.", text) == (text.index("1996"), text.index("1996") + 4)
    assert find_folded("99", text) is None and find_folded("", text) is None
    sentences = [(1, "Poland closed its border.", 100), (2, text, 200)]
    found = locate_short("BELAVIA", [1, 2], sentences)
    assert found is not None and (found.text, found.number) == ("Belavia", 2)
    assert found.start == 200 + text.index("Belavia")
    assert locate_short("Belavia", [1], sentences) is None  # not in the sentence it cites
    assert locate_short(" ".join(["word"] * 30), [2], sentences) is None  # a sentence is not a short answer


def test_the_terminal_shows_the_short_answer_first_in_bold() -> None:
    from cli.terminal import BOLD, PLAIN, format_answer
    from rag.types import Answer, Citation

    quote = Citation("a.txt", 0, 43, "The US eased sanctions on Belavia, an airline.")
    answer = Answer(
        "q", "Belavia [1]. The US eased sanctions on Belavia [1].", False, (quote,), direct_answer="Belavia"
    )
    assert format_answer(answer, bold=True).startswith(f"{BOLD}Belavia{PLAIN} [1]. The US eased")
    assert BOLD not in format_answer(answer)  # not on a pipe or in a file


def test_a_one_line_reply_gives_the_short_answer_and_the_sentence_it_is_in(
    tiny_settings, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    _, answer = _tiny_answer(
        tiny_settings, fake_embedder, VILLAGE, "Lower Brook", "ANSWER: Lower Brook [{n}]"
    )
    assert answer.direct_answer == "Lower Brook" and answer.reader == "llm"
    quote = "The winning crew came from the village of Lower Brook."
    assert answer.answer == f"Lower Brook [1]. “{quote}” [1]"
    assert [c.quote for c in answer.citations] == [quote]


def test_words_echoing_the_question_are_taken_off_a_short_answer_not_verbatim() -> None:
    from rag.readers.llm.short_answer import locate_short

    sentence = [(1, "In 1068, Margaret's brother Edgar Atheling fled to Scotland.", 0)]
    question = "Who was Margaret's brother?"
    found = locate_short("Margaret's brother was Edgar Atheling", [1], sentence, question)
    assert found is not None and found.text == "Edgar Atheling"
    assert (
        locate_short("the brother was Edgar of Wessex", [1], sentence, question) is None
    )  # "of Wessex" is new
    assert locate_short("Atheling fled", [1], sentence, "") is not None
    assert locate_short("brother", [1], sentence, question) is not None  # verbatim as it is: kept


def test_a_figure_in_digits_finds_the_sentence_that_spells_it() -> None:
    from rag.readers.llm.short_answer import locate_short

    sentence = [(1, "Two Germans were also released.", 0)]
    found = locate_short("2", [1], sentence, "How many Germans were released?")
    assert found is not None and found.text == "Two"
    assert locate_short("3", [1], sentence, "") is None


def test_a_citation_slip_cites_the_sentence_that_holds_the_short_answer(tiny_settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    question = "Who is the captain of the winning crew?"  # the reply cites the sentence naming the village
    _, answer = _tiny_answer(
        tiny_settings, fake_embedder, question, "Lower Brook", "ANSWER: Mara Quill [{n}]"
    )
    assert answer.direct_answer == "Mara Quill"
    assert [c.quote for c in answer.citations] == ["Their captain, Mara Quill, has rowed for ten years."]


def _article_answer(engine, question: str, short: str, fragment: str):  # type: ignore[no-untyped-def]
    """The session's article engine asked `question` by an LLM reader whose model replies
    "ANSWER: <short> [n]", n the number of the sentence holding `fragment`."""
    import copy

    from rag.readers.llm.reader import LLMReader

    backend = ScriptedBackend(0.9, f"ANSWER: {short} [{number_of(engine, question, fragment)}]")
    scripted = copy.copy(engine)  # the session's engine, with this reader
    scripted.reader = LLMReader(engine.settings, backend=backend, calibration=ALWAYS_YES)
    return scripted.ask(question)


@pytest.mark.parametrize(
    ("question", "reply", "fragment", "shown", "refusal"),
    [
        # the span is verbatim, but the sentence gives it to someone else
        (
            "How old is Igor Losik?",
            "69",
            "69-year-old",
            None,
            "'69' is said of Vladimir Matskevich, not Igor Losik",
        ),
        ("How old is Vladimir Matskevich?", "69", "69-year-old", "69", None),
        # the sentence's subject, Khilo, is a person named elsewhere in full; Losik is asked about
        (
            "What sentence had Igor Losik been serving before his release?",
            "four years in a penal colony",
            "penal colony",
            None,
            "'years' is said of Khilo, not Igor Losik",
        ),
        (
            "What sentence had Mikalai Khilo been serving before his release?",
            "four years in a penal colony",
            "penal colony",
            "four years in a penal colony",
            None,
        ),
        # the asked agent is in the article, but it is the United States that eased the sanctions
        (
            "Which airline did the European Union ease sanctions on?",
            "Belavia",
            "ease sanctions",
            None,
            "it says so of United States, not of European Union",
        ),
        ("Which airline did the US ease sanctions on?", "Belavia", "ease sanctions", "Belavia", None),
        # "two" first occurs before "Germans": the place that answers is the one before "Latvians"
        ("How many Latvians were freed?", "two", "two Latvians", "two", None),
        # the question's subject is in the sentence, but the clause that holds the answer has another
        (
            "Which parts of its airspace did Poland restrict?",
            "restricted parts of its airspace",
            "restricted parts of its airspace",
            None,
            "it says so of Latvia, not of Poland",
        ),
        # a country the article never names is not another name for the one it does ("germany" typed in
        # lower case is read as the name); a capital may be ("Riga" for Latvia)
        (
            "why did germany close its border",
            "citing security concerns",
            "citing security concerns",
            None,
            "it says so of Poland, not of Germany",
        ),
        # the whole clause as the span, its subject another country than the question's
        (
            "why did lithuania close its border?",
            "Poland, citing security concerns, promptly closed its borders with Belarus",
            "citing security concerns",
            None,
            "it says so of Poland, not of Lithuania",
        ),
        (
            "How did Riga react when the drills began?",
            "restricted parts of its airspace",
            "restricted parts of its airspace",
            "restricted parts of its airspace",
            None,
        ),
        # the sentence links the span to what the question asks for ("wife of a British diplomat")
        (
            "Which British diplomat was Mikalai Khilo married to?",
            "Julia Fenner",
            "Julia Fenner",
            None,
            "'Julia Fenner' is not called a diplomat there",
        ),
        # the question asks what was not done; the sentence says what was
        (
            "Which airline did the United States not ease sanctions on?",
            "Belavia",
            "ease sanctions",
            None,
            "the question asks about what is not so ('not')",
        ),
        # the sentence says the opposite of a word of the question ("inhumane" / "humane")
        (
            "Which body has called conditions in Belarusian prisons humane?",
            "The United Nations",
            "inhumane",
            None,
            "the sentence says 'inhumane', the opposite of the question's 'humane'",
        ),
        # the question's year is in the article, but not in the sentence, which tells of another
        (
            "Which airline's flight was forced to land in 2025?",
            "Ryanair",
            "Ryanair",
            None,
            "the question asks about 2025, and the sentence tells of 2021",
        ),
        # a figure the question takes as given that no passage holds
        ("Who was freed in the 2026 exchange?", "Julia Fenner", "Julia Fenner", None, "'2026' is in none"),
        # a list the model joins its own way is shown as the sentence's list, in the document's characters
        (
            "Which news organizations confirmed the deal?",
            "BBC, The Guardian, UPI",
            "UPI",
            "BBC, The Guardian, and UPI",
            None,
        ),
        # "four" alone does not say how long; the word after it does
        ("How long a sentence did Mikalai Khilo receive?", "four", "four years", "four years", None),
        # a span that restates the question is cut to what it adds: the subject alone, no preposition
        (
            "Which country restricted parts of its airspace?",
            "Latvia restricted parts of its airspace",
            "restricted parts of its airspace",
            "Latvia",
            None,
        ),
        (
            "When was the US embassy in Minsk shuttered?",
            "in February 2022",
            "February 2022",
            "February 2022",
            None,
        ),
        # "what year" asks for a time as "when" does; the question's verb, and the preposition the
        # question asks with, are cut with the words before them
        (
            "What year was the US embassy in Minsk shuttered?",
            "in February 2022",
            "February 2022",
            "February 2022",
            None,
        ),
        (
            "What did the United States agree to ease?",
            "ease sanctions on Belarus’s national airline, Belavia",
            "ease sanctions",
            "sanctions on Belarus’s national airline, Belavia",
            None,
        ),
        (
            "Lukashenko described the mass pardon as what?",
            "described the mass pardon as a “humanitarian gesture”",
            "humanitarian gesture",
            "a “humanitarian gesture”",
            None,
        ),
        # a reply verbatim only in part ("gave" is the model's word) gives that part
        (
            "What did Coale give Lukashenko?",
            "gave a letter from President Donald Trump",
            "cuff links",
            "letter from President Donald Trump",
            None,
        ),
    ],
)
def test_a_short_answer_said_of_someone_else_is_not_shown(  # type: ignore[no-untyped-def]
    engine, question, reply, fragment, shown, refusal
) -> None:
    answer = _article_answer(engine, question, reply, fragment)
    if shown is None:
        assert answer.abstained and answer.reader == "llm" and not answer.direct_answer
        assert refusal in answer.answer and len(answer.dropped) == 1 and refusal in answer.dropped[0].reason
    else:
        assert not answer.abstained and answer.reader == "llm" and answer.direct_answer == shown
        assert fragment in answer.citations[0].quote


@pytest.mark.parametrize(
    ("question", "short", "cited", "quoted"),
    [
        # the reply cites a sentence that names him; the one that calls him that is quoted
        (
            "Who was the senior opposition leader among those released?",
            "Mikola Statkevich",
            "refused to cross",
            "a senior opposition leader",
        ),
        # cited where it answers: kept (the other sentences naming him have fewer of the question's words)
        (
            "Who described the mass pardon as a humanitarian gesture?",
            "Lukashenko",
            "mass pardon",
            "mass pardon",
        ),
    ],
)
def test_a_short_answer_in_several_sentences_cites_the_one_with_the_question_words(  # type: ignore[no-untyped-def]
    engine, question, short, cited, quoted
) -> None:
    answer = _article_answer(engine, question, short, cited)
    assert not answer.abstained and answer.reader == "llm" and answer.direct_answer == short
    assert quoted in answer.citations[0].quote and len(answer.citations) == 1


def test_a_reply_cut_off_inside_its_citation_mark_keeps_its_short_answer(engine) -> None:  # type: ignore[no-untyped-def]
    import copy

    from rag.readers.llm.reader import LLMReader

    question = "Which airline did the US ease sanctions on?"
    n = number_of(engine, question, "ease sanctions")
    scripted = copy.copy(engine)
    scripted.reader = LLMReader(
        engine.settings, backend=ScriptedBackend(0.9, f"ANSWER: Belavia [{n}"), calibration=ALWAYS_YES
    )
    answer = scripted.ask(question)
    assert answer.direct_answer == "Belavia" and "ease sanctions" in answer.citations[0].quote


@pytest.mark.parametrize(
    ("question", "reply", "fragment", "reason", "abstains"),
    [
        (
            "Why was Mikalai Khilo arrested?",
            "in April 2024",
            "insulting Lukashenko",
            "a 'why' question is not answered by a date or a number alone",
            False,
        ),
        # new users' questions: the article counts the prisoners freed, never Ukrainians among them,
        # and gives no date for the embassy (the extractive reader it falls back to abstains on both)
        (
            "how many ukrainians were released",
            "52",
            "released 52",
            "'52' counts prisoners, not ukrainians",
            True,
        ),
        # a year for a "what" question that names no time (SQuAD: "What was the first true vacuum ...?"
        # -> "In 1698")
        (
            "What was the Ryanair flight forced to do?",
            "2021",
            "forced landing",
            "'what ...?' names no time, so a year alone does not answer it",
            False,
        ),
        (
            "when exactly will the embassy open again",
            "in the very near future",
            "near future",
            "a question for a date needs a date",
            True,
        ),
        # the event the question asks about, restated, is not its reason
        (
            "Why did Poland close its borders with Belarus?",
            "closed its borders with Belarus",
            "citing security concerns",
            "a 'why' question is not answered by what it asks about ('closed')",
            False,
        ),
        # a name inside the relative clause that describes the question's Coale, not whom he told
        (
            "Whom did Coale tell that the embassy would reopen in the very near future?",
            "Donald Trump",
            "told Reuters",
            "'Trump' describes Coale here, not whom or what 'told' is about",
            False,
        ),
        # a new user's question about the past, answered with the embassy's reopening to come
        (
            "when did this happen",
            "in the very near future",
            "near future",
            "'when did ...?' asks about the past, not the future",
            True,
        ),
    ],
)
def test_a_short_answer_of_the_wrong_kind_gives_the_extractive_answer_instead(  # type: ignore[no-untyped-def]
    engine, question, reply, fragment, reason, abstains
) -> None:
    answer = _article_answer(engine, question, reply, fragment)
    assert answer.abstained == abstains and answer.reader == "extractive" and answer.direct_answer != reply
    assert reason in answer.reader_note
    assert [d.reason for d in answer.dropped] == [reason]


@pytest.mark.parametrize(("p_yes", "abstains"), [(0.9, False), (0.1, True)])
def test_a_yes_no_question_is_answered_by_the_quotes_that_settle_it(engine, p_yes, abstains) -> None:  # type: ignore[no-untyped-def]
    import copy

    from rag.readers.llm.reader import ASK_ANSWER, POLAR_NOTE, LLMReader

    question = "Is the future of the political prisoners still held in Belarus settled?"
    backend = ScriptedBackend(p_yes, "ANSWER: yes [1]")
    scripted = copy.copy(engine)
    gated = Calibration((1.0, 0, 0, 0), 0, 0.5, gate=0.5)  # below P(yes) 0.5 no reply is asked for
    scripted.reader = LLMReader(engine.settings, backend=backend, calibration=gated)
    answer = scripted.ask(question)
    assert answer.abstained == abstains and not answer.direct_answer and "yes" not in answer.answer.split()
    if not abstains:  # the judge says the passages answer it: the extractive reader's quotes, no reply
        assert answer.reader == "extractive" and answer.reader_note == POLAR_NOTE
        assert "remains uncertain" in " ".join(c.quote for c in answer.citations)
    assert not any(ASK_ANSWER in m[-1]["content"] for m in backend.prompts)


@pytest.mark.parametrize(
    ("question", "reply", "fragment", "shown"),
    [
        # the words that settle a yes/no question repeat its words by nature: kept whole, not cut
        (
            "Did Lukashenko call the pardon a humanitarian gesture?",
            "humanitarian gesture",
            "mass pardon",
            "humanitarian gesture",
        ),
        (
            "Did Mikola Statkevich cross into Lithuania?",
            "refused to cross into Lithuania",
            "poignant",
            "refused to cross into Lithuania",
        ),
        # a bare "no" is the model's word, even where the sentence happens to hold it
        ("Is there a firm date for the embassy's reopening?", "no", "no firm date", None),
        # Poland closed its borders; Latvia restricted parts of its airspace
        (
            "Did Latvia close its borders with Belarus?",
            "promptly closed its borders",
            "closed its borders",
            None,
        ),
    ],
)
def test_the_span_for_a_yes_no_question_is_the_words_that_settle_it(  # type: ignore[no-untyped-def]
    engine, question, reply, fragment, shown
) -> None:
    from rag.readers.llm.passages import number_passages
    from rag.readers.llm.reader import check_reply

    qvec = engine.embedder.encode([question])[0]
    numbered = number_passages(engine.retriever.evidence(make_query(question), qvec, engine.settings.top_k))
    written = check_reply(f"ANSWER: {reply} [{number_of(engine, question, fragment)}]", numbered, question)
    if shown is None:
        assert written.short is None
        assert (
            "a bare yes or no" in written.misfits[0] if reply == "no" else "Poland" in written.objections[0]
        )
    else:
        assert written.short is not None and written.short.text == shown


def test_auto_picks_the_llm_reader_only_where_it_can_run(tmp_path: Path) -> None:
    from rag.readers import NotedReader, get_reader, resolve_reader
    from rag.readers.llm import LLMReader

    missing = Settings(reader="auto", llm_model_path=tmp_path / "none.gguf")
    chosen, why = resolve_reader(missing)
    assert chosen.reader == "extractive" and "none.gguf" in why and "make llm-model" in why
    reader = get_reader(missing)
    assert isinstance(reader, NotedReader) and reader.name == "extractive" and why in reader.note
    served = Settings(reader="auto", llm_url="http://127.0.0.1:9/v1")  # a server: nothing local needed
    assert resolve_reader(served) == (served.replace(reader="llm"), "")
    assert isinstance(get_reader(served), LLMReader)
    present = tmp_path / "model.gguf"
    present.write_bytes(b"GGUF")
    assert resolve_reader(missing.replace(llm_model_path=present))[0].reader == "llm"
    for named in ("extractive", "llm"):  # a reader named is the reader used
        assert resolve_reader(missing.replace(reader=named)) == (missing.replace(reader=named), "")
    with pytest.raises(ConfigError, match="extractive, llm or auto"):
        Settings.from_env({"RAG_READER": "fast"})


def test_a_whose_question_is_not_answered_by_the_thing_it_asks_about() -> None:
    from rag.readers.llm.short_answer import fit_answer
    from tests.conftest import ARTICLE

    text = ARTICLE.read_text(encoding="utf-8")
    start = text.index("Svetlana Tikhanovskaya, the exiled")
    s = text[start : text.index(".", start) + 1]  # the article's sentence, as the reader numbers it
    question = "Whose husband was released in an earlier deal?"
    husband = fit_answer(question, s, s.index("Sergei"), s.index(" was released"), text)
    assert (
        husband.span is None and "whose husband" in husband.reason and not husband.refuses
    )  # quotes instead
    assert fit_answer(question, s, 0, len("Svetlana Tikhanovskaya"), text).span is not None


def test_a_name_that_only_describes_someone_the_question_names_is_not_the_answer() -> None:
    """The tempting set's "Whom did Coale tell ...?" got "Donald Trump" from the sentence whose main
    verb is "told Reuters": the name sits in the relative clause describing Coale."""
    from rag.readers.llm.short_answer import fit_answer
    from tests.conftest import ARTICLE

    text = ARTICLE.read_text(encoding="utf-8")
    start = text.index("Coale, who presented")
    s = text[start : text.index("future.", start) + len("future.”")]
    question = "Whom did Coale tell that the embassy would reopen in the very near future?"
    trump = fit_answer(question, s, s.index("Donald Trump"), s.index(" and a pair"), text)
    assert trump.span is None and "describes Coale" in trump.reason and not trump.refuses  # quotes instead
    reuters = fit_answer(question, s, s.index("Reuters"), s.index(" that while"), text)
    assert reuters.span is not None
    # a name the question does not give may stand on the way: "Who presented Lukashenko with a letter?"
    coale = fit_answer("Who presented Lukashenko with a letter?", s, 0, len("Coale"), text)
    assert coale.span is not None


def test_an_answer_said_of_another_person_than_the_one_asked_about_is_refused() -> None:
    """ "What sentence had Igor Losik been serving?" got "four years in a penal colony", which the article
    says of Khilo, the subject of "sentenced"; Losik is named elsewhere in the article, not here."""
    from rag.readers.llm.short_answer import fit_answer
    from tests.conftest import ARTICLE

    text = ARTICLE.read_text(encoding="utf-8")
    start = text.index("Khilo had been arrested")
    s = text[start : text.index(".", start) + 1]
    span = (s.index("four years"), len(s) - 1)
    text = f"{s} {text}"  # the reader's context: the passages, then the documents
    losik = fit_answer("What sentence had Igor Losik been serving before his release?", s, *span, text)
    assert losik.span is None and losik.refuses and "said of Khilo" in losik.reason
    khilo = fit_answer("What sentence had Mikalai Khilo been serving before his release?", s, *span, text)
    assert khilo.span is not None
    # places stand for each other ("Washington" for the United States): no person, no refusal
    s = text[text.index("The deal, confirmed") :]
    s = s[: s.index(".") + 1]
    eased = (s.index("ease sanctions"), s.index(", Belavia"))
    assert fit_answer("What did Washington give Minsk in exchange?", s, *eased, text).span is not None


def test_the_one_a_question_names_as_receiving_is_not_the_answer_for_who_did_it(engine) -> None:  # type: ignore[no-untyped-def]
    """The tempting set's "Who presented John Coale with a letter from Donald Trump?" got the model's
    "Coale, who presented Lukashenko with a letter ..." as its short answer: Coale, in the other role."""
    from rag.readers.llm.short_answer import fit_answer
    from tests.conftest import ARTICLE

    question = "Who presented John Coale with a letter from Donald Trump?"
    reply = (
        "Coale, who presented Lukashenko with a letter from President Donald Trump and a pair of White House"
    )
    answer = _article_answer(engine, question, reply, "told Reuters")
    assert answer.reader == "extractive" and not answer.direct_answer
    assert "the answer names Coale, whom the question names itself" in [d.reason for d in answer.dropped]
    # and the one he presented it to, where the sentence says so
    text = ARTICLE.read_text(encoding="utf-8")
    s = text[text.index("Coale, who presented") :]
    lukashenko = fit_answer(question, s, s.index("Lukashenko"), s.index(" with a letter"), text)
    assert lukashenko.span is None and "the sentence has Coale do what" in lukashenko.reason
    coale = fit_answer("Who presented Lukashenko with a letter?", s, 0, len("Coale"), text)
    assert coale.span is not None
