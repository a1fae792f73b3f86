//! Smartcard PINs as `domain::smartcard` rules them: a card issued by the exchange, a PIN reset
//! by eService SCard 1 (a DA) or by the DAs (a user) — each mails the holder a one-time initial
//! PIN — and the holder choosing its own PIN with it at the next smartcard sign-in.

use crate::domain::account::{Account, Smartcard, UserProfile};
use crate::domain::credentials::Factor;
use crate::domain::otp;
use crate::domain::smartcard::{self as rules, ResetBy};
use crate::domain::user_id::UserId;
use crate::error::{invalid, locked, DmsError};
use crate::mail;
use crate::ops::signin::{self, audit_self, hkt, show_time};
use crate::ops::work::Work;
use crate::storage::{audit, pins, sessions, users};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;
use zeroize::Zeroizing;

/// Why an initial PIN is sent, as its mail and audit row say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// A card issued (`hkex smartcard issue`).
    Issued,
    /// A forgotten PIN reset.
    Reset(ResetBy),
    /// A key rotation voided the outstanding one (its keyed hash cannot move to the new key).
    Reissued,
}

impl Why {
    fn reason(self) -> &'static str {
        match self {
            Why::Issued => "issued",
            Why::Reset(_) | Why::Reissued => "reset",
        }
    }

    fn sentence(self) -> &'static str {
        match self {
            Why::Issued => "The exchange issued you a smartcard for your Participant Gateway access.",
            Why::Reset(ResetBy::Scard1) => "The exchange reset your smartcard PIN (eService SCard 1).",
            Why::Reset(ResetBy::Das) => {
                "Your Delegated Administrators reset your smartcard PIN (Smartcard Password Reset)."
            }
            Why::Reissued => {
                "The initial smartcard PIN mailed to you before no longer works (the exchange renewed its keys)."
            }
        }
    }
}

/// Mail the holder of `p`'s card a new one-time initial PIN: its keyed hash kept, any PIN that
/// worked so far gone. The rules (`domain::smartcard`) are the caller's to have checked.
fn send_initial_pin(w: &mut Work<'_>, p: &UserProfile, card: &Smartcard, why: Why) -> anyhow::Result<DateTime<Utc>> {
    let key = w.key()?.clone();
    send_initial_pin_under(w, &key, p, card, why)
}

fn send_initial_pin_under(
    w: &mut Work<'_>,
    key: &crate::crypto::MasterKey,
    p: &UserProfile,
    card: &Smartcard,
    why: Why,
) -> anyhow::Result<DateTime<Utc>> {
    let uid = &p.user_id;
    let to = p.email.clone().ok_or_else(|| DmsError::from(rules::Refusal::NoAddress { user: uid.to_string() }))?;
    let pin = Zeroizing::new(loop {
        if let Some(c) = otp::email_otp_from_random(w.rng.next_u64()) {
            break c;
        }
    });
    let hash = key.initial_pin_hash(uid.as_str(), &pin);
    pins::put(&w.tx, uid, &hash, w.now, why.reason())?;
    users::set_pin_phc(&w.tx, uid, None)?;
    let valid_until = w.now + rules::initial_pin_validity();
    let until = hkt(valid_until).format("%d-%b-%Y %H:%M").to_string();
    w.send_initial_pin(uid, &hash, mail::initial_pin(&to, &card.srn, &pin, why.sentence(), &until));
    Ok(valid_until)
}

/// What issuing or resetting told.
pub struct Sent {
    pub srn: String,
    pub valid_until: DateTime<Utc>,
    /// The holder's address, masked.
    pub to: String,
}

/// `hkex smartcard issue`: a new card (from the launch for a PG user, never a DA), its initial
/// PIN mailed to the holder. The card replaces any earlier one.
pub fn issue(
    w: &mut Work<'_>,
    op: &UserId,
    user: &UserId,
    srn: String,
    cert_expiry: NaiveDateTime,
) -> anyhow::Result<Sent> {
    let prof = users::get(&w.tx, user)?.ok_or_else(|| invalid(format!("no user {user}")))?;
    let (t, today) = (w.policy()?.timeline, hkt(w.now).date_naive());
    rules::may_issue(&prof, &t, today).map_err(DmsError::from)?;
    let previous = prof.smartcard.as_ref().map(|c| c.srn.clone());
    let card = Smartcard { srn: srn.clone(), cert_expiry, pin_phc: None, initial_pin: false };
    let updated = UserProfile { smartcard: Some(card.clone()), ..prof.clone() };
    users::update_profile(&w.tx, &updated)?;
    let valid_until = send_initial_pin(w, &updated, &card, Why::Issued)?;
    w.audit(&audit::Event {
        actor: Some(op.as_str()),
        action: "smartcard.issued",
        subject: Some(user.as_str()),
        participant_id: prof.participant_id(),
        detail: json!({
            "srn": srn, "replaces": previous, "certificate_expiry": cert_expiry.to_string(),
            "pin": "initial PIN mailed to the holder",
        })
        .to_string(),
    })?;
    Ok(Sent { srn, valid_until, to: masked(&prof) })
}

/// A forgotten PIN reset — eService SCard 1 by the exchange for a DA, Smartcard Password Reset
/// by a DA maker and checker for a user — until decommissioning (PG users: always). The
/// holder's sessions end, the lock the forgotten PIN led to is lifted, and a one-time initial
/// PIN is mailed to the holder. Returns what to tell, and the detail of the caller's audit row.
pub fn reset(w: &mut Work<'_>, user: &UserId, how: ResetBy) -> anyhow::Result<(Sent, serde_json::Value)> {
    let mut a = users::account(&w.tx, user)?.ok_or_else(|| invalid(format!("no user {user}")))?;
    let (t, today) = (w.policy()?.timeline, hkt(w.now).date_naive());
    rules::may_reset(&a.profile, how, &t, today).map_err(DmsError::from)?;
    let card = a.profile.smartcard.clone().ok_or_else(|| anyhow::anyhow!("a card checked to exist"))?;
    let valid_until = send_initial_pin(w, &a.profile, &card, Why::Reset(how))?;
    let was_locked = a.cred.locked();
    a.cred.unlock();
    users::save_credential(&w.tx, a.id(), &a.cred)?;
    let ended = sessions::end_all_for_user(&w.tx, a.id(), None, w.now, "smartcard PIN reset")?;
    let detail = json!({
        "srn": card.srn, "by": match how { ResetBy::Scard1 => "eService SCard 1", ResetBy::Das => "Smartcard Password Reset" },
        "unlocked": was_locked, "sessions_ended": ended, "pin": "initial PIN mailed to the holder",
    });
    Ok((Sent { srn: card.srn, valid_until, to: masked(&a.profile) }, detail))
}

/// eService SCard 1, by the exchange operator `op`, with its audit row.
pub fn scard1(w: &mut Work<'_>, op: &UserId, da: &UserId) -> anyhow::Result<Sent> {
    let (sent, detail) = reset(w, da, ResetBy::Scard1)?;
    let participant = users::get(&w.tx, da)?.and_then(|p| p.participant_id().map(str::to_string));
    w.audit(&audit::Event {
        actor: Some(op.as_str()),
        action: "smartcard.pin.reset",
        subject: Some(da.as_str()),
        participant_id: participant.as_deref(),
        detail: detail.to_string(),
    })?;
    Ok(sent)
}

/// A key rotation, in its transaction: every outstanding initial PIN is replaced by a new one
/// under the `new` key and mailed to its holder (a keyed hash cannot be moved). Returns how
/// many.
pub fn reissue_all(w: &mut Work<'_>, new: &crate::crypto::MasterKey) -> anyhow::Result<usize> {
    let holders = pins::holders(&w.tx)?;
    for uid in &holders {
        let Some(p) = users::get(&w.tx, uid)? else { continue };
        let Some(card) = p.smartcard.clone() else { continue };
        send_initial_pin_under(w, new, &p, &card, Why::Reissued)?;
    }
    Ok(holders.len())
}

fn masked(p: &UserProfile) -> String {
    p.email.as_deref().map(crate::domain::profile::mask_email).unwrap_or_default()
}

/// At a smartcard sign-in of an account whose card has a one-time initial PIN: is `typed` it?
/// Ok(()) when it is (nothing changes: the holder chooses its own next); a wrong PIN counts as
/// one; a right one past its 7 days is refused.
pub fn check_initial(w: &mut Work<'_>, a: &mut Account, typed: &str, step: &str) -> anyhow::Result<()> {
    let stored = pins::get(&w.tx, a.id())?;
    let given = w.key()?.initial_pin_hash(a.id().as_str(), typed);
    let Some(stored) = stored.filter(|s| crate::crypto::ct_eq(&s.code_hash, &given)) else {
        return Err(signin::fail(w, a, Factor::Pin, step)?);
    };
    if !rules::initial_pin_usable(stored.issued_at, w.now) {
        return Err(locked(format!(
            "the initial PIN expired on {}: ask for a new one ({})",
            show_time(stored.issued_at + rules::initial_pin_validity()),
            if a.role().is_da() {
                "eService SCard 1"
            } else {
                "your Delegated Administrator: Smartcard Password Reset"
            }
        ))
        .into());
    }
    Ok(())
}

/// The holder's own PIN, chosen with the initial one (checked again here, in the transaction
/// that sets it): `new_phc` its argon2id hash, made before the write lock.
pub fn choose_pin(w: &mut Work<'_>, a: &mut Account, initial: &str, new_phc: &str) -> anyhow::Result<()> {
    check_initial(w, a, initial, "smartcard")?;
    users::set_pin_phc(&w.tx, a.id(), Some(new_phc))?;
    pins::remove(&w.tx, a.id(), None)?;
    audit_self(w, a, "smartcard.pin.chosen", json!({ "srn": a.profile.smartcard.as_ref().map(|c| &c.srn) }))?;
    if let Some(to) = &a.profile.email {
        w.notify(mail::notification(
            to,
            "Smartcard PIN changed",
            "You chose the PIN of your smartcard; the one-time initial PIN no longer works.",
        ));
    }
    if let Some(card) = a.profile.smartcard.as_mut() {
        card.pin_phc = Some(new_phc.to_string());
        card.initial_pin = false;
    }
    Ok(())
}
