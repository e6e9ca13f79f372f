//! The helpers every keyrack test uses, the engine's and the app's: the pinned Python tools
//! (botocore, the AWS CLI, moto) used as oracles and stand-ins, the throw-away keyring, and
//! scratch homes to run the keyrack binary in.

pub mod clock_proxy;
pub mod home;
pub mod keyring;
pub mod moto;
pub mod random_files;
pub mod sso_portal;
pub mod sts_mfa;

use serde_json::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The venv created by `tests/tools/setup.sh` (`$KEYRACK_VENV`, default `~/.cache/keyrack/venv`).
pub fn venv() -> PathBuf {
    match std::env::var_os("KEYRACK_VENV").filter(|v| !v.is_empty()) {
        Some(v) => PathBuf::from(v),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is not set"))
            .join(".cache/keyrack/venv"),
    }
}

/// A program of the venv (`python`, `aws`, `moto_server`), or a panic saying how to install it.
pub fn venv_bin(name: &str) -> PathBuf {
    let path = venv().join("bin").join(name);
    assert!(
        path.is_file(),
        "{} does not exist: run `tests/tools/setup.sh` to install the pinned test tools, then rerun the tests",
        path.display()
    );
    path
}

/// The repository root (these helpers also serve src-tauri's tests, whose package sits below it).
/// Found from the package cargo runs the test in now: a test binary that another clone built
/// into the shared target folder, and that cargo reuses, holds that clone's path (gone since).
pub fn repo_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .ancestors()
        .find(|dir| dir.join("tests/tools/botocore_read.py").is_file())
        .unwrap_or(&manifest)
        .to_path_buf()
}

/// What botocore reads from a pair of files: `{"profiles", "sso_sessions", "services", "error"}`,
/// secrets masked like keyrack masks them.
pub fn botocore_read(config: &Path, credentials: &Path) -> Value {
    let out = Command::new(venv_bin("python"))
        .arg(repo_root().join("tests/tools/botocore_read.py"))
        .arg(config)
        .arg(credentials)
        .env("PYTHONUTF8", "1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run botocore_read.py");
    assert!(
        out.status.success(),
        "botocore_read.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("botocore_read.py prints JSON")
}

/// Environment variables that would let a program read files other than the ones named on its
/// command line.
pub const AWS_ENV: [&str; 5] = [
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "PYTHONPATH",
];

/// What botocore sees in each (config, credentials) pair, read by one Python process (a
/// process per pair would spend most of the time importing botocore). `home` is its `HOME`.
pub fn botocore_read_all(pairs: &[(PathBuf, PathBuf)], home: &Path) -> Vec<Value> {
    let mut oracle = Command::new(venv_bin("python"));
    oracle
        .arg(repo_root().join("tests/tools/botocore_read.py"))
        .arg("--batch")
        .env("PYTHONUTF8", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    for var in AWS_ENV {
        oracle.env_remove(var);
    }
    let mut child = oracle.spawn().expect("start botocore_read.py --batch");
    let mut input = String::new();
    for (config, credentials) in pairs {
        input.push_str(&format!(
            "{}\t{}\n",
            config.display(),
            credentials.display()
        ));
    }
    let mut stdin = child.stdin.take().expect("oracle stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .expect("run botocore_read.py --batch");
    writer
        .join()
        .expect("feed the oracle")
        .expect("write to the oracle");
    assert!(
        output.status.success(),
        "botocore_read.py --batch failed: {}",
        output.status
    );
    let answers: Vec<Value> = String::from_utf8(output.stdout)
        .expect("the oracle prints ASCII JSON")
        .lines()
        .map(|line| serde_json::from_str(line).expect("the oracle prints JSON lines"))
        .collect();
    assert_eq!(answers.len(), pairs.len(), "the oracle answered every pair");
    answers
}

/// Every regular file under `dir` (recursively, symlinks not followed) whose bytes contain one
/// of `needles`: what a "no secret left on disk" assertion checks. A file that disappears while
/// it is read (a program's cache) is skipped.
pub fn files_holding(dir: &Path, needles: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if folder == dir => panic!("cannot list {}: {e}", dir.display()),
            Err(_) => continue,
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                pending.push(path);
            } else if meta.is_file() {
                let Ok(bytes) = std::fs::read(&path) else {
                    continue;
                };
                if needles
                    .iter()
                    .any(|n| !n.is_empty() && bytes.windows(n.len()).any(|w| w == n.as_bytes()))
                {
                    found.push(path);
                }
            }
        }
    }
    found.sort();
    found
}

/// Whether botocore, reading these files, gives profile `profile` exactly `secret` as its secret
/// access key. The secret goes to Python on stdin and the answer is only "same" or "different",
/// so it never shows in an argument list or a test's output.
pub fn botocore_secret_is(config: &Path, credentials: &Path, profile: &str, secret: &str) -> bool {
    const SCRIPT: &str = "import sys, botocore.session\n\
        creds = botocore.session.Session(profile=sys.argv[1]).get_credentials()\n\
        print('same' if creds is not None and creds.secret_key == sys.stdin.read() else 'different')\n";
    let mut python = Command::new(venv_bin("python"));
    python
        .args(["-c", SCRIPT, profile])
        .env("AWS_CONFIG_FILE", config)
        .env("AWS_SHARED_CREDENTIALS_FILE", credentials)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "PYTHONPATH",
    ] {
        python.env_remove(var);
    }
    let mut child = python.spawn().expect("start python with botocore");
    child
        .stdin
        .take()
        .expect("python stdin")
        .write_all(secret.as_bytes())
        .expect("give python the secret");
    let output = child.wait_with_output().expect("run python with botocore");
    assert!(
        output.status.success(),
        "botocore could not read the credentials: {}",
        output.status
    );
    String::from_utf8_lossy(&output.stdout).trim() == "same"
}

/// Fails when `text` holds any of `secrets` (or, for one of 20 characters or more, its first 12:
/// a secret cut short still leaks). The message shows the text, never which secret matched.
pub fn assert_no_secret_in(text: &str, secrets: &[&str]) {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let head = &secret[..secret.len().min(12)];
        let leaked = text.contains(secret) || (secret.len() >= 20 && text.contains(head));
        assert!(!leaked, "a secret was printed:\n{text}");
    }
}

/// [`assert_no_secret_in`] for both output streams of a program.
pub fn assert_output_has_no_secret(out: &std::process::Output, secrets: &[&str]) {
    for stream in [&out.stdout, &out.stderr] {
        assert_no_secret_in(&String::from_utf8_lossy(stream), secrets);
    }
}

/// `keyrack profiles --json` (the listing the app shows) as the maps botocore's reading is
/// compared with: `{"profiles": {NAME: {KEY: VALUE}}, "sso_sessions", "services",
/// "secret_stores": {NAME: STORE}, "problems", "disagreements", "error"}`, a secret's value (also
/// inside a nested block) as `********`, as `tests/tools/botocore_read.py` masks it.
pub fn reading_of(listing: &Value) -> Value {
    use serde_json::{json, Map};
    const MASK: &str = "********";
    let settings = |list: &Value| -> Value {
        let mut out = Map::new();
        for s in list.as_array().into_iter().flatten() {
            let key = s["key"].as_str().unwrap().to_string();
            let nested = s["nested"].as_array().filter(|n| !n.is_empty());
            let value = if s["secret"] == true {
                // The listing never carries a secret's value: only an empty one, shown as empty.
                assert!(
                    s["value"].is_null() || s["value"] == "",
                    "the listing shows the value of secret setting {}",
                    s["key"]
                );
                json!(MASK)
            } else if let Some(nested) = nested {
                let mut block = Map::new();
                for pair in nested {
                    let value = if pair[1].is_null() {
                        json!(MASK)
                    } else {
                        pair[1].clone()
                    };
                    block.insert(pair[0].as_str().unwrap().to_string(), value);
                }
                Value::Object(block)
            } else if s["value"].is_null() {
                json!({})
            } else {
                s["value"].clone()
            };
            out.insert(key, value);
        }
        Value::Object(out)
    };
    let sections = |list: &Value, name: &str, members: &str| -> Value {
        Value::Object(
            list.as_array()
                .into_iter()
                .flatten()
                .map(|p| (p[name].as_str().unwrap().to_string(), settings(&p[members])))
                .collect(),
        )
    };
    let problems = |list: &Value| -> Value {
        Value::Array(
            list.as_array()
                .into_iter()
                .flatten()
                .map(|p| json!({"file": p["path"], "line": p["line"], "message": p["message"]}))
                .collect(),
        )
    };
    let stores: Map<String, Value> = listing["profiles"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["secret_store"]["store"].clone(),
            )
        })
        .collect();
    json!({
        "profiles": sections(&listing["profiles"], "name", "settings"),
        "sso_sessions": sections(&listing["sso_sessions"], "name", "settings"),
        "services": sections(&listing["services"], "name", "settings"),
        "secret_stores": stores,
        "problems": problems(&listing["problems"]),
        "disagreements": problems(&listing["disagreements"]),
        "error": listing["rejection"],
    })
}

/// The members of a JSON object, in order: a view's shape, pinned by the tests that print it.
pub fn members(object: &Value) -> Vec<&str> {
    object
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// Read a terminal (the output of `script`) until it shows `text`, collecting what it showed.
pub fn read_until(stdout: &mut std::process::ChildStdout, shown: &mut Vec<u8>, text: &str) {
    use std::io::Read;
    while !String::from_utf8_lossy(shown).contains(text) {
        let mut buf = [0u8; 256];
        let n = stdout.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "the terminal closed before showing {text:?}: {}",
            String::from_utf8_lossy(shown)
        );
        shown.extend_from_slice(&buf[..n]);
    }
}

/// Why the kept check of `profile` (of the files `paths` names, kept in `state_dir`) is out of
/// date, if it is; panics when nothing is kept for it.
pub fn kept_stale_because(
    paths: keyrack::files::FilePaths,
    state_dir: &Path,
    profile: &str,
) -> Option<keyrack::rack::StaleCause> {
    let rack = keyrack::Rack::new(
        paths,
        keyrack::keychain::Keychain::in_memory(),
        state_dir.to_path_buf(),
        keyrack::aws::EndpointEnv::from_pairs([("AWS_DEFAULT_REGION", "us-east-1")]),
        "a test",
    );
    let kept = rack.kept_checks().unwrap();
    let check = kept.iter().find(|k| k.view["profile"] == profile);
    check.expect("a kept result").stale_because
}
