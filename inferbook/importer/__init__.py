"""`inferbook import-config PATH`: a model entry for kb/models/ from a Hugging Face config.json,
and the ad-hoc models of `kv --config` and `fit --config`.

The config is untrusted JSON. It is read with a size limit, refused unless it is one object
with unique keys and finite numbers, and every value the importer uses is type-checked (a
boolean is never a number); the architecture it builds is validated with the schema's own
model, whose errors are reported under the config's key names.

What the importer reads is written down once: the keys it maps onto the schema (the builder in
`architecture`, `layers` and `moe`), and in `tables` the keys known to say nothing the schema
records (`IGNORED_KEYS`), the defaults of the transformers config classes it relies on where a
config is silent (`CLASS_DEFAULTS`, each use reported), and the designs the schema cannot express
yet (`UNSUPPORTED_HINTS`). Every other key is reported as "not used", never guessed at.

What a config cannot tell (licence, release date, organisation, family, sources, and the
title when there is no `_name_or_path`) is left as a TODO that `inferbook validate`
refuses until it is filled: null in a required text field, a `todo` id, an unknown source id.

Besides attention layouts (layer_types, sliding-window keys, MiniMax's attn_type_list of softmax layers) and
mixtures of experts it reads Mamba-2 hybrids (Nemotron-H's
hybrid_override_pattern or layers_block_type, one block per layer, and Granite 4.0-H's layer_types, each written
as a full per-layer layer_pattern with the mamba block), the multi-token-prediction modules
(num_nextn_predict_layers, mtp_num_hidden_layers) and the vision encoder of Qwen3-VL, Qwen3.5, Gemma 3,
Mistral 3, GLM-4V (GLM-4.1V, 4.5V, 4.6V) and Kimi-K2.5 configs.

Modules: `reading` (bounded, strict JSON; key-by-key reading), `tables` (keys and facts),
`architecture` (the builder: MTP modules, vision encoder), `layers` (layer layout, Gated DeltaNet, Mamba-2)
and `moe` (experts, one-block MoE layers, shared blocks), `checkpoint` (weight formats, the index check),
`result` (`Imported`, `Report`), `convert` (the import), `entry` (the YAML entry and its write),
`adhoc` (models for the calculators), `cli` (the command).
"""

from .adhoc import AdHocModel, adhoc_model
from .cli import add_import_parser
from .convert import import_config, import_data
from .entry import render_entry
from .reading import MAX_CONFIG_BYTES, ConfigError, ConfigUsageError
from .result import Imported, Report

__all__ = [
    "MAX_CONFIG_BYTES", "AdHocModel", "ConfigError", "ConfigUsageError", "Imported", "Report", "add_import_parser",
    "adhoc_model", "import_config", "import_data", "render_entry",
]
