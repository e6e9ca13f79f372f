// The access-key file the IAM console downloads (picked, or dropped on the window): previewed
// without its secret, saved as a profile once AWS says the key works, then the offer to delete
// the file, which holds the secret in plaintext.
import * as api from "./api.js";
import { $, el, announce } from "./dom.js";
import { replacementTakes } from "./rotation.js";

/** Ask for the file with the system's file chooser, then import it. */
export async function pickAndImport(ctx) {
  let path;
  try {
    path = await api.pickKeyFile();
  } catch (e) {
    announce(api.message(e), "error");
    return;
  }
  if (path) await importFile(path, ctx);
}

/** Import the key file at `path`: the dialog shows its key, asks the profile's name and region. */
let opening = 0;

export async function importFile(path, ctx) {
  // Each opening's answers belong to it alone: a save still running when the dialog was closed
  // and opened for another file shows nothing there.
  const mine = ++opening;
  let preview;
  try {
    preview = await api.previewKeyFile(path);
  } catch (e) {
    announce(api.message(e), "error");
    return;
  }
  const dialog = $("#import-dialog");
  const key = preview.keys[0];
  const several = preview.keys.length > 1;
  $("#import-text").textContent = several
    ? `${path} holds ${preview.keys.length} keys: ${preview.keys.map((k) => `${k.access_key_id} (${k.user_name || "no user name"})`).join(", ")}. Each becomes a profile named after its IAM user.`
    : `${path} holds the key ${key.access_key_id}${key.user_name ? ` of IAM user ${key.user_name}` : ""}. keyrack asks AWS whether it works before saving it.`;
  const name = $("#import-name");
  name.value = several ? "" : (key.user_name || (ctx.state.view.profiles.length ? "" : "default"));
  name.disabled = several;
  const region = $("#import-region");
  region.replaceChildren(el("option", { value: "", text: "(no region)" }), ...ctx.state.view.regions.map((r) => el("option", { value: r, text: r })));
  $("#import-error").textContent = "";
  $("#import-after").hidden = true;
  $("#import-form-fields").hidden = false;
  const ok = $("#import-ok");
  ok.hidden = false;
  ok.disabled = false;
  ok.textContent = "Check and save";
  $("#import-cancel").textContent = "Cancel";
  $("#import-cancel").onclick = () => dialog.close();
  $("#import-form").onsubmit = async (event) => {
    event.preventDefault();
    ok.disabled = true;
    ok.textContent = "Checking with AWS…";
    try {
      const report = await api.importKeyFile(path, several ? null : name.value.trim(), region.value);
      if (mine !== opening || !dialog.open) {
        announce(`Saved profile ${report.imported.map((k) => k.profile).join(", ")} from ${path}; the file still holds the secret in plaintext.`, "warning");
        await ctx.reload();
        return;
      }
      const saved = report.imported.map((k) => `${k.profile} (${k.arn || k.access_key_id})`).join(", ");
      $("#import-form-fields").hidden = true;
      ok.hidden = true;
      $("#import-saved").textContent = `Saved profile ${saved}.`;
      $("#import-after").hidden = false;
      const password = preview.keys.some((k) => k.has_password);
      $("#import-delete").hidden = password;
      $("#import-after-text").textContent = password
        ? "The .csv file still holds the secret and the console password, which keyrack does not keep: delete it yourself once the password is somewhere safe."
        : "The .csv file still holds the secret in plaintext. Delete it now? keyrack deletes it only because the key is in your files.";
      $("#import-cancel").textContent = "Keep the file";
      $("#import-delete").onclick = async () => {
        try {
          await api.deleteKeyFile(path);
          dialog.close();
          announce(`Saved profile ${saved}, and deleted ${path}.`);
        } catch (e) {
          $("#import-error").textContent = api.message(e);
        }
      };
      await ctx.reload();
      ctx.actions.select(report.imported[0].profile);
    } catch (e) {
      if (mine !== opening) return;
      $("#import-error").textContent = api.message(e);
      ok.disabled = false;
      ok.textContent = "Check and save";
    }
  };
  dialog.showModal();
  (several ? ok : name).focus();
}

/** Files dropped on the window: the first .csv is imported. */
export function listenForDrops(ctx) {
  api.listenForDrops((paths) => {
    const csv = paths.find((p) => p.toLowerCase().endsWith(".csv"));
    // The replacement of a lost key waits for its new key's file.
    if (csv && replacementTakes(csv)) return;
    if (csv) importFile(csv, ctx);
    else announce("Drop the .csv file the IAM console downloads when it shows a new access key.", "warning");
  });
}
