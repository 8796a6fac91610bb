"""選型助手: a grounded assistant for choosing open-weight LLMs.

Importing the package is cheap: heavy libraries load inside their adapters.
"""

__version__ = "0.1.0"
