//! The steps of a multi-step operation as a person is asked them (the sign-in walk, step-up,
//! inline authorisation): which answer a step wants ([`Slot`]), how it is asked ([`Ask`]), the
//! prompt, and what a client without a terminal says instead (exit 2). Pure values: the service
//! decides the next step, the client only asks it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// The answers a step can want. Each is consumed when used, so a step asked again (a mistyped
/// code) is a new answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// The account's password (sign-in, set-up, step-up; a checker's own authorisation code).
    Password,
    /// A new password (typed twice at a terminal).
    NewPassword,
    /// `password change`: the current password, after the new one.
    CurrentPassword,
    /// A one-time password: the app's code or an e-mailed one.
    Otp,
    /// A smartcard PIN.
    Pin,
    /// The holder's own smartcard PIN, chosen after a one-time initial PIN.
    NewPin,
    /// Inline authorisation: the checker's password, OTP or smartcard PIN.
    CheckerPassword,
    CheckerOtp,
    CheckerPin,
    /// A choice from a menu (its index).
    Choice,
    /// Yes or no.
    Confirm,
    /// An e-mail address (eService DA3 names the DA's registered address).
    Email,
    /// A backup passphrase (new: typed twice at a terminal).
    Passphrase,
}

impl Slot {
    /// Holds a secret: never echoed, never logged.
    pub fn secret(self) -> bool {
        !matches!(self, Slot::Choice | Slot::Confirm | Slot::Email)
    }
}

/// How a step is asked at a terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ask {
    /// A secret, not echoed.
    Secret,
    /// A new secret, not echoed, typed twice.
    NewSecret,
    /// Visible text (a one-time code, an address).
    Text,
    /// One of these, by index.
    Choose { options: Vec<String>, default: usize },
    /// Yes or no.
    Confirm { default: bool },
}

/// One step: the answer it wants, how to ask it, and what a script is told when it cannot be
/// asked (no terminal, and the answer was not given up front).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub slot: Slot,
    pub ask: Ask,
    pub prompt: String,
    pub missing: String,
    /// For a secret: what it is ("password"), to say which line `--password-stdin` lacked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
}

impl Step {
    /// A secret that exists (a password, a PIN): hidden; a script passes `--password-stdin`.
    pub fn secret(slot: Slot, what: &str, prompt: impl Into<String>) -> Step {
        Step { slot, ask: Ask::Secret, prompt: prompt.into(), missing: missing_secret(what), what: Some(what.into()) }
    }

    /// A new secret, typed twice at a terminal.
    pub fn new_secret(slot: Slot, what: &str, prompt: impl Into<String>) -> Step {
        Step {
            slot,
            ask: Ask::NewSecret,
            prompt: prompt.into(),
            missing: missing_secret(what),
            what: Some(what.into()),
        }
    }

    /// A visible answer (a one-time code) that a script gives with a flag.
    pub fn text(slot: Slot, prompt: impl Into<String>, missing: impl Into<String>) -> Step {
        Step { slot, ask: Ask::Text, prompt: prompt.into(), missing: missing.into(), what: None }
    }

    pub fn choose(prompt: impl Into<String>, options: &[&str], default: usize, missing: impl Into<String>) -> Step {
        Step {
            slot: Slot::Choice,
            ask: Ask::Choose { options: options.iter().map(|o| o.to_string()).collect(), default },
            prompt: prompt.into(),
            missing: missing.into(),
            what: None,
        }
    }

    pub fn confirm(prompt: impl Into<String>, default: bool, missing: impl Into<String>) -> Step {
        Step {
            slot: Slot::Confirm,
            ask: Ask::Confirm { default },
            prompt: prompt.into(),
            missing: missing.into(),
            what: None,
        }
    }
}

impl Step {
    /// What a client that cannot ask is told (exit 2): the line `--password-stdin` lacked, or
    /// how to give the answer without a terminal.
    pub fn unanswered(&self, from_stdin: bool) -> String {
        match (&self.what, from_stdin) {
            (Some(what), true) => format!("--password-stdin: no {what} on standard input (one per line)"),
            _ => self.missing.clone(),
        }
    }
}

/// What a script is told when a secret is needed and none can be read (SPEC §8, exit 2).
pub fn missing_secret(what: &str) -> String {
    format!(
        "a {what} is needed: pass --password-stdin and write it on standard input, or run in a terminal (secrets are never taken from the command line)"
    )
}

/// The answers a client sends: given up front (`--otp`, `--password-stdin`) or typed at a
/// prompt. Zeroized when dropped; never shown by `Debug`.
#[derive(Default, Clone, Serialize, Deserialize)]
pub struct Answers(BTreeMap<Slot, Zeroizing<String>>);

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Answers {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn put(&mut self, slot: Slot, value: impl Into<String>) {
        self.0.insert(slot, Zeroizing::new(value.into()));
    }

    /// Use an answer (it is gone afterwards).
    pub fn take(&mut self, slot: Slot) -> Option<Zeroizing<String>> {
        self.0.remove(&slot)
    }

    pub fn has(&self, slot: Slot) -> bool {
        self.0.contains_key(&slot)
    }

    /// Add what another set holds (a later step's answers to those kept).
    pub fn merge(&mut self, other: Answers) {
        self.0.extend(other.0);
    }

    /// A yes/no answer: "yes"/"y"/"true" is yes.
    pub fn take_yes(&mut self, slot: Slot) -> Option<bool> {
        self.take(slot).map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "yes" | "y" | "true" | "1"))
    }

    /// A choice's index, if it is one of `n`.
    pub fn take_choice(&mut self, n: usize) -> Option<usize> {
        self.take(Slot::Choice).and_then(|v| v.trim().parse::<usize>().ok()).filter(|i| *i < n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_used_once_and_never_shown() {
        let mut a = Answers::default();
        a.put(Slot::Password, "Secret-Passw0rd!123");
        assert!(!format!("{a:?}").contains("Secret"), "{a:?}");
        assert_eq!(a.take(Slot::Password).as_deref().map(|s| s.as_str()), Some("Secret-Passw0rd!123"));
        assert!(a.take(Slot::Password).is_none());
    }

    #[test]
    fn a_choice_outside_the_menu_is_no_choice() {
        let mut a = Answers::default();
        a.put(Slot::Choice, "2");
        assert_eq!(a.clone().take_choice(3), Some(2));
        assert_eq!(a.take_choice(2), None);
    }

    #[test]
    fn a_step_says_what_a_script_must_pass() {
        let s = Step::secret(Slot::Password, "password", "Password");
        assert!(s.missing.contains("--password-stdin"), "{}", s.missing);
        assert!(Slot::Password.secret() && !Slot::Choice.secret());
    }
}
