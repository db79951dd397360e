"""Model registry: assemble a GGUF from part files, verify sha256 + header, cache the verification."""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import pytest

from assistant.config import get_settings
from assistant.errors import ModelNotFoundError
from assistant.llm import registry
from assistant.llm.registry import ModelSpec


def _gguf_bytes(arch: str = "qwen2") -> bytes:
    key, val = b"general.architecture", arch.encode()
    kv = struct.pack("<Q", len(key)) + key + struct.pack("<I", 8) + struct.pack("<Q", len(val)) + val
    kv2_key = b"general.alignment"
    kv2 = struct.pack("<Q", len(kv2_key)) + kv2_key + struct.pack("<I", 4) + struct.pack("<I", 32)
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + kv + kv2 + os.urandom(3000)


def _fake_spec(tmp_path: Path, data: bytes, n_parts: int = 3, sha: str | None = None) -> ModelSpec:
    step = len(data) // n_parts + 1
    files = []
    for i in range(n_parts):
        f = tmp_path / "site" / f"part{i + 1:02d}.bin"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data[i * step:(i + 1) * step])
        files.append(f)
    return ModelSpec(
        key="fake-model", filename="fake.gguf", sha256=sha or hashlib.sha256(data).hexdigest(),
        architecture="qwen2", description="fake", parts=tuple((f"fake-part{i}", f"fake_part{i}") for i in range(n_parts)),
        part_file=lambda module, i: files[i], install="pip install fake-part0 fake-part1 fake-part2",
    )


@pytest.fixture()
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_MODEL_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    return tmp_path / "models"


def test_assemble_verify_and_cache(tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _gguf_bytes()
    spec = _fake_spec(tmp_path, data)
    monkeypatch.setitem(registry.MODELS, spec.key, spec)
    path = registry.ensure_model(spec.key)
    assert path == model_dir / "fake.gguf" and path.read_bytes() == data
    assert registry.is_verified(path, spec)
    assert not list(model_dir.glob("*.part"))
    header = registry.read_gguf_header(path)
    assert header["version"] == 3 and header["metadata"]["general.architecture"] == "qwen2"
    calls: list[Path] = []

    def counting_sha(p: Path, chunk: int = 0) -> str:
        calls.append(p)
        return "x"

    monkeypatch.setattr(registry, "sha256_file", counting_sha)
    assert registry.ensure_model(spec.key) == path and calls == []  # sidecar: no re-hash
    row = next(r for r in registry.list_models() if r["key"] == spec.key)
    assert row["installed"] and row["verified"] and row["size"] == len(data)


def test_sha_mismatch_raises_and_leaves_nothing(tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _fake_spec(tmp_path, _gguf_bytes(), sha="0" * 64)
    monkeypatch.setitem(registry.MODELS, spec.key, spec)
    with pytest.raises(ModelNotFoundError, match="pip install fake-part0"):
        registry.ensure_model(spec.key)
    assert not (model_dir / "fake.gguf").exists() and not list(model_dir.glob("*part*"))


def test_missing_part_package_named(tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _fake_spec(tmp_path, _gguf_bytes())
    (tmp_path / "site" / "part02.bin").unlink()
    monkeypatch.setitem(registry.MODELS, spec.key, spec)
    with pytest.raises(ModelNotFoundError, match="fake-part1"):
        registry.ensure_model(spec.key)
    row = next(r for r in registry.list_models() if r["key"] == spec.key)
    assert row["installed"] is False and row["verified"] is False


def test_corrupt_assembled_file_is_rebuilt(tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _gguf_bytes()
    spec = _fake_spec(tmp_path, data)
    monkeypatch.setitem(registry.MODELS, spec.key, spec)
    path = registry.ensure_model(spec.key)
    path.write_bytes(b"GGUF" + b"\0" * 50)  # corrupted in place: size/mtime change invalidates the sidecar
    assert not registry.is_verified(path, spec)
    assert registry.ensure_model(spec.key).read_bytes() == data


def test_not_gguf_and_wrong_architecture(tmp_path: Path) -> None:
    spec = _fake_spec(tmp_path, _gguf_bytes())
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"NOPE" + b"\0" * 40)
    with pytest.raises(ModelNotFoundError, match="not a GGUF"):
        registry.verify(bad, spec)
    other = tmp_path / "other.gguf"
    other.write_bytes(_gguf_bytes("llama"))
    with pytest.raises(ModelNotFoundError, match="architecture 'llama'"):
        registry.verify(other, spec)


def test_unknown_key_lists_known_models() -> None:
    with pytest.raises(ModelNotFoundError, match="qwen2.5-coder-1.5b"):
        registry.ensure_model("gpt-17")


def test_packaged_model_specs_point_at_installed_parts() -> None:
    for spec in registry.MODELS.values():
        paths = registry.part_paths(spec)  # raises naming the package if one is missing
        assert paths and all(p.is_file() for p in paths)
    assert len(registry.part_paths(registry.MODELS["qwen2.5-coder-1.5b"])) == 22
