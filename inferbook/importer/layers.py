"""The layer layout: which kind each layer has (full, sliding, chunked, linear, mamba, and for
Nemotron-H's one-block layers mlp and moe), read from whichever keys the config uses (layer_types,
Nemotron-H's hybrid_override_pattern or layers_block_type, sliding-window and interval keys,
model-type rules), folded into the schema's repeating layer_pattern (written in full, one entry per
layer, when it holds Mamba or feed-forward layers, whose order seldom repeats); the linear-attention
block (Gated DeltaNet); and the mamba block (Mamba-2: heads, head width, state size, groups,
convolution, biases, the SSM state's dtype)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .reading import is_whole, shown
from .tables import (
    BLOCK_TYPES,
    DELTANET_TYPES,
    HYBRID_PATTERN,
    LAYER_TYPES,
    LINEAR_ATTENTION_KEYS,
    MAMBA2_TYPES,
    MAMBA_EXPAND_KEYS,
    MAMBA_FLAGS,
    MAMBA_KEYS,
    PATTERN_KEYS,
    SSM_CACHE_DTYPE_KEY,
    TORCH_DTYPES,
)

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
    if {"mamba", "mlp", "moe"} & set(kinds):
        return kinds  # hybrid layouts: one entry per layer, as the config lists them
    return kinds[:_period(kinds)]


def _layer_kinds(b: Builder, layers: int | None) -> list[str] | None:
    """The attention kind of every layer, as the config lays them out (None: every layer full)."""
    mt = b.model_type or ""
    if b.text.has("hybrid_override_pattern") or b.text.has("layers_block_type"):
        return _hybrid_kinds(b, layers)
    types = b.text.array("layer_types")
    if types is not None:
        return _from_layer_types(b, types, layers)
    listed = b.text.array("attn_type_list") if b.text.has("attn_type_list") else None
    if listed is not None:
        return _from_attn_type_list(b, listed, layers)
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
        alias = b.text.raw("sliding_window_size")  # early Gemma 2 configs repeat the window under this name
        if alias is not None and alias != b.text.data.get("sliding_window"):
            b.errors.append(f"{b.text.name('sliding_window_size')} = {shown(alias)}, {b.text.name('sliding_window')} = "
                            f"{shown(b.text.data.get('sliding_window'))}: the config gives different windows")
            return None
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
    b.origins["layer_pattern"] = (f"{name}, one entry per layer" if "mamba" in kinds
                                  else f"{name}, repeating from the first layer")
    return kinds


def _from_attn_type_list(b: Builder, listed: list[Any], layers: int | None) -> list[str] | None:
    """MiniMax's attn_type_list: 1 marks a softmax-attention layer, 0 a lightning (linear) attention layer,
    which the schema cannot express yet."""
    name = b.text.name("attn_type_list")
    if layers is not None and len(listed) != layers:
        b.errors.append(f"{name}: {len(listed)} entries for {layers} layers")
        return None
    if any(not is_whole(v) or v not in (0, 1) for v in listed):
        b.errors.append(f"{name}: expected entries of 0 (lightning attention) or 1 (softmax attention)")
        return None
    if 0 in listed:
        b.errors.append(f"{name}: the schema cannot express MiniMax's lightning-attention layers (entries 0) yet")
        return None
    b.origins["layer_pattern"] = f"{name}: every entry 1, softmax attention in every layer"
    return None


def _hybrid_kinds(b: Builder, layers: int | None) -> list[str] | None:
    """Nemotron-H's blocks: hybrid_override_pattern ("M" Mamba-2, "*" attention, "-" MLP, "E" MoE) or the
    layers_block_type list of newer configs; they must agree when both are given."""
    found: list[tuple[str, list[str]]] = []
    pattern = b.text.text("hybrid_override_pattern") if b.text.has("hybrid_override_pattern") else None
    if pattern is not None:
        unknown = sorted({c for c in pattern if c not in HYBRID_PATTERN})
        if unknown:
            b.errors.append(f"{b.text.name('hybrid_override_pattern')}: the schema cannot express blocks "
                            f"{', '.join(shown(c) for c in unknown)} yet")
            return None
        found.append(("hybrid_override_pattern", [HYBRID_PATTERN[c] for c in pattern]))
    listed = b.text.array("layers_block_type") if b.text.has("layers_block_type") else None
    if listed is not None:
        unknown = sorted({shown(t) for t in listed if not isinstance(t, str) or t not in BLOCK_TYPES})
        if unknown:
            b.errors.append(f"{b.text.name('layers_block_type')}: the schema cannot express blocks of type "
                            f"{', '.join(unknown)} yet")
            return None
        found.append(("layers_block_type", [BLOCK_TYPES[t] for t in listed]))
    if not found:
        return None
    if len(found) == 2 and found[0][1] != found[1][1]:
        b.errors.append(f"{b.text.name('hybrid_override_pattern')} and {b.text.name('layers_block_type')} lay out "
                        "different blocks")
        return None
    key, kinds = found[0]
    if layers is not None and len(kinds) != layers:
        b.errors.append(f"{b.text.name(key)}: {len(kinds)} blocks for {layers} layers")
        return None
    spelled = pattern if pattern is not None and len(pattern) <= 200 else key
    b.origins["layer_pattern"] = f"{b.text.name('hybrid_override_pattern') if pattern else b.text.name(key)} " \
                                 f"{spelled}: one block per layer, written in full"
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


def mamba(b: Builder, hidden: int | None) -> dict[str, Any] | None:
    """The mamba block of a Mamba-2 hybrid (None, with an error, for other Mamba designs)."""
    mt = b.model_type or ""
    if mt not in MAMBA2_TYPES:
        b.errors.append(f"the schema cannot express the Mamba layers of model_type {mt or '(none)'} yet "
                        "(only the Mamba-2 mixers of nemotron_h and granitemoehybrid)")
        return None
    block: dict[str, Any] = {}
    for name, keys in MAMBA_KEYS.items():
        value = b.first_whole(keys, f"mamba.{name}")
        if value is None and name != "chunk_size":
            b.errors.append(f"{' / '.join(b.text.name(k) for k in keys)}: missing for the Mamba layers")
        block[name] = value
    for name, keys in MAMBA_FLAGS.items():
        given = [(k, b.text.flag(k)) for k in keys if b.text.has(k)]
        values = {v for _, v in given if v is not None}
        if len(values) > 1:
            b.errors.append(", ".join(f"{b.text.name(k)} = {shown(v)}" for k, v in given)
                            + ": the config gives different values for one flag")
        elif values:
            block[name] = values.pop()
            b.origins[f"mamba.{name}"] = " / ".join(b.text.name(k) for k, _ in given)
    dtype = b.text.text(SSM_CACHE_DTYPE_KEY) if b.text.has(SSM_CACHE_DTYPE_KEY) else None
    if dtype is not None:
        fid = TORCH_DTYPES.get(dtype)
        if fid in ("fp32", "bf16", "fp16"):
            block["ssm_state_dtype"] = fid
            b.origins["mamba.ssm_state_dtype"] = b.text.name(SSM_CACHE_DTYPE_KEY)
        else:
            b.report.checks.append(f"{b.text.name(SSM_CACHE_DTYPE_KEY)} = {shown(dtype)} is not a state dtype the "
                                   "entry can record; the state is counted in 16 bits")
    elif mt == "nemotron_h":
        b.report.checks.append("no mamba_ssm_cache_dtype: vLLM keeps Nemotron-H's SSM state in float32 then (its "
                               "NemotronH config hook); the entry counts it in the model's 16 bits")
    _check_expand(b, block, hidden)
    if block.get("chunk_size") is None:
        block.pop("chunk_size")
    return block


def _check_expand(b: Builder, block: dict[str, Any], hidden: int | None) -> None:
    """Cross-check expand x hidden_size against heads x head_dim (Nemotron-H's mixer uses the latter)."""
    key = next((k for k in MAMBA_EXPAND_KEYS if b.text.has(k)), None)
    if key is None:
        return
    expand = b.text.raw(key)
    heads, head_dim = block.get("heads"), block.get("head_dim")
    if not (is_whole(expand) and hidden and heads and head_dim):
        return
    if expand * hidden != heads * head_dim:
        b.report.checks.append(f"{b.text.name(key)} {expand} x hidden_size {hidden} = {expand * hidden} differs from "
                               f"heads x head_dim = {heads * head_dim}, the inner width the mixer is built with")


def _period(kinds: list[str]) -> int:
    """The shortest p with kinds[i] == kinds[i % p] for every layer."""
    for p in range(1, len(kinds) + 1):
        if all(kinds[i] == kinds[i % p] for i in range(len(kinds))):
            return p
    return len(kinds)
