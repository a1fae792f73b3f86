//! The command tree (clap derive). Names and flags here are the scripting contract of SPEC §8.

use crate::domain::user_id::UserId;
use crate::output::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "dms",
    version,
    about = "Security Management Functions (DMS): maker-checker user maintenance and two-factor sign-in",
    long_about = "dms re-creates the Security Management Functions of a clearing system's terminal access: \
Delegated Administrators maintain their users under maker-checker, everyone signs in with a password and a \
one-time password (authenticator app or e-mail), and auditors pull listings and reports - all against one \
local SQLite file.\n\nSecrets are never taken from the command line: use --password-stdin or a terminal prompt.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The database file.
    #[arg(long, global = true, env = "DMS_DB", default_value = "dms.db", value_name = "PATH")]
    pub db: PathBuf,
    /// Output format.
    #[arg(long, global = true, env = "DMS_FORMAT", value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The file that holds this shell's sign-in [default: <db>.session].
    #[arg(long, global = true, env = "DMS_SESSION", value_name = "PATH")]
    pub session: Option<PathBuf>,
}

pub fn user_id(s: &str) -> Result<UserId, String> {
    UserId::parse(s).map_err(|e| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new database (file mode 0600) from schema.sql.
    Init(InitArgs),
    /// Run a complete, self-checking walk-through on a throwaway database.
    Demo(DemoArgs),
    /// Sign in: user ID, password and one-time password; writes the session file.
    Login(LoginArgs),
    /// End this shell's session.
    Logout,
    /// Show who is signed in (checks the session; no password hashing).
    Whoami,
    /// One-time passwords: request an e-mail OTP, set up the OTP channel.
    #[command(subcommand)]
    Otp(OtpCommand),
    /// Password self-service: Forgot/Reset and Change Password.
    #[command(subcommand)]
    Password(PasswordCommand),
    /// Self-service authentication settings (seed Appendix D d).
    #[command(subcommand)]
    Auth(AuthCommand),
    /// The hash-chained audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Also load a demonstration participant with its DAs and users.
    #[arg(long)]
    pub demo: bool,
    /// Let DMS_NOW (and DMS_SEED) pin the clock and randomness of this database: for tests only.
    #[arg(long)]
    pub allow_test_clock: bool,
    /// Create the first exchange operator, HKEXOP01, with this e-mail address.
    #[arg(long, value_name = "EMAIL")]
    pub operator_email: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's folder instead of deleting it, and print where it is.
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// User ID (asked for on a terminal when left out).
    #[arg(long, value_parser = user_id)]
    pub user: Option<UserId>,
    /// Read the password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// The one-time password (from the app, or the e-mail).
    #[arg(long, value_name = "CODE")]
    pub otp: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum OtpCommand {
    /// Send an e-mail OTP to the user's registered address (first-time set-up, e-mail channel).
    Request {
        #[arg(long, value_parser = user_id)]
        user: UserId,
    },
    /// First logon without an OTP channel: register an authenticator app, or choose e-mail.
    Setup(OtpSetupArgs),
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("channel").required(true).args(["app", "email"]))]
pub struct OtpSetupArgs {
    #[arg(long, value_parser = user_id)]
    pub user: UserId,
    /// Register an authenticator app (prints the otpauth:// key URI, and a QR code on a terminal).
    #[arg(long)]
    pub app: bool,
    /// Use e-mail OTP instead (no self-service password reset).
    #[arg(long)]
    pub email: bool,
    /// Accept the warning that e-mail OTP users cannot reset their own password.
    #[arg(long, requires = "email")]
    pub accept_warning: bool,
    /// Read the password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum PasswordCommand {
    /// Forgot/Reset: set a new password, proven by an e-mail OTP (first-time logon) or a TOTP
    /// code (self-service reset, app users only).
    Reset {
        #[arg(long, value_parser = user_id)]
        user: UserId,
        #[arg(long, value_name = "CODE")]
        otp: Option<String>,
        /// Read the new password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change Password: new password (twice on a terminal), then the current one. With
    /// --password-stdin: line 1 the new password, line 2 the current one.
    Change {
        /// Whose password (when not signed in, e.g. an expired password).
        #[arg(long, value_parser = user_id)]
        user: Option<UserId>,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Delete the registered device, or switch from app to e-mail OTP.
    #[command(group = clap::ArgGroup::new("change").required(true).args(["delete_device", "use_email"]))]
    Settings {
        /// Delete the registered mobile device: the next logon sets up the OTP channel again.
        #[arg(long)]
        delete_device: bool,
        /// Receive OTPs by e-mail instead of the app from now on.
        #[arg(long)]
        use_email: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and name the first bad row, if any.
    Verify,
}
