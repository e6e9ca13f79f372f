//! The profiles `keyrack sso populate` writes for every account and role an sso-session reaches:
//! their names (from a template), the marker that says keyrack generated them, and which to add
//! and which to prune (only profiles keyrack generated for that session, never one a person
//! wrote).

use serde::Serialize;

use crate::changes::{Operation, SettingChange};
use crate::files::Reading;
use crate::secret::Secret;

/// The key that marks a profile `keyrack sso populate` generated, with its sso-session as value
/// (the AWS tools ignore keys they do not know).
pub const MARKER: &str = "keyrack_sso_populated";

/// How generated profiles are named unless told otherwise.
pub const DEFAULT_TEMPLATE: &str = "{account_name}-{role_name}";

/// A role of an account assigned to the signed-in user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub account_id: String,
    pub account_name: String,
    pub role_name: String,
}

/// A profile to add.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewProfile {
    pub name: String,
    #[serde(flatten)]
    pub assignment: Assignment,
}

/// What populating an sso-session's profiles would do (changes nothing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PopulatePlan {
    pub sso_session: String,
    /// The `region` generated profiles get.
    pub region: String,
    pub add: Vec<NewProfile>,
    /// Profiles that already sign in as an assigned role (generated or written by a person).
    pub present: Vec<String>,
    /// Profiles keyrack generated for this session whose role is no longer assigned.
    pub prune: Vec<String>,
    /// Assignments left out, and why (a name a person's profile already has).
    pub skipped: Vec<String>,
}

/// `template` with `{account_name}`, `{account_id}` and `{role_name}` filled in, made a name
/// every AWS tool reads back: whitespace and `[ ] # ; =` become `-`.
pub fn profile_name(template: &str, assignment: &Assignment) -> String {
    let name = template
        .replace("{account_name}", &assignment.account_name)
        .replace("{account_id}", &assignment.account_id)
        .replace("{role_name}", &assignment.role_name);
    let name: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_whitespace() || "[]#;=".contains(c) || c.is_control() {
                '-'
            } else {
                c
            }
        })
        .collect();
    name
}

fn text<'a>(reading: &'a Reading, profile: &str, key: &str) -> Option<&'a str> {
    reading.profiles.get(profile)?.get(key)?.value.as_text()
}

/// The plan for `session`'s `assignments` over the files as `reading` reads them.
pub fn plan(
    reading: &Reading,
    session: &str,
    region: &str,
    template: &str,
    assignments: &[Assignment],
) -> PopulatePlan {
    let signs_in_as = |profile: &str, a: &Assignment| {
        text(reading, profile, "sso_session") == Some(session)
            && text(reading, profile, "sso_account_id") == Some(a.account_id.as_str())
            && text(reading, profile, "sso_role_name") == Some(a.role_name.as_str())
    };
    let mut plan = PopulatePlan {
        sso_session: session.to_owned(),
        region: region.to_owned(),
        add: Vec::new(),
        present: Vec::new(),
        prune: Vec::new(),
        skipped: Vec::new(),
    };
    for assignment in assignments {
        let holders: Vec<&String> = reading
            .profiles
            .keys()
            .filter(|p| signs_in_as(p, assignment))
            .collect();
        if !holders.is_empty() {
            plan.present.extend(holders.into_iter().cloned());
            continue;
        }
        let name = profile_name(template, assignment);
        let taken = reading.profiles.contains_key(&name)
            || plan.add.iter().any(|p| p.name == name)
            || name.is_empty();
        if taken {
            plan.skipped.push(format!(
                "role {} in {} ({}): the name '{name}' is taken; choose another --template",
                assignment.role_name, assignment.account_name, assignment.account_id
            ));
            continue;
        }
        plan.add.push(NewProfile {
            name,
            assignment: assignment.clone(),
        });
    }
    for profile in reading.profiles.keys() {
        let generated = text(reading, profile, MARKER) == Some(session);
        let assigned = assignments.iter().any(|a| signs_in_as(profile, a));
        if generated && !assigned {
            plan.prune.push(profile.clone());
        }
    }
    plan
}

/// The edits that carry out `plan` (pruning only when `prune`).
pub fn operations(plan: &PopulatePlan, prune: bool) -> Vec<Operation> {
    let set = |key: &str, value: &str| SettingChange::Set {
        key: key.to_owned(),
        value: Secret::new(value.to_owned()),
    };
    let mut operations: Vec<Operation> = plan
        .add
        .iter()
        .map(|p| Operation::Add {
            profile: p.name.clone(),
            changes: vec![
                set("sso_session", &plan.sso_session),
                set("sso_account_id", &p.assignment.account_id),
                set("sso_role_name", &p.assignment.role_name),
                set("region", &plan.region),
                set(MARKER, &plan.sso_session),
            ],
            sso_session: false,
        })
        .collect();
    if prune {
        operations.extend(plan.prune.iter().map(|profile| Operation::Delete {
            profile: profile.clone(),
            sso_session: false,
        }));
    }
    operations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{AwsFiles, Dialect};

    fn assignment(id: &str, name: &str, role: &str) -> Assignment {
        Assignment {
            account_id: id.into(),
            account_name: name.into(),
            role_name: role.into(),
        }
    }

    #[test]
    fn names_come_from_the_template_and_every_tool_reads_them_back() {
        let a = assignment("111122223333", "Big Data; prod", "Admin");
        assert_eq!(profile_name(DEFAULT_TEMPLATE, &a), "Big-Data--prod-Admin");
        assert_eq!(
            profile_name("{account_id}:{role_name}", &a),
            "111122223333:Admin"
        );
    }

    #[test]
    fn only_profiles_keyrack_generated_are_pruned_and_taken_names_are_skipped() {
        let config = "[profile mine]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Old\n\
                      [profile gone]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Gone\nkeyrack_sso_populated = corp\n\
                      [profile dev-Admin]\nregion = eu-west-1\n";
        let files = AwsFiles::from_bytes(config.as_bytes(), b"");
        let reading = files.read(Dialect::Cli);
        let assigned = [
            assignment("1", "dev", "Admin"),
            assignment("1", "dev", "Old"),
            assignment("2", "prod", "Read"),
        ];
        let plan = plan(&reading, "corp", "eu-west-1", DEFAULT_TEMPLATE, &assigned);
        assert_eq!(
            plan.present,
            ["mine"],
            "a person's profile for an assigned role is kept"
        );
        assert_eq!(
            plan.add.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["prod-Read"]
        );
        assert_eq!(
            plan.skipped.len(),
            1,
            "dev-Admin is a person's profile: {:?}",
            plan.skipped
        );
        assert_eq!(plan.prune, ["gone"], "never 'mine', which a person wrote");
        assert_eq!(operations(&plan, false).len(), 1);
        assert_eq!(operations(&plan, true).len(), 2);
    }
}
