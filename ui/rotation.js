// The rotation dialog: the plan (which profiles share the key and get the new one, the user's
// keys with age and last use, what happens to the old key, keeping it Inactive), then each step
// live, then the result. A refused rotation says what the person can do. An interrupted rotation
// is offered for completion when the window opens.
import * as api from "./api.js";
import { $, el, announce } from "./dom.js";
import { stepLabel, statusLabel } from "./vocabulary.js";
import { askForMfaCode } from "./mfa.js";

let busy = false;
const dialog = () => $("#rotate-dialog");

function day(iso) {
  return iso ? iso.slice(0, 10) : "";
}

function keysTable(plan) {
  const rows = plan.keys.map((k) => el("tr", {},
    el("td", { class: "mono", text: k.access_key_id + (k.access_key_id === plan.old_key_id ? " (this one)" : "") }),
    el("td", { text: statusLabel(k.status) }),
    el("td", { text: `${k.age_days} day${k.age_days === 1 ? "" : "s"}` }),
    el("td", { text: k.last_used ? `${day(k.last_used)}${k.last_used_service ? " · " + k.last_used_service : ""}` : "never" }),
    el("td", { text: k.profiles.length ? k.profiles.join(", ") : "no local profile" })));
  return el("table", {},
    el("caption", { class: "visually-hidden", text: "The user's access keys" }),
    el("thead", {}, el("tr", {}, ...["Key", "Status", "Age", "Last used", "Held by"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows));
}

function buttons(...nodes) {
  $("#rotate-buttons").replaceChildren(...nodes);
  const focus = nodes.find((n) => n.classList.contains("primary")) || nodes[nodes.length - 1];
  if (focus) focus.focus();
}

function closeButton(label = "Close") {
  return el("button", { type: "button", text: label, onclick: () => dialog().close() });
}

function open(title) {
  $("#rotate-title").textContent = title;
  dialog().onclose = () => { if (busy) dialog().showModal(); };
  if (!dialog().open) dialog().showModal();
}

/** Show the plan for rotating `profile`'s key; run it when confirmed. */
export async function openRotation(profile, ctx, options = { keepOld: false, deleteInactive: false }) {
  open(`Rotate the access key of ${profile.name}`);
  $("#rotate-content").replaceChildren(el("p", { text: "Asking AWS who the key belongs to and listing the user's keys…" }));
  buttons(closeButton("Cancel"));
  let plan;
  try {
    plan = await api.rotationPlan(profile.name, options.keepOld, options.deleteInactive, false, askForMfaCode);
  } catch (error) {
    showRefusal(profile, ctx, error, options);
    return;
  }
  showPlan(plan, ctx, options);
}

function showRefusal(profile, ctx, error, options) {
  const parts = [el("div", { class: "result bad", role: "alert" }, el("p", { text: api.message(error) }))];
  if (error && error.code === "inactive_key_needs_confirmation") {
    const confirm = el("button", { type: "button", class: "primary", text: "Delete it and rotate", onclick: () => openRotation(profile, ctx, { ...options, deleteInactive: true }) });
    parts.push(el("p", { text: "The Inactive key is not in any profile here. Delete it to make room for the new key?" }));
    $("#rotate-content").replaceChildren(...parts);
    buttons(closeButton("Cancel"), confirm);
    return;
  }
  if (error && error.code === "other_key_active" && error.details.other_key_id) {
    offerToRetire(profile, ctx, error.details.other_key_id, parts, options);
    return;
  }
  // A key whose secret AWS refuses cannot sign its own rotation: a key from the console can.
  const cause = error && error.details && error.details.cause;
  if (error && error.code === "key_does_not_work" && cause && cause.code === "wrong_secret") {
    $("#rotate-content").replaceChildren(...parts);
    buttons(closeButton(), el("button", { type: "button", class: "primary", id: "replace-key", text: "Replace with a key from the console…",
      onclick: () => openReplacement(profile, ctx) }));
    return;
  }
  $("#rotate-content").replaceChildren(...parts);
  buttons(closeButton());
}

/**
 * The user has two keys and the other one is Active: offer to make it Inactive (it can be
 * switched on again) or to delete it, confirmed here, then go on with the rotation.
 */
function offerToRetire(profile, ctx, keyId, parts, options) {
  const change = async (what, done) => {
    buttons(closeButton("Cancel"));
    try {
      await api.changeOtherKey(profile.name, keyId, what, askForMfaCode);
      announce(done);
      openRotation(profile, ctx, { ...options, deleteInactive: false });
    } catch (error) {
      $("#rotate-content").replaceChildren(el("div", { class: "result bad", role: "alert" }, el("p", { text: api.message(error) })));
      buttons(closeButton());
    }
  };
  const inactive = el("button", { type: "button", class: "primary", id: "make-other-inactive", text: `Make ${keyId} Inactive`,
    onclick: () => change("make_inactive", `Made ${keyId} Inactive: anything that still uses it stops working until it is made Active again in the IAM console.`) });
  const remove = el("button", { type: "button", class: "danger", id: "delete-other", text: `Delete ${keyId}…`, onclick: () => {
    $("#rotate-content").replaceChildren(...parts,
      el("p", { class: "result bad", id: "delete-other-confirm", text: `Delete ${keyId} for good? Whatever still uses it stops working, and it cannot be brought back.` }));
    const back = el("button", { type: "button", text: "Back", onclick: () => offerToRetire(profile, ctx, keyId, parts, options) });
    buttons(back, el("button", { type: "button", class: "danger", id: "delete-other-yes", text: `Delete ${keyId}`,
      onclick: () => change("delete", `Deleted ${keyId}.`) }));
    // Enter must not delete a key: the safe choice has the focus.
    back.focus();
  } });
  $("#rotate-content").replaceChildren(...parts,
    el("p", { text: "If nothing uses that key any more, delete it, or make it Inactive first (it can be made Active again in the IAM console) and confirm its deletion to rotate." }));
  buttons(closeButton("Cancel"), remove, inactive);
}

function showPlan(plan, ctx, options) {
  const keepOld = el("input", { type: "checkbox", id: "keep-old", checked: plan.old_key === "inactive" });
  const keepNew = el("input", { type: "checkbox", id: "keep-new-on-stop", checked: plan.options.keep_new_on_stop });
  const finishing = plan.course && plan.course.course === "finish_interrupted";
  const parts = [
    el("div", { class: "plan" },
      el("p", {}, "Key ", el("strong", { class: "mono", text: plan.old_key_id }), " of IAM user ", el("strong", { text: plan.user }), ` in account ${plan.account}.`),
      finishing ? el("p", { class: "result", text: `An earlier rotation was interrupted after creating the new key ${plan.course.new_key_id}; this finishes it.` }) : null,
      plan.course && plan.course.course === "restart_interrupted" ? el("p", { class: "result", text: "An earlier rotation was interrupted before its new key reached your files; that key is deleted and the rotation starts again." }) : null,
      el("p", { text: "These profiles hold the key and get the new one (one safe save per file, comments kept):" }),
      el("ul", {}, plan.profiles.map((h) => el("li", { text: h.keychain ? `${h.profile} — in the keychain` : `${h.profile} — ${h.file} file, line ${h.line}` }))),
      el("p", { text: "The user's keys now:" }),
      keysTable(plan)),
  ];
  for (const k of plan.delete_first) {
    parts.push(el("p", { class: "result", text: k.reason === "inactive_and_unused"
      ? `First, the Inactive key ${k.access_key_id}, which no profile here uses, is deleted to make room (AWS allows two keys).`
      : `First, the key ${k.access_key_id} left by the interrupted rotation (its secret never reached your files) is deleted.` }));
  }
  parts.push(
    el("p", { text: "Then a new key is created and written to the profiles above; keyrack proves it works, switches the old key Inactive and deletes it." }),
    el("label", { class: "checkbox", for: "keep-old" }, keepOld, el("span", { text: "Keep the old key (Inactive) instead of deleting it, so it can be switched back on in the IAM console" })),
    el("label", { class: "checkbox", for: "keep-new-on-stop" }, keepNew, el("span", { text: "If another program keeps writing the old key back into the files, keep the new key for a later run instead of deleting it (the old key stays Active either way)" })));
  $("#rotate-content").replaceChildren(...parts);
  const start = el("button", { type: "button", class: "primary", id: "rotate-start", text: finishing ? "Finish the rotation" : "Rotate now", onclick: async () => {
    if (keepOld.checked !== (plan.old_key === "inactive") || keepNew.checked !== plan.options.keep_new_on_stop) {
      // The choice changed the plan: plan again with it, then run that plan.
      try {
        plan = await api.rotationPlan(plan.profile, keepOld.checked, options.deleteInactive, keepNew.checked, askForMfaCode);
      } catch (error) {
        showRefusal({ name: plan.profile }, ctx, error, options);
        return;
      }
    }
    run(plan, ctx);
  } });
  // Some people would rather make the key in the IAM console themselves.
  const instead = finishing ? null : el("button", { type: "button", id: "replace-instead", text: "Use a console key instead…",
    onclick: () => openReplacement({ name: plan.profile }, ctx) });
  buttons(closeButton("Cancel"), ...(instead ? [instead] : []), start);
}

/** How `run` runs a plan: a rotation, or a replacement (with the .csv its key came from). */
const ROTATION = { invoke: api.rotateKey, working: "Rotating…", verb: "Rotated" };

async function run(plan, ctx, how = ROTATION) {
  const items = new Map();
  const list = el("ol", { class: "steps", "aria-label": "Rotation steps" });
  const addItem = (name, text) => {
    const item = el("li", { "data-step": name }, el("span", { text }), el("span", { class: "detail" }));
    items.set(name, item);
    list.append(item);
    return item;
  };
  // The steps the engine planned, in its words; a step it adds while running (after a
  // failure) is shown when it starts.
  for (const planned of plan.steps) if (!items.has(planned.step)) addItem(planned.step, planned.label);
  const status = el("p", { role: "status", text: how.working });
  $("#rotate-content").replaceChildren(list, status);
  buttons();
  busy = true;
  try {
    const report = await how.invoke((progress) => {
      const name = progress.step.step;
      const item = items.get(name) || addItem(name, stepLabel(name));
      const detail = item.querySelector(".detail");
      if (progress.event === "started") { item.className = "running"; detail.textContent = ""; }
      else if (progress.event === "waiting") detail.textContent = `not yet (attempt ${progress.attempt}: ${progress.reason}); trying again in ${(progress.retry_in_ms / 1000).toFixed(1)} s`;
      else if (progress.event === "done") { item.className = "done"; detail.textContent = progress.outcome; }
    }, askForMfaCode);
    for (const item of items.values()) if (!item.className) item.className = "skipped";
    status.textContent = "";
    $("#rotate-content").append(el("div", { class: "result ok", role: "alert", id: "rotate-result" },
      el("p", {}, "Done. The new key ", el("strong", { class: "mono", text: report.new_key_id }), ` is in ${report.profiles_updated.map((p) => p.profile).join(", ")} and works.`),
      el("p", { text: report.old_key === "deleted" ? `The old key ${report.old_key_id} is deleted.` : `The old key ${report.old_key_id} is kept, Inactive.` })));
    announce(`${how.verb} the key of ${plan.profile}: the new key is ${report.new_key_id}.`);
    if (how.csv) offerToDeleteCsv(how.csv);
  } catch (error) {
    for (const item of items.values()) if (item.className === "running") item.className = "failed";
    status.textContent = "";
    $("#rotate-content").append(el("div", { class: "result bad", role: "alert", id: "rotate-result" }, el("p", { text: api.message(error) })));
  } finally {
    busy = false;
    buttons(el("button", { type: "button", class: "primary", text: "Close", onclick: () => dialog().close() }));
    await ctx.reload();
    offerInterrupted(ctx);
  }
}

/** When a rotation was interrupted, offer to finish it. */
export async function offerInterrupted(ctx) {
  const box = $("#interrupted");
  let pending = [];
  try {
    pending = await api.interruptedRotations();
  } catch (error) {
    box.replaceChildren(el("span", { text: "Could not look for interrupted key rotations: " + api.message(error) }));
    box.hidden = false;
    return;
  }
  if (!pending.length) { box.hidden = true; return; }
  const journal = pending[0];
  const finish = el("button", { type: "button", class: "primary", text: "Finish the rotation", onclick: async () => {
    box.hidden = true;
    open(`Finish rotating the key of ${journal.profile}`);
    $("#rotate-content").replaceChildren(el("p", { text: "Looking at where the rotation stopped…" }));
    buttons(closeButton("Cancel"));
    try {
      showPlan(await api.recoveryPlan(journal.old_key_id, askForMfaCode), ctx, { keepOld: journal.keep_old, deleteInactive: false });
    } catch (error) {
      showRefusal({ name: journal.profile }, ctx, error, {});
    }
  } });
  box.replaceChildren(
    el("span", { text: journal.replacement
      ? `Replacing the lost key ${journal.old_key_id} of profile ${journal.profile} was interrupted. keyrack kept the new key ${journal.new_key_id}; finishing writes it wherever it is missing and retires the old key. `
      : `A key rotation of profile ${journal.profile} (key ${journal.old_key_id}) was interrupted. Your files hold a working key; finishing it leaves one Active key. ` }),
    finish);
  box.hidden = false;
}

// ------------------------------------------------------------------ replacing a lost key

/** While the replacement asks for its key, a .csv dropped on the window goes to it. */
let takeFile = null;

/** Gives a dropped file to the replacement when it waits for one; whether it took it. */
export function replacementTakes(path) {
  if (!takeFile || !dialog().open) return false;
  takeFile(path);
  return true;
}

/**
 * Replace `profile`'s key with one the person makes in the IAM console: where to make it (the
 * engine's guide), the key by its .csv (picked or dropped) or pasted, proven by the engine to be
 * the same user's before anything is written, then run like a rotation.
 */
export async function openReplacement(profile, ctx) {
  open(`Replace the access key of ${profile.name}`);
  $("#rotate-content").replaceChildren(el("p", { text: "Reading the files…" }));
  buttons(closeButton("Cancel"));
  let guide;
  try {
    guide = await api.replacementGuide(profile.name);
  } catch (error) {
    showRefusal(profile, ctx, error, {});
    return;
  }
  let path = null;
  const fileLine = el("p", { id: "replace-file", class: "muted", text: "No file yet: pick it, or drop it on this window." });
  const keyId = el("input", { id: "replace-key-id", class: "mono", autocomplete: "off", spellcheck: "false", placeholder: "AKIA…" });
  const secret = el("input", { id: "replace-secret", type: "password", autocomplete: "off", spellcheck: "false" });
  const keepOld = el("input", { type: "checkbox", id: "replace-keep-old" });
  const deletedThere = el("input", { type: "checkbox", id: "replace-old-deleted" });
  const error = el("p", { id: "replace-error", class: "error", role: "alert" });
  const useFile = (picked) => {
    path = picked;
    keyId.value = "";
    secret.value = "";
    fileLine.textContent = `The new key's file: ${picked}`;
    error.textContent = "";
  };
  takeFile = useFile;
  const typed = () => { if (keyId.value || secret.value) { path = null; fileLine.textContent = "Using the pasted key."; } };
  keyId.addEventListener("input", typed);
  secret.addEventListener("input", typed);
  const pick = el("button", { type: "button", id: "replace-pick", text: "Pick the .csv…", onclick: async () => {
    try {
      const picked = await api.pickKeyFile();
      if (picked) useFile(picked);
    } catch (e) { error.textContent = api.message(e); }
  } });
  $("#rotate-content").replaceChildren(
    guide.secret_refused
      ? el("p", {}, "AWS refuses the secret of the key ", el("strong", { class: "mono", text: guide.old_key_id }),
        `, so keyrack cannot sign with it. Make a new key for the same IAM user in the console: keyrack then writes it to ${guide.holders.join(", ")} and deletes the old key.`)
      : el("p", {}, "Make a new key for the IAM user of ", el("strong", { class: "mono", text: guide.old_key_id }),
        ` in the console: keyrack then writes it to ${guide.holders.join(", ")} and retires the old key.`),
    el("ol", { class: "guide" }, guide.steps.map((step) => el("li", { text: step }))),
    el("p", {}, "The IAM console: ", el("span", { class: "mono", id: "replace-console", text: guide.console_url })),
    ...makeRoom(guide, profile, ctx),
    el("div", { class: "field" }, pick, fileLine),
    el("p", { class: "muted", text: "Or paste both values of the new key:" }),
    el("div", { class: "field" }, el("label", { for: "replace-key-id", text: "Access key ID" }), keyId),
    el("div", { class: "field" }, el("label", { for: "replace-secret", text: "Secret access key" }), secret),
    el("label", { class: "checkbox", for: "replace-keep-old" }, keepOld, el("span", { text: "Keep the old key (Inactive) instead of deleting it" })),
    el("label", { class: "checkbox", for: "replace-old-deleted" }, deletedThere, el("span", { text: `I deleted ${guide.old_key_id} in the console to make room` })),
    error);
  const check = el("button", { type: "button", class: "primary", id: "replace-check", text: "Check the new key", onclick: async () => {
    const newKey = path ? { from: "csv", path } : { from: "typed", key_id: keyId.value.trim(), secret: secret.value.trim() };
    if (!path && (!newKey.key_id || !newKey.secret)) {
      error.textContent = "Pick the key's .csv, or paste both its access key ID and its secret.";
      return;
    }
    check.disabled = true;
    check.textContent = "Asking AWS…";
    error.textContent = "";
    try {
      const plan = await api.replacementPlan(profile.name, newKey, keepOld.checked, deletedThere.checked, askForMfaCode);
      secret.value = "";
      takeFile = null;
      showReplacementPlan(plan, ctx, path);
    } catch (e) {
      error.textContent = api.message(e);
      check.disabled = false;
      check.textContent = "Check the new key";
    }
  } });
  dialog().addEventListener("close", () => { takeFile = null; secret.value = ""; }, { once: true });
  buttons(closeButton("Cancel"), check);
  pick.focus();
}

/**
 * The user has two keys (the most AWS allows, Inactive ones count) and another profile here
 * holds a working one: offer to delete the lost key first, confirmed, signed with that key.
 */
function makeRoom(guide, profile, ctx) {
  const seen = guide.seen_from;
  if (!guide.can_make_room) return [];
  const old = guide.old_key_id;
  const lost = seen.keys.find((k) => k.access_key_id === old);
  const lastUse = lost && lost.last_used ? ` AWS says it was last used on ${day(lost.last_used)}${lost.last_used_service ? " (" + lost.last_used_service + ")" : ""}: if something elsewhere holds its right secret, that stops working.` : "";
  const area = el("div", { class: "result plan", id: "replace-room" });
  const offer = () => {
    const remove = el("button", { type: "button", class: "danger", id: "replace-delete-old", text: `Delete ${old}…`, onclick: () => {
      const back = el("button", { type: "button", text: "Back", onclick: offer });
      area.replaceChildren(el("p", { id: "replace-delete-old-confirm", text: `Delete ${old} for good? No profile here can use it (AWS refuses its secret), and it cannot be brought back.${lastUse}` }),
        back, el("button", { type: "button", class: "danger", id: "replace-delete-old-yes", text: `Delete ${old}`, onclick: async () => {
          try {
            await api.changeOtherKey(seen.profile, old, "delete", askForMfaCode);
            announce(`Deleted ${old}: the console can make the new key now.`);
            openReplacement(profile, ctx);
          } catch (e) { area.replaceChildren(el("p", { class: "error", role: "alert", text: api.message(e) })); }
        } }));
      back.focus();
    } });
    area.replaceChildren(
      el("p", { text: `IAM user ${seen.user} has two access keys, the most AWS allows (Inactive keys count). keyrack can delete ${old} now, signed with the key of profile ${seen.profile}:` }),
      keysTable({ keys: seen.keys, old_key_id: old }), remove);
  };
  offer();
  return [area];
}

function showReplacementPlan(plan, ctx, csv) {
  const newKeyId = plan.course.new_key_id;
  $("#rotate-content").replaceChildren(el("div", { class: "plan" },
    el("p", { class: "result ok", id: "replace-proven" }, "The new key ", el("strong", { class: "mono", text: newKeyId }),
      " works and is IAM user ", el("strong", { text: plan.user }), `'s in account ${plan.account}, like the old key `,
      el("span", { class: "mono", text: plan.old_key_id }), "."),
    plan.interrupted ? el("p", { class: "result", text: "An earlier replacement with this key was interrupted; this finishes it." }) : null,
    plan.old_key_unproven ? el("p", { class: "result bad", id: "replace-unproven", text: `IAM no longer shows the key ${plan.old_key_id}: only your word says it was ${plan.user}'s. Replace it only if it was.` }) : null,
    el("p", { text: "These profiles get the new key (one safe save per file, comments kept):" }),
    el("ul", {}, plan.profiles.map((h) => el("li", { text: h.keychain ? `${h.profile} — in the keychain` : `${h.profile} — ${h.file} file, line ${h.line}` }))),
    el("p", { text: "The user's keys now:" }),
    keysTable(plan),
    el("p", { text: plan.old_key === "deleted"
      ? `Then keyrack proves the new key works, makes ${plan.old_key_id} Inactive and deletes it, signed with the new key.`
      : `Then keyrack proves the new key works and makes ${plan.old_key_id} Inactive, signed with the new key; it stays, Inactive.` })));
  const start = el("button", { type: "button", class: "primary", id: "replace-start", text: "Replace now",
    onclick: () => run(plan, ctx, { invoke: api.replaceKey, working: "Replacing…", verb: "Replaced", csv }) });
  buttons(closeButton("Cancel"), start);
}

/** The console's .csv holds the secret in plaintext: offer to delete it once the key is saved. */
function offerToDeleteCsv(path) {
  const said = el("p", { id: "replace-csv-text", text: `${path} still holds the secret in plaintext. keyrack can delete it now: the key is in your profiles.` });
  const remove = el("button", { type: "button", class: "danger", id: "replace-delete-csv", text: "Delete the .csv", onclick: async () => {
    try {
      await api.deleteKeyFile(path);
      said.textContent = `Deleted ${path}.`;
      remove.remove();
    } catch (e) { said.textContent = api.message(e); }
  } });
  $("#rotate-content").append(el("div", { class: "result" }, said, remove));
}
