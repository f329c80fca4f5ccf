"""The index side: documents read (ingest, formats), cut into chunks (chunk), embedded (embed), stored
with FAISS in committed generations (store), kept up to date with their sources (indexer)."""
