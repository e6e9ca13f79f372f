// Records every error the page meets (script errors, rejected promises, CSP violations,
// console.error) in window.__keyrackErrors, so the end-to-end tests can assert there are none.
window.__keyrackErrors = [];
const record = (text) => window.__keyrackErrors.push(String(text));
window.addEventListener("error", (e) => record(e.message || e.type));
window.addEventListener("unhandledrejection", (e) => record("unhandled rejection: " + (e.reason && e.reason.message ? e.reason.message : JSON.stringify(e.reason))));
document.addEventListener("securitypolicyviolation", (e) => record(`CSP blocked ${e.blockedURI} (${e.violatedDirective})`));
const consoleError = console.error.bind(console);
console.error = (...args) => { record(args.map(String).join(" ")); consoleError(...args); };
