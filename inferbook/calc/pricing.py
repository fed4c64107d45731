"""What a deployment costs: machines from an offer, per-GPU prices and stale prices.

A deployment of ``replicas`` copies of a ``tp x pp`` group is placed on whole machines of one
offer; a group never spans two machines. Offers that rent smaller machines at the same
per-GPU price (`Offer.rentable_counts`) are packed with the largest machines first and
the smallest machine that holds the rest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from ..schema import Gpu, Offer

Pricing = Literal["on_demand", "reserved", "spot"]
PRICINGS: tuple[Pricing, ...] = ("on_demand", "reserved", "spot")
STALE_AFTER_DAYS = 183
"""A price checked more than this many days (about six months) ago is flagged as stale."""


@dataclass(frozen=True, slots=True)
class Machines:
    """The machines a deployment rents from one offer."""

    offer: Offer
    sizes: tuple[int, ...]
    """GPUs in each machine rented."""
    usd_per_hour: float
    replicas: int
    """Groups the machines hold (every GPU paid for is used when the sizes allow)."""

    @property
    def gpus(self) -> int:
        return sum(self.sizes)

    def describe(self) -> str:
        counts: dict[int, int] = {}
        for size in self.sizes:
            counts[size] = counts.get(size, 0) + 1
        parts = [f"{n} x {self.offer.instance}" + (f" ({size} GPUs)" if len(counts) > 1 or self.offer.rentable_counts
                                                  else "") for size, n in sorted(counts.items(), reverse=True)]
        return " + ".join(parts)


def linked_gpus(offer: Offer, gpu: Gpu, size: int) -> int:
    """GPUs one scale-up link joins inside a machine of ``size`` GPUs of this offer."""
    if offer.linked_gpus is not None:
        return min(offer.linked_gpus, size)
    return min(gpu.interconnect.domain_gpus or 1, size)


def group_fits(offer: Offer, gpu: Gpu, tp: int, pp: int, size: int) -> bool:
    """Whether one TP x PP group fits a machine of ``size`` GPUs with its TP inside the link
    (over PCIe, for a GPU whose entry has no scale-up link, the performance model times it so)."""
    if tp * pp > size:
        return False
    pcie_only = (gpu.interconnect.domain_gpus or 1) == 1
    return pcie_only or tp <= linked_gpus(offer, gpu, size)


def machines_for(offer: Offer, gpu: Gpu, tp: int, pp: int, replicas: int, pricing: Pricing = "on_demand",
                 max_gpus: int | None = None) -> Machines | None:
    """The cheapest machines of ``offer`` that hold ``replicas`` groups of ``tp x pp`` GPUs, or
    None when the offer has no price under ``pricing``, no machine holds one group, or more than
    ``max_gpus`` GPUs would be rented."""
    per_gpu = offer.gpu_hour_usd(pricing)
    if per_gpu is None or replicas < 1:
        return None
    group = tp * pp
    sizes = [s for s in offer.counts() if group_fits(offer, gpu, tp, pp, s)]
    if not sizes:
        return None
    largest = sizes[-1]
    per_largest = largest // group
    full, rest = divmod(replicas, per_largest)
    chosen = [largest] * full
    if rest:
        chosen.append(next(s for s in sizes if s // group >= rest))
    total = sum(chosen)
    if max_gpus is not None and total > max_gpus:
        return None
    held = sum(s // group for s in chosen)
    return Machines(offer, tuple(chosen), per_gpu * total, held)


def price_age_days(offer: Offer, today: dt.date) -> int:
    """Days since the offer's price was checked."""
    return (today - offer.checked).days


def is_stale(offer: Offer, today: dt.date) -> bool:
    """Whether the price is older than `STALE_AFTER_DAYS`."""
    return price_age_days(offer, today) > STALE_AFTER_DAYS
