//! Shell completions and the man page, generated from the same clap tree.

use crate::cli::{Cli, EXAMPLES_HEADING};
use clap::CommandFactory as _;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "dms", &mut std::io::stdout());
    Ok(())
}

pub fn man() -> anyhow::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
    Ok(())
}

/// The lines of a command's `Examples:` help section, without the heading and the indent.
pub fn examples(cmd: &clap::Command) -> Vec<String> {
    let text = cmd.get_after_long_help().or_else(|| cmd.get_after_help()).map(|s| s.to_string()).unwrap_or_default();
    let mut lines = text.lines();
    match lines.next() {
        Some(h) if h.trim() == EXAMPLES_HEADING => {
            lines.map(|l| l.strip_prefix("  ").unwrap_or(l).to_string()).collect()
        }
        _ => Vec::new(),
    }
}
