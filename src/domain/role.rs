//! Roles: business user, DA maker, DA checker (seed 4.1), and the exchange's own accounts.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A business user of a participant.
    User,
    /// Delegated Administrator, maker.
    Maker,
    /// Delegated Administrator, checker.
    Checker,
    /// The exchange operator ("HKEX").
    Operator,
    /// Read-only: listings, reports and the audit trail (beyond the seed).
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Maker => "maker",
            Role::Checker => "checker",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
        }
    }

    /// How the seed's screens name it.
    pub fn label(self) -> &'static str {
        match self {
            Role::User => "BUSINESS USER",
            Role::Maker => "DA MAKER",
            Role::Checker => "DA CHECKER",
            Role::Operator => "EXCHANGE OPERATOR",
            Role::Auditor => "AUDITOR",
        }
    }

    pub fn is_da(self) -> bool {
        matches!(self, Role::Maker | Role::Checker)
    }

    /// The exchange's own (INTERNAL) accounts.
    pub fn is_internal(self) -> bool {
        matches!(self, Role::Operator | Role::Auditor)
    }

    /// Which service hours bind this role when signing in (SPEC §3).
    pub fn audience(self) -> crate::domain::hours::Audience {
        use crate::domain::hours::Audience;
        match self {
            Role::User => Audience::Terminal,
            Role::Maker | Role::Checker | Role::Auditor => Audience::Dms,
            Role::Operator => Audience::Operator,
        }
    }

    /// Who can enable a disabled account of this role again (said in the "disabled" message):
    /// re-enabling is the fix, not a reset of the credentials.
    pub fn enabled_by(self) -> &'static str {
        match self {
            Role::User => {
                "a Delegated Administrator of your firm can enable it again (Change User Profile: User Status ENABLED)"
            }
            Role::Maker | Role::Checker => "your firm must submit eService DA3 (Enable DA) to the exchange",
            Role::Operator | Role::Auditor => "ask another exchange operator",
        }
    }

    /// Who can unlock a locked account of this role (said in the "account locked" message).
    pub fn unlocked_by(self) -> &'static str {
        match self {
            Role::User => "ask a Delegated Administrator of your firm to run Unlock/Reset OTP Device Registration",
            Role::Maker | Role::Checker => "your firm must submit eService DA3 (Unlock DA Account) to the exchange",
            Role::Operator | Role::Auditor => "ask another exchange operator to unlock it",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "user" => Ok(Role::User),
            "maker" => Ok(Role::Maker),
            "checker" => Ok(Role::Checker),
            "operator" => Ok(Role::Operator),
            "auditor" => Ok(Role::Auditor),
            other => Err(format!("role {other:?}: must be user, maker, checker, operator or auditor")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_classify() {
        for r in [Role::User, Role::Maker, Role::Checker, Role::Operator, Role::Auditor] {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert_eq!("MAKER".parse::<Role>(), Ok(Role::Maker));
        assert!("admin".parse::<Role>().is_err());
        assert!(Role::Maker.is_da() && Role::Checker.is_da() && !Role::User.is_da());
        assert!(
            Role::Checker.unlocked_by().contains("DA3") && Role::User.unlocked_by().contains("Delegated Administrator")
        );
    }
}
