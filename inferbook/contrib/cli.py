"""Subcommands for contributors. Each command module registers itself here."""

from __future__ import annotations

import argparse


def add_contrib_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register the contributor subcommands (new, fmt, lint, diff) on the CLI."""
