"""`inferbook mcp`, driven by the MCP Python SDK's own client: in process, and over stdio
as an assistant would start it."""

from __future__ import annotations

import json
import sys
from typing import Any

import anyio
import pytest
from mcp import Client  # the 'mcp' extra, part of [dev]: missing, these tests fail rather than skip
from mcp.client.stdio import StdioServerParameters

from inferbook.cli import main
from inferbook.mcp_server import TOOLS, build_server


def _call(tool: str, arguments: dict[str, Any], server: Any = None) -> Any:
    async def go() -> Any:
        async with Client(server or build_server()) as client:
            return await client.call_tool(tool, arguments)
    return anyio.run(go)


def _cli_json(argv: list[str], capsys) -> Any:
    capsys.readouterr()
    main(argv)
    return json.loads(capsys.readouterr().out)


def test_every_tool_is_listed_with_its_commands_options():
    async def go() -> Any:
        async with Client(build_server()) as client:
            return await client.list_tools()
    tools = {t.name: t for t in anyio.run(go).tools}
    assert list(tools) == [spec.command for spec in TOOLS]
    kv = tools["kv"].input_schema
    assert kv["properties"]["context"]["type"] == "integer" and kv["properties"]["context"]["minimum"] == 1
    assert "tokens" in kv["properties"]["context"]["description"]
    assert kv["additionalProperties"] is False
    predict = tools["predict"].input_schema
    assert set(predict["required"]) == {"isl", "osl"}
    assert predict["properties"]["engine"]["enum"][:2] == ["vllm", "sglang"]
    assert predict["properties"]["acceptance"]["exclusiveMinimum"] == 0
    for tool in tools.values():  # nothing that reads a file or picks other folders
        assert not {"kb", "no_builtin", "config", "trace", "json", "help"} & set(tool.input_schema["properties"])
        assert tool.annotations.read_only_hint and tool.description
    assert tools["plan"].input_schema["properties"]["models"]["type"] == "array"


def test_a_calculator_answers_as_its_command_does(capsys):
    args = {"model": "llama-3.1-8b-instruct", "context": 8192, "batch": 4, "dtype": "fp8"}
    result = _call("kv", args)
    assert not result.is_error
    expected = _cli_json(["kv", "llama-3.1-8b-instruct", "--context", "8192", "--batch", "4", "--dtype", "fp8",
                          "--json"], capsys)
    assert result.structured_content == expected
    assert json.loads(result.content[0].text) == expected
    assert expected["bytes_per_token"] == 32 * 2 * 8 * 128  # 8 KV heads x 128, one byte each, K and V


def test_lookups_search_and_lists(capsys):
    shown = _call("show", {"id": "H100"})
    assert shown.structured_content["id"] == "h100-sxm"
    found = _call("search", {"text": "paged attention", "limit": 3})
    assert found.structured_content["results"][0]["id"] == "paged-attention"
    listed = _call("list", {"kind": "gpus", "where": ["memory_gib>=180"], "sort": ["-memory_gib"],
                            "fields": "memory_gib"})
    rows = listed.structured_content["results"]
    assert rows and all(r["memory_gib"] >= 180 for r in rows)
    assert rows == _cli_json(["list", "gpus", "--where", "memory_gib>=180", "--sort=-memory_gib", "--fields",
                              "memory_gib", "--format", "json"], capsys)


def test_an_infeasible_setup_is_an_answer_not_an_error():
    result = _call("predict", {"model": "deepseek-v3", "gpu": "l4", "isl": 1000, "osl": 100, "batch": 1})
    assert not result.is_error
    assert result.structured_content["feasible"] is False and result.structured_content["reasons"]


@pytest.mark.parametrize(("tool", "arguments", "says"), [
    ("show", {"id": "no-such-gpu"}, "no entry"),
    ("kv", {"model": "llama-3.1-8b-instruct", "context": 0}, "must be a whole number from 1"),
    ("kv", {"model": "llama-3.1-8b-instruct", "config": "/etc/passwd"}, "unknown argument(s): config"),
    ("show", {"id": "--config=/etc/passwd"}, "may not start with '-'"),
    ("list", {"kind": "gpus", "where": "memory_gib>>80"}, "'>>' is not an operator"),
    ("kv", {"model": ["a", "b"]}, "expected one value"),
    ("kv", {"model": "llama-3.1-8b-instruct", "context": {"x": 1}}, "expected a string or a number"),
    ("no-such-tool", {}, "no tool named"),
])
def test_bad_calls_come_back_as_error_results(tool, arguments, says):
    result = _call(tool, arguments)
    assert result.is_error
    assert says in result.content[0].text


@pytest.mark.slow
def test_stdio_server_as_an_assistant_starts_it(tmp_path):
    params = StdioServerParameters(command=sys.executable, args=["-m", "inferbook", "mcp"], cwd=str(tmp_path))

    async def go() -> Any:
        async with Client(params) as client:
            tools = await client.list_tools()
            fit = await client.call_tool("fit", {"model": "llama-3.1-70b-instruct", "context": 8192, "limit": 3})
            return tools, fit
    tools, fit = anyio.run(go)
    assert len(tools.tools) == len(TOOLS)
    assert not fit.is_error and fit.structured_content
