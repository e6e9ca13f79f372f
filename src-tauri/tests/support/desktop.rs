//! One running keyrack window per test: Xvfb on a display it picks itself, `tauri-driver` on free
//! ports in its own process group, a WebDriver session on the app binary. Dropping it ends all
//! of them (SIGTERM to the group, then SIGKILL after a timeout) and leaves no process behind.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, MutexGuard};

use thirtyfour::prelude::*;

/// The end-to-end tests run one at a time: each window with its WebKit processes takes
/// hundreds of MB and the machine has two cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// The app binary: `$KEYRACK_APP_BINARY` (the benchmark's release build), else the one cargo
/// built for these tests.
pub fn app_binary() -> PathBuf {
    match std::env::var_os("KEYRACK_APP_BINARY").filter(|v| !v.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_BIN_EXE_keyrack-app")),
    }
}

fn tauri_driver() -> PathBuf {
    if let Ok(path) = std::env::var("TAURI_DRIVER") {
        return PathBuf::from(path);
    }
    let home = PathBuf::from(std::env::var_os("HOME").expect("HOME"));
    for candidate in [
        home.join(".cargo/bin/tauri-driver"),
        PathBuf::from("/usr/local/bin/tauri-driver"),
    ] {
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("tauri-driver is not installed: run tests/tools/setup-app.sh");
}

fn require(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{program} is not installed (Debian package {package}): run tests/tools/setup-app.sh"
    );
}

/// A process group started for the test, ended when dropped.
struct Group {
    child: Child,
    name: &'static str,
}

impl Group {
    fn spawn(name: &'static str, mut command: Command) -> Group {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {name}: {e}"));
        Group { child, name }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The pids of the group's processes that are alive (zombies do not count).
pub fn group_members(pgid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string() {
            out.push(pid);
        }
    }
    out
}

fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

impl Drop for Group {
    fn drop(&mut self) {
        let pgid = self.pid();
        signal_group(pgid, "-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let _ = self.child.try_wait();
            if group_members(pgid).is_empty() {
                break;
            }
            if Instant::now() > deadline {
                eprintln!("{} did not stop on SIGTERM; killing it", self.name);
                signal_group(pgid, "-KILL");
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A running keyrack window on a temporary HOME.
pub struct Desktop {
    pub driver: WebDriver,
    pub home: PathBuf,
    pub display: String,
    tauri_driver: Group,
    xvfb: Group,
    _serial: MutexGuard<'static, ()>,
}

/// The app's environment for a test: HOME and the two AWS files inside it, no session bus, and
/// (when given) the moto stand-in as every AWS endpoint.
pub fn app_env(home: &Path, endpoint: Option<&str>) -> Vec<(String, String)> {
    let mut env = vec![
        ("HOME".into(), home.display().to_string()),
        (
            "AWS_CONFIG_FILE".into(),
            home.join(".aws/config").display().to_string(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE".into(),
            home.join(".aws/credentials").display().to_string(),
        ),
        (
            "XDG_CONFIG_HOME".into(),
            home.join(".config").display().to_string(),
        ),
        (
            "XDG_DATA_HOME".into(),
            home.join(".local/share").display().to_string(),
        ),
        (
            "XDG_CACHE_HOME".into(),
            home.join(".cache").display().to_string(),
        ),
        (
            "XDG_STATE_HOME".into(),
            home.join(".local/state").display().to_string(),
        ),
        (
            "DBUS_SESSION_BUS_ADDRESS".into(),
            "unix:path=/nonexistent/bus".into(),
        ),
        ("NO_AT_BRIDGE".into(), "1".into()),
        (
            "GTK_THEME".into(),
            std::env::var("KEYRACK_TEST_GTK_THEME").unwrap_or_else(|_| "Adwaita".into()),
        ),
    ];
    if let Some(url) = endpoint {
        env.push(("AWS_ENDPOINT_URL".into(), url.into()));
    }
    env
}

/// A private X server for one test (on a display it picks itself), ended when dropped; while it
/// lives no other test opens a window.
pub struct Display {
    xvfb: Group,
    /// `:N`, for `DISPLAY`.
    pub name: String,
    _serial: MutexGuard<'static, ()>,
}

impl Display {
    pub async fn start() -> Display {
        let serial = ONE_AT_A_TIME.lock().await;
        require("Xvfb", "xvfb");
        // Xvfb picks a free display and writes its number to the pipe.
        let (mut reader, writer) = std::io::pipe().expect("pipe");
        let mut xvfb_cmd = Command::new("Xvfb");
        xvfb_cmd
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(writer)
            .stderr(Stdio::null());
        let xvfb = Group::spawn("Xvfb", xvfb_cmd);
        let mut number = String::new();
        let mut byte = [0u8; 1];
        while reader.read(&mut byte).map(|n| n == 1).unwrap_or(false) && byte[0] != b'\n' {
            number.push(byte[0] as char);
        }
        assert!(!number.trim().is_empty(), "Xvfb did not report a display");
        Display {
            xvfb,
            name: format!(":{}", number.trim()),
            _serial: serial,
        }
    }

    /// Wait (up to 30 s) for a window titled `title` to be shown: its X window id.
    pub fn wait_window(&self, title: &str) -> String {
        require("xdotool", "xdotool");
        let out = Command::new("timeout")
            .args([
                "30",
                "xdotool",
                "search",
                "--sync",
                "--onlyvisible",
                "--name",
                title,
            ])
            .env("DISPLAY", &self.name)
            .output()
            .expect("run xdotool");
        let id = String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        assert!(
            !id.is_empty(),
            "no window titled {title:?} was shown within 30 s"
        );
        id
    }

    /// Type `text` and then press `keys` (xdotool key names: `Return`, `Escape`), as a person at
    /// the keyboard does, into the window that has the focus.
    pub fn type_keys(&self, text: &str, keys: &[&str]) {
        let run = |args: &[&str]| {
            let status = Command::new("xdotool")
                .args(args)
                .env("DISPLAY", &self.name)
                .status()
                .expect("run xdotool");
            assert!(status.success(), "xdotool {args:?} failed");
        };
        if !text.is_empty() {
            run(&["type", "--delay", "40", text]);
        }
        for key in keys {
            run(&["key", key]);
        }
    }

    /// A picture of the whole screen, saved as `<target>/e2e-screenshots/NAME.png`.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        let status = Command::new("import")
            .args(["-window", "root"])
            .arg(&path)
            .env("DISPLAY", &self.name)
            .status()
            .expect("run ImageMagick's import");
        assert!(status.success(), "import could not take the screenshot");
        path
    }
}

impl Desktop {
    /// Start Xvfb, tauri-driver and the app with `env`, and wait until the page is ready.
    pub async fn open(home: &Path, env: Vec<(String, String)>) -> Desktop {
        Desktop::launch(home, env, &mut None).await
    }

    /// As [`Desktop::open`]; `session_requested` gets the time the app was asked for (just
    /// before the WebDriver session that starts it).
    pub async fn launch(
        home: &Path,
        env: Vec<(String, String)>,
        session_requested: &mut Option<std::time::SystemTime>,
    ) -> Desktop {
        let Display {
            xvfb,
            name: display,
            _serial: serial,
        } = Display::start().await;
        require("WebKitWebDriver", "webkit2gtk-driver");

        let port = super::moto::free_port();
        let native_port = super::moto::free_port();
        let mut command = Command::new(tauri_driver());
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("DISPLAY", &display)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in &env {
            command.env(k, v);
        }
        let tauri_driver = Group::spawn("tauri-driver", command);

        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        // tauri-driver listens at once; the WebKitWebDriver it starts behind it takes a moment.
        for listener in [port, native_port] {
            while std::net::TcpStream::connect(("127.0.0.1", listener)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "tauri-driver / WebKitWebDriver did not listen on {listener}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app_binary() }),
        );
        let caps = Capabilities::from(caps);
        *session_requested = Some(std::time::SystemTime::now());
        // WebKitWebDriver sometimes refuses the very first session while it starts: try again once.
        let driver = match WebDriver::new(&url, caps.clone()).await {
            Ok(driver) => driver,
            Err(first) => {
                eprintln!("opening the WebDriver session failed ({first}); trying again");
                tokio::time::sleep(Duration::from_millis(500)).await;
                WebDriver::new(&url, caps)
                    .await
                    .expect("open a WebDriver session on the app")
            }
        };
        let desktop = Desktop {
            driver,
            home: home.to_path_buf(),
            display,
            tauri_driver,
            xvfb,
            _serial: serial,
        };
        desktop
            .wait_js(
                "return document.body.dataset.ready === 'true'",
                "the page to be ready",
            )
            .await;
        desktop
    }

    /// Wait (up to 15 s) until `script` returns true.
    /// The pid of tauri-driver, whose process group holds the app and its WebKit processes.
    pub fn process_group(&self) -> u32 {
        self.tauri_driver.pid()
    }

    pub async fn wait_js(&self, script: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let ok = self
                .driver
                .execute(script, vec![])
                .await
                .ok()
                .and_then(|r| r.json().as_bool())
                .unwrap_or(false);
            if ok {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until the element `css` exists and its text contains `text`.
    pub async fn wait_text(&self, css: &str, text: &str) -> WebElement {
        self.wait_text_within(css, text, Duration::from_secs(20))
            .await
    }

    /// Wait (up to `within`, looking every 25 ms) until the element `css` contains `text`.
    pub async fn wait_text_within(&self, css: &str, text: &str, within: Duration) -> WebElement {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(found) = self.driver.find(By::Css(css)).await {
                if found
                    .text()
                    .await
                    .map(|t| t.contains(text))
                    .unwrap_or(false)
                {
                    return found;
                }
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {css:?} to contain {text:?}; page text:\n{}",
                self.body_text().await
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn body_text(&self) -> String {
        match self
            .driver
            .execute("return document.body.innerText", vec![])
            .await
        {
            Ok(text) => text.json().as_str().unwrap_or_default().to_string(),
            Err(e) => format!("(could not read the page: {e})"),
        }
    }

    pub async fn click(&self, css: &str) {
        let element = self
            .driver
            .find(By::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("could not click {css}: {e}"));
    }

    /// Replace the value of the input `css` with `text`, as typed.
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self
            .driver
            .find(By::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        element.clear().await.expect("clear");
        element.send_keys(text).await.expect("type");
    }

    pub async fn select_option(&self, css: &str, value: &str) {
        let element = self
            .driver
            .find(By::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        let option = element
            .find(By::Css(format!("option[value='{value}']")))
            .await
            .unwrap_or_else(|e| panic!("no option {value}: {e}"));
        option.click().await.expect("choose the option");
    }

    /// Click the profile named `name` in the list.
    pub async fn open_profile(&self, name: &str) {
        self.open_profile_row(name).await;
        self.wait_text("#editor-title", name).await;
    }

    /// Click the row of profile `name` in the list, without waiting for the editor to show it.
    pub async fn open_profile_row(&self, name: &str) {
        self.driver
            .find(By::Css(format!("#profiles li[data-name='{name}']")))
            .await
            .unwrap_or_else(|e| panic!("no profile {name} in the list: {e}"))
            .click()
            .await
            .expect("click the profile");
    }

    /// Save a screenshot as `<target>/e2e-screenshots/<name>.png` and return its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // Under Xvfb and WebDriver, WebKit paints the window only when input arrives: move the
        // pointer over the title bar area (a harmless spot) so the picture shows the page as it is.
        for _ in 0..2 {
            if let Ok(brand) = self.driver.find(By::Css(".brand")).await {
                let _ = self
                    .driver
                    .action_chain()
                    .move_to_element_center(&brand)
                    .perform()
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let path = dir.join(format!("{name}.png"));
        self.driver
            .screenshot(&path)
            .await
            .expect("take a screenshot");
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// Messages the page logged as errors (the UI records them in `window.__errors`).
    pub async fn console_errors(&self) -> Vec<String> {
        let result = self
            .driver
            .execute("return (window.__keyrackErrors || []).slice()", vec![])
            .await
            .expect("read errors");
        serde_json::from_value(result.json().clone()).unwrap_or_default()
    }

    /// End the session and every process of the test.
    pub async fn close(self) {
        let errors = self.console_errors().await;
        let Desktop {
            driver,
            tauri_driver,
            xvfb,
            _serial,
            ..
        } = self;
        let _ = driver.quit().await;
        drop(tauri_driver);
        drop(xvfb);
        assert!(errors.is_empty(), "the page logged errors: {errors:?}");
    }
}

/// Where screenshots go: `e2e-screenshots/` in the cargo target folder the app was built in.
pub fn screenshot_dir() -> PathBuf {
    let binary = app_binary();
    let target = binary
        .parent()
        .and_then(Path::parent)
        .expect("the app binary is in <target>/<profile>/");
    target.join("e2e-screenshots")
}
