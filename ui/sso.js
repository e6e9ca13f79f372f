// IAM Identity Center on an SSO profile's card: sign in (the browser opens; the dialog says which
// page and code to look for), sign out, and profiles for every account and role of the sign-in,
// previewed before anything is written.
import * as api from "./api.js";
import { $, el, announce } from "./dom.js";

/** The sso-session a profile names, if it names one. */
export function ssoSession(profile) {
  const setting = profile.settings.find((s) => s.key === "sso_session");
  return setting && setting.value ? setting.value.trim() : null;
}

/** Sign in for `profile`; then `after()` (re-check the SSO profiles). */
export async function signIn(profile, after) {
  const dialog = $("#sso-dialog");
  $("#sso-text").textContent = "Opening the browser…";
  $("#sso-url").value = "";
  $("#sso-code-row").hidden = true;
  // Closing the dialog (Cancel, Escape) ends the sign-in: nothing waits in the background.
  let done = false;
  dialog.onclose = () => { if (!done) api.ssoCancel(); };
  $("#sso-close").onclick = () => dialog.close();
  dialog.showModal();
  $("#sso-close").focus();
  try {
    const signedIn = await api.ssoLogin(profile.name, false, (prompt) => {
      $("#sso-text").textContent = prompt.browser_opened
        ? `Sign in to IAM Identity Center (${prompt.sign_in}) in the browser page that opened. If it did not open, open this page:`
        : `To sign in to IAM Identity Center (${prompt.sign_in}), open this page:`;
      const url = $("#sso-url");
      url.value = prompt.url;
      url.setSelectionRange(0, 0);
      url.scrollLeft = 0;
      $("#sso-code-row").hidden = !prompt.user_code;
      $("#sso-code").textContent = prompt.user_code || "";
    });
    done = true;
    if (dialog.open) dialog.close();
    announce(`Signed in to ${signedIn.sign_in} until ${new Date(signedIn.expires).toLocaleString()}.`);
    after();
  } catch (e) {
    done = true;
    if (dialog.open) dialog.close();
    if (e && e.code === "cancelled") announce("Sign-in cancelled; nothing was kept.");
    else announce(api.message(e), "error");
  }
}

/** Sign out of every IAM Identity Center sign-in; then `after()`. */
export async function signOut(after) {
  try {
    const done = await api.ssoLogout();
    announce(done.removed_files
      ? `Signed out of IAM Identity Center: ${done.signed_out} sign-in(s) ended, their tokens removed from this computer.`
      : "No IAM Identity Center sign-in was kept; nothing to sign out of.");
    after();
  } catch (e) {
    announce(api.message(e), "error");
  }
}

/** Preview the profiles of every account and role `session` reaches, and write them on OK. */
export async function populate(session, after) {
  let plan;
  try {
    plan = await api.ssoPopulatePlan(session);
  } catch (e) {
    announce(api.message(e), "error");
    return;
  }
  const dialog = $("#populate-dialog");
  const rows = plan.add.map((p) => el("li", { text: `${p.name}: role ${p.role_name} in ${p.account_name || p.account_id} (${p.account_id}), region ${plan.region}` }));
  const parts = [
    el("p", { text: plan.add.length
      ? `${plan.add.length === 1 ? "This profile" : `These ${plan.add.length} profiles`} would be added to the config file, marked as made by keyrack:`
      : "Every account and role of this sign-in has a profile already." }),
    el("ul", { id: "populate-add" }, ...rows),
  ];
  if (plan.present.length) parts.push(el("p", { class: "muted small", text: `Already there: ${plan.present.join(", ")}.` }));
  if (plan.skipped.length) parts.push(el("p", { class: "muted small", text: `Left out: ${plan.skipped.join("; ")}.` }));
  const prune = el("input", { type: "checkbox", id: "populate-prune" });
  if (plan.prune.length) {
    parts.push(el("label", {}, prune, ` Also remove ${plan.prune.join(", ")}: made by keyrack, no longer assigned`));
  }
  $("#populate-content").replaceChildren(...parts);
  const ok = $("#populate-ok");
  ok.textContent = plan.add.length ? `Add ${plan.add.length} profile${plan.add.length === 1 ? "" : "s"}` : "Done";
  ok.disabled = !plan.add.length && !plan.prune.length;
  $("#populate-cancel").onclick = () => dialog.close();
  ok.onclick = async () => {
    try {
      const changed = await api.ssoPopulate(prune.checked);
      dialog.close();
      announce(`Wrote ${changed} change(s) to the config file for sso-session ${session}.`);
      after();
    } catch (e) {
      $("#populate-error").textContent = api.message(e);
    }
  };
  $("#populate-error").textContent = "";
  dialog.showModal();
}
