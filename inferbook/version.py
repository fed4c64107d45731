"""Package version. The data version lives in kb/_layer.yaml and is reported by
`KnowledgeBase.data_version`."""

__version__ = "0.1.0"
