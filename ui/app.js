// keyrack's window: loads the files, keeps the list, editor and problems panel in step with the
// disk, and wires the keyboard shortcuts.
import * as api from "./api.js";
import { $, announce, refreshTimes } from "./dom.js";
import { renderList, listKeys, scrollToSelected, visibleProfiles } from "./profile-list.js";
import { initEditor, show as showEditor, save, isDirty, keepsEdits, forgetEdits, renderIdentity } from "./editor.js";
import { confirmDialog, nameDialog } from "./dialogs.js";
import { renderProblems, toggleProblems } from "./problems.js";
import { showOnboarding, hideOnboarding } from "./onboarding.js";
import { openRotation, openReplacement, offerInterrupted } from "./rotation.js";
import { loadVocabulary } from "./vocabulary.js";
import { askForMfaCode } from "./mfa.js";
import { listenForDrops, pickAndImport } from "./import.js";
import { openSettings } from "./settings.js";

const state = {
  view: null,
  selected: null,
  filter: "",
  attention: false,        // only the profiles that need the person
  identities: new Map(),   // profile -> last identity result
  checking: new Set(),     // profiles being checked now
  skippedFirstRun: false,  // the person chose to start without files
};

/**
 * Take the results the engine keeps (with what changed since), unless this window has a newer
 * one or is checking the profile now. Returns the profiles whose result has just gone stale.
 */
function keepChecks(checks) {
  const becameStale = [];
  let changed = false;
  for (const { view, stale, stale_because } of checks) {
    if (state.checking.has(view.profile)) continue;
    const mine = state.identities.get(view.profile);
    if (mine && mine.checked_at > view.checked_at) continue;
    if (mine && mine.checked_at === view.checked_at && mine.stale === stale && mine.stale_because === stale_because) continue;
    if (mine && !mine.stale && stale) becameStale.push(mine);
    state.identities.set(view.profile, { ...view, stale, stale_because });
    changed = true;
  }
  return { becameStale, changed };
}

/**
 * Check again, unasked, the results that have just gone stale (a key fixed, a rotation, a
 * setting changed by keyrack or another program): a few at a time, and never one that would
 * ask for an MFA code nobody expects.
 */
function recheck(becameStale) {
  // Another tool's credential_process may ask the person or open a browser: not unasked.
  const quiet = (r) => !r.mfa_device && (profileNamed(r.profile) || {}).kind !== "credential_process";
  const names = becameStale.filter(quiet).map((r) => r.profile).slice(0, 20);
  // One check at a time: a running one is left to finish, the rest stay marked.
  if (names.length && !state.checking.size) checkIdentities(names);
}

const profileNamed = (name) => state.view && state.view.profiles.find((p) => p.name === name);

/** The profile shown when none is chosen: the default one, else the first. */
const firstChoice = (view) => (view.profiles.find((p) => p.is_default) || view.profiles[0] || {}).name || null;

/** Show the files as they are now (`given`: a view just loaded, at start-up). */
async function reload(given) {
  const view = given && given.profiles ? given : await api.load();
  const first = !state.view;
  const { becameStale, changed } = keepChecks(view.checks);
  // The same bytes as shown (our own save, seen again by the watcher): only results to redraw.
  if (!first && view.revision === state.view.revision) {
    if (changed) { render(); refreshIdentityCard(); recheck(becameStale); }
    return false;
  }
  state.view = view;
  for (const name of [...state.identities.keys()]) if (!view.profiles.some((p) => p.name === name)) state.identities.delete(name);
  if (view.first_run && !view.profiles.length && !state.skippedFirstRun) {
    showOnboarding(view, async (created) => {
      state.skippedFirstRun = !created;
      // Skipped: the same (absent) files, shown now in the window, empty.
      if (!created) state.view = null;
      await reload();
      // The key just typed is proven at once: who AWS says it is, or why not.
      if (created && state.view.profiles.length) checkIdentities(state.view.profiles.map((p) => p.name));
    });
    return;
  }
  hideOnboarding();
  // A profile that left the files stays selected while the editor holds the person's changes to it.
  if (!view.profiles.some((p) => p.name === state.selected) && !keepsEdits(state.selected)) {
    state.selected = firstChoice(view);
  }
  render();
  showEditor(state.selected);
  const errors = renderProblems(view, { onClean: cleanLeftovers, onOpen: select });
  if (first && errors) toggleProblems(true);
  $("#file-paths").textContent = `${view.config_path} · ${view.credentials_path}`;
  recheck(becameStale);
  return true;
}

async function cleanLeftovers() {
  try {
    const cleaned = await api.cleanLeftovers();
    announce(cleaned ? `Cleaned ${cleaned} leftover file${cleaned > 1 ? "s" : ""}: no backup keeps a secret that left the files.` : "Nothing to clean.");
    // The AWS files did not change (same revision): show the findings again by hand.
    state.view = await api.load();
    renderProblems(state.view, { onClean: cleanLeftovers, onOpen: select });
  } catch (error) {
    announce(api.message(error), "error");
  }
}

function render() {
  renderList(state, select);
  // When the list first showed, for scripts/bench-app (milliseconds since the epoch).
  if (!document.body.dataset.listRenderedAt && state.view.profiles.length) {
    document.body.dataset.listRenderedAt = String(Math.round(performance.timeOrigin + performance.now()));
  }
}

function showActive() {
  const list = $("#profiles");
  const id = list.getAttribute("aria-activedescendant");
  const current = id && document.getElementById(id);
  if (current) current.classList.toggle("active-descendant", document.activeElement === list);
}

/** Show profile `name`; unsaved changes to another one are let go only when the person says so. */
async function select(name, { focusList = false } = {}) {
  const edited = state.selected;
  if (name !== edited && keepsEdits(edited)) {
    const discard = await confirmDialog({
      title: `Unsaved changes to ${edited}`,
      text: `Opening profile ${name} discards them. Keep editing to save them first.`,
      ok: "Discard and open",
      cancel: "Keep editing",
    });
    if (!discard) { if (focusList) $("#profiles").focus(); return; }
    forgetEdits();
  }
  state.selected = name;
  render();
  showEditor(name);
  scrollToSelected(state);
  if (focusList) $("#profiles").focus();
}

function selectedProfile() {
  return state.view && state.view.profiles.find((p) => p.name === state.selected);
}

async function checkIdentities(names) {
  if (!names.length) return;
  for (const n of names) state.checking.add(n);
  let done = 0;
  const progress = $("#progress");
  const fill = $("#progress-fill");
  const text = $("#progress-text");
  progress.classList.remove("idle");
  fill.style.width = "0%";
  text.textContent = `Checking ${names.length} profile${names.length > 1 ? "s" : ""}…`;
  $("#check-all").disabled = true;
  render();
  refreshIdentityCard();
  try {
    await api.checkIdentities(names, (result) => {
      // A profile's result may come again, completed (an SSO account's name).
      if (state.checking.has(result.profile)) done += 1;
      state.checking.delete(result.profile);
      state.identities.set(result.profile, result);
      fill.style.width = `${Math.round((done / names.length) * 100)}%`;
      text.textContent = `Checked ${done} of ${names.length}`;
      renderSoon(result.profile === state.selected);
    }, askForMfaCode);
    const count = (status) => names.filter((n) => state.identities.get(n) && state.identities.get(n).status === status).length;
    const [working, failed, settingsOnly, unreadable] = [count("ok"), count("failed"), count("settings_only"), count("aws_tools_cannot_read")];
    text.textContent = `Checked ${names.length} profile${names.length > 1 ? "s" : ""}: ${working} working, ${failed} failing` +
      (unreadable ? `, ${unreadable} that keyrack can read but the AWS tools cannot` : "") +
      (settingsOnly ? `, ${settingsOnly} with settings only` : "");
  } catch (error) {
    text.textContent = "Checking failed: " + api.message(error);
  } finally {
    for (const n of names) state.checking.delete(n);
    $("#check-all").disabled = false;
    render();
    refreshIdentityCard();
    // The bar goes; the summary stays in its row until the next check.
    setTimeout(() => { if (!state.checking.size) progress.classList.add("idle"); }, 5000);
  }
}

// Results come faster than frames: the list and the card are redrawn once per frame at most.
let frame = 0;
let cardToo = false;
function renderSoon(card) {
  cardToo = cardToo || card;
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    render();
    if (cardToo) refreshIdentityCard();
    cardToo = false;
  });
}

function refreshIdentityCard() {
  const p = selectedProfile();
  if (p) renderIdentity(p);
}

const actions = {
  select,
  /** Show the profile shown when none is chosen (after the edits of a vanished one are discarded). */
  selectFirstChoice: () => select(firstChoice(state.view)),
  checkOne: (name) => checkIdentities([name]),
  /** Check every IAM Identity Center profile again (after signing in or out). */
  checkSso: () => checkIdentities(state.view.profiles.filter((p) => p.kind === "sso").map((p) => p.name)),
  async copy() {
    const p = selectedProfile();
    if (!p) return;
    await nameDialog({
      title: `Copy profile ${p.name}`,
      text: "The copy gets every setting of this profile, in both files.",
      initial: `${p.name}-copy`,
      ok: "Copy",
      submit: ({ name }) => api.applyChange(state.view.revision, { action: "copy", profile: p.name, to: name }),
    }).then(async (result) => {
      if (!result) return;
      announce(`Copied profile ${p.name} to ${result.name}.`);
      await reload();
      select(result.name);
    });
  },
  async rename() {
    const p = selectedProfile();
    if (!p) return;
    const result = await nameDialog({
      title: `Rename profile ${p.name}`,
      text: "Renames its sections in both files; comments and other lines stay as they are.",
      initial: p.name,
      ok: "Rename",
      submit: ({ name }) => api.applyChange(state.view.revision, { action: "rename", profile: p.name, to: name }).then((applied) => {
        if (applied.warnings.length) announce(applied.warnings.join(" "), "warning");
      }),
    });
    if (!result) return;
    if (!$("#notice").classList.contains("warning")) announce(`Renamed profile ${p.name} to ${result.name}.`);
    state.identities.delete(p.name);
    forgetEdits(); // keyrack moved the profile itself: its old name is not one to keep edits of
    await reload();
    select(result.name);
  },
  async remove() {
    const p = selectedProfile();
    if (!p) return;
    const places = [...new Set(p.settings.map((s) => s.file))].map((f) => `the ${f} file`).join(" and ") || "the config file";
    const ok = await confirmDialog({
      title: `Delete profile ${p.name}?`,
      text: [
        `Its sections are removed from ${places}, with the comment lines right above them.`,
        "The previous version of each file stays next to it as NAME.keyrack.bak.",
      ],
      ok: "Delete",
      danger: true,
    });
    if (!ok) return;
    try {
      await api.applyChange(state.view.revision, { action: "delete", profile: p.name });
      announce(`Deleted profile ${p.name}.`);
      state.identities.delete(p.name);
      forgetEdits(); // the person chose to delete it, unsaved changes and all
      await reload();
      $("#profiles").focus();
    } catch (error) {
      announce(api.message(error), "error");
    }
  },
  async newProfile() {
    const result = await nameDialog({
      title: "New profile",
      text: "Like aws configure --profile NAME: keys go to the credentials file, region and output to the config file.",
      ok: "Create",
      newProfile: true,
      regions: state.view.regions,
      outputs: state.view.output_formats,
      submit: ({ name, changes }) => api.applyChange(state.view.revision, { action: "add", profile: name, changes }),
    });
    if (!result) return;
    announce(`Created profile ${result.name}.`);
    await reload();
    select(result.name);
  },
  async vault() {
    const p = selectedProfile();
    if (!p || !(p.key_actions.move_to_keychain || p.key_actions.move_to_file)) return;
    const toKeychain = !p.key_actions.move_to_file;
    const ok = await confirmDialog({
      title: toKeychain ? `Move the key of ${p.name} into the keychain?` : `Move the key of ${p.name} back into the file?`,
      text: toKeychain
        ? ["The access key and secret leave the credentials file and go into the OS keychain. The profile gets a credential_process that runs keyrack, so the AWS CLI, the SDKs and Terraform keep working.",
           "The key is read back from the keychain before it is removed from the file."]
        : ["The access key and secret go back into the credentials file (readable by you only), then leave the keychain."],
      ok: toKeychain ? "Move to keychain" : "Move to file",
    });
    if (!ok) return;
    try {
      const applied = await (toKeychain ? api.moveToKeychain(p.name) : api.restoreFromKeychain(p.name));
      announce((toKeychain ? `The key of ${p.name} is in the keychain now.` : `The key of ${p.name} is in the credentials file again.`) + (applied.warnings.length ? " " + applied.warnings.join(" ") : ""));
      await reload();
    } catch (error) {
      announce(api.message(error), "error");
    }
  },
  rotate() {
    const p = selectedProfile();
    if (p && p.key_actions.rotate) openRotation(p, { reload, select, state });
  },
  /** Replace the selected profile's key (its secret is lost) with one made in the console. */
  replace() {
    const p = selectedProfile();
    if (p && p.key_actions.rotate) openReplacement(p, { reload, select, state });
  },
};

function shortcuts(event) {
  const ctrl = event.ctrlKey || event.metaKey;
  const inDialog = document.querySelector("dialog[open]");
  if (inDialog) return;
  const key = event.key.toLowerCase();
  if (ctrl && key === "f") { event.preventDefault(); $("#filter").focus(); $("#filter").select(); return; }
  if (ctrl && key === "n") { event.preventDefault(); actions.newProfile(); return; }
  if (ctrl && key === "s") { event.preventDefault(); save(); return; }
  if (ctrl && key === "r") { event.preventDefault(); checkAll(); return; }
  if (ctrl && key === "d") { event.preventDefault(); actions.copy(); return; }
  if (event.key === "F2") { event.preventDefault(); actions.rename(); return; }
  if (event.key === "F5") { event.preventDefault(); return; }
  if (event.target === $("#profiles")) {
    if (listKeys(event, state, select)) { event.preventDefault(); return; }
    if (event.key === "Delete") { event.preventDefault(); actions.remove(); return; }
    if (event.key === "Enter") { event.preventDefault(); const first = $("#f-key"); if (first) first.focus(); }
  }
}

function checkAll() {
  if (!state.view || $("#check-all").disabled) return;
  checkIdentities(visibleProfiles(state).map((p) => p.name));
}

async function start() {
  // Where a launch's time goes (scripts/bench-app reads these marks).
  performance.mark("keyrack:modules-run");
  initEditor({ state, reload, actions });
  listenForDrops({ state, reload, actions });
  $("#import-key-file").addEventListener("click", () => pickAndImport({ state, reload, actions }));
  $("#ob-import").addEventListener("click", () => pickAndImport({ state, reload, actions }));
  $("#settings-open").addEventListener("click", () => openSettings(state.view, (settings) => {
    state.view.settings = settings;
    render();
    refreshIdentityCard();
  }));
  $("#attention-filter").addEventListener("click", (e) => {
    state.attention = !state.attention;
    e.currentTarget.setAttribute("aria-pressed", String(state.attention));
    render();
  });
  $("#check-all").addEventListener("click", checkAll);
  $("#new-profile").addEventListener("click", () => actions.newProfile());
  $("#problems-toggle").addEventListener("click", () => toggleProblems());
  $("#problems-close").addEventListener("click", () => { toggleProblems(false); $("#problems-toggle").focus(); });
  $("#filter").addEventListener("input", (e) => { state.filter = e.target.value.trim(); render(); });
  $("#filter").addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "Enter") {
      e.preventDefault();
      const first = visibleProfiles(state)[0];
      if (first) select(first.name, { focusList: true });
    } else if (e.key === "Escape") { e.target.value = ""; state.filter = ""; render(); }
  });
  // Focus only moves the highlight: rebuilding the rows here would swallow the click that focused the list.
  $("#profiles").addEventListener("focus", showActive);
  $("#profiles").addEventListener("blur", showActive);
  document.addEventListener("keydown", shortcuts);
  // "checked 3 min ago" stays true everywhere at once.
  setInterval(refreshTimes, 20000);
  window.addEventListener("beforeunload", (e) => { if (isDirty()) e.preventDefault(); });

  // The files (asked for as the page began) are read while the engine's words arrive: the list needs both.
  const files = api.firstLoad();
  files.catch(() => {}); // its failure is said below, once the words are there
  try {
    await loadVocabulary();
    performance.mark("keyrack:words");
  } catch (error) {
    // Without the engine's words the page cannot tell which settings are secrets: show nothing.
    announce("keyrack could not start its window (" + api.message(error) + "); close it and open it again", "error");
    return;
  }
  try {
    const view = await files;
    performance.mark("keyrack:files");
    await reload(view);
  } catch (error) {
    announce("Could not read the AWS files: " + api.message(error), "error");
  }
  await api.watchFiles(async () => {
    try {
      if (await reload()) announce("The AWS files changed on disk; keyrack shows the new version.");
    } catch (error) {
      announce("Could not read the AWS files: " + api.message(error), "error");
    }
  });
  // An AWS tool that needs an MFA code while the window is open asks here, through keyrack.
  await api.listenForMfa(askForMfaCode);
  offerInterrupted({ reload, select, state });
  if (state.view && state.view.settings.check_on_start && state.view.profiles.length) {
    checkIdentities(state.view.profiles.map((p) => p.name));
  }
  document.body.dataset.ready = "true";
}

start();
