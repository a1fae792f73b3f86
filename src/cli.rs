//! The command tree (clap derive). Names and flags here are the scripting contract of SPEC §8.

use crate::domain::user_id::{ClearingHouse, UserId};
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
    #[arg(long, global = true, env = "DMS_DB", hide_env_values = true, default_value = "dms.db", value_name = "PATH")]
    pub db: PathBuf,
    /// Output format.
    #[arg(long, global = true, env = "DMS_FORMAT", hide_env_values = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The file that holds this shell's sign-in [default: <db>.session].
    #[arg(long, global = true, env = "DMS_SESSION", hide_env_values = true, value_name = "PATH")]
    pub session: Option<PathBuf>,
}

pub fn user_id(s: &str) -> Result<UserId, String> {
    UserId::parse(s).map_err(|e| e.to_string())
}

pub fn house(s: &str) -> Result<ClearingHouse, String> {
    ClearingHouse::parse(s).map_err(|e| e.to_string())
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
    /// Maintain user profiles (DMS, maker-checker).
    #[command(subcommand)]
    User(UserCommand),
    /// Delegated Administrators: assign business user groups (DMS, maker-checker).
    #[command(subcommand)]
    Da(DaCommand),
    /// Pending maker-checker requests: list, show, approve, reject, cancel.
    #[command(subcommand)]
    Request(RequestCommand),
    /// User Profile Listing, with the quota footer.
    Listing(ListingArgs),
    /// Exchange operator functions: participants, eServices DA3/DA4, settings, holidays.
    #[command(subcommand)]
    Hkex(HkexCommand),
    /// Reports for auditors: readiness, locked, expiring, dormant, requests, audit, da4-fees.
    Report(ReportArgs),
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
    #[arg(long, value_name = "CODE", conflicts_with = "smartcard")]
    pub otp: Option<String>,
    /// Legacy smartcard sign-in: the smartcard PIN (6-8 digits) instead of password and OTP;
    /// refused after smartcard decommissioning except on the PG access channel.
    #[arg(long)]
    pub smartcard: bool,
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
    /// Also write the QR code of the key URI to FILE: an SVG or PNG image by its extension
    /// (.svg, .png), created 0600 and never over an existing file. It holds the secret key:
    /// delete it once the app has scanned it.
    #[arg(long, value_name = "FILE", conflicts_with = "email")]
    pub qr: Option<PathBuf>,
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
        /// A current code of your authenticator app (asked on a terminal).
        #[arg(long, value_name = "CODE")]
        otp: Option<String>,
        /// Read the current password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and name the first bad row, if any.
    Verify,
}

/// Authorise at once: the checker types the authorisation code (password and OTP) here.
#[derive(Debug, Clone, Args)]
pub struct InlineArgs {
    /// Checker ID: authorise inline, as on the seed's confirmation screen.
    #[arg(long, value_parser = user_id, value_name = "ID")]
    pub checker: Option<UserId>,
    /// The checker's one-time password.
    #[arg(long, value_name = "CODE", requires = "checker", conflicts_with = "smartcard")]
    pub otp: Option<String>,
    /// Read the checker's password (or smartcard PIN) from standard input.
    #[arg(long, requires = "checker")]
    pub password_stdin: bool,
    /// A smartcard-era checker authorises with its smartcard PIN as the authorisation code.
    #[arg(long, requires = "checker")]
    pub smartcard: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ProfileArgs {
    #[arg(long)]
    pub surname: Option<String>,
    #[arg(long)]
    pub other_names: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    /// enabled or disabled.
    #[arg(long)]
    pub status: Option<String>,
    /// First day the user may sign in (YYYY-MM-DD, DD/MM/YY or DD-Mon-YY; "none" clears).
    #[arg(long, value_name = "DATE")]
    pub enable_from: Option<String>,
    /// Last day the user may sign in ("none" clears).
    #[arg(long, value_name = "DATE")]
    pub disable_after: Option<String>,
    /// User groups, comma-separated codes from the catalogue.
    #[arg(long, value_name = "G,G")]
    pub groups: Option<String>,
    /// Transaction limit in HKD (0.00 - 9,999,999,999.99).
    #[arg(long, value_name = "HKD")]
    pub limit: Option<String>,
    /// Access channel: CST (terminal, 2FA) or PG (Participant Gateway, smartcard only).
    #[arg(long, value_name = "CST|PG")]
    pub channel: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create User Profile (a business user).
    Create {
        /// The user ID to assign (participant ID + 2 characters).
        #[arg(long, value_parser = user_id, conflicts_with = "generate", required_unless_present = "generate")]
        user_id: Option<UserId>,
        /// Generate User ID: the next free one.
        #[arg(long)]
        generate: bool,
        #[command(flatten)]
        profile: ProfileArgs,
        #[command(flatten)]
        inline: InlineArgs,
    },
    /// Change User Profile (incl. e-mail registration).
    Change {
        #[arg(value_parser = user_id)]
        id: UserId,
        #[command(flatten)]
        profile: ProfileArgs,
        #[command(flatten)]
        inline: InlineArgs,
    },
    /// Delete User Profile.
    Delete {
        #[arg(value_parser = user_id)]
        id: UserId,
        #[command(flatten)]
        inline: InlineArgs,
    },
    /// Unlock/Reset OTP Device Registration: the next logon is a first-time logon.
    Unlock {
        #[arg(value_parser = user_id)]
        id: UserId,
        #[command(flatten)]
        inline: InlineArgs,
    },
    /// Enquire User Profile.
    Enquire {
        #[arg(value_parser = user_id)]
        id: UserId,
    },
    /// Bulk e-mail registration from a CSV file (header user_id,email): one request.
    ImportEmails {
        file: PathBuf,
        /// Validate and show what would change; submit nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        inline: InlineArgs,
    },
    /// Bulk user creation from a CSV file (header user_id,surname,other_names,email[,...]): one request.
    Import {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        inline: InlineArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum DaCommand {
    /// Assign business user groups to a DA (after smartcard decommissioning).
    Assign {
        #[arg(value_parser = user_id)]
        da_id: UserId,
        #[arg(long, value_name = "G,G")]
        groups: String,
        #[command(flatten)]
        inline: InlineArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// List requests (newest first).
    List {
        /// PENDING, APPROVED, REJECTED, CANCELLED or EXPIRED.
        #[arg(long)]
        status: Option<String>,
        /// Operator and auditors: one participant.
        #[arg(long)]
        participant: Option<String>,
        /// With --participant, where the code is registered with both HKCC and SEOCH.
        #[arg(long, value_parser = house, requires = "participant")]
        house: Option<ClearingHouse>,
    },
    /// Show one request with what it would change.
    Show { id: i64 },
    /// Authorise requests: the checker's password and a fresh OTP (the authorisation code).
    Approve {
        #[arg(required = true)]
        ids: Vec<i64>,
        #[arg(long, value_name = "CODE", conflicts_with = "smartcard")]
        otp: Option<String>,
        #[arg(long)]
        password_stdin: bool,
        /// A smartcard-era checker: the smartcard PIN is the authorisation code.
        #[arg(long)]
        smartcard: bool,
        /// Do not ask for confirmation on a terminal.
        #[arg(long, short)]
        yes: bool,
    },
    /// Reject a request, with a reason.
    Reject {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Cancel your own pending request.
    Cancel { id: i64 },
}

#[derive(Debug, Args)]
pub struct ListingArgs {
    /// Which profiles: business users, DAs, or all.
    #[arg(long, value_parser = ["user", "da", "all"], default_value = "all")]
    pub role: String,
    /// enabled or disabled.
    #[arg(long)]
    pub status: Option<String>,
    /// Operator and auditors: the participant to list.
    #[arg(long, conflicts_with = "all")]
    pub participant: Option<String>,
    /// Operator and auditors: every participant.
    #[arg(long)]
    pub all: bool,
    /// With --participant, where the code is registered with both HKCC and SEOCH.
    #[arg(long, value_parser = house, requires = "participant")]
    pub house: Option<ClearingHouse>,
}

#[derive(Debug, Subcommand)]
pub enum HkexCommand {
    /// Participants and their quota.
    #[command(subcommand)]
    Participant(ParticipantCommand),
    /// eService DA3: Delegated Administrator maintenance.
    #[command(subcommand)]
    Da3(Da3Command),
    /// The exchange's own accounts: another operator, or a read-only auditor.
    #[command(subcommand)]
    Account(AccountCommand),
    /// eService DA4: additional user accounts (HK$250 each, one-off).
    Da4 {
        #[arg(long)]
        participant: String,
        /// Where the code is registered with both HKCC and SEOCH.
        #[arg(long, value_parser = house)]
        house: Option<ClearingHouse>,
        #[arg(long)]
        accounts: i64,
    },
    /// Smartcards of Participant Gateway users (the PIN on standard input).
    #[command(subcommand)]
    Smartcard(SmartcardCommand),
    /// Timeline and system settings.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Public holidays (DMS and terminal closed).
    #[command(subcommand)]
    Holiday(HolidayCommand),
    /// Notifications that could not be delivered: list them, or send them again.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Migration: import smartcard-era users from CSV (header
    /// participant,user_id,surname,other_names,email,role,srn,certificate_expiry[,pin_phc]).
    ImportSmartcardUsers {
        /// The CSV file: header participant,user_id,surname,other_names,email,role,srn,
        /// certificate_expiry and optional pin_phc (an argon2id PHC string), access_channel.
        file: PathBuf,
        /// Validate the whole file and check it against the database as the import would;
        /// write nothing and report the counts.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SmartcardCommand {
    /// Issue a smartcard to a PG user created after the launch (SRN, certificate expiry; the
    /// PIN, 6-8 digits, on standard input or a prompt).
    Issue {
        #[arg(value_parser = user_id)]
        user_id: UserId,
        #[arg(long)]
        srn: String,
        /// DATE [TIME], e.g. 2030-12-31 or "31-Dec-30 23:59:59" (Hong Kong time).
        #[arg(long, value_name = "DATE")]
        certificate_expiry: String,
        /// Read the PIN from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Unlock and reset another exchange account: its next logon is a first-time logon.
    Reset {
        #[arg(value_parser = user_id)]
        user_id: UserId,
    },
    /// Add an exchange account: operator (HKEXOPnn) or auditor (HKEXAUnn, read-only).
    Add {
        /// operator or auditor.
        #[arg(long)]
        role: String,
        #[arg(long)]
        surname: String,
        #[arg(long)]
        other_names: String,
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Show every setting.
    Show,
    /// Set one: launch-date, decommission-date, service-hours on|off, mail file:PATH|smtp://HOST:PORT,
    /// mail-from, request-expiry-hours.
    Set { key: String, value: String },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// The kept notifications, oldest first: mail ID, when, to whom, subject, attempts, last
    /// error, when sent (never a body; one-time passwords are never kept).
    List,
    /// Send every unsent one again, recording each attempt and its error.
    Retry,
}

#[derive(Debug, Subcommand)]
pub enum HolidayCommand {
    Add {
        /// YYYY-MM-DD (Hong Kong date).
        date: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    Remove {
        date: String,
    },
    List,
}

#[derive(Debug, Subcommand)]
pub enum ParticipantCommand {
    /// Register a participant.
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// hkscc-cp, hkscc-db, hkcc or seoch.
        #[arg(long)]
        house: String,
        #[arg(long)]
        max_users: i64,
        /// Corporate e-mail domain (repeatable).
        #[arg(long = "domain")]
        domains: Vec<String>,
    },
    /// List participants with their quota use.
    List,
    /// Show one participant.
    Show {
        id: String,
        /// Where the code is registered with both HKCC and SEOCH.
        #[arg(long, value_parser = house)]
        house: Option<ClearingHouse>,
    },
    /// Migration: import participants from CSV (header id,name,house,max_users,domains).
    Import {
        /// The CSV file: header id,name,house,max_users and optional domains.
        file: PathBuf,
        /// Validate the whole file and check it against the database as the import would;
        /// write nothing and report the counts.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum Da3Command {
    /// Add a DA: assigns the next DA ID of the participant.
    Add {
        #[arg(long)]
        participant: String,
        /// Where the code is registered with both HKCC and SEOCH.
        #[arg(long, value_parser = house)]
        house: Option<ClearingHouse>,
        /// maker or checker.
        #[arg(long)]
        role: String,
        #[arg(long)]
        surname: String,
        #[arg(long)]
        other_names: String,
        #[arg(long)]
        email: String,
    },
    /// Unlock a DA; the next logon is a first-time logon (password and OTP channel again).
    Unlock {
        #[arg(value_parser = user_id)]
        da_id: UserId,
        /// The DA's registered e-mail address, checked as the eService checks it.
        #[arg(long)]
        email: Option<String>,
    },
    /// Reset a DA's password and OTP device registration (next logon is first-time).
    Reset {
        #[arg(value_parser = user_id)]
        da_id: UserId,
        /// The DA's registered e-mail address, checked as the eService checks it.
        #[arg(long)]
        email: Option<String>,
    },
    /// Change a DA's registered e-mail address (the old and the new address are told).
    ChangeEmail {
        #[arg(value_parser = user_id)]
        da_id: UserId,
        #[arg(long)]
        email: String,
    },
    Enable {
        #[arg(value_parser = user_id)]
        da_id: UserId,
    },
    /// Disable a DA (refused if the participant would fall below 1 maker and 2 checkers).
    Disable {
        #[arg(value_parser = user_id)]
        da_id: UserId,
    },
    /// Delete a DA (refused if the participant would fall below 1 maker and 2 checkers).
    ///
    /// Irreversible: a deleted ID is never reused. At a terminal it asks for confirmation
    /// (--yes skips it). A script should pass --yes; without it, on a pipe, the command still
    /// runs but warns that the form is deprecated.
    Delete {
        /// The DA's user ID (never reused).
        #[arg(value_parser = user_id)]
        da_id: UserId,
        /// Delete without asking for confirmation (what a script says).
        #[arg(long, short)]
        yes: bool,
    },
    /// Give an existing business user the DA maker or checker role (after decommissioning).
    AssignDa {
        #[arg(value_parser = user_id)]
        user_id: UserId,
        #[arg(long)]
        role: String,
    },
}

/// Auditor reports (SPEC §6).
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(value_enum)]
    pub kind: ReportKind,
    /// Start of the period (date, inclusive).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// End of the period (date, inclusive).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// expiring: passwords expiring within this many days; dormant: no sign-in for this many days.
    #[arg(long)]
    pub days: Option<i64>,
    /// Operator and auditors: one participant (default: all).
    #[arg(long)]
    pub participant: Option<String>,
    /// With --participant, where the code is registered with both HKCC and SEOCH.
    #[arg(long, value_parser = house, requires = "participant")]
    pub house: Option<ClearingHouse>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportKind {
    /// 2FA readiness (seed checklist, section 9).
    Readiness,
    /// Locked accounts and who can unlock them.
    Locked,
    /// Passwords expired or expiring.
    Expiring,
    /// Accounts without a sign-in for a long time.
    Dormant,
    /// Requests made in a period, with their decisions.
    Requests,
    /// The audit trail for a period.
    Audit,
    /// DA4 fees per participant.
    Da4Fees,
}
