//! A user profile (seed 4.3, Appendix A/D) with typed fields, and an account: the profile with
//! its credential. What the edge parses is what these carry; strings appear only in SQL and
//! output.

use crate::domain::credentials::Credential;
use crate::domain::profile::{AccessChannel, Cents, Functions, Groups, UserStatus};
use crate::domain::role::Role;
use crate::domain::user_id::{ParticipantKey, UserId};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// A smartcard of the legacy era (SPEC §3): its serial number, certificate expiry (Hong Kong
/// time, as the seed shows it) and the argon2id PHC of its PIN (absent for a card whose PIN
/// the migration did not carry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smartcard {
    pub srn: String,
    pub cert_expiry: NaiveDateTime,
    /// The holder's own PIN (argon2id), once chosen.
    pub pin_phc: Option<String>,
    /// A one-time initial PIN was mailed to the holder and not yet replaced by its own
    /// (`domain::smartcard`); read from its own table, never written with the profile.
    pub initial_pin: bool,
}

impl Smartcard {
    /// Can the card sign in at all: a PIN of the holder's, or an initial one to choose it with.
    pub fn has_pin(&self) -> bool {
        self.pin_phc.is_some() || self.initial_pin
    }
}

/// A user profile as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    pub user_id: UserId,
    /// None for the exchange's own (INTERNAL) accounts: operators and auditors.
    pub participant: Option<ParticipantKey>,
    pub role: Role,
    pub status: UserStatus,
    pub surname: String,
    pub other_names: String,
    pub email: Option<String>,
    pub enable_from: Option<NaiveDate>,
    pub disable_after: Option<NaiveDate>,
    pub channel: AccessChannel,
    pub limit: Cents,
    pub groups: Groups,
    /// The terminal functions it enables (seed App A f).
    pub functions: Functions,
    pub smartcard: Option<Smartcard>,
    pub created_at: DateTime<Utc>,
    /// Bumped by every change, so a request made against an older version is stale.
    pub version: i64,
}

impl UserProfile {
    /// A new, enabled profile on the terminal channel with no groups, limit or smartcard;
    /// callers set the rest with struct-update syntax.
    pub fn new(
        user_id: UserId,
        participant: Option<ParticipantKey>,
        role: Role,
        surname: &str,
        other_names: &str,
        email: Option<&str>,
        now: DateTime<Utc>,
    ) -> UserProfile {
        UserProfile {
            user_id,
            participant,
            role,
            status: UserStatus::Enabled,
            surname: surname.to_string(),
            other_names: other_names.to_string(),
            email: email.map(str::to_string),
            enable_from: None,
            disable_after: None,
            channel: AccessChannel::Cst,
            limit: Cents(0),
            groups: Groups::default(),
            functions: Functions::default(),
            smartcard: None,
            created_at: now,
            version: 1,
        }
    }

    pub fn enabled(&self) -> bool {
        self.status == UserStatus::Enabled
    }

    /// Enabled, and within its Enable From / Disable After dates on `today` (a Hong Kong date):
    /// the profile can sign in that day, as far as its fields say.
    pub fn active_on(&self, today: NaiveDate) -> bool {
        self.enabled() && crate::domain::profile::within_dates(self.enable_from, self.disable_after, today)
    }

    pub fn participant_id(&self) -> Option<&str> {
        self.participant.as_ref().map(|p| p.id())
    }

    /// The seed's "User name": surname then other names, as its confirmation screen shows it.
    pub fn user_name(&self) -> String {
        format!("{} {}", self.surname, self.other_names)
    }
}

/// A profile with its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub profile: UserProfile,
    pub cred: Credential,
}

impl Account {
    pub fn id(&self) -> &UserId {
        &self.profile.user_id
    }

    pub fn role(&self) -> Role {
        self.profile.role
    }

    pub fn participant(&self) -> Option<&ParticipantKey> {
        self.profile.participant.as_ref()
    }
}
