// keyrack's own settings: when a key is due for rotation or counts as unused, the clipboard, and
// checking every profile on start. The engine keeps them (settings.ini); the page only edits.
import * as api from "./api.js";
import { $, announce } from "./dom.js";

/** Show the settings of `view`; Save keeps them and calls `onSaved(settings)`. */
export function openSettings(view, onSaved) {
  const s = view.settings;
  const dialog = $("#settings-dialog");
  $("#settings-file").textContent = view.settings_notes.length ? view.settings_notes.join(" ") : "";
  $("#set-rotate").value = s.rotate_after_days;
  $("#set-unused").value = s.unused_after_days;
  $("#set-clipboard").value = s.clipboard_seconds;
  $("#set-check-on-start").checked = s.check_on_start;
  $("#settings-error").textContent = "";
  $("#settings-cancel").onclick = () => dialog.close();
  $("#settings-form").onsubmit = async (event) => {
    event.preventDefault();
    const number = (id) => Number.parseInt($(id).value, 10);
    const settings = {
      rotate_after_days: number("#set-rotate"),
      unused_after_days: number("#set-unused"),
      clipboard_seconds: number("#set-clipboard"),
      check_on_start: $("#set-check-on-start").checked,
    };
    if (Object.values(settings).some((v) => typeof v === "number" && !(v >= 0))) {
      $("#settings-error").textContent = "Each number is a whole number of days or seconds.";
      return;
    }
    try {
      await api.saveSettings(settings);
      dialog.close();
      announce("Settings saved. Check all applies the new thresholds.");
      onSaved(settings);
    } catch (e) {
      $("#settings-error").textContent = api.message(e);
    }
  };
  dialog.showModal();
  $("#set-rotate").focus();
}
