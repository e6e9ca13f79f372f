//! The page asks for all its scripts at once: `ui/index.html` preloads every module that
//! `ui/app.js` imports, directly or not, so WebKit fetches them together instead of one import
//! level after another (part of the launch time `scripts/bench-app` measures).

use std::collections::BTreeSet;
use std::path::PathBuf;

fn ui() -> PathBuf {
    keyrack_test_support::repo_root().join("ui")
}

/// The modules `file` imports (`import ... from "./name.js"`), by file name.
fn imports_of(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(ui().join(file)).unwrap();
    text.lines()
        .filter(|line| line.starts_with("import "))
        .filter_map(|line| line.split(" from \"./").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// Every module `app.js` reaches through its imports.
fn reached_from_app() -> BTreeSet<String> {
    let mut reached = BTreeSet::new();
    let mut to_read = vec!["app.js".to_owned()];
    while let Some(file) = to_read.pop() {
        for imported in imports_of(&file) {
            if reached.insert(imported.clone()) {
                to_read.push(imported);
            }
        }
    }
    reached
}

fn preloaded() -> BTreeSet<String> {
    let html = std::fs::read_to_string(ui().join("index.html")).unwrap();
    html.split("<link rel=\"modulepreload\" href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_page_preloads_exactly_the_modules_the_app_imports() {
    let reached = reached_from_app();
    assert!(
        reached.contains("api.js") && reached.contains("sso.js"),
        "the import graph was read: {reached:?}"
    );
    assert_eq!(
        preloaded(),
        reached,
        "ui/index.html's modulepreload links and app.js's imports"
    );
}
