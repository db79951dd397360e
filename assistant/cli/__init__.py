"""Command-line front-end (typer). See ``assistant.cli.main``."""
