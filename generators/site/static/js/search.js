// Client-side search over titles, aliases, summaries and body words (assets/data/search-index.json).
import { loadData, siteRoot } from "./data.js";

const WEIGHTS = { alias: 8, title: 6, id: 4, summary: 2, words: 1 };

function tokens(text) {
  return (text.toLowerCase().match(/[a-z0-9]+(?:\.[a-z0-9]+)*/g) || []);
}

/** Score one document against query words; every word must match somewhere. */
export function score(doc, words) {
  let total = 0;
  for (const [i, word] of words.entries()) {
    const prefix = i === words.length - 1 && word.length >= 2;
    let best = 0;
    const fields = {
      alias: doc.aliases.join(" "), title: doc.title, id: doc.id.replace(/-/g, " "),
      summary: doc.summary, words: doc.words,
    };
    for (const [field, text] of Object.entries(fields)) {
      for (const t of tokens(text)) {
        if (t === word) best = Math.max(best, WEIGHTS[field]);
        else if (prefix && t.startsWith(word)) best = Math.max(best, WEIGHTS[field] / 2);
      }
    }
    if (!best) return 0;
    total += best;
  }
  const exactAlias = doc.aliases.some((a) => a.toLowerCase() === words.join(" "));
  const exactTitle = doc.title.toLowerCase() === words.join(" ");
  return total + (exactAlias || exactTitle ? 20 : 0);
}

export async function search(query, limit = 30) {
  const words = tokens(query);
  if (!words.length) return [];
  const docs = await loadData("search-index.json");
  return docs.map((d) => [score(d, words), d]).filter(([s]) => s > 0)
    .sort((a, b) => b[0] - a[0] || a[1].title.localeCompare(b[1].title)).slice(0, limit).map(([, d]) => d);
}

async function run() {
  const input = document.getElementById("search-input");
  const list = document.querySelector(".search-results");
  const status = document.querySelector(".search-status");
  if (!input || !list) return;
  const params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  const update = async () => {
    const hits = await search(input.value);
    list.replaceChildren(...hits.map((d) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = siteRoot() + d.path;
      a.textContent = d.title;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = ` ${d.label}`;
      const p = document.createElement("p");
      p.textContent = d.summary;
      li.append(a, kind, p);
      return li;
    }));
    status.textContent = input.value ? `${hits.length} result${hits.length === 1 ? "" : "s"}` : "";
  };
  input.addEventListener("input", update);
  await update();
  document.body.dataset.searchReady = "true";
}

run();
