"""The QA engine: storage, index, embedder, filters, retrievers and readers."""
