//! Reading secrets for a command: from standard input with `--password-stdin` (a script: the
//! lines answer the command's steps in order, and nothing is ever asked), or at a hidden prompt
//! on the terminal, and never from argv. Without either, the step that needs one fails at once
//! (exit 2) instead of hanging. Everything read is zeroized when dropped.

use crate::domain::flow::{Answers, Slot};
use crate::error::usage;
use crate::prompt::Prompter;
use std::io::Read as _;
use zeroize::Zeroizing;

/// Longest standard input accepted for secrets (a few password lines).
const MAX_STDIN: u64 = 16 * 1024;

/// What a command answers its steps with: the answers given up front, and the terminal that
/// asks the rest (None on a pipe, or with `--password-stdin`).
pub struct Input {
    pub answers: Answers,
    pub term: Option<Prompter>,
    /// The secrets came from standard input.
    pub stdin: bool,
}

impl Input {
    /// With `password_stdin`, standard input's lines answer `lines` in order (a line that is
    /// not there, or empty, answers nothing: the step that needs it says so); otherwise the
    /// terminal asks, if there is one.
    pub fn new(password_stdin: bool, lines: &[Slot]) -> anyhow::Result<Input> {
        let mut answers = Answers::default();
        if !password_stdin {
            return Ok(Input { answers, term: Prompter::open(), stdin: false });
        }
        let mut raw = Zeroizing::new(String::new());
        std::io::stdin()
            .take(MAX_STDIN)
            .read_to_string(&mut raw)
            .map_err(|_| usage("--password-stdin: standard input is not readable UTF-8 text"))?;
        let given = raw.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        for (slot, line) in lines.iter().zip(given) {
            if line.is_empty() {
                break;
            }
            answers.put(*slot, line);
        }
        Ok(Input { answers, term: None, stdin: true })
    }

    /// Nothing to give and nothing to ask.
    pub fn none() -> Input {
        Input { answers: Answers::default(), term: None, stdin: false }
    }

    /// No secrets: the terminal, if there is one.
    pub fn terminal() -> Input {
        Input { answers: Answers::default(), term: Prompter::open(), stdin: false }
    }

    /// Give this answer up front (a one-time code passed as `--otp`).
    pub fn with(mut self, slot: Slot, value: Option<&str>) -> Input {
        if let Some(v) = value {
            self.answers.put(slot, v);
        }
        self
    }

    /// A visible answer asked before the call (a user ID), or `missing` (exit 2).
    pub fn ask(&self, prompt: &str, missing: &str) -> anyhow::Result<String> {
        match &self.term {
            Some(t) => t.input(prompt),
            None => Err(usage(missing.to_string()).into()),
        }
    }
}
