// Book pages (chapters and articles): the chapter sidebar and the "On this page" outline open
// on screens wide enough to show them beside the text (each <details data-open-from="WIDTH">),
// and each heading's copy-link button copies the page's address with the heading's fragment.
// Without this script both boxes stay closed toggles and each heading's "#" link still works.

function openWhenWide(details) {
  const wide = matchMedia(`(min-width: ${details.dataset.openFrom})`);
  if (wide.matches) details.open = true;
  wide.addEventListener("change", () => { if (wide.matches) details.open = true; });
}

function announcer() {
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  document.body.append(status);
  return (text) => { status.textContent = text; };
}

async function copyLink(button, say) {
  const url = new URL(location.href);
  url.hash = button.dataset.copyFragment;
  let copied = false;
  try {
    await navigator.clipboard.writeText(url.href);
    copied = true;
  } catch {
    history.replaceState(null, "", url.href); // no clipboard: the address bar holds the link instead
  }
  button.textContent = copied ? "Copied" : "See address bar";
  say(copied ? "Link copied" : "Link to this section is in the address bar");
  setTimeout(() => { button.textContent = "Copy link"; }, 2000);
}

function start() {
  document.querySelectorAll("details[data-open-from]").forEach(openWhenWide);
  const say = announcer();
  for (const button of /** @type {NodeListOf<HTMLButtonElement>} */ (
    document.querySelectorAll("button[data-copy-fragment]"))) {
    button.hidden = false;
    button.addEventListener("click", () => copyLink(button, say));
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
