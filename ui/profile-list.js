// The profile list: every profile with its kind, region, default marker and who it is.
import { $, el, principal, when as checkedWhen } from "./dom.js";
import { kindLabel, errorHeadline, staleBadge, staleNote } from "./vocabulary.js";
import { message } from "./api.js";

const optionId = (name) => "profile-" + encodeURIComponent(name).replace(/%/g, "_");

function identityLine(result, checking) {
  const line = whoLine(result, checking);
  if (result && result.stale) line.classList.add("stale");
  return line;
}

function whoLine(result, checking) {
  if (!result) {
    return checking
      ? el("div", { class: "who pending", text: "Checking…" })
      : el("div", { class: "who pending", text: "Not checked yet" });
  }
  const session = result.session_minutes_left != null ? ` · session ${result.session_minutes_left} min left` : "";
  // A result checked with settings, a key or a session that changed since no longer says who
  // it is; the badge says which, in the place of when it was checked (a row has room for one of
  // them; the editor's card says both).
  const when = el("span", { class: "muted" }, session + " · ",
    result.stale
      ? el("span", { class: "badge stale", text: staleBadge(result.stale_because), title: staleNote(result.stale_because) })
      : checkedWhen(result.checked_at));
  if (result.status === "aws_tools_cannot_read") {
    return el("div", { class: "who warn", title: message(result.error) },
      `⚠ ${errorHeadline(result.error.code)}`, when);
  }
  if (result.arn) {
    const health = result.key_health;
    const badges = [];
    if (health && health.rotate_due) badges.push(el("span", { class: "badge attention", text: `rotate: ${health.age_days} days old` }));
    if (health && health.unused) badges.push(el("span", { class: "badge attention", text: `unused ${health.unused_days} days` }));
    return el("div", { class: "who ok", title: result.arn },
      `✓ ${result.account} · ${principal(result.arn)}`, ...badges, when);
  }
  if (result.status === "settings_only") {
    return el("div", { class: "who neutral", title: result.error ? message(result.error) : "" },
      "Settings only, no credentials", when);
  }
  return el("div", { class: "who bad", title: message(result.error) },
    `✕ ${errorHeadline(result.error.code)}`, when);
}

function matches(profile, filter, identity, attention) {
  // The engine says what needs the person (it fails, the AWS tools cannot read it, its key).
  if (attention && !(identity && identity.needs_attention)) return false;
  if (!filter) return true;
  const hay = [profile.name, profile.kind, kindLabel(profile.kind), profile.region, profile.access_key_id,
    identity && identity.arn, identity && identity.account].filter(Boolean).join(" ").toLowerCase();
  return filter.toLowerCase().split(/\s+/).every((word) => hay.includes(word));
}

/** The profiles shown under the current filter. */
export function visibleProfiles(state) {
  return state.view.profiles.filter((p) => matches(p, state.filter, state.identities.get(p.name), state.attention));
}

const rows = new Map(); // profile name -> { node, signature }, for the rows in the DOM

// Only the rows in view (and a margin around them) are in the DOM, each at its place in a list
// of fixed-height rows: 2,000 profiles cost what 60 do (scripts/bench-app measures it).
const ROW_HEIGHT = 84; // px, one row and the gap below it (style.css: .profile's height + 4)
const MARGIN_ROWS = 20;
let last = null; // { state, onSelect }: what the list showed last, for scrolling

function rowSignature(p, identity, checking, selected) {
  return JSON.stringify([p.kind, p.region, p.access_key_id, p.is_default, identity, checking, selected]);
}

function buildRow(p, identity, checking, selected) {
  const node = el("li", { id: optionId(p.name), class: "profile", role: "option", "data-name": p.name });
  // Select on press, not on click: a row rebuilt while the button is down would lose the click.
  node.addEventListener("mousedown", (event) => { if (event.button === 0) { event.preventDefault(); node.onselect(); } });
  fillRow(node, p, identity, checking, selected);
  return node;
}

function fillRow(node, p, identity, checking, selected) {
  node.setAttribute("aria-selected", selected ? "true" : "false");
  node.replaceChildren(
    el("span", { class: "name", text: p.name, title: p.name }),
    p.is_default ? el("span", { class: "badge default", text: "default", title: "Used when no profile is named" }) : el("span"),
    el("div", { class: "meta" },
      el("span", { class: "chip", text: kindLabel(p.kind) }),
      el("span", { text: p.region || "no region" }),
      p.access_key_id ? el("span", { class: "mono", text: p.access_key_id }) : null),
    identityLine(identity, checking));
}

/** Bring the list up to date, touching only the rows in view whose content changed. */
export function renderList(state, onSelect) {
  last = { state, onSelect };
  const list = $("#profiles");
  followScrolling(list);
  const shown = visibleProfiles(state);
  const selectedIndex = shown.findIndex((p) => p.name === state.selected);
  // A narrower filter shortens the list: never look below its new end.
  const lowest = Math.max(0, shown.length * ROW_HEIGHT + 8 - list.clientHeight);
  if (list.scrollTop > lowest) list.scrollTop = lowest;
  const first = Math.max(0, Math.floor(list.scrollTop / ROW_HEIGHT) - MARGIN_ROWS);
  const end = Math.min(shown.length, Math.ceil((list.scrollTop + (list.clientHeight || 800)) / ROW_HEIGHT) + MARGIN_ROWS);
  const indexes = [];
  for (let i = first; i < end; i++) indexes.push(i);
  // The selected row stays in the DOM wherever it is: the list's active descendant names it.
  if (selectedIndex >= 0 && (selectedIndex < first || selectedIndex >= end)) indexes.push(selectedIndex);
  const wanted = [spacer(shown.length)];
  const kept = new Set();
  for (const i of indexes) {
    const p = shown[i];
    const identity = state.identities.get(p.name);
    const checking = state.checking.has(p.name);
    const selected = i === selectedIndex;
    const signature = rowSignature(p, identity, checking, selected);
    let row = rows.get(p.name);
    if (!row) {
      row = { node: buildRow(p, identity, checking, selected), signature };
      rows.set(p.name, row);
    } else if (row.signature !== signature) {
      fillRow(row.node, p, identity, checking, selected);
      row.signature = signature;
    }
    row.node.style.top = `${i * ROW_HEIGHT + 4}px`;
    row.node.setAttribute("aria-posinset", String(i + 1));
    row.node.setAttribute("aria-setsize", String(shown.length));
    row.node.onselect = () => onSelect(p.name, { focusList: true });
    wanted.push(row.node);
    kept.add(p.name);
  }
  for (const name of [...rows.keys()]) if (!kept.has(name)) rows.delete(name);
  const current = [...list.children];
  if (current.length !== wanted.length || current.some((node, i) => node !== wanted[i])) list.replaceChildren(...wanted);
  $("#no-match").hidden = shown.length > 0 || state.view.profiles.length === 0;
  $("#profile-count").textContent = shown.length !== state.view.profiles.length
    ? `(${shown.length} of ${state.view.profiles.length})`
    : `(${state.view.profiles.length})`;
  const selectedNode = state.selected && document.getElementById(optionId(state.selected));
  if (selectedNode) {
    list.setAttribute("aria-activedescendant", selectedNode.id);
    for (const node of list.querySelectorAll(".active-descendant")) if (node !== selectedNode) node.classList.remove("active-descendant");
    selectedNode.classList.toggle("active-descendant", document.activeElement === list);
  } else {
    list.removeAttribute("aria-activedescendant");
  }
}

/** The list's full height, so that it scrolls as if every row were there. */
let spacerNode = null;
function spacer(count) {
  if (!spacerNode) spacerNode = el("li", { class: "list-spacer", role: "presentation", "aria-hidden": "true" });
  spacerNode.style.height = `${count * ROW_HEIGHT + 8}px`;
  return spacerNode;
}

// Scrolling brings the rows now in view, once per frame.
let scrollFrame = 0;
function followScrolling(list) {
  if (list.dataset.follows) return;
  list.dataset.follows = "true";
  list.addEventListener("scroll", () => {
    if (scrollFrame || !last) return;
    scrollFrame = requestAnimationFrame(() => { scrollFrame = 0; renderList(last.state, last.onSelect); });
  });
}

/** Arrow keys, Home/End move the selection within the list. */
export function listKeys(event, state, onSelect) {
  const shown = visibleProfiles(state);
  if (!shown.length) return false;
  let index = shown.findIndex((p) => p.name === state.selected);
  switch (event.key) {
    case "ArrowDown": index = Math.min(shown.length - 1, index + 1); break;
    case "ArrowUp": index = Math.max(0, index - 1); break;
    case "Home": index = 0; break;
    case "End": index = shown.length - 1; break;
    default: return false;
  }
  onSelect(shown[index].name, { focusList: true });
  return true;
}

export function scrollToSelected(state) {
  const list = $("#profiles");
  const index = visibleProfiles(state).findIndex((p) => p.name === state.selected);
  if (index < 0) return;
  const top = index * ROW_HEIGHT;
  if (top < list.scrollTop) list.scrollTop = top;
  else if (top + ROW_HEIGHT + 8 > list.scrollTop + list.clientHeight) list.scrollTop = top + ROW_HEIGHT + 8 - list.clientHeight;
  if (last) renderList(last.state, last.onSelect);
}
