//! Helpers shared by the integration tests: the pinned Python tools (botocore, the AWS CLI,
//! moto) used as oracles and stand-ins, and running the keyrack binary.
#![allow(dead_code)]

pub mod clock_proxy;
pub mod home;
pub mod keyring;
pub mod moto;
pub mod random_files;

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

/// Environment variables that would let a program read files other than the ones named on its
/// command line.
pub const AWS_ENV: [&str; 5] = ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "PYTHONPATH"];

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
        input.push_str(&format!("{}\t{}\n", config.display(), credentials.display()));
    }
    let mut stdin = child.stdin.take().expect("oracle stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("run botocore_read.py --batch");
    writer.join().expect("feed the oracle").expect("write to the oracle");
    assert!(output.status.success(), "botocore_read.py --batch failed: {}", output.status);
    let answers: Vec<Value> = String::from_utf8(output.stdout)
        .expect("the oracle prints ASCII JSON")
        .lines()
        .map(|line| serde_json::from_str(line).expect("the oracle prints JSON lines"))
        .collect();
    assert_eq!(answers.len(), pairs.len(), "the oracle answered every pair");
    answers
}
