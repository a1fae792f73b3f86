//! One file per command family, one function per verb: read the arguments, call domain and
//! storage, hand a value to output.

pub mod audit;
pub mod auth;
pub mod demo;
pub mod hkex;
pub mod init;
pub mod listing;
pub mod meta;
pub mod migrate;
pub mod report;
pub mod request;
pub mod user;

use crate::cli::{
    AccountCommand, AuditCommand, AuthCommand, Cli, Command, Da3Command, DaCommand, HkexCommand, HolidayCommand,
    OtpCommand, ParticipantCommand, PasswordCommand, RequestCommand, SettingsCommand, UserCommand,
};
use crate::context::Ctx;
use crate::domain::role::Role;
use crate::error::not_permitted;
use crate::session::Identity;

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let g = cli.global;
    match cli.command {
        Command::Init(a) => init::cmd_init(&g, a),
        Command::Demo(a) => demo::cmd_demo(&g, a),
        Command::Completions { shell } => meta::cmd_completions(shell),
        Command::Man => meta::cmd_man(),
        other => {
            let mut ctx = Ctx::open(&g)?;
            match other {
                Command::Login(a) => auth::cmd_login(&mut ctx, a),
                Command::Logout => auth::cmd_logout(&mut ctx),
                Command::Whoami => auth::cmd_whoami(&mut ctx),
                Command::Otp(OtpCommand::Request { user }) => auth::cmd_otp_request(&mut ctx, user),
                Command::Otp(OtpCommand::Setup(a)) => auth::cmd_otp_setup(&mut ctx, a),
                Command::Password(PasswordCommand::Reset { user, otp, password_stdin }) => {
                    auth::cmd_password_reset(&mut ctx, user, otp, password_stdin)
                }
                Command::Password(PasswordCommand::Change { user, password_stdin }) => {
                    auth::cmd_password_change(&mut ctx, user, password_stdin)
                }
                Command::Auth(AuthCommand::Settings { delete_device, use_email }) => {
                    auth::cmd_auth_settings(&mut ctx, delete_device, use_email)
                }
                Command::Audit(AuditCommand::Verify) => audit::cmd_audit_verify(&mut ctx),
                Command::User(UserCommand::Create { user_id, generate, channel, profile, inline }) => {
                    user::cmd_user_create(&mut ctx, user_id, generate, channel, profile, inline)
                }
                Command::User(UserCommand::Change { id, profile, inline }) => {
                    user::cmd_user_change(&mut ctx, id, profile, inline)
                }
                Command::User(UserCommand::Delete { id, inline }) => user::cmd_user_delete(&mut ctx, id, inline),
                Command::User(UserCommand::Unlock { id, inline }) => user::cmd_user_unlock(&mut ctx, id, inline),
                Command::User(UserCommand::Enquire { id }) => user::cmd_user_enquire(&mut ctx, id),
                Command::User(UserCommand::ImportEmails { file, dry_run, inline }) => {
                    user::cmd_user_import_emails(&mut ctx, &file, dry_run, inline)
                }
                Command::User(UserCommand::Import { file, dry_run, inline }) => {
                    user::cmd_user_import(&mut ctx, &file, dry_run, inline)
                }
                Command::Da(DaCommand::Assign { da_id, groups, inline }) => {
                    user::cmd_da_assign(&mut ctx, da_id, &groups, inline)
                }
                Command::Request(RequestCommand::List { status, participant }) => {
                    request::cmd_request_list(&mut ctx, status, participant)
                }
                Command::Request(RequestCommand::Show { id }) => request::cmd_request_show(&mut ctx, id),
                Command::Request(RequestCommand::Approve { ids, otp, password_stdin, yes }) => {
                    request::cmd_request_approve(&mut ctx, &ids, otp, password_stdin, yes)
                }
                Command::Request(RequestCommand::Reject { id, reason }) => {
                    request::cmd_request_reject(&mut ctx, id, &reason)
                }
                Command::Request(RequestCommand::Cancel { id }) => request::cmd_request_cancel(&mut ctx, id),
                Command::Listing(a) => listing::cmd_listing(&mut ctx, a),
                Command::Hkex(HkexCommand::Participant(ParticipantCommand::Add {
                    id,
                    name,
                    house,
                    max_users,
                    domains,
                })) => hkex::cmd_participant_add(&mut ctx, &id, &name, &house, max_users, &domains),
                Command::Hkex(HkexCommand::Participant(ParticipantCommand::List)) => {
                    hkex::cmd_participant_list(&mut ctx)
                }
                Command::Hkex(HkexCommand::Participant(ParticipantCommand::Show { id })) => {
                    hkex::cmd_participant_show(&mut ctx, &id)
                }
                Command::Hkex(HkexCommand::Da3(Da3Command::Add { participant, role, surname, other_names, email })) => {
                    hkex::cmd_da3_add(&mut ctx, &participant, &role, &surname, &other_names, &email)
                }
                Command::Hkex(HkexCommand::Da3(Da3Command::Unlock { da_id })) => {
                    hkex::cmd_da3(&mut ctx, da_id.as_str(), hkex::Da3Action::Unlock)
                }
                Command::Hkex(HkexCommand::Da3(Da3Command::Reset { da_id })) => {
                    hkex::cmd_da3(&mut ctx, da_id.as_str(), hkex::Da3Action::Reset)
                }
                Command::Hkex(HkexCommand::Da3(Da3Command::Enable { da_id })) => {
                    hkex::cmd_da3(&mut ctx, da_id.as_str(), hkex::Da3Action::Enable)
                }
                Command::Hkex(HkexCommand::Da3(Da3Command::Disable { da_id })) => {
                    hkex::cmd_da3(&mut ctx, da_id.as_str(), hkex::Da3Action::Disable)
                }
                Command::Hkex(HkexCommand::Da3(Da3Command::Delete { da_id })) => {
                    hkex::cmd_da3(&mut ctx, da_id.as_str(), hkex::Da3Action::Delete)
                }
                Command::Hkex(HkexCommand::Da3(Da3Command::AssignDa { user_id, role })) => {
                    hkex::cmd_da3_assign_da(&mut ctx, user_id.as_str(), &role)
                }
                Command::Hkex(HkexCommand::Da4 { participant, accounts }) => {
                    hkex::cmd_da4(&mut ctx, &participant, accounts)
                }
                Command::Hkex(HkexCommand::Settings(SettingsCommand::Show)) => hkex::cmd_settings_show(&mut ctx),
                Command::Hkex(HkexCommand::Settings(SettingsCommand::Set { key, value })) => {
                    hkex::cmd_settings_set(&mut ctx, &key, &value)
                }
                Command::Hkex(HkexCommand::Holiday(HolidayCommand::Add { date, name })) => {
                    hkex::cmd_holiday_add(&mut ctx, &date, &name)
                }
                Command::Hkex(HkexCommand::Holiday(HolidayCommand::Remove { date })) => {
                    hkex::cmd_holiday_remove(&mut ctx, &date)
                }
                Command::Hkex(HkexCommand::Holiday(HolidayCommand::List)) => hkex::cmd_holiday_list(&mut ctx),
                Command::Hkex(HkexCommand::Participant(ParticipantCommand::Import { file })) => {
                    migrate::cmd_participant_import(&mut ctx, &file)
                }
                Command::Hkex(HkexCommand::ImportSmartcardUsers { file }) => {
                    migrate::cmd_import_smartcard_users(&mut ctx, &file)
                }
                Command::Report(a) => report::cmd_report(&mut ctx, a),
                Command::Hkex(HkexCommand::Account(AccountCommand::Reset { user_id })) => {
                    hkex::cmd_account_reset(&mut ctx, user_id.as_str())
                }
                Command::Hkex(HkexCommand::Account(AccountCommand::Add { role, surname, other_names, email })) => {
                    hkex::cmd_account_add(&mut ctx, &role, &surname, &other_names, &email)
                }
                Command::Init(_) | Command::Demo(_) | Command::Completions { .. } | Command::Man => {
                    unreachable!("handled above")
                }
            }
        }
    }
}

/// The signed-in identity, if its role is one of `roles`; DAs and auditors are also held to
/// the DMS service hours (SPEC §3).
pub fn signed_in(ctx: &mut Ctx, roles: &[Role]) -> anyhow::Result<Identity> {
    let id = crate::session::require(&mut ctx.store, &ctx.session_path, ctx.now)?;
    if !roles.contains(&id.role) {
        let allowed: Vec<&str> = roles.iter().map(|r| r.label()).collect();
        let msg = if id.role == Role::User {
            "business users cannot use DMS functions".to_string()
        } else {
            format!("this needs the role {} (you are {})", allowed.join(" or "), id.role.label())
        };
        return Err(not_permitted(msg).into());
    }
    let tx = ctx.store.read()?;
    let open = crate::signin::service_hours(&tx, id.role.audience(), ctx.now)?;
    drop(tx);
    open?;
    Ok(id)
}

/// Roles that may read a participant's profiles: its DAs, the operator and auditors.
pub const READERS: &[Role] = &[Role::Maker, Role::Checker, Role::Operator, Role::Auditor];
