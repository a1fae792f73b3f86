//! Authenticator-app codes: RFC 6238 (SHA-1, 6 digits, 30 s) by the system `oathtool`, as a
//! user's phone would compute them, independently of the implementation under test.

use super::run::World;
use chrono::{DateTime, Duration, Utc};
use std::io::Write as _;
use std::process::Stdio;

/// The TOTP code of `key` (base32) at `at`, by `oathtool` with the key on its stdin.
pub fn oathtool(key: &str, at: DateTime<Utc>) -> String {
    let mut child = std::process::Command::new("oathtool")
        .args(["--totp", "--base32", "-", "--now", &at.format("%Y-%m-%d %H:%M:%S UTC").to_string()])
        .env_clear()
        .env("PATH", super::util::tool_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("oathtool is required by the TOTP tests (apt-get install oathtool): {e}"));
    child.stdin.take().expect("oathtool's stdin").write_all(format!("{key}\n").as_bytes()).expect("writing the key");
    let out = child.wait_with_output().expect("waiting for oathtool");
    assert!(out.status.success(), "oathtool failed: {}", String::from_utf8_lossy(&out.stderr));
    let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "oathtool printed {code:?}");
    code
}

/// The base32 key of an `otpauth://` URI.
pub fn secret_of(uri: &str) -> String {
    uri.split("secret=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .unwrap_or_else(|| panic!("no secret in {uri}"))
        .to_string()
}

fn step(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(30)
}

impl World {
    /// The key `user`'s app holds.
    #[track_caller]
    pub fn key(&self, user: &str) -> String {
        self.keys.borrow().get(user).cloned().unwrap_or_else(|| panic!("{user} has not registered an app"))
    }

    pub fn has_key(&self, user: &str) -> bool {
        self.keys.borrow().contains_key(user)
    }

    /// Record the key `user`'s app now holds.
    pub fn set_key(&self, user: &str, key: &str) {
        self.keys.borrow_mut().insert(user.to_string(), key.to_string());
    }

    /// A fresh code of `user`'s app. A code is accepted once per account, so when this account
    /// already used the current 30-second step, the clock moves on to the next one.
    pub fn totp(&self, user: &str) -> String {
        let key = self.key(user);
        let last = self.last_step.borrow().get(user).copied();
        if let Some(last) = last {
            if step(self.now()) <= last {
                self.set_now(DateTime::from_timestamp((last + 1) * 30, 0).expect("a time"));
            }
        }
        self.last_step.borrow_mut().insert(user.to_string(), step(self.now()));
        oathtool(&key, self.now())
    }

    /// The code `user`'s app shows `steps` 30-second steps from now (the clock stays).
    pub fn totp_at(&self, user: &str, steps: i64) -> String {
        oathtool(&self.key(user), self.now() + Duration::seconds(30 * steps))
    }

    /// A 6-digit code that is none of `user`'s app codes for the accepted window (now ±1 step).
    pub fn wrong_totp(&self, user: &str) -> String {
        let valid: Vec<String> = (-1..=1).map(|s| self.totp_at(user, s)).collect();
        ["000000", "111111", "222222"]
            .into_iter()
            .find(|c| !valid.iter().any(|v| v == c))
            .expect("three candidates cannot all be valid")
            .to_string()
    }
}
