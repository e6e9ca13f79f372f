// Modal dialogs: a name (new, copy, rename) and a confirmation. Native <dialog>: focus stays
// inside, Escape cancels.
import * as api from "./api.js";
import { $, el, showAdvice, fillSelect } from "./dom.js";

/** Ask a yes/no question; resolves true for OK. */
export function confirmDialog({ title, text, ok = "OK", cancel = "Cancel", danger = false }) {
  const dialog = $("#confirm-dialog");
  $("#confirm-title").textContent = title;
  const paragraphs = (Array.isArray(text) ? text : [text]).map((t) => (t instanceof Node ? t : el("p", { text: t })));
  $("#confirm-text").replaceChildren(...paragraphs);
  const okButton = $("#confirm-ok");
  okButton.textContent = ok;
  okButton.className = danger ? "danger solid" : "primary";
  $("#confirm-cancel").textContent = cancel;
  return new Promise((resolve) => {
    const done = (value) => {
      okButton.onclick = null;
      $("#confirm-cancel").onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    okButton.onclick = () => done(true);
    $("#confirm-cancel").onclick = () => done(false);
    dialog.onclose = () => done(false);
    dialog.showModal();
    $("#confirm-cancel").focus();
  });
}

/**
 * Ask for a profile name (and, for a new profile, the aws configure answers). `submit(result)`
 * does the work and throws to keep the dialog open with the error shown. Resolves the result or
 * null when cancelled.
 */
export function nameDialog({ title, text, initial = "", ok = "OK", newProfile = false, regions = [], outputs = [], submit }) {
  const dialog = $("#name-dialog");
  const input = $("#name-input");
  $("#name-dialog-title").textContent = title;
  $("#name-dialog-text").textContent = text;
  $("#name-ok").textContent = ok;
  $("#name-error").textContent = "";
  $("#new-profile-fields").hidden = !newProfile;
  input.value = initial;
  showAdvice(input, null);
  const extra = ["#np-key", "#np-secret"].map((s) => $(s));
  for (const f of extra) { f.value = ""; showAdvice(f, null); }
  fillSelect($("#np-region"), regions, "");
  fillSelect($("#np-output"), outputs, "");
  const errors = new Set();

  const check = async (field, key, value) => {
    const advice = value ? await api.checkInput(key, value) : null;
    showAdvice(field, advice);
    if ((advice && advice.level === "error") || (field === input && !value)) errors.add(field.id); else errors.delete(field.id);
    $("#name-ok").disabled = errors.size > 0;
  };
  const onInput = (event) => {
    const field = event.target;
    if (field === input) check(input, "profile", input.value);
    else if (field.dataset.key) check(field, field.dataset.key, field.value);
  };
  dialog.addEventListener("input", onInput);
  check(input, "profile", input.value);

  return new Promise((resolve) => {
    const form = $("#name-form");
    const finish = (value) => {
      dialog.removeEventListener("input", onInput);
      form.onsubmit = null;
      $("#name-cancel").onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    form.onsubmit = async (event) => {
      event.preventDefault();
      if (errors.size) return;
      const result = { name: input.value, changes: [] };
      if (newProfile) {
        for (const [selector, key] of [["#np-key", "aws_access_key_id"], ["#np-secret", "aws_secret_access_key"], ["#np-region", "region"], ["#np-output", "output"]]) {
          const value = $(selector).value.trim();
          if (value) result.changes.push({ op: "set", key, value });
        }
      }
      try {
        await submit(result);
        finish(result);
      } catch (error) {
        $("#name-error").textContent = api.message(error);
      }
    };
    $("#name-cancel").onclick = () => finish(null);
    dialog.onclose = () => finish(null);
    dialog.showModal();
    input.focus();
    input.select();
  });
}
