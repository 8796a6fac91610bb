"""One settings object, read from `ASSISTANT_*` environment variables.

Every field has a description; the CLI turns the same fields into flags, the way
llama-cpp-python's server does with its `ModelSettings`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "ASSISTANT_"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    data_dir: Path = Field(
        default=PROJECT_ROOT / "data",
        description="Where the chromadb index, the manifest and the reassembled bundled model live.",
    )
    knowledge_dir: Path = Field(
        default=PROJECT_ROOT / "knowledge",
        description="Article, catalog and any extra .md/.txt documents to index (read-only to the program).",
    )
    models_dir: Path = Field(
        default=PROJECT_ROOT / "models", description="GGUF files to choose the local model from."
    )
    embedder: str = Field(
        default="use-m3",
        description=(
            "Embedding model: 'use-m3' (bundled multilingual USE v3, numpy), 'minilm' (bundled "
            "all-MiniLM-L6-v2), 'fake' (tests), or any sentence-transformers model name or path."
        ),
    )
    collection: str = Field(default="knowledge", description="chromadb collection name (3+ characters).")
    chunk_chars: int = Field(default=360, ge=80, le=4000, description="Target characters per article chunk.")
    top_k: int = Field(default=5, ge=1, le=50, description="Passages returned by search and used as sources.")
    max_question_chars: int = Field(
        default=2000, ge=10, description="Longer questions are truncated with a notice."
    )
    model: Path | None = Field(default=None, description="Path to a GGUF file; overrides discovery.")
    n_ctx: int = Field(default=4096, ge=512, description="Context window for the local model (never 0).")
    max_tokens: int = Field(default=384, ge=16, description="Explicit generation budget per answer.")
    n_threads: int | None = Field(default=None, description="CPU threads for llama.cpp (default: the physical cores).")
    n_gpu_layers: int = Field(default=0, description="Layers to offload to the GPU (-1 = all).")
    llm_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint (llama.cpp server, vLLM, Ollama) instead of in-process."
    )
    llm_api_key: str | None = Field(default=None, description="Bearer token for llm_url, if it needs one.")
    llm_timeout_s: float = Field(default=60.0, gt=0, description="Generation timeout; on expiry the grounded answer stands.")
    host: str = Field(default="127.0.0.1", description="Web UI bind address.")
    port: int = Field(default=7860, ge=0, le=65535, description="Web UI port.")
    auth: str | None = Field(
        default=None, description="user:password; required when host is not a loopback address."
    )
    queue_size: int = Field(
        default=256, ge=1, description="Web UI request queue size; beyond it users see 「忙碌中」 (busy)."
    )
    chat_concurrency: int = Field(
        default=32,
        ge=1,
        description=(
            "Chat requests worked on at once. Grounded answers take milliseconds; language-model answers "
            "still go one at a time (llm_waiting more may wait for the model)."
        ),
    )
    llm_waiting: int = Field(
        default=8,
        ge=0,
        description="LLM answers that may wait for the model; beyond it a user gets the grounded answer at once.",
    )
    max_request_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body the web server accepts (413 beyond it)."
    )
    login_backoff_s: float = Field(
        default=2.0,
        gt=0,
        le=300,
        description=(
            "After 3 failed sign-ins from one address, the wait before the next attempt (429 sooner); "
            "it doubles with each further failure, up to 300 s."
        ),
    )
    max_history_messages: int = Field(
        default=100,
        ge=2,
        le=10_000,
        description=(
            "Chat messages a web session keeps; a longer conversation sent to the server keeps its most recent "
            "messages, with a notice (bounds the memory each session holds)."
        ),
    )
    max_history_bytes: int = Field(
        default=131_072,
        ge=4096,
        description="UTF-8 bytes of chat messages a web session keeps (see max_history_messages).",
    )
    session_capacity: int = Field(
        default=1000,
        ge=10,
        description=(
            "Web sessions whose state the server keeps in memory; the least recently used beyond it are "
            "forgotten (their next question starts a fresh session state)."
        ),
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Comma-separated addresses (or networks) of reverse proxies whose X-Forwarded-For and "
            "X-Forwarded-Proto headers are believed; empty (the default): nobody's."
        ),
    )
    chroma_url: str | None = Field(
        default=None,
        description=(
            "A Chroma server (http://host:port) holding the index instead of the embedded store in data_dir; "
            "several app processes can share it."
        ),
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        import ipaddress  # noqa: PLC0415

        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {item!r} is not an IP address or network") from None
        return value

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from `ASSISTANT_<FIELD>` variables, then explicit overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.json"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "index.lock"

    @property
    def catalog_path(self) -> Path:
        return self.knowledge_dir / "catalog.yaml"

    @property
    def article_path(self) -> Path:
        return self.knowledge_dir / "article.md"
