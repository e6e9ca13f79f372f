//! Random AWS file pairs for differential tests: built from the pieces real files are made of,
//! from a fixed seed, so that a failing case is reproducible from its number.

/// xorshift64*: a small deterministic generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// One file of random lines made of the pieces AWS files are made of (headers, settings,
/// indented continuation and nested lines, blank lines, comments), with now and then what
/// makes reading them tricky: a BOM, invalid UTF-8, CR or CRLF endings, Unicode whitespace
/// and line separators, `:` separators, repeated sections and keys, no final newline. A
/// `tidy` file has none of what makes botocore reject a file outright (a BOM, invalid UTF-8,
/// a repeated section or key, a setting before any section, a nested line with no `=`), so
/// that most tidy pairs are read, not rejected.
pub fn random_file(rng: &mut Rng, credentials: bool, tidy: bool) -> Vec<u8> {
    const CONFIG_HEADERS: &[&str] = &[
        "[default]",
        "[profile a]",
        "[profile  b ]",
        "[profile 'c d']",
        "[profile \"e\"]",
        "[profile a b]",
        "[ profile a]",
        "[profile a] # note",
        "[sso-session s]",
        "[services x]",
        "[DEFAULT]",
        "[plugins]",
        "[profile default]",
        "[profile é]",
    ];
    const CREDENTIAL_HEADERS: &[&str] = &[
        "[a]",
        "[b]",
        "[default]",
        "[DEFAULT]",
        "[profile a]",
        "[ a ]",
        "[c d]",
        "[é]",
    ];
    const KEYS: &[&str] = &[
        "region",
        "output",
        "s3",
        "Region",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "role_arn",
        "source_profile",
        "x y",
        "é",
    ];
    const SEPARATORS: &[&str] = &["=", " = ", ":", " : ", "\t=\t", "=="];
    const VALUES: &[&str] = &[
        "",
        "us-east-1",
        "v # c",
        "a=b",
        "é",
        "x\u{0b}y",
        "a\u{2028}b",
        "  spaced  ",
        "1",
        "\u{a0}",
    ];
    const INDENTS: &[&str] = &["  ", "\t", "    ", " ", "\u{3000}"];
    const NESTED: &[&str] = &[
        "max_concurrent_requests = 10",
        "addressing_style=path",
        "a = b = c",
        "# hash",
        "x\u{0c}y = 2",
        "é = ü",
        "k = v\u{85}w = 1",
        "novalue",
        "k:v",
    ];
    /// The nested lines botocore accepts: the last two have no `=`.
    const TIDY_NESTED: usize = 7;
    const BLANKS: &[&str] = &["", "  ", "\t", "\u{a0}"];
    const COMMENTS: &[&str] = &["# c", "; c", "  # indented", "#"];

    let mut out = Vec::new();
    if !tidy && rng.chance(3) {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let mut headers: Vec<&str> = if credentials {
        CREDENTIAL_HEADERS
    } else {
        CONFIG_HEADERS
    }
    .to_vec();
    let mut keys_in_section: Vec<String> = Vec::new();
    let lines = rng.below(14);
    for n in 0..lines {
        let kind = if tidy && n == 0 { 0 } else { rng.below(10) };
        let line = match kind {
            0 | 1 => {
                let indent = if !tidy && rng.chance(10) { "  " } else { "" };
                let at = rng.below(headers.len());
                let header = if tidy {
                    headers.swap_remove(at)
                } else {
                    headers[at]
                };
                keys_in_section.clear();
                if headers.is_empty() {
                    headers.push("[DEFAULT]"); // configparser lets [DEFAULT] repeat
                }
                format!("{indent}{header}")
            }
            2..=5 => {
                let indent = if rng.chance(10) {
                    rng.pick(INDENTS)
                } else {
                    ""
                };
                let key = rng.pick(KEYS);
                if tidy && keys_in_section.contains(&key.to_lowercase()) {
                    continue;
                }
                keys_in_section.push(key.to_lowercase());
                format!("{indent}{key}{}{}", rng.pick(SEPARATORS), rng.pick(VALUES))
            }
            6 | 7 => format!(
                "{}{}",
                rng.pick(INDENTS),
                rng.pick(if tidy { &NESTED[..TIDY_NESTED] } else { NESTED })
            ),
            8 => rng.pick(BLANKS).to_string(),
            _ => rng.pick(COMMENTS).to_string(),
        };
        out.extend_from_slice(line.as_bytes());
        if !tidy && rng.chance(2) {
            out.push(0xFF);
        }
        if n + 1 < lines || !rng.chance(20) {
            out.extend_from_slice(match rng.below(25) {
                0 => b"\r\n",
                1 => b"\r",
                _ => b"\n",
            });
        }
    }
    out
}
