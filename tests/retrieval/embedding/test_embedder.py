"""The embedding backends: offline export, the on-disk cache, vectors close to torch's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import redis

from retrieval.embedding import embedder as embedder_module
from retrieval.embedding import model_files
from retrieval.embedding.embedder import BACKENDS, Embedder, candidate_backends
from retrieval.embedding.model_files import int8_preset, model_cache_key, resolve_model_path
from retrieval.embedding.onnx_encoder import OnnxEncoder
from retrieval.errors import ModelUnavailable, SchemaMismatch
from retrieval.index.chunks import ChunkIndex
from retrieval.index.open import open_index
from retrieval.index.schema import IndexSchema
from retrieval.settings import DEFAULT_EMBEDDER, Settings

SENTENCES = [
    "That is a happy person",
    "Rotate the API key from the admin console every ninety days.",
    "The incubation period of the coronavirus is about five days.",
    "Redis keeps the whole index in memory, so size the instance for the vectors.",
]
ROOT = Path(__file__).resolve().parents[3]
needs_int8 = pytest.mark.skipif(int8_preset() is None, reason="no int8 preset for this CPU")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export cache for the whole session: exporting takes seconds, so do it once."""
    return tmp_path_factory.mktemp("embedder-data")


@pytest.fixture(scope="session")
def embedders(data_dir: Path) -> dict[str, Embedder]:
    backends = [b for b in BACKENDS if b != "onnx-int8" or int8_preset() is not None]
    return {
        b: Embedder(Settings(data_dir=data_dir, embedding_backend=b)).warm_up() for b in backends
    }


def test_every_backend_loads_offline_and_returns_unit_vectors(embedders: dict[str, Embedder]):
    for backend, embedder in embedders.items():
        vectors = embedder.embed(SENTENCES)
        assert embedder.backend == backend
        assert vectors.shape == (len(SENTENCES), 384) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
        np.testing.assert_allclose(np.linalg.norm(embedder.embed_query("why?")), 1.0, atol=1e-4)


def test_onnx_backends_stay_close_to_torch(embedders: dict[str, Embedder]):
    reference = embedders["torch"].embed(SENTENCES)
    for backend in set(embedders) - {"torch"}:
        cosines = np.sum(reference * embedders[backend].embed(SENTENCES), axis=1)
        assert cosines.mean() >= 0.98, (backend, cosines)


def test_fp32_onnx_reproduces_the_reference_similarities(embedders: dict[str, Embedder]):
    a, b, c, d = embedders["onnx"].embed(
        ["That is a happy person", "That is a very happy person", "That is a happy dog",
         "Today is a sunny day"]
    )  # fmt: skip
    assert [round(float(a @ x), 3) for x in (b, c, d)] == [0.943, 0.695, 0.257]


def test_onnx_runs_without_torch_and_gives_sentence_transformers_vectors(
    embedders: dict[str, Embedder],
):
    from sentence_transformers import SentenceTransformer

    texts = [*SENTENCES, "", "word " * 300, *(f"sentence number {i} " * i for i in range(40))]
    for backend in set(embedders) - {"torch"}:
        embedder = embedders[backend]
        assert isinstance(embedder.model, OnnxEncoder)
        assert embedder.max_tokens == 256
        folder, file_name = model_files.exported_model(
            DEFAULT_EMBEDDER, backend, embedder.settings.data_dir / "models"
        )
        reference = SentenceTransformer(
            str(folder), device="cpu", backend="onnx",
            model_kwargs={"file_name": file_name, "provider": "CPUExecutionProvider",
                          "session_options": model_files.session_options()},
        ).encode(texts, batch_size=8, normalize_embeddings=True, convert_to_numpy=True)  # fmt: skip
        np.testing.assert_allclose(embedder.embed(texts, batch_size=8), reference, atol=2e-6)


def test_the_query_path_imports_no_torch(embedders: dict[str, Embedder], data_dir: Path):
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from retrieval.embedding.embedder import Embedder\n"
        "from retrieval.settings import Settings\n"
        f"e = Embedder(Settings(data_dir=Path({str(data_dir)!r}), embedding_backend='onnx'))\n"
        "e.embed_query('why?')\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') "
        "if m in sys.modules))\n"
    )
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_second_load_reuses_the_cached_export(embedders: dict[str, Embedder], data_dir: Path):
    onnx_files = sorted((data_dir / "models").rglob("*.onnx"))
    before = {p: p.stat().st_mtime_ns for p in onnx_files}
    embedder_module._load_model.cache_clear()  # a new process, as far as the cache knows

    for backend in set(embedders) - {"torch"}:
        again = Embedder(Settings(data_dir=data_dir, embedding_backend=backend)).warm_up()
        assert again.backend == backend

    assert {p: p.stat().st_mtime_ns for p in onnx_files} == before


def test_export_leaves_only_whole_models_in_the_cache(embedders: dict[str, Embedder], data_dir):
    entries = sorted(p.name for p in (data_dir / "models").iterdir() if p.is_dir())
    assert not [name for name in entries if name.startswith(".")]  # no staging folders left
    assert model_cache_key(DEFAULT_EMBEDDER, "onnx") in entries


RACER = """
import sys
from pathlib import Path
import logging
logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
from retrieval.embedding.model_files import exported_model
from retrieval.settings import DEFAULT_EMBEDDER
folder, file_name = exported_model(DEFAULT_EMBEDDER, "onnx", Path(sys.argv[1]))
print(folder / file_name)
"""


@pytest.mark.slow
def test_two_processes_starting_at_once_share_one_whole_export(tmp_path: Path):
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path)], cwd=ROOT, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]  # fmt: skip
    outputs = [racer.communicate(timeout=300) for racer in racers]
    assert [r.returncode for r in racers] == [0, 0], outputs
    paths = {Path(out.strip()) for out, _ in outputs}
    assert len(paths) == 1
    assert next(iter(paths)).stat().st_size > 10_000_000
    exports = [err.count("qa.models exported") for _, err in outputs]
    assert sorted(exports) == [0, 1], outputs  # the second waited, then reused
    folders = [p.name for p in tmp_path.iterdir() if p.is_dir()]
    assert folders == [model_cache_key(DEFAULT_EMBEDDER, "onnx")]


def test_a_complete_cache_is_only_read(embedders: dict[str, Embedder], data_dir: Path, tmp_path):
    key = model_cache_key(DEFAULT_EMBEDDER, "onnx")
    shutil.copytree(data_dir / "models" / key, tmp_path / key)
    folder, file_name = model_files.exported_model(DEFAULT_EMBEDDER, "onnx", tmp_path)
    assert folder == tmp_path / key and (folder / file_name).is_file()
    assert [p.name for p in tmp_path.iterdir()] == [key]  # no lock file, no staging folder


def test_a_cache_that_cannot_hold_an_export_is_a_clear_error(tmp_path: Path):
    (tmp_path / "models").write_text("not a folder")
    with pytest.raises(ModelUnavailable, match="QA_EMBEDDING_BACKEND=torch"):
        Embedder(Settings(data_dir=tmp_path, embedding_backend="onnx")).warm_up()
    fallback = Embedder(Settings(data_dir=tmp_path, embedding_backend="auto")).warm_up()
    assert fallback.backend == "torch"  # auto falls back and still answers


def test_count_tokens_matches_the_tokenizer(embedders: dict[str, Embedder]):
    from transformers import AutoTokenizer

    long_text = "chunk " * 400  # longer than the window: counted whole, never truncated
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(DEFAULT_EMBEDDER))
    expected = [len(tokenizer(t)["input_ids"]) for t in SENTENCES]
    for embedder in embedders.values():
        assert embedder.count_tokens(SENTENCES) == expected
        assert embedder.count_tokens([long_text]) == [402]


def test_auto_resolves_to_a_real_backend(data_dir: Path):
    embedder = Embedder(Settings(data_dir=data_dir, embedding_backend="auto")).warm_up()
    assert embedder.backend in BACKENDS
    assert embedder.backend == candidate_backends("auto")[0]
    assert embedder.embed(SENTENCES[:1]).shape == (1, 384)


def test_switching_backend_keeps_the_index_and_the_vectors_agree(
    embedders: dict[str, Embedder], settings: Settings, redis_client: redis.Redis
):
    first, *others = embedders.values()
    open_index(settings, first, redis_client).ensure()
    reference = first.embed(SENTENCES)
    for other in others:
        open_index(settings, other, redis_client).ensure()  # SchemaMismatch if refused
        cosines = np.sum(reference * other.embed(SENTENCES), axis=1)
        assert cosines.min() > 0.97, (other.backend, cosines)
    schema = IndexSchema.for_settings(settings, dim=first.dim, model="other/model")
    another_model = ChunkIndex(redis_client, schema)
    with pytest.raises(SchemaMismatch, match="other/model"):
        another_model.check_compatible()


@pytest.mark.parametrize(
    ("flags", "machine", "expected"),
    [
        ("fpu sse2 avx avx2 avx512f avx512bw avx512_vnni", "x86_64", "avx512_vnni"),
        ("fpu sse2 avx avx2 avx512f avx512bw", "x86_64", "avx512"),
        ("fpu sse2 avx avx2 fma", "x86_64", "avx2"),
        ("fpu sse2 avx", "x86_64", None),
        ("", "aarch64", "arm64"),
        ("", "x86_64", None),  # no flags line at all (containers may hide it)
    ],
)
def test_int8_preset_follows_the_cpu_instruction_set(flags: str, machine: str, expected):
    cpuinfo = f"processor\t: 0\nflags\t\t: {flags}\n" if flags else ""
    assert int8_preset(cpuinfo, machine) == expected


def test_auto_skips_int8_where_the_cpu_has_no_preset(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(embedder_module, "int8_preset", lambda: None)
    assert "onnx-int8" not in candidate_backends("auto")
    assert candidate_backends("auto")[-1] == "torch"
    assert candidate_backends("onnx-int8") == ["onnx-int8"]  # asked for: tried, and errors


@needs_int8
def test_int8_export_is_keyed_by_cpu_preset_and_recipe():
    key = model_cache_key(DEFAULT_EMBEDDER, "onnx-int8")
    assert f"--onnx-int8-{int8_preset()}-{model_files.INT8_RECIPE}--st" in key
    assert key.split("--st")[1] == model_cache_key(DEFAULT_EMBEDDER, "onnx").split("--st")[1]


@needs_int8
def test_int8_quantises_the_weight_matrices_but_not_the_word_embeddings(data_dir: Path):
    import onnx

    folder, file_name = model_files.exported_model(
        DEFAULT_EMBEDDER, "onnx-int8", data_dir / "models"
    )
    graph = onnx.load(str(folder / file_name)).graph
    floats = {i.name for i in graph.initializer if i.data_type == onnx.TensorProto.FLOAT}
    assert any(node.op_type == "MatMulInteger" for node in graph.node)
    gathers = [node for node in graph.node if node.op_type == "Gather"]
    assert any(node.input[0] in floats for node in gathers)  # the embedding tables stay fp32
