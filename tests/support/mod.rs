//! Helpers shared by the integration tests: the pinned Python tools (botocore, the AWS CLI,
//! moto) used as oracles and stand-ins, and running the keyrack binary.
#![allow(dead_code)]

pub mod home;
pub mod keyring;
pub mod moto;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

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
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("tests/tools/botocore_read.py").is_file())
        .unwrap_or(manifest)
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
