//! Clearing houses, participant IDs and user IDs (SPEC §1): parsing, the ID formats of each
//! clearing house, telling a business user from a Delegated Administrator (DA), and the
//! deterministic **Generate User ID** / DA-ID allocation orders.
//!
//! Everything here is pure: whether an ID is already in use (or retired, since IDs are never
//! reused) is asked through a `taken` callback that storage supplies.

use std::fmt;
use std::str::FromStr;

/// The first exchange operator, created by `dms init --operator-email`.
pub const FIRST_OPERATOR_ID: &str = "HKEXOP01";

/// Exchange operator IDs are this prefix plus two digits. A participant may therefore never be
/// registered as `HKEXOP`, or its users would collide with operators.
pub const OPERATOR_PREFIX: &str = "HKEXOP";

/// Length of every user ID and DA ID.
pub const USER_ID_LEN: usize = 8;

/// Order in which custom characters are tried when generating IDs.
const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// First character of a DA suffix; the second is `1`-`9`.
const DA_LETTERS: [u8; 3] = [b'X', b'Y', b'Z'];

/// The user ID digits of each house that puts one after the participant ID, for **generating**
/// IDs. One firm is often a participant of both HKCC and SEOCH under the same customer code
/// (SPEC §1), so the two houses split the seed's `1/2/3/4` when dms picks an ID: HKCC takes 1
/// and 3 (its example `HKABC101`), SEOCH 2 and 4 (its example `HKABC201`), and generated IDs
/// never meet. The IDs that exist already stay as they are (seed §3.2 "The User ID will remain
/// unchanged"): any of [`HK_DIGITS`] is a valid digit, and ops refuses only an ID that lies in
/// the split of the code's other registration ([`generating_house`]).
const HKCC_DIGITS: &[u8] = b"13";
const SEOCH_DIGITS: &[u8] = b"24";
/// The seed's user ID digits of an HKCC or SEOCH user ID (`HK` + code + `1/2/3/4` + 2).
const HK_DIGITS: &[u8] = b"1234";

/// Errors from parsing or checking IDs. Messages echo the offending value (IDs are not
/// secret), shortened and escaped so odd input cannot garble a terminal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserIdError {
    #[error("clearing house {value}: must be one of hkscc-cp, hkscc-db, hkcc, seoch")]
    UnknownClearingHouse { value: String },
    #[error("participant ID {value}: {rule}")]
    InvalidParticipantId { value: String, rule: String },
    #[error("user ID {value}: {rule}")]
    InvalidUserId { value: String, rule: String },
    #[error("user ID {id}: must start with participant ID {participant}")]
    WrongParticipant { id: String, participant: String },
    #[error("participant ID {participant}: is not a {house} participant ID ({rule})")]
    ParticipantHouseMismatch { participant: String, house: &'static str, rule: &'static str },
    #[error("user ID {id}: character {position} must be 1, 2, 3 or 4 (the {house} user ID digit)")]
    BadHkDigit { id: String, position: usize, house: &'static str },
    #[error(
        "user ID {id}: {participant} is also registered with {other}, whose user IDs have the digits {other_digits}; {participant}'s {house} user IDs have {digits}"
    )]
    OtherHousesDigit {
        id: String,
        participant: String,
        house: &'static str,
        digits: &'static str,
        other: &'static str,
        other_digits: &'static str,
    },
    #[error("user ID {id}: suffix {suffix} is reserved for Delegated Administrators (X/Y/Z followed by 1-9)")]
    ReservedForDa { id: String, suffix: String },
    #[error("DA ID {id}: must end in X, Y or Z followed by 1-9 (got {suffix})")]
    NotDaId { id: String, suffix: String },
}

/// The clearing house (and participant type) a participant belongs to; it fixes the ID formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClearingHouse {
    /// HKSCC Clearing Participant.
    HkscCp,
    /// HKSCC Designated Bank.
    HkscDb,
    /// HKCC Clearing Participant.
    Hkcc,
    /// SEOCH Clearing Participant.
    Seoch,
}

impl ClearingHouse {
    /// Every clearing house, in the order the CLI lists them.
    pub const ALL: [ClearingHouse; 4] =
        [ClearingHouse::HkscCp, ClearingHouse::HkscDb, ClearingHouse::Hkcc, ClearingHouse::Seoch];

    /// Parses the CLI / CSV name (`hkscc-cp`, `hkscc-db`, `hkcc`, `seoch`), case-insensitive.
    pub fn parse(s: &str) -> Result<Self, UserIdError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|h| h.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UserIdError::UnknownClearingHouse { value: quoted(s) })
    }

    /// The CLI / storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClearingHouse::HkscCp => "hkscc-cp",
            ClearingHouse::HkscDb => "hkscc-db",
            ClearingHouse::Hkcc => "hkcc",
            ClearingHouse::Seoch => "seoch",
        }
    }

    /// The name a person reads in the seed's tables.
    pub fn label(self) -> &'static str {
        match self {
            ClearingHouse::HkscCp => "HKSCC CP",
            ClearingHouse::HkscDb => "HKSCC DB",
            ClearingHouse::Hkcc => "HKCC CP",
            ClearingHouse::Seoch => "SEOCH CP",
        }
    }

    /// The profile's "Clearing House Options" value (SPEC §2).
    pub fn clearing_house_option(self) -> &'static str {
        if self.is_hkscc() {
            "Cash"
        } else {
            "Derivatives"
        }
    }

    /// HKSCC participants have 6-character IDs; HKCC and SEOCH ones are `HK` + 3 characters
    /// and put a user ID digit (HKCC 1 or 3, SEOCH 2 or 4) before the custom part of every user ID.
    fn is_hkscc(self) -> bool {
        matches!(self, ClearingHouse::HkscCp | ClearingHouse::HkscDb)
    }

    fn participant_len(self) -> usize {
        if self.is_hkscc() {
            6
        } else {
            5
        }
    }

    /// The user ID digits this house puts after the participant ID (none for HKSCC).
    fn digits(self) -> &'static [u8] {
        match self {
            ClearingHouse::HkscCp | ClearingHouse::HkscDb => &[],
            ClearingHouse::Hkcc => HKCC_DIGITS,
            ClearingHouse::Seoch => SEOCH_DIGITS,
        }
    }

    /// The digits of its generated IDs as an error says them.
    pub fn digits_text(self) -> &'static str {
        match self {
            ClearingHouse::Hkcc => "1 and 3",
            _ => "2 and 4",
        }
    }

    /// The same, as a choice.
    fn digits_choice(self) -> &'static str {
        match self {
            ClearingHouse::Hkcc => "1 or 3",
            _ => "2 or 4",
        }
    }

    fn participant_rule(self) -> &'static str {
        if self.is_hkscc() {
            "must be 6 characters A-Z 0-9"
        } else {
            "must be HK followed by 3 characters A-Z 0-9"
        }
    }
}

impl FromStr for ClearingHouse {
    type Err = UserIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ClearingHouse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A participant (organisation) ID, valid for the clearing house it was parsed for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(String);

impl ParticipantId {
    /// Trims and upper-cases `s`, then checks the shape for `house`: 6 characters `[A-Z0-9]`
    /// for HKSCC CP/DB, `HK` + 3 characters `[A-Z0-9]` for HKCC and SEOCH.
    pub fn parse(s: &str, house: ClearingHouse) -> Result<Self, UserIdError> {
        let invalid = |rule: String| UserIdError::InvalidParticipantId { value: quoted(s), rule };
        let id = normalise(s).map_err(invalid)?;
        if id.len() != house.participant_len() {
            return Err(invalid(format!(
                "{} ({} participant, got {} characters)",
                house.participant_rule(),
                house.label(),
                id.len()
            )));
        }
        if !house.is_hkscc() && !id.starts_with("HK") {
            return Err(invalid(format!("{} ({} participant)", house.participant_rule(), house.label())));
        }
        if id == OPERATOR_PREFIX {
            return Err(invalid("is reserved for exchange operator IDs (HKEXOP + 2 digits)".to_string()));
        }
        Ok(ParticipantId(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Re-checks the shape against `house`: a `ParticipantId` does not carry its house, so
    /// functions taking both must not trust that they match.
    fn check_house(&self, house: ClearingHouse) -> Result<(), UserIdError> {
        let ok = self.0.len() == house.participant_len() && (house.is_hkscc() || self.0.starts_with("HK"));
        if ok {
            Ok(())
        } else {
            Err(UserIdError::ParticipantHouseMismatch {
                participant: quoted(&self.0),
                house: house.label(),
                rule: house.participant_rule(),
            })
        }
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A syntactically valid user ID: exactly 8 characters `[A-Z0-9]`. Whether it belongs to a
/// participant, and as what, is [`classify`]'s job.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    /// Trims and upper-cases `s`; it must then be exactly 8 ASCII letters or digits.
    pub fn parse(s: &str) -> Result<Self, UserIdError> {
        let invalid = |rule: String| UserIdError::InvalidUserId { value: quoted(s), rule };
        let id = normalise(s).map_err(invalid)?;
        if id.len() != USER_ID_LEN {
            return Err(invalid(format!("must be 8 characters A-Z 0-9 (got {})", id.len())));
        }
        Ok(UserId(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for UserId {
    type Err = UserIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for ClearingHouse {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ClearingHouse {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        ClearingHouse::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for UserId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for UserId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        UserId::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl PartialEq<str> for UserId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for UserId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A participant registration: its ID and clearing house. One customer code can be registered
/// with both HKCC and SEOCH, so the ID alone does not always name one participant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantKey {
    pub id: ParticipantId,
    pub house: ClearingHouse,
}

impl ParticipantKey {
    pub fn parse(id: &str, house: ClearingHouse) -> Result<Self, UserIdError> {
        Ok(ParticipantKey { id: ParticipantId::parse(id, house)?, house })
    }

    pub fn id(&self) -> &str {
        self.id.as_str()
    }
}

impl fmt::Display for ParticipantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.house {
            ClearingHouse::Hkcc | ClearingHouse::Seoch => write!(f, "{} ({})", self.id, self.house.label()),
            _ => f.write_str(self.id.as_str()),
        }
    }
}

/// What a participant's user ID denotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdKind {
    BusinessUser,
    DelegatedAdministrator,
}

/// Tells whether `id` is a business-user ID or a DA ID of `participant` under `house`'s format.
pub fn classify(id: &UserId, participant: &ParticipantId, house: ClearingHouse) -> Result<IdKind, UserIdError> {
    participant.check_house(house)?;
    let rest = id.as_str().strip_prefix(participant.as_str()).ok_or_else(|| UserIdError::WrongParticipant {
        id: quoted(id.as_str()),
        participant: quoted(participant.as_str()),
    })?;
    let custom = if house.is_hkscc() {
        rest
    } else {
        let bytes = rest.as_bytes();
        if !bytes.first().is_some_and(|b| HK_DIGITS.contains(b)) {
            return Err(UserIdError::BadHkDigit {
                id: quoted(id.as_str()),
                position: participant.as_str().len() + 1,
                house: house.label(),
            });
        }
        &rest[1..]
    };
    if is_da_suffix(custom.as_bytes()) {
        Ok(IdKind::DelegatedAdministrator)
    } else {
        Ok(IdKind::BusinessUser)
    }
}

/// The house whose **generated** IDs carry this HKCC/SEOCH user ID's digit (1/3 HKCC, 2/4
/// SEOCH); `None` for an HKSCC or operator ID.
pub fn generating_house(id: &UserId) -> Option<ClearingHouse> {
    let b = id.as_str().as_bytes();
    if !id.as_str().starts_with("HK") || is_operator_id(id) {
        return None;
    }
    [ClearingHouse::Hkcc, ClearingHouse::Seoch].into_iter().find(|h| h.digits().contains(&b[5]))
}

/// Where `participant`'s code is registered with both HKCC and SEOCH, a new ID of `house` must
/// lie in `house`'s half of the digits, so that the two registrations never meet (SPEC §1).
/// Called only when the other registration exists; an existing ID migrates as it is.
pub fn check_beside_other_house(
    id: &UserId,
    participant: &ParticipantId,
    house: ClearingHouse,
) -> Result<(), UserIdError> {
    match generating_house(id) {
        Some(h) if h != house => Err(UserIdError::OtherHousesDigit {
            id: quoted(id.as_str()),
            participant: participant.as_str().to_string(),
            house: house.label(),
            digits: house.digits_choice(),
            other: h.label(),
            other_digits: h.digits_text(),
        }),
        _ => Ok(()),
    }
}

/// Ok only when `id` is a valid business-user ID of `participant`.
pub fn check_business_user_id(
    id: &UserId,
    participant: &ParticipantId,
    house: ClearingHouse,
) -> Result<(), UserIdError> {
    match classify(id, participant, house)? {
        IdKind::BusinessUser => Ok(()),
        IdKind::DelegatedAdministrator => {
            Err(UserIdError::ReservedForDa { id: quoted(id.as_str()), suffix: quoted(&id.as_str()[USER_ID_LEN - 2..]) })
        }
    }
}

/// Ok only when `id` is a valid DA ID of `participant` (DA3 and the smartcard-era import).
pub fn check_da_id(id: &UserId, participant: &ParticipantId, house: ClearingHouse) -> Result<(), UserIdError> {
    match classify(id, participant, house)? {
        IdKind::DelegatedAdministrator => Ok(()),
        IdKind::BusinessUser => {
            Err(UserIdError::NotDaId { id: quoted(id.as_str()), suffix: quoted(&id.as_str()[USER_ID_LEN - 2..]) })
        }
    }
}

/// How many business-user IDs one participant of `house` can ever have: 36×36 custom pairs
/// less the 27 DA-looking ones, times the house's user ID digits for HKCC/SEOCH.
pub fn business_user_capacity(house: ClearingHouse) -> usize {
    let per_digit = ALPHABET.len() * ALPHABET.len() - DA_LETTERS.len() * 9;
    per_digit * house.digits().len().max(1)
}

/// How many DA IDs one participant of `house` can ever have.
pub fn da_capacity(house: ClearingHouse) -> usize {
    DA_LETTERS.len() * 9 * house.digits().len().max(1)
}

/// **Generate User ID**: the first business-user ID of `participant` for which `taken` is
/// false (taken = in use or retired). The order is [`business_user_id_candidates`].
///
/// Returns `None` when the ID space is full, or when `participant` does not have `house`'s
/// shape (no ID of it could be valid).
pub fn next_business_user_id(
    participant: &ParticipantId,
    house: ClearingHouse,
    taken: &dyn Fn(&str) -> bool,
) -> Option<UserId> {
    business_user_id_candidates(participant, house).find(|id| !taken(id.as_str()))
}

/// Every business-user ID `participant` can have, in generation order: the two custom
/// characters run over `0-9A-Z` × `0-9A-Z` from `01`, with `00` last (so the first user is
/// `…01`, as in the seed), skipping DA suffixes; for HKCC/SEOCH the house's user ID digit is the
/// outer loop. Bulk creation walks this once instead of calling
/// [`next_business_user_id`] per row. Empty when `participant` does not fit `house`.
pub fn business_user_id_candidates(
    participant: &ParticipantId,
    house: ClearingHouse,
) -> impl Iterator<Item = UserId> + '_ {
    // "00" is first lexicographically; skipping it and chaining it on keeps the rest in order.
    let pairs = || {
        ALPHABET
            .iter()
            .flat_map(|&a| ALPHABET.iter().map(move |&b| [a, b]))
            .filter(|p| !is_da_suffix(p))
            .skip(1)
            .chain(std::iter::once(*b"00"))
    };
    infixes(participant, house)
        .iter()
        .flat_map(move |&infix| pairs().map(move |pair| build_id(participant, infix, pair)))
}

/// The first DA ID of `participant` for which `taken` is false: `X1`…`X9`, `Y1`…`Y9`,
/// `Z1`…`Z9`; for HKCC/SEOCH the house's user ID digit is the outer loop. `None` when full or when
/// `participant` does not have `house`'s shape.
pub fn next_da_id(participant: &ParticipantId, house: ClearingHouse, taken: &dyn Fn(&str) -> bool) -> Option<UserId> {
    infixes(participant, house)
        .iter()
        .flat_map(|&infix| {
            DA_LETTERS.iter().flat_map(move |&l| (b'1'..=b'9').map(move |d| build_id(participant, infix, [l, d])))
        })
        .find(|id| !taken(id.as_str()))
}

/// The characters between participant ID and custom pair: none for HKSCC, the house's user ID
/// digits for HKCC (1, 3) and SEOCH (2, 4), and no pass at all for a participant of the wrong
/// shape.
fn infixes(participant: &ParticipantId, house: ClearingHouse) -> &'static [Option<u8>] {
    if participant.check_house(house).is_err() {
        &[]
    } else {
        match house {
            ClearingHouse::HkscCp | ClearingHouse::HkscDb => &[None],
            ClearingHouse::Hkcc => &[Some(b'1'), Some(b'3')],
            ClearingHouse::Seoch => &[Some(b'2'), Some(b'4')],
        }
    }
}

fn build_id(participant: &ParticipantId, infix: Option<u8>, pair: [u8; 2]) -> UserId {
    let mut id = String::with_capacity(USER_ID_LEN);
    id.push_str(participant.as_str());
    if let Some(d) = infix {
        id.push(char::from(d));
    }
    id.push(char::from(pair[0]));
    id.push(char::from(pair[1]));
    UserId(id)
}

/// True for exchange operator IDs: `HKEXOP` + 2 digits.
pub fn is_operator_id(id: &UserId) -> bool {
    id.as_str()
        .strip_prefix(OPERATOR_PREFIX)
        .is_some_and(|rest| rest.len() == 2 && rest.bytes().all(|b| b.is_ascii_digit()))
}

/// Does this ID end like a DA ID (`[XYZ][1-9]`)? Used to answer for an ID that has no
/// account as its owner would be answered, without looking anything up.
pub fn looks_like_da(id: &UserId) -> bool {
    is_da_suffix(&id.as_str().as_bytes()[USER_ID_LEN - 2..])
}

/// `[XYZ][1-9]`, the DA suffix; business users' custom characters must never match it.
fn is_da_suffix(s: &[u8]) -> bool {
    matches!(s, [l, d] if DA_LETTERS.contains(l) && (b'1'..=b'9').contains(d))
}

/// Trims, checks every character is an ASCII letter or digit, upper-cases. The check comes
/// before upper-casing on purpose: Unicode upper-casing maps some non-ASCII letters to ASCII
/// (`ı` → `I`, `ß` → `SS`, `ﬀ` → `FF`), which would smuggle look-alikes into valid IDs.
fn normalise(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("is required".to_string());
    }
    if let Some(c) = t.chars().find(|c| !c.is_ascii_alphanumeric()) {
        let what =
            if c.is_ascii() { format!("{:?}", c) } else { format!("non-ASCII character U+{:04X}", u32::from(c)) };
        return Err(format!("only letters A-Z and digits 0-9 are allowed ({what} found)"));
    }
    Ok(t.to_ascii_uppercase())
}

/// The value as it appears in an error: quoted, escaped, cut to a readable length.
fn quoted(s: &str) -> String {
    const MAX: usize = 24;
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(MAX).collect();
    if chars.next().is_some() {
        format!("{head:?}…")
    } else {
        format!("{head:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashSet;

    const CP: ClearingHouse = ClearingHouse::HkscCp;
    const DB: ClearingHouse = ClearingHouse::HkscDb;
    const HKCC: ClearingHouse = ClearingHouse::Hkcc;
    const SEOCH: ClearingHouse = ClearingHouse::Seoch;

    fn uid(s: &str) -> UserId {
        UserId::parse(s).expect("test ID is valid")
    }

    fn pid(s: &str, h: ClearingHouse) -> ParticipantId {
        ParticipantId::parse(s, h).expect("test participant is valid")
    }

    fn none_taken(_: &str) -> bool {
        false
    }

    #[test]
    fn clearing_house_names_round_trip() {
        for h in ClearingHouse::ALL {
            assert_eq!(ClearingHouse::parse(h.as_str()), Ok(h));
            assert_eq!(h.to_string().parse::<ClearingHouse>(), Ok(h));
        }
        assert_eq!(ClearingHouse::parse("HKSCC-CP"), Ok(CP));
        assert_eq!(ClearingHouse::parse(" Hkscc-Db "), Ok(DB));
        assert_eq!(ClearingHouse::parse("SEOCH"), Ok(SEOCH));
        assert_eq!(ClearingHouse::parse("HkCc"), Ok(HKCC));
    }

    #[test]
    fn clearing_house_rejects_unknown() {
        let e = ClearingHouse::parse("hkscc").unwrap_err();
        assert_eq!(e.to_string(), "clearing house \"hkscc\": must be one of hkscc-cp, hkscc-db, hkcc, seoch");
        assert!(ClearingHouse::parse("").is_err());
        assert!(ClearingHouse::parse("hkscc_cp").is_err());
    }

    #[test]
    fn clearing_house_labels_and_options() {
        assert_eq!(CP.label(), "HKSCC CP");
        assert_eq!(DB.label(), "HKSCC DB");
        assert_eq!(HKCC.label(), "HKCC CP");
        assert_eq!(SEOCH.label(), "SEOCH CP");
        assert_eq!(CP.clearing_house_option(), "Cash");
        assert_eq!(DB.clearing_house_option(), "Cash");
        assert_eq!(HKCC.clearing_house_option(), "Derivatives");
        assert_eq!(SEOCH.clearing_house_option(), "Derivatives");
    }

    #[test]
    fn participant_ids_per_house() {
        assert_eq!(pid("B01234", CP).as_str(), "B01234");
        assert_eq!(pid(" bnk999 ", DB).as_str(), "BNK999");
        assert_eq!(pid("hkabc", HKCC).to_string(), "HKABC");
        assert_eq!(pid("HKABC", SEOCH).as_str(), "HKABC");
        // HKSCC needs 6, HKCC/SEOCH HK + 3.
        assert!(ParticipantId::parse("B0123", CP).is_err());
        assert!(ParticipantId::parse("B012345", CP).is_err());
        assert!(ParticipantId::parse("HKABCD", HKCC).is_err());
        assert!(ParticipantId::parse("XKABC", HKCC).is_err());
        assert!(ParticipantId::parse("XKABC", SEOCH).is_err());
        assert!(ParticipantId::parse("", CP).is_err());
        assert!(ParticipantId::parse("B0-234", CP).is_err());
    }

    #[test]
    fn participant_error_messages_name_the_rule() {
        let e = ParticipantId::parse("XKABC", HKCC).unwrap_err();
        assert_eq!(
            e.to_string(),
            "participant ID \"XKABC\": must be HK followed by 3 characters A-Z 0-9 (HKCC CP participant)"
        );
        let e = ParticipantId::parse("B0123", CP).unwrap_err();
        assert_eq!(
            e.to_string(),
            "participant ID \"B0123\": must be 6 characters A-Z 0-9 (HKSCC CP participant, got 5 characters)"
        );
    }

    #[test]
    fn operator_prefix_is_not_a_participant() {
        let e = ParticipantId::parse("hkexop", CP).unwrap_err();
        assert!(e.to_string().contains("reserved for exchange operator"), "{e}");
    }

    #[test]
    fn user_id_normalised() {
        assert_eq!(uid("b0123401").as_str(), "B0123401");
        assert_eq!(uid("  hkabc1x1\t").as_str(), "HKABC1X1");
        assert_eq!(uid("Bnk99901").to_string(), "BNK99901");
        assert_eq!("b01234x1".parse::<UserId>(), Ok(uid("B01234X1")));
    }

    #[test]
    fn user_id_length_rules() {
        let e = UserId::parse("B012340").unwrap_err();
        assert_eq!(e.to_string(), "user ID \"B012340\": must be 8 characters A-Z 0-9 (got 7)");
        assert!(UserId::parse("B01234011").is_err());
        let e = UserId::parse("   ").unwrap_err();
        assert_eq!(e.to_string(), "user ID \"   \": is required");
        let long = "A".repeat(10_000);
        let e = UserId::parse(&long).unwrap_err().to_string();
        assert!(e.len() < 120, "message stays short: {e}");
        assert!(e.contains("got 10000"), "{e}");
    }

    #[test]
    fn user_id_rejects_unicode_and_symbols() {
        let e = UserId::parse("B01234É1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "user ID \"B01234É1\": only letters A-Z and digits 0-9 are allowed (non-ASCII character U+00C9 found)"
        );
        // Upper-casing these would yield ASCII letters; they must be refused, not mapped.
        for s in ["b0123ı01", "b01234ß1", "b0123ﬀ1", "Ｂ0123401", "B0123401\u{200B}"] {
            let e = UserId::parse(s).unwrap_err();
            assert!(e.to_string().contains("non-ASCII"), "{s}: {e}");
        }
        for s in ["' OR 1=1", "B01234;1", "B0123-01", "B01 2301", "B01234_1"] {
            assert!(UserId::parse(s).is_err(), "{s}");
        }
        // Control characters are escaped in the message, not echoed raw.
        let e = UserId::parse("B012\u{1b}[2J").unwrap_err().to_string();
        assert!(!e.contains('\u{1b}'), "{e}");
        let e = UserId::parse("B0123\u{202E}01").unwrap_err().to_string();
        assert!(!e.contains('\u{202E}'), "{e}");
    }

    #[test]
    fn spec_examples_classify() {
        let cases = [
            ("B0123401", "B01234", CP, IdKind::BusinessUser),
            ("B01234X1", "B01234", CP, IdKind::DelegatedAdministrator),
            ("BNK99901", "BNK999", DB, IdKind::BusinessUser),
            ("BNK999X1", "BNK999", DB, IdKind::DelegatedAdministrator),
            ("HKABC101", "HKABC", HKCC, IdKind::BusinessUser),
            ("HKABC1X1", "HKABC", HKCC, IdKind::DelegatedAdministrator),
            ("HKABC201", "HKABC", SEOCH, IdKind::BusinessUser),
            ("HKABC2X1", "HKABC", SEOCH, IdKind::DelegatedAdministrator),
        ];
        for (id, p, h, kind) in cases {
            assert_eq!(classify(&uid(id), &pid(p, h), h), Ok(kind), "{id}");
            let expect_user = kind == IdKind::BusinessUser;
            assert_eq!(check_business_user_id(&uid(id), &pid(p, h), h).is_ok(), expect_user, "{id}");
            assert_eq!(check_da_id(&uid(id), &pid(p, h), h).is_ok(), !expect_user, "{id}");
        }
    }

    #[test]
    fn da_suffix_boundaries() {
        let p = pid("B01234", CP);
        for (suffix, kind) in [
            ("X1", IdKind::DelegatedAdministrator),
            ("Z9", IdKind::DelegatedAdministrator),
            ("Y5", IdKind::DelegatedAdministrator),
            ("X0", IdKind::BusinessUser),
            ("W1", IdKind::BusinessUser),
            ("XA", IdKind::BusinessUser),
            ("1X", IdKind::BusinessUser),
            ("00", IdKind::BusinessUser),
            ("ZZ", IdKind::BusinessUser),
        ] {
            let id = uid(&format!("B01234{suffix}"));
            assert_eq!(classify(&id, &p, CP), Ok(kind), "{suffix}");
        }
    }

    #[test]
    fn business_user_id_refuses_da_suffix() {
        let e = check_business_user_id(&uid("B01234Y7"), &pid("B01234", CP), CP).unwrap_err();
        assert_eq!(
            e.to_string(),
            "user ID \"B01234Y7\": suffix \"Y7\" is reserved for Delegated Administrators (X/Y/Z followed by 1-9)"
        );
        let e = check_business_user_id(&uid("HKABC3Z9"), &pid("HKABC", HKCC), HKCC).unwrap_err();
        assert!(matches!(e, UserIdError::ReservedForDa { .. }));
    }

    #[test]
    fn wrong_participant() {
        let e = classify(&uid("B0123501"), &pid("B01234", CP), CP).unwrap_err();
        assert_eq!(e.to_string(), "user ID \"B0123501\": must start with participant ID \"B01234\"");
        assert!(check_business_user_id(&uid("HKABD101"), &pid("HKABC", HKCC), HKCC).is_err());
    }

    #[test]
    fn an_hk_user_id_takes_any_of_the_seeds_four_digits() {
        // Seed 000 §3.2: "HK + Customer Code + 1/2/3/4 + 2 custom"; existing IDs stay unchanged.
        for house in [HKCC, SEOCH] {
            let p = pid("HKABC", house);
            for d in ['0', '5', '9', 'A', 'X'] {
                let e = classify(&uid(&format!("HKABC{d}01")), &p, house).unwrap_err();
                assert!(matches!(e, UserIdError::BadHkDigit { position: 6, .. }), "{d}");
            }
            for d in ['1', '2', '3', '4'] {
                assert_eq!(classify(&uid(&format!("HKABC{d}01")), &p, house), Ok(IdKind::BusinessUser));
                assert_eq!(classify(&uid(&format!("HKABC{d}X1")), &p, house), Ok(IdKind::DelegatedAdministrator));
            }
        }
        let e = classify(&uid("HKABC501"), &pid("HKABC", SEOCH), SEOCH).unwrap_err();
        assert_eq!(
            e.to_string(),
            "user ID \"HKABC501\": character 6 must be 1, 2, 3 or 4 (the SEOCH CP user ID digit)"
        );
    }

    #[test]
    fn beside_the_other_house_an_id_keeps_to_its_houses_half() {
        let p = pid("HKABC", HKCC);
        assert_eq!(generating_house(&uid("HKABC101")), Some(HKCC));
        assert_eq!(generating_house(&uid("HKABC3X1")), Some(HKCC));
        assert_eq!(generating_house(&uid("HKABC201")), Some(SEOCH));
        assert_eq!(generating_house(&uid("HKABC4Z9")), Some(SEOCH));
        assert_eq!(generating_house(&uid("B0123401")), None);
        assert_eq!(generating_house(&uid("HKEXOP01")), None);
        assert!(check_beside_other_house(&uid("HKABC301"), &p, HKCC).is_ok());
        let e = check_beside_other_house(&uid("HKABC201"), &p, HKCC).unwrap_err();
        assert_eq!(
            e.to_string(),
            "user ID \"HKABC201\": HKABC is also registered with SEOCH CP, whose user IDs have the digits 2 and 4; HKABC's HKCC CP user IDs have 1 or 3"
        );
    }

    #[test]
    fn the_seeds_four_example_ids_come_out_exactly() {
        let p = pid("HKABC", HKCC);
        assert_eq!(next_business_user_id(&p, HKCC, &none_taken), Some(uid("HKABC101")));
        assert_eq!(next_da_id(&p, HKCC, &none_taken), Some(uid("HKABC1X1")));
        assert_eq!(next_business_user_id(&p, SEOCH, &none_taken), Some(uid("HKABC201")));
        assert_eq!(next_da_id(&p, SEOCH, &none_taken), Some(uid("HKABC2X1")));
        // One firm in both houses: the two ID spaces never meet.
        let hkcc: std::collections::HashSet<_> = business_user_id_candidates(&p, HKCC).collect();
        assert!(business_user_id_candidates(&p, SEOCH).all(|id| !hkcc.contains(&id)));
    }

    #[test]
    fn participant_of_other_house_is_refused() {
        // A 5-character participant used with an HKSCC house, and vice versa.
        let hk = pid("HKABC", HKCC);
        let e = classify(&uid("HKABC101"), &hk, CP).unwrap_err();
        assert!(matches!(e, UserIdError::ParticipantHouseMismatch { .. }), "{e}");
        let b = pid("B01234", CP);
        assert!(classify(&uid("B0123401"), &b, SEOCH).is_err());
        assert_eq!(next_business_user_id(&b, HKCC, &none_taken), None);
        assert_eq!(next_da_id(&hk, DB, &none_taken), None);
    }

    #[test]
    fn operator_ids() {
        assert!(is_operator_id(&uid(FIRST_OPERATOR_ID)));
        assert!(is_operator_id(&uid("hkexop99")));
        assert!(!is_operator_id(&uid("HKEXOPA1")));
        assert!(!is_operator_id(&uid("HKEXOQ01")));
        assert!(!is_operator_id(&uid("B0123401")));
    }

    #[test]
    fn capacities() {
        assert_eq!(business_user_capacity(CP), 1269);
        assert_eq!(business_user_capacity(DB), 36 * 36 - 27);
        assert_eq!(business_user_capacity(HKCC), 2 * 1269);
        assert_eq!(business_user_capacity(SEOCH), 2538);
        assert_eq!(da_capacity(CP), 27);
        assert_eq!(da_capacity(SEOCH), 54);
    }

    #[test]
    fn first_generated_ids() {
        assert_eq!(next_business_user_id(&pid("B01234", CP), CP, &none_taken), Some(uid("B0123401")));
        assert_eq!(next_business_user_id(&pid("HKABC", HKCC), HKCC, &none_taken), Some(uid("HKABC101")));
        assert_eq!(next_da_id(&pid("B01234", CP), CP, &none_taken), Some(uid("B01234X1")));
        assert_eq!(next_da_id(&pid("HKABC", SEOCH), SEOCH, &none_taken), Some(uid("HKABC2X1")));
    }

    type Generator = fn(&ParticipantId, ClearingHouse, &dyn Fn(&str) -> bool) -> Option<UserId>;

    /// Drains the generator, marking each result taken, and returns the order it produced.
    fn drain(next: Generator, p: &ParticipantId, h: ClearingHouse) -> Vec<String> {
        let taken = RefCell::new(HashSet::new());
        let mut order = Vec::new();
        while let Some(id) = next(p, h, &|s| taken.borrow().contains(s)) {
            order.push(id.as_str().to_string());
            taken.borrow_mut().insert(id.as_str().to_string());
            assert!(order.len() <= 10_000, "generator must terminate");
        }
        order
    }

    #[test]
    fn hkscc_generation_order_and_exhaustion() {
        let p = pid("B01234", CP);
        let order = drain(next_business_user_id, &p, CP);
        assert_eq!(order.len(), business_user_capacity(CP));
        assert_eq!(&order[..3], ["B0123401", "B0123402", "B0123403"]);
        assert_eq!(order[8], "B0123409");
        assert_eq!(order[9], "B012340A");
        assert_eq!(order[34], "B012340Z");
        assert_eq!(order[35], "B0123410");
        assert_eq!(order.last().map(String::as_str), Some("B0123400"));
        assert_eq!(order[order.len() - 2], "B01234ZZ");
        // Every one is a business-user ID; none repeats; X0 stays, X1 never appears.
        let set: HashSet<_> = order.iter().collect();
        assert_eq!(set.len(), order.len());
        for id in &order {
            assert_eq!(check_business_user_id(&uid(id), &p, CP), Ok(()), "{id}");
        }
        let x0 = order.iter().position(|s| s == "B01234X0");
        let wz = order.iter().position(|s| s == "B01234WZ");
        let xa = order.iter().position(|s| s == "B01234XA");
        assert_eq!(x0, wz.map(|i| i + 1));
        assert_eq!(xa, x0.map(|i| i + 1), "X1..X9 are skipped");
    }

    #[test]
    fn hkcc_generation_digit_is_outer_loop() {
        let p = pid("HKABC", HKCC);
        // Walking the candidates is linear; draining next_business_user_id would be quadratic.
        let order: Vec<String> = business_user_id_candidates(&p, HKCC).map(|id| id.as_str().to_string()).collect();
        assert_eq!(order.len(), 2538);
        assert_eq!(order[0], "HKABC101");
        assert_eq!(order[1267], "HKABC1ZZ");
        assert_eq!(order[1268], "HKABC100");
        assert_eq!(order[1269], "HKABC301");
        assert_eq!(order.last().map(String::as_str), Some("HKABC300"));
        for id in &order {
            assert_eq!(check_business_user_id(&uid(id), &p, HKCC), Ok(()), "{id}");
        }
    }

    #[test]
    fn candidates_match_next_business_user_id() {
        let p = pid("B01234", CP);
        let drained = drain(next_business_user_id, &p, CP);
        let walked: Vec<String> = business_user_id_candidates(&p, CP).map(|id| id.as_str().to_string()).collect();
        assert_eq!(drained, walked);
        assert_eq!(business_user_id_candidates(&p, SEOCH).count(), 0);
    }

    #[test]
    fn generation_skips_taken_and_retired() {
        let p = pid("B01234", CP);
        let taken = |s: &str| ["B0123401", "B0123402", "B0123404"].contains(&s);
        assert_eq!(next_business_user_id(&p, CP, &taken), Some(uid("B0123403")));
        let taken = |s: &str| s != "B0123400";
        assert_eq!(next_business_user_id(&p, CP, &taken), Some(uid("B0123400")));
        let all = |_: &str| true;
        assert_eq!(next_business_user_id(&p, CP, &all), None);
        assert_eq!(next_da_id(&p, CP, &all), None);
        // SEOCH: digit 2 full moves on to digit 4.
        let hp = pid("HKABC", SEOCH);
        let taken = |s: &str| s.as_bytes()[5] == b'2';
        assert_eq!(next_business_user_id(&hp, SEOCH, &taken), Some(uid("HKABC401")));
        assert_eq!(next_da_id(&hp, SEOCH, &taken), Some(uid("HKABC4X1")));
    }

    #[test]
    fn da_generation_order_and_exhaustion() {
        let order = drain(next_da_id, &pid("BNK999", DB), DB);
        assert_eq!(order.len(), 27);
        assert_eq!(&order[..2], ["BNK999X1", "BNK999X2"]);
        assert_eq!(order[9], "BNK999Y1");
        assert_eq!(order[26], "BNK999Z9");
        let p = pid("HKABC", HKCC);
        let order = drain(next_da_id, &p, HKCC);
        assert_eq!(order.len(), 54);
        assert_eq!(order[26], "HKABC1Z9");
        assert_eq!(order[27], "HKABC3X1");
        assert_eq!(order[53], "HKABC3Z9");
        for id in &order {
            assert_eq!(check_da_id(&uid(id), &p, HKCC), Ok(()), "{id}");
        }
    }
}
