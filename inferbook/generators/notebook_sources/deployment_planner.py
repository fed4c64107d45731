"""`inferbook plan` step by step: the frontier, what it costs at other rates, launch commands, own prices."""

# %% [markdown]
# # Deployment planner
#
# Which configuration is the cheapest that serves a workload within latency targets? This notebook
# runs the same search as `inferbook plan`: every GPU with a price, GPU count, TP/PP/EP split
# (attention data parallelism too, for MoE models), published checkpoint and KV-cache type; the
# impossible ones ruled out with a reason; the rest sized with a closed-form steady state; the
# cheapest and the cost-latency frontier simulated request by request. Every row carries its
# cross-validated error band and its basis.

# %% [markdown] links
# - concepts/planning-a-deployment
# - metrics/cost-per-million-tokens
# - metrics/goodput
# - concepts/choosing-a-gpu
# - models/{MODEL}

# %%
import matplotlib

matplotlib.use("Agg")  # draw off-screen; show() turns each figure into an inline PNG
import matplotlib.pyplot as plt

import inferbook
from inferbook.notebook_support import show

# %% tags=["parameters"]
# Parameters: change them and run the notebook again.
MODEL = "llama-3.1-8b-instruct"  # a model id (kb.models)
GPU = "h100-sxm"                 # a GPU id (kb.gpus)
ISL = 1000                       # prompt tokens per request
OSL = 200                        # output tokens per request
RATE = 4.0                       # requests per second (Poisson arrivals)
SLO_TTFT = 2.0                   # TTFT target in seconds
SLO_TPOT = 0.05                  # TPOT target in seconds
PERCENTILE = 95.0                # the targets' percentile: 50, 90, 95 or 99
GPUS: list[str] = []             # GPU ids to consider; [] for every GPU with an offer
MAX_GPUS = 16                    # most GPUs in one deployment
KB: list[str] | None = None      # None: the built-in handbook; or a list of knowledge-base folders

# %%
import datetime as dt

from inferbook.calc.launch import deployment, to_yaml
from inferbook.calc.plan import Space, Targets, Workload, plan

kb = inferbook.load(KB)
today = dt.date.fromisoformat(kb.data_date)  # prices are judged stale against the data's date
workload = Workload(ISL, OSL, rate=RATE)
targets = Targets(SLO_TTFT, SLO_TPOT, PERCENTILE)
space = Space(gpus=tuple(GPUS), max_gpus=MAX_GPUS)
result = plan(kb, [MODEL], workload, targets, space, today=today)
print(f"{result.shapes:,} configurations screened, {len(result.simulated)} simulated, "
      f"{len(result.frontier)} on the frontier; {len(kb.offers)} offers in the handbook")

# %% [markdown]
# ## The frontier
# Each row meets both targets at the percentile, and no other configuration is both cheaper and
# faster. Costs per million tokens split the hourly cost by the share of step time that prefill takes.

# %%
q = targets.percentile
print(f"{'USD/h':>8} {'$/M in':>7} {'$/M out':>8} {'TTFT ms':>8} {'TPOT ms':>8} {'band':>6}  configuration")
for cand in result.frontier:
    usd_in, usd_out = cand.usd_per_million(ISL, OSL)
    ttft, tpot = cand.ttft_s(q), cand.tpot_s(q)
    assert ttft is not None and tpot is not None  # the frontier is simulated
    band = cand.band.throughput.median if cand.band and cand.band.throughput else float("nan")
    print(f"{cand.usd_per_hour:8.2f} {usd_in:7.3f} {usd_out:8.3f} {ttft * 1e3:8.0f} "
          f"{tpot * 1e3:8.1f} {band:6.0%}  {cand.describe()} [{cand.basis}]")
if not result.frontier:
    for rejection in result.rejected[:10]:
        print("rejected:", rejection.what, "-", rejection.reason)

# %%
fig, ax = plt.subplots(figsize=(7, 4))
every = [x for x in result.simulated if x.meets(targets)]
ax.scatter([x.usd_per_hour for x in every], [x.latency_s(q, OSL) for x in every], color="0.7",
           label="simulated, meets the targets")
front = result.frontier
ax.plot([x.usd_per_hour for x in front], [x.latency_s(q, OSL) for x in front], marker="o",
        label="frontier")
ax.set_xlabel("USD per hour")
ax.set_ylabel(f"p{q:g} request latency (s)")
ax.set_xscale("log")
ax.legend()
show(fig)

# %% [markdown]
# ## What the cheapest costs at other rates
# A deployment paid by the hour costs the same whether busy or idle, so the cost per token falls as the
# rate rises, until another replica is needed.

# %%
rates = [RATE / 8, RATE / 4, RATE / 2, RATE, RATE * 2, RATE * 4]
for r in rates:
    p = plan(kb, [MODEL], Workload(ISL, OSL, rate=r), targets, Space(gpus=tuple(GPUS), max_gpus=MAX_GPUS,
                                                                    disaggregation=False), today=today)
    best = p.best
    if best is None:
        print(f"{r:7.2f} requests/s: nothing within {MAX_GPUS} GPUs meets the targets")
        continue
    usd_in, usd_out = best.usd_per_million(ISL, OSL)
    print(f"{r:7.2f} requests/s: {best.gpus:2d} GPUs, {best.usd_per_hour:7.2f} USD/h, "
          f"{usd_out:7.3f} USD per million output tokens ({best.shape.gpu.id})")

# %% [markdown]
# ## Launch it and check the prediction
# The deployment block holds the launch commands for each engine that runs on the GPU, and benchmark
# commands with the same lengths, rate and targets. Run them and compare with the predicted figures.

# %%
if result.best is not None:
    print(to_yaml(deployment(kb, result.best, workload, targets)))

# %% [markdown]
# ## Your own prices
# Add offers (a reserved contract, or hardware you own as an amortised cost) in a private folder and
# layer it over the handbook: `inferbook.load(["my-prices"], builtin=True)`, or `--kb my-prices` on the
# command line. An owned machine is an offer with `provider_kind: owned` and an `ownership` block.

# %%
from inferbook.schema import Offer, Ownership

ownership = Ownership(purchase_usd=250000, amortise_years=4, power_kw=10.2, usd_per_kwh=0.12,
                      hosting_usd_per_hour=2.0)
owned = Offer.model_validate({
    "id": "our-h100-node", "title": "Our HGX H100 node", "provider": "us", "provider_kind": "owned",
    "instance": "HGX H100 8-GPU", "gpu": "h100-sxm", "gpu_count": 8, "quoted_per": "instance",
    "ownership": ownership,
    "region": "own data centre", "checked": today, "source": next(iter(kb.sources)),
    "last_reviewed": today})
print(f"amortised: {ownership.usd_per_hour():.2f} USD per hour, "
      f"{owned.gpu_hour_usd():.2f} USD per GPU-hour (an example, not a quote)")
