// Sortable, filterable catalogue tables.
function cellValue(row, index) {
  const cell = row.children[index];
  const raw = cell.dataset.value ?? cell.textContent.trim();
  const number = Number(raw);
  return raw !== "" && !Number.isNaN(number) ? number : raw.toLowerCase();
}

function setup(tableEl) {
  const body = tableEl.tBodies[0];
  const headers = [...tableEl.tHead.rows[0].cells];
  headers.forEach((th, index) => {
    th.setAttribute("aria-sort", "none");
    th.querySelector("button").addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach((h) => h.setAttribute("aria-sort", "none"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const rows = [...body.rows].sort((a, b) => {
        const x = cellValue(a, index);
        const y = cellValue(b, index);
        if (x === "" && y !== "") return 1;
        if (y === "" && x !== "") return -1;
        const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      body.append(...rows);
    });
  });
  const filter = /** @type {HTMLInputElement | null} */ (
    document.querySelector(`[data-filter-for="${tableEl.id}"]`));
  const count = document.querySelector(`[data-count-for="${tableEl.id}"]`);
  const apply = () => {
    const words = (filter?.value || "").toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const row of body.rows) {
      const text = row.textContent.toLowerCase();
      const visible = words.every((w) => text.includes(w));
      row.hidden = !visible;
      if (visible) shown += 1;
    }
    if (count) count.textContent = `${shown} of ${body.rows.length} shown`;
  };
  filter?.addEventListener("input", apply);
  apply();
}

document.querySelectorAll("table.sortable").forEach(setup);
