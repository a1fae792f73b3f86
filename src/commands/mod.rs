//! One file per command family, one function per verb: read the arguments, call domain and
//! storage, hand a value to output.

pub mod audit;
pub mod auth;
pub mod demo;
pub mod init;
pub mod meta;

use crate::cli::{AuditCommand, AuthCommand, Cli, Command, OtpCommand, PasswordCommand};
use crate::context::Ctx;

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
                Command::Init(_) | Command::Demo(_) | Command::Completions { .. } | Command::Man => {
                    unreachable!("handled above")
                }
            }
        }
    }
}
