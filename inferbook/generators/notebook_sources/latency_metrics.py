"""How TTFT, TPOT, ITL, E2EL, percentiles and goodput are computed from timestamps."""

# %% [markdown]
# # Latency metrics
#
# Benchmarks report TTFT, TPOT, ITL and end-to-end latency, but tools define and average them in
# slightly different ways, which is enough to make two reports of the same server disagree. This
# notebook computes every metric from per-request timestamps with `inferbook.calc.metrics`: first
# on three hand-made requests small enough to check by eye, then on a simulated run of the chosen
# model and GPU.

# %% [markdown] links
# - metrics/ttft
# - metrics/tpot
# - metrics/itl
# - metrics/e2el
# - concepts/latency-percentiles
# - concepts/request-vs-token-weighted-averages
# - concepts/service-level-objectives
# - metrics/goodput
# - metrics/request-throughput
# - metrics/token-throughput
# - concepts/benchmarking-methodology
# - models/{MODEL}
# - gpus/{GPU}

# %% [markdown]
# Run the cells from top to bottom. The first one sets up plotting; the second holds the
# parameters, which you can change to look at another model, GPU or format.

# %%
import matplotlib

matplotlib.use("Agg")  # draw off-screen; show() turns each figure into an inline PNG
import matplotlib.pyplot as plt

from inferbook.notebook_support import load_case, show

# %% tags=["parameters"]
# Parameters: change them and run the notebook again.
MODEL = "llama-3.1-8b-instruct"  # a model id (kb.models)
GPU = "h100-sxm"                 # a GPU id (kb.gpus)
FORMAT = "bf16"                  # weight format id (kb.formats); the model's native one by default
KV_DTYPE = "bf16"                # KV-cache data type: bf16, fp8-e4m3, int8, int4, ...
TP: int | None = None            # GPUs in the tensor-parallel group; None picks the fewest that fit
REQUESTS = 300                   # requests in the workload
RATE = 6.0                       # mean arrivals per second (Poisson)
INPUT_MEAN = 1024                # mean prompt tokens (lognormal)
OUTPUT_MEAN = 256                # mean output tokens (lognormal)
MAX_BATCH = 64                   # most sequences in a batch
SEED = 0                         # workload seed; the same seed gives the same run
SLO_TTFT_S = 1.0                 # time-to-first-token objective, seconds
SLO_TPOT_S = 0.05                # time-per-output-token objective, seconds
KB: list[str] | None = None      # None: the built-in handbook; or a list of knowledge-base folders

# %%
# Can it run? The same check as every calculator: splits, formats, memory, one sequence of 1,024 tokens.
# With TP None, the case takes the fewest GPUs of one tensor-parallel group on which the model runs.
case = load_case(MODEL, GPU, FORMAT, KV_DTYPE, TP, KB)
kb, model, gpu, fmt, arch = case.kb, case.model, case.gpu, case.fmt, case.arch
kv_bits, groups, TP = case.kv_bits, case.groups, case.tp

# %% [markdown]
# ## Three requests by hand
# Each record holds the arrival time and the time every output token appeared. TTFT is the wait for
# the first token, E2EL the wait for the last; TPOT spreads the time after the first token over the
# remaining tokens, and ITL lists the individual gaps.

# %%
from inferbook.calc.metrics import RequestRecord, Slo, percentile, summarize


def record(arrival: float, token_times: list[float], input_tokens: int) -> RequestRecord:
    return RequestRecord(arrival, token_times[0], token_times[-1], input_tokens, len(token_times),
                         tuple(token_times))


records = [
    record(0.0, [0.20, 0.25, 0.30, 0.35, 0.40], 500),
    record(0.1, [0.60, 0.62, 0.64], 2000),
    record(0.5, [0.70 + 0.03 * i for i in range(20)], 300),
]
for i, r in enumerate(records):
    gaps = ", ".join(f"{g * 1e3:.0f}" for g in r.itls()[:5])
    tpot = r.tpot()
    assert tpot is not None  # None only for a request of a single token
    print(f"request {i}: TTFT {r.ttft * 1e3:6.1f} ms, TPOT {tpot * 1e3:5.1f} ms, "
          f"E2EL {r.e2el * 1e3:6.1f} ms, first gaps (ms): {gaps}")

# %% [markdown]
# ## Per request or per token?
# Averaging TPOT per request gives each request one vote; averaging per token gives a long request
# as many votes as it has token gaps. Some tools also count the first token in TPOT, which folds
# the prefill into it. The three conventions give three different means for the same records.

# %%
by_request = summarize(records)
by_token = summarize(records, average="token")
with_first = summarize(records, tpot_includes_first_token=True)
print(f"mean TPOT per request:             {by_request.tpot.mean * 1e3:.2f} ms")
print(f"mean TPOT per token:               {by_token.tpot.mean * 1e3:.2f} ms")
print(f"mean TPOT counting the first token: {with_first.tpot.mean * 1e3:.2f} ms")
print(f"throughput: {by_request.request_throughput:.2f} requests/s, "
      f"{by_request.output_token_throughput:.1f} output tokens/s over {by_request.duration_s:.2f} s")

# %% [markdown]
# ## Percentiles and goodput
# Percentiles interpolate linearly between the sorted values (numpy's default method). Goodput
# counts only the requests that met every objective.

# %%
ttfts = [r.ttft for r in records]
print("TTFT percentiles (ms):", ", ".join(f"p{q}={percentile(ttfts, q) * 1e3:.1f}" for q in (50, 90, 99)))
strict = Slo(ttft=SLO_TTFT_S / 4, tpot=SLO_TPOT_S)
s = summarize(records, slo=strict)
print(f"SLO TTFT <= {strict.ttft} s and TPOT <= {strict.tpot} s: {s.slo_attainment:.0%} of requests, "
      f"goodput {s.goodput:.2f} requests/s")

# %% [markdown]
# ## A simulated run of the chosen model and GPU
# The same metrics over a seeded workload under continuous batching (see the batching-simulator
# notebook for how the run is produced). The plots show the distribution behind the percentiles:
# the cumulative share of requests served within a given TTFT and end-to-end latency, and the
# spread of TPOT.

# %%
from inferbook.calc.capacity import capacity
from inferbook.calc.metrics import Slo
from inferbook.calc.roofline import Roofline, step_model
from inferbook.calc.simulator import Lengths, SimConfig, simulate, workload

cap = capacity(arch, gpu, fmt, kv_bits, tp=TP, groups=groups)
steps = step_model(Roofline(arch, gpu, fmt, kv_bits, TP, groups=groups))
requests = workload(REQUESTS, RATE, Lengths("lognormal", mean=INPUT_MEAN, high=INPUT_MEAN * 8),
                    Lengths("lognormal", mean=OUTPUT_MEAN, high=OUTPUT_MEAN * 8), seed=SEED)
slo = Slo(ttft=SLO_TTFT_S, tpot=SLO_TPOT_S)
print(f"{len(requests)} requests over {requests[-1].arrival:,.1f} s; "
      f"mean prompt {sum(r.input_tokens for r in requests) / len(requests):,.0f} tokens, "
      f"mean output {sum(r.output_tokens for r in requests) / len(requests):,.0f} tokens")
print(f"KV cache holds {cap.kv_tokens:,} tokens")

# %%
result = simulate(requests, steps, SimConfig(max_batch=MAX_BATCH, kv_capacity_tokens=max(cap.kv_tokens, 1)))
s = result.summary(slo)
quantiles = ("mean", "p50", "p90", "p95", "p99")
print(f"{'metric':6s}" + "".join(f"{q:>10s}" for q in quantiles) + "   (ms)")
for name in ("ttft", "tpot", "itl", "e2el"):
    d = getattr(s, name)
    print(f"{name:6s}" + "".join(f"{getattr(d, q) * 1e3:10.1f}" for q in quantiles))
print(f"simulated TTFT p50 {s.ttft.p50:.4f} s, p99 {s.ttft.p99:.4f} s; goodput {s.goodput:.3f} req/s "
      f"({s.slo_attainment:.1%} within the SLOs)")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, name in zip(axes, ("ttft", "e2el"), strict=True):
    values = sorted(getattr(r, name) for r in result.records)
    share = [(i + 1) / len(values) for i in range(len(values))]
    ax.plot(values, share)
    dist = getattr(s, name)
    for q in ("p50", "p90", "p99"):
        ax.axvline(getattr(dist, q), linestyle="--", color="grey")
        ax.annotate(q, (getattr(dist, q), 0.05), fontsize=8, rotation=90)
    ax.set_xlabel(f"{name.upper()} (s)")
    ax.set_ylabel("share of requests")
    ax.grid(True, alpha=0.3)
show(fig)

tpots = [t * 1e3 for r in result.records if (t := r.tpot()) is not None]
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.hist(tpots, bins=40)
ax.axvline(SLO_TPOT_S * 1e3, color="C3", linestyle="--", label="TPOT objective")
ax.set_xlabel("TPOT per request (ms)")
ax.set_ylabel("requests")
ax.legend()
show(fig)
