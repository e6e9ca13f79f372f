//! Benchmark (not a test): load, edit and save a config/credentials pair with 2,000 profiles,
//! next to botocore reading the same files in the same run, both measured in-process (the
//! Python interpreter's start-up and botocore's import are not counted against botocore).
//! The two are measured in alternating blocks of rounds, so that a machine that slows down or
//! speeds up during the run affects both sides alike, while each side still runs warm, as an
//! in-process loop does (alternating single rounds would instead measure each side right after
//! the other has filled the caches with its own data).
//!
//! Also printed: one `keyrack set` run as a whole process (start-up included), as people use it.
//! Those runs have blocks of their own, so that no in-process round follows a process start.
//!
//! Run: `cargo bench --bench files` (needs the venv from tests/tools/setup.sh).
//! `cargo bench --bench files -- --keyrack-only` runs keyrack's rounds alone, for a profiler
//! (`valgrind --tool=callgrind` counts the same instructions on every run).

use keyrack::files::edit::{KeyPath, Section};
use keyrack::files::{AwsFiles, Dialect, FilePaths};
use std::alloc::{GlobalAlloc, Layout};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The same allocator as the keyrack binaries, counting allocations (a reallocation counts as
/// one): their number is the one figure here that does not change with the machine's load.
#[global_allocator]
static ALLOCATOR: Counting = Counting(mimalloc::MiMalloc);

struct Counting(mimalloc::MiMalloc);

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { self.0.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

const PROFILES: usize = 2000;
const ROUNDS: usize = 60;
/// Rounds of one side before switching to the other.
const BLOCK: usize = 5;

fn write_files(dir: &std::path::Path) -> FilePaths {
    let mut config = String::from(
        "# generated for the benchmark\n[default]\nregion = us-east-1\noutput = json\n",
    );
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
    let paths = FilePaths {
        config: dir.join("config"),
        credentials: dir.join("credentials"),
    };
    std::fs::write(&paths.config, config).unwrap();
    std::fs::write(&paths.credentials, credentials).unwrap();
    paths
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One round, as `keyrack set` does it: load, read, verified edit, atomic save; the time of
/// each phase.
fn keyrack_round(paths: &FilePaths, round: usize) -> [Duration; 4] {
    let t0 = Instant::now();
    let mut files = AwsFiles::load(paths).unwrap();
    let t1 = Instant::now();
    let reading = files.read(Dialect::Cli);
    assert_eq!(reading.profiles.len(), PROFILES + 1);
    let t2 = Instant::now();
    let profile = Section::Profile(format!("p{}", (round * 97) % PROFILES));
    files
        .set(
            &profile,
            &KeyPath::parse("region").unwrap(),
            &format!("ap-south-{}", round % 2 + 1),
        )
        .unwrap();
    let t3 = Instant::now();
    files.save().unwrap();
    let t4 = Instant::now();
    [t1 - t0, t2 - t1, t3 - t2, t4 - t3]
}

/// One `keyrack set` as a person runs it: a whole process, from start to exit.
fn keyrack_command(paths: &FilePaths, round: usize) -> Duration {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_keyrack"))
        .arg("--config")
        .arg(&paths.config)
        .arg("--credentials")
        .arg(&paths.credentials)
        .args([
            "set",
            &format!("p{}", (round * 89) % PROFILES),
            "region",
            &format!("ap-east-{}", round % 2 + 1),
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run keyrack");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

/// A Python process with botocore imported that reads the files once per request and answers
/// with the seconds `Session.full_config` took.
struct Botocore {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Botocore {
    fn start(paths: &FilePaths) -> Botocore {
        let venv = std::env::var_os("KEYRACK_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/keyrack/venv")
            });
        let script = format!(
            "import sys, time, botocore.session\n\
             for _ in sys.stdin:\n\
             \x20   s = botocore.session.Session()\n\
             \x20   s.set_config_variable('config_file', {:?})\n\
             \x20   s.set_config_variable('credentials_file', {:?})\n\
             \x20   t = time.perf_counter(); c = s.full_config; d = time.perf_counter() - t\n\
             \x20   assert len(c['profiles']) == {}\n\
             \x20   print(d, flush=True)\n",
            paths.config.display().to_string(),
            paths.credentials.display().to_string(),
            PROFILES + 1
        );
        let mut child = Command::new(venv.join("bin/python"))
            .args(["-c", &script])
            .env("PYTHONUTF8", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run the venv's python (run tests/tools/setup.sh)");
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        Botocore {
            child,
            input,
            output,
        }
    }

    fn round(&mut self) -> Duration {
        writeln!(self.input, "go").unwrap();
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        let seconds: f64 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("botocore failed (see its error above): {line:?}"));
        Duration::from_secs_f64(seconds)
    }
}

impl Drop for Botocore {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Print keyrack's median round and phases; returns the median round.
fn print_keyrack(rounds: &[[Duration; 4]]) -> Duration {
    let total = median(rounds.iter().map(|p| p.iter().sum()).collect());
    let phase = |i: usize| ms(median(rounds.iter().map(|p| p[i]).collect()));
    println!(
        "keyrack load + read + verified edit + atomic save (median): {:.2} ms",
        ms(total)
    );
    println!(
        "  of which (medians): load {:.2} ms, read {:.2} ms, verified edit {:.2} ms, save {:.2} ms",
        phase(0),
        phase(1),
        phase(2),
        phase(3)
    );
    total
}

fn main() {
    // The same process set-up as the keyrack command line.
    keyrack::hardening::turn_off_huge_pages();
    let dir = tempfile::tempdir().unwrap();
    let paths = write_files(dir.path());
    let size = std::fs::metadata(&paths.config).unwrap().len()
        + std::fs::metadata(&paths.credentials).unwrap().len();
    if std::env::args().any(|a| a == "--keyrack-only") {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let rounds: Vec<[Duration; 4]> = (0..ROUNDS)
            .map(|round| keyrack_round(&paths, round))
            .collect();
        let allocations = (ALLOCATIONS.load(Ordering::Relaxed) - before) / ROUNDS;
        println!("files: {PROFILES} profiles, {size} bytes; keyrack alone, {ROUNDS} rounds");
        print_keyrack(&rounds);
        println!(
            "  allocations and reallocations per round: {allocations} ({:.1} per profile)",
            allocations as f64 / PROFILES as f64
        );
        return;
    }
    let mut botocore = Botocore::start(&paths);
    // One unmeasured round each: the first touches fresh memory and cold caches.
    keyrack_round(&paths, ROUNDS);
    botocore.round();
    let (mut ours, mut commands, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    for block in 0..ROUNDS / BLOCK {
        for round in block * BLOCK..(block + 1) * BLOCK {
            ours.push(keyrack_round(&paths, round));
        }
        for round in block * BLOCK..(block + 1) * BLOCK {
            commands.push(keyrack_command(&paths, round));
        }
        for _ in 0..BLOCK {
            theirs.push(botocore.round());
        }
    }
    // Each block's ratio compares rounds run moments apart, so a machine whose speed drifts
    // during the run moves both sides of it alike.
    let block_ratios: Vec<f64> = ours
        .chunks(BLOCK)
        .zip(theirs.chunks(BLOCK))
        .map(|(k, b)| {
            median(b.to_vec()).as_secs_f64()
                / median(k.iter().map(|p| p.iter().sum()).collect()).as_secs_f64()
        })
        .collect();
    let botocore = median(theirs);
    println!("files: {PROFILES} profiles, {size} bytes in config + credentials; {ROUNDS} rounds each, alternating every {BLOCK}");
    let keyrack = print_keyrack(&ours);
    let command = median(commands);
    println!(
        "keyrack set as a command, process start to exit (median): {:.2} ms",
        ms(command)
    );
    println!(
        "botocore Session.full_config read only   (median): {:.2} ms",
        ms(botocore)
    );
    println!(
        "ratio botocore / keyrack: {:.1}x (goal: at least 20x)",
        botocore.as_secs_f64() / keyrack.as_secs_f64()
    );
    let (lowest, middle, highest) = spread(block_ratios);
    println!("  the same ratio block by block: median {middle:.1}x, lowest {lowest:.1}x, highest {highest:.1}x");
    println!(
        "ratio botocore / keyrack set as a command: {:.1}x",
        botocore.as_secs_f64() / command.as_secs_f64()
    );
}

/// The lowest, median and highest of some numbers.
fn spread(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (
        values[0],
        values[values.len() / 2],
        values[values.len() - 1],
    )
}
