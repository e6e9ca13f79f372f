//! Driving the real keyrack window end to end: a private X server (Xvfb), `tauri-driver` with
//! `WebKitWebDriver`, and the app binary, all with a temporary HOME whose AWS files the test
//! writes and reads. Also the pinned Python tools of the engine's tests (botocore, the AWS CLI,
//! moto), shared with them.
#![allow(dead_code)]

#[path = "../../../tests/support/moto.rs"]
pub mod moto;
#[path = "../../../tests/support/keyring.rs"]
pub mod keyring;
pub mod desktop;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("src-tauri has a parent").to_path_buf()
}

/// The venv created by `tests/tools/setup.sh` (`$KEYRACK_VENV`, default `~/.cache/keyrack/venv`).
pub fn venv() -> PathBuf {
    match std::env::var_os("KEYRACK_VENV").filter(|v| !v.is_empty()) {
        Some(v) => PathBuf::from(v),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is not set")).join(".cache/keyrack/venv"),
    }
}

pub fn venv_bin(name: &str) -> PathBuf {
    let path = venv().join("bin").join(name);
    assert!(path.is_file(), "{} does not exist: run `tests/tools/setup.sh` first", path.display());
    path
}

/// What botocore reads from a pair of files (see tests/tools/botocore_read.py).
pub fn botocore_read(config: &Path, credentials: &Path) -> Value {
    let out = Command::new(venv_bin("python"))
        .arg(repo_root().join("tests/tools/botocore_read.py"))
        .arg(config)
        .arg(credentials)
        .env("PYTHONUTF8", "1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run botocore_read.py");
    assert!(out.status.success(), "botocore_read.py failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("botocore_read.py prints JSON")
}

/// Run the pinned AWS CLI against `home`'s files and the stand-in at `endpoint`.
pub fn aws_cli(home: &Path, endpoint: &str, args: &[&str]) -> std::process::Output {
    Command::new(venv_bin("aws"))
        .args(args)
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join(".aws/config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
        .env("AWS_ENDPOINT_URL", endpoint)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_CA_BUNDLE")
        .output()
        .expect("run the aws CLI")
}
