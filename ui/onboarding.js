// First run: no AWS files at all. Ask aws configure's four questions and create the files.
import * as api from "./api.js";
import { $, showAdvice, fillSelect } from "./dom.js";

let started = false;

/**
 * `onDone(created)` runs once the files are made (`created`: true) or the person skipped the
 * questions (false).
 */
export function showOnboarding(view, onDone) {
  $("#onboarding").hidden = false;
  $("#workspace").hidden = true;
  document.body.classList.add("first-run");
  $("#onboarding-paths").textContent = `They will be ${view.credentials_path} (your keys) and ${view.config_path} (region and output format).`;
  if (started) return;
  started = true;
  fillSelect($("#ob-region"), view.regions, "us-east-1", "(none)");
  fillSelect($("#ob-output"), view.output_formats, "json", "(none)");
  const form = $("#onboarding-form");
  const errors = new Set();
  form.addEventListener("input", async (event) => {
    const field = event.target;
    if (!field.dataset.key) return;
    const advice = await api.checkInput(field.dataset.key, field.value);
    showAdvice(field, advice);
    if (advice && advice.level === "error") errors.add(field.id); else errors.delete(field.id);
    $("#ob-create").disabled = errors.size > 0;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#ob-error").textContent = "";
    const answers = {
      accessKeyId: $("#ob-key").value,
      secretAccessKey: $("#ob-secret").value,
      region: $("#ob-region").value,
      output: $("#ob-output").value,
    };
    if (!answers.accessKeyId.trim() || !answers.secretAccessKey.trim()) {
      $("#ob-error").textContent = "Type your access key ID and secret access key (from the IAM console, Security credentials).";
      return;
    }
    try {
      await api.configureDefault(answers);
      $("#ob-secret").value = "";
      hideOnboarding();
      await onDone(true);
    } catch (error) {
      $("#ob-error").textContent = api.message(error);
    }
  });
  $("#ob-skip").addEventListener("click", () => { hideOnboarding(); onDone(false); });
  $("#ob-key").focus();
}

export function hideOnboarding() {
  document.body.classList.remove("first-run");
  $("#onboarding").hidden = true;
  $("#workspace").hidden = false;
}
