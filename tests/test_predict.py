"""`predict` and `inferbook predict`: feasibility first, then speeds with an error band and a basis."""

from __future__ import annotations

import json
import math

import pytest

import inferbook
from inferbook.calc import calibrate
from inferbook.calc.perf import Deployment, PerfParams, calibrated_params, step_cost
from inferbook.calc.predict import Disaggregation, Load, PredictError, predict
from inferbook.calc.published import load as load_published
from inferbook.cli import main


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


def test_an_answer_has_every_part(kb):
    p = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", Load(1000, 200, "offline", requests=300))
    assert p.feasible and p.ttft_s and p.tpot_s
    assert p.ttft_s.p50 <= p.ttft_s.p99 and p.tpot_s.mean > 0
    assert p.output_tokens_per_s > 0 and p.input_tokens_per_s == pytest.approx(5 * p.output_tokens_per_s, rel=1e-6)
    assert p.requests_per_s == pytest.approx(p.output_tokens_per_s / 200, rel=1e-6)
    assert p.error_band is not None and p.basis in ("measured", "calibrated", "estimated") and p.basis_detail
    data = p.to_json()
    for key in ("feasible", "reasons", "ttft_s", "tpot_s", "output_tokens_per_s", "input_tokens_per_s",
                "requests_per_s", "rate", "error_band", "basis"):
        assert key in data
    assert set(data["ttft_s"]) == {"mean", "p50", "p90", "p95", "p99"}


def test_an_impossible_setup_gets_reasons_not_numbers(kb):
    p = predict(kb, "llama-3.1-405b-instruct", "rtx-4090", Load(1000, 200, "offline", requests=10))
    assert not p.feasible and p.reasons
    assert p.ttft_s is None and p.output_tokens_per_s is None


def test_replicas_multiply_throughput(kb):
    one = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", Load(512, 128, "concurrency", concurrency=8, requests=64))
    two = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", Load(512, 128, "concurrency", concurrency=16, requests=128),
                  gpus=2, tp=1)
    assert two.setup["replicas"] == 2
    # a closed loop: a client's next request starts when its last one ends, so TTFT holds no queueing
    assert one.ttft_s.p99 < 128 * one.tpot_s.mean
    assert two.output_tokens_per_s == pytest.approx(2 * one.output_tokens_per_s, rel=1e-9)
    assert two.tpot_s.mean == pytest.approx(one.tpot_s.mean, rel=1e-9)


def test_single_stream_latency_is_the_step_model(kb):
    """At batch 1, TTFT is one prefill step of the calibrated model plus the engine's request overhead."""
    p = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", Load(2048, 3, "batch", batch=1))
    cost = step_cost(Deployment(kb.models["llama-3.1-8b-instruct"].architecture, kb.gpus["h100-sxm"],
                                kb.formats["bf16"]))
    prefill = cost.seconds(2048, 1, 2048 * 2049 / 2, 0.0, 0, 0, 1)
    params = calibrated_params()
    assert p.ttft_s.mean == pytest.approx(prefill + params.lookup(params.request_s, "vllm"), rel=1e-9)


def test_max_rate_meets_the_slos(kb):
    load = Load(512, 64, "max-rate", requests=200, slo_ttft_s=0.5, slo_tpot_s=0.03)
    p = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", load)
    assert p.feasible and p.rate and p.rate > 0
    check = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", Load(512, 64, "rate", rate=p.rate, requests=200))
    assert check.ttft_s.p99 <= 0.5 and check.tpot_s.p99 <= 0.03
    faster = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", Load(512, 64, "rate", rate=p.rate * 1.3, requests=200))
    assert faster.ttft_s.p99 > 0.5 or faster.tpot_s.p99 > 0.03


def test_disaggregation_adds_the_transfer(kb):
    load = Load(4096, 64, "rate", rate=4.0, requests=100)
    p = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", load, gpus=4, tp=1,
                disaggregation=Disaggregation(prefill_gpus=2))
    assert p.feasible and p.setup["prefill_gpus"] == 2 and p.setup["decode_gpus"] == 2
    assert any("KV transfer" in n for n in p.notes) and p.basis == "estimated"
    with pytest.raises(PredictError):
        predict(kb, "llama-3.1-8b-instruct", "h100-sxm", Load(512, 64, "batch", batch=2), gpus=2,
                disaggregation=Disaggregation(prefill_gpus=1))


def test_the_cli_names_both_pools_of_a_disaggregated_layout(capsys):
    assert main(["predict", "llama-3.1-8b-instruct", "h100-sxm", "--gpus", "4", "--prefill-gpus", "2", "--isl", "4096",
                 "--osl", "64", "--offline", "--requests", "40"]) == 0
    out = capsys.readouterr().out
    assert "layout: 2 prefill GPU(s) in replicas of TP 1, 2 decode GPU(s) in replicas of TP 1 x PP 1;" in out
    assert "tokens per decode replica" in out and "1 replica(s)" not in out


def test_a_measured_setup_says_so(kb):
    m = next(p.m for p in load_published() if p.m.id == "m001")
    p = predict(kb, m.model, m.gpu, Load(m.isl, m.osl, "offline", requests=200), gpus=m.gpus, tp=m.tp,
                weights=m.weights, engine="tensorrt-llm")
    assert p.basis == "measured" and "m001" in {m["id"] for m in p.measured}


def test_bad_questions_are_refused(kb):
    with pytest.raises(PredictError, match="unknown model"):
        predict(kb, "no-such-model", "h100-sxm", Load(10, 10))
    with pytest.raises(PredictError, match="needs --concurrency"):
        Load(10, 10, "concurrency")
    with pytest.raises(PredictError, match="--rate max needs"):
        Load(10, 10, "max-rate")


def test_replay_equals_the_simulator(kb):
    """Calibration re-times recorded schedules; for closed-loop and offline runs that is exact."""
    pubs = [p for p in load_published() if p.m.id in ("m001", "m055", "m052")]
    params = PerfParams(gemm_eff={"*": 0.5}, mbu={"*": 0.8}, step_s={"*": 0.003})
    for pub in pubs:
        case = calibrate.build_case(kb, pub)
        assert not isinstance(case, str), case
        result, value = calibrate.simulate_case(case, calibrate.PRIOR)
        replay = calibrate.ReplaySet([calibrate.Replay(case, result)])
        assert replay.values(calibrate.PRIOR)[0] == pytest.approx(value, rel=1e-9)
        assert replay.values(params)[0] == pytest.approx(calibrate.simulate_case(case, params)[1], rel=1e-9)


def test_cli_json_and_exit_codes(capsys):
    code = main(["predict", "llama-3.1-8b-instruct", "h100-sxm", "--isl", "512", "--osl", "64",
                 "--concurrency", "4", "--requests", "40", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["feasible"] and data["basis"] and data["error_band"]
    assert main(["predict", "llama-3.1-405b-instruct", "rtx-4090", "--isl", "512", "--osl", "64",
                 "--offline", "--requests", "10"]) == 1
    assert "cannot run" in capsys.readouterr().err
    assert main(["predict", "llama-3.1-8b-instruct", "h100-sxm", "--isl", "512", "--osl", "64",
                 "--rate", "2", "--slo-ttft", "1"]) == 2
    code = main(["predict", "llama-3.1-8b-instruct", "h100-sxm", "--isl", "512", "--osl", "64", "--offline",
                 "--requests", "50"])
    out = capsys.readouterr().out
    assert code == 0 and "error band" in out and "basis:" in out


def test_speculation_trades_verification_for_fewer_steps(kb):
    from inferbook.calc.speculation import Speculation

    load = Load(512, 200, "concurrency", concurrency=4, requests=16)
    plain = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", load)
    spec = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", load, speculation=Speculation(3, 0.7, 0.05))
    assert spec.tpot_s.mean < plain.tpot_s.mean and spec.output_tokens_per_s > plain.output_tokens_per_s
    assert spec.basis == "estimated" and any("speculative" in n for n in spec.notes)
    hopeless = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", load, speculation=Speculation(3, 0.0, 0.2))
    assert hopeless.tpot_s.mean > plain.tpot_s.mean  # nothing accepted: only the cost remains
    assert Speculation(3, 0.7).steps_for(200) == 1 + math.ceil(199 / Speculation(3, 0.7).tokens_per_step)
    with pytest.raises(PredictError, match="rate max"):
        predict(kb, "llama-3.1-8b-instruct", "h100-sxm", Load(512, 64, "max-rate", slo_ttft_s=1.0),
                speculation=Speculation(2, 0.5))


def test_cli_speculation_flags_go_together():
    assert main(["predict", "llama-3.1-8b-instruct", "h100-sxm", "--isl", "64", "--osl", "16", "--batch", "1",
                 "--speculative-tokens", "3"]) == 2


def test_mtp_speculation_loads_the_mtp_modules(kb):
    """With speculation on a model that has MTP modules, their weights take room from the KV cache."""
    from inferbook.calc.speculation import Speculation

    load = Load(1024, 128, "concurrency", concurrency=8, requests=16)
    plain = predict(kb, "qwen3.5-27b", "h100-sxm", load, gpus=2)
    spec = predict(kb, "qwen3.5-27b", "h100-sxm", load, gpus=2, speculation=Speculation(2, 0.7))
    assert plain.feasible and spec.feasible
    assert spec.kv_cache_tokens < plain.kv_cache_tokens
    assert any("MTP module" in n for n in spec.notes)
    dense = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", load, speculation=Speculation(2, 0.7))
    assert dense.kv_cache_tokens == predict(kb, "llama-3.1-8b-instruct", "h100-sxm", load).kv_cache_tokens


def test_image_tokens_are_prefilled_with_the_prompt(kb):
    with_images = predict(kb, "qwen3-vl-4b-instruct", "h100-sxm", Load(500, 64, "batch", batch=1, image_tokens=768))
    longer = predict(kb, "qwen3-vl-4b-instruct", "h100-sxm", Load(1268, 64, "batch", batch=1))
    assert with_images.setup["image_tokens"] == 768 and with_images.setup["isl"] == 500
    assert with_images.ttft_s.mean == pytest.approx(longer.ttft_s.mean, rel=1e-12)
    with pytest.raises(PredictError, match="image-tokens"):
        Load(10, 10, "batch", batch=1, image_tokens=-1)


def test_cli_images_become_tokens(capsys):
    code = main(["predict", "qwen3-vl-4b-instruct", "h100-sxm", "--isl", "100", "--osl", "8", "--batch", "1",
                 "--image", "1024x768", "--image", "64x64", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["setup"]["image_tokens"] == 32 * 24 + 2 * 2
    code = main(["predict", "llama-3.1-8b-instruct", "h100-sxm", "--isl", "100", "--osl", "8", "--batch", "1",
                 "--image", "64x64"])
    assert code == 2 and "no vision encoder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # argparse refuses the value itself
        main(["predict", "llama-3.1-8b-instruct", "h100-sxm", "--isl", "100", "--osl", "8", "--batch", "1",
              "--image", "64by64"])
    assert refused.value.code == 2


def test_a_model_from_a_config_json_is_predicted_like_its_entry(kb, capsys):
    from pathlib import Path

    from inferbook.importer import adhoc_model

    config = Path(__file__).parent / "hf_configs" / "llama-3.1-8b.json"
    adhoc = adhoc_model(config, kb.formats).model
    load = Load(500, 100, "concurrency", concurrency=8, requests=64)
    entry = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", load)
    ours = predict(kb, adhoc, "h100-sxm", load)
    assert ours.feasible and ours.tpot_s.mean == pytest.approx(entry.tpot_s.mean, rel=1e-9)
    assert ours.kv_cache_tokens == entry.kv_cache_tokens
    code = main(["predict", "--config", str(config), "h100-sxm", "--isl", "500", "--osl", "100", "--concurrency",
                 "8", "--requests", "64", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["feasible"] and data["tpot_s"]["mean"] == pytest.approx(entry.tpot_s.mean, rel=1e-9)
    assert main(["predict", "--config", str(config), "--isl", "5", "--osl", "5", "--batch", "1"]) == 2


@pytest.mark.parametrize(("alias", "engine"), [("trtllm", "tensorrt-llm"), ("llamacpp", "llama-cpp")])
def test_engine_aliases_predict_as_their_engine(kb, capsys, alias, engine):
    """The short engine names the CLI offers (`--engine trtllm|llamacpp`) predict as the engine itself."""
    args = ["predict", "llama-3.1-8b-instruct", "h100-sxm", "--isl", "512", "--osl", "64", "--batch", "1", "--json"]
    answers = []
    for name in (alias, engine):
        assert main([*args, "--engine", name]) == 0
        answers.append(json.loads(capsys.readouterr().out))
    assert answers[0]["setup"]["engine"] == engine
    assert answers[0] == answers[1]
    load = Load(isl=512, osl=64, mode="batch", batch=1)
    assert predict(kb, "llama-3.1-8b-instruct", "h100-sxm", load=load, engine=alias).tpot_s == \
        predict(kb, "llama-3.1-8b-instruct", "h100-sxm", load=load, engine=engine).tpot_s
