//! User-profile field rules (SPEC §2): names, e-mail addresses, the transaction limit, user
//! groups, the Enable From / Disable After dates, access channel and user status.
//!
//! Each parser takes what a person or a CSV file typed and returns the one normalised form that
//! is stored, or an error naming the field and the rule it broke.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

/// Longest surname or other names, in characters (not bytes: CJK names are 3 bytes a char).
pub const NAME_MAX_CHARS: usize = 40;

/// Longest e-mail address (RFC 5321 path limit less the angle brackets).
pub const EMAIL_MAX_CHARS: usize = 254;

/// Longest local part (before `@`), RFC 5321.
pub const EMAIL_LOCAL_MAX_CHARS: usize = 64;

/// Highest transaction limit, in cents: HKD 9,999,999,999.99.
pub const LIMIT_MAX_CENTS: i64 = 999_999_999_999;

/// The seed's user group catalogue, in the seed's order; parsed groups come back in this order.
pub const GROUP_CATALOGUE: &[&str] = &[
    "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "51", "52", "54", "55", "A",
    "AA", "AB", "AC", "AD", "C", "CH", "D", "DV", "DX", "E", "F", "F1", "H", "I", "J", "K", "L", "M", "N", "NU", "NV",
    "O", "P", "PD", "PM", "Q", "R", "RA", "RB", "RD", "RU", "RX", "RY", "RZ", "SA", "SM", "ST", "WA", "WB", "WC", "WD",
    "WE", "WF", "WG",
];

/// Local parts (or `.`/`_`/`-`/`+`-separated words of one) that suggest a shared mailbox
/// rather than a person. 2FA sends one-time passwords to this address, so auditors are warned
/// about shared ones (seed section 9 checklist). Any local part containing `team` or `group`
/// counts too. A heuristic for a warning, never a reason to refuse an address.
pub const GROUP_LOCAL_PARTS: &[&str] =
    &["ops", "operations", "team", "group", "admin", "info", "settlement", "clearing", "support", "all", "dept"];

/// A profile field that broke its rule. Values are echoed (shortened and escaped) where that
/// helps find a bad CSV line; names are not echoed, only the offending character's code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("{field}: is required")]
    Required { field: &'static str },
    #[error("{field}: must be at most {max} characters (got {got})")]
    TooLong { field: &'static str, max: usize, got: usize },
    #[error("{field}: character {position} ({code}) is not allowed: {why}")]
    ForbiddenChar {
        field: &'static str,
        /// 1-based character position in the trimmed value.
        position: usize,
        /// `U+XXXX`.
        code: String,
        why: &'static str,
    },
    #[error("email {value}: {rule}")]
    Email { value: String, rule: &'static str },
    #[error("limit {value}: {rule}")]
    Limit { value: String, rule: &'static str },
    #[error("user groups: {code} is not in the user group catalogue{nearest} (`dms user groups` lists them all)")]
    UnknownGroup { code: String, nearest: String },
    #[error(
        "function {value}: not one of default, di_requirement, di, recall_request, isi, ati, cash_compensation, si, cash_prepayment (or none)"
    )]
    UnknownFunction { value: String },
    #[error("{field} {value}: must be a date like 2026-11-22, 22/11/26 or 22-Nov-26")]
    BadDate { field: &'static str, value: String },
    #[error("{field} {value}: is not a calendar date")]
    NotACalendarDate { field: &'static str, value: String },
    #[error("enable from ({enable_from}) must not be after disable after ({disable_after})")]
    DateWindow { enable_from: String, disable_after: String },
    #[error("access channel {value}: must be CST or PG")]
    AccessChannel { value: String },
    #[error("user status {value}: must be enabled or disabled")]
    UserStatus { value: String },
}

// ----------------------------------------------------------------------------------------------
// Names

/// A surname or other names: trimmed, required, at most 40 characters, printable.
///
/// Letters of any script, spaces, punctuation and symbols (emoji included) are accepted: the
/// seed does not restrict names, and storage binds parameters, so quotes are harmless.
/// Refused: control characters (Cc, so tabs and newlines), invisible format characters (Cf:
/// zero-width joiner and space, bidi overrides such as U+202E, BOM), line/paragraph separators
/// (Zl/Zp), private-use code points, non-characters and U+FFFD (a sign of mis-decoded input).
/// Refusing Cf means emoji joined with ZWJ are refused too; single emoji pass.
/// Nothing is collapsed or case-folded: the name is stored as typed, less outer whitespace.
pub fn person_name(field: &'static str, s: &str) -> Result<String, ProfileError> {
    free_text(field, s, NAME_MAX_CHARS)
}

/// Text a person types that others will read — a name, a reject reason, a holiday's or a
/// participant's name, a setting: trimmed, required, at most `max` characters, and none of the
/// characters [`forbidden_char`] names (so it cannot break a mail header, a CSV line or a
/// terminal, nor hide what it says).
pub fn free_text(field: &'static str, s: &str, max: usize) -> Result<String, ProfileError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ProfileError::Required { field });
    }
    let got = t.chars().count();
    if got > max {
        return Err(ProfileError::TooLong { field, max, got });
    }
    check_chars(field, t)?;
    Ok(t.to_string())
}

/// Every character of `t` against [`forbidden_char`]; the first offender named by position.
pub fn check_chars(field: &'static str, t: &str) -> Result<(), ProfileError> {
    for (i, c) in t.chars().enumerate() {
        if let Some(why) = forbidden_char(c) {
            return Err(ProfileError::ForbiddenChar {
                field,
                position: i + 1,
                code: format!("U+{:04X}", u32::from(c)),
                why,
            });
        }
    }
    Ok(())
}

/// Why `c` may not appear in a name or other free text, if it may not. The Cf list is Unicode 15.1's, written out
/// because std has no general-category lookup and we take no Unicode-table dependency.
pub fn forbidden_char(c: char) -> Option<&'static str> {
    let u = u32::from(c);
    // Printable ASCII is every name, address and code a migration reads: decided at once.
    if (0x20..0x7F).contains(&u) {
        return None;
    }
    if c.is_control() {
        return Some("control character");
    }
    let format = matches!(
        u,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    );
    if format {
        return Some("invisible formatting character");
    }
    if matches!(u, 0x2028 | 0x2029) {
        return Some("line or paragraph separator");
    }
    if matches!(u, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD) {
        return Some("private-use character");
    }
    if matches!(u, 0xFDD0..=0xFDEF) || (u & 0xFFFE) == 0xFFFE {
        return Some("Unicode non-character");
    }
    if u == 0xFFFD {
        return Some("replacement character (the input was not valid text)");
    }
    None
}

// ----------------------------------------------------------------------------------------------
// E-mail

/// An e-mail address, checked strictly and simply (no quoted local parts, no IP-literal or
/// internationalised domains — addresses a participant's mail server must deliver OTPs to):
/// - trimmed, required, at most 254 characters, ASCII only, no spaces or control characters;
/// - exactly one `@`;
/// - local part: 1-64 characters of letters, digits and ``!#$%&'*+/=?^_`{|}~-``, plus dots
///   that are neither first, last nor doubled; its case is kept (RFC 5321: it may matter);
/// - domain: lower-cased, at least two dot-separated labels of 1-63 characters `[a-z0-9-]`,
///   no label starting or ending with `-`, the last label not all digits.
pub fn email(s: &str) -> Result<String, ProfileError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ProfileError::Required { field: "email" });
    }
    let got = t.chars().count();
    if got > EMAIL_MAX_CHARS {
        return Err(ProfileError::TooLong { field: "email", max: EMAIL_MAX_CHARS, got });
    }
    let bad = |rule| ProfileError::Email { value: quoted(t), rule };
    if !t.chars().all(|c| c.is_ascii_graphic()) {
        return Err(bad("must contain no spaces, control characters or non-ASCII characters"));
    }
    let (local, domain) = match t.split_once('@') {
        Some((l, d)) if !d.contains('@') => (l, d),
        _ => return Err(bad("must contain exactly one @")),
    };
    if local.is_empty() {
        return Err(bad("the part before @ is empty"));
    }
    if local.len() > EMAIL_LOCAL_MAX_CHARS {
        return Err(bad("the part before @ must be at most 64 characters"));
    }
    if !local.chars().all(is_local_char) {
        return Err(bad("the part before @ may contain only letters, digits, dots and !#$%&'*+/=?^_`{|}~-"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(bad("the part before @ must not start or end with a dot or have two dots in a row"));
    }
    let domain = domain.to_ascii_lowercase();
    if domain.is_empty() {
        return Err(bad("the domain after @ is empty"));
    }
    if !domain.contains('.') {
        return Err(bad("the domain must contain a dot"));
    }
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !domain.split('.').all(label_ok) {
        return Err(bad("domain labels must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen"));
    }
    if domain.rsplit('.').next().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
        return Err(bad("the domain must end in a name, not a number"));
    }
    let mut out = String::with_capacity(local.len() + 1 + domain.len());
    out.extend([local, "@", &domain]);
    Ok(out)
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-.".contains(c)
}

/// The domain of an address (after the last `@`); empty when there is no `@`.
pub fn email_domain(email: &str) -> &str {
    email.rsplit_once('@').map_or("", |(_, d)| d)
}

/// Whether the address looks like a shared mailbox (see [`GROUP_LOCAL_PARTS`]).
pub fn looks_like_group_address(email: &str) -> bool {
    let local = email.rsplit_once('@').map_or(email, |(l, _)| l).to_ascii_lowercase();
    local.contains("team")
        || local.contains("group")
        || local.split(['.', '_', '-', '+']).any(|w| GROUP_LOCAL_PARTS.contains(&w))
}

/// What a DA should be told about an address (seed 3.1: corporate domains advised, group
/// addresses not): warnings, never refusals. `domains` are the participant's corporate ones.
pub fn email_warnings(email: &str, domains: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    if looks_like_group_address(email) {
        out.push(format!("{email} looks like a group address: the OTP authenticates one individual (seed 3.1)"));
    }
    let domain = email_domain(email);
    if !domains.is_empty() && !domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
        out.push(format!("{email} is not on a corporate domain of the participant ({})", domains.join(", ")));
    }
    out
}

/// Addresses a change would share between users (seed 3.1 allows a shared address, but each
/// OTP then reaches everyone who reads it, and the readiness report lists them): for each
/// `(user ID, address)` the change registers, the other users who would have it too, given
/// the addresses registered now (`existing`; a subject's current address is replaced).
pub fn shared_address_warnings(changes: &[(String, String)], existing: &[(String, String)]) -> Vec<String> {
    use std::collections::{BTreeSet, HashMap, HashSet};
    let subjects: HashSet<&str> = changes.iter().map(|(id, _)| id.as_str()).collect();
    let mut holders: HashMap<String, BTreeSet<&str>> = HashMap::new();
    for (id, email) in existing.iter().filter(|(id, _)| !subjects.contains(id.as_str())).chain(changes) {
        holders.entry(email.to_lowercase()).or_default().insert(id.as_str());
    }
    changes
        .iter()
        .filter_map(|(id, email)| {
            let others: Vec<&str> =
                holders.get(&email.to_lowercase())?.iter().copied().filter(|o| *o != id.as_str()).collect();
            (!others.is_empty()).then(|| {
                format!(
                    "{email} of {id} is shared with {}: every OTP sent there reaches all of them (seed 3.1 allows it; the readiness report lists shared addresses)",
                    others.join(", ")
                )
            })
        })
        .collect()
}

// ----------------------------------------------------------------------------------------------
// Transaction limit

/// A transaction limit in HKD, as integer cents. Accepts `1234`, `1234.5`, `1234.56`,
/// `1,234,567.89` (commas only as correct thousands separators); at most 2 decimals; range
/// 0.00 – 9,999,999,999.99. Parsed digit by digit: no floating point touches money.
pub fn money_cents(s: &str) -> Result<i64, ProfileError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ProfileError::Required { field: "limit" });
    }
    let bad = |rule| ProfileError::Limit { value: quoted(t), rule };
    const FORMAT: &str = "must be an amount in HKD such as 1234, 1234.56 or 1,234,567.89";
    const RANGE: &str = "must be between 0.00 and 9,999,999,999.99";
    if t.starts_with('-') {
        return Err(bad(RANGE));
    }
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    if !int_part_ok(int) {
        return Err(bad(FORMAT));
    }
    let frac_cents = match frac {
        None => 0,
        Some(f) if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) => return Err(bad(FORMAT)),
        Some(f) if f.len() > 2 => return Err(bad("must have at most 2 decimal places")),
        Some(f) => {
            let v = digits_value(f).ok_or_else(|| bad(FORMAT))?;
            // "5" after the point is 50 cents, "05" is 5.
            if f.len() == 1 {
                v * 10
            } else {
                v
            }
        }
    };
    let units = digits_value(&int.replace(',', "")).ok_or_else(|| bad(RANGE))?;
    let cents = units
        .checked_mul(100)
        .and_then(|c| c.checked_add(frac_cents))
        .filter(|c| *c <= LIMIT_MAX_CENTS)
        .ok_or_else(|| bad(RANGE))?;
    Ok(cents)
}

/// Digits, or digits grouped in threes by commas with a first group of 1-3.
fn int_part_ok(int: &str) -> bool {
    let all_digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    if !int.contains(',') {
        return all_digits(int);
    }
    let mut groups = int.split(',');
    let first_ok = groups.next().is_some_and(|g| all_digits(g) && g.len() <= 3);
    first_ok && groups.all(|g| all_digits(g) && g.len() == 3)
}

/// The value of a string of ASCII digits; `None` on overflow (or a non-digit).
fn digits_value(digits: &str) -> Option<i64> {
    digits.bytes().try_fold(0i64, |acc, b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(i64::from(b - b'0'))
    })
}

/// Cents as HKD with thousands separators: `9,999,999,999.99`, `0.00`.
pub fn format_cents(c: i64) -> String {
    let abs = c.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut out = String::with_capacity(units.len() + units.len() / 3 + 4);
    if c < 0 {
        out.push('-');
    }
    // The leading group has 1-3 digits; every later one exactly 3.
    let lead = match units.len() % 3 {
        0 => 3,
        r => r,
    };
    let (head, rest) = units.split_at_checked(lead).unwrap_or((&units, ""));
    out.push_str(head);
    for group in rest.as_bytes().chunks(3) {
        out.push(',');
        group.iter().for_each(|&b| out.push(char::from(b)));
    }
    out.push_str(&format!(".{:02}", abs % 100));
    out
}

// ----------------------------------------------------------------------------------------------
// User groups

/// A list of group codes, separated by commas and/or whitespace, case-insensitive. Returns
/// them de-duplicated in catalogue order; an empty list is fine (no groups).
pub fn parse_groups(s: &str) -> Result<Vec<String>, ProfileError> {
    let mut found = BTreeSet::new();
    for token in s.split(|c: char| c == ',' || c.is_whitespace()) {
        if token.is_empty() {
            continue;
        }
        let code = token.to_ascii_uppercase();
        // Keyed by catalogue position so the set iterates in catalogue order.
        let entry = GROUP_CATALOGUE
            .iter()
            .enumerate()
            .find(|(_, g)| **g == code)
            .ok_or_else(|| ProfileError::UnknownGroup { code: quoted(token), nearest: nearest_groups(&code) })?;
        found.insert(entry);
    }
    Ok(found.into_iter().map(|(_, g)| (*g).to_string()).collect())
}

/// The catalogue's codes nearest an unknown one, as the error says them (", nearest: A, AA"):
/// those one edit away (a letter changed, added or dropped, or two swapped), else those that
/// begin as it does. Empty when none is near.
fn nearest_groups(code: &str) -> String {
    let c: Vec<char> = code.chars().collect();
    let one_edit = |g: &str| -> bool {
        let g: Vec<char> = g.chars().collect();
        match c.len().abs_diff(g.len()) {
            0 => {
                let diff: Vec<usize> = (0..c.len()).filter(|&i| c[i] != g[i]).collect();
                diff.len() == 1
                    || (diff.len() == 2
                        && diff[1] == diff[0] + 1
                        && c[diff[0]] == g[diff[1]]
                        && c[diff[1]] == g[diff[0]])
            }
            1 => {
                let (long, short) = if c.len() > g.len() { (&c, &g) } else { (&g, &c) };
                (0..long.len())
                    .any(|skip| long.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, ch)| ch).eq(short.iter()))
            }
            _ => false,
        }
    };
    let mut near: Vec<&str> = GROUP_CATALOGUE.iter().copied().filter(|g| one_edit(g)).collect();
    if near.is_empty() {
        near = GROUP_CATALOGUE.iter().copied().filter(|g| c.first().is_some_and(|f| g.starts_with(*f))).collect();
    }
    near.truncate(6);
    if near.is_empty() {
        String::new()
    } else {
        format!("; nearest: {}", near.join(", "))
    }
}

/// Groups as one comma-separated string, the form the CLI accepts back.
pub fn format_groups(groups: &[String]) -> String {
    groups.join(",")
}

// ----------------------------------------------------------------------------------------------
// Dates

/// A date as typed: ISO `2026-11-22`, the seed's `22/11/26` (DD/MM/YY) or `22-Nov-26`
/// (DD-MMM-YY, month name case-insensitive). Two-digit years are 20YY; a four-digit year is
/// also accepted in the two day-first forms. Day and month may have one digit.
pub fn parse_date(field: &'static str, s: &str) -> Result<NaiveDate, ProfileError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ProfileError::Required { field });
    }
    let bad = || ProfileError::BadDate { field, value: quoted(t) };
    let (y, m, d) = split_date(t).ok_or_else(bad)?;
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| ProfileError::NotACalendarDate { field, value: quoted(t) })
}

/// (year, month, day) from one of the accepted shapes, without checking the calendar.
fn split_date(t: &str) -> Option<(i32, u32, u32)> {
    let number = |p: &str, lens: &[usize]| -> Option<u32> {
        if lens.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse().ok()
        } else {
            None
        }
    };
    let year = |p: &str| -> Option<i32> {
        let v = i32::try_from(number(p, &[2, 4])?).ok()?;
        Some(if p.len() == 2 { 2000 + v } else { v })
    };
    if let [a, b, c] = t.split('-').collect::<Vec<_>>()[..] {
        if a.len() == 4 {
            let y = i32::try_from(number(a, &[4])?).ok()?;
            return Some((y, number(b, &[1, 2])?, number(c, &[1, 2])?));
        }
        return Some((year(c)?, month_from_name(b)?, number(a, &[1, 2])?));
    }
    if let [a, b, c] = t.split('/').collect::<Vec<_>>()[..] {
        return Some((year(c)?, number(b, &[1, 2])?, number(a, &[1, 2])?));
    }
    None
}

fn month_from_name(s: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let lower = s.to_ascii_lowercase();
    let i = MONTHS.iter().position(|m| *m == lower)?;
    u32::try_from(i + 1).ok()
}

/// The seed's display form, `22-Nov-26`. Two-digit years read back as 20YY, so dates outside
/// 2000-2099 do not round-trip through [`parse_date`]; storage should keep ISO dates.
pub fn format_date(d: NaiveDate) -> String {
    d.format("%d-%b-%y").to_string()
}

/// Enable From must not be after Disable After (equal is a one-day window).
pub fn check_date_window(enable_from: Option<NaiveDate>, disable_after: Option<NaiveDate>) -> Result<(), ProfileError> {
    match (enable_from, disable_after) {
        (Some(from), Some(after)) if from > after => {
            Err(ProfileError::DateWindow { enable_from: format_date(from), disable_after: format_date(after) })
        }
        _ => Ok(()),
    }
}

/// Whether `today` (a Hong Kong date) lies within the profile's dates, both ends inclusive;
/// a missing end is open.
pub fn within_dates(enable_from: Option<NaiveDate>, disable_after: Option<NaiveDate>, today: NaiveDate) -> bool {
    enable_from.is_none_or(|f| f <= today) && disable_after.is_none_or(|a| today <= a)
}

// ----------------------------------------------------------------------------------------------
// Access channel and status

/// How the user reaches the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessChannel {
    /// The CCASS terminal: 2FA applies.
    Cst,
    /// Participant Gateway: smartcard only, untouched by 2FA and by decommissioning.
    Pg,
}

impl AccessChannel {
    pub fn parse(s: &str) -> Result<Self, ProfileError> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CST" => Ok(AccessChannel::Cst),
            "PG" => Ok(AccessChannel::Pg),
            _ => Err(ProfileError::AccessChannel { value: quoted(s) }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccessChannel::Cst => "CST",
            AccessChannel::Pg => "PG",
        }
    }
}

impl FromStr for AccessChannel {
    type Err = ProfileError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for AccessChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The profile's User Status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserStatus {
    Enabled,
    Disabled,
}

impl UserStatus {
    pub fn parse(s: &str) -> Result<Self, ProfileError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "enabled" => Ok(UserStatus::Enabled),
            "disabled" => Ok(UserStatus::Disabled),
            _ => Err(ProfileError::UserStatus { value: quoted(s) }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Enabled => "ENABLED",
            UserStatus::Disabled => "DISABLED",
        }
    }
}

impl FromStr for UserStatus {
    type Err = ProfileError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ----------------------------------------------------------------------------------------------
// Typed values: what the edge parses is what the rest of the program carries.

/// An amount in HKD, as integer cents (transaction limits, fees). No floating point touches it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl Cents {
    /// An amount as typed (`1234`, `1,234.50`): see [`money_cents`].
    pub fn parse(s: &str) -> Result<Self, ProfileError> {
        money_cents(s).map(Cents)
    }

    /// The seed's display form with thousands separators: `9,999,999,999.99`.
    pub fn display(self) -> String {
        format_cents(self.0)
    }

    /// The machine form for JSON and CSV: a decimal string without separators, `5000.00`.
    pub fn plain(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// A set of user-group codes from the catalogue, in catalogue order, without duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Groups(Vec<String>);

impl Groups {
    /// Codes separated by commas and/or whitespace (see [`parse_groups`]).
    pub fn parse(s: &str) -> Result<Self, ProfileError> {
        parse_groups(s).map(Groups)
    }

    pub fn codes(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The storage and CSV form: codes separated by single spaces.
    pub fn spaced(&self) -> String {
        self.0.join(" ")
    }

    /// Codes in `self` that `other` lacks (the seed's Selected / Deleted User Groups).
    pub fn minus(&self, other: &Groups) -> Vec<String> {
        self.0.iter().filter(|g| !other.0.contains(g)).cloned().collect()
    }
}

impl TryFrom<Vec<String>> for Groups {
    type Error = ProfileError;
    fn try_from(v: Vec<String>) -> Result<Self, ProfileError> {
        Groups::parse(&v.join(" "))
    }
}

impl From<Groups> for Vec<String> {
    fn from(g: Groups) -> Self {
        g.0
    }
}

/// The terminal functions a user profile enables, as the seed's confirmation block lists them
/// (App A f: Default, DI Requirement, DI, Recall Request, ISI, ATI, Cash Compensation
/// Indicator, SI, Cash Prepayment), in its order: the key JSON, CSV and `--functions` use, and
/// the seed's label.
pub const FUNCTIONS: [(&str, &str); 9] = [
    ("default", "Default"),
    ("di_requirement", "DI Requirement"),
    ("di", "DI"),
    ("recall_request", "Recall Request"),
    ("isi", "ISI"),
    ("ati", "ATI"),
    ("cash_compensation", "Cash Compensation Indicator"),
    ("si", "SI"),
    ("cash_prepayment", "Cash Prepayment"),
];

/// A set of [`FUNCTIONS`], in the seed's order, without duplicates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Functions(u16);

impl Functions {
    /// Keys separated by commas and/or whitespace, any case, `-` for `_`; empty or `none`: no
    /// function.
    pub fn parse(s: &str) -> Result<Self, ProfileError> {
        let mut bits = 0u16;
        for token in s.split(|c: char| c == ',' || c.is_whitespace()).filter(|t| !t.is_empty()) {
            let key = token.to_ascii_lowercase().replace('-', "_");
            if key == "none" {
                continue;
            }
            let i = FUNCTIONS
                .iter()
                .position(|(k, _)| *k == key)
                .ok_or_else(|| ProfileError::UnknownFunction { value: quoted(token) })?;
            bits |= 1 << i;
        }
        Ok(Functions(bits))
    }

    /// The functions it enables: (key, label), in the seed's order.
    pub fn enabled(self) -> impl Iterator<Item = (&'static str, &'static str)> {
        FUNCTIONS.into_iter().enumerate().filter(move |(i, _)| self.0 & (1 << i) != 0).map(|(_, f)| f)
    }

    pub fn contains(self, key: &str) -> bool {
        self.enabled().any(|(k, _)| k == key)
    }

    pub fn keys(self) -> Vec<&'static str> {
        self.enabled().map(|(k, _)| k).collect()
    }

    /// The storage and CSV form: keys separated by single spaces.
    pub fn spaced(self) -> String {
        self.keys().join(" ")
    }
}

impl TryFrom<Vec<String>> for Functions {
    type Error = ProfileError;
    fn try_from(v: Vec<String>) -> Result<Self, ProfileError> {
        Functions::parse(&v.join(" "))
    }
}

impl From<Functions> for Vec<String> {
    fn from(f: Functions) -> Self {
        f.keys().into_iter().map(str::to_string).collect()
    }
}

macro_rules! serde_as_str {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                <$t>::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_as_str!(AccessChannel);
serde_as_str!(UserStatus);

/// The value as it appears in an error: quoted, escaped, cut to a readable length.
fn quoted(s: &str) -> String {
    const MAX: usize = 40;
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(MAX).collect();
    if chars.next().is_some() {
        format!("{head:?}…")
    } else {
        format!("{head:?}")
    }
}

/// An address as output shows it — "c***@abc.com.hk": the first character of the local part,
/// `***`, and the domain; enough to recognise one's own address, not to harvest it.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// Does a search for `query` find the user named `surname` + `other_names`? The seed writes a
/// user name as one line ("User name TAI MAN CHAN" for surname TAI MAN, other names CHAN, App
/// A f), and DAs type it either way round or in part: every word of the query must be in the
/// name, in any order, ignoring case (Unicode) and runs of spaces.
pub fn name_matches(surname: &str, other_names: &str, query: &str) -> bool {
    let name = format!("{surname} {other_names}").to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
    let query = query.to_lowercase();
    let mut words = query.split_whitespace().peekable();
    words.peek().is_some() && words.all(|w| name.contains(w))
}

#[cfg(test)]
mod tests {
    #[test]
    fn functions_are_the_seeds_nine_in_its_order() {
        let f = Functions::parse("SI, isi cash-prepayment,Default si").expect("known");
        assert_eq!(f.keys(), ["default", "isi", "si", "cash_prepayment"]);
        assert_eq!(f.spaced(), "default isi si cash_prepayment");
        assert_eq!(Functions::parse(&f.spaced()), Ok(f), "round trip");
        assert_eq!(Functions::parse("none"), Ok(Functions::default()));
        assert_eq!(Functions::parse(""), Ok(Functions::default()));
        let all = Functions::parse(&FUNCTIONS.map(|(k, _)| k).join(",")).expect("all");
        assert_eq!(all.enabled().map(|(_, l)| l).collect::<Vec<_>>(), FUNCTIONS.map(|(_, l)| l));
        let e = Functions::parse("di,transfer").unwrap_err();
        assert!(e.to_string().starts_with("function \"transfer\": not one of default"), "{e}");
        let json = serde_json::to_value(f).expect("json");
        assert_eq!(json, serde_json::json!(["default", "isi", "si", "cash_prepayment"]));
        assert!(serde_json::from_value::<Functions>(serde_json::json!(["xx"])).is_err());
    }

    #[test]
    fn a_name_is_found_whole_either_way_round_or_by_its_words() {
        // App A f: surname TAI MAN, other names CHAN, shown as "User name TAI MAN CHAN".
        for q in ["TAI MAN CHAN", "chan tai man", "CHAN  TAI", "man", "Tai  Man", "ÉLO"] {
            assert!(name_matches("TAI MAN", "CHAN ÉLODIE", q), "{q}");
        }
        for q in ["", "  ", "WONG", "TAI WONG", "CHANTAI"] {
            assert!(!name_matches("TAI MAN", "CHAN", q), "{q:?}");
        }
    }

    #[test]
    fn shared_addresses_are_found_in_the_change_and_against_registered_ones_ignoring_case() {
        let pair = |id: &str, e: &str| (id.to_string(), e.to_string());
        let existing = vec![pair("B0123401", "a@x.hk"), pair("B0123402", "b@x.hk"), pair("B0123403", "c@x.hk")];
        // Two rows of the change share one address, and a third takes an address already
        // registered to someone else.
        let w = shared_address_warnings(
            &[pair("B0123404", "N@x.hk"), pair("B0123405", "n@x.hk"), pair("B0123406", "A@X.HK")],
            &existing,
        );
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("B0123404 is shared with B0123405"), "{w:?}");
        assert!(w[2].contains("B0123406 is shared with B0123401"), "{w:?}");
        // A subject's own current address is replaced, not shared with itself; an address
        // that moves from one subject to another is no longer shared once both change.
        assert!(shared_address_warnings(&[pair("B0123401", "a@x.hk")], &existing).is_empty());
        assert!(
            shared_address_warnings(&[pair("B0123401", "b@x.hk"), pair("B0123402", "z@x.hk")], &existing).is_empty()
        );
    }

    use super::*;

    #[test]
    fn addresses_are_masked_to_their_first_letter_and_domain() {
        assert_eq!(mask_email("chan.siuming@firm.example"), "c***@firm.example");
        assert_eq!(mask_email("x@y"), "x***@y");
        assert_eq!(mask_email("nobody"), "***");
        assert_eq!(mask_email("chan.taiman@abc.com.hk"), "c***@abc.com.hk");
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    // --- names

    #[test]
    fn names_trimmed_and_kept_as_typed() {
        assert_eq!(person_name("surname", "  Chan ").as_deref(), Ok("Chan"));
        assert_eq!(person_name("other names", "Tai Man, Peter").as_deref(), Ok("Tai Man, Peter"));
        for ok in [
            "O'Brien-Smith",
            "St. John (Jr.)",
            "A & B / C",
            "陳大文",
            "محمد",
            "Nguyễn",
            "Nguye\u{0302}\u{0303}n",
            "Zoë\u{00A0}Ng",
        ] {
            assert_eq!(person_name("surname", ok).as_deref(), Ok(ok), "{ok}");
        }
    }

    #[test]
    fn names_required() {
        for s in ["", "   ", "\t\n"] {
            let e = person_name("surname", s).unwrap_err();
            assert_eq!(e.to_string(), "surname: is required");
        }
        let e = person_name("other names", "").unwrap_err();
        assert_eq!(e.to_string(), "other names: is required");
    }

    #[test]
    fn names_length_counts_characters() {
        let forty = "a".repeat(40);
        assert_eq!(person_name("surname", &forty), Ok(forty));
        let e = person_name("surname", &"a".repeat(41)).unwrap_err();
        assert_eq!(e.to_string(), "surname: must be at most 40 characters (got 41)");
        // 40 CJK characters are 120 bytes and still fit.
        let cjk = "陳".repeat(40);
        assert!(person_name("surname", &cjk).is_ok());
        assert!(person_name("surname", &"陳".repeat(41)).is_err());
        // Outer spaces do not count.
        assert!(person_name("surname", &format!("  {}  ", "a".repeat(40))).is_ok());
        let e = person_name("other names", &"x".repeat(10_000)).unwrap_err();
        assert_eq!(e.to_string(), "other names: must be at most 40 characters (got 10000)");
    }

    #[test]
    fn names_refuse_control_and_invisible_characters() {
        let cases = [
            ("Ch\tan", 3, "U+0009", "control character"),
            ("Ch\nan", 3, "U+000A", "control character"),
            ("Chan\0", 5, "U+0000", "control character"),
            ("Ch\u{1b}[31man", 3, "U+001B", "control character"),
            ("Chan\u{202E}gnaW", 5, "U+202E", "invisible formatting character"),
            ("Ch\u{200D}an", 3, "U+200D", "invisible formatting character"),
            ("Ch\u{200B}an", 3, "U+200B", "invisible formatting character"),
            ("\u{FEFF}Chan", 1, "U+FEFF", "invisible formatting character"),
            ("Ch\u{00AD}an", 3, "U+00AD", "invisible formatting character"),
            ("Ch\u{2028}an", 3, "U+2028", "line or paragraph separator"),
            ("Ch\u{2029}an", 3, "U+2029", "line or paragraph separator"),
            ("Ch\u{E000}an", 3, "U+E000", "private-use character"),
            ("Ch\u{FFFF}an", 3, "U+FFFF", "Unicode non-character"),
            ("Ch\u{FFFD}an", 3, "U+FFFD", "replacement character (the input was not valid text)"),
        ];
        for (s, position, code, why) in cases {
            let e = person_name("surname", s).unwrap_err();
            assert_eq!(
                e,
                ProfileError::ForbiddenChar { field: "surname", position, code: code.to_string(), why },
                "{s:?}"
            );
        }
        let e = person_name("other names", "Tai\u{202E}Man").unwrap_err();
        assert_eq!(e.to_string(), "other names: character 4 (U+202E) is not allowed: invisible formatting character");
    }

    #[test]
    fn names_emoji_single_allowed_zwj_sequence_refused() {
        // Decision: a lone emoji is a printable symbol and passes; a ZWJ sequence is refused
        // because the joiner is an invisible format character.
        assert!(person_name("other names", "Peter 😀").is_ok());
        assert!(person_name("other names", "Peter ❤\u{FE0F}").is_ok());
        assert!(person_name("other names", "👨\u{200D}👩\u{200D}👧").is_err());
    }

    #[test]
    fn names_sql_looking_text_is_printable_and_accepted() {
        // Documented: a name is free text; storage binds parameters, so this is stored as is.
        let s = "'; DROP TABLE users;--";
        assert_eq!(person_name("surname", s).as_deref(), Ok(s));
        assert_eq!(person_name("other names", "Robert'); --").as_deref(), Ok("Robert'); --"));
    }

    // --- e-mail

    #[test]
    fn email_accepts_and_normalises_domain_only() {
        assert_eq!(email("  Tai.Man@Example.COM.hk ").as_deref(), Ok("Tai.Man@example.com.hk"));
        for ok in [
            "a@b.co",
            "o'brien@example.com",
            "first+tag@mail.example-bank.hk",
            "x_y-z@sub.domain.example",
            "1234@example.com",
            "!#$%&'*+/=?^_`{|}~-@example.com",
        ] {
            assert_eq!(email(ok).as_deref(), Ok(ok), "{ok}");
        }
    }

    #[test]
    fn email_rejections_name_the_rule() {
        let cases = [
            ("'; DROP TABLE users;--", "must contain no spaces, control characters or non-ASCII characters"),
            ("a b@example.com", "must contain no spaces, control characters or non-ASCII characters"),
            ("a\t@example.com", "must contain no spaces, control characters or non-ASCII characters"),
            ("chan@exämple.com", "must contain no spaces, control characters or non-ASCII characters"),
            ("chan\u{202E}@example.com", "must contain no spaces, control characters or non-ASCII characters"),
            ("chan.example.com", "must contain exactly one @"),
            ("a@b@example.com", "must contain exactly one @"),
            ("@example.com", "the part before @ is empty"),
            ("chan@", "the domain after @ is empty"),
            ("chan@localhost", "the domain must contain a dot"),
            (".chan@example.com", "the part before @ must not start or end with a dot or have two dots in a row"),
            ("chan.@example.com", "the part before @ must not start or end with a dot or have two dots in a row"),
            ("ch..an@example.com", "the part before @ must not start or end with a dot or have two dots in a row"),
            ("ch\"an@example.com", "the part before @ may contain only letters, digits, dots and !#$%&'*+/=?^_`{|}~-"),
            (
                "chan@example..com",
                "domain labels must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen",
            ),
            (
                "chan@-example.com",
                "domain labels must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen",
            ),
            (
                "chan@example.com;--",
                "domain labels must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen",
            ),
            (
                "chan@exa_mple.com",
                "domain labels must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen",
            ),
            (
                "chan@example.com.",
                "domain labels must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen",
            ),
            ("chan@192.168.0.1", "the domain must end in a name, not a number"),
        ];
        for (s, rule) in cases {
            match email(s) {
                Err(ProfileError::Email { rule: r, .. }) => assert_eq!(r, rule, "{s:?}"),
                other => panic!("{s:?}: expected an email error, got {other:?}"),
            }
        }
        let e = email("chan.example.com").unwrap_err();
        assert_eq!(e.to_string(), "email \"chan.example.com\": must contain exactly one @");
        assert_eq!(email(" ").unwrap_err().to_string(), "email: is required");
    }

    #[test]
    fn email_lengths() {
        let local64 = "a".repeat(64);
        assert!(email(&format!("{local64}@example.com")).is_ok());
        assert!(matches!(email(&format!("a{local64}@example.com")), Err(ProfileError::Email { .. })));
        let label = "b".repeat(63);
        assert!(email(&format!("a@{label}.com")).is_ok());
        assert!(email(&format!("a@{label}b.com")).is_err());
        // 254 accepted, 255 refused.
        let domain = format!("{}.{}.{}.hk", "c".repeat(63), "d".repeat(63), "e".repeat(63));
        let at254 = format!("{}@{domain}", "f".repeat(254 - 1 - domain.len()));
        assert_eq!(at254.len(), 254);
        assert!(email(&at254).is_ok());
        let e = email(&format!("g{at254}")).unwrap_err();
        assert_eq!(e.to_string(), "email: must be at most 254 characters (got 255)");
        let huge = "x".repeat(10_000);
        assert!(matches!(email(&huge), Err(ProfileError::TooLong { got: 10_000, .. })));
    }

    #[test]
    fn email_error_message_is_bounded_and_escaped() {
        let s = format!("{}\u{1b}@example.com", "a".repeat(60));
        let e = email(&s).unwrap_err().to_string();
        assert!(!e.contains('\u{1b}'), "{e}");
        assert!(e.chars().count() < 150, "{e}");
    }

    #[test]
    fn email_domain_and_group_addresses() {
        assert_eq!(email_domain("chan@example.com"), "example.com");
        assert_eq!(email_domain("no-at-sign"), "");
        for group in [
            "ops@broker.hk",
            "OPS@broker.hk",
            "operations@broker.hk",
            "settlement.hk@broker.hk",
            "hk-clearing@broker.hk",
            "it_support@broker.hk",
            "all@broker.hk",
            "dept+x@broker.hk",
            "info@broker.hk",
            "admin@broker.hk",
            "ccassteam@broker.hk",
            "mygroup1@broker.hk",
        ] {
            assert!(looks_like_group_address(group), "{group}");
        }
        for person in ["tai.man.chan@broker.hk", "peter_wong@broker.hk", "allan@broker.hk", "opsahl@broker.hk"] {
            assert!(!looks_like_group_address(person), "{person}");
        }
        // Degenerate input is still judged on what precedes the @.
        assert!(looks_like_group_address("info@"));
    }

    // --- money

    #[test]
    fn money_accepted_forms() {
        let cases = [
            ("0", 0),
            ("0.00", 0),
            ("1234", 123_400),
            ("1234.5", 123_450),
            ("1234.56", 123_456),
            ("1234.05", 123_405),
            ("1,234", 123_400),
            ("1,234,567.89", 123_456_789),
            (" 12 ", 1_200),
            ("007", 700),
            ("9,999,999,999.99", LIMIT_MAX_CENTS),
            ("9999999999.99", LIMIT_MAX_CENTS),
        ];
        for (s, cents) in cases {
            assert_eq!(money_cents(s), Ok(cents), "{s}");
        }
    }

    #[test]
    fn money_rejections() {
        const FORMAT: &str = "must be an amount in HKD such as 1234, 1234.56 or 1,234,567.89";
        const RANGE: &str = "must be between 0.00 and 9,999,999,999.99";
        let cases = [
            ("abc", FORMAT),
            ("1.", FORMAT),
            (".5", FORMAT),
            ("1.2.3", FORMAT),
            ("1,23", FORMAT),
            ("1234,567", FORMAT),
            (",123", FORMAT),
            ("1,,234", FORMAT),
            ("1 234", FORMAT),
            ("1e3", FORMAT),
            ("+5", FORMAT),
            ("HK$5", FORMAT),
            ("１２", FORMAT),
            ("NaN", FORMAT),
            ("1.234", "must have at most 2 decimal places"),
            ("0.001", "must have at most 2 decimal places"),
            ("-1", RANGE),
            ("-0.01", RANGE),
            ("10000000000", RANGE),
            ("9999999999.991", "must have at most 2 decimal places"),
            ("10,000,000,000.00", RANGE),
            ("99999999999999999999999999", RANGE),
        ];
        for (s, rule) in cases {
            match money_cents(s) {
                Err(ProfileError::Limit { rule: r, .. }) => assert_eq!(r, rule, "{s:?}"),
                other => panic!("{s:?}: expected a limit error, got {other:?}"),
            }
        }
        assert_eq!(
            money_cents("1.234").unwrap_err().to_string(),
            "limit \"1.234\": must have at most 2 decimal places"
        );
        assert_eq!(money_cents("").unwrap_err().to_string(), "limit: is required");
        let e = money_cents(&"9".repeat(10_000)).unwrap_err().to_string();
        assert!(e.chars().count() < 120, "{e}");
    }

    #[test]
    fn money_formats() {
        assert_eq!(format_cents(0), "0.00");
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(100), "1.00");
        assert_eq!(format_cents(123_456), "1,234.56");
        assert_eq!(format_cents(100_000_000), "1,000,000.00");
        assert_eq!(format_cents(LIMIT_MAX_CENTS), "9,999,999,999.99");
        assert_eq!(format_cents(-123_456), "-1,234.56");
        assert_eq!(format_cents(i64::MIN), "-92,233,720,368,547,758.08");
        for c in [0, 1, 99, 100, 12_345, 99_999_999, LIMIT_MAX_CENTS] {
            assert_eq!(money_cents(&format_cents(c)), Ok(c), "{c}");
        }
    }

    // --- groups

    #[test]
    fn group_catalogue_is_the_seeds() {
        assert_eq!(GROUP_CATALOGUE.len(), 63);
        let unique: BTreeSet<_> = GROUP_CATALOGUE.iter().collect();
        assert_eq!(unique.len(), GROUP_CATALOGUE.len());
        assert_eq!(GROUP_CATALOGUE.first(), Some(&"11"));
        assert_eq!(GROUP_CATALOGUE.last(), Some(&"WG"));
        assert!(!GROUP_CATALOGUE.contains(&"53"));
    }

    #[test]
    fn groups_parse_sorted_deduplicated() {
        assert_eq!(
            parse_groups("wg, a 11,A,  rx\tF1,,11"),
            Ok(vec!["11".to_string(), "A".to_string(), "F1".to_string(), "RX".to_string(), "WG".to_string()])
        );
        assert_eq!(parse_groups(""), Ok(vec![]));
        assert_eq!(parse_groups(" , "), Ok(vec![]));
        let all = GROUP_CATALOGUE.join(" ").to_lowercase();
        assert_eq!(parse_groups(&all).map(|v| v.len()), Ok(GROUP_CATALOGUE.len()));
        assert_eq!(format_groups(&parse_groups("c,a").unwrap_or_default()), "A,C");
    }

    #[test]
    fn groups_unknown_code_named() {
        let e = parse_groups("A, ZZ, 53").unwrap_err();
        assert_eq!(
            e.to_string(),
            "user groups: \"ZZ\" is not in the user group catalogue; nearest: RZ (`dms user groups` lists them all)"
        );
        // The nearest codes: one edit away, in catalogue order, at most six; else the same start.
        let e = parse_groups("53").unwrap_err().to_string();
        assert!(e.contains("; nearest: 13, 23, 51, 52, 54, 55 ("), "{e}");
        assert!(parse_groups("wx").unwrap_err().to_string().contains("nearest: DX, RX, WA, WB, WC, WD"));
        assert!(parse_groups("AAD").unwrap_err().to_string().contains("nearest: AA, AD"));
        assert!(!parse_groups("%%").unwrap_err().to_string().contains("nearest"), "none near");
        // Non-ASCII look-alikes and SQL-looking tokens are just unknown codes.
        assert!(parse_groups("Ａ").is_err());
        assert!(parse_groups("A;DROP").is_err());
        assert!(parse_groups("A1").is_err());
    }

    // --- dates

    #[test]
    fn dates_in_all_three_forms() {
        let d = date(2026, 11, 22);
        for s in ["2026-11-22", "22/11/26", "22-Nov-26", "22-nov-26", "22-NOV-2026", "22/11/2026", " 22/11/26 "] {
            assert_eq!(parse_date("enable from", s), Ok(d), "{s}");
        }
        assert_eq!(parse_date("disable after", "1/2/26"), Ok(date(2026, 2, 1)));
        assert_eq!(parse_date("disable after", "2026-2-1"), Ok(date(2026, 2, 1)));
        assert_eq!(parse_date("disable after", "29/02/28"), Ok(date(2028, 2, 29)));
    }

    #[test]
    fn dates_rejected() {
        for s in [
            "22.11.26",
            "2026/11/22",
            "22-11",
            "tomorrow",
            "22-Nov-026",
            "22-November-26",
            "26-11-22x",
            "22/11/2",
            "１/1/26",
            "2026-11-22T00:00",
        ] {
            assert!(matches!(parse_date("enable from", s), Err(ProfileError::BadDate { .. })), "{s}");
        }
        let e = parse_date("enable from", "22.11.26").unwrap_err();
        assert_eq!(e.to_string(), "enable from \"22.11.26\": must be a date like 2026-11-22, 22/11/26 or 22-Nov-26");
        let e = parse_date("disable after", "31/02/26").unwrap_err();
        assert_eq!(e.to_string(), "disable after \"31/02/26\": is not a calendar date");
        assert!(parse_date("disable after", "29-Feb-27").is_err());
        assert!(parse_date("disable after", "2026-13-01").is_err());
        assert_eq!(parse_date("enable from", "").unwrap_err().to_string(), "enable from: is required");
    }

    #[test]
    fn dates_format_like_the_seed() {
        assert_eq!(format_date(date(2026, 11, 22)), "22-Nov-26");
        assert_eq!(format_date(date(2027, 1, 5)), "05-Jan-27");
        let d = date(2031, 7, 9);
        assert_eq!(parse_date("enable from", &format_date(d)), Ok(d));
    }

    #[test]
    fn date_window() {
        let a = date(2026, 11, 22);
        let b = date(2026, 11, 23);
        assert_eq!(check_date_window(Some(a), Some(b)), Ok(()));
        assert_eq!(check_date_window(Some(a), Some(a)), Ok(()));
        assert_eq!(check_date_window(None, Some(a)), Ok(()));
        assert_eq!(check_date_window(Some(b), None), Ok(()));
        assert_eq!(check_date_window(None, None), Ok(()));
        let e = check_date_window(Some(b), Some(a)).unwrap_err();
        assert_eq!(e.to_string(), "enable from (23-Nov-26) must not be after disable after (22-Nov-26)");
    }

    #[test]
    fn within_dates_is_inclusive() {
        let from = date(2026, 11, 22);
        let after = date(2026, 11, 30);
        let w = |today| within_dates(Some(from), Some(after), today);
        assert!(!w(date(2026, 11, 21)));
        assert!(w(from));
        assert!(w(date(2026, 11, 25)));
        assert!(w(after));
        assert!(!w(date(2026, 12, 1)));
        assert!(within_dates(None, None, from));
        assert!(within_dates(None, Some(after), date(2000, 1, 1)));
        assert!(!within_dates(Some(from), None, date(2026, 1, 1)));
        assert!(within_dates(Some(from), None, date(2099, 1, 1)));
    }

    // --- channel and status

    #[test]
    fn access_channel() {
        assert_eq!(AccessChannel::parse("cst"), Ok(AccessChannel::Cst));
        assert_eq!(AccessChannel::parse(" Pg "), Ok(AccessChannel::Pg));
        assert_eq!("PG".parse::<AccessChannel>(), Ok(AccessChannel::Pg));
        assert_eq!(AccessChannel::Cst.as_str(), "CST");
        assert_eq!(AccessChannel::Pg.to_string(), "PG");
        let e = AccessChannel::parse("smartcard").unwrap_err();
        assert_eq!(e.to_string(), "access channel \"smartcard\": must be CST or PG");
    }

    #[test]
    fn user_status() {
        assert_eq!(UserStatus::parse("enabled"), Ok(UserStatus::Enabled));
        assert_eq!(UserStatus::parse("DISABLED"), Ok(UserStatus::Disabled));
        assert_eq!("Enabled".parse::<UserStatus>(), Ok(UserStatus::Enabled));
        assert_eq!(UserStatus::Enabled.as_str(), "ENABLED");
        assert_eq!(UserStatus::Disabled.to_string(), "DISABLED");
        let e = UserStatus::parse("locked").unwrap_err();
        assert_eq!(e.to_string(), "user status \"locked\": must be enabled or disabled");
        assert!(UserStatus::parse("enabledx").is_err());
    }
}
