//! Yes-or-no questions on the terminal, before the command line does what cannot be undone.

use std::io::{BufRead, Write};

/// Asks `question` on the terminal (on stderr, answered on stdin); only "y" or "yes" goes ahead.
pub fn confirmed(question: &str) -> std::io::Result<bool> {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}
