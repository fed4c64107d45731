// Deployment planner: `inferbook plan` in the browser (plan.js): the cheapest configurations that serve a
// workload within latency targets, as a cost-latency frontier with each row's error band and basis, and the
// commands that launch and benchmark the cheapest. The settings live in the URL (wireForm), so a plan can be
// shared; the ticked GPUs are the field `gpus` (left out while every GPU is ticked). Disaggregated serving
// needs predict_more.js, which is loaded the first time its box is ticked.
import { pyPercent } from "../calc.js";
import {
  deployment, describeCandidate, describeShape, kbOrder, localToday, plan, tpotAt, ttftAt,
  usdPerMillion,
} from "../plan.js";
import {
  fillSelect, fmt, headed, modelsByTitle, mountTool, replaceable, siteRoot, startTool, wireForm,
} from "../data.js";

const SHOWN_REJECTIONS = 12;
const SETTLE_MS = 200; // a search takes a fraction of a second: wait for the typing to pause

function ms(s) {
  return s === null ? "–" : `${fmt(s * 1e3, s < 0.01 ? 1 : 0)} ms`;
}

function cell(row, text, { num = false, out = null, value = null } = {}) {
  const td = row.insertCell();
  if (text instanceof Node) td.append(text);
  else td.textContent = text;
  if (num) td.className = "num";
  if (out) td.dataset.out = out;
  if (value !== null) td.dataset.value = String(value);
  return td;
}

function offerLink(offer) {
  const a = document.createElement("a");
  a.href = `${siteRoot()}entries/offers/${offer.id}.html`;
  a.textContent = `${offer.provider} ${offer.instance}`;
  return a;
}

/** The frontier as a table: one row per configuration, cheapest first. */
function frontierTable(result) {
  const q = result.targets.percentile;
  const { isl, osl } = result.workload;
  const t = headed(["USD/h", "$/M input", "$/M output", `p${q} TTFT`, `p${q} TPOT`, "Band", "Basis", "Configuration",
    "Offer (price checked)", "Stale"]);
  t.className = "fit-table"; // one line per configuration; the table scrolls sideways
  const body = t.createTBody();
  result.frontier.forEach((c, i) => {
    const row = body.insertRow();
    const [usdIn, usdOut] = usdPerMillion(c, isl, osl);
    const band = c.prediction.error_band?.throughput;
    cell(row, fmt(c.machines.usd_per_hour, 2), { num: true, out: i === 0 ? "best-usd" : null,
      value: c.machines.usd_per_hour });
    cell(row, fmt(usdIn, 3), { num: true });
    cell(row, fmt(usdOut, 3), { num: true });
    cell(row, ms(ttftAt(c, q)), { num: true, value: ttftAt(c, q) });
    cell(row, ms(tpotAt(c, q)), { num: true, value: tpotAt(c, q) });
    cell(row, band ? `±${pyPercent(band.median_abs_error)}` : "n/a", { num: true });
    cell(row, c.prediction.basis);
    cell(row, describeCandidate(c));
    const offer = document.createElement("span");
    offer.append(offerLink(c.machines.offer), `, ${c.machines.offer.region}, ${c.machines.offer.checked}`);
    cell(row, offer);
    cell(row, c.stale_price ? "stale" : "");
  });
  return t;
}

function codeBlock(lines) {
  const pre = document.createElement("pre");
  const code = document.createElement("code");
  code.textContent = lines.join("\n");
  pre.append(code);
  return pre;
}

async function init(root) {
  const tool = await startTool(root, "deployment-planner");
  if (!tool) return;
  const { form, out, guard, fail, data } = tool;
  const f = form.elements;
  const models = modelsByTitle(data);
  fillSelect(f.model, models.map((m) => ({ value: m.id, label: m.title })), "llama-3.1-70b-instruct");

  // one checkbox per GPU that has an offer (under any pricing), every one ticked unless the URL names some
  const offered = new Set(Object.values(data.offers).map((o) => o.gpu));
  const gpus = Object.values(data.gpus).filter((g) => offered.has(g.id)).sort((a, b) => a.title.localeCompare(b.title));
  form.querySelector("[data-gpus]").replaceChildren(...gpus.map((g) => {
    const label = document.createElement("label");
    label.className = "check";
    const input = Object.assign(document.createElement("input"), { type: "checkbox", name: "gpus", value: g.id,
      checked: true });
    input.dataset.gpu = g.id;
    label.append(input, g.title);
    return label;
  }));
  const ticked = () => [...form.querySelectorAll("[data-gpus] input")].filter((i) => i.checked).map((i) => i.dataset.gpu);

  const whole = replaceable(root, "plan");
  /** @type {import("../predict.js").PredictMore | null} */
  let more = null; // predict_more.js's extensions, once disaggregated serving has been asked for
  const search = guard(() => {
    const num = (name) => Number(f[name].value);
    const byUsers = f.load.value === "users";
    for (const el of form.querySelectorAll("[data-when]")) el.hidden = el.dataset.when !== f.load.value;
    const chosen = ticked();
    const all = chosen.length === gpus.length;
    out("gpu-count").textContent = all ? "all with an offer" : `${chosen.length} of ${gpus.length}`;
    if (!chosen.length) throw new Error("tick at least one GPU");
    const workload = { isl: Math.round(num("isl")), osl: Math.round(num("osl")) };
    if (byUsers) {
      Object.assign(workload, { users: Math.round(num("users")), think_time_s: num("think") });
      if (!(workload.think_time_s >= 0)) throw new Error("the think time cannot be negative");
    } else workload.rate = num("rate");
    const targets = { ttft_s: num("ttft"), tpot_s: num("tpot"), percentile: num("percentile") };
    const space = { gpus: all ? [] : kbOrder(chosen), max_gpus: Math.round(num("maxgpus")), engines: [f.engine.value],
      pricing: f.pricing.value, disaggregation: f.disagg.checked };
    const result = plan(data, [f.model.value], workload, targets, space, localToday(), more);
    const pricing = f.pricing.value.replace("_", "-");
    out("counts").textContent = `${fmt(result.shapes, 0)} configurations screened, ${result.simulated.length} `
      + `simulated, ${result.frontier.length} on the cost-latency frontier.`;
    out("counts").dataset.value = String(result.shapes);
    out("stale").textContent = result.stale_offers.length
      ? `Stale prices (checked more than six months ago): ${result.stale_offers.join(", ")}.` : "";
    out("unpriced-count").textContent = `${result.unpriced.length} GPU(s) without ${pricing === "on-demand" ? "an" : "a"} `
      + `${pricing} offer (not searched)`;
    out("unpriced").textContent = result.unpriced.join(", ") || "none";
    // the GPUs without an offer come first in `rejected` and are listed on their own below
    const ruledOut = result.rejected.slice(result.unpriced.length);
    const reasons = ruledOut.slice(0, SHOWN_REJECTIONS).map((r) => `${r.what}: ${r.reason}`);
    if (ruledOut.length > SHOWN_REJECTIONS) reasons.push(`… ${ruledOut.length - SHOWN_REJECTIONS} more`);
    if (!ruledOut.length) reasons.push("no GPU in the search has an offer at these prices");
    if (!result.frontier.length) {
      whole.refuse("No configuration meets the targets:", reasons);
      return;
    }
    whole.show();
    out("frontier").replaceChildren(frontierTable(result));
    const best = result.frontier[0];
    const block = deployment(data, best, result.workload, result.targets);
    const offer = best.machines.offer;
    out("best").textContent = `${describeCandidate(best)} — ${offer.provider} ${offer.instance}, ${offer.region}, `
      + `price checked ${offer.checked}${best.stale_price ? " (stale)" : ""}.`;
    const launch = [];
    for (const [engine, commands] of Object.entries(block.launch)) {
      const head = Object.assign(document.createElement("p"), { textContent: `Launch with ${engine}:` });
      launch.push(head, codeBlock(commands));
    }
    if (block.tensorrt_llm_extra_yaml) {
      launch.push(Object.assign(document.createElement("p"), { textContent: "TensorRT-LLM extra.yaml:" }),
        codeBlock([block.tensorrt_llm_extra_yaml.trimEnd()]));
    }
    if (!launch.length) {
      launch.push(Object.assign(document.createElement("p"), { className: "note",
        textContent: `No launch command is written for ${best.shape.engine}.` }));
    }
    out("launch").replaceChildren(...launch);
    out("disagg-note").hidden = !block.disaggregation;
    out("disagg-note").textContent = block.disaggregation ? `Two pools: ${block.disaggregation}.` : "";
    out("bench").textContent = block.benchmark.join("\n");
    out("rejected-count").textContent = `${fmt(ruledOut.length, 0)} configuration(s)`
      + (ruledOut.length > SHOWN_REJECTIONS ? ` (the first ${SHOWN_REJECTIONS} with their reasons)` : "");
    out("rejected").replaceChildren(...reasons.map((r) => Object.assign(document.createElement("li"),
      { className: "finding-note", textContent: r })));
    out("frontier").dataset.value = String(result.frontier.length);
    out("best").dataset.value = describeShape(best.shape);
  });
  const update = () => {
    if (f.disagg.checked && more === null) {
      form.dataset.ready = "false";
      import("../predict_more.js").then((m) => {
        more = m.MORE;
        search();
      }, fail);
      return;
    }
    search();
  };

  let timer = null;
  const schedule = () => {
    form.dataset.ready = "false";
    clearTimeout(timer);
    timer = setTimeout(update, SETTLE_MS);
  };
  wireForm(form, schedule, { runNow: false });
  update();
}

mountTool("deployment-planner", init);
