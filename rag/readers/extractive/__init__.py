"""The extractive reader: quotes the best sentences and leads with a short answer when its fitted
probability of being right is high. `reader` is the entrance; `compose` writes the answer from
`evidence` (scored sentences), `spans` (candidate short answers), `features` and `model` (the fitted
logistic models in reader.json)."""

from rag.readers.extractive.reader import ExtractiveReader

__all__ = ["ExtractiveReader"]
