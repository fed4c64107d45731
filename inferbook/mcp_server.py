"""`inferbook mcp`: the lookups, search and calculators as Model Context Protocol tools.

Each tool is one command of the command line, answered as that command's JSON. The tools'
input schemas are made from the commands' own argparse options (names, types, ranges,
choices and help text), so a tool accepts exactly what the command accepts and says so in
the same words; a call becomes an argument list and runs through `cli.main`.

What a tool may not do: read a file (`--config`, `--trace`) or change which knowledge base
is read (`--kb`, `--no-builtin`); the folders are fixed when the server starts
(`inferbook mcp --kb DIR`). Every value goes in as `--option=value`, and positional values
may not start with "-", so no argument can turn into another option.

Needs the `mcp` extra (the official Python SDK). Serves over stdio.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .cli_args import Number
from .version import __version__

if TYPE_CHECKING:
    from mcp.server.lowlevel import Server


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One command offered as a tool: the options that pick its JSON output, and the
    options it hides besides the ones every tool hides."""

    command: str
    json_args: tuple[str, ...] = ("--json",)
    hidden: frozenset[str] = frozenset()
    read_only: bool = True


HIDDEN_EVERYWHERE = frozenset({"help", "kb", "no_builtin", "json", "config", "trace"})
"""Options no tool takes: help, the knowledge-base folders (fixed at start), the output shape
(always JSON), and the two that read a file."""

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec("show"),
    ToolSpec("list", json_args=("--format=json",), hidden=frozenset({"format"})),
    ToolSpec("search"),
    ToolSpec("compare"),
    ToolSpec("prerequisites"),
    ToolSpec("provenance"),
    ToolSpec("version"),
    ToolSpec("kv"),
    ToolSpec("fit"),
    ToolSpec("roofline"),
    ToolSpec("simulate"),
    ToolSpec("predict"),
    ToolSpec("plan", hidden=frozenset({"yaml"})),
)
"""The commands served, in the order `tools/list` gives them."""

_RUN_LOCK = threading.Lock()
"""`cli.main` writes to sys.stdout, which a call borrows: one call at a time."""


class ToolInputError(ValueError):
    """Arguments that do not fit the tool's schema (said before anything runs)."""


def _subparsers() -> tuple[dict[str, argparse.ArgumentParser], dict[str, str]]:
    """Every command's parser, and what each is for (its description, else its one-line help),
    from one build of the command line."""
    from .cli import build_parser

    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or choice.dest for choice in action._choices_actions}
            parsers = dict(action.choices)
            return parsers, {name: (p.description or helps.get(name, name)).strip() for name, p in parsers.items()}
    raise RuntimeError("the command line has no subcommands")  # pragma: no cover


def _offered(spec: ToolSpec, parser: argparse.ArgumentParser) -> list[argparse.Action]:
    hidden = HIDDEN_EVERYWHERE | spec.hidden
    return [a for a in parser._actions if a.dest not in hidden]


def _many(action: argparse.Action) -> bool:
    return action.nargs in ("+", "*") or isinstance(action, argparse._AppendAction)


def _value_schema(action: argparse.Action) -> dict[str, Any]:
    kind = action.type
    schema: dict[str, Any]
    if isinstance(kind, Number):
        schema = {"type": "integer" if kind.whole else "number", "maximum": kind.high}
        schema["exclusiveMinimum" if kind.low_open else "minimum"] = kind.low
    else:
        schema = {"type": "string"}
    if action.choices is not None:
        schema["enum"] = list(action.choices)
    return schema


def _property(action: argparse.Action) -> dict[str, Any]:
    if isinstance(action, argparse._StoreTrueAction):
        prop: dict[str, Any] = {"type": "boolean"}
    elif _many(action):
        prop = {"type": "array", "items": _value_schema(action)}
        if action.nargs == "+" and not action.option_strings:
            prop["minItems"] = 1
    else:
        prop = _value_schema(action)
    if action.help and action.help != argparse.SUPPRESS:
        prop["description"] = action.help.replace("%(default)s", str(action.default))
    return prop


def input_schema(spec: ToolSpec, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The JSON Schema of a tool's arguments, from its command's options."""
    actions = _offered(spec, parser)
    required = [a.dest for a in actions if a.required and not isinstance(a, argparse._StoreTrueAction)]
    schema: dict[str, Any] = {"type": "object", "properties": {a.dest: _property(a) for a in actions},
                              "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _text(name: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ToolInputError(f"{name}: expected a string or a number, got {type(value).__name__}")
    return str(value)


def argv_for(spec: ToolSpec, parser: argparse.ArgumentParser, arguments: dict[str, Any]) -> list[str]:
    """The command line a call stands for: options as `--name=value`, then the positionals."""
    actions = {a.dest: a for a in _offered(spec, parser)}
    unknown = sorted(set(arguments) - set(actions))
    if unknown:
        raise ToolInputError(f"unknown argument(s): {', '.join(unknown)}; this tool takes: "
                             f"{', '.join(actions) or 'nothing'}")
    options: list[str] = []
    positionals: list[str] = []
    for name, value in arguments.items():
        action = actions[name]
        if value is None:
            continue
        if isinstance(action, argparse._StoreTrueAction):
            if not isinstance(value, bool):
                raise ToolInputError(f"{name}: expected true or false")
            if value:
                options.append(action.option_strings[-1])
            continue
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list) and not _many(action):
            raise ToolInputError(f"{name}: expected one value, not a list")
        texts = [_text(name, v) for v in values]
        if action.option_strings:
            options += [f"{action.option_strings[-1]}={t}" for t in texts]
        else:
            bad = next((t for t in texts if t.startswith("-")), None)
            if bad is not None:
                raise ToolInputError(f"{name}: {bad!r} may not start with '-'")
            positionals += texts
    return [spec.command, *options, *spec.json_args, *positionals]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one command printed, and its exit code."""

    code: int
    stdout: str
    stderr: str


def run_command(argv: Sequence[str], kb: Sequence[str] = (), no_builtin: bool = False) -> Outcome:
    """Run one command in this process with the server's knowledge-base folders."""
    from .cli import main

    layers = [f"--kb={folder}" for folder in kb] + (["--no-builtin"] if no_builtin else [])
    out, err = io.StringIO(), io.StringIO()
    with _RUN_LOCK, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([argv[0], *layers, *argv[1:]])
        except SystemExit as exc:  # argparse refusing an argument
            code = exc.code if isinstance(exc.code, int) else 2
    return Outcome(code, out.getvalue(), err.getvalue())


def build_server(kb: Sequence[str] = (), no_builtin: bool = False) -> Server:
    """The MCP server (the SDK's low-level `Server`) with one tool per command in `TOOLS`."""
    from mcp import types
    from mcp.server.lowlevel import Server

    parsers, about = _subparsers()
    specs = {spec.command: spec for spec in TOOLS}
    tools = [types.Tool(name=spec.command,
                        description=about[spec.command],
                        input_schema=input_schema(spec, parsers[spec.command]),
                        annotations=types.ToolAnnotations(read_only_hint=spec.read_only, open_world_hint=False))
             for spec in TOOLS]

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        spec = specs.get(params.name)
        if spec is None:
            return _error(f"no tool named {params.name!r}; the tools are: {', '.join(specs)}")
        try:
            argv = argv_for(spec, parsers[spec.command], dict(params.arguments or {}))
        except ToolInputError as exc:
            return _error(f"{spec.command}: {exc}")
        outcome = run_command(argv, kb, no_builtin)
        return _result(outcome)

    return Server("inferbook", version=__version__,
                  instructions="Look up GPUs, models, formats and inference concepts, and run the calculators "
                               "(kv, fit, roofline, simulate, predict, plan). Every calculator answer says whether "
                               "the setup can run and why; predictions carry an error band and a basis.",
                  on_list_tools=list_tools, on_call_tool=call_tool)


def _error(message: str) -> Any:
    from mcp import types

    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def _result(outcome: Outcome) -> Any:
    """A JSON answer is the result, also when the command exits 1 with one (an infeasible
    setup is an answer); a run with only a message on stderr is an error result."""
    from mcp import types

    text = outcome.stdout.strip()
    try:
        data = json.loads(text) if text else None
    except json.JSONDecodeError:
        data = None
    if data is None:
        message = outcome.stderr.strip() or text or f"exit code {outcome.code}"
        return _error(message)
    structured = data if isinstance(data, dict) else {"results": data}
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                structured_content=structured, is_error=False)


def serve_stdio(kb: Sequence[str] = (), no_builtin: bool = False) -> None:
    """Serve the tools over stdin and stdout until the client closes them."""
    import anyio
    from mcp.server.stdio import stdio_server

    server = build_server(kb, no_builtin)

    async def run() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(run)


def cmd_mcp(args: argparse.Namespace) -> int:
    """Serve until the client hangs up. The folders settled by `cli.prepare_layers` (the
    built-in knowledge base included unless --no-builtin) are passed to every call as they are."""
    from .extras import require

    require("mcp", "inferbook mcp")
    folders = list(args.kb or [])
    serve_stdio(folders, no_builtin=bool(folders))
    return 0


def add_mcp_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `inferbook mcp` on the command line."""
    p = sub.add_parser("mcp", parents=[common],
                       help="serve the lookups, search and calculators to an assistant over MCP (stdio)",
                       description="Serve the lookups (show, list, search, compare, prerequisites, provenance, "
                                   "version) and the calculators (kv, fit, roofline, simulate, predict, plan) as "
                                   "Model Context Protocol tools over stdin and stdout. Each tool takes its "
                                   "command's options and answers with its JSON. Needs the 'mcp' extra.")
    p.set_defaults(func=cmd_mcp)
