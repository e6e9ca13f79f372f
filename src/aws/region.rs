//! Whether the AWS CLI accepts a region name (botocore's `validate_region_name`), and what to
//! change when it does not.

/// True when botocore's `validate_region_name` accepts `region`: the regular expression
/// `^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$`, that is at most 63 ASCII letters, digits and
/// hyphens, not only digits, not starting or ending with a hyphen. The empty name passes, and
/// so does a name followed by one newline (Python's `$` matches before a final newline).
///
/// botocore checks the region when it creates a client (`Session._resolve_region_name`), so a
/// profile whose region fails here makes every `aws` command fail before anything is sent.
pub fn is_valid_region_name(region: &str) -> bool {
    let name = region.strip_suffix('\n').unwrap_or(region);
    let bytes = name.as_bytes();
    bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && !(bytes.first() == Some(&b'-') || bytes.last() == Some(&b'-'))
        && (bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit))
}

/// What to change in a region value the AWS CLI refuses, in plain words (for a value it
/// accepts, the generic advice).
pub fn region_name_fix(region: &str) -> String {
    if let Some(start) = inline_comment_start(region) {
        let value = region[..start].trim_end();
        let comment = region[start..].trim();
        return format!(
            "the AWS CLI keeps a comment written after a value as part of the value: move \
             '{comment}' to its own line, so that the line reads 'region = {value}'"
        );
    }
    if region.chars().any(char::is_whitespace) {
        return "a region name has no spaces: write it alone after 'region =', such as \
                'region = eu-west-1'"
            .to_owned();
    }
    if region.chars().count() > 63 {
        return "a region name is at most 63 characters long: use a region such as eu-west-1"
            .to_owned();
    }
    "a region name has only letters, digits and hyphens, such as eu-west-1".to_owned()
}

/// Where a `#` or `;` comment starts after whitespace (what the AWS SDKs cut off as a comment
/// and the AWS CLI keeps).
fn inline_comment_start(value: &str) -> Option<usize> {
    let mut previous_is_space = false;
    for (index, c) in value.char_indices() {
        if (c == '#' || c == ';') && previous_is_space {
            return Some(index);
        }
        previous_is_space = c.is_whitespace();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_host_labels() {
        for ok in [
            "us-west-2",
            "eu-central-1",
            "aws-global",
            "local",
            "",
            "us-west-2\n",
            "A1",
        ] {
            assert!(is_valid_region_name(ok), "{ok:?}");
        }
        let long = "a".repeat(64);
        for bad in [
            "us-west-2 # oregon",
            "us west 2",
            "-us",
            "us-",
            "123",
            "us_west",
            "é",
            &long,
            "us-west-2\n\n",
        ] {
            assert!(!is_valid_region_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn an_inline_comment_is_told_to_move_to_its_own_line() {
        let fix = region_name_fix("us-west-2 # oregon");
        assert!(fix.contains("move '# oregon' to its own line"), "{fix}");
        assert!(fix.contains("'region = us-west-2'"), "{fix}");
        assert!(region_name_fix("eu-west-1 ;ireland").contains("';ireland'"));
        assert!(region_name_fix("us west").contains("no spaces"));
        assert!(region_name_fix("us_west_2").contains("letters, digits and hyphens"));
    }
}
