"""`python -m assistant catalog draft|check`: drafts from recorded Hub responses of five real
repositories (tests/fixtures/hub, reconstructions of the published files), the offline failure,
and every rule of `catalog check`."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from assistant import catalog_tools as ct
from assistant.catalog_tools import hub as hub_api
from assistant.catalog_tools import rules
from assistant.knowledge import Model, Variant

from .conftest import KNOWLEDGE, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "hub"
TODAY = date(2026, 12, 2)
REPOS = [
    "Qwen/Qwen3-8B",  # dense
    "Qwen/Qwen3-30B-A3B",  # MoE
    "Qwen/Qwen2.5-VL-7B-Instruct",  # vision
    "meta-llama/Llama-3.1-8B-Instruct",  # a licence with conditions, gated
    "bartowski/Qwen_Qwen3-8B-GGUF",  # GGUF only
]


@pytest.fixture(scope="module")
def hub() -> ct.RecordedHub:
    return ct.RecordedHub(FIXTURES)


def _draft(hub, repo: str, **kw) -> ct.Draft:
    return ct.draft(hub, repo, today=TODAY, **kw)


# ---------------------------------------------------------------- recordings


def test_every_recording_is_a_real_repository_with_its_provenance_written_down():
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    assert "reconstruction" in readme.lower() and "not live recordings" in readme.lower()
    files = sorted(FIXTURES.glob("*.json"))
    assert len(files) >= 5
    for path in files:
        record = json.loads(path.read_text(encoding="utf-8"))
        repo = record["model_info"]["id"]
        assert path.name == repo.replace("/", "__") + ".json"
        assert repo in readme and path.name in readme, path.name
        assert "Reconstruction" in record["_provenance"]
    assert {json.loads(p.read_text())["model_info"]["id"] for p in files} >= set(REPOS)


def test_the_real_adapter_reads_a_huggingface_hub_model_info():
    """`HfHub` converts huggingface_hub's ModelInfo into the API shape the recordings keep."""
    from huggingface_hub.hf_api import ModelInfo

    for repo in REPOS:
        recorded = json.loads((FIXTURES / (repo.replace("/", "__") + ".json")).read_text())["model_info"]
        converted = hub_api._model_info_dict(ModelInfo(**copy.deepcopy(recorded)))
        for key in ("id", "pipeline_tag", "gated", "safetensors", "gguf", "siblings"):
            assert converted[key] == recorded[key], (repo, key)
        assert converted["cardData"]["license"] == recorded["cardData"]["license"]


# ---------------------------------------------------------------- drafts


def test_dense_draft_reads_size_layers_and_the_cards_context(hub):
    d = _draft(hub, "Qwen/Qwen3-8B")
    e = d.entry
    assert (e["params_total_b"], e["architecture"], e["repo"]) == (8.19, "dense", "Qwen/Qwen3-8B")
    assert e["variants"] == [{"name": "Qwen3-8B", "params_total_b": 8.19, "n_layers": 36, "n_kv_heads": 8, "head_dim": 128}]
    assert (e["context_native"], e["context_extended"], e["context_extended_method"]) == (32768, 131072, "YaRN")
    assert e["licence"] == {"id": "Apache-2.0", "name": "Apache License 2.0", "open_source": True}
    assert e["commercial_use"] == "yes" and "commercial_conditions" not in e
    assert e["modalities"] == ["text"]
    s = e["sources"]
    assert s["size"].startswith("Hub model_info of Qwen/Qwen3-8B (safetensors total 8,190,735,360")
    assert s["architecture"] == ("config.json of Qwen/Qwen3-8B (num_hidden_layers 36; num_key_value_heads 8; "
                                 "head_dim 128)")
    assert "'Context Length: 32,768 natively and 131,072 tokens with YaRN.'" in s["context"]
    assert "max_position_embeddings 40960" in s["context"]
    assert "license: apache-2.0" in s["licence"]
    # The card and config.json disagree on the native window: the draft says so.
    assert any("40,960" in n and "32,768" in n for n in d.facts.notes)
    # The card lists no language: a TODO, never a guess.
    assert e["languages"]["codes"][0].startswith(ct.TODO) and "languages" not in s


def test_moe_draft_reads_experts_and_active_parameters_from_the_card(hub):
    e = _draft(hub, "Qwen/Qwen3-30B-A3B").entry
    assert (e["params_total_b"], e["params_active_b"], e["architecture"], e["experts"]) == (30.5, 3.3, "moe", 128)
    assert e["variants"][0] | {} == {"name": "Qwen3-30B-A3B", "params_total_b": 30.5, "params_active_b": 3.3,
                                     "n_layers": 48, "n_kv_heads": 4, "head_dim": 128}
    assert "'Number of Parameters: 30.5B in total and 3.3B activated'" in e["sources"]["size"]
    assert "num_experts 128, num_experts_per_tok 8" in e["sources"]["architecture"]


def test_vision_draft_reads_modalities_languages_and_a_derived_head_dim(hub):
    d = _draft(hub, "Qwen/Qwen2.5-VL-7B-Instruct")
    e = d.entry
    assert e["modalities"] == ["text", "image", "video"]
    assert "pipeline_tag image-text-to-text" in e["sources"]["modalities"]
    assert "preprocessor_config.json" in e["sources"]["modalities"]
    assert "vision_config, video_token_id" in e["sources"]["modalities"]
    assert e["variants"][0]["head_dim"] == 128
    assert "head_dim = hidden_size 3584 / num_attention_heads 28" in e["sources"]["architecture"]
    assert e["languages"]["codes"] == ["en"] and e["languages"]["count"] == 1
    # The card: "The current config.json is set for context length up to 32,768 tokens" (config: 128000).
    assert e["context_native"] == 32768 and "context_extended" not in e
    assert "rope_scaling mrope" in e["sources"]["context"]
    assert e["params_total_b"] == 8.29


def test_conditional_licence_leaves_its_conditions_as_todo_and_reads_the_release_date(hub):
    d = _draft(hub, "meta-llama/Llama-3.1-8B-Instruct")
    e = d.entry
    assert e["licence"]["id"] == "Llama-3.1" and e["licence"]["open_source"] is False
    assert e["commercial_use"] == "conditional"
    assert e["commercial_conditions"].startswith(ct.TODO) and e["commercial_conditions_en"].startswith(ct.TODO)
    assert e["languages"]["codes"] == ["en", "de", "fr", "it", "pt", "hi", "es", "th"]
    assert e["released"] == "2024-07-23" and "Model Release Date: July 23, 2024." in e["sources"]["released"]
    assert e["context_native"] == 131072 and "rope_scaling llama3 factor 8.0" in e["sources"]["context"]
    assert e["variants"][0] | {} == {"name": "Llama-3.1-8B-Instruct", "params_total_b": 8.03, "n_layers": 32,
                                     "n_kv_heads": 8, "head_dim": 128}
    assert any("gated (manual)" in n for n in d.facts.notes)


def test_gguf_only_draft_says_what_it_cannot_read_and_points_to_the_base_model(hub):
    d = _draft(hub, "bartowski/Qwen_Qwen3-8B-GGUF")
    e = d.entry
    assert d.gguf_only and d.base_model == "Qwen/Qwen3-8B"
    assert e["name"] == "Qwen3-8B" and e["repo"] == "bartowski/Qwen_Qwen3-8B-GGUF"
    assert e["params_total_b"] == 8.19 and "gguf.total 8,190,735,360" in e["sources"]["size"]
    assert e["context_native"] == 32768 and "gguf.context_length 32768" in e["sources"]["context"]
    assert e["architecture"].startswith(ct.TODO) and "'qwen3'" in e["architecture"]
    assert "variants" not in e and "architecture" not in e["sources"]
    text = ct.render(d)
    assert "CANNOT READ this is a GGUF-only repository" in text
    assert "python -m assistant catalog draft Qwen/Qwen3-8B" in text
    assert "Qwen_Qwen3-8B-Q4_K_M.gguf" in text


def test_a_gated_config_is_reported_not_a_traceback(tmp_path):
    record = json.loads((FIXTURES / "meta-llama__Llama-3.1-8B-Instruct.json").read_text())
    record["gated_files"] = ["config.json", "README.md"]
    (tmp_path / "meta-llama__Llama-3.1-8B-Instruct.json").write_text(json.dumps(record))
    d = ct.draft(ct.RecordedHub(tmp_path), "meta-llama/Llama-3.1-8B-Instruct", today=TODAY)
    assert "variants" not in d.entry and "context_native" not in d.entry
    assert any("config.json" in c and "HF_TOKEN" in c for c in d.facts.cannot)
    # model_info's card data still gives the licence and languages.
    assert d.entry["licence"]["id"] == "Llama-3.1" and d.entry["languages"]["count"] == 8


@pytest.mark.parametrize("repo", REPOS)
def test_every_draft_is_yaml_that_validates_once_its_todos_are_filled(hub, repo):
    d = _draft(hub, repo)
    text = ct.render(d)
    assert text.lstrip().startswith("# Draft catalog entry for " + repo)
    entry = yaml.safe_load(text)[0]
    assert entry == json.loads(json.dumps(d.entry, default=str)) | {"as_of": TODAY}
    for group in ("size", "licence"):
        assert repo in entry["sources"][group]
    todos = [path for path, value in rules.walk(entry) if isinstance(value, str) and value.startswith(ct.TODO)]
    assert {"family", "vendor", "country", "verdict", "summary_zh", "summary_en", "languages.chinese_note"} <= set(todos)
    assert Model.model_validate(_filled(entry))


@pytest.mark.parametrize("repo", REPOS[:4])
def test_variant_drafts_validate_as_variants(hub, repo):
    d = _draft(hub, repo, variant=True)
    text = ct.render(d)
    entry = yaml.safe_load(text)[0]
    assert entry["repo"] == repo and {"size", "architecture"} <= set(entry["sources"])
    assert Variant.model_validate(entry).n_layers
    assert "# Paste under the model's `variants:`" in text


def test_draft_names_an_entry_the_catalog_already_has(hub):
    d = ct.draft(hub, "Qwen/Qwen3-8B", today=TODAY, catalog_path=KNOWLEDGE / "catalog.yaml")
    assert d.known_as == "qwen3 / variant Qwen3-8B"
    assert "# Already in the catalog as qwen3 / variant Qwen3-8B" in ct.render(d)


def test_a_repo_id_that_is_not_owner_slash_name_is_refused(hub):
    with pytest.raises(ct.HubError, match="not a Hub repo id"):
        ct.draft(hub, "just-a-name")
    with pytest.raises(ct.RepoNotFound):
        ct.draft(hub, "nobody/nothing")


# ---------------------------------------------------------------- layer shapes (issue 17 item 5)

# Qwen/Qwen3-Coder-Next's config.json as transcribed in public code (the fields that matter here):
# 48 layers, every 4th full attention, the rest Gated DeltaNet linear attention.
QWEN3_NEXT = {
    "architectures": ["Qwen3NextForCausalLM"], "model_type": "qwen3_next", "full_attention_interval": 4,
    "head_dim": 256, "hidden_size": 2048, "num_attention_heads": 16, "num_key_value_heads": 2,
    "num_hidden_layers": 48, "num_experts": 512, "num_experts_per_tok": 10, "max_position_embeddings": 262144,
    "layer_types": ["full_attention" if (i + 1) % 4 == 0 else "linear_attention" for i in range(48)],
}


def _arch(config: dict) -> ct.Facts:
    facts = ct.Facts(repo="o/r")
    ct.read_architecture(facts, config, "config.json of o/r")
    return facts


def test_hybrid_layer_types_count_only_full_attention_layers_and_say_so():
    f = _arch(QWEN3_NEXT)
    assert f.variant == {"n_layers": 12, "n_kv_heads": 2, "head_dim": 256}
    assert f.values["architecture"] == "hybrid" and f.values["experts"] == 512
    assert f.values["architecture_note"].startswith("12 of 48 layers full attention")
    assert "12 of 48 layers are full attention" in f.sources["architecture"][0]
    assert any("n_layers counts the full-attention layers" in n for n in f.notes)


def test_full_attention_interval_alone_and_a_nested_text_config():
    without_types = {k: v for k, v in QWEN3_NEXT.items() if k != "layer_types"}
    assert _arch(without_types).variant["n_layers"] == 12
    nested = {"architectures": ["Qwen3_5MoeForConditionalGeneration"], "vision_config": {"depth": 27},
              "text_config": {**without_types, "num_hidden_layers": 60}}
    f = _arch(nested)
    assert f.variant["n_layers"] == 15 and f.values["architecture"] == "hybrid"


def test_nemotron_h_pattern_counts_its_attention_layers():
    f = _arch({"num_hidden_layers": 8, "num_attention_heads": 8, "num_key_value_heads": 2, "head_dim": 128,
               "hybrid_override_pattern": "M-M*M-M*"})
    assert f.variant["n_layers"] == 2 and f.values["architecture"] == "hybrid"


def test_sliding_window_layers_are_counted_with_a_note():
    config = {"num_hidden_layers": 4, "num_attention_heads": 8, "num_key_value_heads": 2, "head_dim": 64,
              "sliding_window": 128, "layer_types": ["sliding_attention", "full_attention"] * 2}
    f = _arch(config)
    assert f.variant["n_layers"] == 4 and f.values["architecture"] == "dense"
    assert any("sliding-window" in n and "upper bound" in n for n in f.notes)


def test_mla_leaves_kv_heads_and_head_dim_out_and_packed_weights_are_flagged():
    f = _arch({"num_hidden_layers": 61, "num_attention_heads": 128, "num_key_value_heads": 128,
               "kv_lora_rank": 512, "n_routed_experts": 256, "hidden_size": 7168})
    assert f.variant == {"n_layers": 61} and f.values["architecture"] == "moe"
    facts = ct.Facts(repo="o/r")
    ct.read_size(facts, {"safetensors": {"parameters": {"BF16": 1_000_000, "U8": 9_000_000}, "total": 10_000_000}},
                 "", "Hub model_info of o/r", "model card")
    assert any("packed quantised" in n for n in facts.notes)


def test_no_head_dim_without_the_numbers_to_derive_it():
    f = _arch({"num_hidden_layers": 34, "hidden_size": 2560})
    assert "head_dim" not in f.variant and "n_kv_heads" not in f.variant
    assert any(c.startswith("head_dim") for c in f.cannot)


# ---------------------------------------------------------------- check


def test_the_current_catalog_passes_check():
    report = ct.check_catalog(KNOWLEDGE / "catalog.yaml", TODAY)
    assert not report.errors, "\n".join(map(str, report.errors))
    assert report.models >= 55 and report.variants >= 90


def _catalog(tmp_path: Path, models: list[dict]) -> Path:
    """The real root catalog plus one part holding `models`."""
    root = tmp_path / "knowledge"
    (root / "catalog").mkdir(parents=True)
    shutil.copy(KNOWLEDGE / "catalog.yaml", root / "catalog.yaml")
    (root / "catalog" / "test.yaml").write_text(yaml.safe_dump({"models": models}, allow_unicode=True), encoding="utf-8")
    return root / "catalog.yaml"


def _filled(entry: dict) -> dict:
    """A draft with every TODO replaced by a plausible value (as a maintainer would)."""
    entry = copy.deepcopy(entry)
    entry.update(family="qwen", vendor="Alibaba Cloud (Qwen team)", country="CN", verdict="neutral",
                 verdict_reason="測試用。", verdict_reason_en="For the test.", summary_zh="測試用。",
                 summary_en="For the test.")
    if str(entry.get("released", "")).startswith(ct.TODO):
        entry.pop("released")
    if str(entry.get("architecture", "")).startswith(ct.TODO):
        entry["architecture"] = "dense"
        entry["sources"]["architecture"] = "model card of the base model (dense)"
    if str(entry.get("commercial_conditions", "")).startswith(ct.TODO):
        entry["commercial_conditions"] = "依授權條款。"
        entry["commercial_conditions_en"] = "Per the licence."
    langs = entry["languages"]
    langs["chinese_note"] = "未評論。"
    if str(langs["codes"][0]).startswith(ct.TODO):
        langs["codes"] = ["multi"]
        entry["sources"]["languages"] = "model card (119 languages)"
    entry["sources"]["verdict"] = "article"
    return entry


def _model(**over) -> dict:
    base = {
        "id": "test-model", "name": "Testmodel-X", "family": "qwen", "vendor": "V", "country": "US",
        "params_total_b": 7.0, "architecture": "dense", "context_native": 32768,
        "licence": {"id": "MIT", "name": "MIT License", "open_source": True}, "commercial_use": "yes",
        "modalities": ["text"], "languages": {"codes": ["en"], "chinese_note": "無"},
        "verdict": "neutral", "verdict_reason": "測試", "summary_zh": "測試", "summary_en": "Test",
        "sources": {g: f"model card: huggingface.co/o/Testmodel-X ({g})" for g in
                    ("size", "architecture", "context", "licence", "modalities", "languages")},
        "as_of": "2026-12-02",
    }
    base.update(over)
    return base


def _messages(report: ct.CheckReport, severity: str = "error") -> list[str]:
    return [str(f) for f in report.findings if f.severity == severity]


def test_a_filled_draft_of_a_new_model_passes_the_strict_rule(tmp_path, hub):
    entry = _filled(yaml.safe_load(ct.render(_draft(hub, "Qwen/Qwen2.5-VL-7B-Instruct")))[0])
    report = ct.check_catalog(_catalog(tmp_path, [entry]), TODAY)
    assert not report.errors, _messages(report)


def test_an_unfilled_draft_is_rejected_with_its_placeholders(tmp_path, hub):
    entry = yaml.safe_load(ct.render(_draft(hub, "Qwen/Qwen2.5-VL-7B-Instruct")))[0]
    errors = _messages(ct.check_catalog(_catalog(tmp_path, [entry]), TODAY))
    assert any("family is a draft placeholder" in e for e in errors)
    assert any(e.startswith("error: schema:") for e in errors)


def test_a_draft_of_a_size_the_catalog_has_shares_its_name(tmp_path, hub):
    entry = _filled(yaml.safe_load(ct.render(_draft(hub, "Qwen/Qwen3-8B")))[0])
    errors = _messages(ct.check_catalog(_catalog(tmp_path, [entry]), TODAY))
    assert any("names several models: qwen3, qwen3-8b" in e for e in errors), errors


def test_new_entries_need_every_group_sourced_older_ones_get_a_warning(tmp_path):
    model = _model()
    del model["sources"]["modalities"]
    report = ct.check_catalog(_catalog(tmp_path, [model]), TODAY)
    assert _messages(report) == ["error: test-model (test.yaml): no source for modalities"]
    old = _model(as_of="2026-11-30")
    del old["sources"]["modalities"]
    report = ct.check_catalog(_catalog(tmp_path / "old", [old]), TODAY)
    assert not report.errors
    assert "warning: test-model (test.yaml): no source for modalities" in _messages(report, "warning")


def test_a_variant_is_covered_by_its_own_source_a_named_one_or_a_series_wide_one(tmp_path):
    variants = [
        {"name": "Testmodel-X-1B", "params_total_b": 1.0, "n_layers": 16},
        {"name": "Testmodel-X-7B", "params_total_b": 7.0, "n_layers": 28, "sources": {"architecture": "config.json"}},
    ]
    model = _model(variants=variants)
    model["sources"]["size"] = "model cards: huggingface.co/o/Testmodel-X-1B and huggingface.co/o/Testmodel-X-7B"
    model["sources"]["architecture"] = "config.json of Testmodel-X-7B"
    errors = _messages(ct.check_catalog(_catalog(tmp_path, [model]), TODAY))
    assert errors == ["error: test-model (test.yaml) variant Testmodel-X-1B: no source covers its architecture "
                      "(its own sources, or a model source naming it or the whole series)"]
    model["sources"]["architecture"] = "config.json of each Testmodel-X size"
    assert not ct.check_catalog(_catalog(tmp_path / "b", [model]), TODAY).errors
    model["sources"]["architecture"] = "config.json of Testmodel-X-1B … -7B"
    assert not ct.check_catalog(_catalog(tmp_path / "c", [model]), TODAY).errors
    # A source that lists the sizes ("1B and 7B") names them; "11B" or "0.1B" would not.
    model["sources"]["architecture"] = "tech report table (1B and 7B: layers 16 and 28)"
    assert not ct.check_catalog(_catalog(tmp_path / "d", [model]), TODAY).errors
    model["sources"]["architecture"] = "tech report table (11B and 7B)"
    assert ct.check_catalog(_catalog(tmp_path / "e", [model]), TODAY).errors


def test_a_moe_size_must_state_its_active_parameters(tmp_path):
    model = _model(variants=[{"name": "Testmodel-X-30B-A3B", "params_total_b": 30.0},
                             {"name": "Testmodel-X-7B", "params_total_b": 7.0}])
    model["sources"]["size"] = "model cards of each size"
    errors = _messages(ct.check_catalog(_catalog(tmp_path, [model]), TODAY))
    assert errors == ["error: test-model (test.yaml) variant Testmodel-X-30B-A3B: a MoE size states params_active_b"]


def test_two_models_may_not_share_a_name(tmp_path):
    one = _model()
    two = _model(id="other-model", name="Other", aliases=["testmodel x"])
    errors = _messages(ct.check_catalog(_catalog(tmp_path, [one, two]), TODAY))
    assert errors == ["error: names: 'testmodelx' names several models: other-model, test-model"]


def test_an_entry_not_rechecked_for_a_year_fails(tmp_path):
    path = _catalog(tmp_path, [_model(as_of="2025-12-01")])
    errors = _messages(ct.check_catalog(path, TODAY))
    assert any("test-model" in e and "more than 365 days" in e for e in errors)
    assert not [e for e in _messages(ct.check_catalog(path, date(2026, 11, 30))) if "365 days" in e]


def test_a_schema_error_is_reported_with_the_file(tmp_path):
    errors = _messages(ct.check_catalog(_catalog(tmp_path, [_model(architecture="quantum")]), TODAY))
    assert len(errors) == 1 and errors[0].startswith("error: schema:") and "catalog" in errors[0]


# ---------------------------------------------------------------- CLI


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "HF_"))}
    base.update(PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8", **(env or {}))
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=base,
                          capture_output=True, text=True, timeout=120)


def test_cli_check_passes_on_the_catalog():
    result = _cli("catalog", "check", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: no errors" in result.stdout


def test_cli_check_fails_on_errors_and_strict_from_moves_the_source_rule(tmp_path):
    model = _model(as_of="2026-11-30")
    del model["sources"]["modalities"]
    knowledge = _catalog(tmp_path, [model]).parent
    ok = _cli("--knowledge-dir", str(knowledge), "catalog", "check", "--quiet")
    assert ok.returncode == 0 and "1 warnings" in ok.stdout
    strict = _cli("--knowledge-dir", str(knowledge), "catalog", "check", "--strict-from", "2026-11-01")
    assert strict.returncode == 1
    assert "error: test-model (test.yaml): no source for modalities" in strict.stdout


@pytest.mark.parametrize("env", [{"HF_HUB_OFFLINE": "1"}, {"HF_ENDPOINT": "http://127.0.0.1:9"}],
                         ids=["offline-mode", "unreachable-endpoint"])
def test_cli_draft_without_a_network_fails_with_one_sentence(env, tmp_path):
    result = _cli("catalog", "draft", "x/y", env={**env, "HF_HOME": str(tmp_path)})
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("錯誤 error: cannot reach the Hugging Face Hub to read x/y")


def test_cli_draft_from_recordings_prints_the_entry():
    result = _cli("catalog", "draft", "Qwen/Qwen3-30B-A3B", "--recorded", str(FIXTURES))
    assert result.returncode == 0, result.stderr
    assert "# Already in the catalog as qwen3 / variant Qwen3-30B-A3B" in result.stdout
    assert yaml.safe_load(result.stdout)[0]["experts"] == 128


def test_hub_errors_are_sorted_by_kind():
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    def named(name: str, base: type = Exception, status: int | None = None) -> BaseException:
        exc = type(name, (base,), {})("boom")
        if status is not None:
            exc.response = type("R", (), {"status_code": status})()
        return exc

    assert hub_api._error_kind(OfflineModeIsEnabled("offline")) == "unreachable"
    assert hub_api._error_kind(LocalEntryNotFoundError("not cached")) == "unreachable"
    assert hub_api._error_kind(named("ConnectError")) == "unreachable"
    assert hub_api._error_kind(named("HfHubHTTPError", status=503)) == "unreachable"
    assert hub_api._error_kind(named("GatedRepoError", status=401)) == "gated"
    assert hub_api._error_kind(named("RepositoryNotFoundError", status=404)) == "missing-repo"
    assert hub_api._error_kind(named("RemoteEntryNotFoundError", status=404)) == "missing-file"
    assert hub_api._error_kind(named("HfHubHTTPError", status=400)) is None
    assert hub_api._error_kind(ValueError("a bug")) is None
