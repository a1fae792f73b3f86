//! The typed API (SPEC §10): one [`Call`] per operation, sent in an [`Envelope`], answered by a
//! stream of [`Part`]s. Both modes run it on the same path: embedded, a command hands its call
//! to `ops::service::Service::execute` in its own process; with `--server`, the client sends
//! the same envelope as JSON over the socket or TLS and `dms serve` hands it to the same
//! `execute`. Nothing here knows the command line, the terminal or HTTP: these are plain
//! serde values.
//!
//! A reply is what the CLI prints, as values: result objects, the seed's screens, lists
//! streamed row by row (a header, rows, an end), and the lines a person sees between prompts.
//! The client renders them (`client::render`), in the format the envelope names.
//!
//! Multi-step operations (the sign-in walk, step-up, inline authorisation) are attempts held by
//! the service: a reply that ends with [`Part::Ask`] names the attempt and the step; the client
//! answers it with [`Call::Next`]. Answers the client already has (`--otp`, `--password-stdin`)
//! travel with the first call in [`Envelope::answers`].

use crate::domain::flow::{Answers, Step};
use crate::domain::user_id::{ClearingHouse, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

/// The API version in every path (`/v1/...`).
pub const VERSION: &str = "v1";

/// How a reply is shaped: the output format the client will print it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
    Jsonl,
}

impl Format {
    /// A JSON format: stderr then carries JSON too (errors and warnings as objects, no notes).
    pub fn is_json(self) -> bool {
        matches!(self, Format::Json | Format::Jsonl)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
        }
    }
}

/// A session token (or another bearer secret) as it travels: hex, zeroized when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(pub Zeroizing<Vec<u8>>);

impl Token {
    pub fn new(bytes: &[u8]) -> Token {
        Token(Zeroizing::new(bytes.to_vec()))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Serialize for Token {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Zeroizing::new(hex::encode(&self.0[..])))
    }
}

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        let bytes = hex::decode(text.as_bytes()).map_err(|_| serde::de::Error::custom("a token is hex"))?;
        if bytes.len() > 64 {
            return Err(serde::de::Error::custom("a token is at most 64 bytes"));
        }
        Ok(Token(Zeroizing::new(bytes)))
    }
}

/// One call with what it runs with: who is signed in (the client's session token), the
/// client's test clock (honoured only on a test-clock database), how the reply is shaped,
/// whether a person can be asked, and the answers the client already has.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// Made by the client (128 random bits, hex); a repeated ID is answered with the first reply.
    pub call_id: String,
    /// The token of the client's session file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Token>,
    /// `DMS_NOW` as the client read it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<String>,
    /// `DMS_SEED`, made distinct per call by the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `DMS_TEST_PAUSE_AT` (test-clock databases only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_at: Option<String>,
    #[serde(default)]
    pub format: Format,
    /// A person is at the client's terminal: steps may be asked.
    #[serde(default)]
    pub interactive: bool,
    /// The secrets came from standard input (`--password-stdin`).
    #[serde(default)]
    pub stdin: bool,
    #[serde(default, skip_serializing_if = "Answers::is_empty")]
    pub answers: Answers,
    #[serde(flatten)]
    pub call: Call,
}

/// A file the client read and sends (a bulk or migration CSV): its name for messages, and its
/// bytes — as `text` when they are UTF-8 (what every CSV should be), otherwise as `base64`, so
/// that the service names the lines that are not, as it names every other fault.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct UploadWire {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base64: Option<String>,
}

impl Serialize for Upload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        let wire = match std::str::from_utf8(&self.bytes) {
            Ok(t) => UploadWire { name: self.name.clone(), text: Some(t.to_string()), base64: None },
            Err(_) => UploadWire {
                name: self.name.clone(),
                text: None,
                base64: Some(base64::engine::general_purpose::STANDARD.encode(&self.bytes)),
            },
        };
        wire.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Upload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine as _;
        let w = UploadWire::deserialize(d)?;
        let bytes = match (w.text, w.base64) {
            (Some(t), None) => t.into_bytes(),
            (None, Some(b)) => base64::engine::general_purpose::STANDARD
                .decode(b.as_bytes())
                .map_err(|_| serde::de::Error::custom("a file's base64 is not base64"))?,
            _ => return Err(serde::de::Error::custom("a file has its text or its base64, one of them")),
        };
        Ok(Upload { name: w.name, bytes })
    }
}

/// The profile fields of a create or change, as typed (parsed by the service).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProfileFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_names: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub functions: Option<String>,
}

/// Authorise at once (seed Appendix A f): the checker types the authorisation code here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inline {
    pub checker: UserId,
    #[serde(default)]
    pub smartcard: bool,
}

/// An OTP channel as a call names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    App,
    Email,
}

/// What `auth settings` changes (seed Appendix D d).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingsChange {
    DeleteDevice,
    UseEmail,
}

impl SettingsChange {
    pub fn describe(self) -> &'static str {
        match self {
            SettingsChange::DeleteDevice => "device deleted",
            SettingsChange::UseEmail => "switched to e-mail OTP",
        }
    }
}

/// What a DA3 maintenance request does to an existing DA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Da3Action {
    Unlock,
    Reset,
    Enable,
    Disable,
    Delete,
}

impl Da3Action {
    pub fn name(self) -> &'static str {
        match self {
            Da3Action::Unlock => "unlock",
            Da3Action::Reset => "reset",
            Da3Action::Enable => "enable",
            Da3Action::Disable => "disable",
            Da3Action::Delete => "delete",
        }
    }
}

/// The reports for auditors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportKind {
    Readiness,
    Locked,
    Expiring,
    Dormant,
    Requests,
    Audit,
    Da4Fees,
}

/// The filters of `request list`; every one given must hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RequestQuery {
    /// A status (`pending` also lists the STALE ones), or `all`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub participant: Option<String>,
    #[serde(default)]
    pub house: Option<ClearingHouse>,
    #[serde(default)]
    pub maker: Option<UserId>,
    #[serde(default)]
    pub checker: Option<UserId>,
    /// A request kind (`change-user`, `import-emails`, ...).
    #[serde(default)]
    pub kind: Option<String>,
    /// Made on or after this Hong Kong date.
    #[serde(default)]
    pub from: Option<String>,
    /// Made on or before this Hong Kong date.
    #[serde(default)]
    pub to: Option<String>,
    /// About this user.
    #[serde(default)]
    pub subject: Option<UserId>,
}

/// The filters of a User Profile Listing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListingQuery {
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub participant: Option<String>,
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub house: Option<ClearingHouse>,
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub otp: Option<String>,
    #[serde(default)]
    pub inactive_days: Option<i64>,
}

/// A report's parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportQuery {
    pub kind: ReportKind,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub days: Option<i64>,
    #[serde(default)]
    pub participant: Option<String>,
    #[serde(default)]
    pub house: Option<ClearingHouse>,
    #[serde(default)]
    pub after_seq: Option<i64>,
    /// audit: rows by this actor.
    #[serde(default)]
    pub actor: Option<String>,
    /// audit: rows whose action begins so (`user.`, `signin.failed`).
    #[serde(default)]
    pub action: Option<String>,
    /// audit: rows about this user.
    #[serde(default)]
    pub subject: Option<UserId>,
}

/// Every operation, named by its path under `/v1/` (the `op` member of the JSON body).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op")]
pub enum Call {
    // -- signing in (everyone) ----------------------------------------------------------------
    /// Sign in (a walk-through at a terminal: first-time password, expired password, OTP
    /// channel set-up, the code). `replaces` is the token of the session file being replaced.
    #[serde(rename = "login")]
    Login {
        user: UserId,
        #[serde(default)]
        smartcard: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replaces: Option<Token>,
        /// Where the client keeps the session (shown in the reply; the service never opens it).
        #[serde(default)]
        session_file: String,
    },
    #[serde(rename = "logout")]
    Logout,
    #[serde(rename = "whoami")]
    Whoami,
    #[serde(rename = "otp/request")]
    OtpRequest { user: UserId },
    #[serde(rename = "otp/setup")]
    OtpSetup {
        user: UserId,
        channel: Channel,
        #[serde(default)]
        accept_warning: bool,
        /// Where the client writes the QR code image (shown in the reply).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        qr_file: Option<String>,
    },
    #[serde(rename = "password/reset")]
    PasswordReset { user: UserId },
    #[serde(rename = "password/change")]
    PasswordChange {
        #[serde(default)]
        user: Option<UserId>,
    },
    #[serde(rename = "auth/settings")]
    AuthSettings { change: SettingsChange },
    /// The next step of an attempt: the answers are in the envelope.
    #[serde(rename = "flow/next")]
    Next { attempt: String },

    // -- DMS (DAs, maker-checker) -------------------------------------------------------------
    #[serde(rename = "user/create")]
    UserCreate {
        #[serde(default)]
        user_id: Option<UserId>,
        profile: ProfileFields,
        #[serde(default)]
        inline: Option<Inline>,
    },
    #[serde(rename = "user/change")]
    UserChange {
        user_id: UserId,
        profile: ProfileFields,
        #[serde(default)]
        inline: Option<Inline>,
    },
    #[serde(rename = "user/delete")]
    UserDelete {
        user_id: UserId,
        #[serde(default)]
        inline: Option<Inline>,
    },
    #[serde(rename = "user/unlock")]
    UserUnlock {
        user_id: UserId,
        #[serde(default)]
        inline: Option<Inline>,
    },
    #[serde(rename = "user/smartcard-reset")]
    UserSmartcardReset {
        user_id: UserId,
        #[serde(default)]
        inline: Option<Inline>,
    },
    #[serde(rename = "da/assign")]
    DaAssign {
        da_id: UserId,
        groups: String,
        #[serde(default)]
        inline: Option<Inline>,
    },
    #[serde(rename = "user/import-emails")]
    ImportEmails {
        file: Upload,
        #[serde(default)]
        dry_run: bool,
        /// With `dry_run`, the page of a table's field table.
        #[serde(default = "first_page")]
        page: i64,
        #[serde(default)]
        inline: Option<Inline>,
    },
    #[serde(rename = "user/import")]
    ImportUsers {
        file: Upload,
        #[serde(default)]
        dry_run: bool,
        /// With `dry_run`, the page of a table's field table.
        #[serde(default = "first_page")]
        page: i64,
        #[serde(default)]
        inline: Option<Inline>,
    },
    #[serde(rename = "user/enquire")]
    Enquire { user_id: UserId },
    /// Every audit event about one profile, oldest first (sign-ins summarised).
    #[serde(rename = "user/history")]
    History { user_id: UserId },
    #[serde(rename = "user/find")]
    FindByName {
        name: String,
        #[serde(default)]
        participant: Option<String>,
        #[serde(default)]
        house: Option<ClearingHouse>,
        #[serde(default)]
        all: bool,
    },
    #[serde(rename = "request/list")]
    RequestList(RequestQuery),
    #[serde(rename = "request/show")]
    RequestShow {
        id: i64,
        #[serde(default = "first_page")]
        page: i64,
    },
    #[serde(rename = "request/approve")]
    Approve {
        ids: Vec<i64>,
        #[serde(default)]
        smartcard: bool,
        /// Do not ask the person to confirm.
        #[serde(default)]
        yes: bool,
    },
    #[serde(rename = "request/reject")]
    Reject { id: i64, reason: String },
    #[serde(rename = "request/cancel")]
    CancelRequest { id: i64 },
    #[serde(rename = "request/resubmit")]
    Resubmit { id: i64 },
    #[serde(rename = "listing")]
    Listing(ListingQuery),
    #[serde(rename = "report")]
    Report(ReportQuery),
    #[serde(rename = "audit/verify")]
    AuditVerify {
        /// The JSON an earlier verification printed (read by the client from its file).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        checkpoint: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        checkpoint_name: Option<String>,
    },

    // -- the exchange operator -------------------------------------------------------------------
    #[serde(rename = "hkex/participant/add")]
    ParticipantAdd { id: String, name: String, house: String, max_users: i64, domains: Vec<String> },
    #[serde(rename = "hkex/participant/list")]
    ParticipantList,
    #[serde(rename = "hkex/participant/show")]
    ParticipantShow {
        id: String,
        #[serde(default)]
        house: Option<ClearingHouse>,
    },
    #[serde(rename = "hkex/participant/import")]
    ParticipantImport {
        file: Upload,
        #[serde(default)]
        dry_run: bool,
    },
    #[serde(rename = "hkex/import-smartcard-users")]
    SmartcardUsersImport {
        file: Upload,
        #[serde(default)]
        dry_run: bool,
    },
    #[serde(rename = "hkex/da3/add")]
    Da3Add {
        participant: String,
        #[serde(default)]
        house: Option<ClearingHouse>,
        role: String,
        surname: String,
        other_names: String,
        email: String,
    },
    /// unlock, reset, enable, disable, delete. `email` is the DA's registered address (unlock
    /// and reset); `yes` confirms a deletion.
    #[serde(rename = "hkex/da3")]
    Da3 {
        da_id: UserId,
        action: Da3Action,
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        yes: bool,
    },
    #[serde(rename = "hkex/da3/change-email")]
    Da3ChangeEmail { da_id: UserId, email: String },
    #[serde(rename = "hkex/da3/assign-da")]
    Da3AssignDa { user_id: UserId, role: String },
    #[serde(rename = "hkex/smartcard/issue")]
    SmartcardIssue { user_id: UserId, srn: String, certificate_expiry: String },
    #[serde(rename = "hkex/scard1/reset-pin")]
    Scard1ResetPin { user_id: UserId },
    #[serde(rename = "hkex/da4")]
    Da4 {
        participant: String,
        #[serde(default)]
        house: Option<ClearingHouse>,
        accounts: i64,
    },
    #[serde(rename = "hkex/settings/show")]
    SettingsShow,
    #[serde(rename = "hkex/settings/set")]
    SettingsSet { key: String, value: String },
    #[serde(rename = "hkex/holiday/add")]
    HolidayAdd { date: String, name: String },
    #[serde(rename = "hkex/holiday/remove")]
    HolidayRemove { date: String },
    #[serde(rename = "hkex/holiday/list")]
    HolidayList,
    /// The user group catalogue.
    #[serde(rename = "user/groups")]
    Groups,
    #[serde(rename = "hkex/outbox/list")]
    OutboxList,
    #[serde(rename = "hkex/outbox/retry")]
    OutboxRetry,
    #[serde(rename = "hkex/key/rotate")]
    KeyRotate,
    #[serde(rename = "hkex/remind/expiring")]
    RemindExpiring {
        #[serde(default)]
        days: Option<i64>,
        #[serde(default)]
        dry_run: bool,
        #[serde(default)]
        system: bool,
    },
    #[serde(rename = "hkex/remind/not-initialised")]
    RemindNotInitialised {
        #[serde(default)]
        dry_run: bool,
        #[serde(default)]
        system: bool,
    },
    #[serde(rename = "hkex/account/add")]
    AccountAdd { role: String, surname: String, other_names: String, email: String },
    #[serde(rename = "hkex/account/reset")]
    AccountReset { user_id: UserId },

    // -- operations ------------------------------------------------------------------------------
    /// A host job of the service account: refused through a server.
    #[serde(rename = "backup")]
    Backup {
        out: String,
        #[serde(default)]
        system: bool,
    },
}

/// "1 request", "3 requests": a count as the text says it.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn first_page() -> i64 {
    1
}

impl Call {
    /// The call's name, as in its path.
    pub fn op(&self) -> String {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m.get("op").and_then(Value::as_str).unwrap_or("?").to_string(),
            _ => "?".into(),
        }
    }

    /// Does the call only read? A read is answered afresh when its ID repeats; a write is
    /// answered with its first reply.
    pub fn reads_only(&self) -> bool {
        matches!(
            self,
            Call::Whoami
                | Call::Enquire { .. }
                | Call::FindByName { .. }
                | Call::RequestList(_)
                | Call::RequestShow { .. }
                | Call::Listing(_)
                | Call::Report(_)
                | Call::AuditVerify { .. }
                | Call::ParticipantList
                | Call::ParticipantShow { .. }
                | Call::SettingsShow
                | Call::HolidayList
                | Call::Groups
                | Call::History { .. }
                | Call::OutboxList
        )
    }
}

/// A time as replies carry it: RFC 3339 in Hong Kong time with its offset
/// (`2026-11-23T10:00:00+08:00`), the same instant the database keeps in UTC.
pub fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    crate::domain::hours::hong_kong(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A stored UTC time text as [`time`] shows it (text that is not a time is kept).
pub fn time_text(stored: &str) -> String {
    crate::storage::parse_ts(stored).map(time).unwrap_or_else(|_| stored.to_string())
}

// -- replies ------------------------------------------------------------------------------------

/// A screen as the seed's DMS pages show it: a heading (`This is an end-user profile`), the
/// fields under the seed's labels (a change shows each field's current and proposed value),
/// the Selected / Deleted User Groups, and a closing line (`THE ABOVE USER PROFILE IS CHANGED
/// SUCCESSFULLY`). `json` is what JSON and CSV print instead.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Screen {
    /// The seed's line atop a DMS screen: the function's code, the screen number and the time
    /// (`DUPC 01 15-Apr-23 12:56:56`, Hong Kong time; App D c b). Set as the screen is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The DMS function (`Delete User Profile`), above the heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    #[serde(default)]
    pub fields: Vec<ScreenField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<(Vec<String>, Vec<String>)>,
    /// The functions the profile will enable, for the seed's confirmation block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub functions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closing: Option<String>,
    #[serde(default)]
    pub json: Value,
}

/// One line of a screen: its key (machine name, which gives its label and format), the value
/// shown, a proposed value for a change, and a note beside it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScreenField {
    pub key: String,
    pub current: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One field of one subject of a request (a bulk request's field table).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiffRow {
    pub user_id: String,
    pub action: String,
    pub key: String,
    pub current: Value,
    pub proposed: Value,
}

/// The start of a list: its JSON member name, its columns (in row order), the columns a
/// table shows (all when None), whether the table heads them with the seed's profile labels,
/// and which columns hold JSON text (JSON Lines carry them parsed).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListHead {
    pub key: String,
    pub columns: Vec<String>,
    /// A line a table prints above itself (a report's title); the machine formats carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Vec<String>>,
    #[serde(default)]
    pub seed_labels: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_text: Vec<String>,
}

impl ListHead {
    pub fn new(key: &str, columns: &[&str]) -> ListHead {
        ListHead { key: key.into(), columns: columns.iter().map(|c| c.to_string()).collect(), ..Default::default() }
    }

    /// Show only these columns in a table (the machine formats keep every column).
    pub fn table(mut self, names: &[&str]) -> ListHead {
        self.table = Some(names.iter().map(|c| c.to_string()).collect());
        self
    }

    /// Head the table with the seed's profile labels.
    pub fn seed_labels(mut self) -> ListHead {
        self.seed_labels = true;
        self
    }

    pub fn json_text(mut self, names: &[&str]) -> ListHead {
        self.json_text = names.iter().map(|c| c.to_string()).collect();
        self
    }
}

/// The end of a list: JSON members beside it, and text under the table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListEnd {
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extras: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
}

/// A session just opened: the client writes its session file with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewSession {
    pub user_id: String,
    pub token: Token,
}

/// An attempt that waits for the person: its ID and the step to ask.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Asked {
    pub attempt: String,
    pub step: Step,
}

/// One part of a reply, in the order the client shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// A result object: the JSON the CLI prints for it.
    Object(Value),
    /// One of the seed's screens.
    Screen(Screen),
    /// A request's field table.
    Diff(Vec<DiffRow>),
    /// What a decided request did: the same rows, `current` the value it replaced and
    /// `proposed` the value it set (shown as before / after).
    Applied(Vec<DiffRow>),
    /// A list begins; its rows follow.
    List(ListHead),
    Row(Vec<Value>),
    /// The list ends.
    End(ListEnd),
    /// An empty line between two blocks of a table's output.
    Gap,
    /// What happens next, for people (stderr; not under JSON).
    Note(String),
    Warn(String),
    /// A line shown at the person's terminal between prompts.
    Say(String),
    /// A key URI shown as a QR code at the person's terminal between prompts.
    SayQr(String),
    /// A key URI shown as a QR code on stdout, for a person reading it.
    Qr(String),
    /// Rows done so far of a long operation (a progress bar on a terminal).
    Progress(u64),
    /// The client writes its session file.
    Session(NewSession),
    /// The client removes its session file.
    EndSession,
    /// The call waits for the person: answer with `flow/next`.
    Ask(Asked),
}

/// Where a reply goes, part by part (the terminal embedded, the socket served).
pub trait Sink {
    fn part(&mut self, p: Part) -> std::io::Result<()>;
}

/// A reply kept whole (tests; replies replayed by the server).
#[derive(Debug, Default)]
pub struct Collected(pub Vec<Part>);

impl Sink for Collected {
    fn part(&mut self, p: Part) -> std::io::Result<()> {
        self.0.push(p);
        Ok(())
    }
}

/// A failure as it travels: its stable code, the exit status of SPEC §8, the message and
/// every fault of a bulk file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireError {
    pub code: String,
    pub exit: i32,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<String>,
}

/// How the last line of a reply on the wire says the call ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Done, exit 0.
    Done,
    Error(WireError),
}

/// Who called, as the audit trail records it beside the dms user (SPEC §10 "Who acted").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "transport", rename_all = "lowercase")]
pub enum Via {
    /// The command opened the database itself, as this operating-system account.
    Embedded { uid: u32, user: Option<String> },
    /// Over the Unix socket, from this account (SO_PEERCRED).
    Unix { uid: u32, user: Option<String> },
    /// Over TLS, from this address.
    Tls { peer: String },
}

impl Via {
    /// The account this process runs as.
    pub fn this_process() -> Via {
        let uid = rustix::process::getuid().as_raw();
        Via::Embedded { uid, user: crate::files::user_name(uid) }
    }

    /// Is this the embedded command itself (not a client of a server)?
    pub fn embedded(&self) -> bool {
        matches!(self, Via::Embedded { .. })
    }

    /// A short form for log lines and tables: `unix:alice(1001)`, `tls:203.0.113.7:51234`.
    pub fn short(&self) -> String {
        match self {
            Via::Embedded { uid, user } => format!("embedded:{}({uid})", user.as_deref().unwrap_or("?")),
            Via::Unix { uid, user } => format!("unix:{}({uid})", user.as_deref().unwrap_or("?")),
            Via::Tls { peer } => format!("tls:{peer}"),
        }
    }

    /// The key an attempt or a replayed reply is bound to: the same account (or address) only.
    pub fn owner_key(&self) -> String {
        match self {
            Via::Embedded { uid, .. } => format!("embedded:{uid}"),
            Via::Unix { uid, .. } => format!("unix:{uid}"),
            // The port changes with each connection; the address does not.
            Via::Tls { peer } => {
                let host = peer.rsplit_once(':').map(|(h, _)| h).unwrap_or(peer);
                format!("tls:{host}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_named_by_its_path_and_round_trips() {
        let c = Call::RequestShow { id: 7, page: 2 };
        assert_eq!(c.op(), "request/show");
        let env = Envelope {
            call_id: "ab".into(),
            session: Some(Token::new(&[1, 2, 255])),
            now: None,
            seed: None,
            pause_at: None,
            format: Format::Json,
            interactive: false,
            stdin: false,
            answers: Answers::default(),
            call: c,
        };
        let text = serde_json::to_string(&env).expect("json");
        assert!(text.contains(r#""op":"request/show""#), "{text}");
        assert!(text.contains(r#""session":"0102ff""#), "{text}");
        let back: Envelope = serde_json::from_str(&text).expect("back");
        assert!(matches!(back.call, Call::RequestShow { id: 7, page: 2 }));
        assert_eq!(back.session.expect("token").bytes(), &[1, 2, 255]);
    }

    #[test]
    fn a_user_id_in_a_call_is_validated_as_it_is_read() {
        let bad = r#"{"call_id":"1","op":"user/enquire","user_id":"B01234;DROP"}"#;
        assert!(serde_json::from_str::<Envelope>(bad).is_err());
        let good = r#"{"call_id":"1","op":"user/enquire","user_id":"b0123401"}"#;
        let env: Envelope = serde_json::from_str(good).expect("valid");
        assert!(matches!(env.call, Call::Enquire { user_id } if user_id.as_str() == "B0123401"));
    }

    #[test]
    fn parts_travel_as_one_json_object_each() {
        for p in [
            Part::Object(serde_json::json!({"a": 1})),
            Part::Gap,
            Part::Row(vec![serde_json::json!("x")]),
            Part::End(ListEnd::default()),
        ] {
            let line = serde_json::to_string(&p).expect("json");
            assert!(!line.contains('\n'));
            let _: Part = serde_json::from_str(&line).expect("back");
        }
    }

    #[test]
    fn an_attempt_over_tls_belongs_to_the_address_not_the_port() {
        let a = Via::Tls { peer: "203.0.113.7:51234".into() };
        let b = Via::Tls { peer: "203.0.113.7:40000".into() };
        assert_eq!(a.owner_key(), b.owner_key());
        assert_ne!(Via::Unix { uid: 1, user: None }.owner_key(), Via::Unix { uid: 2, user: None }.owner_key());
    }
}
