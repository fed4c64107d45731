// A tool's settings in the page's address, so that a reload or a shared link shows the same state.
// `wireForm` (data.js) uses it for every tool: it reads the address before the tool's first update and
// writes it (history.replaceState, never a new history entry) after each edit.
//
// Keys: on a tool's own page (tools/NAME.html) a field is written under its plain name (?model=...);
// on a page that embeds several tools (chapter and entry pages) under NAME.field (?kv-cache.model=...),
// so tools do not collide. Reading accepts both, NAME.field first, so a link may use plain names.
// Values: a select's option value (a multiple select's values joined by commas), a text or number input's
// text, a lone checkbox as 1 or 0, a group of checkboxes sharing a name (each with a value) as the
// checked values joined by commas, a radio group as the checked value. A field that still holds the
// value it had when the tool was wired (its default) is left out. A value is restored only when the
// field accepts it (an existing option, a number within the input's limits); others are ignored.
// A field or form marked data-url="off" stays out of the address.

const SKIPPED = new Set(["button", "submit", "reset", "file", "image", "password", "fieldset", "output"]);
const SAVE_MS = 200; // browsers limit how often a page may rewrite its address: wait for typing to pause

/** The named fields of `form` that belong in the address, each name with its elements. */
function fieldsOf(form) {
  const fields = new Map();
  if (form.dataset.url === "off") return fields;
  for (const el of form.elements) {
    if (!el.name || SKIPPED.has(el.type) || el.dataset.url === "off") continue;
    if (!fields.has(el.name)) fields.set(el.name, []);
    fields.get(el.name).push(el);
  }
  return fields;
}

const isGroup = (els) => els[0].type === "checkbox" && (els.length > 1 || els[0].hasAttribute("value"));

/** The value of one field as the address writes it. */
function read(els) {
  const el = els[0];
  if (el.type === "radio") return els.find((e) => e.checked)?.value ?? "";
  if (el.type === "checkbox") {
    return isGroup(els) ? els.filter((e) => e.checked).map((e) => e.value).join(",") : (el.checked ? "1" : "0");
  }
  if (el.tagName === "SELECT" && el.multiple) return [...el.selectedOptions].map((o) => o.value).join(",");
  return el.value;
}

/** Put `value` into one field when the field accepts it; true when it did. */
function apply(els, value) {
  const el = els[0];
  if (el.type === "radio") {
    const match = els.find((e) => e.value === value);
    if (match) match.checked = true;
    return Boolean(match);
  }
  if (el.type === "checkbox") {
    if (!isGroup(els)) {
      if (value !== "1" && value !== "0") return false;
      el.checked = value === "1";
      return true;
    }
    const wanted = new Set(value.split(",").filter(Boolean));
    if (![...wanted].every((v) => els.some((e) => e.value === v))) return false;
    for (const e of els) e.checked = wanted.has(e.value);
    return true;
  }
  if (el.tagName === "SELECT") {
    const options = [...el.options];
    if (el.multiple) {
      const wanted = new Set(value.split(",").filter(Boolean));
      if (![...wanted].every((v) => options.some((o) => o.value === v))) return false;
      for (const o of options) o.selected = wanted.has(o.value);
      return true;
    }
    if (!options.some((o) => o.value === value)) return false;
    el.value = value;
    return true;
  }
  const before = el.value;
  el.value = value;
  // a number the input refuses (beyond min/max, off its step, not a number) leaves the field as it was
  if (!el.validity.valid || (value !== "" && el.value === "")) {
    el.value = before;
    return false;
  }
  return true;
}

/** True on the tool's own page (tools/NAME.html), where the address uses plain field names. */
function ownPage(tool) {
  return Boolean(tool) && decodeURIComponent(location.pathname).endsWith(`/tools/${tool}.html`);
}

/**
 * The address state of one tool's form. `restore()` fills the fields from the address; `retry()`, after
 * the first update, applies the values whose option or field that update added (true when one did, so
 * the tool updates again); `settle()`, once the tool has updated, takes the fields' values as their
 * defaults when the address set none of them (a select that the update fills has its default only
 * then; otherwise such a select's default is empty and its value always written); `save()` writes the
 * fields that differ from their defaults once edits pause, `saveNow()` at once.
 */
export function urlState(form) {
  const tool = form.dataset.tool || "";
  const own = ownPage(tool);
  const prefix = tool ? `${tool}.` : "";
  const defaults = new Map([...fieldsOf(form)].map(([name, els]) => [name, read(els)]));
  const applied = new Set(); // fields the address set
  const pending = new Map(); // values still waiting for their option or field
  let timer = null;

  const given = (params, name) => params.get(prefix + name) ?? params.get(name);

  const restore = () => {
    const params = new URLSearchParams(location.search);
    for (const [name, els] of fieldsOf(form)) {
      const value = given(params, name);
      if (value === null) continue;
      if (value === read(els) || apply(els, value)) applied.add(name);
      else pending.set(name, value);
    }
  };

  const retry = () => {
    const params = new URLSearchParams(location.search);
    let changed = false;
    for (const [name, els] of fieldsOf(form)) {
      const value = pending.get(name) ?? (defaults.has(name) ? null : given(params, name)); // or a new field's
      if (value === null) continue;
      if (value === read(els)) applied.add(name);
      else if (apply(els, value)) {
        applied.add(name);
        changed = true;
      }
    }
    pending.clear();
    return changed;
  };

  const settle = () => {
    for (const [name, els] of fieldsOf(form)) {
      if (!applied.size || !(defaults.has(name) || applied.has(name))) defaults.set(name, read(els));
    }
  };

  const saveNow = () => {
    clearTimeout(timer);
    const url = new URL(location.href);
    const params = url.searchParams;
    for (const [name, els] of fieldsOf(form)) {
      const value = read(els);
      params.delete(prefix + name);
      // on an embedded tool a plain key (a link's) would apply on reload: the value must beat it
      const implied = own ? defaults.get(name) : (params.get(name) ?? defaults.get(name));
      if (own) params.delete(name);
      if (value !== implied) params.set(own ? name : prefix + name, value);
    }
    const query = params.toString().replaceAll("%2C", ",");
    url.search = query ? `?${query}` : "";
    if (url.href === location.href) return;
    try {
      history.replaceState(history.state, "", url.href);
    } catch {
      // too many address changes in a short time (Safari): the next edit writes it
    }
  };

  const save = () => {
    clearTimeout(timer);
    timer = setTimeout(saveNow, SAVE_MS);
  };

  return { restore, retry, settle, save, saveNow };
}
