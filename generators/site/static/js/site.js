// Site-wide behaviour: the light/dark theme switch (remembered in localStorage).
const THEMES = ["auto", "light", "dark"];

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  const button = document.querySelector(".theme-toggle");
  if (button) button.textContent = `Theme: ${theme}`;
}

function storedTheme() {
  try { return localStorage.getItem("inferbook-theme") || "auto"; } catch { return "auto"; }
}

applyTheme(storedTheme());
document.addEventListener("DOMContentLoaded", () => {
  applyTheme(storedTheme());
  const button = document.querySelector(".theme-toggle");
  if (!button) return;
  button.addEventListener("click", () => {
    const next = THEMES[(THEMES.indexOf(document.documentElement.dataset.theme) + 1) % THEMES.length];
    try { localStorage.setItem("inferbook-theme", next); } catch { /* private mode */ }
    applyTheme(next);
  });
});

// Wide formulas, code and tables scroll sideways inside their box; a box that scrolls
// and holds nothing focusable gets tabindex=0 so keyboard users can scroll it too.
const SCROLLERS = ".math-display, figure.formula, pre, .table-scroll, .prose p, .prose li";
const FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

function markScrollable() {
  delete document.documentElement.dataset.scrollPending;
  for (const box of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll(SCROLLERS))) {
    const scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls && !box.hasAttribute("tabindex") && !box.querySelector(FOCUSABLE)) {
      box.tabIndex = 0;
      box.dataset.scrollFocus = "true";
    } else if (!scrolls && box.dataset.scrollFocus) {
      box.removeAttribute("tabindex");
      delete box.dataset.scrollFocus;
    }
  }
}

let resizeTimer;
/** Look again once the page settles: after a resize, or after a tool draws its tables.
 * `data-scroll-pending` on the root says a look is due, so tests can wait for it. */
function markSoon() {
  document.documentElement.dataset.scrollPending = "true";
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(markScrollable, 150);
}
document.addEventListener("DOMContentLoaded", () => {
  markScrollable();
  // tools fill their output after their data loads, and again on every edit
  for (const output of document.querySelectorAll(".tool-output")) {
    new MutationObserver(markSoon).observe(output, { childList: true, subtree: true });
  }
});
window.addEventListener("resize", markSoon);
