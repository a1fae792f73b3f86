//! Prompts for a person at the keyboard, always on the controlling terminal (`/dev/tty`), so
//! `dms login 2>err.txt` or `dms login > out.json` still asks, and a QR code shown during a
//! prompt reaches the person rather than a redirected file. Only when standard input is a
//! terminal: on a pipe nothing is ever asked (the caller fails with exit 2 instead).

use console::Term;
use std::io::IsTerminal as _;
use zeroize::Zeroizing;

pub struct Prompter {
    term: Term,
    /// The terminal again, for the hidden prompts (read here byte by byte, echo off).
    tty: std::fs::File,
}

impl Prompter {
    /// The controlling terminal, when standard input is one and it can be opened.
    pub fn open() -> Option<Prompter> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        let read = std::fs::File::open("/dev/tty").ok()?;
        let write = std::fs::OpenOptions::new().write(true).open("/dev/tty").ok()?;
        let tty = std::fs::File::open("/dev/tty").ok()?;
        Some(Prompter { term: Term::read_write_pair(read, write), tty })
    }

    /// A line typed with echo off. Echo goes off before the prompt is shown, and with
    /// TCSANOW (not the TCSAFLUSH a crate's secure read uses), so what a fast typist — or a
    /// test — types as the prompt appears is neither shown nor thrown away. The line is read
    /// byte by byte, so what was typed ahead for the next prompt stays for it.
    fn hidden(&self, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
        use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions};
        use std::io::Read as _;
        let original = tcgetattr(&self.tty)?;
        let mut quiet = original.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        tcsetattr(&self.tty, OptionalActions::Now, &quiet)?;
        struct Restore<'a>(&'a std::fs::File, rustix::termios::Termios);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                let _ = rustix::termios::tcsetattr(self.0, rustix::termios::OptionalActions::Now, &self.1);
            }
        }
        let restore = Restore(&self.tty, original);
        self.term.write_str(&format!("{prompt}: "))?;
        let mut line = Zeroizing::new(Vec::new());
        let mut byte = [0u8; 1];
        loop {
            match (&self.tty).read(&mut byte) {
                Ok(0) => anyhow::bail!("the terminal closed"),
                Ok(_) if byte[0] == b'\n' => break,
                Ok(_) => line.push(byte[0]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
            if line.len() > 4096 {
                anyhow::bail!("a secret is at most 4096 bytes");
            }
        }
        byte.fill(0);
        drop(restore);
        self.term.write_line("[hidden]")?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let text = std::str::from_utf8(&line).map_err(|_| anyhow::anyhow!("the secret typed is not UTF-8 text"))?;
        Ok(Zeroizing::new(text.to_string()))
    }

    pub fn input(&self, prompt: &str) -> anyhow::Result<String> {
        Ok(dialoguer::Input::<String>::new().with_prompt(prompt).interact_text_on(&self.term)?)
    }

    /// A secret, not echoed.
    pub fn password(&self, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
        self.hidden(prompt)
    }

    /// A new secret, typed twice (asked again while the two differ).
    pub fn new_password(&self, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
        let again =
            if prompt.to_ascii_lowercase().contains("passphrase") { "Confirm passphrase" } else { "Confirm password" };
        loop {
            let first = self.hidden(prompt)?;
            let second = self.hidden(again)?;
            if crate::crypto::ct_eq(first.as_bytes(), second.as_bytes()) {
                return Ok(first);
            }
            self.term.write_line("error: the two entries differ")?;
        }
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
