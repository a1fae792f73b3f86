//! Each [`Call`] executed: who may run it, the one `ops` path it takes, and its reply shaped
//! as [`Part`]s for the format the envelope names. One file per command family, as the
//! commands are; a call that needs a person's answers part-way is a [`Flow`] (`ops::flow`).
//!
//! [`Flow`]: crate::ops::flow::Flow

pub mod audit;
pub mod auth;
pub mod hkex;
pub mod listing;
pub mod report;
pub mod request;
pub mod screen;
pub mod user;

use crate::api::{Call, Part};
use crate::domain::role::Role;
use crate::ops::flow;
use crate::ops::service::Exec;

/// Roles that may read a participant's profiles: its DAs, the operator and auditors.
pub const READERS: &[Role] = &[Role::Maker, Role::Checker, Role::Operator, Role::Auditor];

/// Every role (calls any signed-in account may make).
pub const ANYONE: &[Role] = &[Role::User, Role::Maker, Role::Checker, Role::Operator, Role::Auditor];

/// Execute one call.
pub fn run(x: &mut Exec<'_, '_>, call: Call) -> anyhow::Result<()> {
    check_numbers(&call)?;
    match call {
        Call::Next { attempt } => flow::resume(x, &attempt),
        Call::Login { user, smartcard, replaces, session_file } => {
            flow::start(x, Box::new(auth::Login::new(user, smartcard, replaces, session_file)))
        }
        Call::Logout => auth::logout(x),
        Call::Whoami => auth::whoami(x),
        Call::OtpRequest { user } => auth::otp_request(x, user),
        Call::OtpSetup { user, channel, accept_warning, qr_file } => {
            flow::start(x, Box::new(auth::OtpSetup::new(user, channel, accept_warning, qr_file)))
        }
        Call::PasswordReset { user } => flow::start(x, Box::new(auth::PasswordReset::new(user))),
        Call::PasswordChange { user } => flow::start(x, Box::new(auth::PasswordChange::new(user))),
        Call::AuthSettings { change } => flow::start(x, Box::new(auth::AuthSettings::new(change))),

        Call::UserCreate { user_id, profile, inline } => user::create(x, user_id, &profile, inline),
        Call::UserChange { user_id, profile, inline } => user::change(x, user_id, &profile, inline),
        Call::UserDelete { user_id, inline } => user::delete(x, user_id, inline),
        Call::UserUnlock { user_id, inline } => user::unlock(x, user_id, inline),
        Call::UserSmartcardReset { user_id, inline } => user::smartcard_reset(x, user_id, inline),
        Call::DaAssign { da_id, groups, inline } => user::assign(x, da_id, &groups, inline),
        Call::ImportEmails { file, dry_run, page, inline } => {
            user::import(x, user::BulkKind::Emails, file, dry_run.then_some(page_of(page)), inline)
        }
        Call::ImportUsers { file, dry_run, page, inline } => {
            user::import(x, user::BulkKind::Users, file, dry_run.then_some(page_of(page)), inline)
        }
        Call::Enquire { user_id } => listing::enquire(x, &user_id),
        Call::FindByName { name, participant, house, all } => {
            listing::find(x, &name, participant.as_deref(), house, all)
        }
        Call::Listing(q) => listing::listing(x, &q),
        Call::Report(q) => report::run(x, &q),
        Call::RequestList(q) => request::list(x, &q),
        Call::RequestShow { id, page } => request::show(x, id, page_of(page)),
        Call::Approve { ids, smartcard, yes } => flow::start(x, Box::new(request::Approve::new(ids, smartcard, yes))),
        Call::Reject { id, reason } => request::reject(x, id, &reason),
        Call::CancelRequest { id } => request::cancel(x, id),
        Call::Resubmit { id } => request::resubmit(x, id),
        Call::Groups => listing::groups(x),
        Call::History { user_id } => report::history(x, &user_id),
        Call::AuditVerify { checkpoint, checkpoint_name } => audit::verify(x, checkpoint, checkpoint_name),
        Call::Backup { out, system } => flow::start(x, Box::new(audit::Backup::new(out, system))),

        other => hkex::run(x, other),
    }
}

/// A page number (checked by `check_numbers`) as an index.
fn page_of(page: i64) -> usize {
    usize::try_from(page).unwrap_or(1)
}

/// The numbers a call carries against their ranges (`domain::bounds`), before anything is read
/// (DA4's `--accounts` is checked by `exchange::da4`, beside the ID space it must also fit).
fn check_numbers(call: &Call) -> Result<(), crate::error::DmsError> {
    use crate::api::ReportKind;
    use crate::domain::bounds;
    match call {
        Call::Listing(q) => {
            bounds::INACTIVE_DAYS.check_opt(q.inactive_days)?;
        }
        Call::Report(q) => {
            let days = match q.kind {
                ReportKind::Dormant => bounds::DORMANT_DAYS,
                _ => bounds::EXPIRING_DAYS,
            };
            days.check_opt(q.days)?;
            bounds::AFTER_SEQ.check_opt(q.after_seq)?;
        }
        Call::RequestShow { page, .. } | Call::ImportEmails { page, .. } | Call::ImportUsers { page, .. } => {
            bounds::PAGE.check(*page)?;
        }
        Call::RemindExpiring { days, .. } => {
            bounds::REMIND_DAYS.check_opt(*days)?;
        }
        _ => {}
    }
    Ok(())
}

/// A progress callback that streams `Part::Progress` (a bar on the client's terminal).
pub fn progress_part(n: u64) -> Part {
    Part::Progress(n)
}
