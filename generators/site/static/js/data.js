// Loads the site's JSON data files once, relative to the page's root.
import { urlState } from "./urlstate.js";

const cache = new Map();

/** The relative path from this page to the site root (set on <body data-root>). */
export function siteRoot() {
  return document.body.dataset.root || "";
}

/** Fetch and cache a JSON file under assets/data/. */
export function loadData(name) {
  if (!cache.has(name)) {
    cache.set(name, fetch(`${siteRoot()}assets/data/${name}`).then((r) => {
      if (!r.ok) throw new Error(`cannot load ${name}: ${r.status}`);
      return r.json();
    }));
  }
  return cache.get(name);
}

/** Format a number with thousands separators and at most `digits` decimals. */
export function fmt(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (!Number.isFinite(value)) return "∞";
  return value.toLocaleString("en-US", { maximumFractionDigits: digits });
}

export const GIB = 2 ** 30;

/** Fill a <select> with options [{value, label}], keeping `selected` if present. */
export function fillSelect(select, options, selected) {
  select.replaceChildren(...options.map(({ value, label }) => {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = label;
    if (value === selected) option.selected = true;
    return option;
  }));
}

/** A <table> with one header row of `headers` (cells scoped as column headers). */
export function headed(headers) {
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  for (const h of headers) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  return t;
}

/** Weight-format choices: the released checkpoint, then every weight format, widest first. */
export function formatOptions(data) {
  const fmts = Object.values(data.formats).filter((f) => f.used_for.includes("weights"))
    .sort((a, b) => b.effective_bits_per_weight - a.effective_bits_per_weight || a.id.localeCompare(b.id));
  return [{ value: "native", label: "Released checkpoint" }, ...fmts.map((f) => ({ value: f.id, label: f.title }))];
}

/** Every model of the tools' data, by title (the order of the tools' model menus). */
export function modelsByTitle(data) {
  return Object.values(data.models).sort((a, b) => a.title.localeCompare(b.title));
}

/** GPUs with a dense 16-bit throughput (the roofline needs one), by title. */
export function rooflineGpus(data) {
  return Object.values(data.gpus).filter((g) => g.dense && (g.dense.bf16_tflops || g.dense.fp16_tflops))
    .sort((a, b) => a.title.localeCompare(b.title));
}

/** Run `init(root)` for every copy of the tool `name` on the page (its own page or a
 * chapter page); a failure to start shows in the tool's output region. */
export function mountTool(name, init) {
  document.querySelectorAll(`#tool-${name}`).forEach((root) => {
    Promise.resolve().then(() => init(root)).catch((err) => {
      const el = /** @type {HTMLElement | null} */ (root.querySelector("[data-out='error']"));
      if (el) {
        el.textContent = `Cannot start: ${err.message || err}`;
        el.hidden = false;
      }
    });
  });
}

/**
 * Call `update` on every edit of the form (never submitting it), and once now. The settings live in
 * the page's address (urlstate.js): the fields are first restored from it (a value for an option that
 * the first update adds is applied after that update, which then runs again), and every edit writes
 * them back. With `runNow: false` the tool runs its first update itself, after this call.
 */
export function wireForm(form, update, { runNow = true } = {}) {
  const state = urlState(form);
  state.restore();
  const edited = (e) => {
    update(e);
    state.save();
  };
  form.addEventListener("input", edited);
  form.addEventListener("change", edited);
  form.addEventListener("submit", (e) => e.preventDefault());
  if (!runNow) return;
  update();
  if (state.retry()) update();
  state.settle();
  state.saveNow();
}

/**
 * The few calc.js messages (Python's wording) that still name fields, in the words of the tools'
 * forms. Each entry: [pattern, plain words].
 * @type {[RegExp, string][]}
 */
const PLAIN_MESSAGES = [
  [/^times must satisfy arrival <= first_token <= finish$/, "times must satisfy arrival ≤ first token ≤ finish"],
  [/^token_times must hold one time per output token$/, "give one time per output token"],
  [/^q must be between 0 and 100$/, "the percentile must be between 0 and 100"],
];

/** A calc.js error message in plain words (unchanged when it already is). */
export function plainMessage(message) {
  const text = String(message);
  for (const [pattern, plain] of PLAIN_MESSAGES) if (pattern.test(text)) return plain;
  return text;
}

/** Empty every output inside `el` (no number survives: values become "–", tables and charts go). */
function blank(el) {
  for (const node of el.querySelectorAll("[data-out]")) {
    if (["DIV", "UL", "OL", "TABLE", "TBODY"].includes(node.tagName)) node.replaceChildren();
    else node.textContent = "–";
    delete node.dataset.value;
  }
}

/**
 * A block of figures that reasons can replace: the element `[data-figures=name]` and its
 * `[data-infeasible=name]` message (class "infeasible", role="status"). `refuse(title, reasons)`
 * empties and hides the figures and lists the reasons in their place; `show()` brings the figures
 * back and hides the message.
 */
export function replaceable(root, name) {
  const figures = root.querySelector(`[data-figures="${name}"]`);
  const message = root.querySelector(`[data-infeasible="${name}"]`);
  return {
    refuse(title, reasons) {
      blank(figures);
      figures.hidden = true;
      const head = document.createElement("p");
      head.className = "infeasible-title";
      head.textContent = title;
      const list = document.createElement("ul");
      list.replaceChildren(...reasons.map((r) => {
        const li = document.createElement("li");
        li.textContent = r;
        return li;
      }));
      message.replaceChildren(head, list);
      message.hidden = false;
    },
    show() {
      figures.hidden = false;
      message.hidden = true;
      message.replaceChildren();
    },
  };
}

/**
 * The warnings and notes of a feasibility answer (calc.js `checkSetup`) as notes, and the engine
 * profile it assumed, in the tool's `[data-out=warnings]` list and `[data-out=engine]` line.
 * @param {Element} root
 * @param {{warnings: string[], notes: string[], engine: string}|null} result Null clears both.
 * @param {string} [engine] Overrides the engine line (tools that assume no engine).
 */
export function showNotes(root, result, engine = null) {
  const list = /** @type {HTMLElement | null} */ (root.querySelector("[data-out='warnings']"));
  const line = root.querySelector("[data-out='engine']");
  const items = result ? [...result.warnings.map((w) => ["warn", w]),
    ...result.notes.filter((n) => !n.startsWith("assumes ")).map((n) => ["note", n])] : [];
  if (list) {
    list.replaceChildren(...items.map(([kind, text]) => {
      const li = document.createElement("li");
      li.className = `finding-${kind}`;
      li.textContent = text; // verbatim: the CLI prints the same words
      return li;
    }));
    list.hidden = !items.length;
  }
  if (line) line.textContent = engine ?? (result ? `Assumes ${result.engine}.` : "");
}

/**
 * Output lookup and result states of one tool's form: `fail(err)` shows the error in plain words,
 * empties the figures (`[data-figures]`) and greys the rest of the stale output (after `onFail`,
 * when given), `guard(render)` wraps a render function so that success clears the error and marks
 * the form ready, and a thrown error goes to `fail`. An infeasible setup is a result, not an error:
 * the render shows its reasons (`replaceable`) and the form is ready.
 */
export function toolShell(root, form, { verb = "compute", onFail = null } = {}) {
  const out = (key) => root.querySelector(`[data-out="${key}"]`);
  const output = () => root.querySelector(".tool-output");
  const fail = (err) => {
    if (onFail) onFail();
    out("error").textContent = `Cannot ${verb}: ${plainMessage(err.message || err)}`;
    out("error").hidden = false;
    form.dataset.ready = "false";
    for (const figures of root.querySelectorAll("[data-figures]")) blank(figures);
    output().classList.add("stale");
  };
  const guard = (render) => () => {
    try {
      render();
      out("error").hidden = true;
      output().classList.remove("stale");
      form.dataset.ready = "true";
    } catch (err) {
      fail(err);
    }
  };
  return { out, fail, guard };
}

/** The form, its `toolShell` and the data of one tool on the page, or null when the tool's
 * form is missing or its data cannot be loaded (the error is then shown). */
export async function startTool(root, name) {
  const form = root.querySelector(`form[data-tool='${name}']`);
  if (!form) return null;
  const shell = toolShell(root, form);
  try {
    return { form, ...shell, data: await loadData("tools-data.json") };
  } catch (err) {
    shell.fail(err);
    return null;
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with the given attributes (charts are built with the DOM, no inline markup). */
export function svgEl(name, attrs = {}) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}
