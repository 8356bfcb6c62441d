// How a body is shown: the views the detail pane offers, and which one
// a content type picks. Everything goes in as text, never as markup.

import { el } from "/js/dom.js";

export const VIEWS = ["auto", "json", "html", "xml", "text", "form", "multipart", "hex", "image"];

/** The view `auto` picks for a content type. */
export function guessView(type) {
  type = (type || "").toLowerCase();
  if (/^image\/(png|jpeg|gif|webp|bmp|x-icon|avif)/.test(type)) return "image";
  if (/json/.test(type)) return "json";
  if (/x-www-form-urlencoded/.test(type)) return "form";
  if (/multipart\/form-data/.test(type)) return "multipart";
  if (/html/.test(type)) return "html";
  if (/xml/.test(type)) return "xml";
  return "text";
}

/** A table of name/value pairs. */
export function kv(pairs) {
  return el("table", { className: "kv" }, ...pairs.map(([k, v]) =>
    el("tr", {}, el("td", { textContent: k }), el("td", { textContent: v == null ? "" : String(v) }))));
}

const VOID = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
  "param", "source", "track", "wbr", "!doctype"]);

/** Markup laid out one tag a line, indented by depth (HTML or XML). */
export function indentMarkup(text, html) {
  const out = [];
  let depth = 0;
  for (const raw of text.split(/(<[^>]*>)/)) {
    const part = raw.trim();
    if (!part) continue;
    if (part.startsWith("</")) {
      depth = Math.max(0, depth - 1);
      out.push("  ".repeat(depth) + part);
      continue;
    }
    out.push("  ".repeat(depth) + part);
    if (!part.startsWith("<") || part.startsWith("<?") || part.startsWith("<!--") || part.endsWith("/>")) continue;
    const name = (part.match(/^<([^\s>/]+)/) || [])[1]?.toLowerCase() ?? "";
    if (html && (VOID.has(name) || name.startsWith("!"))) continue;
    if (!html && name.startsWith("!")) continue;
    depth += 1;
  }
  return out.join("\n");
}

/** The parts of a multipart body: headers, name, filename and content. */
export function multipartParts(text, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || "");
  if (!m) return null;
  const boundary = "--" + (m[1] || m[2]);
  const parts = [];
  for (const chunk of text.split(boundary).slice(1)) {
    if (chunk.startsWith("--")) break;
    const body = chunk.replace(/^\r?\n/, "");
    const split = body.search(/\r?\n\r?\n/);
    const head = split < 0 ? body : body.slice(0, split);
    let content = split < 0 ? "" : body.slice(split).replace(/^\r?\n\r?\n/, "");
    content = content.replace(/\r?\n$/, "");
    const headers = head.split(/\r?\n/).filter(Boolean).map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
    });
    const disposition = headers.find(([k]) => k.toLowerCase() === "content-disposition")?.[1] ?? "";
    const field = (key) => (new RegExp(`${key}="([^"]*)"`, "i").exec(disposition) || [])[1];
    const type = headers.find(([k]) => k.toLowerCase() === "content-type")?.[1];
    parts.push({ name: field("name"), filename: field("filename"), type, content });
  }
  return parts;
}

/** `loaded` (the body's first bytes) in view `chosen`. */
export function renderBody(chosen, loaded, contentType) {
  const text = () => new TextDecoder("utf-8").decode(loaded);
  const pre = (t, cls = "") => el("pre", { className: "body " + cls, textContent: t });
  switch (chosen) {
    case "image": {
      const img = el("img", { className: "body", alt: "response image" });
      img.src = URL.createObjectURL(new Blob([loaded], { type: contentType || "image/png" }));
      return img;
    }
    case "json":
      try { return pre(JSON.stringify(JSON.parse(text()), null, 2), "json"); } catch { return pre(text()); }
    case "html":
      return pre(indentMarkup(text(), true), "markup");
    case "xml":
      return pre(indentMarkup(text(), false), "markup");
    case "form":
      return kv([...new URLSearchParams(text())]);
    case "multipart": {
      const parts = multipartParts(text(), contentType);
      if (!parts) return pre("(no multipart boundary in the content type)\n\n" + text());
      const table = el("table", { className: "kv multipart" },
        el("tr", {}, ...["name", "filename", "type", "value"].map((h) => el("th", { textContent: h }))));
      for (const p of parts) {
        const value = p.content.length > 2000 ? p.content.slice(0, 2000) + ` … (${p.content.length} chars)` : p.content;
        table.append(el("tr", {}, ...[p.name, p.filename, p.type, value].map((v) => el("td", { textContent: v ?? "" }))));
      }
      return table;
    }
    case "hex": {
      const lines = [];
      for (let i = 0; i < loaded.length; i += 16) {
        const chunk = [...loaded.slice(i, i + 16)];
        lines.push(i.toString(16).padStart(8, "0") + "  " +
          chunk.map((b) => b.toString(16).padStart(2, "0")).join(" ").padEnd(48) + "  " +
          chunk.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join(""));
      }
      return pre(lines.join("\n"), "hex");
    }
    default:
      return pre(text());
  }
}
