//! Outgoing mail: an mbox file (default, beside the database) or SMTP, behind one trait.
//!
//! Message texts follow the seed (Appendix C e): the OTP mail has the subject
//! `CCASS: One Time Password` and the line `One Time Password (OTP) for CCASS: NNNNNNNN`, and
//! carries no URL and no user ID. Notifications carry no secret either.

use anyhow::{anyhow, bail, Context as _};
use chrono::{DateTime, Utc};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use lettre::message::Mailbox;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Whose sender it goes out as.
    pub sender: Sender,
}

/// The kinds of mail with a sender setting of their own, as the seed shows them: the system's
/// (OTPs and security notices, `noreply_pt@hkex.com.hk` in Appendix C e) and Client Connect's
/// (eService notices, "HKEX Client Connect <noreply_connect@hkex.com.hk>" in Appendix D c).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sender {
    #[default]
    System,
    Eservice,
}

impl Sender {
    /// The setting that names it.
    pub fn setting(self) -> &'static str {
        match self {
            Sender::System => "mail-from",
            Sender::Eservice => "mail-from-eservice",
        }
    }

    /// As the outbox keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            Sender::System => "system",
            Sender::Eservice => "eservice",
        }
    }

    pub fn parse(s: &str) -> Sender {
        if s == "eservice" {
            Sender::Eservice
        } else {
            Sender::System
        }
    }
}

/// What became of one mail: delivered, or why not.
pub type Delivery = Result<(), String>;

/// A way to deliver mail. `send_all` is the one a command uses: every mail a command queued
/// goes in one call, so the mbox is opened, written and synced once, and SMTP uses one
/// connection.
pub trait Transport {
    /// Deliver each mail; one result per mail, in order.
    fn send_all(&self, from: &Mailbox, mails: &[&Mail], now: DateTime<Utc>) -> Vec<Delivery>;

    /// Deliver one mail.
    fn send(&self, from: &Mailbox, mail: &Mail, now: DateTime<Utc>) -> anyhow::Result<()> {
        match self.send_all(from, &[mail], now).pop() {
            Some(Err(e)) => Err(anyhow!(e)),
            _ => Ok(()),
        }
    }
}

/// The same failure for every mail of a batch.
fn all_failed(n: usize, why: &str) -> Vec<Delivery> {
    vec![Err(why.to_string()); n]
}

/// The sender a `mail-from` setting names (`CCASS <noreply@example.com>` or a bare address),
/// parsed by the mail crate's own parser — never by slicing at the last `<`, which let
/// `CCASS\nBcc: spy@evil.example <noreply@…>` through (issue 18 #8) — and its address one dms
/// would deliver to.
pub fn sender(v: &str) -> anyhow::Result<Mailbox> {
    crate::domain::profile::check_chars("mail-from", v)?;
    let m: Mailbox =
        v.trim().parse().map_err(|e| anyhow!("{v:?} is not a sender like CCASS <noreply@example.com> ({e})"))?;
    crate::domain::profile::email(m.email.as_ref())?;
    Ok(m)
}

/// Free text a person typed (a reject reason), as it goes into a mail: on one line, with every
/// character that could break or disguise it (controls, U+2028 and other separators, bidi
/// overrides) written as an escape, whatever an older database let through.
pub fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    let forbidden = |c: char| crate::domain::profile::forbidden_char(c).is_some();
    if !s.chars().any(forbidden) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if forbidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The one-time password mail (no URL, no user ID).
pub fn otp_mail(to: &str, code: &str) -> Mail {
    Mail {
        sender: Sender::System,
        to: to.to_string(),
        subject: "CCASS: One Time Password".into(),
        body: format!(
            "One Time Password (OTP) for CCASS: {code}\n\nThis OTP is valid for 5 minutes and can be used once.\n\
             If you did not ask for it, tell your Delegated Administrator.\n"
        ),
    }
}

/// The one-time initial smartcard PIN, to its holder only (`domain::smartcard`): no user ID, no
/// link; what it is for and until when.
pub fn initial_pin(to: &str, srn: &str, pin: &str, why: &str, valid_until: &str) -> Mail {
    Mail {
        sender: Sender::System,
        to: to.to_string(),
        subject: "CCASS: Your initial smartcard PIN".into(),
        body: format!(
            "{why} Your one-time initial PIN for the smartcard with SRN {srn} is: {pin}\n\n\
             It is valid until {valid_until} (Hong Kong time) and only to choose your own PIN: sign in with \
             your smartcard, type it, then choose a PIN of 6 to 8 digits that only you know. Nobody at the \
             exchange or at your firm knows this PIN or the one you choose.\n\
             If you did not expect it, tell your Delegated Administrator at once.\n"
        ),
    }
}

/// To a holder whose smartcard-era account the exchange's migration registered in DMS.
pub fn account_migrated(to: &str, user_id: &str, srn: &str) -> Mail {
    Mail {
        sender: Sender::System,
        to: to.to_string(),
        subject: "CCASS: Your account was registered in DMS".into(),
        body: format!(
            "The exchange registered your CCASS/CCMS account {user_id} in DMS (Security Management Functions), \
             with your smartcard (SRN {srn}).\n\nIf you did not expect this, tell your Delegated Administrator.\n"
        ),
    }
}

/// A security notification (password or OTP device changed, eService completed, ...).
pub fn notification(to: &str, subject: &str, text: &str) -> Mail {
    Mail {
        sender: Sender::System,
        to: to.to_string(),
        subject: format!("CCASS: {subject}"),
        body: format!("{text}\n\nIf you did not make this change, contact your Delegated Administrator at once.\n"),
    }
}

/// What a request's kind is called in the seed's words (mails name nothing more of a request).
pub fn request_title(kind: &str) -> &'static str {
    match kind {
        "create-user" => "Create User Profile",
        "change-user" => "Change User Profile",
        "delete-user" => "Delete User Profile",
        "unlock-user" => "Unlock/Reset OTP Device Registration",
        "reset-smartcard-pin" => "Smartcard Password Reset",
        "assign-groups" => "Assign User Groups to a Delegated Administrator",
        "import-emails" => "Bulk e-mail registration",
        "import-users" => "Bulk user creation",
        _ => "DMS request",
    }
}

/// To a participant's DA checkers: a request waits for one of them (its number and kind only:
/// no user ID, no link, nothing of the proposed change).
pub fn request_waiting(to: &str, request_id: i64, kind: &str) -> Mail {
    Mail {
        sender: Sender::System,
        to: to.to_string(),
        subject: format!("CCASS: Request {request_id} waits for authorisation"),
        body: format!(
            "Request {request_id} ({}) was submitted by a Delegated Administrator maker of your firm and waits for \
             authorisation by a DA checker in DMS (Security Management Functions).\n\n\
             It expires if no checker decides it in time.\n",
            request_title(kind)
        ),
    }
}

/// How a request ended, as its maker is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Approved,
    Rejected(String),
    Expired,
}

/// To the maker of a request: it was approved, rejected (with the checker's reason) or expired.
pub fn request_decided(to: &str, request_id: i64, kind: &str, outcome: &Outcome) -> Mail {
    let title = request_title(kind);
    let (word, text) = match outcome {
        Outcome::Approved => ("approved", "A DA checker authorised it, and the change is applied.".to_string()),
        Outcome::Rejected(reason) => {
            let reason = one_line(reason);
            ("rejected", format!("A DA checker rejected it, giving the reason: {reason}\nNothing was changed."))
        }
        Outcome::Expired => {
            ("expired", "No DA checker decided it in time, so it expired and nothing was changed.".to_string())
        }
    };
    Mail {
        sender: Sender::System,
        to: to.to_string(),
        subject: format!("CCASS: Request {request_id} {word}"),
        body: format!("Your request {request_id} ({title}) was {word}.\n{text}\n"),
    }
}

/// A reminder that a password expires soon (`hkex remind expiring`): the date and the days
/// left, no user ID, no link.
pub fn password_expiring(to: &str, expires_on: &str, days_left: i64) -> Mail {
    let days = if days_left == 1 { "1 day".to_string() } else { format!("{days_left} days") };
    Mail {
        sender: Sender::System,
        to: to.to_string(),
        subject: "CCASS: Your password expires soon".into(),
        body: format!(
            "The password of your CCASS/CCMS account expires on {expires_on} (Hong Kong time), in {days}.\n\n\
             Change it before then with Change Password. Once it has expired, it must be changed at the next \
             logon before you can sign in.\n"
        ),
    }
}

/// A reminder that two-factor authentication is not set up yet (`hkex remind
/// not-initialised`): the seed's first-time logon steps, no user ID, no link.
pub fn set_up_2fa(to: &str) -> Mail {
    Mail {
        sender: Sender::System,
        to: to.to_string(),
        subject: "CCASS: Set up two-factor authentication".into(),
        body: "Your CCASS/CCMS account has not been set up for two-factor authentication (2FA) yet.\n\n\
               At your first logon: use Forgot/Reset Password to receive a one-time password at this address and \
               set your password, then register your authenticator app (or choose e-mail OTP).\n\
               Your Delegated Administrator can help.\n"
            .into(),
    }
}

/// The e-mail that tells a participant its eService is Completed (seed Appendix D c).
pub fn eservice(to: &str, reference: &str, participant: &str, form_title: &str, what: &str) -> Mail {
    Mail {
        sender: Sender::Eservice,
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

impl Mbox {
    /// One message in mboxrd form.
    /// The lines every mail of a batch shares (its separator line, sender and date), made once.
    fn stamp(from: &Mailbox, now: DateTime<Utc>) -> (String, String) {
        (
            format!("From {} {}\nFrom: {from}\n", from.email, now.format("%a %b %e %H:%M:%S %Y")),
            format!("Date: {}\nContent-Type: text/plain; charset=utf-8\n\n", now.to_rfc2822()),
        )
    }

    fn format(stamp: &(String, String), mail: &Mail, text: &mut String) {
        text.push_str(&stamp.0);
        text.push_str("To: ");
        text.push_str(&one_line(&mail.to));
        text.push_str("\nSubject: ");
        text.push_str(&one_line(&mail.subject));
        text.push('\n');
        text.push_str(&stamp.1);
        for line in mail.body.lines() {
            // mboxrd quoting: a body line starting with "From " would start a new message.
            if line.trim_start_matches('>').starts_with("From ") {
                text.push('>');
            }
            text.push_str(line);
            text.push('\n');
        }
        text.push('\n');
    }

    /// Append the mails, formatted a chunk at a time (a migration mails every holder it adds:
    /// tens of thousands of mails must not become one string in memory), then sync once.
    fn append(&self, from: &Mailbox, mails: &[&Mail], now: DateTime<Utc>) -> anyhow::Result<()> {
        const CHUNK: usize = 1 << 20;
        let mut f = crate::files::append_private(&self.path, crate::files::Purpose::Mbox)?;
        let mut text = String::with_capacity(CHUNK + 4096);
        let stamp = Self::stamp(from, now);
        let mut write = |text: &mut String| {
            let r = f.write_all(text.as_bytes());
            text.clear();
            r
        };
        for m in mails {
            Self::format(&stamp, m, &mut text);
            if text.len() >= CHUNK {
                write(&mut text).with_context(|| format!("cannot write mail to {}", self.path.display()))?;
            }
        }
        write(&mut text)
            .and_then(|()| f.sync_data())
            .with_context(|| format!("cannot write mail to {}", self.path.display()))
    }
}

impl Transport for Mbox {
    /// All of them in one open and one sync: a bulk registration's thousands of notifications
    /// cost one fsync, not thousands.
    fn send_all(&self, from: &Mailbox, mails: &[&Mail], now: DateTime<Utc>) -> Vec<Delivery> {
        match self.append(from, mails, now) {
            Ok(()) => vec![Ok(()); mails.len()],
            Err(e) => all_failed(mails.len(), &format!("{e:#}")),
        }
    }
}

/// How long a mail server may take to accept a connection and greet.
pub const SMTP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long it may take to answer each command once connected.
pub const SMTP_IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Plain SMTP to a relay (`smtp://HOST:PORT`), as a firm's internal relay or a test sink. A
/// server that does not answer costs the sending command seconds (the timeouts above), never
/// more: one connection for all of a command's mail, and once the server stops answering the
/// rest are not tried.
pub struct Smtp {
    pub host: String,
    pub port: u16,
}

impl Smtp {
    fn at(&self) -> String {
        format!("smtp://{}:{}", self.host, self.port)
    }

    fn connect(&self) -> Result<lettre::transport::smtp::client::SmtpConnection, String> {
        use lettre::transport::smtp::client::SmtpConnection;
        use lettre::transport::smtp::extension::ClientId;
        let mut conn = SmtpConnection::connect(
            (self.host.as_str(), self.port),
            Some(SMTP_CONNECT_TIMEOUT),
            &ClientId::default(),
            None,
            None,
        )
        .map_err(|e| format!("{}: {}", self.at(), describe_smtp(&e)))?;
        conn.set_timeout(Some(SMTP_IO_TIMEOUT)).map_err(|e| format!("{}: {e}", self.at()))?;
        Ok(conn)
    }
}

fn describe_smtp(e: &lettre::transport::smtp::Error) -> String {
    if timed_out(e) {
        format!(
            "the mail server did not answer in time (it has {} s to connect and greet, {} s for each command)",
            SMTP_CONNECT_TIMEOUT.as_secs(),
            SMTP_IO_TIMEOUT.as_secs()
        )
    } else {
        e.to_string()
    }
}

/// A socket timeout: `TimedOut`, or on Linux `WouldBlock` (EAGAIN), which lettre's own
/// `is_timeout` does not recognise.
fn timed_out(e: &lettre::transport::smtp::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return matches!(io.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock);
        }
        source = err.source();
    }
    false
}

fn message(from: &Mailbox, mail: &Mail) -> anyhow::Result<lettre::Message> {
    Ok(lettre::Message::builder()
        .from(from.clone())
        .to(mail.to.parse().map_err(|e| anyhow!("recipient {:?}: {e}", mail.to))?)
        .subject(mail.subject.clone())
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(mail.body.clone())?)
}

impl Transport for Smtp {
    fn send_all(&self, from: &Mailbox, mails: &[&Mail], _now: DateTime<Utc>) -> Vec<Delivery> {
        let mut conn = match self.connect() {
            Ok(c) => c,
            Err(e) => return all_failed(mails.len(), &e),
        };
        let mut out = Vec::with_capacity(mails.len());
        // Set once the server stops answering: the rest are not tried.
        let mut gone: Option<String> = None;
        for m in mails {
            if let Some(why) = &gone {
                out.push(Err(format!("not tried: {why}")));
                continue;
            }
            let msg = match message(from, m) {
                Ok(msg) => msg,
                Err(e) => {
                    out.push(Err(format!("{e:#}")));
                    continue;
                }
            };
            if conn.has_broken() {
                // The server answered the last one with a refusal, which ends a session in
                // lettre: a new one for the next mail.
                conn = match self.connect() {
                    Ok(c) => c,
                    Err(e) => {
                        out.push(Err(e.clone()));
                        gone = Some(e);
                        continue;
                    }
                };
            }
            match conn.send(msg.envelope(), &msg.formatted()) {
                Ok(_) => out.push(Ok(())),
                Err(e) => {
                    let why = format!("{}: {}", self.at(), describe_smtp(&e));
                    if !(e.is_permanent() || e.is_transient()) {
                        gone = Some(why.clone());
                    }
                    out.push(Err(why));
                }
            }
        }
        if !conn.has_broken() {
            let _ = conn.quit();
        }
        out
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

    fn from() -> Mailbox {
        sender("CCASS <noreply@x.invalid>").expect("a sender")
    }

    #[test]
    fn a_sender_is_parsed_whole_and_a_header_cannot_be_smuggled_in() {
        assert_eq!(sender("CCASS <noreply@dms.invalid>").expect("ok").to_string(), "CCASS <noreply@dms.invalid>");
        assert_eq!(sender("noreply@dms.invalid").expect("ok").email.to_string(), "noreply@dms.invalid");
        for bad in [
            "CCASS\nBcc: spy@evil.example <noreply@dms.invalid>",
            "CCASS\r\nBcc: spy@evil.example <noreply@dms.invalid>",
            "CCASS\u{2028}Bcc: spy@evil.example <noreply@dms.invalid>",
            "CCASS <noreply@dms.invalid>, spy@evil.example",
            "<noreply@dms.invalid",
            "CCASS <not an address>",
        ] {
            assert!(sender(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn free_text_reaches_a_mail_on_one_line_with_separators_escaped() {
        let m = request_decided("a@b.hk", 4, "change-user", &Outcome::Rejected("wrong\u{2028}Bcc: x\u{202E}".into()));
        assert!(!m.body.contains('\u{2028}') && !m.body.contains('\u{202E}'), "{}", m.body);
        assert!(m.body.contains("wrong\\u{2028}Bcc: x\\u{202e}"), "{}", m.body);
        let mut text = String::new();
        Mbox::format(
            &Mbox::stamp(&from(), Utc::now()),
            &Mail { to: "a@b.hk".into(), subject: "x\nBcc: y".into(), body: "b".into(), sender: Sender::System },
            &mut text,
        );
        assert!(!text.contains("\nBcc:"), "{text}");
        assert!(text.contains("\nTo: a@b.hk\nSubject: x\\u{a}Bcc: y\nDate: "), "{text}");
        assert_eq!(one_line("plain"), std::borrow::Cow::Borrowed("plain"), "nothing to escape: no copy");
    }

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
        t.send(&from(), &otp_mail("a@b.hk", "12345678"), now).expect("send");
        t.send(&from(), &notification("a@b.hk", "Hi", "From here on"), now).expect("send");
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
    fn a_batch_is_one_append_with_the_same_text_as_one_by_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let now = Utc::now();
        let mails: Vec<Mail> = (0..50).map(|i| notification(&format!("u{i}@b.hk"), "Hi", "From here on")).collect();
        let one = transport("file:one.mbox", dir.path()).expect("transport");
        for m in &mails {
            one.send(&from(), m, now).expect("send");
        }
        let all = transport("file:all.mbox", dir.path()).expect("transport");
        let refs: Vec<&Mail> = mails.iter().collect();
        let results = all.send_all(&from(), &refs, now);
        assert_eq!(results.len(), 50);
        assert!(results.iter().all(Result::is_ok));
        let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).expect("read");
        assert_eq!(read("one.mbox"), read("all.mbox"));
    }

    #[test]
    fn an_mbox_that_others_may_read_receives_nothing() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("out.mbox");
        std::fs::write(&p, "").expect("plant");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        let t = transport("file:out.mbox", dir.path()).expect("transport");
        let m = otp_mail("a@b.hk", "12345678");
        let results = t.send_all(&from(), &[&m, &m], Utc::now());
        assert_eq!(results.len(), 2);
        for r in results {
            let e = r.expect_err("refused");
            assert!(e.contains("chmod 600") && e.contains("out.mbox"), "{e}");
        }
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "", "nothing was written");
    }

    #[test]
    fn settings_are_parsed() {
        assert!(
            valid_setting("file:x.mbox") && valid_setting("smtp://127.0.0.1:2525") && valid_setting("smtp://relay")
        );
        assert!(!valid_setting("smtp://:25") && !valid_setting("smtp://h:port") && !valid_setting("ftp://x"));
    }
}
