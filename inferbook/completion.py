"""Shell completion scripts for `inferbook completion bash|zsh|fish`, generated from the
argument parser: every command and option, fixed choices, folders for --kb/--out, and
entry ids read at completion time from `inferbook completion --ids`."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterable

from .schema import KINDS

SHELLS = ("bash", "zsh", "fish")

_ID_DESTS = frozenset({"id", "ids", "model", "gpu", "old", "weight_format"})
"""Arguments whose values are entry ids (completed from `inferbook completion --ids`)."""
_ID_OPTION_DESTS = frozenset({"model", "gpu", "weight_format", "format"})


@dataclasses.dataclass(slots=True)
class _CommandSpec:
    """What a completion script needs to know about one subcommand."""

    name: str
    options: list[str]
    ids: bool
    """Its positional arguments are entry ids."""
    choices: list[str]
    """Fixed choices of its first positional argument (kinds, targets, shells)."""
    id_options: list[str]
    dir_options: list[str]
    option_choices: dict[str, list[str]]


def _specs(parser: argparse.ArgumentParser) -> list[_CommandSpec]:
    """One `_CommandSpec` per subcommand of ``parser``, read from its arguments."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    specs = []
    for name, command in sub.choices.items():
        spec = _CommandSpec(name, [], False, [], [], [], {})
        for action in command._actions:
            if action.option_strings:
                long = [o for o in action.option_strings if o.startswith("--")] or action.option_strings
                spec.options += long
                if action.nargs == 0:
                    continue
                if action.choices:
                    for option in long:
                        spec.option_choices[option] = [str(c) for c in action.choices]
                elif action.dest in _ID_OPTION_DESTS:
                    spec.id_options += long
                elif action.metavar == "DIR" or action.dest in ("kb", "out"):
                    spec.dir_options += long
            elif action.choices and not spec.choices:
                spec.choices = [str(c) for c in action.choices]
            elif action.dest == "kind" and not spec.choices:
                spec.choices = list(KINDS)
            elif action.dest in _ID_DESTS and name != "new":
                spec.ids = True
        specs.append(spec)
    return specs


def completion_script(shell: str, parser: argparse.ArgumentParser) -> str:
    """A completion script for ``shell`` (bash, zsh or fish) covering every command and option;
    entry ids complete where a command takes them, read at completion time from
    `inferbook completion --ids` (which honours $INFERBOOK_KB)."""
    specs = _specs(parser)
    if shell == "bash":
        return _bash(specs)
    if shell == "zsh":
        return _zsh(specs)
    if shell == "fish":
        return _fish(specs)
    raise ValueError(f"unknown shell {shell!r}; one of: {', '.join(SHELLS)}")


def _words(items: Iterable[str]) -> str:
    return " ".join(items)


def _bash(specs: list[_CommandSpec]) -> str:
    cases = []
    for s in specs:
        lines = [f'        {s.name})', f'            opts="{_words(s.options)}"']
        if s.choices:
            lines.append(f'            words="{_words(s.choices)}"')
        if s.ids:
            lines.append('            words="$(inferbook completion --ids 2>/dev/null)"')
        for option, choices in s.option_choices.items():
            lines.append(f'            [[ $prev == {option} ]] && {{ COMPREPLY=($(compgen -W "{_words(choices)}" '
                         f'-- "$cur")); return; }}')
        for option in s.id_options:
            lines.append(f'            [[ $prev == {option} ]] && {{ COMPREPLY=($(compgen -W '
                         f'"$(inferbook completion --ids 2>/dev/null)" -- "$cur")); return; }}')
        for option in s.dir_options:
            lines.append(f'            [[ $prev == {option} ]] && {{ COMPREPLY=($(compgen -d -- "$cur")); return; }}')
        lines.append("            ;;")
        cases.append("\n".join(lines))
    commands = _words(s.name for s in specs)
    return f'''# bash completion for inferbook: eval "$(inferbook completion bash)" (e.g. in ~/.bashrc)
_inferbook() {{
    local cur prev cmd opts words=""
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "{commands} --help --version" -- "$cur"))
        return
    fi
    cmd="${{COMP_WORDS[1]}}"
    case "$cmd" in
{chr(10).join(cases)}
        *) return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ -n $words ]]; then
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}}
complete -F _inferbook inferbook
'''


def _zsh(specs: list[_CommandSpec]) -> str:
    cases = []
    for s in specs:
        lines = [f"        {s.name})", f"            opts=({_words(s.options)})"]
        if s.choices:
            lines.append(f"            words=({_words(s.choices)})")
        if s.ids:
            lines.append('            words=(${(f)"$(inferbook completion --ids 2>/dev/null)"})')
        for option, choices in s.option_choices.items():
            lines.append(f'            [[ $prev == {option} ]] && {{ compadd -- {_words(choices)}; return; }}')
        for option in s.id_options:
            lines.append(f'            [[ $prev == {option} ]] && {{ compadd -- ${{(f)"$(inferbook completion --ids '
                         f'2>/dev/null)"}}; return; }}')
        for option in s.dir_options:
            lines.append(f"            [[ $prev == {option} ]] && {{ _files -/; return; }}")
        lines.append("            ;;")
        cases.append("\n".join(lines))
    commands = _words(s.name for s in specs)
    return f'''#compdef inferbook
# zsh completion for inferbook: eval "$(inferbook completion zsh)" (after compinit, e.g. in ~/.zshrc)
_inferbook() {{
    local cur=${{words[CURRENT]}} prev=${{words[CURRENT-1]}} cmd=${{words[2]}}
    local -a opts words
    if (( CURRENT == 2 )); then
        compadd -- {commands} --help --version
        return
    fi
    case $cmd in
{chr(10).join(cases)}
        *) return ;;
    esac
    if [[ $cur == -* ]]; then
        compadd -- $opts
    elif (( ${{#words}} )); then
        compadd -- $words
    else
        _files
    fi
}}
compdef _inferbook inferbook
'''


def _fish(specs: list[_CommandSpec]) -> str:
    names = _words(s.name for s in specs)
    lines = ["# fish completion for inferbook: inferbook completion fish | source",
             "# (or save it as ~/.config/fish/completions/inferbook.fish)",
             "complete -c inferbook -f",
             f'complete -c inferbook -n "not __fish_seen_subcommand_from {names}" -a "{names}"']
    for s in specs:
        when = f'-n "__fish_seen_subcommand_from {s.name}"'
        for option in s.options:
            flag = f"-l {option[2:]}" if option.startswith("--") else f"-s {option[1:]}"
            if option in s.option_choices:
                lines.append(f'complete -c inferbook {when} {flag} -x -a "{_words(s.option_choices[option])}"')
            elif option in s.id_options:
                lines.append(f'complete -c inferbook {when} {flag} -x -a "(inferbook completion --ids 2>/dev/null)"')
            elif option in s.dir_options:
                lines.append(f"complete -c inferbook {when} {flag} -r -a '(__fish_complete_directories)'")
            else:
                lines.append(f"complete -c inferbook {when} {flag}")
        if s.choices:
            lines.append(f'complete -c inferbook {when} -a "{_words(s.choices)}"')
        if s.ids:
            lines.append(f'complete -c inferbook {when} -a "(inferbook completion --ids 2>/dev/null)"')
        if not s.choices and not s.ids:
            lines.append(f"complete -c inferbook {when} -F")
    return "\n".join(lines) + "\n"
