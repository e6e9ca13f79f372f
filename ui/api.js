// The only way the window talks to keyrack: its own commands, through Tauri's IPC.
const { invoke, Channel } = window.__TAURI__.core;

export const load = () => invoke("load");
/** The files as first read for the page (asked for by first-load.js before the modules ran); once. */
export function firstLoad() {
  const asked = window.__keyrackFirstLoad;
  window.__keyrackFirstLoad = null;
  return asked || load();
}
/** Keeps keyrack's settings (`{ rotate_after_days, unused_after_days, check_on_start, clipboard_seconds }`). */
export const saveSettings = (settings) => invoke("save_settings", { settings });
/** The engine's words and rules (see vocabulary.js). */
export const vocabulary = () => invoke("vocabulary");
export const checkInput = (field, value) => invoke("check_input", { field, value });
export const revealSecret = (profile, key) => invoke("reveal_secret", { profile, key });
/** Puts a secret on the clipboard (the saved one, or `typed`); keyrack empties it again in about 30 s. */
export const copySecret = (profile, key, typed = null) => invoke("copy_secret", { profile, key, typed });
export const applyChange = (revision, operation, force = false) => invoke("apply_change", { revision, operation, force });
export const configureDefault = (answers) => invoke("configure_default", answers);

/** Calls `onChange()` whenever either AWS file changes on disk. */
export function watchFiles(onChange) {
  const channel = new Channel();
  channel.onmessage = () => onChange();
  return invoke("watch_files", { onChange: channel });
}

/**
 * Checks who each profile is; `onResult(view)` gets each result as it arrives, and
 * `onMfa(question)` each MFA code a role needs (answer it with `answerMfa`).
 */
export function checkIdentities(profiles, onResult, onMfa) {
  const results = new Channel();
  results.onmessage = onResult;
  const questions = new Channel();
  questions.onmessage = onMfa;
  return invoke("check_identities", { profiles, onResult: results, onMfa: questions });
}

/** The answer to MFA question `id`: the code typed, or null (cancelled). */
export const answerMfa = (id, code) => invoke("answer_mfa", { id, code });

/** A channel that hands each MFA question keyrack asks to `onMfa`. */
function questions(onMfa) {
  const channel = new Channel();
  channel.onmessage = onMfa;
  return channel;
}

/**
 * A rotation's plan (changes nothing); the shell keeps it for `rotateKey`. A key behind an MFA
 * device may need a code: `onMfa(question)` asks for it.
 */
export const rotationPlan = (profile, keepOld, deleteInactive, keepNewOnStop, onMfa) =>
  invoke("rotation_plan", { profile, keepOld, deleteInactive, keepNewOnStop, onMfa: questions(onMfa) });
export const recoveryPlan = (oldKeyId, onMfa) => invoke("recovery_plan", { oldKeyId, onMfa: questions(onMfa) });
/** Make another key of the profile's user Inactive or delete it (`change`: "make_inactive" or "delete"). */
export const changeOtherKey = (profile, keyId, change, onMfa) =>
  invoke("change_other_key", { profile, keyId, change, onMfa: questions(onMfa) });

/** Runs the plan last shown; `onProgress(event)` gets each step as it starts, waits and ends. */
export function rotateKey(onProgress, onMfa) {
  const channel = new Channel();
  channel.onmessage = onProgress;
  return invoke("rotate_key", { onProgress: channel, onMfa: questions(onMfa) });
}

/** Where and how to make the key that replaces the profile's (its secret is lost). */
export const replacementGuide = (profile) => invoke("replacement_guide", { profile });
/**
 * A replacement's plan: `newKey` is `{ from: "csv", path }` or `{ from: "typed", key_id, secret }`;
 * the shell proves it is the same user's key and keeps plan and key for `replaceKey`.
 */
export const replacementPlan = (profile, newKey, keepOld, oldKeyDeleted, onMfa) =>
  invoke("replacement_plan", { profile, newKey, keepOld, oldKeyDeleted, onMfa: questions(onMfa) });
/** Runs the replacement last shown, like `rotateKey`. */
export function replaceKey(onProgress, onMfa) {
  const channel = new Channel();
  channel.onmessage = onProgress;
  return invoke("replace_key", { onProgress: channel, onMfa: questions(onMfa) });
}

/** `onMfa(question)` gets each MFA code an AWS tool (through keyrack) asks this window for. */
export const listenForMfa = (onMfa) => invoke("listen_for_mfa", { onMfa: questions(onMfa) });

/** Signs in with `profile`'s MFA device now; resolves to the session kept. */
export const mfaLogin = (profile, onMfa) => invoke("mfa_login", { profile, onMfa: questions(onMfa) });

export const interruptedRotations = () => invoke("interrupted_rotations");

/** Forgets the kept sessions of `profiles`; resolves to what was removed. */
export const forgetSessions = (profiles) => invoke("forget_sessions", { profiles });

/** Removes the leftover backups and temporary files that keep secrets; resolves to how many files it cleaned. */
export const cleanLeftovers = () => invoke("clean_leftovers");

export const moveToKeychain = (profile) => invoke("move_to_keychain", { profile });
export const restoreFromKeychain = (profile) => invoke("restore_from_keychain", { profile });

/** A failure from a command, as text. */
export function message(error) {
  const text = error && typeof error === "object" && "message" in error ? error.message : String(error);
  // The engine's messages also go after "keyrack: " on the command line, in lower case; here
  // they stand alone, as sentences.
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Signs in to IAM Identity Center for `profile` in the system browser (or with a device code);
 * `onPrompt(prompt)` gets the page to open and, for a device code, the code to check there.
 */
export function ssoLogin(profile, useDeviceCode, onPrompt) {
  const channel = new Channel();
  channel.onmessage = onPrompt;
  return invoke("sso_login", { profile, useDeviceCode, onPrompt: channel });
}
/** Stops the sign-in under way (its dialog was closed); nothing is kept. */
export const ssoCancel = () => invoke("sso_cancel");
/** Signs out of every IAM Identity Center sign-in, as `aws sso logout` does. */
export const ssoLogout = () => invoke("sso_logout");
/** The profiles populating `session` would add or prune (changes nothing; kept for `ssoPopulate`). */
export const ssoPopulatePlan = (session) => invoke("sso_populate_plan", { session });
/** Writes the preview shown last; resolves to the number of profiles added or removed. */
export const ssoPopulate = (prune) => invoke("sso_populate", { prune });

/** `onDrop(paths)` gets the paths of files dropped on the window. */
export function listenForDrops(onDrop) {
  const channel = new Channel();
  channel.onmessage = onDrop;
  return invoke("listen_for_drops", { onDrop: channel });
}
/** The system's file chooser for the console's key file: its path, or null. */
export const pickKeyFile = () => invoke("pick_key_file");
/** What a key file holds, without its secrets: `{ path, keys: [{ access_key_id, user_name }] }`. */
export const previewKeyFile = (path) => invoke("preview_key_file", { path });
/** Saves the file's key as a profile once STS says it works; resolves to what was saved. */
export const importKeyFile = (path, profile, region) => invoke("import_key_file", { path, profile, region });
/** Deletes the key file (only once its keys are in the files). */
export const deleteKeyFile = (path) => invoke("delete_key_file", { path });
