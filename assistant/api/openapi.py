"""The committed OpenAPI spec (docs/openapi.json). Regenerate after changing the API:

    .venv/bin/python -m assistant.api.openapi            # writes docs/openapi.json
    .venv/bin/python -m assistant.api.openapi --check    # exit 1 if the committed file is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from assistant.config import REPO_DIR, Settings

SPEC_PATH = REPO_DIR / "docs" / "openapi.json"


def spec() -> dict[str, Any]:
    """The API's OpenAPI document (independent of local settings)."""
    from assistant.api.app import create_app

    return create_app(settings=Settings(api_tokens=[])).openapi()


def render() -> str:
    return json.dumps(spec(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m assistant.api.openapi",
                                     description="Write the API's OpenAPI spec to docs/openapi.json, or check it.")
    parser.add_argument("--check", action="store_true",
                        help="Only compare: exit 1 when docs/openapi.json is out of date; write nothing.")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)  # --help and unknown flags write nothing
    text = render()
    if args.check:
        current = SPEC_PATH.read_text(encoding="utf-8") if SPEC_PATH.is_file() else ""
        if current != text:
            print(f"{SPEC_PATH} is out of date: run python -m assistant.api.openapi", file=sys.stderr)
            return 1
        print(f"{SPEC_PATH} is up to date")
        return 0
    Path(SPEC_PATH).parent.mkdir(parents=True, exist_ok=True)
    tmp = SPEC_PATH.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(SPEC_PATH)
    print(f"wrote {SPEC_PATH}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
