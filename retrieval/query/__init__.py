"""The query path: filters, hybrid retrieval (vector + full text, fused), reranking."""
