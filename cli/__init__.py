"""The command line: `rag index|ask|chat|eval|serve|llm-setup` (main), the interactive chat (chat) and
how answers are printed on a terminal (terminal). It uses the library, the UI and the evals; the
library never imports it."""
