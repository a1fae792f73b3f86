//! Outgoing mail: an mbox file (default, beside the database) or SMTP, behind one trait.
//!
//! Message texts follow the seed (Appendix C e): the OTP mail has the subject
//! `CCASS: One Time Password` and the line `One Time Password (OTP) for CCASS: NNNNNNNN`, and
//! carries no URL and no user ID. Notifications carry no secret either.

use anyhow::{anyhow, bail, Context as _};
use chrono::{DateTime, Utc};
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

pub trait Transport {
    fn send(&self, from: &str, mail: &Mail, now: DateTime<Utc>) -> anyhow::Result<()>;
}

/// The one-time password mail (no URL, no user ID).
pub fn otp_mail(to: &str, code: &str) -> Mail {
    Mail {
        to: to.to_string(),
        subject: "CCASS: One Time Password".into(),
        body: format!(
            "One Time Password (OTP) for CCASS: {code}\n\nThis OTP is valid for 5 minutes and can be used once.\n\
             If you did not ask for it, tell your Delegated Administrator.\n"
        ),
    }
}

/// A security notification (password or OTP device changed, eService completed, ...).
pub fn notification(to: &str, subject: &str, text: &str) -> Mail {
    Mail {
        to: to.to_string(),
        subject: format!("CCASS: {subject}"),
        body: format!("{text}\n\nIf you did not make this change, contact your Delegated Administrator at once.\n"),
    }
}

/// The e-mail that tells a participant its eService is Completed (seed Appendix D c).
pub fn eservice(to: &str, reference: &str, participant: &str, form_title: &str, what: &str) -> Mail {
    Mail {
        to: to.to_string(),
        subject: format!("{form_title} ({reference} from {participant})"),
        body: format!(
            "For reference: the eService is Completed\n\nReference Number      {reference}\nWorkflow Status       Completed\n\
             Notification Type     For reference\nJust Processed By     HKEX\nRequire action from   Nil\n\n{what}\n"
        ),
    }
}

pub const DA3_TITLE: &str = "DA 3 - CCASS/ CCMS Delegated Administrator Application/ Maintenance Form";
pub const DA4_TITLE: &str = "DA 4 - CCASS / CCMS User Account Application Form";

/// Appends to an mbox file (created 0600; an existing one must be a regular file of dms's
/// user alone and not a link: `files`).
pub struct Mbox {
    pub path: PathBuf,
}

impl Transport for Mbox {
    fn send(&self, from: &str, mail: &Mail, now: DateTime<Utc>) -> anyhow::Result<()> {
        // A regular file of dms's user alone, never a link (`files`); created 0600.
        let mut f = crate::files::append_private(&self.path, crate::files::Purpose::Mbox)?;
        let envelope = from.rsplit('<').next().unwrap_or(from).trim_end_matches('>');
        let mut text = format!(
            "From {envelope} {}\nFrom: {from}\nTo: {}\nSubject: {}\nDate: {}\nContent-Type: text/plain; charset=utf-8\n\n",
            now.format("%a %b %e %H:%M:%S %Y"),
            mail.to,
            mail.subject,
            now.to_rfc2822(),
        );
        for line in mail.body.lines() {
            // mboxrd quoting: a body line starting with "From " would start a new message.
            if line.trim_start_matches('>').starts_with("From ") {
                text.push('>');
            }
            text.push_str(line);
            text.push('\n');
        }
        text.push('\n');
        f.write_all(text.as_bytes())?;
        f.sync_data()?;
        Ok(())
    }
}

/// Plain SMTP to a relay (`smtp://HOST:PORT`), as a firm's internal relay or a test sink.
pub struct Smtp {
    pub host: String,
    pub port: u16,
}

impl Transport for Smtp {
    fn send(&self, from: &str, mail: &Mail, _now: DateTime<Utc>) -> anyhow::Result<()> {
        use lettre::Transport as _;
        let msg = lettre::Message::builder()
            .from(from.parse().map_err(|e| anyhow!("mail-from {from:?}: {e}"))?)
            .to(mail.to.parse().map_err(|e| anyhow!("recipient {:?}: {e}", mail.to))?)
            .subject(mail.subject.clone())
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(mail.body.clone())?;
        let transport = lettre::SmtpTransport::builder_dangerous(self.host.as_str())
            .port(self.port)
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        transport.send(&msg).with_context(|| format!("sending mail through smtp://{}:{}", self.host, self.port))?;
        Ok(())
    }
}

/// Build the transport the `mail` setting names: `file:PATH` (relative to the database's
/// folder) or `smtp://HOST:PORT`.
pub fn transport(setting: &str, db_dir: &Path) -> anyhow::Result<Box<dyn Transport>> {
    if let Some(path) = setting.strip_prefix("file:") {
        let p = Path::new(path);
        let path = if p.is_absolute() { p.to_path_buf() } else { db_dir.join(p) };
        return Ok(Box::new(Mbox { path }));
    }
    if let Some(rest) = setting.strip_prefix("smtp://") {
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "25"));
        let port: u16 = port.parse().map_err(|_| anyhow!("mail setting {setting:?}: bad port"))?;
        if host.is_empty() {
            bail!("mail setting {setting:?}: no host");
        }
        return Ok(Box::new(Smtp { host: host.to_string(), port }));
    }
    bail!("mail setting {setting:?}: must be file:PATH or smtp://HOST:PORT")
}

/// Check a `mail` setting value without building anything.
pub fn valid_setting(setting: &str) -> bool {
    transport(setting, Path::new(".")).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otp_mail_has_the_seed_text_and_no_url_or_user_id() {
        let m = otp_mail("a@b.hk", "10767258");
        assert_eq!(m.subject, "CCASS: One Time Password");
        assert!(m.body.starts_with("One Time Password (OTP) for CCASS: 10767258\n"));
        assert!(!m.body.contains("http") && !m.body.contains("www."));
    }

    #[test]
    fn mbox_appends_and_quotes_from_lines() {
        let dir = tempfile::tempdir().expect("tmp");
        let t = transport("file:out.mbox", dir.path()).expect("transport");
        let now = Utc::now();
        t.send("CCASS <noreply@x.invalid>", &otp_mail("a@b.hk", "12345678"), now).expect("send");
        t.send("CCASS <noreply@x.invalid>", &notification("a@b.hk", "Hi", "From here on"), now).expect("send");
        let text = std::fs::read_to_string(dir.path().join("out.mbox")).expect("read");
        assert_eq!(
            text.matches("\nFrom noreply@x.invalid ").count()
                + usize::from(text.starts_with("From noreply@x.invalid ")),
            2
        );
        assert!(text.contains(">From here on"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(dir.path().join("out.mbox")).expect("m").permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn settings_are_parsed() {
        assert!(
            valid_setting("file:x.mbox") && valid_setting("smtp://127.0.0.1:2525") && valid_setting("smtp://relay")
        );
        assert!(!valid_setting("smtp://:25") && !valid_setting("smtp://h:port") && !valid_setting("ftp://x"));
    }
}
