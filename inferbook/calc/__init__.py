"""The calculator core: parameters, weight memory and KV cache from KB data.
Every figure is computed from the model's own architecture fields (KV heads,
head_dim, MLA ranks, sliding windows), never from hidden/heads guesses."""

from .kv import KvBreakdown, kv_bytes, kv_bytes_per_token, kv_dtype_bits
from .params import ParamCount, count_params
from .weights import WeightBreakdown, weight_bytes

__all__ = [
    "KvBreakdown", "ParamCount", "WeightBreakdown", "count_params", "kv_bytes", "kv_bytes_per_token",
    "kv_dtype_bits", "weight_bytes",
]
