"""inferbook: the LLM inference handbook as data.

    import inferbook
    kb = inferbook.load()
    kb.gpus["h100-sxm"].memory_bandwidth_gb_s.value
    kb.get("TTFT").summary
"""

from .api import load, validate
from .diagnostics import Diagnostic, KnowledgeBaseError
from .kb import Entries, KnowledgeBase
from .search import SearchHit
from .version import __version__

__all__ = [
    "Diagnostic", "Entries", "KnowledgeBase", "KnowledgeBaseError", "SearchHit",
    "__version__", "load", "validate",
]
