// The first reading of the files, asked for as soon as the page starts, while its modules are
// still loading (about 90 ms here): app.js takes this answer (api.firstLoad) instead of asking
// once they run. A failure is said by app.js, which awaits it.
window.__keyrackFirstLoad = window.__TAURI__.core.invoke("load");
window.__keyrackFirstLoad.catch(() => {});
