// Context-window simulator: a conversation (system prompt, then user and assistant turns) against a model's
// real maximum context (architecture.context_length). Past the window the oldest turns are dropped, or the
// request is refused; the context kept costs KV cache (calc.js kvBytes), checked against what one GPU has
// left after weights and overheads (checkSetup).
import { checkSetup, chosenWeights, kvBytes, VLLM_V1 } from "../calc.js";
import {
  fillSelect, fmt, GIB, headed, modelsByTitle, mountTool, replaceable, rooflineGpus, showNotes, startTool, wireForm,
} from "../data.js";

const MAX_TURNS = 12;
const USER = [1200, 2500, 1800, 900, 700, 1500, 400, 2200, 800, 1000, 600, 1300];
const ASSISTANT = [900, 700, 1100, 600, 800, 500, 900, 700, 400, 1200, 300, 600];

function tokens(n) {
  return `${fmt(n, 0)} tokens`;
}

/** One input per message of every possible turn (rows past the turn count are hidden). */
function turnRows(container) {
  for (let k = 1; k <= MAX_TURNS; k++) {
    const row = document.createElement("div");
    row.className = "turn-row";
    row.dataset.turn = String(k);
    for (const [role, defaults] of [["user", USER], ["assistant", ASSISTANT]]) {
      const label = document.createElement("label");
      label.append(`Turn ${k} ${role}`);
      const input = document.createElement("input");
      Object.assign(input, { type: "number", name: `${role}${k}`, min: "0", step: "1", value: String(defaults[k - 1]) });
      label.append(input);
      row.append(label);
    }
    container.append(row);
  }
}

/** A bar of segments [{cls, tokens, label}] scaled so that `scale` tokens fill it. */
function bar(el, segments, scale, summary) {
  el.setAttribute("role", "img");
  el.setAttribute("aria-label", summary);
  el.replaceChildren(...segments.filter((s) => s.tokens > 0).map((s) => {
    const seg = document.createElement("span");
    seg.className = `seg ${s.cls}`;
    seg.title = s.title ?? `${s.label}: ${tokens(s.tokens)}`;
    seg.style.setProperty("width", `${(s.tokens / scale) * 100}%`);
    return seg;
  }));
}

/** "turn 2" or "turns 1–3". */
function turnSpan(list) {
  return list.length === 1 ? `turn ${list[0]}` : `turns ${list[0]}–${list[list.length - 1]}`;
}

async function init(root) {
  const tool = await startTool(root, "context-window");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const models = modelsByTitle(data);
  const pick = (id, pool) => (pool[id] ? id : Object.keys(pool)[0]);
  fillSelect(form.elements.model, models.map((m) => ({ value: m.id, label: m.title })),
    pick("llama-3-8b-instruct", data.models));
  fillSelect(form.elements.gpu, rooflineGpus(data).map((g) => ({ value: g.id, label: g.label })),
    pick("h100-sxm", data.gpus));
  fillSelect(form.elements.kv, Object.keys(data.kv_dtype_bits).map((d) => ({ value: d, label: d })), "bf16");
  turnRows(form.querySelector("[data-turns]"));
  const setup = replaceable(root, "setup");

  const update = guard(() => {
    const f = form.elements;
    const count = Number(f.turns.value);
    if (!(Number.isInteger(count) && count >= 1 && count <= MAX_TURNS)) {
      throw new Error(`the turns must be a whole number from 1 to ${MAX_TURNS}`);
    }
    for (const row of form.querySelectorAll(".turn-row")) row.hidden = Number(row.dataset.turn) > count;
    const whole = (name, words) => {
      const v = Number(f[name].value);
      if (!(Number.isInteger(v) && v >= 0)) throw new Error(`${words} must be a whole number of tokens, 0 or more`);
      return v;
    };
    const system = whole("system", "the system prompt");
    const turns = [];
    for (let k = 1; k <= count; k++) {
      turns.push({ turn: k, user: whole(`user${k}`, `turn ${k}'s user message`),
        assistant: whole(`assistant${k}`, `turn ${k}'s reply`) });
    }
    const sizeOf = (t) => t.user + t.assistant;
    const total = system + turns.reduce((a, t) => a + sizeOf(t), 0);
    if (total < 1) throw new Error("the conversation is empty: give the system prompt or a message some tokens");
    const model = data.models[f.model.value];
    const gpu = data.gpus[f.gpu.value];
    const window = model.architecture.context_length;
    const policy = f.policy.value;
    // the oldest turns go first; the newest turn (with the reply being written) always stays
    let first = 0;
    let kept = total;
    if (policy === "truncate") {
      while (kept > window && first < turns.length - 1) kept -= sizeOf(turns[first++]);
    }
    const newest = system + sizeOf(turns[turns.length - 1]);
    const reasons = [];
    if (system > window) {
      reasons.push(`the system prompt alone (${tokens(system)}) is longer than ${model.title}'s window of ${tokens(window)}`);
    } else if (policy === "truncate" && kept > window) {
      reasons.push(`the system prompt and the newest turn alone need ${tokens(newest)}, more than ${model.title}'s `
        + `window of ${tokens(window)}: dropping older turns cannot make room, the newest message must be shortened`);
    }
    const refused = policy === "refuse" && total > window;
    if (refused) kept = 0;
    const { format: wfmt, groups } = chosenWeights(model, data.formats, "native");
    const kvBits = data.kv_dtype_bits[f.kv.value];
    const result = checkSetup({ model, gpu, weights: wfmt, kv: data.formats[f.kv.value] ?? null, kv_bits: kvBits,
      tp: 1, context: Math.max(Math.min(kept, window), 1), sequences: 1, mode: "batch", engine: VLLM_V1, groups });
    showNotes(root, result);
    if (!reasons.length) reasons.push(...result.reasons);
    if (reasons.length) {
      setup.refuse(`This conversation cannot run on ${model.title} on one ${gpu.title}:`, reasons);
      return;
    }
    setup.show();
    const dropped = turns.slice(0, first);
    const droppedTokens = dropped.reduce((a, t) => a + sizeOf(t), 0);
    const set = (name, value, text) => {
      out(name).textContent = text;
      out(name).dataset.value = String(value);
    };
    set("window", window, tokens(window));
    set("total", total, tokens(total));
    set("kept", kept, tokens(kept));
    set("dropped", refused ? total : droppedTokens, refused ? "all (refused)" : tokens(droppedTokens));
    const messages = [{ label: "System prompt", cls: "cw-system", tokens: system, turn: 0 }];
    for (const t of turns) {
      messages.push({ label: `Turn ${t.turn} user`, cls: "cw-user", tokens: t.user, turn: t.turn },
        { label: `Turn ${t.turn} assistant`, cls: "cw-assistant", tokens: t.assistant, turn: t.turn });
    }
    const isDropped = (m) => refused || (m.turn > 0 && m.turn <= first);
    const scale = Math.max(total, window);
    bar(out("conversation-bar"), messages.map((m) => ({ ...m, cls: isDropped(m) ? `${m.cls} cw-dropped` : m.cls })),
      scale, `The whole conversation: ${tokens(total)}, of which ${tokens(kept)} in the window.`);
    if (refused) { // where the window runs out, reading the conversation from the start
      const limit = document.createElement("span");
      limit.className = "cw-limit";
      limit.title = `The window: ${tokens(window)}`;
      limit.style.setProperty("left", `${(window / scale) * 100}%`);
      out("conversation-bar").append(limit);
    }
    bar(out("window-bar"), [...messages.filter((m) => !isDropped(m)),
      { label: "Free", cls: "cw-free", tokens: window - kept }], scale,
    `The window of ${tokens(window)}: ${tokens(kept)} used, ${tokens(window - kept)} free.`);
    const table = headed(["Message", "Tokens", "In the window"]);
    const body = table.createTBody();
    for (const m of messages) {
      const row = body.insertRow();
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = m.label;
      row.append(th);
      const n = row.insertCell();
      n.className = "num";
      n.textContent = fmt(m.tokens, 0);
      row.insertCell().textContent = isDropped(m) ? (refused ? "refused" : "dropped") : "kept";
    }
    out("messages").replaceChildren(table);
    out("outcome").textContent = refused
      ? `The conversation needs ${tokens(total)}, ${tokens(total - window)} more than the window: with this policy `
        + "the server rejects the request (as vLLM does with a prompt over its maximum length) and the client "
        + "has to shorten it."
      : dropped.length
        ? `${turnSpan(dropped.map((t) => t.turn)).replace(/^t/, "T")} (${tokens(droppedTokens)}) no longer fit and are `
          + `dropped: the model sees the system prompt and ${turnSpan(turns.slice(first).map((t) => t.turn))} only, `
          + "and knows nothing of the rest."
        : `Everything fits: ${tokens(window - kept)} of the window are still free.`;
    const kv = kvBytes(model.architecture, kept, kvBits, 1, 1, 1, true).bytesUnique;
    const space = Math.max(result.capacity.kvSpaceBytes, 0);
    set("kv", kv, `${fmt(kv / GIB, 3)} GiB`);
    set("kv-space", space, `${fmt(space / GIB, 2)} GiB`);
    set("kv-share", kv / space, refused ? "nothing: the request was refused"
      : `${fmt((kv / space) * 100, 2)} % of it; the rest serves other conversations`);
    bar(out("kv-bar"), [
      { cls: "seg-kv", tokens: kv, title: `This context's KV cache: ${fmt(kv / GIB, 3)} GiB` },
      { cls: "seg-free", tokens: space - kv, title: `KV space left: ${fmt((space - kv) / GIB, 2)} GiB` }], space,
    `KV cache: ${fmt(kv / GIB, 3)} GiB of ${fmt(space / GIB, 2)} GiB.`);
  });

  form.querySelector(".turn-actions").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-action]");
    if (!button) return;
    const field = form.elements.turns;
    const next = Number(field.value) + (button.dataset.action === "add" ? 1 : -1);
    if (!(next >= 1 && next <= MAX_TURNS)) return;
    field.value = String(next);
    field.dispatchEvent(new Event("input", { bubbles: true }));
    if (button.dataset.action === "add") form.elements[`user${next}`].focus();
  });
  wireForm(form, update);
}

mountTool("context-window", init);
