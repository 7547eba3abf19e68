"""ONNX export of a trained span model, fp32 and dynamic int8 (readers/trained.py runs it)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from retrieval.embedding.model_files import INT8_OPERATORS
from retrieval.readers.span_decoding import INPUTS


def export_fp32(model: Any, tokenizer: Any, folder: Path) -> Path:
    """model.onnx plus the tokenizer files, in `folder`."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    sample = tokenizer(["a question?"], ["a short context."], return_tensors="pt")
    args = tuple(sample[k] for k in INPUTS)
    axes = {k: {0: "batch", 1: "tokens"} for k in (*INPUTS, "start_logits", "end_logits")}
    path = folder / "model.onnx"
    model.eval()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            args,
            str(path),
            input_names=list(INPUTS),
            output_names=["start_logits", "end_logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    tokenizer.save_pretrained(str(folder))
    return path


def quantize(source: Path, target: Path, operators: tuple[str, ...] = INT8_OPERATORS) -> Path:
    """Dynamic int8 weights for `operators` (default: the matrix multiplications, the
    embedder's recipe)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # "consider pre-processing": advice for image models
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                str(source),
                str(target),
                op_types_to_quantize=list(operators),
                weight_type=QuantType.QInt8,
            )
    finally:
        root.setLevel(level)
    return target
