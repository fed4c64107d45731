"""The mixture of experts: expert counts and widths, which layers are MoE (by whichever rule the
config uses) fitted to the schema's dense_layers and layer_interval, and the shared experts (counted,
or derived from a shared block's width: Qwen MoE, Nemotron-H, Granite 4.0-H). In Nemotron-H's
one-block layouts the MoE and MLP layers are the pattern's own "E" and "-" blocks. ERNIE 4.5 names
its own keys (moe_k, moe_num_shared_experts, moe_layer_start_index, _end_index and _interval)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .reading import is_whole
from .tables import HUNYUAN_TYPES, SHARED_EXPERT_TYPES, SHARED_WIDTH_KEYS

if TYPE_CHECKING:
    from .architecture import Builder

PER_TOKEN_KEYS = ("num_experts_per_tok", "experts_per_token", "moe_topk", "num_experts_per_token", "moe_k")
"""The keys configs use for the routed experts each token goes to."""


def read_moe(b: Builder, layers: int | None) -> tuple[dict[str, Any] | None, int | None]:
    """The moe block and the dense FFN width (None when no layer is dense)."""
    experts = b.first_whole(("n_routed_experts", "num_local_experts", "num_experts", "moe_num_experts"),
                            "moe.experts")
    width = b.whole("intermediate_size")
    if experts is not None and experts < 0:
        b.errors.append(f"{b.origins.get('moe.experts', 'num_experts')} = {experts}: the number of experts "
                        "cannot be negative")
        return None, width
    if {"mlp", "moe"} & set(b.kinds):
        return _one_block_moe(b, experts, width)
    if (b.model_type or "") == "granitemoehybrid" and (experts is None or experts < 2):
        return _granite_dense(b, experts, width)
    if experts is None or experts < 2 or layers is None:
        dense_list = b.text.array("mlp_only_layers")  # Qwen's dense-layer list, empty in a dense config
        if dense_list:
            b.report.checks.append(f"{b.text.name('mlp_only_layers')} lists layers of a model without experts: "
                                   "every layer is dense anyway")
        if experts is not None and experts < 2:
            b.origins.pop("moe.experts", None)
            b.report.checks.append(f"{experts} expert(s) per layer: read as a dense model")
        b.origins["intermediate_size"] = b.text.name("intermediate_size")
        if width is None and not b.text.has("intermediate_size"):
            b.errors.append(f"{b.text.name('intermediate_size')}: missing")
        return None, width
    hunyuan = (b.model_type or "") in HUNYUAN_TYPES
    if hunyuan:
        return _hunyuan_moe(b, experts, width, layers)
    per_token = b.first_whole(PER_TOKEN_KEYS, "moe.experts_per_token")
    if per_token is None:
        b.errors.append(f"{b.text.name('num_experts_per_tok')}: missing for a model with {experts} experts")
    moe_width = b.whole("moe_intermediate_size")
    dense_width = width
    if moe_width is not None:
        b.origins["moe.expert_intermediate_size"] = b.text.name("moe_intermediate_size")
    else:
        moe_width = width
        b.origins["moe.expert_intermediate_size"] = f"{b.text.name('intermediate_size')} (no " \
                                                    "moe_intermediate_size: the expert width)"
        dense_width = b.whole("intermediate_size_mlp")
    moe_layers = _moe_layers(b, layers)
    if moe_layers is None:
        return None, None
    placed = _fit_moe_layers(moe_layers)
    if placed is None:
        listed = ", ".join(str(i) for i, on in enumerate(moe_layers) if on)[:200]
        b.errors.append(f"the schema cannot express MoE on layers {listed} "
                        "(leading dense layers, then every n-th layer)")
        return None, None
    dense_layers, interval = placed
    has_dense = not all(moe_layers)
    unused_width = b.text.whole("mlp_intermediate_size")  # MiniMax-M2: a dense width its modeling code never reads
    if unused_width is not None and not has_dense:
        b.report.checks.append(f"{b.text.name('mlp_intermediate_size')} = {unused_width} sizes no layer: every layer "
                               "is MoE")
    elif unused_width is not None and unused_width != dense_width:
        b.errors.append(f"{b.text.name('mlp_intermediate_size')} = {unused_width}: the schema cannot express a "
                        "second dense FFN width")
    shared = _shared(b, moe_width)
    moe = {"experts": experts, "experts_per_token": per_token, "shared_experts": shared,
           "expert_intermediate_size": moe_width, "dense_layers": dense_layers, "layer_interval": interval}
    if not has_dense:
        b.origins["intermediate_size"] = "every layer is MoE" + (" (no dense FFN width needed)"
                                                                 if dense_width is not None else "")
        return moe, None
    if dense_width is None:
        b.errors.append(f"{b.text.name('intermediate_size')}: missing, but some layers have a dense FFN")
    key = "intermediate_size_mlp" if b.text.has("intermediate_size_mlp") and moe_width == width else \
        "intermediate_size"
    b.origins["intermediate_size"] = f"{b.text.name(key)}: FFN width of the dense layers"
    return moe, dense_width


def _one_block_moe(b: Builder, experts: int | None, width: int | None) -> tuple[dict[str, Any] | None, int | None]:
    """Nemotron-H: the "-" blocks are MLPs of intermediate_size, the "E" blocks MoE."""
    dense_width = width if "mlp" in b.kinds else None
    b.origins["intermediate_size"] = (f"{b.text.name('intermediate_size')}: width of the mlp blocks"
                                      if "mlp" in b.kinds else "no mlp blocks in layer_pattern")
    if "mlp" in b.kinds and width is None:
        b.errors.append(f"{b.text.name('intermediate_size')}: missing, but layer_pattern has mlp blocks")
    if "moe" not in b.kinds:
        if experts:
            b.report.checks.append(f"{b.origins.get('moe.experts', 'n_routed_experts')} = {experts}, but no layer is a "
                                   "MoE block: read as a dense model")
            b.origins.pop("moe.experts", None)
        return None, dense_width
    if experts is None or experts < 2:
        b.errors.append(f"{b.text.name('n_routed_experts')}: missing (at least 2), but layer_pattern has moe blocks")
        return None, dense_width
    per_token = b.first_whole(PER_TOKEN_KEYS, "moe.experts_per_token")
    if per_token is None:
        b.errors.append(f"{b.text.name('num_experts_per_tok')}: missing for a model with {experts} experts")
    moe_width = b.whole("moe_intermediate_size", "moe.expert_intermediate_size")
    if moe_width is None:
        b.errors.append(f"{b.text.name('moe_intermediate_size')}: missing for the moe blocks")
    for field in ("dense_layers", "layer_interval"):
        b.origins[f"moe.{field}"] = "one block per layer: the moe blocks of layer_pattern"
    moe = {"experts": experts, "experts_per_token": per_token, "shared_experts": _shared(b, moe_width),
           "expert_intermediate_size": moe_width, "dense_layers": 0, "layer_interval": 1}
    return moe, dense_width


def _hunyuan_moe(b: Builder, experts: int, width: int | None, layers: int) -> tuple[dict[str, Any] | None, None]:
    """Hunyuan MoE (HunYuanMoEV1ForCausalLM): experts in every layer, moe_topk, moe_intermediate_size and
    num_shared_expert once or per layer, and with use_mixed_mlp_moe one shared MLP of intermediate_size x
    num_shared_expert beside the routed experts."""
    per_token = b.per_layer("moe_topk", layers, "moe.experts_per_token")
    others = [k for k in ("num_experts_per_tok", "experts_per_token", "num_experts_per_token") if b.text.has(k)]
    if others:
        b.errors.append(f"{', '.join(b.text.name(k) for k in others)}: a Hunyuan config gives the routed experts "
                        f"per token in {b.text.name('moe_topk')}")
    if per_token is None:
        b.errors.append(f"{b.text.name('moe_topk')}: missing for a model with {experts} experts")
    moe_width = b.per_layer("moe_intermediate_size", layers, "moe.expert_intermediate_size")
    if moe_width is None:
        moe_width = width
        b.origins["moe.expert_intermediate_size"] = f"{b.text.name('intermediate_size')} (no moe_intermediate_size)"
    elif width is not None and width != moe_width:
        b.errors.append(f"{b.text.name('moe_intermediate_size')} = {moe_width}, {b.text.name('intermediate_size')} = "
                        f"{width}: Hunyuan's modeling code sizes the experts with intermediate_size; the config "
                        "gives two widths")
    if moe_width is None:
        b.errors.append(f"{b.text.name('intermediate_size')}: missing (the width of the experts)")
    count = b.per_layer("num_shared_expert", layers, "moe.shared_experts")
    mixed = b.text.flag("use_mixed_mlp_moe")
    if not mixed:
        shared = 0
        b.origins["moe.shared_experts"] = f"{b.text.name('use_mixed_mlp_moe')} false: no shared MLP"
        if count:
            b.report.checks.append(f"{b.text.name('num_shared_expert')} = {count} is not used: "
                                   f"{b.text.name('use_mixed_mlp_moe')} is false")
    elif count is None or width is None or not moe_width:
        b.errors.append(f"{b.text.name('num_shared_expert')} and {b.text.name('intermediate_size')}: needed for the "
                        f"shared MLP that {b.text.name('use_mixed_mlp_moe')} adds")
        shared = None
    elif (width * count) % moe_width:
        b.errors.append(f"the shared MLP of {b.text.name('intermediate_size')} {width} x "
                        f"{b.text.name('num_shared_expert')} {count}: the schema cannot express a shared expert "
                        f"whose width is not a multiple of the expert width {moe_width}")
        shared = None
    else:
        shared = width * count // moe_width
        b.origins["moe.shared_experts"] = (f"{b.text.name('use_mixed_mlp_moe')}: one shared MLP of "
                                           f"intermediate_size {width} x num_shared_expert {count} = {shared} x the "
                                           "expert width")
    for field in ("dense_layers", "layer_interval"):
        b.origins[f"moe.{field}"] = "Hunyuan builds experts in every layer (num_experts > 1)"
    b.origins["intermediate_size"] = "every layer is MoE; intermediate_size sizes the experts and the shared MLP"
    moe = {"experts": experts, "experts_per_token": per_token, "shared_experts": shared,
           "expert_intermediate_size": moe_width, "dense_layers": 0, "layer_interval": 1}
    return moe, None


def _granite_dense(b: Builder, experts: int | None, width: int | None) -> tuple[None, int | None]:
    """Granite 4.0-H without experts: every layer's feed-forward block is the shared MLP."""
    shared = b.whole("shared_intermediate_size")
    b.text.raw("num_experts_per_tok")
    if experts is not None:
        b.origins.pop("moe.experts", None)
        b.report.checks.append(f"{experts} expert(s) per layer: read as a dense model")
    if shared is None:
        b.errors.append(f"{b.text.name('shared_intermediate_size')}: missing (the shared MLP of every layer)")
    b.origins["intermediate_size"] = f"{b.text.name('shared_intermediate_size')}: the shared MLP of every layer"
    if width is not None:
        b.report.checks.append(f"{b.text.name('intermediate_size')} = {width} sizes experts this model does not have")
    return None, shared


def _moe_layers(b: Builder, layers: int) -> list[bool] | None:
    """Which layers are MoE, by the config's own rule."""
    if b.text.has("first_k_dense_replace") or b.text.has("moe_layer_freq"):
        first = b.text.whole("first_k_dense_replace") or 0
        freq = b.text.whole("moe_layer_freq") or 1
        if freq < 1 or first < 0:
            b.errors.append(f"{b.text.name('moe_layer_freq')} must be at least 1 and "
                            f"{b.text.name('first_k_dense_replace')} at least 0")
            return None
        b.origins["moe.dense_layers"] = b.text.name("first_k_dense_replace")
        b.origins["moe.layer_interval"] = b.text.name("moe_layer_freq")
        return [i >= first and i % freq == 0 for i in range(layers)]
    if b.text.has("decoder_sparse_step") or b.text.has("mlp_only_layers"):
        step = b.text.whole("decoder_sparse_step") or 1
        listed = b.text.array("mlp_only_layers") or []
        if step < 1 or not all(is_whole(i) for i in listed):
            b.errors.append(f"{b.text.name('decoder_sparse_step')} must be at least 1 and "
                            f"{b.text.name('mlp_only_layers')} a list of layer numbers")
            return None
        b.origins["moe.layer_interval"] = b.text.name("decoder_sparse_step")
        b.origins["moe.dense_layers"] = b.text.name("mlp_only_layers")
        dense = set(listed)
        return [i not in dense and (i + 1) % step == 0 for i in range(layers)]
    if b.text.has("moe_layers"):
        listed = b.text.array("moe_layers") or []
        if not all(is_whole(i) for i in listed):
            b.errors.append(f"{b.text.name('moe_layers')}: expected a list of layer numbers")
            return None
        b.origins["moe.layer_interval"] = b.text.name("moe_layers")
        chosen = set(listed)
        return [i in chosen for i in range(layers)]
    if b.text.has("moe_layer_start_index") or b.text.has("moe_layer_interval") or \
            (b.model_type or "") == "ernie4_5_moe":
        return _ernie_moe_layers(b, layers)
    if (b.model_type or "") == "llama4_text":
        interval = b.whole("interleave_moe_layer_step", "moe.layer_interval")
        if interval is None or interval < 1:
            b.at_least_one("interleave_moe_layer_step")
            return None
        b.origins.setdefault("moe.layer_interval", b.text.name("interleave_moe_layer_step"))
        return [(i + 1) % interval == 0 for i in range(layers)]
    return [True] * layers


def _ernie_moe_layers(b: Builder, layers: int) -> list[bool] | None:
    """ERNIE 4.5's rule: layer i is MoE when (i + 1) % moe_layer_interval == 0 and
    moe_layer_start_index <= i <= moe_layer_end_index (-1: the last layer)."""
    start = b.whole("moe_layer_start_index", "moe.dense_layers")
    interval = b.whole("moe_layer_interval", "moe.layer_interval")
    end = b.whole("moe_layer_end_index")
    if not b.text.has("moe_layer_end_index") and end is not None:
        b.report.defaults.append(f"{b.text.name('moe_layer_end_index')} = {end} (Ernie4_5_MoeConfig default: "
                                 "MoE through the last layer)")
    for key, value in (("moe_layer_start_index", start), ("moe_layer_interval", interval)):
        if value is None:  # absent without a class default, or not a whole number (a list per modality)
            if not b.text.has(key):
                b.errors.append(f"{b.text.name(key)}: missing")
            return None
    assert start is not None and interval is not None
    if end is None and b.text.has("moe_layer_end_index"):
        return None  # not a whole number: already reported
    last = layers - 1 if end is None or end == -1 else end
    if interval < 1 or start < 0 or last < start:
        b.errors.append(f"{b.text.name('moe_layer_interval')} must be at least 1, and "
                        f"{b.text.name('moe_layer_start_index')} at least 0 and at most the end index")
        return None
    return [(i + 1) % interval == 0 and start <= i <= last for i in range(layers)]


def _shared(b: Builder, expert_width: int | None) -> int | None:
    """The number of shared experts: from a shared block's width (which decides the weights where a count is
    given too: Nemotron-H builds one block of that width), counted by the config, or fixed by the model type."""
    count = b.first_whole(("n_shared_experts", "num_shared_experts", "moe_num_shared_experts"), "moe.shared_experts")
    width_key = next((k for k in SHARED_WIDTH_KEYS if b.text.has(k)), None)
    for k in SHARED_WIDTH_KEYS:
        b.text.raw(k)
    if count is not None and (count == 0 or width_key is None):
        return count
    shared_width = b.text.whole(width_key) if width_key else None
    if shared_width:
        key = b.text.name(width_key or "")
        if count is not None and expert_width and shared_width != count * expert_width:
            b.report.checks.append(f"{b.origins.get('moe.shared_experts', 'n_shared_experts')} = {count} with {key} "
                                   f"{shared_width}: the shared block is {shared_width} wide")
        if expert_width and shared_width % expert_width == 0:
            count = shared_width // expert_width
            b.origins["moe.shared_experts"] = f"{key} {shared_width} = {count} x the expert width"
            if count > 1:
                b.report.checks.append(f"{key} {shared_width}: one shared expert {count} times as wide, "
                                       f"counted as {count} shared experts of width {expert_width}")
            return count
        b.errors.append(f"{key} = {shared_width}: the schema cannot express a shared expert whose width is "
                        f"not a multiple of the expert width {expert_width}")
        return None
    if count is not None:
        return count
    fixed = SHARED_EXPERT_TYPES.get(b.model_type or "")
    if fixed:
        b.origins["moe.shared_experts"] = f"model_type {b.model_type} always adds {fixed} shared expert"
        b.report.defaults.append(f"shared experts = {fixed} (always present in model_type {b.model_type})")
        return fixed
    return 0


def _fit_moe_layers(moe: list[bool]) -> tuple[int, int] | None:
    """(dense_layers, layer_interval) that reproduce which layers are MoE, or None."""
    layers = len(moe)
    if not any(moe):
        return None
    first = moe.index(True)
    for dense in range(first + 1):
        interval = first - dense + 1
        if all(moe[i] == (i >= dense and (i - dense) % interval == interval - 1) for i in range(layers)):
            return dense, interval
    return None
