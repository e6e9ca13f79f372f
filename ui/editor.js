// The editor of one profile: the four `aws configure` answers, the session token and every other
// setting. Validated as typed; saving sends only what changed. Secrets stay masked and are
// fetched only when the person presses Show; Copy puts them on the clipboard without the page
// seeing them, for about 30 seconds.
import * as api from "./api.js";
import { $, el, showAdvice, fillSelect, principal, when, announce, arnText } from "./dom.js";
import { kindLabel, errorHeadline, isSecretKey, staleNote } from "./vocabulary.js";
import { confirmDialog } from "./dialogs.js";
import { askForMfaCode } from "./mfa.js";
import * as sso from "./sso.js";

const FIXED = {
  aws_access_key_id: "#f-key",
  aws_secret_access_key: "#f-secret",
  aws_session_token: "#f-token",
  region: "#f-region",
  output: "#f-output",
};

let ctx;            // { state, reload, actions }
/** The buttons that act on the profile shown (not on the form). */
const PROFILE_ACTIONS = "#copy-profile, #rename-profile, #delete-profile, #rotate, #vault-move, #identity-card button";
let form = null;    // { profile, revision, original: Map, rows: [...], errors: Set }

export function initEditor(context) {
  ctx = context;
  const f = $("#editor-form");
  f.addEventListener("submit", (e) => { e.preventDefault(); save(); });
  f.addEventListener("input", onInput);
  f.addEventListener("change", onInput);
  $("#discard").addEventListener("click", discard);
  for (const button of document.querySelectorAll("#editor-form .reveal")) button.addEventListener("click", () => reveal(button));
  for (const button of document.querySelectorAll("#editor-form .copy-secret")) button.addEventListener("click", () => copySecret(button));
  $("#add-setting").addEventListener("click", addSetting);
  $("#new-key").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); $("#new-value").focus(); } });
  $("#new-value").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); addSetting(); } });
  $("#copy-profile").addEventListener("click", () => ctx.actions.copy());
  $("#rename-profile").addEventListener("click", () => ctx.actions.rename());
  $("#delete-profile").addEventListener("click", () => ctx.actions.remove());
  $("#rotate").addEventListener("click", () => ctx.actions.rotate());
  $("#vault-move").addEventListener("click", () => ctx.actions.vault());
}

export const isDirty = () => !!form && changes().length > 0;

/** Whether the editor holds unsaved changes to profile `name` (kept while the files change). */
export const keepsEdits = (name) => !!form && form.profile === name && isDirty();

/** Let the unsaved changes go: keyrack itself is deleting or renaming the profile. */
export function forgetEdits() { form = null; }

/** Discard the unsaved changes; of a profile no longer in the files, show the default one. */
function discard() {
  if (!form) return;
  if (profileNamed(form.profile)) { show(form.profile, { force: true }); return; }
  form = null;
  ctx.actions.selectFirstChoice();
}

function profileNamed(name) {
  return ctx.state.view.profiles.find((p) => p.name === name);
}

function setting(profile, key) {
  return profile.settings.find((s) => s.key === key);
}

function whereText(s) {
  return s ? `${s.file} file, line ${s.line}` : "";
}

/** Show `name` in the editor. Unsaved edits of the profile shown are kept unless `force`. */
export function show(name, { force = false } = {}) {
  const profile = name && profileNamed(name);
  if (!force && keepsEdits(name)) {
    // The files changed on disk while the person edits: keep the edits, say so. Even when the
    // profile left the files (a program that empties a file before writing it, a rename away
    // and back): the edits are the person's, and only they let them go.
    const box = $("#editor-changed");
    box.textContent = profile
      ? "The files changed on disk while you were editing. Your unsaved changes are kept; " +
        "Save applies them to the new version (keyrack asks first if another program changed the same settings)."
      : `Profile ${name} is no longer in the files: another program removed or renamed it, or is rewriting the file. ` +
        "Your unsaved changes are kept here, and can be saved if it comes back; Discard lets them go.";
    box.hidden = false;
    // Nothing acts on a profile that is not there (its key, its name, its check).
    form.gone = !profile;
    for (const button of document.querySelectorAll(PROFILE_ACTIONS)) button.disabled = form.gone;
    if (profile) renderIdentity(profile);
    updateFoot();
    return;
  }
  $("#editor-empty").hidden = !!profile;
  $("#editor-form").hidden = !profile;
  if (!profile) { form = null; return; }
  $("#editor-changed").hidden = true;
  $("#editor-error").textContent = "";
  for (const button of document.querySelectorAll(PROFILE_ACTIONS)) button.disabled = false;
  // Another profile starts at its top (its name), not where the last one was scrolled to.
  if (!form || form.profile !== name) $("#editor").scrollTop = 0;
  form = { profile: name, revision: ctx.state.view.revision, original: new Map(), rows: [], errors: new Set(), revealed: new Set() };
  $("#editor-title").textContent = profile.name;
  $("#editor-kind").textContent = kindLabel(profile.kind) + (profile.is_default ? " · default profile" : "");
  // The engine decides what the key allows (an incomplete key is neither rotated nor moved).
  const keyActions = profile.key_actions;
  $("#rotate").hidden = !keyActions.rotate;
  const inKeychain = keyActions.move_to_file;
  const vaultButton = $("#vault-move");
  vaultButton.hidden = !keyActions.move_to_file && !keyActions.move_to_keychain;
  vaultButton.textContent = inKeychain ? "Move key to file" : "Move key to keychain";
  vaultButton.title = inKeychain
    ? "Put the key back into the credentials file and remove it from the OS keychain"
    : "Keep the key in the OS keychain instead of the credentials file; the AWS tools read it through keyrack";

  for (const [key, selector] of Object.entries(FIXED)) {
    const input = $(selector);
    const s = setting(profile, key);
    form.original.set(key, s ? (s.secret ? null : s.value ?? "") : undefined);
    if (key === "region") fillSelect(input, ctx.state.view.regions, s && s.value);
    else if (key === "output") fillSelect(input, ctx.state.view.output_formats, s && s.value);
    else if (isSecretKey(key)) {
      input.value = "";
      input.type = "password";
      // An empty secret is shown as empty: masking it would say a secret is saved.
      const empty = !!s && s.value === "";
      input.placeholder = empty ? "empty (set to nothing)" : s ? "•••••••••••••••• (saved; Show to see it)" : profile.kind === "keychain" ? "kept in the OS keychain" : "not set";
      input.dataset.dirty = "";
      const row = input.closest(".field");
      row.querySelector(".reveal").disabled = !s || empty;
      row.querySelector(".reveal").textContent = "Show";
      row.querySelector(".reveal").setAttribute("aria-pressed", "false");
      row.querySelector(".copy-secret").disabled = !s || empty;
    } else input.value = s ? s.value ?? "" : "";
    input.classList.remove("dirty");
    showAdvice(input, null);
    const where = document.getElementById(input.id + "-where");
    if (where) where.textContent = whereText(s);
    if (input.dataset.key === "aws_access_key_id") {
      const inKeychain = profile.kind === "keychain" && !s && profile.access_key_id;
      input.placeholder = inKeychain ? `${profile.access_key_id} (kept in the OS keychain)` : "AKIA…";
    }
  }

  const box = $("#other-settings");
  box.replaceChildren();
  for (const s of profile.settings) {
    if (s.key in FIXED) continue;
    if (s.nested.length) {
      for (const [sub, value] of s.nested) addRow(`${s.key}.${sub}`, value, s, false);
    } else addRow(s.key, s.secret && s.value !== "" ? null : s.value ?? "", s, false);
  }
  $("#new-key").value = "";
  $("#new-value").value = "";
  showAdvice($("#new-key"), null);
  showAdvice($("#new-value"), null);
  renderIdentity(profile);
  updateFoot();
}

let rowCounter = 0;
function addRow(key, value, s, isNew) {
  const id = "o-" + ++rowCounter;
  const secret = isSecretKey(key);
  const input = el("input", {
    id, "data-key": key, autocomplete: "off", spellcheck: "false",
    type: secret ? "password" : "text",
    "aria-describedby": `${id}-advice`,
    placeholder: secret && !isNew ? (value === null ? "•••••••• (saved)" : "empty (set to nothing)") : "",
  });
  input.value = value ?? "";
  const remove = el("button", { type: "button", class: "danger", "aria-label": `Remove ${key}`, text: "Remove" });
  const row = { key, input, remove, removed: false, isNew, original: isNew ? undefined : value };
  remove.addEventListener("click", () => {
    if (row.isNew) { row.nodes.forEach((n) => n.remove()); form.rows = form.rows.filter((r) => r !== row); updateFoot(); return; }
    row.removed = !row.removed;
    input.disabled = row.removed;
    remove.textContent = row.removed ? "Keep" : "Remove";
    remove.setAttribute("aria-label", (row.removed ? "Keep " : "Remove ") + key);
    label.classList.toggle("removed", row.removed);
    label.firstChild.textContent = row.removed ? key + " (will be removed)" : key;
    updateFoot();
  });
  const label = el("label", { class: "key", for: id }, key, el("span", { class: "where", text: s ? ` ${whereText(s)}` : " new" }));
  label.firstChild.textContent = key;
  const advice = el("p", { class: "advice", id: `${id}-advice` });
  row.nodes = [label, el("div", {}, input, advice), remove];
  $("#other-settings").append(...row.nodes);
  form.rows.push(row);
  if (isNew) input.classList.add("dirty");
  return row;
}

async function validate(input) {
  const key = input.dataset.key;
  if (!key) return;
  const advice = await api.checkInput(key, input.value);
  showAdvice(input, advice);
  if (form) {
    if (advice && advice.level === "error") form.errors.add(input.id); else form.errors.delete(input.id);
    updateFoot();
  }
}

function onInput(event) {
  const input = event.target;
  if (!form || !(input instanceof HTMLInputElement || input instanceof HTMLSelectElement)) return;
  if (input.id === "new-key") { checkNewKey(); return; }
  if (input.id === "new-value") { validateNewValue(); return; }
  // Spaces around a pasted or typed value are never part of it: gone on paste and on leaving.
  if ((event.inputType === "insertFromPaste" || event.type === "change") && input.value !== input.value.trim()) {
    input.value = input.value.trim();
  }
  if (isSecretKey(input.dataset.key) && event.type === "input") {
    input.dataset.dirty = "1";
    secretTyped(input);
  }
  validate(input);
  input.classList.toggle("dirty", fieldChanged(input));
  updateFoot();
}

function fieldChanged(input) {
  const key = input.dataset.key;
  if (isSecretKey(key)) return input.dataset.dirty === "1";
  const row = form.rows.find((r) => r.input === input);
  const original = row ? row.original : form.original.get(key);
  return (original ?? "") !== input.value;
}

/** The changes the form holds, as the engine takes them. */
function changes() {
  const out = [];
  for (const [key, selector] of Object.entries(FIXED)) {
    const input = $(selector);
    if (!fieldChanged(input)) continue;
    const existed = form.original.get(key) !== undefined;
    if (input.value === "") { if (existed) out.push({ op: "unset", key }); }
    else out.push({ op: "set", key, value: input.value });
  }
  for (const row of form.rows) {
    if (row.removed) out.push({ op: "unset", key: row.key });
    else if (row.isNew || fieldChanged(row.input)) out.push({ op: "set", key: row.key, value: row.input.value });
  }
  return out;
}

function updateFoot() {
  if (!form) return;
  const n = changes().length;
  const errors = form.errors.size;
  $("#save").disabled = n === 0 || errors > 0 || !!form.gone;
  $("#discard").disabled = n === 0;
  $("#dirty-note").textContent = errors
    ? `${errors} field${errors > 1 ? "s" : ""} to fix before saving`
    : n ? `${n} unsaved change${n > 1 ? "s" : ""}` : "No unsaved changes";
}

export async function save({ force = false } = {}) {
  if (!form || $("#save").disabled) return;
  const list = changes();
  const name = form.profile;
  $("#editor-error").textContent = "";
  try {
    const applied = await api.applyChange(form.revision, { action: "edit", profile: name, changes: list }, force);
    const files = applied.saved.length ? applied.saved.join(" and ") + " file" + (applied.saved.length > 1 ? "s" : "") : "no file (nothing changed)";
    announce(`Saved ${list.length} change${list.length > 1 ? "s" : ""} to profile ${name} in the ${files}` +
      (applied.reapplied ? "; the files had changed on disk, their changes were kept" : "") +
      (applied.warnings.length ? ". " + applied.warnings.join(" ") : ""));
    form = null;
    await ctx.reload();
    ctx.actions.select(name);
  } catch (error) {
    // Another program changed what the person edits, or changed the files so often that keyrack
    // no longer knows what the person saw: either way, ask.
    if (error && (error.code === "changed_on_disk" || error.code === "view_too_old")) {
      const keep = await confirmDialog({
        title: "Changed by another program",
        text: [api.message(error), "Save yours over theirs, or discard your changes and look at theirs?"],
        ok: "Save mine",
        cancel: "Discard mine",
      });
      if (keep) return save({ force: true });
      form = null;
      await ctx.reload();
      show(name, { force: true });
      return;
    }
    $("#editor-error").textContent = api.message(error);
  }
}

/**
 * A secret being typed can be shown and copied like a saved one; emptied, the field says the
 * saved one goes when the profile is saved (not that it is still saved).
 */
function secretTyped(input) {
  const row = input.closest(".field");
  const show = row && row.querySelector(".reveal");
  if (show) show.disabled = !input.value && input.type === "password";
  const copy = row && row.querySelector(".copy-secret");
  if (copy) copy.disabled = !input.value;
  if (!input.value && form && form.original.has(input.dataset.key) && form.original.get(input.dataset.key) !== undefined) {
    input.placeholder = "removed when you save";
  }
}

async function reveal(button) {
  const input = document.getElementById(button.dataset.for);
  if (input.type === "text") {
    input.type = "password";
    if (input.dataset.dirty !== "1") input.value = "";
    button.textContent = "Show";
    button.setAttribute("aria-pressed", "false");
    return;
  }
  if (input.dataset.dirty !== "1") {
    try { input.value = await api.revealSecret(form.profile, input.dataset.key); } catch (e) { announce(api.message(e), "error"); return; }
  }
  input.type = "text";
  button.textContent = "Hide";
  button.setAttribute("aria-pressed", "true");
  // A shown secret does not stay on screen: it hides again after a while, as the clipboard
  // forgets a copied one.
  clearTimeout(button.hideTimer);
  button.hideTimer = setTimeout(() => { if (input.type === "text" && input.isConnected) reveal(button); }, clipboardSeconds() * 1000);
}

/** How long a copied secret stays on the clipboard (keyrack empties it after that, if unchanged), from keyrack's settings. */
const clipboardSeconds = () => ctx.state.view.settings.clipboard_seconds;

async function copySecret(button) {
  const input = document.getElementById(button.dataset.for);
  const typed = input.dataset.dirty === "1" ? input.value : null;
  try {
    try {
      // keyrack puts it on the clipboard and takes it off again: the saved secret never enters the page.
      await api.copySecret(form.profile, input.dataset.key, typed);
    } catch (e) {
      if (!e || e.code !== "clipboard_unsupported") throw e;
      const value = typed ?? await api.revealSecret(form.profile, input.dataset.key);
      await writeClipboard(value);
      clearClipboardLater(value);
      announce(`Copied to the clipboard. keyrack tries to empty it again in ${clipboardSeconds()} seconds, and says so if it cannot.`);
      return;
    }
    announce(`Copied to the clipboard; keyrack empties it again in ${clipboardSeconds()} seconds.`);
  } catch (e) {
    announce("Could not copy: " + api.message(e), "error");
  }
}

/** Where keyrack cannot use the clipboard itself: empty it after a while if it still holds `value`. */
function clearClipboardLater(value) {
  setTimeout(async () => {
    try {
      if (navigator.clipboard && (await navigator.clipboard.readText()) === value) await navigator.clipboard.writeText("");
    } catch {
      // The clipboard cannot be read, so what is on it may be the person's own: it is left, and said.
      announce("keyrack could not check the clipboard, so the copied secret may still be on it: copy something else over it.", "error");
    }
  }, clipboardSeconds() * 1000);
}

async function writeClipboard(text) {
  if (navigator.clipboard && navigator.clipboard.writeText) {
    try { await navigator.clipboard.writeText(text); return; } catch { /* fall back below */ }
  }
  const area = el("textarea", { class: "visually-hidden", "aria-hidden": "true" });
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

async function checkNewKey() {
  const key = $("#new-key");
  const value = key.value.trim();
  let advice = value ? await api.checkInput("key", value.split(".")[0]) : null;
  if (!advice && value && form && (value in FIXED || form.rows.some((r) => r.key === value))) {
    advice = { level: "error", message: `${value} is already in this profile; change it above` };
  }
  showAdvice(key, advice);
  $("#new-value").dataset.key = value;
  return !advice || advice.level !== "error";
}

async function validateNewValue() {
  const input = $("#new-value");
  const advice = await api.checkInput(input.dataset.key || "value", input.value);
  showAdvice(input, advice);
  return !advice || advice.level !== "error";
}

async function addSetting() {
  const key = $("#new-key").value.trim();
  if (!key) { showAdvice($("#new-key"), { level: "error", message: "Type the name of the setting first" }); $("#new-key").focus(); return; }
  if (!(await checkNewKey()) || !(await validateNewValue())) return;
  const row = addRow(key, $("#new-value").value, null, true);
  $("#new-key").value = "";
  $("#new-value").value = "";
  validate(row.input);
  updateFoot();
  $("#new-key").focus();
}

/** The key's age and last use, and what they call for (rotate it, it is unused). */
function keyHealthLines(health) {
  if (!health) return [];
  if (health.unknown) return [el("div", { class: "muted small", text: `Key age unknown: ${health.unknown}` })];
  const used = health.last_used ? `last used ${health.unused_days} day${health.unused_days === 1 ? "" : "s"} ago` : "never used";
  const lines = [el("div", { class: "small key-health", text: `Key ${health.access_key_id} is ${health.age_days} day${health.age_days === 1 ? "" : "s"} old, ${used}.` })];
  if (health.rotate_due) lines.push(el("div", { class: "small attention", text: `Due for rotation: keys older than ${ctx.state.view.settings.rotate_after_days} days should be replaced (Rotate key does it safely).` }));
  if (health.unused) lines.push(el("div", { class: "small attention", text: `Unused for ${health.unused_days} days: if nothing needs it, make it Inactive or delete it at AWS.` }));
  return lines;
}

export function renderIdentity(profile) {
  const card = $("#identity-card");
  const result = ctx.state.identities.get(profile.name);
  const checking = ctx.state.checking.has(profile.name);
  const button = el("button", { type: "button", id: "check-one", text: checking ? "Checking…" : result && result.stale ? "Check again" : "Check", disabled: checking, onclick: () => ctx.actions.checkOne(profile.name) });
  // Checked with settings, a key or a session that changed since: the result may no longer be
  // true, and the note says which (the engine's words).
  const stale = result && result.stale && !checking
    ? el("div", { class: "stale-note", id: "identity-stale", text: "⟳ " + staleNote(result.stale_because) })
    : null;
  // A profile behind an MFA device with no session yet: sign in now, so it and every profile
  // behind the device (and the AWS tools, through keyrack) work until the session ends.
  const signIn = result && result.mfa_device && result.session_minutes_left == null && !checking
    ? el("button", { type: "button", id: "mfa-sign-in", text: "Sign in with MFA", onclick: async () => {
      try {
        const session = await api.mfaLogin(profile.name, askForMfaCode);
        announce(`Signed in with ${session.mfa_serial}: the session lasts ${session.minutes_left} min.`);
        ctx.actions.checkOne(profile.name);
      } catch (e) { announce(api.message(e), "error"); }
    } })
    : null;
  const extra = signIn ? [signIn] : [];
  // An IAM Identity Center profile: sign in when it needs to; once it answers, sign out, or add
  // a profile for every account and role of its sso-session.
  if (profile.kind === "sso" && result && !checking) {
    const recheck = () => ctx.actions.checkSso();
    if (result.error && result.error.code === "needs_sso_login") {
      extra.push(el("button", { type: "button", id: "sso-sign-in", text: "Sign in", onclick: () => sso.signIn(profile, recheck) }));
    } else if (result.arn) {
      const session = sso.ssoSession(profile);
      if (session) {
        extra.push(el("button", { type: "button", id: "sso-populate", text: "Add profiles for every role…", onclick: () => sso.populate(session, async () => { await ctx.reload(); recheck(); }) }));
      }
      extra.push(el("button", { type: "button", id: "sso-sign-out", text: "Sign out", onclick: () => sso.signOut(recheck) }));
    }
  }
  if (!result) {
    card.className = "identity-card";
    card.replaceChildren(el("div", {}, el("span", { class: "label", text: "Identity: " }), checking ? "checking…" : "not checked yet"), button);
  } else if (result.status === "aws_tools_cannot_read") {
    card.className = "identity-card warn";
    card.replaceChildren(el("div", {},
      el("div", { class: "label", text: "⚠ " + errorHeadline(result.error.code) }),
      el("div", { class: "arn" }, arnText(result.arn)),
      el("div", { text: api.message(result.error) }),
      el("div", { class: "muted small" }, when(result.checked_at, "checked ")), stale), ...extra, button);
  } else if (result.arn) {
    card.className = "identity-card ok";
    // A kept session (a role's, shared with the AWS CLI; a key's MFA session in the keychain) can
    // be forgotten: the next use asks for a new MFA code.
    const session = result.session_minutes_left != null;
    const forget = session ? el("button", { type: "button", id: "forget-session", text: "Forget session", onclick: async () => {
      try {
        await api.forgetSessions([profile.name]);
        ctx.state.identities.delete(profile.name);
        announce(`Forgot the session of ${profile.name}; the next check asks for a new code.`);
        renderIdentity(profile);
      } catch (e) { announce(api.message(e), "error"); }
    } }) : null;
    card.replaceChildren(el("div", {},
      el("div", {}, el("span", { class: "label", text: "✓ " + principal(result.arn) }), ` in account ${result.account}` + (result.account_name ? ` (${result.account_name})` : "")),
      el("div", { class: "arn" }, arnText(result.arn)),
      el("div", { class: "muted small" }, session ? `session ${result.session_minutes_left} min left · ` : "", when(result.checked_at, "checked ")),
      ...keyHealthLines(result.key_health), stale),
      ...(forget ? [forget] : []), ...extra, button);
  } else if (result.status === "settings_only") {
    card.className = "identity-card neutral";
    card.replaceChildren(el("div", {},
      el("div", { class: "label", text: errorHeadline("settings_only") }),
      el("div", { text: result.error ? api.message(result.error) : "" }),
      el("div", { class: "muted small" }, when(result.checked_at, "checked ")), stale), button);
  } else {
    // A secret AWS refuses: the key cannot sign its own rotation, a key from the console can.
    if (result.error.code === "wrong_secret" && profile.key_actions.rotate) {
      extra.push(el("button", { type: "button", id: "replace-key", text: "Replace key…", "aria-label": "Replace with a key from the IAM console", onclick: () => ctx.actions.replace() }));
    }
    card.className = "identity-card bad";
    card.replaceChildren(el("div", {},
      el("div", { class: "label", text: "✕ " + errorHeadline(result.error.code) }),
      el("div", { text: api.message(result.error) }),
      el("div", { class: "muted small" }, `${result.error.details.aws_code || result.error.code} · `, when(result.checked_at, "checked ")), stale), ...extra, button);
  }
  // Not current: shown, but not in the colours of a result that holds.
  card.classList.toggle("stale", Boolean(stale));
}
