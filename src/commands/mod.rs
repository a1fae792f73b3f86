//! The commands: one folder per family, one file per verb (jj's `commands/<family>/<verb>.rs`).
//! Each reads its arguments and secrets, calls one `ops` function inside `Ctx::transact`, and
//! hands the result to `output`: glue only.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod demo;
pub mod hkex;
pub mod init;
pub mod listing;
pub mod meta;
pub mod report;
pub mod request;
pub mod user;

use crate::cli::{
    AuditCommand, AuthCommand, Cli, Command, DaCommand, OtpCommand, PasswordCommand, RequestCommand, UserCommand,
};
use crate::context::{Ctx, Mode, Work};
use crate::domain::role::Role;
use crate::ops::session::{self, Actor};
use crate::session_file;
use zeroize::Zeroizing;

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let g = cli.global;
    match cli.command {
        Command::Init(a) => init::run(&g, a),
        Command::Restore(a) => backup::restore(&g, a),
        Command::Demo(a) => demo::run(&g, a),
        Command::Completions { shell } => meta::completions(shell),
        Command::Man(a) => meta::man(a, g.format),
        other => {
            let mut ctx = Ctx::open(&g)?;
            let ctx = &mut ctx;
            match other {
                Command::Login(a) => auth::login::run(ctx, a),
                Command::Logout => auth::session::logout(ctx),
                Command::Whoami => auth::session::whoami(ctx),
                Command::Otp(OtpCommand::Request { user }) => auth::otp::request(ctx, user),
                Command::Otp(OtpCommand::Setup(a)) => auth::otp::setup(ctx, a),
                Command::Password(PasswordCommand::Reset { user, otp, password_stdin }) => {
                    auth::password::reset(ctx, user, otp, password_stdin)
                }
                Command::Password(PasswordCommand::Change { user, password_stdin }) => {
                    auth::password::change(ctx, user, password_stdin)
                }
                Command::Auth(AuthCommand::Settings { delete_device, use_email: _, otp, password_stdin }) => {
                    auth::settings::run(ctx, delete_device, otp, password_stdin)
                }
                Command::Audit(AuditCommand::Verify { checkpoint }) => audit::verify(ctx, checkpoint.as_deref()),
                Command::User(UserCommand::Create { user_id, generate: _, profile, inline }) => {
                    user::create::run(ctx, user_id, profile, inline)
                }
                Command::User(UserCommand::Change { id, profile, inline }) => {
                    user::change::run(ctx, id, profile, inline)
                }
                Command::User(UserCommand::Delete { id, inline }) => user::delete::delete(ctx, id, inline),
                Command::User(UserCommand::Unlock { id, inline }) => user::delete::unlock(ctx, id, inline),
                Command::User(UserCommand::Enquire { id: Some(id), .. }) => user::enquire::run(ctx, id),
                Command::User(UserCommand::Enquire { id: None, name, participant, all, house }) => {
                    user::enquire::list(ctx, name.as_deref().unwrap_or_default(), participant.as_deref(), house, all)
                }
                Command::User(UserCommand::ImportEmails { file, dry_run, inline }) => {
                    user::import::emails(ctx, &file, dry_run, inline)
                }
                Command::User(UserCommand::Import { file, dry_run, inline }) => {
                    user::import::users(ctx, &file, dry_run, inline)
                }
                Command::Da(DaCommand::Assign { da_id, groups, inline }) => {
                    user::assign::run(ctx, da_id, &groups, inline)
                }
                Command::Request(RequestCommand::List { status, participant, house }) => {
                    request::list::run(ctx, status, participant, house)
                }
                Command::Request(RequestCommand::Show { id, page }) => request::show::run(ctx, id, page),
                Command::Request(RequestCommand::Approve { ids, otp, password_stdin, smartcard, yes }) => {
                    request::approve::run(ctx, &ids, otp, password_stdin, smartcard, yes)
                }
                Command::Request(RequestCommand::Reject { id, reason }) => request::decide::reject(ctx, id, &reason),
                Command::Request(RequestCommand::Cancel { id }) => request::decide::cancel(ctx, id),
                Command::Listing(a) => listing::run(ctx, a),
                Command::Report(a) => report::run(ctx, a),
                Command::Hkex(c) => hkex::dispatch(ctx, c),
                Command::Backup(a) => backup::backup(ctx, a),
                Command::Init(_)
                | Command::Restore(_)
                | Command::Demo(_)
                | Command::Completions { .. }
                | Command::Man(_) => {
                    unreachable!("handled above")
                }
            }
        }
    }
}

/// Roles that may read a participant's profiles: its DAs, the operator and auditors.
pub const READERS: &[Role] = &[Role::Maker, Role::Checker, Role::Operator, Role::Auditor];

/// Every role (commands any signed-in account may run).
pub const ANYONE: &[Role] = &[Role::User, Role::Maker, Role::Checker, Role::Operator, Role::Auditor];

/// The token of this shell's session file, if any.
pub fn session_token(ctx: &Ctx) -> anyhow::Result<Option<Zeroizing<Vec<u8>>>> {
    session_file::read_token(&ctx.session_path)
}

/// Run `f` for the signed-in account (one of `roles`) in the command's one transaction. The
/// session check is inside it. A `Mode::Read` command takes the write lock only when the
/// session check must write (its idle timer is due, or it has expired).
pub fn signed_in<T>(
    ctx: &mut Ctx,
    roles: &[Role],
    mode: Mode,
    f: impl FnOnce(&mut Work<'_>, &mut Actor) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let token = session_token(ctx)?;
    let mode = match mode {
        Mode::Write => Mode::Write,
        Mode::Read if session::needs_write(ctx.store.conn(), token.as_ref().map(|t| t.as_slice()), ctx.now())? => {
            Mode::Write
        }
        Mode::Read => Mode::Read,
    };
    ctx.transact(mode, |w| {
        let mut actor = session::require(w, token.as_ref().map(|t| t.as_slice()), roles)?;
        f(w, &mut actor)
    })
}

/// Run `f` as the exchange operator (signed in), or, with `system` (cron), as the
/// operating-system account that owns the database files, without a DMS sign-in: that account
/// can read the database and its key file anyway, and dms uses no one else's files. `f` gets
/// the operator's user ID, or None for `system`.
pub fn operator_or_system<T>(
    ctx: &mut Ctx,
    system: bool,
    mode: Mode,
    f: impl FnOnce(&mut Work<'_>, Option<&crate::domain::user_id::UserId>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    if system {
        return ctx.transact(mode, |w| f(w, None));
    }
    signed_in(ctx, &[Role::Operator], mode, |w, op| {
        let id = op.account.id().clone();
        f(w, Some(&id))
    })
}
