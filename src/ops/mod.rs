//! The operations: where each rule is *enforced*, on one path (cargo's `ops::*`, kanidm's
//! credential module). [`service::Service::execute`] runs every call of the API (`crate::api`)
//! — for an embedded command in its own process, for `dms serve` on behalf of its clients — and
//! [`calls`] maps each call onto the functions here, each in one transaction
//! ([`service::Db::transact`] on a [`work::Work`]).
//!
//! - [`service`], [`work`], [`flow`]: executing calls, their transactions, multi-step attempts;
//! - [`calls`]: each call's rules of access and its reply;
//! - [`audit`]: verifying the audit trail as a whole (rows, keyed chain, checkpoint);
//! - [`signin`]: load, the account gate, each factor, failure counting, sessions opened;
//! - [`session`]: every command's session check (limits, then the gate);
//! - [`credentials`]: the effects of the credential transitions (reset, set-up, change);
//! - [`maker_checker`]: the one engine for inline, queued, batch and bulk requests;
//! - [`exchange`]: DA3, DA4, participants, settings, holidays, the exchange's accounts;
//! - [`migration`]: the smartcard-era imports;
//! - [`keys`]: which key file belongs to the database, recovery, and key rotation;
//! - [`backup`]: encrypted online backups and verified restores;
//! - [`reminders`]: password-expiry and 2FA set-up reminders, each sent once;
//! - [`outbox`]: undeliverable notifications, kept and sent again;
//! - [`views`]: who may read what (enquire, listing and report scopes).

pub mod audit;
pub mod backup;
pub mod calls;
pub mod credentials;
pub mod exchange;
pub mod flow;
pub mod keys;
pub mod maker_checker;
pub mod migration;
pub mod outbox;
pub mod reminders;
pub mod service;
pub mod session;
pub mod signin;
pub mod smartcard;
pub mod views;
pub mod work;
