"""The old name of `assistant.local_models` (local GGUF files), kept so that existing
imports keep working: `import assistant.models` gives the very same module object.
New code imports `assistant.local_models`.
"""

import sys

from . import local_models as _local_models

sys.modules[__name__] = _local_models
