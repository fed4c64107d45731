"""The notebooks' source files: one Python file per notebook, named after its tool
(`kv_cache.py` for `kv-cache`; `notebooks.TOOLS` lists them), from which
`inferbook.generators.notebooks` assembles the `.ipynb` files.

Each file is ordinary Python that ruff and mypy check with the rest of the package. Do not
import them: running one runs the notebook. They are split into cells by marker lines,
the "percent" format that editors such as VS Code and Spyder also read:

    # %%                          a code cell; the lines below it are its source
    # %% tags=["parameters"]      a code cell with cell tags (a JSON list of strings)
    # %% [markdown]               a Markdown cell; each line is `# ` + the Markdown text
                                  (a bare `#` is an empty line)
    # %% [markdown] links         a list of handbook entries, filled in from the knowledge base

A marker starts at the beginning of a line; everything up to the next marker belongs to
the cell, with blank lines at its start and end dropped. Before the first marker a file
holds only its docstring (which says what the notebook covers) and comments; the
generator leaves them out.

The parameters cell. Exactly one code cell is tagged `parameters`. It holds the default
values, one `NAME = literal  # comment` assignment per line (comment lines may sit in
between); give a parameter an annotation where mypy needs one (`TP: int | None = None`,
`GPUS: list[str] = []`). The generator rewrites each assignment as `NAME = value` with the
comments aligned: MODEL, GPU, FORMAT, KV_DTYPE and KB take the requested model, GPU, weight
format, KV-cache type and knowledge-base folders; ENTRY and FORMATS are adjusted to the
knowledge base (`notebooks.KB_PARAMETERS`); every other parameter keeps the file's value.
Tests read the defaults with `notebooks.parameter_defaults(tool)`.

The `links` directive. A Markdown cell whose marker reads `# %% [markdown] links` holds
`# - kind/id` lines, one entry each (a bare id or alias works too), and optionally lead
lines of plain text (default: "Handbook entries this notebook draws on:"). `{NAME}` in an
entry stands for the parameter NAME's value in the generated notebook, e.g.
`# - models/{MODEL}`. The generator turns the cell into a Markdown list of links to the
entries the knowledge base has, titled with their titles made safe by `notebooks.md_text`
(knowledge-base text is untrusted) and pointing into the generated site; entries it lacks
are left out, and so is the cell when none is left.

Code cells are copied into the notebook unchanged, so the notebook runs exactly the code
the checks saw. Shared setup (loading the case, showing a figure) belongs in
`inferbook.notebook_support`, not in several files: a notebook's code may import only the
public `inferbook` API, matplotlib and numpy (the `notebooks` extra).
"""
