"""Contributor tooling: scaffolding, formatting, lint rules and review diffs."""
