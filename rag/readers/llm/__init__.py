"""The LLM reader: a language model writes the answer from numbered quotes; `grounding` verifies every
sentence against the quotes it cites; `backends` reaches the model (in process or over an
OpenAI-compatible API); `model_files` sets up the local model; `answerability` is its fitted judge."""

from rag.readers.llm.reader import LLMReader

__all__ = ["LLMReader"]
