"""SQuAD 2.0 in `rag eval`: the dataset read and each article indexed alone (dataset), the official
metrics (metrics), the run (runner) and its report (report)."""
