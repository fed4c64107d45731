"""What the checkpoint holds: the format of the released weights (torch_dtype, quantization_config
in its several dialects, compressed-tensors groups), the tensor groups a quantization leaves in
another format, and the cross-check of the parameter count against a safetensors index."""

from __future__ import annotations

import re
from typing import Any

from .architecture import Builder
from .reading import ConfigError, Keys, is_whole, shown, word
from .result import Imported
from .tables import FORMAT_BITS, IGNORED_KEYS, QUANT_IGNORED_KEYS, TORCH_DTYPES


def _group_of(pattern: str) -> str | None:
    """The weight group a module name or pattern of a quantization exclusion list belongs to."""
    text = pattern.lower()
    if "lm_head" in text or "embed" in text:
        return "embeddings"
    if "router" in text or "e_score_correction" in text or re.search(r"(^|\.)gate$|mlp\.gate(\b|$|\W)", text):
        return "router"
    if "vision" in text or "visual" in text or "mm_projector" in text or "multi_modal" in text:
        return "vision"
    if "attn" in text or "attention" in text:
        return "attention"
    if "shared_expert" in text:
        return "shared"  # the experts group holds routed and shared experts together
    if "experts" in text:
        return "experts"
    if re.search(r"mlp.*(gate|up|down)\)?_proj", text):
        return "dense_ffn"
    return None


def native_format(builder: Builder) -> tuple[str | None, dict[str, str | None], str]:
    """(native format id, groups kept in other formats, where the format came from)."""
    top, report = builder.top, builder.report
    dtype_key = next((k for k in ("torch_dtype", "dtype") if top.has(k)), None)
    unquantised = None
    origin = "TODO: the config gives no torch_dtype or dtype"
    keys = top
    if dtype_key is None and builder.text is not top:
        keys = builder.text
        dtype_key = next((k for k in ("torch_dtype", "dtype") if keys.has(k)), None)
    for k in ("torch_dtype", "dtype"):
        top.raw(k)
        if builder.text is not top:
            builder.text.raw(k)
    if dtype_key is not None:
        value = keys.text(dtype_key)
        if value is not None:
            unquantised = TORCH_DTYPES.get(value)
            origin = f"{keys.name(dtype_key)} {word(value)}"
            if unquantised is None:
                report.checks.append(f"{keys.name(dtype_key)} {shown(value)} is not a format the importer knows")
    quant = top.mapping("quantization_config")
    if quant is None and builder.text is not top:
        quant = builder.text.mapping("quantization_config")
    if not quant:
        return unquantised, {}, origin
    fmt, detail, exclusions = _quantized(quant, builder)
    groups: dict[str, str | None] = {}
    for name in exclusions:
        group = _group_of(name)
        if group in ("router", "vision"):
            continue
        if group == "shared":
            report.checks.append(f"quantization_config leaves {shown(name)} unquantised: the shared experts are "
                                 "counted in the experts group, in the main format")
            continue
        if group is None:
            report.checks.append(f"quantization_config: cannot place {shown(name)} (left unquantised) in a tensor "
                                 "group; check native_groups")
            continue
        groups[group] = unquantised
    if groups and unquantised is None:
        report.checks.append("TODO native_groups: the config gives no torch_dtype, so the format of the tensors the "
                             "quantization leaves out is unknown")
    return fmt, groups, detail


def _quantized(quant: dict[str, Any], builder: Builder) -> tuple[str | None, str, list[str]]:
    """(format id, description, module names left unquantised) of a quantization_config."""
    q = Keys(quant, "quantization_config.", builder.errors)
    method = q.text("quant_method")
    exclusions: list[str] = []
    for key in ("modules_to_not_convert", "ignore", "ignored_layers", "llm_int8_skip_modules", "exclude_modules"):
        listed = q.array(key)
        if listed:
            exclusions += [str(m) for m in listed if isinstance(m, str)]
    fmt: str | None = None
    detail = f"quantization_config.quant_method {word(method) if method else 'missing'}"
    if method in ("fp8", "fbgemm_fp8"):
        element = q.text("fmt") or "e4m3"
        fmt = {"e4m3": "fp8-e4m3", "e5m2": "fp8-e5m2"}.get(element) or TORCH_DTYPES.get(element)  # float8_e4m3fn
        if fmt not in ("fp8-e4m3", "fp8-e5m2"):
            fmt = None
        block = q.array("weight_block_size")
        detail += f", fmt {word(element)}"
        if block and len(block) == 2:
            detail += f", blocks {shown(block[0])}x{shown(block[1])}"
    elif method == "mxfp4":
        fmt = "mxfp4"
    elif method in ("awq", "gptq"):
        bits = q.whole("bits") if q.has("bits") else q.whole("w_bit")
        q.raw("w_bit")
        group = q.whole("group_size") if q.has("group_size") else q.whole("q_group_size")
        q.raw("q_group_size")
        if bits == 4:
            fmt = f"{method}-int4"
            if group is not None and group != 128:
                builder.report.checks.append(f"quantization_config.group_size {group}: the {fmt} format entry "
                                             "assumes groups of 128")
        elif bits == 8:
            fmt = "int8"
        detail += f", {bits} bits"
    elif method == "compressed-tensors":
        fmt, detail = _compressed_tensors(q, builder)
    elif method == "modelopt":
        algo = q.text("quant_algo")
        fmt = {"FP8": "fp8-e4m3", "NVFP4": "nvfp4"}.get(algo or "")
        detail += f", quant_algo {word(algo)}"
    elif method == "bitsandbytes":
        if q.flag("load_in_4bit"):
            kind = q.text("bnb_4bit_quant_type") or "fp4"
            fmt = "nf4" if kind == "nf4" else None
            detail += f", 4-bit {word(kind)}"
        elif q.flag("load_in_8bit"):
            fmt = "int8"
            detail += ", 8-bit"
        q.raw("load_in_8bit")
        q.raw("bnb_4bit_quant_type")
    for key in quant:
        if key in QUANT_IGNORED_KEYS:
            q.raw(key)
    if fmt is None:
        builder.report.checks.append(f"TODO native_dtype: {detail} is not a quantization the importer can name "
                                     "a kb/formats entry for")
        detail = "TODO: " + detail
    builder.report.not_used += q.unused(IGNORED_KEYS)
    return fmt, detail, exclusions


def _compressed_tensors(q: Keys, builder: Builder) -> tuple[str | None, str]:
    """(format id, description) of compressed-tensors weights: a format only when every group has the same one."""
    groups = q.mapping("config_groups") or {}
    q.raw("format")
    found = set()
    for name, group in groups.items():
        weights = group.get("weights") if isinstance(group, dict) else None
        if not isinstance(weights, dict):
            builder.errors.append(f"quantization_config.config_groups.{name}.weights: expected an object")
            continue
        bits, kind, size = weights.get("num_bits"), weights.get("type"), weights.get("group_size")
        if kind == "float" and bits == 8:
            found.add("fp8-e4m3")
        elif kind == "float" and bits == 4 and size == 16:
            found.add("nvfp4")
        elif kind == "int" and bits == 8:
            found.add("int8")
        elif kind == "int" and bits == 4 and size == 128:
            found.add("gptq-int4")
            builder.report.checks.append("compressed-tensors int4 weights in groups of 128 are counted as gptq-int4 "
                                         "(4-bit integers with 16-bit group scales)")
        elif kind == "int" and bits == 4 and isinstance(size, int) and not isinstance(size, bool) and size > 0:
            found.add("int4")
            builder.report.checks.append(f"compressed-tensors int4 weights in groups of {size} are counted as int4 "
                                         "(4 bits a weight; the group scales are not counted)")
        else:
            found.add(f"?{kind}{bits}")
    detail = "quantization_config compressed-tensors " + ", ".join(sorted(found))
    known = [f for f in found if not f.startswith("?")]
    if len(found) == 1 and known:
        return known[0], detail
    return None, detail


def index_check(index: dict[str, Any], imported: Imported, layers: int) -> list[str]:
    """Lines comparing a model.safetensors.index.json with the parameters computed from the config."""
    lines = []
    meta = index.get("metadata")
    if not isinstance(meta, dict):
        raise ConfigError("index: metadata: expected an object with total_size")
    from ..calc.params import count_params

    counted = count_params(imported.architecture)
    computed = imported.params + counted.mtp + counted.vision  # what the checkpoint stores
    extras = ", ".join(part for part in (f"{counted.mtp:,} of MTP modules" if counted.mtp else "",
                                         f"{counted.vision:,} of vision encoder" if counted.vision else "") if part)
    what = f"computed from the config (with {extras})" if extras else "computed from the config"
    total_params = meta.get("total_parameters")
    size = meta.get("total_size")
    for key, value in (("total_parameters", total_params), ("total_size", size)):
        if value is not None and (not is_whole(value) or value < 1):
            raise ConfigError(f"index: metadata.{key}: expected a positive whole number, got {shown(value)}")
    if total_params is None and size is None:
        raise ConfigError("index: metadata: neither total_size nor total_parameters is given")
    if total_params is not None:
        diff = (computed - total_params) / total_params
        lines.append(f"parameters: {computed:,} {what}, {total_params:,} in the index "
                     f"(metadata.total_parameters): {diff:+.2%}")
    if size is not None:
        bits = _mean_bits(imported)
        if bits is None:
            lines.append(f"parameters: the index holds {size:,} bytes; the weights' format is unknown, so no "
                         "parameter count follows from it")
        else:
            estimate = size * 8 / bits
            diff = (computed - estimate) / estimate
            lines.append(f"parameters: {computed:,} {what}; the index's {size:,} bytes at "
                         f"{bits:g} bits per weight ({imported.native_dtype}) are about {estimate:,.0f}: "
                         f"{diff:+.2%}" + (" (mixed formats and scales make this approximate)"
                                          if imported.native_groups or bits < 16 else ""))
    weight_map = index.get("weight_map")
    if isinstance(weight_map, dict):
        names = [n for n in weight_map if isinstance(n, str)]
        extra = set()
        for n in names:
            match = re.search(r"(?:^|\.)layers\.(\d+)\.", n)
            if match and int(match.group(1)) >= layers:
                extra.add(int(match.group(1)))
        vision = sum(1 for n in names if re.search(r"vision|visual|image|mm_projector", n))
        mtp = sum(1 for n in names if ".mtp." in n or n.startswith("mtp."))
        if extra and len(extra) != imported.architecture.mtp_layers:
            lines.append(f"index: tensors of {len(extra)} layer(s) beyond num_hidden_layers ({min(extra)}..."
                         f"{max(extra)}), and the config names {imported.architecture.mtp_layers} MTP module(s)")
        if (vision and imported.architecture.vision is None) or (mtp and not imported.architecture.mtp_layers):
            lines.append(f"index: {vision} vision and {mtp} MTP tensor(s), and the computed count has "
                         + ("no vision encoder" if imported.architecture.vision is None else "a vision encoder")
                         + (" and no MTP module" if not imported.architecture.mtp_layers else ""))
    return lines


def _mean_bits(imported: Imported) -> float | None:
    """Mean bits per weight of the checkpoint, its groups weighted by their parameters (None: format unknown)."""
    if imported.native_dtype is None:
        return None
    bits = FORMAT_BITS.get(imported.native_dtype)
    if bits is None:
        return None
    if imported.native_groups:
        from ..calc.params import count_params

        params = count_params(imported.architecture)
        group_params = {"embeddings": params.embedding + params.lm_head, "attention": params.attention,
                        "dense_ffn": params.ffn_dense, "experts": params.ffn_experts}
        total = 0.0
        for group, count in group_params.items():
            fid = imported.native_groups.get(group, imported.native_dtype) or imported.native_dtype
            total += count * FORMAT_BITS.get(fid, bits)
        total += params.norms * 16
        return total / max(params.total, 1)
    return bits
