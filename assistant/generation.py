"""The old name of `assistant.llm.backends`, kept so that existing imports keep working.

`import assistant.generation` gives the very same module object (not a copy), so
`monkeypatch.setattr(assistant.generation, ...)` still patches what the backends use.
New code imports `assistant.llm.backends`.
"""

import sys

from .llm import backends as _backends

sys.modules[__name__] = _backends
