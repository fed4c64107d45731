"""The layer layout: which attention kind each layer has (full, sliding, chunked, linear), read from
whichever keys the config uses (layer_types, sliding-window and interval keys, model-type rules),
folded into the schema's repeating layer_pattern; and the linear-attention block."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .reading import shown
from .tables import DELTANET_TYPES, LAYER_TYPES, LINEAR_ATTENTION_KEYS, PATTERN_KEYS

if TYPE_CHECKING:
    from .architecture import Builder


def layer_pattern(b: Builder, layers: int | None) -> list[str]:
    """The schema's layer_pattern: the shortest repeating run of layer kinds (["full"] when every layer is full).
    ``layers`` is None when the count is unknown or out of the schema's range."""
    kinds = _layer_kinds(b, layers)
    for key in PATTERN_KEYS:  # the keys that lay out the layers, superseded by the one that decided
        b.text.raw(key)
    if kinds is None:
        return ["full"]
    return kinds[:_period(kinds)]


def _layer_kinds(b: Builder, layers: int | None) -> list[str] | None:
    """The attention kind of every layer, as the config lays them out (None: every layer full)."""
    mt = b.model_type or ""
    types = b.text.array("layer_types")
    if types is not None:
        return _from_layer_types(b, types, layers)
    if layers is None:
        return None
    if mt in DELTANET_TYPES and b.text.has("full_attention_interval"):
        every = b.text.whole("full_attention_interval")
        if every is None or every < 1:
            b.at_least_one("full_attention_interval")
            return None
        b.origins["layer_pattern"] = f"full_attention_interval {every}: linear attention in the other layers"
        return ["full" if (i + 1) % every == 0 else "linear" for i in range(layers)]
    if mt == "gemma3_text":
        every = b.whole("sliding_window_pattern", "layer_pattern")
        if every is None or every < 1:
            b.at_least_one("sliding_window_pattern")
            return None
        b.origins["layer_pattern"] = f"sliding_window_pattern {every}: every {every}th layer is global"
        return ["full" if (i + 1) % every == 0 else "sliding" for i in range(layers)]
    if mt == "gemma2":
        b.origins["layer_pattern"] = "Gemma 2 alternates: even-indexed layers slide, odd ones are global"
        return ["sliding" if i % 2 == 0 else "full" for i in range(layers)]
    if mt == "llama4_text":
        return _llama4_kinds(b, layers)
    use = b.text.flag("use_sliding_window")
    window = b.text.raw("sliding_window") if b.text.has("sliding_window") else None
    if use is False or window is None:
        b.text.raw("max_window_layers")
        if use is False:
            b.origins["layer_pattern"] = "use_sliding_window is false"
        elif b.text.data.get("sliding_window", 0) is None:
            b.origins["layer_pattern"] = "sliding_window null"
        return None
    bound = b.text.whole("max_window_layers") if use else None
    if bound is None or bound <= 0:
        b.origins["layer_pattern"] = f"sliding_window {shown(window)} applies to every layer"
        return ["sliding"] * layers
    if bound >= layers:
        b.origins["layer_pattern"] = f"max_window_layers {bound}: no layer slides"
        return None
    b.errors.append(f"{b.text.name('max_window_layers')} = {bound}: the schema cannot express a sliding "
                    f"window on the layers from {bound} on only")
    return None


def _from_layer_types(b: Builder, types: list[Any], layers: int | None) -> list[str] | None:
    """The layer kinds an explicit layer_types list names."""
    name = b.text.name("layer_types")
    if layers is not None and len(types) != layers:
        b.errors.append(f"{name}: {len(types)} entries for {layers} layers")
        return None
    unknown = sorted({shown(t) for t in types if not isinstance(t, str) or t not in LAYER_TYPES})
    if unknown:
        b.errors.append(f"{name}: the schema cannot express layers of type {', '.join(unknown)} yet")
        return None
    kinds = [LAYER_TYPES[t] for t in types]
    b.origins["layer_pattern"] = f"{name}, repeating from the first layer"
    return kinds


def _llama4_kinds(b: Builder, layers: int) -> list[str] | None:
    """Llama 4: RoPE layers attend in chunks, NoPE layers to the whole context."""
    chunk = b.text.has("attention_chunk_size")
    rope_layers = b.text.array("no_rope_layers")
    if rope_layers:
        if len(rope_layers) != layers or any(v not in (0, 1) or isinstance(v, bool) for v in rope_layers):
            b.errors.append(f"{b.text.name('no_rope_layers')}: expected {layers} entries of 0 or 1")
            return None
        uses_rope = [v == 1 for v in rope_layers]
        origin = "no_rope_layers"
    else:
        every = b.whole("no_rope_layer_interval", "layer_pattern")
        if every is None or every < 1:
            b.at_least_one("no_rope_layer_interval")
            return None
        uses_rope = [(i + 1) % every != 0 for i in range(layers)]
        origin = f"no_rope_layer_interval {every}"
    if not chunk:
        b.origins["layer_pattern"] = "attention_chunk_size absent: every layer attends to the whole context"
        return None
    b.origins["layer_pattern"] = f"{origin}: RoPE layers use chunked attention, NoPE layers are global"
    return ["chunked" if rope else "full" for rope in uses_rope]


def linear_attention(b: Builder) -> dict[str, Any] | None:
    """The linear_attention block of a Gated DeltaNet model (None, and a report line, for other designs)."""
    if (b.model_type or "") not in DELTANET_TYPES:
        present = [b.text.name(k) for k in b.text.data if k.startswith("linear_")]
        b.report.cannot_express.append(
            f"the schema cannot express the linear-attention layers of model_type {b.model_type} yet"
            + (f" ({', '.join(present)})" if present else "")
            + ": they are counted like attention layers for parameters and hold no state")
        for k in b.text.data:
            if k.startswith("linear_"):
                b.text.raw(k)
        return None
    block: dict[str, Any] = {"kind": "gated-deltanet"}
    for name, key in LINEAR_ATTENTION_KEYS.items():
        block[name] = b.whole(key, f"linear_attention.{name}", required=True)
    return block


def _period(kinds: list[str]) -> int:
    """The shortest p with kinds[i] == kinds[i % p] for every layer."""
    for p in range(1, len(kinds) + 1):
        if all(kinds[i] == kinds[i % p] for i in range(len(kinds))):
            return p
    return len(kinds)
