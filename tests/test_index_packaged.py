"""Encoders shipped as a zip split across PyPI packages (assistant.index.packaged), with small stand-in parts."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import ModelNotFoundError
from assistant.index import packaged
from assistant.index.packaged import MPNET_PARTS, packaged_model_path, part_files, unpack_split_zip


def split_zip(tmp_path: Path, pieces: int = 3) -> list[Path]:
    """A zip of a small model folder (as the mpnet parts hold it, desktop.ini files included), cut in pieces."""
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("all-mpnet-base-v2/config.json", '{"model_type": "mpnet"}')
        zf.writestr("all-mpnet-base-v2/model.safetensors", b"\x00" * 5000)
        zf.writestr("all-mpnet-base-v2/desktop.ini", "[.ShellClassInfo]")
        zf.writestr("all-mpnet-base-v2/1_Pooling/config.json", "{}")
        zf.writestr("all-mpnet-base-v2/1_Pooling/desktop.ini", "[.ShellClassInfo]")
    data = archive.read_bytes()
    step = len(data) // pieces + 1
    parts = []
    for i in range(pieces):
        part = tmp_path / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        part.write_bytes(data[i * step:(i + 1) * step])
        parts.append(part)
    return parts


def test_the_parts_join_and_unpack_into_the_model_folder(tmp_path: Path) -> None:
    dest = tmp_path / "models" / "all-mpnet-base-v2"
    assert unpack_split_zip(split_zip(tmp_path), dest) == dest
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == [
        "1_Pooling", "1_Pooling/config.json", "config.json", "model.safetensors"]  # no desktop.ini, no zip
    assert (dest / "model.safetensors").read_bytes() == b"\x00" * 5000
    assert [p.name for p in dest.parent.iterdir()] == ["all-mpnet-base-v2"]  # no temporary folder left


def test_broken_or_missing_parts_say_what_to_do_and_leave_nothing_behind(tmp_path: Path) -> None:
    parts = split_zip(tmp_path)
    dest = tmp_path / "models" / "all-mpnet-base-v2"
    with pytest.raises(ModelNotFoundError, match="do not join into a valid zip"):
        unpack_split_zip([parts[0], parts[2]], dest)  # a piece missing in the middle
    assert not dest.exists() and list(dest.parent.iterdir()) == []
    with pytest.raises(ModelNotFoundError, match=r"missing: no-such-part-001, no-such-part-002\)\. Install them "
                                                 r"with: pip install 'merch-assistant\[mpnet\]'"):
        part_files(("no-such-part-001", "no-such-part-002"), packaged.MPNET_INSTALL)
    assert MPNET_PARTS[0] in packaged.MPNET_INSTALL and len(MPNET_PARTS) == 5


def test_only_packaged_names_resolve_and_an_assembled_folder_is_reused(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(home=tmp_path, model_dir=str(tmp_path / "models"))  # not the shared model cache
    assert packaged_model_path("all-MiniLM-L6-v2", settings) is None
    calls: list[int] = []

    def fake_parts(distributions: tuple[str, ...], install: str) -> list[Path]:
        calls.append(len(distributions))
        (tmp_path / "parts").mkdir()
        return split_zip(tmp_path / "parts")

    monkeypatch.setattr(packaged, "part_files", fake_parts)
    first = packaged_model_path("sentence-transformers/all-mpnet-base-v2", settings)
    assert first == settings.model_path / "all-mpnet-base-v2" and (first / "config.json").is_file()
    assert packaged_model_path("mpnet", settings) == first and calls == [5]  # joined once, then reused
