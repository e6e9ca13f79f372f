// Asking for an MFA code while profiles are checked: the device, the profiles it unlocks and
// how long the session lasts; six digits, pasted or typed (spaces are fine). The code goes to the
// engine once; the page keeps no copy.
import * as api from "./api.js";
import { $ } from "./dom.js";

const queue = [];
let showing = false;

/** Show `question` (or queue it behind the one shown) and send the person's answer. */
export function askForMfaCode(question) {
  queue.push(question);
  if (!showing) next();
}

function minutes(seconds) {
  const m = Math.round(seconds / 60);
  return m >= 120 && m % 60 === 0 ? `${m / 60} hours` : `${m} minutes`;
}

function next() {
  const question = queue.shift();
  if (!question) { showing = false; return; }
  showing = true;
  const dialog = $("#mfa-dialog");
  const input = $("#mfa-code");
  const unlocks = question.unlocks.length > 1
    ? `One code unlocks ${question.unlocks.join(", ")}. `
    : "";
  const kept = question.aws_cli_shares ? "the AWS CLI uses it too" : "it is kept in the keychain";
  $("#mfa-text").textContent =
    `Profile ${question.profile} needs a code of the MFA device ${question.serial}. ${unlocks}` +
    `The session lasts ${minutes(question.session_seconds)}; ${kept}.`;
  const note = question.refused || (question.retry ? "AWS did not accept that code (wrong, used before, or too old). Wait for the next code." : "");
  $("#mfa-error").textContent = note;
  input.value = "";
  let answered = false;
  const answer = (code) => {
    if (answered) return;
    answered = true;
    if (dialog.open) dialog.close();
    input.value = "";
    api.answerMfa(question.id, code).finally(next);
  };
  $("#mfa-form").onsubmit = (event) => { event.preventDefault(); answer(input.value); };
  $("#mfa-cancel").onclick = () => answer(null);
  dialog.onclose = () => answer(null);
  dialog.showModal();
  input.focus();
}
