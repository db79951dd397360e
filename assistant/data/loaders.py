"""Load products / reviews / sales from CSV, TSV, Excel (.xlsx), Parquet or JSONL files (optionally ``.gz``).

Every row keeps the line number a user sees in an editor (header = line 1; a quoted field spanning
several lines counts all of them), so a bad value is reported as file, line, column and what was
expected. With ``skip_bad_rows=True`` bad rows go to a rejects CSV (original row + reason columns)
instead of failing the load; nothing is dropped without being counted.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from assistant.data.cells import clean_header
from assistant.data.columns import KINDS
from assistant.data.excel import EXCEL_SUFFIXES, OLD_SPREADSHEETS, read_sheet
from assistant.data.schema import ColumnMap
from assistant.data.validate import Checked, LoadResult, check_frame
from assistant.errors import DataValidationError, RowProblem
from assistant.gen.evidence import looks_like_injection

__all__ = ["LoadResult", "load_table", "validate_frame", "read_raw", "RawTable", "default_rejects_path"]

Kind = Literal["products", "reviews", "sales"]
_CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
_JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}


@dataclass
class RawTable:
    """A file's rows before validation: original column names and values, plus their line numbers."""

    frame: pd.DataFrame
    lines: list[int | None]
    encoding: str = "utf-8"
    problems: dict[int, list[RowProblem]] = field(default_factory=dict)  # structural (field counts, JSON)
    raw_text: dict[int, str] = field(default_factory=dict)  # rows that could not be split into columns
    warnings: list[str] = field(default_factory=list)
    delimiter: str = ","


def _format_of(path: Path) -> tuple[str, bool]:
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    ext = suffixes[-2] if gz and len(suffixes) > 1 else (suffixes[-1] if suffixes and not gz else "")
    if ext in _CSV_SUFFIXES:
        return ("tsv" if ext == ".tsv" else "csv"), gz
    if ext in _JSON_SUFFIXES:
        return "jsonl", gz
    if ext in _PARQUET_SUFFIXES:
        return "parquet", gz
    if ext in EXCEL_SUFFIXES and not gz:
        return "xlsx", False
    hint = (" Open it in its spreadsheet program and save it as .xlsx or as CSV UTF-8."
            if ext in OLD_SPREADSHEETS else "")
    raise DataValidationError(
        f"{path}: unsupported file type {''.join(path.suffixes) or '(no extension)'!r}.{hint} "
        "Use .csv, .tsv, .xlsx, .parquet or .jsonl (all but .xlsx optionally compressed as .gz).")


def _read_bytes(path: Path, gz: bool) -> bytes:
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found. Check the path (relative paths start at {Path.cwd()}).")
    data = path.read_bytes()
    if gz:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataValidationError(f"{path}: not a valid gzip file ({exc}). Decompress it or fix the "
                                      "extension.") from exc
    return data


def _decode(data: bytes, source: str) -> tuple[str, str, list[str]]:
    """UTF-16 when the file starts with its byte-order mark (Excel's "Unicode text"), else UTF-8 (BOM ok) first,
    then Windows-1252 (Excel's "CSV" on Windows: ’ “ ” – € as single bytes), then latin-1, which always decodes;
    the fallback is reported."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            pass  # not UTF-16 after all: the checks below report it
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        for encoding in ("cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            note = (f"{source} is not valid UTF-8 (first bad byte 0x{data[exc.start]:02x} on line {line}); read it "
                    f"as {'Windows-1252' if encoding == 'cp1252' else 'latin-1'}. Check accented characters and "
                    "quotes, or re-save the file as UTF-8.")
            return text, encoding, [note]
        raise AssertionError("latin-1 decodes any bytes") from exc  # pragma: no cover


def _sniff_delimiter(header_line: str, default: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts.get(default, 0) else default


def _read_csv_text(text: str, source: str, delimiter: str) -> RawTable:
    first = text.split("\n", 1)[0]
    said = re.fullmatch(r"sep=(.)\r?", first)  # Excel's "sep=;" line names the delimiter
    delimiter = said.group(1) if said else _sniff_delimiter(first, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int | None] = []
    problems: dict[int, list[RowProblem]] = {}
    raw_text: dict[int, str] = {}
    prev = 0
    try:
        for rec in reader:
            start, prev = prev + 1, reader.line_num
            if not any(field.strip() for field in rec) or (said and start == 1):
                continue  # a blank line, or one of only delimiters (Excel's ",,,,"), or the "sep=" line: no row
            if header is None:
                header = clean_header(rec, source, start)
                continue
            pos = len(rows)
            if len(rec) != len(header):
                problems[pos] = [RowProblem(source, start, None, f"{len(rec)} fields",
                                            f"{len(header)} fields like the header (check quotes and "
                                            f"'{delimiter}' inside values)")]
                raw_text[pos] = delimiter.join(rec)
                rec = (rec + [""] * len(header))[: len(header)]
            rows.append(rec)
            lines.append(start)
    except csv.Error as exc:
        raise DataValidationError(
            f"{source}, line {prev + 1}: the file cannot be read as CSV ({exc}). Usually a quote (\") "
            "is not closed; fix that line and try again.") from exc
    if header is None:
        raise DataValidationError(f"{source} is empty: expected a header line with column names.")
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    return RawTable(frame=frame, lines=lines, problems=problems, raw_text=raw_text, delimiter=delimiter)


def _array_lines(text: str, n: int) -> list[int | None]:
    """The line on which each of the ``n`` objects of a JSON array starts (so errors can name it)."""
    decoder, lines = json.JSONDecoder(), []
    pos = text.index("[") + 1
    try:
        for _ in range(n):
            while text[pos] in " \t\r\n,":
                pos += 1
            lines.append(text.count("\n", 0, pos) + 1)
            _, pos = decoder.raw_decode(text, pos)
    except (ValueError, IndexError):  # cannot happen for text json.loads accepted; then name no lines
        return [None] * n
    return list(lines)


def _read_jsonl_text(text: str, source: str) -> RawTable:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataValidationError(f"{source}, line {exc.lineno}: invalid JSON ({exc.msg}).") from exc
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise DataValidationError(f"{source}: expected a list of JSON objects (one per row).")
        return RawTable(frame=pd.DataFrame(data, dtype=object), lines=_array_lines(text, len(data)))
    records: list[dict[str, object]] = []
    lines: list[int | None] = []
    problems: dict[int, list[RowProblem]] = {}
    raw_text: dict[int, str] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        pos = len(records)
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            obj = None
            why = f"a JSON object on one line ({exc.msg} at character {exc.colno})"
        else:
            why = "a JSON object like {\"product_id\": \"A1\", ...}"
        if not isinstance(obj, dict):
            problems[pos] = [RowProblem(source, lineno, None, line[:60], why)]
            raw_text[pos] = line
            obj = {}
        records.append(obj)
        lines.append(lineno)
    if not records:
        raise DataValidationError(f"{source} is empty: expected one JSON object per line.")
    return RawTable(frame=pd.DataFrame(records, dtype=object), lines=lines, problems=problems, raw_text=raw_text)


def read_raw(path: str | Path) -> RawTable:
    """Read a file's rows without validating them (original column names and values)."""
    path = Path(path)
    fmt, gz = _format_of(path)
    source = str(path)
    if fmt == "parquet":
        data = _read_bytes(path, gz)
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise DataValidationError(f"{source}: not a readable Parquet file ({exc}).") from exc
        return RawTable(frame=frame.reset_index(drop=True), lines=list(range(1, len(frame) + 1)))
    if fmt == "xlsx":
        sheet = read_sheet(_read_bytes(path, False), source)
        return RawTable(frame=pd.DataFrame(sheet.rows, columns=sheet.header, dtype=object),
                        lines=list(sheet.lines), warnings=sheet.warnings)
    text, encoding, warnings = _decode(_read_bytes(path, gz), source)
    if "\x00" in text:
        raise DataValidationError(f"{source} contains NUL bytes: it looks like a binary file, not "
                                  f"{fmt.upper()}. Check the file and its extension.")
    table = _read_jsonl_text(text, source) if fmt == "jsonl" else \
        _read_csv_text(text, source, "\t" if fmt == "tsv" else ",")
    table.encoding = encoding
    table.warnings = warnings
    return table


def default_rejects_path(path: Path) -> Path:
    """Where rejects go when no path is given: ``{store}/rejects/<file name>.rejects.csv``."""
    from assistant.config import get_settings

    name = path.name
    for suffix in (".gz", ".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json", ".parquet", ".pq", ".xlsx", ".xlsm"):
        name = name.removesuffix(suffix)
    return get_settings().store_path / "rejects" / f"{name}.rejects.csv"


def write_rejects(raw: RawTable, checked: Checked, dest: Path) -> Path:
    """Write the bad rows (original columns as read) plus reject_line/column/reason columns, atomically."""
    positions = sorted(checked.bad_reasons)
    frame = raw.frame.iloc[positions].copy().reset_index(drop=True).astype(object)
    frame = frame.where(frame.notna(), "")
    frame["reject_line"] = [raw.lines[p] if raw.lines[p] is not None else "" for p in positions]
    frame["reject_column"] = ["; ".join(sorted({pr.column or "(row)" for pr in checked.bad_reasons[p]}))
                              for p in positions]
    frame["reject_reason"] = ["; ".join(_reason(pr) for pr in checked.bad_reasons[p]) for p in positions]
    if raw.raw_text:
        frame["reject_raw"] = [raw.raw_text.get(p, "") for p in positions]
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".rejects-", suffix=".csv", dir=dest.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            frame.to_csv(fh, index=False)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def _reason(p: RowProblem) -> str:
    col = f"{p.column}: " if p.column else ""
    got = "" if p.value is None else f"got {str(p.value)[:60]!r}, "
    return f"{col}{got}expected {p.expected}"


def _finish(checked: Checked, kind: str, source: str, skip_bad_rows: bool) -> LoadResult:
    res = checked.result
    if res.rejected and not skip_bad_rows:
        total = res.loaded + res.rejected
        raise DataValidationError(
            f"{res.rejected} of {total} {kind} rows in {source} have problems. Fix them, or load again skipping "
            "bad rows (--skip-bad-rows; 'Skip bad rows' in the workspace's Data tab) to load the good rows and "
            "write the bad ones to a rejects file.", res.problems)
    return res


def load_table(path: str | Path, kind: Kind, *, column_map: ColumnMap | None = None,
               skip_bad_rows: bool = False, rejects_path: Path | None = None,
               generate_ids: bool = False) -> LoadResult:
    """Read and validate one file of ``kind`` ("products", "reviews" or "sales").

    Raises ``DataValidationError`` (with one ``RowProblem`` per bad cell) when any row is bad, unless
    ``skip_bad_rows`` is set: then bad rows are written to ``rejects_path`` (default
    ``{store}/rejects/<name>.rejects.csv``) and counted in ``LoadResult.rejected``.
    """
    if kind not in KINDS:
        raise DataValidationError(f"Unknown table kind {kind!r}; use one of {', '.join(KINDS)}.")
    path = Path(path)
    raw = read_raw(path)
    checked = check_frame(raw.frame, kind, source=str(path), lines=raw.lines, column_map=column_map,
                          pre_problems=raw.problems, decimal_comma=raw.delimiter == ";", generate_ids=generate_ids)
    res = _finish(checked, kind, str(path), skip_bad_rows)
    res.encoding = raw.encoding
    res.warnings = raw.warnings + res.warnings
    if raw.frame.empty:
        res.warnings.append(f"{path} has a header line but no rows under it: nothing was loaded.")
    if note := _instruction_like(res.frame, kind):
        res.warnings.append(note)
    if res.rejected:
        dest = Path(rejects_path) if rejects_path else default_rejects_path(path)
        if dest.resolve() == path.resolve():
            raise DataValidationError(f"The rejects file {dest} is the file being loaded; it would be overwritten "
                                      "with the bad rows. Give another --rejects path.")
        try:
            res.rejects_path = write_rejects(raw, checked, dest)
        except OSError as exc:
            raise DataValidationError(f"Cannot write the rejects file {dest} ({exc.strerror or exc}); nothing was "
                                      "loaded. Give a writable --rejects file path.") from exc
    return res


_TEXT_COLUMNS = {"products": ("title", "description", "attributes"), "reviews": ("title", "text")}


def _instruction_like(frame: pd.DataFrame, kind: str) -> str | None:
    """A warning naming rows whose text reads as instructions to an AI (a poisoned feed: "SYSTEM: ...",
    chat-template markers). They are loaded: the assistant keeps such text out of its prompts as facts."""
    cols = [c for c in _TEXT_COLUMNS.get(kind, ()) if c in frame.columns]
    if not cols or frame.empty:
        return None
    text = frame[cols].astype(str).agg(" ".join, axis=1)
    hit = text.map(looks_like_injection)
    if not hit.any():
        return None
    ids = frame.loc[hit, "product_id" if kind == "products" else "review_id"].astype(str).tolist()
    return (f"{len(ids)} {kind} have text that reads as instructions to an AI ({', '.join(ids[:5])}"
            f"{', ...' if len(ids) > 5 else ''}). They were loaded as they are; copy drafts "
            "and summaries leave such text out of the facts they state. Check where the feed came from.")


def validate_frame(df: pd.DataFrame, kind: str, *, source: str = "<dataframe>", skip_bad_rows: bool = False,
                   column_map: ColumnMap | None = None) -> LoadResult:
    """Validate an in-memory frame (row numbers are 1-based positions). Bad rows raise unless
    ``skip_bad_rows``; then they are only counted and listed in ``problems``."""
    checked = check_frame(df, kind, source=source, column_map=column_map)
    return _finish(checked, kind, source, skip_bad_rows)


def read_categories(path: str | Path, *, column_map: ColumnMap | None = None) -> pd.DataFrame:
    """``product_id`` and ``category`` of every product in a products file (any format ``ingest`` reads: its
    encodings, delimiters, header spellings and ``--map`` pairs), for summing sales by category. Only these
    two columns are needed; rows without a category are left out."""
    from assistant.data.columns import _norm

    raw = read_raw(path)
    frame, source = raw.frame, str(path)
    found: dict[str, str] = {}
    for src, dst in (column_map.as_dict() if column_map else {}).items():
        if src not in frame.columns:
            raise DataValidationError(f"--products-map {src}={dst}: {source} has no column {src!r}. Its columns "
                                      f"are: {', '.join(map(str, frame.columns))}.")
        found[dst] = src
    for want in ("product_id", "category"):
        found.setdefault(want, next((str(c) for c in frame.columns if _norm(str(c)) == want), ""))
    missing = [k for k, v in found.items() if k in ("product_id", "category") and not v]
    if missing:
        raise DataValidationError(
            f"{source} needs the columns product_id and category to sum sales by category; missing "
            f"{', '.join(missing)}. Its columns are: {', '.join(map(str, frame.columns))}. Map yours, e.g. "
            f"--products-map 'YOUR_COLUMN={missing[0]}'.")
    out = pd.DataFrame({"product_id": frame[found["product_id"]].astype(str).str.strip(),
                        "category": frame[found["category"]].fillna("").astype(str).str.strip()})
    return out[(out["product_id"] != "") & (out["category"] != "")].reset_index(drop=True)
