//! Reading secrets: from standard input with `--password-stdin`, from a hidden prompt on the
//! terminal, and never from argv. Without either, a command fails at once (exit 2) instead of
//! hanging. Everything read is zeroized when dropped. Other prompts of the same command (a
//! one-time code, a choice) go through the same terminal.

use crate::error::usage;
use crate::prompt::Prompter;
use std::io::Read as _;
use zeroize::Zeroizing;

/// Longest standard input accepted for secrets (a few password lines).
const MAX_STDIN: u64 = 16 * 1024;

pub struct Secrets {
    lines: Option<std::vec::IntoIter<Zeroizing<String>>>,
    term: Option<Prompter>,
}

impl Secrets {
    /// `from_stdin`: the command was given `--password-stdin` (then nothing is asked: a script
    /// is at the other end).
    pub fn new(from_stdin: bool) -> anyhow::Result<Secrets> {
        if !from_stdin {
            return Ok(Secrets { lines: None, term: Prompter::open() });
        }
        let mut raw = Zeroizing::new(String::new());
        std::io::stdin()
            .take(MAX_STDIN)
            .read_to_string(&mut raw)
            .map_err(|_| usage("--password-stdin: standard input is not readable UTF-8 text"))?;
        let lines: Vec<Zeroizing<String>> =
            raw.split('\n').map(|l| Zeroizing::new(l.strip_suffix('\r').unwrap_or(l).to_string())).collect();
        Ok(Secrets { lines: Some(lines.into_iter()), term: None })
    }

    fn next_line(&mut self, what: &str) -> anyhow::Result<Option<Zeroizing<String>>> {
        match &mut self.lines {
            None => Ok(None),
            Some(it) => match it.next() {
                Some(l) if !l.is_empty() => Ok(Some(l)),
                _ => Err(usage(format!("--password-stdin: no {what} on standard input (one per line)")).into()),
            },
        }
    }

    fn missing(what: &str) -> anyhow::Error {
        usage(format!(
            "a {what} is needed: pass --password-stdin and write it on standard input, or run in a terminal (secrets are never taken from the command line)"
        ))
        .into()
    }

    /// An existing secret (password, PIN): one line, or one hidden prompt.
    pub fn existing(&mut self, what: &str, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
        if let Some(l) = self.next_line(what)? {
            return Ok(l);
        }
        match &self.term {
            Some(t) => t.password(prompt),
            None => Err(Self::missing(what)),
        }
    }

    /// A new password: one line, or typed twice at a prompt.
    pub fn new_password(&mut self, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
        if let Some(l) = self.next_line("new password")? {
            return Ok(l);
        }
        match &self.term {
            Some(t) => t.new_password(prompt),
            None => Err(Self::missing("new password")),
        }
    }

    /// Is a person at the keyboard (prompts allowed)?
    pub fn tty(&self) -> bool {
        self.term.is_some()
    }

    /// The terminal, for the command's other prompts.
    pub fn term(&self) -> Option<&Prompter> {
        self.term.as_ref()
    }

    /// A visible answer (a one-time code, a user ID) from the terminal, or `missing` (exit 2).
    pub fn ask(&self, prompt: &str, missing: &str) -> anyhow::Result<String> {
        match &self.term {
            Some(t) => t.input(prompt),
            None => Err(usage(missing.to_string()).into()),
        }
    }
}
