"""Turning text into vectors: the packaged model, on torch or onnxruntime."""
