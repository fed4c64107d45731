// Top-p, top-k and min-p filter: temperature and the three truncation filters applied, in an engine's
// order, to a made-up next-token distribution (the math is in ../sampling.js, tested under node).
import { applyFilters, ORDERS, SHAPES, settingsProblems } from "../sampling.js";
import { fillSelect, fmt, headed, mountTool, replaceable, startTool, wireForm } from "../data.js";

const NAMES = { min_p: "min-p", top_k: "top-k", top_p: "top-p", greedy: "greedy decoding" };

/** A probability as a percentage with two decimals ("0.35 %"). */
function pct(p) {
  return `${fmt(p * 100, 2)} %`;
}

/** A table cell with a number and a bar of width p (role presentation: the number says it). */
function barCell(row, p, out, extra = "") {
  const td = row.insertCell();
  td.className = "num prob-cell";
  const label = document.createElement("span");
  label.textContent = pct(p);
  const bar = document.createElement("div");
  bar.className = `bar ${extra}`;
  bar.setAttribute("role", "presentation");
  bar.style.setProperty("width", `${Math.max(p > 0 ? 1 : 0, p * 100)}%`);
  td.append(label, bar);
  td.dataset.out = out;
  td.dataset.value = String(p);
  return td;
}

/** What each filter does with its setting, in words (null when it is off). */
function filterWords(name, s) {
  if (name === "top_k") return s.topK > 0 ? `top-k ${s.topK} keeps the ${s.topK} most likely` : null;
  if (name === "top_p") return s.topP < 1 ? `top-p ${fmt(s.topP, 3)} keeps the most likely until their mass reaches ${fmt(s.topP, 3)}` : null;
  return s.minP > 0 ? `min-p ${fmt(s.minP, 3)} drops tokens under ${fmt(s.minP, 3)} × the top token's probability` : null;
}

function table(shape, result) {
  const t = headed(["Token", "Logit", "After temperature", "Removed by", "Sampled from"]);
  t.className = "sampling-table";
  const body = t.createTBody();
  shape.tokens.forEach((token, i) => {
    const row = body.insertRow();
    const removed = result.removedBy[i];
    row.className = removed ? "removed" : "kept";
    const th = document.createElement("th");
    th.scope = "row";
    const code = document.createElement("code");
    code.textContent = JSON.stringify(token);
    th.append(code);
    row.append(th);
    const logit = row.insertCell();
    logit.className = "num";
    logit.textContent = fmt(shape.logits[i], 2);
    barCell(row, result.tempered[i], `tempered-${i}`, "bar-before");
    const by = row.insertCell();
    by.textContent = removed ? NAMES[removed] : "–";
    if (removed) by.className = "filter-removed";
    const last = barCell(row, result.final[i], `final-${i}`);
    last.dataset.removedBy = removed ?? "";
  });
  return t;
}

async function init(root) {
  const tool = await startTool(root, "sampling-filter");
  if (!tool) return;
  const { form, out, guard } = tool;
  fillSelect(form.elements.shape, Object.entries(SHAPES).map(([value, s]) => ({ value, label: s.label })),
    "peaked");
  const figures = replaceable(root, "filter");
  const update = guard(() => {
    const f = form.elements;
    const shape = SHAPES[f.shape.value];
    const order = ORDERS[f.order.value];
    const read = (name) => (f[name].value.trim() === "" ? NaN : Number(f[name].value));
    const settings = { temperature: read("temperature"), topK: read("top_k"), topP: read("top_p"),
      minP: read("min_p") };
    const problems = settingsProblems(settings);
    if (problems.length) {
      figures.refuse("An engine rejects these settings (vLLM checks them when the request arrives):", problems);
      return;
    }
    figures.show();
    const r = applyFilters(shape.logits, settings, order);
    out("context").textContent = shape.context;
    out("kept").textContent = `${r.kept} of ${shape.tokens.length}`;
    out("kept").dataset.value = String(r.kept);
    out("mass").textContent = pct(r.keptMass);
    out("mass").dataset.value = String(r.keptMass);
    out("table").replaceChildren(table(shape, r));
    if (r.greedy) {
      out("explain").textContent = "Temperature 0 means greedy decoding: the engine takes the most likely token "
        + "every time, so top-k, top-p and min-p change nothing (vLLM treats any temperature under 0.00001 this "
        + "way; in transformers you set do_sample=False instead, as it refuses a temperature of 0).";
      return;
    }
    const active = order.map((n) => filterWords(n, settings)).filter(Boolean);
    const temp = settings.temperature === 1 ? "Temperature 1 leaves the logits as they are"
      : settings.temperature < 1 ? `Temperature ${fmt(settings.temperature, 3)} sharpens the distribution`
        : `Temperature ${fmt(settings.temperature, 3)} flattens the distribution`;
    out("explain").textContent = `${temp}. `
      + (active.length ? `Then, in this order, ${active.join("; ")}. ` : "No filter is on: every token can be drawn. ")
      + `The ${r.kept} tokens left hold ${pct(r.keptMass)} of the probability; dividing each by that mass `
      + `(×${fmt(1 / r.keptMass, 3)}) gives the distribution the engine draws from.`;
  });
  wireForm(form, update);
}

mountTool("sampling-filter", init);
