//! The outbox: `dms-outbox.mbox` beside the database (the mail setting's default).

use super::run::World;

const OTP_LINE: &str = "One Time Password (OTP) for CCASS: ";

impl World {
    /// The whole outbox ("" before the first mail).
    pub fn mbox(&self) -> String {
        match std::fs::read_to_string(self.path("dms-outbox.mbox")) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => panic!("reading dms-outbox.mbox: {e}"),
        }
    }

    /// The messages in the outbox, oldest first.
    pub fn mails(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for l in self.mbox().lines() {
            if l.starts_with("From ") || out.is_empty() {
                out.push(String::new());
            }
            let m = out.last_mut().expect("one message");
            m.push_str(l);
            m.push('\n');
        }
        out.retain(|m| !m.trim().is_empty());
        out
    }

    /// The messages addressed to `to` (a `To: ADDRESS` header line), oldest first.
    pub fn mails_to(&self, to: &str) -> Vec<String> {
        let header = format!("To: {to}");
        self.mails().into_iter().filter(|m| m.lines().any(|l| l == header)).collect()
    }

    /// Every e-mail OTP mailed so far, oldest first.
    pub fn otps(&self) -> Vec<String> {
        self.mbox().lines().filter_map(|l| l.strip_prefix(OTP_LINE)).map(|c| c.trim().to_string()).collect()
    }

    /// The one-time initial smartcard PIN last mailed to `to` (8 digits).
    #[track_caller]
    pub fn initial_pin(&self, to: &str) -> String {
        const AT: &str = "one-time initial PIN for the smartcard with SRN ";
        let mail = self.mails_to(to).into_iter().rev().find(|m| m.contains(AT));
        let mail = mail.unwrap_or_else(|| panic!("no initial PIN mailed to {to}:\n{}", self.mbox()));
        let pin = mail.lines().find_map(|l| l.split_once(AT).and_then(|(_, r)| r.split_once(" is: "))).map(|(_, p)| p);
        let pin = pin.unwrap_or_else(|| panic!("no PIN in {mail}")).trim().to_string();
        assert!(pin.len() == 8 && pin.bytes().all(|b| b.is_ascii_digit()), "an initial PIN of 8 digits: {pin:?}");
        pin
    }

    /// The last e-mail OTP mailed (8 digits).
    #[track_caller]
    pub fn last_otp(&self) -> String {
        let code = self.otps().pop().unwrap_or_else(|| panic!("no OTP in the outbox:\n{}", self.mbox()));
        assert!(code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()), "an e-mail OTP of 8 digits: {code:?}");
        code
    }
}
