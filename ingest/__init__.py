"""Ingestion: loaders per format, a structure-aware chunker, the pipeline that writes to Redis."""
