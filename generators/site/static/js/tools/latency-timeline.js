// Animated latency timeline: a few requests arrive, queue, prefill and decode on one model and GPU under
// continuous batching (calc.js `simulate` on the roofline step model), drawn as one swimlane per request with
// a time cursor that plays, pauses and steps from event to event. The figures are the simulator's records.
import { checkSetup, chosenWeights, engineProfile, simItl, simulate, workload } from "../calc.js";
import { Roofline, stepModel } from "../roofline.js";
import {
  fillSelect, fmt, formatOptions, headed, modelsByTitle, mountTool, replaceable, rooflineGpus, showNotes, startTool,
  svgEl, wireForm,
} from "../data.js";

const NAME = "latency-timeline";
const MAX_REQUESTS = 12;
const MAX_OUTPUT = 4096;
const W = 800;
const LEFT = 46;
const RIGHT = 14;
const TOP = 12;
const ROW = 30;
const BAR = 18;
const AXIS = 40;
const PHASES = [["queue", "Queue"], ["prefill", "Prefill"], ["decode", "Decode"]];

/** Seconds as "12.3 ms" or "1.234 s". */
function dur(s) {
  if (!Number.isFinite(s)) return "–";
  return s < 1 ? `${fmt(s * 1e3, 1)} ms` : `${fmt(s, 3)} s`;
}

function niceStep(max, ticks) {
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || p * 10;
}

/** The arrival times typed in the times field, ascending. */
function parseTimes(text) {
  const parts = text.split(/[\s,;]+/).filter((p) => p !== "");
  if (!parts.length) throw new Error("list at least one arrival time");
  if (parts.length > MAX_REQUESTS) throw new Error(`list at most ${MAX_REQUESTS} arrival times`);
  const times = parts.map((p) => Number(p));
  const bad = parts.find((p, i) => !(Number.isFinite(times[i]) && times[i] >= 0));
  if (bad !== undefined) throw new Error(`"${bad}" is not an arrival time in seconds (0 or more)`);
  return times.sort((a, b) => a - b);
}

/**
 * The clock at the start and at the end of every step of a continuous-batching run, rebuilt from its
 * records: a step starts where the last one ended while some request is in the system (arrived, not
 * finished), else at the next arrival, as the simulator's clock does (the same additions, so the floats
 * match exactly).
 */
function stepClock(records, durations) {
  const arrivals = records.map((r) => r.arrival).sort((a, b) => a - b);
  const starts = [];
  const ends = [];
  let clock = -Infinity;
  for (const d of durations) {
    const busy = records.some((r) => r.arrival <= clock && r.finish > clock);
    if (!busy) clock = arrivals.find((a) => a > clock);
    starts.push(clock);
    clock += d;
    ends.push(clock);
  }
  return { starts, ends };
}

/**
 * One lane per completed request: arrival, admission (start of prefill), first token, finish, the time of
 * each output token, and the latency figures. Admission comes from a second run of the same schedule in
 * closed-loop mode, where the simulator records each request as arriving when it was admitted.
 */
function lanesOf(requests, run, admittedRun, { starts, ends }) {
  const done = requests.map((r) => r.id).filter((id) => !run.rejected.includes(id)).sort((a, b) => a - b);
  return run.records.map((rec, k) => {
    const ticks = [rec.firstToken];
    for (const e of ends) if (e > rec.firstToken && e <= rec.finish) ticks.push(e);
    return {
      id: done[k], arrival: rec.arrival, admitted: admittedRun.records[k].arrival, first: rec.firstToken,
      finish: rec.finish, output: rec.outputTokens,
      ttft: rec.firstToken - rec.arrival, e2el: rec.finish - rec.arrival,
      itl: rec.outputTokens > 1 ? (rec.finish - rec.firstToken) / (rec.outputTokens - 1) : null,
      ticks: ticks.length === rec.outputTokens ? ticks : null, // a preempted request's ticks are not rebuilt
      // the first step that began after the request arrived: admitted later, it waited for room in the batch
      firstChance: starts.find((t) => t >= rec.arrival),
    };
  });
}

/** What happens at each distinct moment, in order: [{t, text}]. */
function eventsOf(lanes) {
  const at = new Map();
  const add = (t, text) => at.set(t, [...(at.get(t) ?? []), text]);
  for (const l of lanes) {
    const who = `request ${l.id + 1}`;
    if (l.admitted > l.arrival) {
      add(l.arrival, `${who} arrives and waits in the queue`);
      add(l.admitted, `${who} leaves the queue (waited ${dur(l.admitted - l.arrival)}) and starts prefill`);
    } else {
      add(l.arrival, `${who} arrives and starts prefill at once`);
    }
    add(l.first, `${who} gets its first token: TTFT ${dur(l.ttft)}`);
    if (l.finish > l.first) add(l.finish, `${who} finishes: E2E latency ${dur(l.e2el)}`);
    else add(l.first, `${who} finishes (one output token)`);
  }
  return [...at.entries()].sort((a, b) => a[0] - b[0]).map(([t, texts]) => ({ t, text: texts.join("; ") }));
}

/** Which phase a lane is in at time t. */
function phaseAt(l, t) {
  if (t < l.arrival) return "waiting to arrive";
  if (t < l.admitted) return "queued";
  if (t < l.first) return "prefilling";
  if (t < l.finish) return "decoding";
  return "done";
}

/** The swimlane chart; returns a `draw(t)` that moves the cursor and fills each lane up to it. */
function chart(container, lanes, end) {
  const H = TOP + lanes.length * ROW + AXIS;
  const span = W - LEFT - RIGHT;
  const x = (t) => LEFT + (t / end) * span;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "timeline lt-chart", role: "img",
    "aria-label": `Swimlanes of ${lanes.length} requests over ${dur(end)}: queue, prefill and decode of each; `
      + "the table below lists the same figures" });
  const text = (tx, ty, label, anchor, cls = "chart-text") => {
    const t = svgEl("text", { x: tx, y: ty, "text-anchor": anchor, class: cls });
    t.textContent = label;
    svg.append(t);
    return t;
  };
  const step = niceStep(end, 6);
  const base = TOP + lanes.length * ROW;
  for (let s = 0; s <= end + 1e-9; s += step) {
    svg.append(svgEl("line", { x1: x(s), x2: x(s), y1: TOP - 4, y2: base, class: "grid" }));
    text(x(s), base + 16, fmt(s, 3), "middle");
  }
  text(W - RIGHT, H - 4, "time (s)", "end");
  svg.append(svgEl("line", { x1: LEFT, x2: W - RIGHT, y1: base, y2: base, class: "axis" }));
  const parts = [];
  lanes.forEach((l, i) => {
    const y = TOP + i * ROW + (ROW - BAR) / 2;
    text(LEFT - 8, y + BAR / 2 + 5, `#${l.id + 1}`, "end");
    svg.append(svgEl("rect", { x: x(l.arrival), y, width: Math.max(x(l.finish) - x(l.arrival), 1), height: BAR,
      class: "lt-ghost" }));
    const bounds = { queue: [l.arrival, l.admitted], prefill: [l.admitted, l.first], decode: [l.first, l.finish] };
    for (const [key] of PHASES) {
      const [a, b] = bounds[key];
      if (!(b > a)) continue;
      const rect = svgEl("rect", { x: x(a), y, width: 0, height: BAR, class: `ph-${key}` });
      svg.append(rect);
      parts.push({ a, b, set: (t) => rect.setAttribute("width", String(Math.max(0, x(Math.min(t, b)) - x(a)))) });
    }
    // one tick per output token where they are at least 2.5 px apart, the first token taller
    const pitch = l.ticks && l.ticks.length > 1 ? (x(l.finish) - x(l.first)) / (l.ticks.length - 1) : Infinity;
    const ticks = l.ticks ? (pitch >= 2.5 ? l.ticks : [l.ticks[0]]) : [];
    ticks.forEach((t, k) => {
      const line = svgEl("line", { x1: x(t), x2: x(t), y1: k === 0 ? y - 4 : y + BAR - 7, y2: y + BAR + (k === 0 ? 4 : 0),
        class: k === 0 ? "lt-first" : "tick", visibility: "hidden" });
      svg.append(line);
      let shown = false;
      parts.push({ set: (now) => {
        if ((now >= t) !== shown) {
          shown = now >= t;
          line.setAttribute("visibility", shown ? "visible" : "hidden");
        }
      } });
    });
  });
  const cursor = svgEl("line", { x1: LEFT, x2: LEFT, y1: TOP - 8, y2: base + 4, class: "lt-cursor" });
  svg.append(cursor);
  const legend = document.createElement("ul");
  legend.className = "legend";
  for (const [key, label] of [...PHASES, ["first", "First token"], ["tick", "Later tokens (ticks)"]]) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = `swatch ph-${key} lt-swatch-${key}`;
    li.append(sw, label);
    legend.append(li);
  }
  container.replaceChildren(svg, legend);
  return (t) => {
    for (const p of parts) p.set(t);
    cursor.setAttribute("x1", String(x(t)));
    cursor.setAttribute("x2", String(x(t)));
  };
}

function requestTable(lanes, means) {
  const t = headed(["Request", "Arrival (s)", "Queue", "TTFT", "Mean ITL", "E2E latency"]);
  const body = t.createTBody();
  const cell = (tr, value, text, out) => {
    const td = tr.insertCell();
    td.className = "num";
    td.textContent = text;
    if (out) {
      td.dataset.out = out;
      td.dataset.value = String(value);
    }
  };
  for (const l of lanes) {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = `#${l.id + 1}`;
    tr.append(th);
    cell(tr, l.arrival, fmt(l.arrival, 3), `arrival-${l.id}`);
    cell(tr, l.admitted - l.arrival, dur(l.admitted - l.arrival), `queue-${l.id}`);
    cell(tr, l.ttft, dur(l.ttft), `ttft-${l.id}`);
    cell(tr, l.itl, l.itl === null ? "– (one token)" : dur(l.itl), `itl-${l.id}`);
    cell(tr, l.e2el, dur(l.e2el), `e2el-${l.id}`);
  }
  const foot = t.createTFoot().insertRow();
  const th = document.createElement("th");
  th.scope = "row";
  th.textContent = "Mean";
  foot.append(th);
  for (const v of [null, means.queue, means.ttft, means.itl, means.e2el]) cell(foot, v, v === null ? "" : dur(v));
  return t;
}

const mean = (values) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

async function init(root) {
  const tool = await startTool(root, NAME);
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const f = form.elements;
  const models = modelsByTitle(data);
  fillSelect(f.model, models.map((m) => ({ value: m.id, label: m.title })),
    data.models["llama-3.1-8b-instruct"] ? "llama-3.1-8b-instruct" : models[0].id);
  const gpus = rooflineGpus(data);
  fillSelect(f.gpu, gpus.map((g) => ({ value: g.id, label: g.label })), data.gpus["h100-sxm"] ? "h100-sxm" : gpus[0].id);
  fillSelect(f.format, formatOptions(data), "native");
  fillSelect(f.kv, Object.keys(data.kv_dtype_bits).map((d) => ({ value: d, label: d })), "bf16");

  const button = (key) => root.querySelector(`[data-lt="${key}"]`);
  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const player = { t: 0, end: 0, playing: false, frame: 0, last: 0, speed: 0.25, draw: null, lanes: [], events: [] };
  let lastKey = null;
  let autoplay = !reduced;
  let observer = null;

  const status = (t) => {
    const counts = new Map();
    for (const l of player.lanes) {
      const p = phaseAt(l, t);
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    return ["queued", "prefilling", "decoding", "done"].map((p) => `${counts.get(p) ?? 0} ${p}`).join(" · ");
  };
  const setCursor = (t) => {
    player.t = Math.min(Math.max(t, 0), player.end);
    if (player.draw) player.draw(player.t);
    out("cursor").textContent = `${fmt(player.t, 3)} s · ${status(player.t)}`;
    out("cursor").dataset.value = String(player.t);
  };
  const announce = (text) => { out("event").textContent = text; };
  const pause = () => {
    cancelAnimationFrame(player.frame);
    player.playing = false;
    button("play").textContent = "Play";
  };
  const frame = (now) => {
    const dt = (now - player.last) / 1000;
    player.last = now;
    setCursor(player.t + dt * player.speed);
    if (player.t >= player.end) {
      pause();
      announce(`End of the run at ${fmt(player.end, 3)} s: every request has finished.`);
    } else {
      player.frame = requestAnimationFrame(frame);
    }
  };
  const play = () => {
    if (player.t >= player.end) setCursor(0);
    player.playing = true;
    button("play").textContent = "Pause";
    announce(`Playing at ${fmt(player.speed, 2)} × real time.`);
    player.last = performance.now();
    player.frame = requestAnimationFrame(frame);
  };
  const stopAutoplay = () => {
    autoplay = false;
    if (observer) observer.disconnect();
    observer = null;
  };
  button("play").addEventListener("click", () => {
    stopAutoplay();
    if (player.playing) {
      pause();
      announce(`Paused at ${fmt(player.t, 3)} s: ${status(player.t)}.`);
    } else {
      play();
    }
  });
  button("step").addEventListener("click", () => {
    stopAutoplay();
    pause();
    const next = player.events.find((e) => e.t > player.t + 1e-12);
    if (!next) {
      setCursor(player.end);
      announce(`End of the run at ${fmt(player.end, 3)} s.`);
      return;
    }
    setCursor(next.t);
    announce(`${fmt(next.t, 3)} s: ${next.text}.`);
  });
  button("reset").addEventListener("click", () => {
    stopAutoplay();
    pause();
    setCursor(0);
    announce(`Back to t = 0: ${status(0)}.`);
  });

  const setup = replaceable(root, "setup");
  const render = () => {
    const mode = f.arrivals.value;
    for (const label of form.querySelectorAll("[data-lt-when]")) {
      const when = label.dataset.ltWhen;
      label.hidden = !(when === mode || (when === "rate" && mode !== "times"));
    }
    player.speed = Number(f.speed.value) || 0.25;
    const key = [...new FormData(form).entries()].filter(([k]) => k !== "speed").map(([k, v]) => `${k}=${v}`).join("&");
    if (key === lastKey) return; // only the playback speed changed
    lastKey = null;
    pause();
    const model = data.models[f.model.value];
    const gpu = data.gpus[f.gpu.value];
    const { format: wfmt, groups } = chosenWeights(model, data.formats, f.format.value);
    const tp = Math.round(Number(f.tp.value));
    const kvBits = data.kv_dtype_bits[f.kv.value];
    const int = (name) => Math.round(Number(f[name].value));
    const prompt = int("prompt");
    const output = int("output");
    const maxBatch = int("max_batch");
    if (!(prompt >= 1 && output >= 1)) throw new Error("prompt and output must be at least 1 token");
    if (output > MAX_OUTPUT) throw new Error(`the output is capped at ${fmt(MAX_OUTPUT, 0)} tokens here`);
    if (!(maxBatch >= 1 && maxBatch <= 256)) throw new Error("the max batch must be between 1 and 256 sequences");
    const lengths = (mean) => ({ kind: "fixed", mean });
    let requests;
    if (mode === "times") {
      requests = parseTimes(f.times.value).map((t, i) => ({ id: i, arrival: t, input_tokens: prompt,
        output_tokens: output }));
    } else {
      const n = int("n");
      const rate = Number(f.rate.value);
      if (!(n >= 1 && n <= MAX_REQUESTS)) throw new Error(`requests must be between 1 and ${MAX_REQUESTS}`);
      if (!(rate > 0)) throw new Error("the arrival rate must be above 0 requests per second");
      if (mode === "poisson" && !(int("seed") >= 0)) throw new Error("the seed must be 0 or more");
      requests = workload(n, rate, lengths(prompt), lengths(output), mode === "poisson" ? "poisson" : "fixed", 4.0,
        mode === "poisson" ? int("seed") : 0);
    }
    const engine = engineProfile({ max_num_seqs: maxBatch });
    const result = checkSetup({ model, gpu, weights: wfmt, kv: data.formats[f.kv.value] ?? null, kv_bits: kvBits,
      tp, context: prompt + output, sequences: Math.min(maxBatch, requests.length), mode: "concurrency", engine,
      groups });
    showNotes(root, result);
    if (!result.feasible) {
      stopAutoplay();
      player.lanes = [];
      player.draw = null;
      setup.refuse(`These requests cannot run: ${fmt(prompt, 0)} + ${fmt(output, 0)} tokens each on ${model.title} `
        + `on ${tp} × ${gpu.title}:`, result.reasons);
      lastKey = key;
      return;
    }
    setup.show();
    /** @type {import("../calc.js").SimConfig} */
    const cfg = { policy: "continuous", max_batch: maxBatch, max_batched_tokens: engine.config.max_num_batched_tokens,
      chunked_prefill: true, kv_capacity_tokens: result.capacity.kvTokens };
    const steps = stepModel(new Roofline(model.architecture, gpu, wfmt, kvBits, tp, {}, groups));
    const run = simulate(requests, steps, cfg);
    if (!run.records.length) throw new Error("no request fits in the KV cache; shorten the requests or add GPUs");
    const admittedRun = simulate(requests, steps, { ...cfg, closed_loop: true });
    const lanes = lanesOf(requests, run, admittedRun, stepClock(run.records, run.stepDurations));
    const end = Math.max(...lanes.map((l) => l.finish));
    const itls = lanes.filter((l) => l.itl !== null).map((l) => l.itl);
    const means = { queue: mean(lanes.map((l) => l.admitted - l.arrival)), ttft: mean(lanes.map((l) => l.ttft)),
      itl: itls.length ? mean(itls) : NaN, e2el: mean(lanes.map((l) => l.e2el)) };
    const set = (name, v, text = dur(v)) => {
      out(name).textContent = text;
      out(name).dataset.value = String(v);
    };
    set("ttft-mean", means.ttft);
    set("itl-mean", means.itl, itls.length ? dur(means.itl) : "– (one token each)");
    set("e2el-mean", means.e2el);
    Object.assign(player, { lanes, end, events: eventsOf(lanes), draw: chart(out("timeline"), lanes, end) });
    out("requests").replaceChildren(requestTable(lanes, means));

    const pooled = simItl(run);
    const pooledEl = out("pooled");
    if (pooled.count) {
      const span = document.createElement("span");
      span.dataset.out = "itl-pooled";
      span.dataset.value = String(pooled.mean);
      span.textContent = dur(pooled.mean);
      pooledEl.replaceChildren(`Pooled over all ${fmt(pooled.count, 0)} token gaps, the mean ITL is `, span,
        ` (P99 ${dur(pooled.p99)}): each decode step counts once per token it emits, so requests that decode longer `
        + "weigh more than in the per-request means above.");
    } else {
      pooledEl.textContent = "";
    }
    // a request that arrives during a forward pass waits for it to end; one admitted later waited for room
    const slotWaits = lanes.filter((l) => l.admitted > l.firstChance);
    const stepWaits = lanes.filter((l) => l.admitted === l.firstChance && l.admitted > l.arrival)
      .map((l) => l.admitted - l.arrival);
    const decodeSteps = run.stepDurations.filter((d, k) => run.stepDecodeTokens[k] > 0);
    const fastest = decodeSteps.length ? Math.min(...decodeSteps) : NaN;
    const slowest = decodeSteps.length ? Math.max(...decodeSteps) : NaN;
    const sentences = [];
    const names = (ls) => ls.map((l) => `#${l.id + 1}`).join(", ");
    sentences.push(slotWaits.length
      ? `${slotWaits.length === 1 ? "Request" : "Requests"} ${names(slotWaits)} waited up to `
        + `${dur(Math.max(...slotWaits.map((l) => l.admitted - l.arrival)))} in the queue for room: the batch `
        + `(at most ${fmt(maxBatch, 0)} ${maxBatch === 1 ? "sequence" : "sequences"}), the KV cache or the step's `
        + "token budget was full."
      : "No request waited for room in the batch.");
    if (stepWaits.length) {
      sentences.push(`${slotWaits.length ? "Other" : "The"} waits (at most ${dur(Math.max(...stepWaits))}) are the `
        + "forward pass already running when a request arrived: it joins at the next step.");
    }
    if (decodeSteps.length) {
      sentences.push(`A decode step took ${dur(fastest)} at the least${slowest > 1.5 * fastest ? `; when a new `
        + `prompt was prefilled in the same forward pass, the running requests waited up to ${dur(slowest)} for `
        + "that token, the wider gaps between their ticks" : ""}.`);
    }
    sentences.push(`TTFT runs from arrival to the first token (the taller tick), E2E latency to the last token; `
      + "simulated with continuous batching and chunked prefill, a step budget of "
      + `${fmt(cfg.max_batched_tokens, 0)} tokens, on the roofline step model.`);
    if (run.preemptions) sentences.push(`${run.preemptions} preemptions (KV cache full): preempted requests show no token ticks.`);
    if (run.rejected.length) sentences.push(`${run.rejected.length} requests never fit the KV cache and were rejected.`);
    out("explain").textContent = sentences.join(" ");

    lastKey = key;
    if (autoplay) {
      setCursor(0);
      announce("Press Play to run the timeline, or Step to jump from event to event.");
      if (!observer && "IntersectionObserver" in window) {
        observer = new IntersectionObserver((entries) => {
          if (entries.some((e) => e.isIntersecting) && autoplay) {
            stopAutoplay();
            play();
          }
        }, { threshold: 0.5 });
        observer.observe(out("timeline"));
      }
    } else {
      setCursor(end);
      announce("The whole run is shown. Press Play to watch it unfold, or Reset and Step through its events.");
    }
  };
  // an edit shows the new run whole at once (registered before wireForm, so it runs before the render)
  form.addEventListener("input", stopAutoplay);
  form.addEventListener("change", stopAutoplay);
  wireForm(form, guard(render));
}

mountTool(NAME, init);
