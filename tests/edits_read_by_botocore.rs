//! Every kind of edit, checked by the real oracle: botocore reads the edited files without
//! error, sees exactly the asked change, sees every other profile unchanged, and agrees with
//! keyrack's own reading; and every line the edit did not need to touch survives byte-for-byte.

use keyrack_test_support as support;

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const CONFIG: &str = "# Company AWS config
[default]
region = us-east-1
output = json

[profile   dev ]
REGION = eu-west-1
s3 =
    max_concurrent_requests = 10
    addressing_style = path
# trailing comment of dev

[profile prod] # production
role_arn = arn:aws:iam::123456789012:role/admin
source_profile = default
mfa_serial = arn:aws:iam::123456789012:mfa/me

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start#/
sso_region = us-east-1

[services local]
sts =
  endpoint_url = http://127.0.0.1:5000
";

const CREDENTIALS: &str = "[default]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
; the dev key below is shared with nobody
[dev]
aws_access_key_id=AKIAEXAMPLE000000001
aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
";

/// One edit: the keyrack arguments, the profiles (or `sso:NAME`) it may change, the most lines
/// it may remove or rewrite across both files, and what botocore must see afterwards.
struct Case {
    args: &'static [&'static str],
    touches: &'static [&'static str],
    max_rewritten: usize,
    expect: fn(&Value) -> bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            args: &["set", "dev", "region", "eu-central-1"],
            touches: &["dev"],
            max_rewritten: 1,
            expect: |v| v["profiles"]["dev"]["region"] == "eu-central-1",
        },
        Case {
            args: &["set", "dev", "s3.max_concurrent_requests", "20"],
            touches: &["dev"],
            max_rewritten: 1,
            expect: |v| {
                v["profiles"]["dev"]["s3"]["max_concurrent_requests"] == "20"
                    && v["profiles"]["dev"]["s3"]["addressing_style"] == "path"
            },
        },
        Case {
            args: &["set", "dev", "s3.multipart_threshold", "64MB"],
            touches: &["dev"],
            max_rewritten: 0,
            expect: |v| {
                v["profiles"]["dev"]["s3"]["multipart_threshold"] == "64MB"
                    && v["profiles"]["dev"]["s3"]["max_concurrent_requests"] == "10"
            },
        },
        Case {
            args: &["set", "prod", "output", "text"],
            touches: &["prod"],
            max_rewritten: 0,
            expect: |v| v["profiles"]["prod"]["output"] == "text",
        },
        Case {
            args: &["set", "brand-new", "region", "ap-south-1"],
            touches: &["brand-new"],
            max_rewritten: 0,
            expect: |v| v["profiles"]["brand-new"]["region"] == "ap-south-1",
        },
        Case {
            args: &["set", "dev", "aws_access_key_id", "AKIAEXAMPLE000000009"],
            touches: &["dev"],
            max_rewritten: 1,
            expect: |v| v["profiles"]["dev"]["aws_access_key_id"] == "AKIAEXAMPLE000000009",
        },
        Case {
            args: &["set", "default", "cli_pager", ""],
            touches: &["default"],
            max_rewritten: 0,
            expect: |v| v["profiles"]["default"]["cli_pager"] == "",
        },
        Case {
            args: &[
                "set",
                "prod",
                "credential_process",
                "C:\\Program Files\\tool.exe --profile \"x\"",
            ],
            touches: &["prod"],
            max_rewritten: 0,
            expect: |v| {
                v["profiles"]["prod"]["credential_process"]
                    == "C:\\Program Files\\tool.exe --profile \"x\""
            },
        },
        Case {
            args: &["unset", "dev", "s3.addressing_style"],
            touches: &["dev"],
            max_rewritten: 1,
            expect: |v| {
                v["profiles"]["dev"]["s3"].get("addressing_style").is_none()
                    && v["profiles"]["dev"]["s3"]["max_concurrent_requests"] == "10"
            },
        },
        Case {
            args: &["unset", "prod", "mfa_serial"],
            touches: &["prod"],
            max_rewritten: 1,
            expect: |v| v["profiles"]["prod"].get("mfa_serial").is_none(),
        },
        Case {
            args: &[
                "add",
                "ci",
                "region=us-west-2",
                "aws_access_key_id=AKIAEXAMPLE000000003",
                "s3.max_bandwidth=50MB/s",
            ],
            touches: &["ci"],
            max_rewritten: 0,
            expect: |v| {
                v["profiles"]["ci"]["region"] == "us-west-2"
                    && v["profiles"]["ci"]["s3"]["max_bandwidth"] == "50MB/s"
                    && v["profiles"]["ci"]["aws_access_key_id"] == "AKIAEXAMPLE000000003"
            },
        },
        Case {
            args: &["copy", "dev", "dev-copy"],
            touches: &["dev-copy"],
            max_rewritten: 0,
            expect: |v| v["profiles"]["dev-copy"] == v["profiles"]["dev"],
        },
        Case {
            args: &["rename", "prod", "production"],
            touches: &["prod", "production"],
            max_rewritten: 1,
            expect: |v| {
                v["profiles"].get("prod").is_none()
                    && v["profiles"]["production"]["role_arn"]
                        == "arn:aws:iam::123456789012:role/admin"
            },
        },
        Case {
            args: &["rename", "dev", "development"],
            touches: &["dev", "development"],
            max_rewritten: 2,
            expect: |v| {
                v["profiles"].get("dev").is_none()
                    && v["profiles"]["development"]["aws_access_key_id"] == "AKIAEXAMPLE000000001"
            },
        },
        Case {
            args: &["delete", "dev", "--yes"],
            touches: &["dev"],
            max_rewritten: 11,
            expect: |v| v["profiles"].get("dev").is_none(),
        },
        Case {
            args: &["set", "--sso-session", "corp", "sso_region", "eu-west-1"],
            touches: &["sso:corp"],
            max_rewritten: 1,
            expect: |v| v["sso_sessions"]["corp"]["sso_region"] == "eu-west-1",
        },
        Case {
            args: &["delete", "--sso-session", "corp", "--yes"],
            touches: &["sso:corp"],
            max_rewritten: 4,
            expect: |v| v["sso_sessions"].get("corp").is_none(),
        },
    ]
}

/// Lines of `old` missing from `new` (longest common subsequence): what an edit rewrote or
/// removed. Endings are compared by the separate line-ending check, so that giving the old last
/// line the newline it lacked (to append after it) does not count as rewriting it.
fn lines_not_kept(old: &str, new: &str) -> usize {
    let a: Vec<&str> = old
        .split_inclusive(['\n'])
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .collect();
    let b: Vec<&str> = new
        .split_inclusive(['\n'])
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .collect();
    let mut table = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            table[i][j] = if a[i] == b[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    a.len() - table[0][0]
}

fn without(v: &Value, touches: &[&str]) -> Value {
    let mut v = v.clone();
    for t in touches {
        match t.strip_prefix("sso:") {
            Some(s) => v["sso_sessions"].as_object_mut().unwrap().remove(s),
            None => v["profiles"].as_object_mut().unwrap().remove(*t),
        };
    }
    v
}

fn run_all(config: &str, credentials: &str, style: &str) {
    let mut failures = Vec::new();
    for case in cases() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, cred) = (dir.path().join("config"), dir.path().join("credentials"));
        fs::write(&cfg, config).unwrap();
        fs::write(&cred, credentials).unwrap();
        let before = support::botocore_read(&cfg, &cred);
        assert!(
            before["error"].is_null(),
            "the starting files must be valid: {before}"
        );
        let out = Command::new(env!("CARGO_BIN_EXE_keyrack"))
            .arg("--config")
            .arg(&cfg)
            .arg("--credentials")
            .arg(&cred)
            .args(case.args)
            .output()
            .unwrap();
        let label = format!("[{style}] keyrack {}", case.args.join(" "));
        if !out.status.success() {
            failures.push(format!(
                "{label}: failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let after = support::botocore_read(&cfg, &cred);
        let (new_cfg, new_cred) = (
            fs::read_to_string(&cfg).unwrap(),
            fs::read_to_string(&cred).unwrap(),
        );
        if !after["error"].is_null() {
            failures.push(format!(
                "{label}: botocore rejects the result: {}",
                after["error"]
            ));
            continue;
        }
        if !(case.expect)(&after) {
            failures.push(format!(
                "{label}: botocore does not see the change: {after}"
            ));
        }
        let mut unrelated_before = without(&before, case.touches);
        let mut unrelated_after = without(&after, case.touches);
        unrelated_before["error"] = Value::Null;
        unrelated_after["error"] = Value::Null;
        if unrelated_before != unrelated_after {
            failures.push(format!("{label}: other profiles changed:\nbefore {unrelated_before}\nafter  {unrelated_after}"));
        }
        let ours = Command::new(env!("CARGO_BIN_EXE_keyrack"))
            .arg("--config")
            .arg(&cfg)
            .arg("--credentials")
            .arg(&cred)
            .args(["profiles", "--json"])
            .output()
            .unwrap();
        let ours = support::reading_of(&serde_json::from_slice(&ours.stdout).unwrap());
        for member in ["profiles", "sso_sessions", "services"] {
            if ours[member] != after[member] {
                failures.push(format!("{label}: keyrack and botocore read {member} differently:\nkeyrack  {}\nbotocore {}", ours[member], after[member]));
            }
        }
        let rewritten = lines_not_kept(config, &new_cfg) + lines_not_kept(credentials, &new_cred);
        if rewritten > case.max_rewritten {
            failures.push(format!(
                "{label}: {rewritten} original lines were rewritten or removed (at most {} expected)\n--- config\n{new_cfg}--- credentials\n{new_cred}",
                case.max_rewritten
            ));
        }
        let line_endings_kept = |old: &str, new: &str| {
            old.contains("\r\n") == new.contains("\r\n")
                && (new.matches('\n').count() == new.matches("\r\n").count()
                    || !old.contains("\r\n"))
        };
        if !line_endings_kept(config, &new_cfg) || !line_endings_kept(credentials, &new_cred) {
            failures.push(format!("{label}: the files' line-ending style changed"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} edits went wrong:\n\n{}",
        failures.len(),
        cases().len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_edit_reads_back_in_botocore_as_asked_with_lf_files() {
    run_all(CONFIG, CREDENTIALS, "LF");
}

#[test]
fn every_edit_reads_back_in_botocore_as_asked_with_crlf_files() {
    run_all(
        &CONFIG.replace('\n', "\r\n"),
        &CREDENTIALS.replace('\n', "\r\n"),
        "CRLF",
    );
}

#[test]
fn every_edit_reads_back_in_botocore_as_asked_without_final_newlines() {
    run_all(
        CONFIG.trim_end(),
        CREDENTIALS.trim_end(),
        "no final newline",
    );
}

/// Generated file pairs, each in its own folder, with what botocore read in them and the
/// random generator that made them (which then picks the edits).
struct RandomPairs {
    _scratch: tempfile::TempDir,
    home: PathBuf,
    pairs: Vec<(PathBuf, PathBuf)>,
    before: Vec<Value>,
    rngs: Vec<support::random_files::Rng>,
}

fn random_pairs(seed: u64, cases: usize) -> RandomPairs {
    use support::random_files::{random_file, Rng};
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    fs::create_dir(&home).unwrap();
    let (mut rngs, mut pairs) = (Vec::new(), Vec::new());
    for i in 0..cases {
        let mut rng = Rng::new(seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let dir = scratch.path().join(format!("case-{i}"));
        fs::create_dir(&dir).unwrap();
        let (cfg, cred) = (dir.join("config"), dir.join("credentials"));
        fs::write(&cfg, random_file(&mut rng, false, true)).unwrap();
        fs::write(&cred, random_file(&mut rng, true, true)).unwrap();
        rngs.push(rng);
        pairs.push((cfg, cred));
    }
    let before = support::botocore_read_all(&pairs, &home);
    RandomPairs {
        _scratch: scratch,
        home,
        pairs,
        before,
        rngs,
    }
}

/// Run one keyrack edit on a pair: `Ok(true)` when carried out, `Ok(false)` when refused with
/// a reason and both files left byte for byte as they were, `Err` otherwise (a refusal that
/// changed a file, gave no reason, or reported a failed verification, which is a bug).
fn edit_pair(home: &Path, (cfg, cred): &(PathBuf, PathBuf), args: &[&str]) -> Result<bool, String> {
    let (old_cfg, old_cred) = (fs::read(cfg).unwrap(), fs::read(cred).unwrap());
    let out = Command::new(env!("CARGO_BIN_EXE_keyrack"))
        .arg("--config")
        .arg(cfg)
        .arg("--credentials")
        .arg(cred)
        .args(args)
        .env("HOME", home)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        Ok(true)
    } else if fs::read(cfg).unwrap() != old_cfg || fs::read(cred).unwrap() != old_cred {
        Err("refused, but changed the files".into())
    } else if stderr.contains("keyrack bug") || stderr.trim().is_empty() {
        Err(format!("refused without a reason: {}", stderr.trim()))
    } else {
        if std::env::var_os("KEYRACK_SHOW_REFUSALS").is_some() {
            eprintln!("keyrack {}: {}", args.join(" "), stderr.trim());
        }
        Ok(false)
    }
}

/// The reading without the named profiles (and without `error`), to compare the rest.
fn other_sections(v: &Value, profiles: &[&str]) -> Value {
    let mut v = v.clone();
    for p in profiles {
        v["profiles"].as_object_mut().unwrap().remove(*p);
    }
    v["error"] = Value::Null;
    v
}

/// `keyrack set` on generated files that botocore accepts: each set either does exactly what
/// was asked (botocore reads the new value, the profile's other settings and every other
/// section as before, and accepts the files) or is refused with a reason and changes nothing.
#[test]
fn random_sets_on_random_files_change_exactly_what_was_asked_or_nothing() {
    const KEYS: &[&str] = &[
        "region",
        "output",
        "aws_access_key_id",
        "s3.max_concurrent_requests",
        "cli_pager",
    ];
    const VALUES: &[&str] = &["eu-west-3", "json", "AKIANEWNEWNEWNEWNEW1", "7", ""];
    let RandomPairs {
        _scratch,
        home,
        pairs,
        before,
        mut rngs,
    } = random_pairs(0x5e7_5e7, 300);

    // (case, profile, key, value) of every set keyrack carried out.
    let mut done: Vec<(usize, String, &str, &str)> = Vec::new();
    let mut failures = Vec::new();
    let mut tried = 0;
    for (i, (pair, rng)) in pairs.iter().zip(&mut rngs).enumerate() {
        if !before[i]["error"].is_null() {
            continue;
        }
        tried += 1;
        let names: Vec<&String> = before[i]["profiles"].as_object().unwrap().keys().collect();
        let profile = if names.is_empty() || rng.chance(20) {
            "new-profile".to_string()
        } else {
            names[rng.below(names.len())].clone()
        };
        let (key, value) = (rng.pick(KEYS), rng.pick(VALUES));
        match edit_pair(&home, pair, &["set", &profile, key, value]) {
            Ok(true) => done.push((i, profile, key, value)),
            Ok(false) => {}
            Err(e) => failures.push(format!("case {i}: set {profile:?} {key} {value:?}: {e}")),
        }
    }
    let edited: Vec<_> = done.iter().map(|(i, ..)| pairs[*i].clone()).collect();
    let after = support::botocore_read_all(&edited, &home);
    for ((i, profile, key, value), after) in done.iter().zip(&after) {
        let label = format!("case {i}: set {profile:?} {key} {value:?}");
        if !after["error"].is_null() {
            failures.push(format!(
                "{label}: botocore rejects the result: {}",
                after["error"]
            ));
            continue;
        }
        let (was, now) = (
            &before[*i]["profiles"][profile.as_str()],
            &after["profiles"][profile.as_str()],
        );
        let (top, sub) = match key.split_once('.') {
            Some((top, sub)) => (top, Some(sub)),
            None => (*key, None),
        };
        let set_value = match sub {
            Some(sub) => &now[top][sub],
            None => &now[top],
        };
        if set_value != value {
            failures.push(format!("{label}: botocore reads {set_value} instead"));
        }
        // The profile's other settings (and a block's other sub-settings) are as they were.
        for (k, v) in was.as_object().into_iter().flatten() {
            let same = match (k == top, sub) {
                (false, _) => now[k.as_str()] == *v,
                (true, Some(sub)) => v
                    .as_object()
                    .into_iter()
                    .flatten()
                    .all(|(s, x)| s == sub || now[top][s.as_str()] == *x),
                (true, None) => true,
            };
            if !same {
                failures.push(format!(
                    "{label}: '{k}' changed from {v} to {}",
                    now[k.as_str()]
                ));
            }
        }
        // A profile new to a file inherits that file's [DEFAULT]; nothing else may appear.
        let has_defaults = [&pairs[*i].0, &pairs[*i].1]
            .iter()
            .any(|p| fs::read_to_string(p).unwrap().contains("[DEFAULT]"));
        let extra: Vec<&String> = now
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
            .filter(|k| k.as_str() != top && was.get(k.as_str()).is_none())
            .collect();
        if !extra.is_empty() && !has_defaults {
            failures.push(format!("{label}: settings appeared: {extra:?}"));
        }
        if other_sections(&before[*i], &[profile]) != other_sections(after, &[profile]) {
            failures.push(format!("{label}: other sections changed"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} sets went wrong:\n{}",
        failures.len(),
        tried,
        failures.join("\n")
    );
    eprintln!("{} of {tried} random sets carried out, each as asked; the rest refused with a reason, without a change", done.len());
    assert!(
        done.len() * 2 >= tried,
        "only {} of {tried} random sets were carried out",
        done.len()
    );
}

/// `keyrack unset`, `copy`, `rename` and `delete` of existing profiles in generated files:
/// each does exactly what was asked, as botocore reads the result, or is refused with a reason
/// and changes nothing.
#[test]
fn random_section_edits_on_random_files_change_exactly_what_was_asked_or_nothing() {
    const NEW_NAME: &str = "new-name";
    let RandomPairs {
        _scratch,
        home,
        pairs,
        before,
        mut rngs,
    } = random_pairs(0xed17_5ec7, 300);
    let mut done: Vec<(usize, Vec<String>)> = Vec::new();
    let mut failures = Vec::new();
    let mut tried = 0;
    for (i, (pair, rng)) in pairs.iter().zip(&mut rngs).enumerate() {
        let profiles = before[i]["profiles"].as_object().unwrap();
        if !before[i]["error"].is_null() || profiles.is_empty() {
            continue;
        }
        tried += 1;
        let names: Vec<&String> = profiles.keys().collect();
        let profile = names[rng.below(names.len())].clone();
        let keys: Vec<&String> = profiles[&profile].as_object().unwrap().keys().collect();
        let args: Vec<String> = match rng.below(4) {
            0 if !keys.is_empty() => {
                vec!["unset".into(), profile, keys[rng.below(keys.len())].clone()]
            }
            0 | 1 => vec!["copy".into(), profile, NEW_NAME.into()],
            2 => vec!["rename".into(), profile, NEW_NAME.into()],
            _ => vec!["delete".into(), profile, "--yes".into()],
        };
        let args_str: Vec<&str> = args.iter().map(String::as_str).collect();
        match edit_pair(&home, pair, &args_str) {
            Ok(true) => done.push((i, args)),
            Ok(false) => {}
            Err(e) => failures.push(format!("case {i}: {args:?}: {e}")),
        }
    }
    let edited: Vec<_> = done.iter().map(|(i, _)| pairs[*i].clone()).collect();
    let after = support::botocore_read_all(&edited, &home);
    for ((i, args), after) in done.iter().zip(&after) {
        let label = format!("case {i}: {args:?}");
        if !after["error"].is_null() {
            failures.push(format!(
                "{label}: botocore rejects the result: {}",
                after["error"]
            ));
            continue;
        }
        let (was, now) = (&before[*i]["profiles"], &after["profiles"]);
        let profile = args[1].as_str();
        let as_asked = match args[0].as_str() {
            "unset" => {
                let mut expected = was[profile].clone();
                expected.as_object_mut().unwrap().remove(&args[2]);
                now[profile] == expected
            }
            "copy" => now[profile] == was[profile] && now[NEW_NAME] == was[profile],
            "rename" => now.get(profile).is_none() && now[NEW_NAME] == was[profile],
            _ => now.get(profile).is_none(),
        };
        if !as_asked {
            failures.push(format!(
                "{label}: botocore reads {} and {NEW_NAME} as {}",
                now[profile], now[NEW_NAME]
            ));
        }
        if other_sections(&before[*i], &[profile, NEW_NAME])
            != other_sections(after, &[profile, NEW_NAME])
        {
            failures.push(format!("{label}: other sections changed"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} edits went wrong:\n{}",
        failures.len(),
        tried,
        failures.join("\n")
    );
    eprintln!("{} of {tried} random section edits carried out, each as asked; the rest refused with a reason, without a change", done.len());
    assert!(
        done.len() * 2 >= tried,
        "only {} of {tried} random section edits were carried out",
        done.len()
    );
}
