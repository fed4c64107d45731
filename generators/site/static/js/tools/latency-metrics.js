// Latency metrics playground: TTFT, TPOT, ITL, E2E latency, percentiles, throughput and goodput of edited requests.
import { summarize } from "../calc.js";
import { fmt, headed, mountTool, plainMessage, toolShell, wireForm } from "../data.js";

const SAMPLES = {
  requests: `# arrival, first token, finish, input tokens, output tokens (seconds)
0.00, 0.21, 4.10, 512, 200
0.40, 0.55, 4.60, 300, 150
1.10, 1.62, 7.30, 2048, 250
1.50, 1.71, 2.80, 128, 60
2.30, 3.05, 9.80, 1024, 300
2.90, 3.12, 5.00, 700, 100`,
  tokens: `# arrival, input tokens, then the time of every output token (seconds)
0.00, 512, 0.21, 0.23, 0.25, 0.27, 0.29, 0.31, 0.33, 0.35
0.40, 300, 0.55, 0.58, 0.62, 0.65, 0.69, 0.72
1.10, 2048, 1.62, 1.64, 1.66, 1.68, 1.70, 1.72, 1.74
1.50, 128, 1.71, 1.73, 1.75, 1.77, 1.79
2.30, 1024, 3.05, 3.07, 3.09, 3.11, 3.13, 3.15, 3.17, 3.19, 3.21
2.90, 700, 3.12, 3.14, 3.16, 3.18, 3.20, 3.23`,
};

const METRICS = [
  ["ttft", "TTFT", "arrival → first token"],
  ["tpot", "TPOT", "mean gap per output token of each request"],
  ["itl", "ITL", "every gap between consecutive tokens"],
  ["e2el", "E2E latency", "arrival → last token"],
];
const STATS = ["mean", "p50", "p90", "p99", "max"];

function ms(seconds) {
  return Number.isFinite(seconds) ? fmt(seconds * 1e3, 1) : "–";
}

/**
 * One request as calc.js `summarize` reads it (Python's RequestRecord field names), and its input line.
 * @typedef {{arrival: number, first_token: number, finish: number, input_tokens: number, output_tokens: number,
 *   token_times?: number[], line?: number}} RequestRecord
 */

/**
 * Request records (Python field names) from the textarea; errors name the line.
 * @returns {RequestRecord[]}
 */
export function parseRequests(text, mode) {
  const records = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) return;
    const values = line.split(/[\s,;]+/).filter(Boolean).map(Number);
    const where = `line ${index + 1}`;
    if (values.some((v) => !Number.isFinite(v))) throw new Error(`${where}: every field must be a number`);
    /** @type {RequestRecord} */
    let rec;
    if (mode === "tokens") {
      if (values.length < 3) throw new Error(`${where}: need arrival, input tokens and at least one token time`);
      const times = values.slice(2);
      if (times.some((t, i) => i > 0 && t < times[i - 1])) throw new Error(`${where}: token times must not decrease`);
      rec = { arrival: values[0], first_token: times[0], finish: times[times.length - 1], input_tokens: values[1],
        output_tokens: times.length, token_times: times };
    } else {
      if (values.length !== 5) throw new Error(`${where}: need 5 fields, found ${values.length}`);
      const [arrival, first, finish, input, output] = values;
      rec = { arrival, first_token: first, finish, input_tokens: input, output_tokens: output };
    }
    if (!Number.isInteger(rec.input_tokens) || !Number.isInteger(rec.output_tokens)) {
      throw new Error(`${where}: token counts must be whole numbers`);
    }
    try {
      summarize([rec]); // validates the record the way Python's RequestRecord does
    } catch (err) {
      if (!/duration/.test(err.message)) throw new Error(`${where}: ${plainMessage(err.message)}`);
    }
    rec.line = index + 1;
    records.push(rec);
  });
  if (!records.length) throw new Error("enter at least one request");
  return records;
}

function cell(tr, text, out, value) {
  const td = tr.insertCell();
  td.textContent = text;
  td.className = "num";
  if (out) {
    td.dataset.out = out;
    td.dataset.value = String(value);
  }
  return td;
}

function summaryTable(s) {
  const t = headed(["Metric (ms)", "Mean", "P50", "P90", "P99", "Max", "Values"]);
  const body = t.createTBody();
  for (const [key, label, what] of METRICS) {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = label;
    th.title = what;
    tr.append(th);
    for (const stat of STATS) cell(tr, ms(s[key][stat]), `${key}-${stat}`, s[key][stat]);
    cell(tr, fmt(s[key].count, 0), `${key}-count`, s[key].count);
  }
  return t;
}

function requestTable(records, slo, average, includeFirst) {
  const t = headed(["Request (line)", "TTFT (ms)", "TPOT (ms)", "E2E (ms)", "Output tokens", "Meets SLOs"]);
  const body = t.createTBody();
  records.forEach((rec, i) => {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = `${i + 1} (${rec.line})`;
    tr.append(th);
    let one = null;
    try {
      one = summarize([rec], slo, average, includeFirst);
    } catch {
      // zero-length request: no per-request rates
    }
    cell(tr, one ? ms(one.ttft.mean) : ms(rec.first_token - rec.arrival));
    cell(tr, one ? ms(one.tpot.mean) : "–");
    cell(tr, one ? ms(one.e2el.mean) : "–");
    cell(tr, fmt(rec.output_tokens, 0));
    const met = one && slo ? one.sloAttainment === 1 : null;
    const td = tr.insertCell();
    td.textContent = met === null ? "–" : met ? "yes" : "no";
    td.className = met === null ? "" : met ? "fits-yes" : "fits-no";
  });
  return t;
}

function init(root) {
  const form = root.querySelector("form[data-tool='latency-metrics']");
  if (!form) return;
  const { out, guard } = toolShell(root, form);
  const f = form.elements;
  const first = f.mode.value;
  f.requests.value = SAMPLES[first];
  let mode = null; // the input format of the last update
  const render = guard(() => {
    const records = parseRequests(f.requests.value, f.mode.value);
    const limit = (name, scale) => (f[name].value.trim() === "" ? null : Number(f[name].value) * scale);
    for (const [name, words] of [["slo_ttft", "TTFT"], ["slo_tpot", "TPOT"], ["slo_e2el", "E2E latency"]]) {
      if (!(limit(name, 1) === null || limit(name, 1) >= 0)) throw new Error(`the ${words} SLO must not be negative`);
    }
    const slo = { ttft: limit("slo_ttft", 1e-3), tpot: limit("slo_tpot", 1e-3), e2el: limit("slo_e2el", 1) };
    const anySlo = slo.ttft !== null || slo.tpot !== null || slo.e2el !== null;
    const average = f.average.value;
    const includeFirst = f.include_first.checked;
    const s = summarize(records, anySlo ? slo : null, average, includeFirst);
    const set = (name, text, value) => {
      out(name).textContent = text;
      out(name).dataset.value = String(value);
    };
    set("goodput", anySlo ? `${fmt(s.goodput, 3)} req/s` : "– (no SLO)", s.goodput);
    set("attainment", anySlo ? `${fmt(s.sloAttainment * 100, 1)} %` : "–", s.sloAttainment);
    set("req-throughput", `${fmt(s.requestThroughput, 3)} req/s`, s.requestThroughput);
    set("tok-throughput", `${fmt(s.outputTokenThroughput, 1)} output tokens/s `
      + `(${fmt(s.totalTokenThroughput, 1)} with input)`, s.outputTokenThroughput);
    out("summary").replaceChildren(summaryTable(s));
    const notes = [`${fmt(s.requests, 0)} requests over ${fmt(s.durationS, 3)} s (first arrival to last finish).`,
      includeFirst ? "TPOT here is E2E latency ÷ output tokens, so it includes the wait for the first token."
        : "TPOT excludes the first token: (finish − first token) ÷ (output tokens − 1).",
      s.itl.count ? "ITL comes from the per-token timestamps."
        : average === "token" ? "Without token timestamps, ITL falls back to the token-weighted TPOT."
          : "ITL needs per-token timestamps (switch the input format) or token averaging.",
      anySlo ? "Goodput counts requests per second that meet every SLO you set." : ""];
    out("explain").textContent = notes.join(" ");
    out("per-request").replaceChildren(requestTable(records, anySlo ? slo : null, average, includeFirst));
  });
  const update = () => {
    // a new input format starts from its sample; on the first update (after the address restored the
    // settings) only when the requests are still the first format's sample
    if (mode === null ? f.requests.value === SAMPLES[first] : f.mode.value !== mode) {
      f.requests.value = SAMPLES[f.mode.value];
    }
    mode = f.mode.value;
    render();
  };
  form.querySelector("[data-action='sample']").addEventListener("click", () => {
    f.requests.value = SAMPLES[f.mode.value];
    f.requests.dispatchEvent(new Event("input", { bubbles: true })); // an edit: update and address
  });
  wireForm(form, update);
}

mountTool("latency-metrics", init);
