"""heapscope's version, apart from the package's ``__init__`` so that the modules it
imports can read it (a snapshot records it) without importing the package back."""

__version__ = "0.1.0"
