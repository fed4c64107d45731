// The search page: entries, tools and index pages (assets/data/search-index.json) ranked like
// `inferbook search`: an exact id, title or alias match first, then everything but sources above
// sources, then the score. Every query word must match a word of the document: exactly, as the
// start of a word (the last query word, while typing) or, for a word the index does not know,
// within one typo (words of 4 to 7 letters) or two (8 letters or more).

const WEIGHTS = { alias: 8, title: 6, id: 4, summary: 2, words: 1 };
const PREFIX = 0.5;
const TYPO = [1, 0.45, 0.3]; // factor by edit distance
export const LIMIT = 30;

export function tokens(text) {
  return text.toLowerCase().match(/[a-z0-9]+(?:\.[a-z0-9]+)*/g) || [];
}

/** ``text`` reduced for exact-name matching: lower case, letters and digits only. */
export function nameKey(text) {
  return (text.toLowerCase().match(/[a-z0-9]+/g) || []).join("");
}

/** The typos a query word may hold: none under 4 letters, one up to 7, two from 8. */
export function typosAllowed(word) {
  return word.length >= 8 ? 2 : word.length >= 4 ? 1 : 0;
}

/** Edit distance of `a` and `b` (insertions, deletions, substitutions and swaps of neighbours
 * each count one), or `max + 1` as soon as it must exceed `max`. */
export function editDistance(a, b, max) {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before = null;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j += 1) {
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2] + 1);
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > max) return max + 1;
    before = prev;
    prev = row;
  }
  return prev[b.length];
}

/** Whether `term` holds the letters of `word` in order (possibly with others between). */
function holdsInOrder(term, word) {
  let i = 0;
  for (const ch of term) if (ch === word[i]) i += 1;
  return i === word.length;
}

export class SearchIndex {
  /** @param {{labels: Object<string, string>, stop: string[], docs: Array<Object>}} data the search-index.json */
  constructor(data) {
    this.labels = data.labels;
    this.stop = new Set(data.stop);
    this.docs = data.docs;
    this.postings = new Map(); // term -> Map(doc number -> best field weight)
    this.names = new Map(); // name key -> doc numbers
    data.docs.forEach((doc, n) => {
      const fields = { alias: doc.aliases.join(" "), title: doc.title, id: doc.id.replace(/-/g, " "),
        summary: doc.summary, words: doc.words };
      for (const [field, text] of Object.entries(fields)) {
        for (const term of tokens(text)) {
          if (!this.postings.has(term)) this.postings.set(term, new Map());
          const seen = this.postings.get(term);
          seen.set(n, Math.max(seen.get(n) || 0, WEIGHTS[field]));
        }
      }
      const bare = doc.title.replace(/\s*\([^()]*\)\s*$/, "");
      for (const name of [doc.id, doc.title, bare, ...doc.aliases]) {
        const key = nameKey(name);
        if (!key) continue;
        if (!this.names.has(key)) this.names.set(key, new Set());
        this.names.get(key).add(n);
      }
    });
  }

  /** The index's words a query word stands for, each with its match factor (1 for itself). */
  expand(word, last) {
    const found = new Map();
    const own = this.postings.get(word);
    if (own) found.set(word, 1);
    const typos = own && own.size > 1 ? 0 : typosAllowed(word);
    for (const term of this.postings.keys()) {
      if (term === word) continue;
      if (last && word.length >= 2 && term.startsWith(word)) {
        found.set(term, PREFIX);
      } else if (typos) {
        const d = editDistance(word, term, typos);
        if (d <= typos) found.set(term, TYPO[d]);
      }
    }
    return found;
  }

  /** The best `limit` hits for `query`, how many documents matched, and the query as matched
   * when typos were read as other words. */
  search(query, limit = LIMIT) {
    const words = tokens(query);
    if (!words.length) return { hits: [], total: 0, corrected: null };
    // Stop words ("the", "to", "how") add to the score where they match but exclude nothing,
    // unless the query holds nothing else.
    const optional = words.some((w) => !this.stop.has(w)) ? (w) => this.stop.has(w) : () => false;
    const matches = words.map((word, i) => {
      const terms = this.expand(word, i === words.length - 1);
      const best = new Map();
      for (const [term, factor] of terms) {
        for (const [n, weight] of this.postings.get(term)) best.set(n, Math.max(best.get(n) || 0, weight * factor));
      }
      return { word, terms, best, idf: Math.log(1 + this.docs.length / Math.max(best.size, 1)) };
    });
    /** @type {Map<number, number> | null} */
    let scores = null;
    for (const { word, best, idf } of matches) {
      if (optional(word)) continue;
      scores = scores === null
        ? new Map([...best].map(([n, w]) => [n, w * idf]))
        : new Map([...scores].filter(([n]) => best.has(n)).map(([n, s]) => [n, s + best.get(n) * idf]));
    }
    for (const { word, best, idf } of matches) {
      if (optional(word)) for (const [n, s] of scores) scores.set(n, s + (best.get(n) || 0) * idf);
    }
    const corrected = matches.map(({ word, terms }) => (terms.get(word) === 1 ? word : this.closest(word, terms) || word));
    const exact = new Set([...(this.names.get(nameKey(query)) || []),
      ...(this.names.get(nameKey(corrected.join(" "))) || [])]);
    for (const n of exact) if (!scores.has(n)) scores.set(n, 0);
    const rank = ([n, score]) => [exact.has(n) ? 0 : 1, this.docs[n].kind === "sources" ? 1 : 0, -score];
    const ordered = [...scores].sort((a, b) => {
      const [x, y] = [rank(a), rank(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || this.docs[a[0]].title.localeCompare(this.docs[b[0]].title);
    });
    const fixed = corrected.join(" ");
    return { hits: ordered.slice(0, limit).map(([n]) => this.docs[n]), total: ordered.length,
      corrected: fixed !== words.join(" ") ? fixed : null };
  }

  /** The likeliest word a typo stands for: the fewest edits, then one that holds every typed
   * letter in order (a dropped letter is the commonest typo), then the most documents. */
  closest(word, terms) {
    let choice = null;
    let best = null;
    for (const [term, factor] of terms) {
      if (factor === PREFIX || factor === 1) continue;
      const key = [factor, holdsInOrder(term, word) ? 1 : 0, this.postings.get(term).size];
      const order = best ? key[0] - best[0] || key[1] - best[1] || key[2] - best[2] : 1;
      if (order > 0) {
        choice = term;
        best = key;
      }
    }
    return choice;
  }
}

/** What the status line says about `total` matches of which `shown` are listed. */
export function statusText(total, shown, corrected) {
  const count = total === shown
    ? `${total} result${total === 1 ? "" : "s"}`
    : `Showing ${shown} of ${total} results`;
  return corrected ? `${count} for “${corrected}”` : count;
}

async function run() {
  const input = /** @type {HTMLInputElement | null} */ (document.getElementById("search-input"));
  const list = document.querySelector(".search-results");
  const status = document.querySelector(".search-status");
  if (!input || !list) return;
  const root = document.body.dataset.root || "";
  const response = await fetch(`${root}assets/data/search-index.json`);
  const index = new SearchIndex(await response.json());
  input.value = new URLSearchParams(location.search).get("q") || "";
  const update = () => {
    const { hits, total, corrected } = index.search(input.value);
    list.replaceChildren(...hits.map((d) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = root + d.path;
      a.textContent = d.title;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = ` ${index.labels[d.kind] || d.kind}`;
      const p = document.createElement("p");
      p.textContent = d.summary;
      li.append(a, kind, p);
      return li;
    }));
    status.textContent = input.value.trim() ? statusText(total, hits.length, corrected) : "";
  };
  input.addEventListener("input", update);
  update();
  document.body.dataset.searchReady = "true";
}

if (typeof document !== "undefined") run();
