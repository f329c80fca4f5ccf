"""One base error; each message says what was expected, what was found and how to fix it.

The library raises these and never prints or exits; the CLI turns them into `error: ...`
on stderr with a non-zero exit code, the UI shows the message.
"""


class RagError(Exception):
    """Base of every error this project raises on purpose."""

    exit_code = 1


class QuestionError(RagError, ValueError):
    """The question cannot be asked as given (empty, too long, not text)."""

    exit_code = 2


class DocumentError(RagError):
    """A source document cannot be used (empty, not UTF-8, binary, too large)."""


class NoDocumentsError(RagError):
    """Nothing indexable was found where the documents were expected."""


class IndexCorruptError(RagError):
    """The index on disk is damaged or does not match its manifest."""


class IndexMismatchError(RagError):
    """The index was built for another model, format or settings."""


class IndexLockedError(RagError):
    """Another process is building the index right now."""


class IndexNotFoundError(RagError):
    """The index folder named holds no index (a typo, or one never built)."""


class IndexLocationError(RagError):
    """The index folder cannot be used where it was pointed (a file, not a folder)."""


class DiskFullError(RagError):
    """The disk holding the index has too little free space to write a new generation."""


class ServerError(RagError):
    """The chat server cannot start as asked (port out of range or in use, bad authentication)."""
