"""Shared plumbing of the eval/ and bench/ scripts: a user's mistake (a missing data path, the wrong file, an
unknown model, a negative count) ends in one ``error: ...`` line on stderr and exit code 2, as the
``assistant`` command reports its errors (assistant/cli/common.py); an unexpected failure keeps its traceback.
A script checks its paths, columns (``require_columns`` reads only the header) and model before the slow
work, takes counts with ``type=nonneg_int`` / ``positive_int`` and ends in ``run_script(main)``."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable
from gzip import BadGzipFile
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from assistant.errors import AssistantError

if TYPE_CHECKING:
    import pandas as pd

USAGE_EXIT = 2  # argparse's exit code for a usage error
# pandas' words for a column the file lacks (read_csv's parse_dates= / usecols=): the wrong file was given
_PANDAS_MISSING_COLUMN = re.compile(r"Missing column provided to|Usecols do not match columns")
_OS_ERRORS: dict[type[OSError], str] = {
    FileNotFoundError: "{} not found", IsADirectoryError: "{} is a folder, not a file",
    NotADirectoryError: "{}: a part of this path is a file, not a folder", PermissionError: "{}: permission denied"}


class ScriptUsageError(AssistantError):
    """A script was given a path, file or option it cannot use; the message says what to pass instead."""


def run_script(main: Callable[[], int | None]) -> NoReturn:
    """Run ``main`` and exit with its return value (None: 0). A known, user-caused error (see ``describe``)
    or ``sys.exit("message")`` prints ``error: <message>`` on stderr and exits 2, without a traceback."""
    try:
        code = main()
    except SystemExit as exc:
        if isinstance(exc.code, str):
            fail(exc.code)
        raise
    except (AssistantError, OSError, ValueError) as exc:
        message = describe(exc)
        if message is None:
            raise
        fail(message)
    raise SystemExit(code or 0)


def describe(exc: BaseException) -> str | None:
    """The one-line message for a user-caused error, or None for anything else (a bug keeps its traceback):
    the project's own errors, a missing / unreadable path, a CSV without a column pandas was told to read."""
    if isinstance(exc, AssistantError):
        return str(exc)
    for kind, text in _OS_ERRORS.items():
        if isinstance(exc, kind):
            return text.format(exc.filename) if exc.filename else str(exc)
    if isinstance(exc, ValueError) and _PANDAS_MISSING_COLUMN.search(str(exc)):
        return f"{exc} (is this the right file?)"
    return None


def fail(message: str) -> NoReturn:
    """Print ``error: <message>`` on stderr and exit with code 2."""
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(USAGE_EXIT)


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be {low} or more, got {value}")
    return value


def nonneg_int(text: str) -> int:
    """argparse ``type=``: a whole number >= 0 (0 usually means "all" or "skip")."""
    return _int_at_least(text, 0)


def positive_int(text: str) -> int:
    """argparse ``type=``: a whole number >= 1."""
    return _int_at_least(text, 1)


def require_file(path: str | Path, what: str, hint: str = "", *, name: str | None = None) -> Path:
    """The existing file ``path`` (``path / name`` for a folder when ``name`` is given), else ScriptUsageError:
    "/x not found; <hint>". ``what`` names the file expected ("the Online Retail CSV"), ``hint`` what to pass."""
    p, tail = Path(path), f"; {hint}" if hint else ""
    if p.is_dir():
        if name is None:
            raise ScriptUsageError(f"{p} is a folder, not {what}{tail}")
        if not (p / name).is_file():
            raise ScriptUsageError(f"{p} has no {name} ({what}){tail}")
        return p / name
    if not p.is_file():
        raise ScriptUsageError(f"{p} not found{tail}")
    return p


def require_dir(path: str | Path, what: str, hint: str = "") -> Path:
    """The existing folder ``path``; otherwise ScriptUsageError naming ``what`` was expected, and ``hint``."""
    p, tail = Path(path), f"; {hint}" if hint else ""
    if p.is_file():
        raise ScriptUsageError(f"{p} is a file, not {what}{tail}")
    if not p.is_dir():
        raise ScriptUsageError(f"{p} not found{tail}")
    return p


def require_columns(data: str | Path | pd.DataFrame, columns: Iterable[str], what: str,
                    path: str | Path | None = None) -> None:
    """Check that a CSV file (only its header is read: call it before the slow work) or a frame read from
    ``path`` has ``columns``; else ScriptUsageError "<file> has no column 'X' (is this <what>?)"."""
    import pandas as pd

    where = path or ("the data" if isinstance(data, pd.DataFrame) else data)
    if isinstance(data, pd.DataFrame):
        have = {str(c) for c in data.columns}
    else:
        try:
            have = {str(c) for c in pd.read_csv(data, nrows=0).columns}
        except (ValueError, EOFError, BadGzipFile) as exc:  # not text, not CSV, a broken .gz
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ScriptUsageError(f"{where} cannot be read as CSV ({first}); is this {what}?") from None
    missing = [c for c in columns if c not in have]
    if missing:
        more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
        cols = f"column {missing[0]!r}" if len(missing) == 1 else f"columns {', '.join(map(repr, missing[:3]))}{more}"
        raise ScriptUsageError(f"{where} has no {cols} (is this {what}?)")


def require_model(key: str | None) -> str:
    """``key`` resolved (None/"default"/"fast" -> the configured one), checked before any slow work: on llama.cpp
    a known, installed model, else ModelNotFoundError naming the known keys or what to install."""
    from assistant.config import get_settings
    from assistant.llm import resolve_model
    from assistant.llm.registry import get_spec, model_file, part_paths

    settings = get_settings()
    resolved = resolve_model(settings, key)
    # model_file raises ModelNotFoundError for an unknown key; an unassembled model needs its packages
    if settings.llm_backend == "llamacpp" and not model_file(resolved, settings).is_file():
        part_paths(get_spec(resolved))
    return resolved
