"""The API endpoints (assistant/api/): typed functions, their registration, and a real server
answering them through gradio_client; `/gradio_api/mcp/schema` lists the same four."""

from __future__ import annotations

import argparse
import json
import math

import pytest

from assistant.api import ENDPOINTS, ApiInputError, AssistantAPI
from assistant.constraints import Constraints
from assistant.knowledge import STRENGTH_TAGS
from assistant.server import is_mcp_path

from .conftest import KNOWLEDGE


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    """One assistant for the module: real chromadb, the deterministic fake embedder."""
    from assistant.config import Settings
    from assistant.service import build_assistant

    data = tmp_path_factory.mktemp("api-data")
    settings = Settings(data_dir=data, models_dir=data / "models", knowledge_dir=KNOWLEDGE, embedder="fake-64")
    built = build_assistant(settings)
    built.ensure_index()
    return built


@pytest.fixture(scope="module")
def api(assistant):
    return AssistantAPI(assistant)


def roundtrip(value):
    """What a client receives: the value through JSON."""
    return json.loads(json.dumps(value, ensure_ascii=False))


# ------------------------------------------------------------------ recommend


def test_recommend_applies_typed_constraints(api, catalog):
    out = api.recommend({"commercial": True, "memory_gb": 16, "tasks": ["coding"], "avoid_countries": ["cn"]},
                        limit=3, language="en")
    assert roundtrip(out) == out
    recs = out["recommendations"]
    assert 1 <= len(recs) <= 3 and [r["rank"] for r in recs] == list(range(1, len(recs) + 1))
    for rec in recs:
        model = catalog.by_id[rec["id"]]
        assert model.commercial_use != "no" and model.country != "CN"
        assert rec["fit"]["runs"] and rec["fit"]["memory_gb"] == 16
    applied = out["constraints"]
    assert applied["commercial_required"] and applied["memory_gb"] == 16 and applied["memory_kind"] == "ram"
    assert applied["avoid_countries"] == ["CN"] and applied["tasks"] == ["coding"]
    assert out["as_of"] == catalog.as_of.isoformat()
    assert any(e["constraint"] in ("country", "commercial", "memory") for e in out["excluded"])


def test_recommend_is_the_engines_ranking_not_a_parsed_question(api, catalog):
    from assistant.answer.ranking import default_capabilities, shortlist

    c = Constraints(commercial_required=True, memory_gb=24.0, memory_kind="vram", gpu_count=1, tasks=["reasoning"])
    engine = shortlist(catalog, c, default_capabilities(), limit=4)
    out = api.recommend({"commercial": True, "memory_gb": 24, "memory_kind": "vram", "tasks": ["reasoning"]},
                        limit=4, language="en")
    assert [r["id"] for r in out["recommendations"]] == [r.model.id for r in engine.recommendations]
    assert [r["reason"] for r in out["recommendations"]] == [r.reason for r in engine.recommendations]


def test_recommend_hardware_preset_and_several_gpus(api):
    out = api.recommend({"hardware": "RTX 4090", "gpu_count": 2}, limit=3)
    applied = out["constraints"]
    assert applied["hardware_name"] == "RTX 4090" and applied["memory_kind"] == "vram"
    assert applied["gpu_count"] == 2 and applied["memory_gb"] == 48  # the engine's budget is the total
    assert out["recommendations"]
    stated = api.recommend({"hardware": "2x RTX 3090"}, limit=1)["constraints"]
    assert stated["gpu_count"] == 2 and stated["memory_gb"] == 48


def test_recommend_traditional_chinese_applies_the_catalogs_request_rule(api, catalog):
    out = api.recommend({"languages": ["zh-TW"], "memory_gb": 64}, limit=5)
    assert "traditional-chinese" in out["constraints"]["requests"]
    # Drifting into Simplified is a caveat that ranks a model lower, never a silent exclusion (issue 18).
    drift = {m.id for m in catalog.models if "simplified-drift" in m.weakness_tags}
    assert drift
    for rec in out["recommendations"]:
        if rec["id"] in drift:
            assert rec["caveats"], rec["id"]
    plain = api.recommend({"languages": ["zh"], "memory_gb": 64}, limit=5)
    assert "traditional-chinese" not in plain["constraints"]["requests"]


def test_recommend_names_families_by_vendor(api, catalog):
    out = api.recommend({"avoid_families": ["Meta", "qwen"], "prefer_families": ["Google"]}, limit=5)
    assert out["constraints"]["avoid_families"] == ["llama", "qwen"]
    assert out["constraints"]["prefer_families"] == ["gemma"]
    assert not {catalog.by_id[r["id"]].family for r in out["recommendations"]} & {"llama", "qwen"}


def test_recommend_says_so_when_nothing_fits(api):
    out = api.recommend({"memory_gb": 0.5, "tasks": ["vision"]}, language="en")
    assert out["recommendations"] == [] and "relax" in out["note"] and out["excluded"]


@pytest.mark.parametrize(
    ("constraints", "limit", "message"),
    [
        ({"taks": ["coding"]}, 5, "unknown constraint 'taks'"),
        ({"tasks": ["cooking"]}, 5, "unknown task 'cooking'"),
        ({"commercial": "yes"}, 5, "commercial must be true or false"),
        ({"memory_gb": -4}, 5, "memory_gb must be a number greater than 0"),
        ({"memory_gb": 16, "memory_kind": "disk"}, 5, "memory_kind must be one of"),
        ({"memory_kind": "vram"}, 5, "need memory_gb"),
        ({"memory_gb": 16, "gpu_count": 2}, 5, "vram"),
        ({"hardware": "Voodoo 5"}, 5, "unknown hardware 'Voodoo 5'"),
        ({"hardware": "RTX 4090", "memory_kind": "ram"}, 5, "has vram memory, not ram"),
        ({"avoid_countries": ["China"]}, 5, "two-letter codes"),
        ({"avoid_families": ["Nvidiax"]}, 5, "unknown family or maker 'Nvidiax'"),
        ({"licences": ["WTFPL"]}, 5, "unknown licence 'WTFPL'"),
        ({"quant": "Q9"}, 5, "unknown quantisation 'Q9'"),
        ({"min_params_b": 70, "max_params_b": 8}, 5, "min_params_b is larger"),
        ({}, 0, "limit must be a whole number from 1 to 20"),
        ("commercial please", 5, "constraints must be an object"),
    ],
)
def test_recommend_bad_input_is_a_clear_message(api, constraints, limit, message):
    with pytest.raises(ApiInputError, match=message.replace("(", r"\(")):
        api.recommend(constraints, limit=limit)


def test_recommend_documents_every_task_tag():
    from assistant.api import RecommendConstraints

    doc = RecommendConstraints.__doc__ or ""
    assert all(tag in doc for tag in STRENGTH_TAGS)
    assert all(f"{key}:" in doc for key in RecommendConstraints.__annotations__)


# ------------------------------------------------------------------ estimate


def test_estimate_is_the_estimate_commands_arithmetic(api, assistant):
    from assistant import estimate as estimate_cli

    parser = argparse.ArgumentParser()
    estimate_cli.add_arguments(parser)
    args = parser.parse_args(["--model", "Qwen3-30B-A3B", "--hardware", "RTX 4090"])
    expected = estimate_cli.run(args, assistant.settings.catalog_path)
    out = api.estimate(model="qwen3 30b a3b", hardware="RTX 4090")  # any spelling the catalog resolves
    assert out == expected and roundtrip(out) == out
    assert out["variant"] == "Qwen3-30B-A3B" and out["model_id"] == "qwen3" and out["fits"] is True
    assert out["placement"] and out["tokens_per_s"] > 0


def test_estimate_from_a_size_and_a_bare_machine(api):
    out = api.estimate(params_b=8, memory_kind="ram", bandwidth_gbs=89.6, memory_gb=32, context_tokens=8192)
    assert out["variant"] == "8B" and out["context_tokens"] == 8192 and out["memory_gb"] == 32
    speed_only = api.estimate(params_b=8, memory_kind="ram", bandwidth_gbs=89.6)
    assert speed_only["fits"] is None and speed_only["tokens_per_s"] > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give the model size: params_b"),
        ({"model": "Qwen3-8B"}, "name the machine: hardware"),
        ({"model": "qwen3", "params_b": 3, "hardware": "4090"}, "either model or params_b"),
        ({"model": "Llama 9", "hardware": "4090"}, "is not in the catalog"),
        ({"params_b": 8, "quant": "Q9", "hardware": "4090"}, "unknown quantisation 'Q9'"),
        ({"params_b": math.inf, "hardware": "4090"}, "params_b must be a number greater than 0"),
        ({"params_b": 8, "hardware": "4090", "context_tokens": 0}, "context_tokens must be a whole number"),
        ({"params_b": 8, "hardware": "Voodoo 5"}, "unknown hardware 'Voodoo 5'"),
    ],
)
def test_estimate_bad_input_names_parameters_not_flags(api, kwargs, message):
    with pytest.raises(ApiInputError, match=message) as info:
        api.estimate(**kwargs)
    assert "--" not in str(info.value)


# ------------------------------------------------------------------ catalog_entry


def test_catalog_entry_with_the_named_sizes_facts(api, catalog):
    out = api.catalog_entry("qwen3-8b")
    assert roundtrip(out) == out
    assert (out["id"], out["variant"]) == ("qwen3", "Qwen3-8B")
    expected = catalog.model_for("Qwen3-8B")
    assert out["entry"] == expected.model_dump(mode="json")
    assert out["entry"]["name"] == "Qwen3-8B" and [v["name"] for v in out["entry"]["variants"]] == ["Qwen3-8B"]
    assert out["entry"]["sources"] and out["as_of"] == catalog.as_of.isoformat()


def test_catalog_entry_for_a_series_lists_every_size(api, catalog):
    out = api.catalog_entry("Qwen3")
    assert out["variant"] is None
    assert [v["name"] for v in out["entry"]["variants"]] == [v.name for v in catalog.by_id["qwen3"].variants]


@pytest.mark.parametrize(
    ("name", "message"),
    [("GPT-4o", "closed model"), ("Qwen 9", "did you mean"), ("", "name must be a model"), ("zzzz", "not in the catalog")],
)
def test_catalog_entry_unknown_names_are_explained(api, name, message):
    with pytest.raises(ApiInputError, match=message):
        api.catalog_entry(name)


# ------------------------------------------------------------------ ask


def test_ask_returns_the_grounded_answer_as_json(api):
    out = api.ask("Phi 4 可以商用嗎？")
    assert roundtrip(out) == out
    assert out["answer"].startswith("可以") and "MIT" in out["answer"] and out["mode"] == "grounded"
    assert out["language"] == "zh-TW" and out["sources"] and out["plan"]["intent"]


def test_ask_follows_a_conversation(api):
    first = api.ask("Which models fit in 16 GB for coding?")
    assert first["recommendations"]
    second_name = first["recommendations"][1]["name"]
    history = [{"role": "user", "content": "Which models fit in 16 GB for coding?"},
               {"role": "assistant", "content": first["answer"]}]
    out = api.ask("Can I use the second one commercially?", history=history)
    assert second_name.split()[0] in out["answer"]


def test_ask_in_a_chosen_language(api):
    out = api.ask("Phi 4 可以商用嗎？", language="en")
    assert out["language"] == "en" and "MIT" in out["answer"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"question": "   "}, "question is empty"),
        ({"question": 42}, "question must be a string"),
        ({"question": "hi", "history": [{"role": "bot", "content": "x"}]}, "history turn 1"),
        ({"question": "hi", "history": "earlier"}, "history must be a list"),
        ({"question": "hi", "language": "fr"}, "language must be one of"),
    ],
)
def test_ask_bad_input_is_a_clear_message(api, kwargs, message):
    with pytest.raises(ApiInputError, match=message):
        api.ask(**kwargs)


# ------------------------------------------------------------------ registration


def test_build_ui_registers_four_typed_endpoints(assistant):
    from assistant import ui

    demo = ui.build_ui(assistant, assistant.settings, machine={"ram_gb": 16.0})
    try:
        named = demo.get_api_info()["named_endpoints"]
        assert {f"/{name}" for name in ENDPOINTS} <= set(named)
        params = {name: {p["parameter_name"]: p for p in named[f"/{name}"]["parameters"]} for name in ENDPOINTS}
        assert list(params["ask"]) == ["question", "history", "language"]
        assert params["ask"]["question"]["type"] == {"type": "string"} and not params["ask"]["question"]["parameter_has_default"]
        assert params["ask"]["language"]["type"] == {"enum": ["auto", "zh-TW", "en"]}
        constraint_schema = params["recommend"]["constraints"]["type"]
        assert constraint_schema["type"] == "object" and constraint_schema["properties"]["commercial"] == {"type": "boolean"}
        assert constraint_schema["properties"]["memory_kind"] == {"enum": ["ram", "vram", "unified"]}
        assert params["estimate"]["quant"]["parameter_default"] == "Q4_K_M"
        assert list(params["catalog_entry"]) == ["name"]
        for name in ENDPOINTS:
            assert named[f"/{name}"]["returns"][0]["type"]["type"] == "object"  # a dict, documented as one
        fns = [fn for fn in demo.fns.values() if fn.api_name in ENDPOINTS]
        assert len(fns) == 4 and all(fn.queue is False for fn in fns)
        assert all((fn.fn.__doc__ or "").strip() for fn in fns)
        assert demo._assistant_mcp_tools == frozenset(ENDPOINTS)
    finally:
        demo.close()


@pytest.mark.parametrize(
    ("path", "mcp"),
    [
        ("/gradio_api/mcp", True), ("/gradio_api/mcp/", True), ("/gradio_api/mcp/schema", True),
        ("/gradio_api/mcp/sse", True), ("//gradio_api//mcp/messages/", True), ("/GRADIO_API/MCP/", True),
        ("/prefix/gradio_api/mcp/", True), ("/gradio_api/info", False), ("/gradio_api/mcpx", False), ("/", False),
    ],
)
def test_mcp_paths(path, mcp):
    assert is_mcp_path(path) is mcp


# ------------------------------------------------------------------ a real server, gradio_client


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from .test_mcp import AppProcess

    app = AppProcess(tmp_path_factory.mktemp("api-server"))
    yield app
    app.stop()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False)


@pytest.mark.slow
def test_gradio_client_lists_the_endpoints(client):
    named = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {f"/{name}" for name in ENDPOINTS} <= set(named)
    assert [p["parameter_name"] for p in named["/estimate"]["parameters"]][:3] == ["model", "params_b", "active_b"]


@pytest.mark.slow
def test_gradio_client_calls_each_endpoint(client):
    answer = client.predict(question="Phi 4 可以商用嗎？", api_name="/ask")
    assert isinstance(answer, dict) and "MIT" in answer["answer"] and answer["sources"]
    follow = client.predict("那它有多大？", [{"role": "user", "content": "Phi 4 可以商用嗎？"},
                                        {"role": "assistant", "content": answer["answer"]}], api_name="/ask")
    assert "14.7B" in follow["answer"]
    shortlist = client.predict(constraints={"commercial": True, "memory_gb": 16, "tasks": ["coding"]}, limit=3,
                               language="en", api_name="/recommend")
    assert 1 <= len(shortlist["recommendations"]) <= 3 and shortlist["constraints"]["commercial_required"]
    fit = client.predict(model="gpt-oss-20b", hardware="RTX 4090", api_name="/estimate")
    assert fit["model_id"] == "gpt-oss-20b" and fit["fits"] is True and fit["tokens_per_s"] > 0
    entry = client.predict(name="Qwen3-8B", api_name="/catalog_entry")
    assert entry["variant"] == "Qwen3-8B" and entry["entry"]["licence"]["id"] == "Apache-2.0"


@pytest.mark.slow
def test_gradio_client_gets_the_message_not_a_traceback(client, server):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict(name="GPT-4o", api_name="/catalog_entry")
    assert str(info.value) == "'GPT-4o' is a closed model (its weights are not open); the catalog covers open-weight models only"
    with pytest.raises(AppError, match="unknown task 'cooking'"):
        client.predict(constraints={"tasks": ["cooking"]}, api_name="/recommend")
    assert "Traceback" not in server.output()  # bad input is no server fault


@pytest.mark.slow
def test_mcp_schema_lists_the_four_tools_only(server):
    from .test_mcp import http_get

    status, body = http_get(server.port, "/gradio_api/mcp/schema")
    assert status == 200
    tools = {tool["name"]: tool for tool in json.loads(body)}
    assert set(tools) == set(ENDPOINTS)  # the UI's chat, compare and hardware events are not tools
    recommend = tools["recommend"]
    assert "constraints" in recommend["inputSchema"]["required"]
    assert recommend["inputSchema"]["properties"]["limit"]["default"] == 5
    assert "commercial" in recommend["inputSchema"]["properties"]["constraints"]["properties"]
    assert tools["ask"]["inputSchema"]["properties"]["question"]["description"]
    assert "open-weight" in tools["catalog_entry"]["description"]
