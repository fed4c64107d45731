"""Field docstrings, read when something needs them rather than at import.

Every schema field is documented by the string literal under it. Reading those strings
means parsing the schema's source, which costs about 40 ms, more than a cached `show`
can spend; so the models are built without them (`use_attribute_docstrings` is off) and
the readers here parse each class once, on first use:

- `field_doc(model, name)` for one field: the loader's error hints, `inferbook new`'s
  template comments and the site's spec-table tooltips;
- `with_field_docs()` before a JSON Schema is made: it copies every docstring into its
  field's `description` and rebuilds the models, so the exported schemas (and editors'
  hover text) carry them.
"""

import ast
import functools
import inspect
import textwrap
import typing

from pydantic import BaseModel

from .base import Strict


@functools.cache
def attribute_docs(cls: type) -> dict[str, str]:
    """The docstrings of the fields a class body declares: an annotated name followed
    directly by a string literal (schema models and dataclasses alike)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # no source (a frozen or generated class)
        return {}
    body = ast.parse(source).body[0]
    if not isinstance(body, ast.ClassDef):
        return {}
    docs: dict[str, str] = {}
    for node, following in zip(body.body, body.body[1:], strict=False):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            docs[node.target.id] = inspect.cleandoc(following.value.value)
    return docs


def field_doc(model: type[BaseModel], name: str) -> str | None:
    """The description of one field: given in `Field(description=...)`, else the docstring
    under its declaration in the nearest class that declares it."""
    info = model.model_fields.get(name)
    if info is not None and info.description:
        return info.description
    for cls in model.__mro__:
        if cls is BaseModel:
            break
        if name in getattr(cls, "__annotations__", {}):
            return attribute_docs(cls).get(name)
    return None


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """``root`` and every subclass."""
    found: list[type[BaseModel]] = []
    stack = [root]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def _nested(model: type[BaseModel]) -> list[type[BaseModel]]:
    """The models a model's fields hold (inside tuples, unions and `Annotated` too)."""
    found = []
    stack = [info.annotation for info in model.model_fields.values()]
    while stack:
        annotation = stack.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.append(annotation)
        else:
            stack.extend(typing.get_args(annotation))
    return found


def _inner_first(models: list[type[BaseModel]]) -> list[type[BaseModel]]:
    """``models`` ordered so that every model comes after the models its fields hold."""
    order: list[type[BaseModel]] = []
    done: set[type[BaseModel]] = set()

    def visit(model: type[BaseModel], path: frozenset[type[BaseModel]]) -> None:
        if model in done or model in path:  # a model that holds itself is visited once
            return
        for inner in _nested(model):
            visit(inner, path | {model})
        done.add(model)
        order.append(model)

    for model in models:
        visit(model, frozenset())
    return order


@functools.cache
def with_field_docs() -> None:
    """Give every schema model's fields their docstrings as descriptions and rebuild the
    models (once per process). Call before `model_json_schema`."""
    models = _models(Strict)
    for model in models:
        for name, info in model.model_fields.items():
            doc = None if info.description else field_doc(model, name)
            if doc:
                info.description = doc
    # A model's schema embeds the schemas of the models in its fields as they are when it is
    # built, so the inner models are rebuilt first.
    for model in _inner_first(models):
        model.model_rebuild(force=True)
