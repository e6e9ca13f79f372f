// The small window an AWS tool's `keyrack credential-process` opens to ask for an MFA code: the
// question keyrack asked, six digits typed or pasted (spaces are fine), Sign in or Cancel. The
// code goes to the keyrack that asked; the page keeps no copy.
const { invoke } = window.__TAURI__.core;

const form = document.getElementById("ask-form");
const input = document.getElementById("ask-code");
const error = document.getElementById("ask-error");

invoke("question").then((question) => {
  document.getElementById("ask-text").textContent = `${question.text}.`;
  document.body.dataset.ready = "true";
  input.focus();
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const typed = input.value;
  input.value = "";
  invoke("answer", { code: typed }).catch((refused) => {
    const reason = String(refused);
    error.textContent = reason.charAt(0).toUpperCase() + reason.slice(1);
    input.focus();
  });
});

document.getElementById("ask-cancel").addEventListener("click", () => invoke("answer", { code: null }));
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") invoke("answer", { code: null });
});
