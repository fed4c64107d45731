"""GPU rental offers and owned hardware: what one machine of a given GPU costs per hour."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import EntryBase, EntryId, NoteText, Ref, ShortText, SourceId, Strict

UsdPerHour = Annotated[float, Field(gt=0, le=100_000)]
"""A price in US dollars per hour: more than 0, at most 100,000."""


class Ownership(Strict):
    """Owned hardware as an amortised hourly cost: the purchase spread over its life, plus
    power and hosting. The planner adds these up into ``usd_per_hour``."""

    purchase_usd: float = Field(gt=0, le=1_000_000_000)
    """What the whole machine cost, in US dollars."""
    amortise_years: float = Field(gt=0, le=20)
    """Years the purchase is spread over (straight line, running around the clock)."""
    power_kw: float = Field(default=0, ge=0, le=1000)
    """Average draw of the whole machine in kW."""
    usd_per_kwh: float = Field(default=0, ge=0, le=10)
    """Electricity price per kWh, cooling included."""
    hosting_usd_per_hour: float = Field(default=0, ge=0, le=100_000)
    """Rack space, network and staff per hour."""

    def usd_per_hour(self) -> float:
        """The amortised cost of running the machine for one hour."""
        hours = self.amortise_years * 365.25 * 24
        return self.purchase_usd / hours + self.power_kw * self.usd_per_kwh + self.hosting_usd_per_hour


class Offer(EntryBase):
    """One machine you can rent (or own) with its GPUs and price: an instance type at a
    cloud provider, a GPU cloud's node, or a private price layered in with ``--kb``.
    Prices are for the region named and on the date checked."""

    provider: ShortText
    """Who rents it out, e.g. "AWS", "Lambda"; for owned hardware, the owner."""
    provider_kind: Literal["hyperscaler", "gpu-cloud", "marketplace", "owned"]
    """A major cloud, a GPU cloud, a marketplace of third-party hosts, or owned hardware."""
    instance: ShortText
    """The instance type or product name as the provider lists it, e.g. "p5.48xlarge"."""
    gpu: Annotated[EntryId, Ref(("gpus",), "offers")]
    """The GPU in the machine."""
    gpu_count: int = Field(ge=1, le=1024)
    """GPUs in one machine."""
    rentable_counts: tuple[Annotated[int, Field(ge=1, le=1024)], ...] = ()
    """Smaller GPU counts the provider also rents at the same per-GPU price (quoted_per:
    gpu); empty when only the whole machine is rented."""
    linked_gpus: int | None = Field(default=None, ge=1, le=1024)
    """GPUs joined by the scale-up link inside the machine (NVLink, Infinity Fabric);
    1 for PCIe-only machines. None: the GPU entry's domain, capped at gpu_count."""
    quoted_per: Literal["instance", "gpu"]
    """Whether the prices below are for the whole machine or per GPU, as the source prints them."""
    on_demand_usd_per_hour: UsdPerHour | None = None
    """On-demand (pay as you go) price, as quoted."""
    reserved_usd_per_hour: UsdPerHour | None = None
    """Effective hourly price with a commitment (``reserved_term``), as quoted."""
    reserved_term: ShortText | None = None
    """The commitment behind ``reserved_usd_per_hour``, e.g. "1 year, no upfront"."""
    spot_usd_per_hour: UsdPerHour | None = None
    """Spot or preemptible price, as quoted (it changes often)."""
    ownership: Ownership | None = None
    """For owned hardware instead of a price: the purchase and running costs."""
    region: ShortText
    """Region or location the price applies to, e.g. "us-east-1"."""
    checked: dt.date
    """Date the price is known to have been current: the date the source prints for its
    prices (or its publication date). Prices older than the planner's limit are flagged stale."""
    source: SourceId
    """The price list or page the price was read from."""
    locator: ShortText | None = None
    """Where in the source: table row, section or filter used."""
    notes: NoteText | None = None

    @model_validator(mode="after")
    def _one_price(self) -> Offer:
        quoted = self.on_demand_usd_per_hour or self.reserved_usd_per_hour or self.spot_usd_per_hour
        if quoted is None and self.ownership is None:
            raise ValueError("give a price (on_demand_usd_per_hour, reserved_usd_per_hour or "
                             "spot_usd_per_hour) or, for owned hardware, ownership")
        if quoted is not None and self.ownership is not None:
            raise ValueError("give either quoted prices or ownership, not both")
        if (self.reserved_usd_per_hour is None) != (self.reserved_term is None):
            raise ValueError("reserved_usd_per_hour and reserved_term go together")
        if self.ownership is not None and self.provider_kind != "owned":
            raise ValueError("ownership is for provider_kind: owned")
        if self.rentable_counts and self.quoted_per != "gpu":
            raise ValueError("rentable_counts need a per-GPU price (quoted_per: gpu)")
        if any(n >= self.gpu_count for n in self.rentable_counts):
            raise ValueError("rentable_counts are smaller than gpu_count")
        if self.linked_gpus is not None and self.linked_gpus > self.gpu_count:
            raise ValueError("linked_gpus cannot exceed gpu_count")
        return self

    def gpu_hour_usd(self, price: Literal["on_demand", "reserved", "spot"] = "on_demand") -> float | None:
        """Price of one GPU for one hour under the given pricing, or None when not published."""
        if self.ownership is not None:
            return self.ownership.usd_per_hour() / self.gpu_count
        quoted = {"on_demand": self.on_demand_usd_per_hour, "reserved": self.reserved_usd_per_hour,
                  "spot": self.spot_usd_per_hour}[price]
        if quoted is None:
            return None
        return quoted if self.quoted_per == "gpu" else quoted / self.gpu_count

    def counts(self) -> tuple[int, ...]:
        """GPU counts one machine of this offer can be rented with, smallest first."""
        return tuple(sorted({*self.rentable_counts, self.gpu_count}))
