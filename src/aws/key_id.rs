//! What an access key id says by itself: the account it belongs to, for keys made since 2019.

/// The AWS account an access key id (`AKIA...`, `ASIA...`) was made in, decoded as AWS encodes
/// it in keys made since about 2019: base32 after the four-letter prefix, the account in bits
/// 7 to 46 of the first six bytes. `None` for ids that do not have that shape, and for the older
/// ids (`AKIAI...`, `AKIAJ...`), which do not hold the account.
pub fn account_in_key_id(key_id: &str) -> Option<String> {
    let (prefix, rest) = key_id.split_at_checked(4)?;
    let base32 = |c: char| c.is_ascii_uppercase() || ('2'..='7').contains(&c);
    if !matches!(prefix, "AKIA" | "ASIA")
        || rest.len() != 16
        || !rest.chars().all(base32)
        || rest.starts_with(['I', 'J'])
    {
        return None;
    }
    let mut bits: u64 = 0;
    // Ten base32 characters are 50 bits: the first 48 are the six bytes that hold the account.
    for c in rest.chars().take(10) {
        let value = match c {
            'A'..='Z' => c as u64 - 'A' as u64,
            '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => return None,
        };
        bits = (bits << 5) | value;
    }
    let six_bytes = bits >> 2;
    let account = (six_bytes & 0x7fff_ffff_ff80) >> 7;
    Some(format!("{account:012}"))
}

#[cfg(test)]
mod tests {
    use super::account_in_key_id;

    #[test]
    fn a_key_id_made_since_2019_names_its_account() {
        // The example of Tal Be'ery's "A short note on AWS KEY ID" (2023).
        assert_eq!(
            account_in_key_id("ASIAY34FZKBOKMUTVV7A").as_deref(),
            Some("609629065308")
        );
    }

    #[test]
    fn older_and_odd_ids_name_no_account() {
        assert_eq!(account_in_key_id("AKIAIOSFODNN7EXAMPLE"), None);
        assert_eq!(account_in_key_id("AKIAJ000000000000000"), None);
        assert_eq!(account_in_key_id("AKIA123"), None);
        assert_eq!(account_in_key_id("AROAY34FZKBOKMUTVV7A"), None);
        assert_eq!(account_in_key_id("AKIAY34FZKBOKMUTVV7!"), None);
    }
}
