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
