"""The evaluation of the question-answering library `rag`: question sets, metrics, runner and report.

It imports the library and is never imported by it (only `rag eval` reaches in, lazily):

    datasets.py       our JSON Lines question set: load and check
    squad.py          the official SQuAD 2.0 JSON format: load; one engine per article
    metrics.py        answer, evidence and citation metrics as pure functions
    squad_metrics.py  the official SQuAD 2.0 metrics (EM, F1, HasAns/NoAns, best threshold)
    results.py        what a run produces (Prediction, ItemScore, Run) and the targets it is held to
    runner.py         a JSON Lines set through ask(): score, aggregate, write, baseline
    squad_runner.py   a SQuAD file through ask(), one article at a time
    render.py         report blocks rendered as Markdown and HTML; matplotlib figures
    report.py         the report of a JSON Lines run
    squad_report.py   the report of a SQuAD run
    command.py        `rag eval`: picks the runner for the file, applies --limit, --strict
"""
