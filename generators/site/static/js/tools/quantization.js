// Quantization impact: weight memory per format and KV-cache memory per data type, with each format's handbook entry.
// Sizes only (no GPU, no engine); a context beyond the model's maximum gets the reason instead of KV sizes.
import { contextFindings, kvBytes, kvBytesPerToken, nativeWeightBytes, weightBytes } from "../calc.js";
import {
  fillSelect, fmt, GIB, headed, modelsByTitle, mountTool, replaceable, showNotes, siteRoot, startTool, wireForm,
} from "../data.js";

/** A cell with a number, a bar below it and the raw value for tests. */
function sizeCell(tr, bytes, max, out) {
  const td = tr.insertCell();
  const value = document.createElement("span");
  // one break opportunity, between the two figures, so a narrow column wraps as GB over GiB
  value.textContent = `${fmt(bytes / 1e9, 2)}\u00a0GB\u00a0· ${fmt(bytes / GIB, 2)}\u00a0GiB`;
  value.dataset.out = out;
  value.dataset.value = String(bytes);
  const bar = document.createElement("div");
  bar.className = "bar";
  bar.setAttribute("role", "presentation");
  bar.style.width = `${Math.max(0.5, (bytes / max) * 100)}%`;
  td.className = "size-cell";
  td.append(value, bar);
}

function rowHead(tr, text, link) {
  const th = document.createElement("th");
  th.scope = "row";
  if (link) {
    const a = document.createElement("a");
    a.href = link;
    a.textContent = text;
    th.append(a);
  } else th.textContent = text;
  tr.append(th);
}

const entry = (fid) => `${siteRoot()}entries/formats/${fid}.html`;

function qualityCell(tr, f) {
  const td = tr.insertCell();
  td.className = "quality";
  const p = document.createElement("span");
  p.textContent = `${f.summary} `;
  const a = document.createElement("a");
  a.href = entry(f.id);
  a.textContent = "Quality notes →";
  a.setAttribute("aria-label", `Quality notes for ${f.title}`);
  td.append(p, a);
}

async function init(root) {
  const tool = await startTool(root, "quantization");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const f = form.elements;
  const models = modelsByTitle(data);
  fillSelect(f.model, models.map((m) => ({ value: m.id, label: m.title })),
    data.models["llama-3.1-8b-instruct"] ? "llama-3.1-8b-instruct" : models[0].id);
  const weightFormats = Object.values(data.formats).filter((x) => x.used_for.includes("weights"))
    .sort((a, b) => b.effective_bits_per_weight - a.effective_bits_per_weight || a.id.localeCompare(b.id));

  const kvBlock = replaceable(root, "kv");
  const update = guard(() => {
    const model = data.models[f.model.value];
    const arch = model.architecture;
    const context = Math.round(Number(f.context.value));
    const batch = Math.round(Number(f.batch.value));
    if (!(context >= 1 && batch >= 1)) throw new Error("context and batch must be at least 1");
    const native = nativeWeightBytes(model, data.formats);
    out("native").textContent = `${fmt(native.totalBytes / 1e9, 1)} GB`;
    out("native").dataset.value = String(native.totalBytes);
    const groups = Object.entries(model.native_groups ?? {}).filter(([, v]) => v).map(([k, v]) => `${k} in ${v}`);
    out("native-detail").textContent = `(${fmt(native.totalBytes / GIB, 2)} GiB in ${model.native_dtype}`
      + `${groups.length ? `, with ${groups.join(", ")}` : ""})`;
    const bf16 = data.formats.bf16 ? weightBytes(arch, data.formats.bf16).totalBytes : native.totalBytes;
    const rows = weightFormats.map((x) => ({ f: x, bytes: weightBytes(arch, x).totalBytes }))
      .sort((a, b) => b.bytes - a.bytes || a.f.id.localeCompare(b.f.id));
    const max = Math.max(native.totalBytes, ...rows.map((r) => r.bytes));
    const wt = headed(["Format", "Bits/weight", "Weights", "vs BF16", "Published quality"]);
    wt.className = "quant-table";
    const wbody = wt.createTBody();
    const nativeRow = wbody.insertRow();
    nativeRow.className = "highlight";
    rowHead(nativeRow, `Released checkpoint (${model.native_dtype})`, entry(model.native_dtype));
    nativeRow.insertCell().textContent = fmt(data.formats[model.native_dtype].effective_bits_per_weight, 2);
    sizeCell(nativeRow, native.totalBytes, max, "native-row");
    nativeRow.insertCell().textContent = `${fmt(native.totalBytes / bf16, 2)}×`;
    nativeRow.insertCell().textContent = "As published by the model's authors (the quality reference).";
    for (const r of rows) {
      const tr = wbody.insertRow();
      rowHead(tr, r.f.title, entry(r.f.id));
      tr.insertCell().textContent = fmt(r.f.effective_bits_per_weight, 3);
      sizeCell(tr, r.bytes, max, `w-${r.f.id}`);
      tr.insertCell().textContent = `${fmt(r.bytes / bf16, 2)}×`;
      qualityCell(tr, r.f);
    }
    out("weights").replaceChildren(wt);
    showNotes(root, null, "Sizes of the stored bytes only: no GPU or engine is assumed (the memory-fit tool checks "
      + "whether a format runs on a GPU and fits its memory).");
    const reasons = contextFindings(model, context, batch).map((x) => x.message);
    if (reasons.length) {
      kvBlock.refuse(`No KV-cache sizes for ${fmt(batch, 0)} × ${fmt(context, 0)} tokens:`, reasons);
      return;
    }
    kvBlock.show();
    const kvRows = Object.entries(data.kv_dtype_bits).map(([id, bits]) => ({
      id, bits, perToken: kvBytesPerToken(arch, bits), total: kvBytes(arch, context, bits, batch).bytesUnique }));
    const kvMax = Math.max(...kvRows.map((r) => r.total));
    const kvBf16 = kvRows.find((r) => r.id === "bf16")?.total ?? kvMax;
    const kt = headed(["KV data type", "Bits", "Per token", `${fmt(batch, 0)} × ${fmt(context, 0)} tokens`,
      "vs BF16", "Published quality"]);
    kt.className = "quant-table";
    const kbody = kt.createTBody();
    for (const r of kvRows) {
      const tr = kbody.insertRow();
      const fx = data.formats[r.id];
      rowHead(tr, fx ? fx.title : r.id, fx ? entry(r.id) : null);
      tr.insertCell().textContent = fmt(r.bits, 0);
      const per = tr.insertCell();
      per.textContent = `${fmt(r.perToken / 1024, 1)} KiB`;
      per.dataset.out = `kv-token-${r.id}`;
      per.dataset.value = String(r.perToken);
      sizeCell(tr, r.total, kvMax, `kv-${r.id}`);
      tr.insertCell().textContent = `${fmt(r.total / kvBf16, 2)}×`;
      if (fx) qualityCell(tr, fx);
      else tr.insertCell().textContent = "–";
    }
    out("kv").replaceChildren(kt);
  });
  wireForm(form, update);
}

mountTool("quantization", init);
