//! Prompts for a person at the keyboard, always on the controlling terminal (`/dev/tty`), so
//! `dms login 2>err.txt` or `dms login > out.json` still asks, and a QR code shown during a
//! prompt reaches the person rather than a redirected file. Only when standard input is a
//! terminal: on a pipe nothing is ever asked (the caller fails with exit 2 instead).

use console::Term;
use std::io::IsTerminal as _;
use zeroize::Zeroizing;

pub struct Prompter {
    term: Term,
}

impl Prompter {
    /// The controlling terminal, when standard input is one and it can be opened.
    pub fn open() -> Option<Prompter> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        let read = std::fs::File::open("/dev/tty").ok()?;
        let write = std::fs::OpenOptions::new().write(true).open("/dev/tty").ok()?;
        Some(Prompter { term: Term::read_write_pair(read, write) })
    }

    pub fn input(&self, prompt: &str) -> anyhow::Result<String> {
        Ok(dialoguer::Input::<String>::new().with_prompt(prompt).interact_text_on(&self.term)?)
    }

    /// A secret, not echoed.
    pub fn password(&self, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
        Ok(Zeroizing::new(dialoguer::Password::new().with_prompt(prompt).interact_on(&self.term)?))
    }

    /// A new secret, typed twice.
    pub fn new_password(&self, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
        Ok(Zeroizing::new(
            dialoguer::Password::new()
                .with_prompt(prompt)
                .with_confirmation("Confirm password", "the two entries differ")
                .interact_on(&self.term)?,
        ))
    }

    pub fn select(&self, prompt: &str, items: &[&str], default: usize) -> anyhow::Result<usize> {
        Ok(dialoguer::Select::new().with_prompt(prompt).items(items).default(default).interact_on(&self.term)?)
    }

    pub fn confirm(&self, prompt: &str, default: bool) -> anyhow::Result<bool> {
        Ok(dialoguer::Confirm::new().with_prompt(prompt).default(default).interact_on(&self.term)?)
    }

    /// Show text on the terminal (a QR code, a line between prompts).
    pub fn say(&self, text: &str) -> anyhow::Result<()> {
        self.term.write_line(text)?;
        Ok(())
    }
}
