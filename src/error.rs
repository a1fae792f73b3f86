//! The one error type at the edge and the one place that decides exit codes (SPEC §8).
//!
//! Lower layers return `thiserror` errors of their own or `anyhow` errors; anything that should
//! reach the user with a particular exit code is turned into a [`DmsError`] of the right
//! [`Kind`]. Everything else exits 1.

use std::fmt;

/// What went wrong, as far as a script needs to know: each kind is one exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad command line, or a secret was needed and none could be read (exit 2).
    Usage,
    /// Wrong password, OTP or authorisation code; not signed in (exit 3).
    Auth,
    /// Account locked, disabled, expired, outside its dates or service hours (exit 4).
    Locked,
    /// Role, maker-checker rule or DA minimum forbids it (exit 5).
    NotPermitted,
    /// Input that does not meet a rule (exit 6).
    Invalid,
    /// Stale or decided request, quota full, ID taken, OTP requested too soon (exit 7).
    Conflict,
    /// The audit trail does not verify: a row edited, forged, deleted or reordered, the trail
    /// cut short of its checkpoint, emptied or dropped (exit 8). Its own code, so a script
    /// watching the trail tells tampering from a check that could not run (exit 1).
    Integrity,
    /// The server (SPEC §10) could not be reached or stopped answering (exit 9).
    Unreachable,
    /// Anything else (exit 1).
    Other,
}

impl Kind {
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Other => 1,
            Kind::Usage => 2,
            Kind::Auth => 3,
            Kind::Locked => 4,
            Kind::NotPermitted => 5,
            Kind::Invalid => 6,
            Kind::Conflict => 7,
            Kind::Integrity => 8,
            Kind::Unreachable => 9,
        }
    }

    /// The stable `code` of the JSON error object.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Other => "internal",
            Kind::Usage => "usage",
            Kind::Auth => "authentication_failed",
            Kind::Locked => "account_unavailable",
            Kind::NotPermitted => "not_permitted",
            Kind::Invalid => "invalid_input",
            Kind::Conflict => "conflict",
            Kind::Integrity => "integrity",
            Kind::Unreachable => "unreachable",
        }
    }

    /// The kind of a stable `code` (one a server sent).
    pub fn from_code(code: &str) -> Kind {
        [
            Kind::Usage,
            Kind::Auth,
            Kind::Locked,
            Kind::NotPermitted,
            Kind::Invalid,
            Kind::Conflict,
            Kind::Integrity,
            Kind::Unreachable,
        ]
        .into_iter()
        .find(|k| k.code() == code)
        .unwrap_or(Kind::Other)
    }
}

/// An error meant for the user: a kind (exit code) and a one-line message.
#[derive(Debug, Clone)]
pub struct DmsError {
    pub kind: Kind,
    pub message: String,
    /// The transaction recorded what happened (a failed attempt, a lock, an ended session):
    /// commit it, then report the error. Other errors roll their transaction back.
    pub recorded: bool,
    /// Every fault found, when there were several (a bulk file's rows): the message names the
    /// first and how many; these list them all (`line 3: ...`).
    pub faults: Vec<String>,
}

impl fmt::Display for DmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DmsError {}

impl DmsError {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        DmsError { kind, message: message.into(), recorded: false, faults: Vec::new() }
    }

    /// Several faults in one report: the first one's kind, a message that names the first and
    /// how many there are, and all of them.
    /// `total` counts faults beyond those listed.
    pub fn several(what: &str, faults: Vec<(Kind, String)>, total: usize) -> Self {
        let kind = faults.first().map_or(Kind::Invalid, |f| f.0);
        let first = faults.first().map(|f| f.1.clone()).unwrap_or_default();
        let message = match total.max(faults.len()) {
            1 => format!("{what}: {first}"),
            n => format!("{what}: {n} faults, nothing was changed; the first: {first}"),
        };
        DmsError { kind, message, recorded: false, faults: faults.into_iter().map(|f| f.1).collect() }
    }

    /// The same error with each fault rewritten (e.g. a user ID replaced by its file line).
    pub fn map_faults(mut self, f: impl Fn(&str) -> String) -> Self {
        self.faults = self.faults.iter().map(|x| f(x)).collect();
        self
    }

    /// Keep what the transaction recorded before reporting this error.
    pub fn recorded(mut self) -> Self {
        self.recorded = true;
        self
    }

    /// The same error, its message prefixed (e.g. with the request it is about).
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

/// Faults collected while checking many rows, so that all of them are reported at once.
#[derive(Default)]
pub struct Faults(Vec<(Kind, String)>);

impl Faults {
    /// Keep a refusal and go on; anything that is not a refusal (a database failure) stops.
    pub fn check(&mut self, r: anyhow::Result<()>) -> anyhow::Result<()> {
        if let Err(e) = r {
            match classify(&e) {
                (Kind::Other, _) => return Err(e),
                (kind, message) => self.0.push((kind, message)),
            }
        }
        Ok(())
    }

    /// Every fault kept, as one error about `what`.
    pub fn finish(self, what: &str) -> Result<(), DmsError> {
        match self.0.len() {
            0 => Ok(()),
            n => Err(DmsError::several(what, self.0, n)),
        }
    }
}

/// Every fault of an error that found several (empty otherwise).
pub fn faults(err: &anyhow::Error) -> &[String] {
    err.downcast_ref::<DmsError>().map(|e| e.faults.as_slice()).unwrap_or_default()
}

/// Must the transaction that returned this error be committed before it is reported?
pub fn is_recorded(err: &anyhow::Error) -> bool {
    err.downcast_ref::<DmsError>().is_some_and(|e| e.recorded)
}

/// A refusal of the account gate: exit 4 when the account cannot act now (locked, disabled,
/// dates, hours, expired), 5 when the method or timeline does not permit it.
impl From<crate::domain::gate::Refusal> for DmsError {
    fn from(r: crate::domain::gate::Refusal) -> Self {
        let kind = if r.is_unavailable() { Kind::Locked } else { Kind::NotPermitted };
        DmsError::new(kind, r.to_string())
    }
}

/// A smartcard that may not be issued or reset is not permitted (exit 5).
impl From<crate::domain::smartcard::Refusal> for DmsError {
    fn from(r: crate::domain::smartcard::Refusal) -> Self {
        not_permitted(r.to_string())
    }
}

/// A number outside its flag's range is invalid input (exit 6).
impl From<crate::domain::bounds::OutOfRange> for DmsError {
    fn from(e: crate::domain::bounds::OutOfRange) -> Self {
        invalid(e.to_string())
    }
}

/// A maker-checker refusal: the quota is a conflict (DA4 can lift it), the rest are not
/// permitted.
impl From<crate::domain::maker_checker::Refusal> for DmsError {
    fn from(r: crate::domain::maker_checker::Refusal) -> Self {
        let kind = if r.is_conflict() { Kind::Conflict } else { Kind::NotPermitted };
        DmsError::new(kind, r.to_string())
    }
}

/// Shorthands: `Err(usage("..."))?`.
pub fn usage(m: impl Into<String>) -> DmsError {
    DmsError::new(Kind::Usage, m)
}
pub fn auth(m: impl Into<String>) -> DmsError {
    DmsError::new(Kind::Auth, m)
}
pub fn locked(m: impl Into<String>) -> DmsError {
    DmsError::new(Kind::Locked, m)
}
pub fn not_permitted(m: impl Into<String>) -> DmsError {
    DmsError::new(Kind::NotPermitted, m)
}
pub fn invalid(m: impl Into<String>) -> DmsError {
    DmsError::new(Kind::Invalid, m)
}
pub fn conflict(m: impl Into<String>) -> DmsError {
    DmsError::new(Kind::Conflict, m)
}

/// Classify any error that reached `main`.
pub fn classify(err: &anyhow::Error) -> (Kind, String) {
    if let Some(e) = err.downcast_ref::<DmsError>() {
        return (e.kind, e.message.clone());
    }
    if let Some(e) = err.downcast_ref::<clap::Error>() {
        return (Kind::Usage, e.to_string());
    }
    // Domain validation errors are all "invalid input".
    if err.downcast_ref::<crate::domain::profile::ProfileError>().is_some()
        || err.downcast_ref::<crate::domain::user_id::UserIdError>().is_some()
        || err.downcast_ref::<crate::domain::password_policy::PolicyViolation>().is_some()
        || err.downcast_ref::<crate::domain::credentials::Refused>().is_some()
    {
        return (Kind::Invalid, format!("{err:#}"));
    }
    if let Some(rusqlite::Error::SqliteFailure(f, _)) = err.downcast_ref::<rusqlite::Error>() {
        if f.code == rusqlite::ErrorCode::DatabaseBusy || f.code == rusqlite::ErrorCode::DatabaseLocked {
            return (Kind::Conflict, "the database is busy; try again".into());
        }
    }
    (Kind::Other, format!("{err:#}"))
}

/// A closed stdout (`dms listing | head`) is not an error: exit quietly. The CSV writer's
/// failure arrives wrapped (an `io::Error` of kind Other around a `csv::Error` around the
/// broken pipe), so each error's own sources are looked through too.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| io_broken_pipe(e, 0))
}

fn io_broken_pipe(e: &(dyn std::error::Error + 'static), depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        if io.kind() == std::io::ErrorKind::BrokenPipe {
            return true;
        }
        if let Some(inner) = io.get_ref() {
            return io_broken_pipe(inner, depth + 1);
        }
    }
    if let Some(csv::ErrorKind::Io(io)) = e.downcast_ref::<csv::Error>().map(csv::Error::kind) {
        return io.kind() == std::io::ErrorKind::BrokenPipe;
    }
    e.source().is_some_and(|s| io_broken_pipe(s, depth + 1))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_broken_pipe_is_found_inside_the_csv_writers_error() {
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let csv_err = csv::Error::from(pipe);
        let wrapped: std::io::Error = csv_err.into();
        assert!(super::is_broken_pipe(&anyhow::Error::from(wrapped)));
        let other = std::io::Error::other("disk full");
        assert!(!super::is_broken_pipe(&anyhow::Error::from(other)));
    }

    use super::*;

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(Kind::Other.exit_code(), 1);
        assert_eq!(Kind::Usage.exit_code(), 2);
        assert_eq!(Kind::Auth.exit_code(), 3);
        assert_eq!(Kind::Locked.exit_code(), 4);
        assert_eq!(Kind::NotPermitted.exit_code(), 5);
        assert_eq!(Kind::Invalid.exit_code(), 6);
        assert_eq!(Kind::Conflict.exit_code(), 7);
        assert_eq!(Kind::Integrity.exit_code(), 8);
        assert_eq!(Kind::Unreachable.exit_code(), 9);
        for k in [Kind::Usage, Kind::Auth, Kind::Conflict, Kind::Unreachable, Kind::Other] {
            assert_eq!(Kind::from_code(k.code()), k, "a code travels and comes back as its kind");
        }
    }

    #[test]
    fn a_dms_error_keeps_its_kind_through_anyhow() {
        let e: anyhow::Error = conflict("quota full").into();
        assert_eq!(classify(&e), (Kind::Conflict, "quota full".to_string()));
        let e = anyhow::anyhow!("disk on fire");
        assert_eq!(classify(&e).0, Kind::Other);
    }
}
