"""Fit scripts for the readers' models: the extractive reader's (reader) and the LLM reader's
answerability calibration (answerability). Each writes a versioned JSON file beside its reader."""
