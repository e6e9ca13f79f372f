//! Benchmark (not a test): load, edit and save a config/credentials pair with 2,000 profiles,
//! next to botocore reading the same files in the same run, both measured in-process (the
//! Python interpreter's start-up and botocore's import are not counted against botocore).
//!
//! Run: `cargo bench --bench files` (needs the venv from tests/tools/setup.sh).

use keyrack::files::edit::{KeyPath, Section};
use keyrack::files::{AwsFiles, Dialect, FilePaths};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The same allocator as the keyrack binaries.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PROFILES: usize = 2000;
const ROUNDS: usize = 20;

fn write_files(dir: &std::path::Path) -> FilePaths {
    let mut config = String::from("# generated for the benchmark\n[default]\nregion = us-east-1\noutput = json\n");
    let mut credentials = String::new();
    for i in 0..PROFILES {
        let _ = write!(
            config,
            "\n# team {i}\n[profile p{i}]\nregion = eu-west-{}\noutput = json\ns3 =\n  max_concurrent_requests = {}\n  addressing_style = path\n",
            i % 3 + 1,
            i % 50
        );
        let _ = write!(
            credentials,
            "[p{i}]\naws_access_key_id = AKIAEXAMPLE{i:09}\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\n"
        );
    }
    let paths = FilePaths { config: dir.join("config"), credentials: dir.join("credentials") };
    std::fs::write(&paths.config, config).unwrap();
    std::fs::write(&paths.credentials, credentials).unwrap();
    paths
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn keyrack_round(paths: &FilePaths, round: usize) -> Duration {
    let start = Instant::now();
    let mut files = AwsFiles::load(paths).unwrap();
    let reading = files.read(Dialect::Cli);
    assert_eq!(reading.profiles.len(), PROFILES + 1);
    let profile = Section::Profile(format!("p{}", (round * 97) % PROFILES));
    files.set(&profile, &KeyPath::parse("region").unwrap(), &format!("ap-south-{}", round % 2 + 1)).unwrap();
    files.save().unwrap();
    start.elapsed()
}

fn botocore_seconds(paths: &FilePaths) -> Duration {
    let venv = std::env::var_os("KEYRACK_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/keyrack/venv"));
    let script = format!(
        "import time, statistics, botocore.session\n\
         samples = []\n\
         for _ in range({ROUNDS}):\n\
         \x20   s = botocore.session.Session()\n\
         \x20   s.set_config_variable('config_file', {:?})\n\
         \x20   s.set_config_variable('credentials_file', {:?})\n\
         \x20   t = time.perf_counter(); c = s.full_config; samples.append(time.perf_counter() - t)\n\
         \x20   assert len(c['profiles']) == {}\n\
         print(statistics.median(samples))\n",
        paths.config.display().to_string(),
        paths.credentials.display().to_string(),
        PROFILES + 1
    );
    let out = Command::new(venv.join("bin/python")).args(["-c", &script]).env("PYTHONUTF8", "1").output().expect("run the venv's python (run tests/tools/setup.sh)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Duration::from_secs_f64(String::from_utf8_lossy(&out.stdout).trim().parse().unwrap())
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_files(dir.path());
    let size = std::fs::metadata(&paths.config).unwrap().len() + std::fs::metadata(&paths.credentials).unwrap().len();
    let keyrack = median((0..ROUNDS).map(|r| keyrack_round(&paths, r)).collect());
    let botocore = botocore_seconds(&paths);
    println!("files: {PROFILES} profiles, {size} bytes in config + credentials");
    println!("keyrack load + read + verified edit + atomic save (median of {ROUNDS}): {:.2} ms", keyrack.as_secs_f64() * 1e3);
    println!("botocore Session.full_config read only   (median of {ROUNDS}): {:.2} ms", botocore.as_secs_f64() * 1e3);
    println!("ratio botocore / keyrack: {:.1}x (goal: at least 20x)", botocore.as_secs_f64() / keyrack.as_secs_f64());
}
