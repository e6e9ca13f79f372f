// The engine's words and rules (keyrack::vocabulary), fetched once at start: the page keeps no
// copy of them. What a step, a kind, a key status, an error code and a stale result's cause are
// called, and which settings are secrets.
import * as api from "./api.js";

let words = null;

/** Fetches the vocabulary; every function below needs it. */
export async function loadVocabulary() {
  words = await api.vocabulary();
  words.labels = {};
  for (const group of ["steps", "kinds", "key_statuses", "headlines", "stale_badges", "stale_notes"]) {
    words.labels[group] = Object.fromEntries(words[group].map((w) => [w.name, w.label]));
  }
}

const label = (group, name, fallback) => (words && words.labels[group][name]) || fallback;

export const kindLabel = (kind) => label("kinds", kind, kind);
export const stepLabel = (step) => label("steps", step, step);
export const statusLabel = (status) => label("key_statuses", status, status);
/** The headline of an error code; the code itself only if the engine has none (a test forbids that). */
export const errorHeadline = (code) => label("headlines", code, code || "Failed");

/** Why a kept result is out of date (`stale_because`), as the list's badge and as the result's note. */
// A cause the engine did not name blames nothing: the result is only said to be out of date.
export const staleBadge = (cause) => label("stale_badges", cause, "out of date");
export const staleNote = (cause) => label("stale_notes", cause, "This result may be out of date. Check it again.");

/** Whether `key` (or, in `parent.sub`, its sub-key) names a secret, case ignored, as the engine decides. */
export function isSecretKey(key) {
  // Never guess "not a secret": the page does not draw before the vocabulary is loaded.
  if (!words) throw new Error("the engine's vocabulary is not loaded");
  return String(key).split(".").some((part) => words.secret_keys.includes(part.toLowerCase()));
}
