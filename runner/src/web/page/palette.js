// The command palette (Ctrl+K): every action by name. Words typed narrow
// the list; arrows move; Enter runs; Escape closes.

import { el } from "/js/dom.js";

/**
 * Opens the palette over `commands` ({ name, key?, run }); `commands` is
 * a function so that the list reflects the moment it opens.
 */
export function openPalette(commands) {
  if (document.getElementById("palette")) return;
  const all = commands();
  const input = el("input", { type: "text", placeholder: "Type a command…", spellcheck: false, autocomplete: "off" });
  input.setAttribute("aria-label", "command");
  const list = el("div", { className: "palette-list", role: "listbox" });
  const box = el("div", { id: "palette", role: "dialog" }, input, list);
  const shade = el("div", { className: "palette-shade" }, box);
  let shown = all;
  let at = 0;
  const close = () => shade.remove();
  const draw = () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    shown = all.filter((c) => words.every((w) => c.name.toLowerCase().includes(w)));
    at = Math.min(at, Math.max(0, shown.length - 1));
    list.replaceChildren(...shown.map((c, i) => {
      const item = el("div", { className: "palette-item" + (i === at ? " active" : ""), role: "option" },
        el("span", { textContent: c.name }), el("kbd", { textContent: c.key || "" }));
      item.addEventListener("mousedown", (e) => { e.preventDefault(); at = i; run(); });
      return item;
    }));
    if (!shown.length) list.append(el("div", { className: "palette-none", textContent: "no command matches" }));
    list.querySelector(".active")?.scrollIntoView({ block: "nearest" });
  };
  const run = () => {
    const c = shown[at];
    close();
    if (c) c.run();
  };
  input.addEventListener("input", () => { at = 0; draw(); });
  input.addEventListener("keydown", (e) => {
    // The page's own keys must not see these (Enter would move the
    // focus away from where a command just put it).
    if (e.key === "Enter" || e.key === "Escape") e.stopPropagation();
    if (e.key === "ArrowDown") at = Math.min(shown.length - 1, at + 1);
    else if (e.key === "ArrowUp") at = Math.max(0, at - 1);
    else if (e.key === "Enter") return run();
    else if (e.key === "Escape") return close();
    else return;
    e.preventDefault();
    draw();
  });
  input.addEventListener("blur", () => setTimeout(close, 0));
  document.body.append(shade);
  draw();
  input.focus();
}
