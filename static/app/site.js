// Progressive enhancement without inline script (the Content-Security-Policy allows
// scripts from this site only): mark the page as JavaScript-enabled for GOV.UK
// Frontend, start its components, and wire the print buttons.
import { initAll } from "../build/govuk-frontend.min.js";

document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("govuk-frontend-supported");
}
initAll();

for (const button of document.querySelectorAll("[data-app-print]")) {
  button.addEventListener("click", () => window.print());
}
