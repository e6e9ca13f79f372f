//! Opening a page in the person's browser: `BROWSER` when set (as Python's `webbrowser`, which
//! the AWS CLI uses, reads it), else the platform's opener.

use std::process::{Command, Stdio};

/// Open `url` in the browser; whether an opener could be started. Nothing it prints reaches
/// keyrack's own output (credential-process's stdout is the AWS tools' JSON).
pub fn open(url: &str) -> bool {
    if let Some(list) = std::env::var_os("BROWSER").filter(|b| !b.is_empty()) {
        // `BROWSER` is a list of commands separated by the path separator; `%s` is the URL.
        return std::env::split_paths(&list).any(|command| {
            let command = command.to_string_lossy().into_owned();
            let mut words: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
            if words.is_empty() {
                return false;
            }
            if words.iter().any(|w| w.contains("%s")) {
                words.iter_mut().for_each(|w| *w = w.replace("%s", url));
            } else {
                words.push(url.to_owned());
            }
            start(&words[0], &words[1..])
        });
    }
    platform_open(url)
}

/// Whether a page can be opened for a person here: `BROWSER` is set, or (Linux and the BSDs) a
/// graphical session is running; macOS and Windows always have a browser to hand.
pub fn can_open() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    set("BROWSER")
        || cfg!(any(target_os = "macos", windows))
        || set("DISPLAY")
        || set("WAYLAND_DISPLAY")
}

#[cfg(all(unix, not(target_os = "macos")))]
fn platform_open(url: &str) -> bool {
    start("xdg-open", &[url.to_owned()])
}

#[cfg(target_os = "macos")]
fn platform_open(url: &str) -> bool {
    start("open", &[url.to_owned()])
}

#[cfg(windows)]
fn platform_open(url: &str) -> bool {
    // Not `cmd /c start`, which would read `&` in the URL as a command separator.
    start(
        "rundll32",
        &["url.dll,FileProtocolHandler".to_owned(), url.to_owned()],
    )
}

/// Start `program` with `args`, not waiting for it (a thread reaps it).
fn start(program: &str, args: &[String]) -> bool {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
            true
        }
        Err(_) => false,
    }
}
