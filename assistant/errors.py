"""Error hierarchy. Every message says what went wrong *and* what the user can do about it."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class for all errors raised by the merchandising assistant."""


class ConfigError(AssistantError):
    """Settings are missing or inconsistent (fix the env var / config file named in the message)."""


class DataValidationError(AssistantError):
    """Input data failed validation. ``problems`` lists each bad cell as file/line/column/expected."""

    def __init__(self, message: str, problems: list[RowProblem] | None = None) -> None:
        self.problems: list[RowProblem] = list(problems or [])
        if self.problems:
            shown = "\n".join(f"  - {p}" for p in self.problems[:20])
            more = f"\n  … and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
            message = f"{message}\n{shown}{more}"
        super().__init__(message)


class RowProblem:
    """One bad value in an input file: where it is and what was expected there."""

    __slots__ = ("file", "line", "column", "value", "expected")

    def __init__(self, file: str, line: int | None, column: str | None, value: object, expected: str) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.value = value
        self.expected = expected

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "value": None if self.value is None else str(self.value)[:200],
            "expected": self.expected,
        }

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line is not None else self.file
        col = f", column {self.column!r}" if self.column else ""
        val = "" if self.value is None else f": got {str(self.value)[:60]!r}"
        return f"{where}{col}{val}; expected {self.expected}"


class IndexNotFoundError(AssistantError):
    """No built index at the expected place (run `assistant index build`)."""


class IndexMismatchError(AssistantError):
    """The index was built with another embedding model / dimension than the one configured."""


class ModelNotFoundError(AssistantError):
    """A model (LLM or embedder) is not installed or its files are corrupt."""


class MissingDependencyError(AssistantError):
    """An optional dependency is not installed; the message names the package to install."""


class ForecastError(AssistantError):
    """A forecasting request cannot be served (series too short, bad horizon, ...)."""


class ToolError(AssistantError):
    """A tool call failed; the agent reports this back to the model as an observation."""


class GenerationError(AssistantError):
    """The LLM failed to produce a usable answer (bad JSON after retries, cancelled, ...)."""


def require(module: str, package: str | None = None):  # type: ignore[no-untyped-def]
    """Import an optional heavy dependency lazily, naming what to install if it is missing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only when a package is absent
        pkg = package or module.split(".")[0]
        raise MissingDependencyError(
            f"This feature needs the '{pkg}' package. Install it with: pip install {pkg}"
        ) from exc
