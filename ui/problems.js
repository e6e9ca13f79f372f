// The problems panel: what `keyrack check` finds, each with its file and line.
import { $, el } from "./dom.js";

/** Shows the findings of `view`; a finding that `keyrack clean` fixes gets a button calling `onClean`. */
export function renderProblems(view, { onClean, onOpen } = {}) {
  const findings = view.findings;
  const errors = findings.filter((f) => f.severity === "error").length;
  const count = $("#problem-count");
  count.textContent = String(findings.length);
  count.className = "count" + (errors ? " bad" : findings.length ? " warn" : "");
  $("#problems-toggle").setAttribute("aria-label", `Problems: ${errors} error${errors === 1 ? "" : "s"}, ${findings.length - errors} warning${findings.length - errors === 1 ? "" : "s"}`);
  // Above everything: no AWS tool can use any profile while the files are rejected.
  const banner = $("#files-banner");
  banner.hidden = !view.rejection;
  banner.textContent = view.rejection
    ? `The AWS CLI and SDKs cannot read these files, so every aws command fails: ${view.rejection}. Fix that line (it is listed in Problems); keyrack reads the rest.`
    : "";
  // The panel lists the rejected line once, as a row; the banner above says what it means.
  const items = findings.map((f) => {
    const file = f.path.split("/").pop();
    // A row of a profile's section leads to that profile.
    const attrs = f.profile && onOpen && view.profiles.some((p) => p.name === f.profile)
      ? { class: "leads", tabindex: "0", title: `Open profile ${f.profile}`, "data-profile": f.profile }
      : {};
    const row = el("li", attrs,
      el("span", { class: "sev " + f.severity, text: f.severity }),
      el("span", { class: "mono", title: f.path, text: f.line ? `${file}:${f.line}` : file }),
      el("span", {}, el("span", { text: f.message }), f.fix === "clean" && onClean ? cleanButton(onClean) : null));
    if (attrs.class) {
      const open = (event) => { if (event.target.closest("button")) return; onOpen(f.profile); };
      row.addEventListener("click", open);
      row.addEventListener("keydown", (event) => { if (event.key === "Enter") open(event); });
    }
    return row;
  });
  if (!items.length) items.push(el("li", {}, el("span", { class: "sev", text: "" }), el("span"), el("span", { class: "muted", text: "No problems found: the AWS CLI and the SDKs read these files the same way." })));
  $("#problem-list").replaceChildren(...items);
  return errors;
}

function cleanButton(onClean) {
  const button = el("button", { type: "button", class: "fix", text: "Clean up", title: "Remove the leftover files that keep secrets (keyrack clean)" });
  button.addEventListener("click", () => { button.disabled = true; onClean().finally(() => { button.disabled = false; }); });
  return button;
}

// Escape closes the panel, as it closes a dialog.
document.addEventListener("keydown", (event) => {
  const panel = document.getElementById("problems");
  if (event.key === "Escape" && panel && !panel.hidden && !document.querySelector("dialog[open]")) {
    toggleProblems(false);
    document.getElementById("problems-toggle").focus();
  }
});

export function toggleProblems(open) {
  const panel = $("#problems");
  const show = open ?? panel.hidden;
  panel.hidden = !show;
  $("#problems-toggle").setAttribute("aria-expanded", String(show));
  if (show) $("#problems-close").focus();
}
