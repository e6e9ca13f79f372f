// Small DOM helpers: build elements without innerHTML, so no file content is ever parsed as HTML.

export const $ = (selector, root = document) => root.querySelector(selector);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Show `advice` ({level, message} or null) under a field and mark it invalid when it is an error. */
export function showAdvice(input, advice) {
  const id = (input.getAttribute("aria-describedby") || "").split(" ").find((i) => i.endsWith("-advice"));
  const box = id && document.getElementById(id);
  if (box) {
    box.textContent = advice ? advice.message : "";
    box.className = "advice" + (advice ? " " + advice.level : "");
  }
  input.setAttribute("aria-invalid", advice && advice.level === "error" ? "true" : "false");
}

/** Fill a <select> with `values`, an empty choice first, keeping `current` even when unknown. */
export function fillSelect(select, values, current, emptyLabel = "(not set)") {
  select.replaceChildren(el("option", { value: "", text: emptyLabel }));
  const all = current && !values.includes(current) ? [current, ...values] : values;
  for (const v of all) select.append(el("option", { value: v, text: v }));
  select.value = current || "";
}

export function announce(text, kind = "") {
  const box = document.getElementById("notice");
  document.getElementById("notice-text").textContent = text;
  document.getElementById("notice-close").onclick = () => { box.hidden = true; };
  box.className = "notice" + (kind ? " " + kind : "");
  box.hidden = !text;
  clearTimeout(announce.timer);
  if (text && kind !== "error") announce.timer = setTimeout(() => (box.hidden = true), 6000);
}

/** An ARN that a narrow window breaks after its `:` and `/`, never inside a word. */
export function arnText(arn) {
  const parts = [];
  for (const piece of String(arn).split(/([:/])/)) {
    parts.push(piece);
    if (piece === ":" || piece === "/") parts.push(document.createElement("wbr"));
  }
  return parts;
}

/** "user alice", "role Admin", "root" from an ARN. */
export function principal(arn) {
  const resource = arn.split(":").slice(5).join(":");
  if (resource === "root") return "root user";
  const [type, ...rest] = resource.split("/");
  if (type === "user") return "user " + rest[rest.length - 1];
  if (type === "assumed-role") return "role " + rest[0];
  return resource;
}

export function timeAgo(ms) {
  const seconds = Math.round((Date.now() - ms) / 1000);
  if (seconds < 45) return "just now";
  if (seconds < 3600) return Math.max(1, Math.round(seconds / 60)) + " min ago";
  if (seconds < 86400) return Math.round(seconds / 3600) + " h ago";
  return "on " + new Date(ms).toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" });
}

/** "checked 3 min ago" (after `prefix`), kept true as time goes by: see refreshTimes. */
export function when(ms, prefix = "") {
  return el("span", { class: "when", "data-at": String(ms), "data-prefix": prefix, text: prefix + timeAgo(ms) });
}

/** Bring every time shown by `when` up to date (every row and card says it the same way). */
export function refreshTimes() {
  for (const node of document.querySelectorAll(".when[data-at]")) {
    const text = node.dataset.prefix + timeAgo(Number(node.dataset.at));
    if (node.textContent !== text) node.textContent = text;
  }
}
