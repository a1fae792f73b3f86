//! The command tree (clap derive). Names and flags here are the scripting contract of SPEC §8.
//!
//! Every command carries an `Examples:` section (`after_help`, written with [`examples!`]) and
//! every argument a description: `tests/cli/help.rs` walks the tree and fails on a gap, and
//! checks that each example line parses. `dms man --out DIR` renders the same examples as the
//! EXAMPLES section of each man page (`commands::meta`).

use crate::api::Format;
use crate::domain::user_id::{ClearingHouse, UserId};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The heading `examples!` puts above the lines; `dms man` looks for it.
pub const EXAMPLES_HEADING: &str = "Examples:";

/// A command's `Examples:` section: each argument is one line, shown indented by two spaces.
/// A line is a command to copy (`dms ...`, or a helper such as `echo ... > file.csv`), a
/// `# comment` saying what the next one does, or the continuation of a line that ends in `\`.
/// Keep each line under 78 characters so that it is not wrapped on an 80-column terminal.
/// The heading is bold and underlined like clap's own headings (the escapes are dropped when
/// colour is off, and by `dms man`).
macro_rules! examples {
    ($($line:literal),+ $(,)?) => {
        concat!("\x1b[1m\x1b[4m", "Examples:", "\x1b[0m", $("\n  ", $line),+)
    };
}

#[derive(Debug, Parser)]
#[command(
    name = "dms",
    version,
    about = "Security Management Functions (DMS): maker-checker user maintenance and two-factor sign-in",
    long_about = "dms re-creates the Security Management Functions of a clearing system's terminal access: \
Delegated Administrators maintain their users under maker-checker, everyone signs in with a password and a \
one-time password (authenticator app or e-mail), and auditors pull listings and reports - all against one \
SQLite file, opened by the command itself or, with --server, by a `dms serve` that owns it.\n\nSecrets are never taken from the command line: use --password-stdin or a terminal prompt.\n\n\
Exit status: 0 ok, 2 usage (or a secret needed and none available), 3 authentication failed, 4 account \
locked, disabled, expired or outside its dates or service hours, 5 not permitted, 6 invalid input, \
7 conflict, 8 the audit trail is broken (audit verify), 9 the server (--server) could not be reached or \
stopped answering, 1 anything else. `dms man --out DIR` writes a man \
page for every command.",
    propagate_version = true,
    after_help = examples!(
        "# Everything at once, on a throwaway database",
        "dms demo",
        "# A database with the demo participant B01234 and the operator HKEXOP01",
        "dms init --demo --operator-email ops@hkex.example",
        "# Sign in at a terminal (asks for the password and a one-time password)",
        "dms login --user HKEXOP01",
    )
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
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "DMS_DB",
        hide_env_values = true,
        default_value = "dms.db",
        value_name = "PATH"
    )]
    pub db: PathBuf,
    /// Output format: a table for people, CSV or JSON (one document on stdout) for scripts.
    #[arg(long, global = true, help_heading = "Global options", env = "DMS_FORMAT", hide_env_values = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The file that holds this shell's sign-in [default: <db>.session].
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "DMS_SESSION",
        hide_env_values = true,
        value_name = "PATH"
    )]
    pub session: Option<PathBuf>,
    /// Run on a dms server instead of opening the database: unix:PATH or https://HOST:PORT
    /// (see `dms serve`).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "DMS_SERVER",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub server: Option<String>,
    /// With an https:// server: the certificate authority to trust (PEM).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "DMS_CA_FILE",
        hide_env_values = true,
        value_name = "PEM"
    )]
    pub ca_file: Option<PathBuf>,
    /// --db was given on the command line (not by DMS_DB or its default).
    #[arg(skip)]
    pub db_given: bool,
    /// --server was given on the command line (not by DMS_SERVER).
    #[arg(skip)]
    pub server_given: bool,
}

/// The output formats, as clap offers them (the API's own type, which knows no clap).
impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[Format::Table, Format::Csv, Format::Json, Format::Jsonl]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

pub fn user_id(s: &str) -> Result<UserId, String> {
    UserId::parse(s).map_err(|e| e.to_string())
}

pub fn house(s: &str) -> Result<ClearingHouse, String> {
    ClearingHouse::parse(s).map_err(|e| e.to_string())
}

/// Every subcommand enum here is deferred (`defer = true`): clap builds only the branch the
/// command line names, not the whole tree with all its help texts (half a megabyte of heap,
/// about 0.15 ms and 70 page faults off every command; issue 12's `whoami` figure). A deferred
/// branch is built after its variant's doc comment is applied, so an `Args` struct carries no
/// doc comment of its own: it would replace the variant's (the help snapshot shows it).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a new database (file mode 0600) from schema.sql.
    #[command(after_help = examples!(
        "# The exchange's database and its first operator, HKEXOP01",
        "dms init --operator-email ops@hkex.example",
        "# ... with a demo participant (B01234: 3 DAs, 3 users) to explore",
        "dms init --demo --operator-email ops@hkex.example",
        "dms --db exchange.db init --operator-email ops@hkex.example",
    ))]
    Init(InitArgs),
    /// Run a complete, self-checking walk-through on a throwaway database.
    #[command(after_help = examples!(
        "dms demo",
        "# Keep the demo's folder (database, outbox) to look around afterwards",
        "dms demo --keep",
    ))]
    Demo(DemoArgs),
    /// Sign in: user ID, password and one-time password; writes the session file.
    ///
    /// At a terminal a first logon walks through setting up the OTP channel (register an
    /// authenticator app from a QR code, or receive OTPs by e-mail).
    #[command(after_help = examples!(
        "# At a terminal: asks for the password, then the OTP",
        "dms login --user B01234X1",
        "# In a script: the password on stdin, the code from the app",
        "dms login --user B01234X1 --password-stdin --otp 123456 < pw.txt",
        "# A second identity beside the first, in a session file of its own",
        "dms --session checker.session login --user B01234X2",
    ))]
    Login(LoginArgs),
    /// End this shell's session.
    #[command(after_help = examples!(
        "dms logout",
        "dms --session checker.session logout",
    ))]
    Logout,
    /// Show who is signed in (checks the session; no password hashing).
    #[command(after_help = examples!(
        "dms whoami",
        "dms --format json --session checker.session whoami",
    ))]
    Whoami,
    /// One-time passwords: request an e-mail OTP, set up the OTP channel.
    #[command(subcommand, after_help = examples!(
        "# First-time logon, step 1: an OTP by e-mail for `dms password reset`",
        "dms otp request --user B0123401",
        "# Step 2, after the password is set: register an authenticator app",
        "dms otp setup --user B0123401 --app --password-stdin < pw.txt",
    ))]
    Otp(OtpCommand),
    /// Password self-service: Forgot/Reset and Change Password.
    #[command(subcommand, after_help = examples!(
        "dms password reset --user B0123401 --otp 12345678",
        "dms password change",
    ))]
    Password(PasswordCommand),
    /// Self-service authentication settings (seed Appendix D d).
    #[command(subcommand, after_help = examples!(
        "dms auth settings --use-email --otp 123456",
        "dms auth settings --delete-device --otp 123456",
    ))]
    Auth(AuthCommand),
    /// Maintain user profiles (DMS, maker-checker).
    #[command(subcommand, after_help = examples!(
        "# A DA maker submits; a DA checker approves with `dms request approve`",
        "dms user create --generate --surname CHEUNG --other-names \"KA MING\" \\",
        "    --email km.cheung@abc.com.hk",
        "dms user enquire B0123401",
    ))]
    User(UserCommand),
    /// Delegated Administrators: assign business user groups (DMS, maker-checker).
    #[command(subcommand, after_help = examples!(
        "dms da assign B01234X1 --groups 11,A",
    ))]
    Da(DaCommand),
    /// Pending maker-checker requests: list, show, approve, reject, cancel.
    #[command(subcommand, after_help = examples!(
        "dms request list --status PENDING",
        "dms request show 1",
        "dms request approve 1",
    ))]
    Request(RequestCommand),
    /// User Profile Listing, with the quota footer.
    #[command(after_help = examples!(
        "# A DA: its own participant's users and DAs, and the quota footer",
        "dms listing",
        "dms listing --role da --status enabled",
        "# The operator or an auditor: one participant, as CSV",
        "dms --format csv listing --participant B01234 > b01234.csv",
    ))]
    Listing(ListingArgs),
    /// Exchange operator functions: participants, eServices DA3/DA4, settings, holidays.
    #[command(subcommand, after_help = examples!(
        "dms hkex participant add --id B05678 --name \"XYZ BROKERS\" \\",
        "    --house hkscc-cp --max-users 30 --domain xyz.com.hk",
        "dms hkex da3 add --participant B05678 --role maker --surname MA \\",
        "    --other-names \"WING KEI\" --email wk.ma@xyz.com.hk",
        "dms hkex settings set service-hours off",
    ))]
    Hkex(HkexCommand),
    /// Reports for auditors: readiness, locked, expiring, dormant, requests, audit, da4-fees.
    #[command(after_help = examples!(
        "dms report readiness",
        "dms report expiring --days 14",
        "dms --format csv report audit --from 2026-11-01 --to 2026-11-30 > audit.csv",
    ))]
    Report(ReportArgs),
    /// The hash-chained audit trail.
    #[command(subcommand, after_help = examples!(
        "dms audit verify",
    ))]
    Audit(AuditCommand),
    /// Operator: an encrypted, consistent backup of the database and its key file, taken
    /// while others keep working.
    ///
    /// The file is an age file (scrypt passphrase) holding the key file and a consistent copy of
    /// the database; it is written 0600 and never over an existing file. JSON: {"file", "rows",
    /// "bytes", ...}. From cron, `--system` runs without a DMS sign-in as the account that owns
    /// the database (in a crontab line, % is written \%).
    #[command(after_help = examples!(
        "# Signed in as an operator; the passphrase in a 0600 file",
        "dms backup --out dms-backup.age --password-stdin < backup.pass",
        "# From cron, as the account that owns the database",
        "dms --db /srv/dms/dms.db backup --system \\",
        "    --out /backup/dms-2026-11-23.age --password-stdin < /etc/dms/backup.pass",
    ))]
    Backup(BackupArgs),
    /// Restore a backup into a new database path (--db NEWPATH), verified before it is put in
    /// place.
    ///
    /// Writes NEWPATH and NEWPATH.key only after the integrity check and the audit chain
    /// verified, and never over an existing file; every session that was open in the backup is
    /// ended (sign in again). A wrong passphrase or a damaged or truncated file writes nothing.
    #[command(after_help = examples!(
        "dms --db /srv/dms-restored/dms.db restore dms-backup.age \\",
        "    --password-stdin < backup.pass",
    ))]
    Restore(RestoreArgs),
    /// Run as a service: own the database and answer the clients that connect (SPEC §10).
    ///
    /// Runs in the foreground as the account that owns the database and its key file (a process
    /// manager such as systemd keeps it up), listening on a Unix socket (dms.sock beside the
    /// database, mode 0660: give its --socket-group to the people who may connect) and, with
    /// TLS only, on TCP for remote DAs. Every person's dms is then a client: `--server
    /// unix:PATH` or `https://HOST:PORT` (or DMS_SERVER). Prints one JSON line when it accepts
    /// calls ({"listening", "pid", "db"}) and one per call on stderr; SIGTERM lets the calls in
    /// flight finish and removes the socket.
    #[command(after_help = examples!(
        "# As the service account that owns the database",
        "dms --db /var/lib/dms/dms.db serve --socket-group dms-users",
        "# ... and for remote DAs, over TLS",
        "dms --db /var/lib/dms/dms.db serve --listen 0.0.0.0:8443 \\",
        "    --tls-cert /etc/dms/tls/cert.pem --tls-key /etc/dms/tls/key.pem",
    ))]
    Serve(ServeArgs),
    /// Print shell completions.
    #[command(after_help = examples!(
        "dms completions bash > ~/.local/share/bash-completion/completions/dms",
        "dms completions zsh > ~/.zfunc/_dms",
        "dms completions fish > ~/.config/fish/completions/dms.fish",
    ))]
    Completions {
        /// The shell to write completions for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one per command with --out.
    #[command(after_help = examples!(
        "dms man | man -l -",
        "# One page per command (dms.1, dms-user.1, dms-user-create.1, ...)",
        "dms man --out ~/.local/share/man/man1",
        "MANPATH=~/.local/share/man: man dms-user-create",
    ))]
    Man(ManArgs),
}

// `dms backup` (no doc comment: with deferred subcommands it would replace the variant's).
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file to create (refused if anything is there).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Read the passphrase (at least 16 characters) from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// For cron: run without a DMS sign-in, as the operating-system account that owns the
    /// database and its key file (dms uses no one else's files); audited as `system`.
    #[arg(long)]
    pub system: bool,
}

// `dms serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The Unix socket to listen on [default: dms.sock beside the database].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// The socket's permissions, in octal: who may connect.
    #[arg(long, value_name = "OCTAL", default_value = "0660")]
    pub socket_mode: String,
    /// The group the socket is given, e.g. dms-users: its members may connect.
    #[arg(long, value_name = "GROUP")]
    pub socket_group: Option<String>,
    /// Also listen on TCP at HOST:PORT, with TLS (plain TCP is refused: needs --tls-cert and
    /// --tls-key).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// The server's certificate chain (PEM), for --listen.
    #[arg(long, value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// The server's private key (PEM, mode 0600, the service account's own), for --listen.
    #[arg(long, value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
}

// `dms restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A file made by `dms backup`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Read the passphrase from standard input.
    #[arg(long)]
    pub password_stdin: bool,
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
pub struct ManArgs {
    /// Write one page per command and subcommand into DIR (created if missing; files 0644),
    /// instead of printing the top page. A file there that dms did not generate is never
    /// overwritten.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
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
#[command(defer = true)]
pub enum OtpCommand {
    /// Send an e-mail OTP to the user's registered address (first-time set-up, e-mail channel).
    ///
    /// The answer is the same whether or not the user ID exists or has a registered address.
    /// A new code can be requested once every 5 minutes; each is valid for 5 minutes.
    #[command(after_help = examples!(
        "dms otp request --user B0123401",
    ))]
    Request {
        /// The user ID the OTP is for.
        #[arg(long, value_parser = user_id)]
        user: UserId,
    },
    /// First logon without an OTP channel: register an authenticator app, or choose e-mail.
    #[command(after_help = examples!(
        "# Prints the key URI (and a QR code at a terminal); the first code confirms it",
        "dms otp setup --user B0123401 --app --password-stdin < pw.txt",
        "# ... and writes the QR code to a 0600 file: delete it after scanning",
        "dms otp setup --user B0123401 --app --qr key.png",
        "dms otp setup --user B0123402 --email --accept-warning",
    ))]
    Setup(OtpSetupArgs),
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("channel").required(true).args(["app", "email"]))]
pub struct OtpSetupArgs {
    /// The user ID setting up its OTP channel (its password is asked for, or read from stdin).
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
#[command(defer = true)]
pub enum PasswordCommand {
    /// Forgot/Reset: set a new password, proven by an e-mail OTP (first-time logon) or a TOTP
    /// code (self-service reset, app users only).
    #[command(after_help = examples!(
        "# First-time logon: the e-mailed OTP; asks for the new password twice",
        "dms password reset --user B0123401 --otp 12345678",
        "# In a script, the new password on stdin",
        "dms password reset --user B0123401 --otp 12345678 --password-stdin < pw.txt",
    ))]
    Reset {
        /// The user ID whose password is set.
        #[arg(long, value_parser = user_id)]
        user: UserId,
        /// The e-mailed OTP (first-time logon), or a code of the registered app (self-service
        /// reset); asked for on a terminal when left out.
        #[arg(long, value_name = "CODE")]
        otp: Option<String>,
        /// Read the new password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change Password: new password (twice on a terminal), then the current one. With
    /// --password-stdin: line 1 the new password, line 2 the current one.
    #[command(after_help = examples!(
        "# Signed in: asks for the new password twice, then the current one",
        "dms password change",
        "# An expired password, not signed in: line 1 new, line 2 current",
        "dms password change --user B0123401 --password-stdin < new-and-old.txt",
    ))]
    Change {
        /// Whose password (when not signed in, e.g. an expired password).
        #[arg(long, value_parser = user_id)]
        user: Option<UserId>,
        /// Read the new password (line 1) and the current one (line 2) from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum AuthCommand {
    /// Delete the registered device, or switch from app to e-mail OTP.
    ///
    /// Both need the current password and a current code of the app.
    #[command(group = clap::ArgGroup::new("change").required(true).args(["delete_device", "use_email"]))]
    #[command(after_help = examples!(
        "# A new phone: the next logon registers the app again",
        "dms auth settings --delete-device --otp 123456",
        "dms auth settings --use-email --otp 123456 --password-stdin < pw.txt",
    ))]
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
#[command(defer = true)]
pub enum AuditCommand {
    /// Walk the keyed hash chain and name the first bad row, if any.
    ///
    /// Prints the row count and the head (the last row's hash); saved to a file, that JSON is a
    /// checkpoint for the next verification. A broken trail exits 8.
    #[command(after_help = examples!(
        "dms audit verify",
        "# Keep the row count and head somewhere else, to compare later",
        "dms --format json audit verify > /safe/place/checkpoint.json",
        "dms audit verify --checkpoint /safe/place/checkpoint.json",
    ))]
    Verify {
        /// The JSON an earlier `audit verify` printed: the trail must still extend it (rows cut
        /// off the end, an emptied or dropped table, or a rewrite before it fail).
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
}

// Authorise at once: the checker types the authorisation code (password and OTP) here.
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
    /// Surname (required to create; trimmed, printable, at most 40 characters).
    #[arg(long)]
    pub surname: Option<String>,
    /// Other names (required to create; trimmed, printable, at most 40 characters).
    #[arg(long)]
    pub other_names: Option<String>,
    /// E-mail address (required to create; needed before 2FA can be set up).
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
    /// Terminal functions the profile enables, comma-separated: default, di_requirement, di,
    /// recall_request, isi, ati, cash_compensation, si, cash_prepayment ("none" clears).
    #[arg(long, value_name = "F,F")]
    pub functions: Option<String>,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum UserCommand {
    /// Every request and audit event about one profile, oldest first: who made and who
    /// authorised each change, what it changed from and to; sign-ins summarised.
    #[command(after_help = examples!(
        "dms user history B0123401",
        "dms --format csv user history B0123401 > B0123401-history.csv",
    ))]
    History {
        /// The user ID.
        #[arg(value_parser = user_id)]
        user_id: UserId,
    },
    /// The user group catalogue: every code --groups accepts (the seed names the codes only).
    #[command(after_help = examples!(
        "dms user groups",
        "dms --format csv user groups",
    ))]
    Groups,
    /// Create User Profile (a business user).
    #[command(after_help = examples!(
        "# The next free user ID; a checker approves with `dms request approve`",
        "dms user create --generate --surname CHEUNG --other-names \"KA MING\" \\",
        "    --email km.cheung@abc.com.hk",
        "# A chosen ID, groups and a limit, authorised at once by a checker here",
        "dms user create --user-id B0123410 --surname YIP --other-names \"SAU WAH\" \\",
        "    --email sw.yip@abc.com.hk --groups 11,A --limit 500000 --checker B01234X2",
    ))]
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
    #[command(after_help = examples!(
        "# Register an e-mail address (a request for a checker)",
        "dms user change B0123403 --email cf.lau@abc.com.hk",
        "dms user change B0123402 --status disabled --disable-after 2026-12-31",
        "dms user change B0123401 --groups 11,12,A --limit 250000 --checker B01234X2",
    ))]
    Change {
        /// The user ID of the profile to change.
        #[arg(value_parser = user_id)]
        id: UserId,
        #[command(flatten)]
        profile: ProfileArgs,
        #[command(flatten)]
        inline: InlineArgs,
    },
    /// Delete User Profile.
    #[command(after_help = examples!(
        "dms user delete B0123403",
        "dms user delete B0123403 --checker B01234X2",
    ))]
    Delete {
        /// The user ID of the profile to delete (it is never reused).
        #[arg(value_parser = user_id)]
        id: UserId,
        #[command(flatten)]
        inline: InlineArgs,
    },
    /// Unlock/Reset OTP Device Registration: the next logon is a first-time logon.
    #[command(after_help = examples!(
        "dms user unlock B0123401",
        "dms user unlock B0123401 --checker B01234X2",
    ))]
    Unlock {
        /// The user ID to unlock and reset.
        #[arg(value_parser = user_id)]
        id: UserId,
        #[command(flatten)]
        inline: InlineArgs,
    },
    /// Smartcard Password Reset: the user is mailed a one-time initial PIN.
    ///
    /// Until smartcard decommissioning (PG users: always). The user's next smartcard sign-in
    /// with the initial PIN chooses the user's own PIN; nobody who resets it knows it.
    #[command(after_help = examples!(
        "dms user smartcard-reset B0123401",
        "dms user smartcard-reset B0123401 --checker B01234X2",
    ))]
    SmartcardReset {
        /// The user ID whose smartcard PIN is reset.
        #[arg(value_parser = user_id)]
        id: UserId,
        #[command(flatten)]
        inline: InlineArgs,
    },
    /// Enquire User Profile: one profile by user ID, or (--name) the seed's List of the
    /// profiles whose user name matches.
    #[command(after_help = examples!(
        "dms user enquire B0123401",
        "dms --format json user enquire B01234X2",
        "# The seed's List: whose name contains the text (any case)",
        "dms user enquire --name cheung",
    ))]
    Enquire {
        /// The user ID (8 characters), e.g. B0123401.
        #[arg(value_parser = user_id, required_unless_present = "name")]
        id: Option<UserId>,
        /// List the profiles whose surname or other names contain TEXT (any case).
        #[arg(long, value_name = "TEXT", conflicts_with = "id")]
        name: Option<String>,
        /// Operator and auditors, with --name: the participant to search.
        #[arg(long, requires = "name", conflicts_with = "all")]
        participant: Option<String>,
        /// Operator and auditors, with --name: every participant.
        #[arg(long, requires = "name")]
        all: bool,
        /// With --participant, where the code is registered with both HKCC and SEOCH.
        #[arg(long, value_parser = house, requires = "participant")]
        house: Option<ClearingHouse>,
    },
    /// Bulk e-mail registration from a CSV file (header user_id,email): one request.
    #[command(after_help = examples!(
        "echo 'user_id,email' > emails.csv",
        "echo 'B0123403,cf.lau@abc.com.hk' >> emails.csv",
        "dms user import-emails emails.csv --dry-run",
        "dms user import-emails emails.csv",
    ))]
    ImportEmails {
        /// The CSV file: header user_id,email, one row per user.
        file: PathBuf,
        /// Validate and show what would change; submit nothing.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: which page of the field table (50 profiles a page).
        #[arg(long, default_value_t = 1, value_name = "N", requires = "dry_run")]
        page: i64,
        #[command(flatten)]
        inline: InlineArgs,
    },
    /// Bulk user creation from a CSV file (header user_id,surname,other_names,email[,...]): one request.
    #[command(after_help = examples!(
        "# An empty user_id is generated",
        "echo 'user_id,surname,other_names,email' > users.csv",
        "echo ',NG,KIT YEE,ky.ng@abc.com.hk' >> users.csv",
        "dms user import users.csv --dry-run",
        "dms user import users.csv --checker B01234X2",
    ))]
    Import {
        /// The CSV file: header user_id,surname,other_names,email and optional status,
        /// enable_from, disable_after, channel, groups, limit columns.
        file: PathBuf,
        /// Validate the whole file and check it as submission would; submit nothing.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: which page of the field table (50 profiles a page).
        #[arg(long, default_value_t = 1, value_name = "N", requires = "dry_run")]
        page: i64,
        #[command(flatten)]
        inline: InlineArgs,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum DaCommand {
    /// Assign business user groups to a DA (after smartcard decommissioning).
    #[command(after_help = examples!(
        "dms da assign B01234X1 --groups 11,A",
        "dms da assign B01234X1 --groups 11,A --checker B01234X2",
    ))]
    Assign {
        /// The DA's user ID.
        #[arg(value_parser = user_id)]
        da_id: UserId,
        /// The user groups the DA gets, comma-separated codes from the catalogue.
        #[arg(long, value_name = "G,G")]
        groups: String,
        #[command(flatten)]
        inline: InlineArgs,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum RequestCommand {
    /// List requests (newest first).
    #[command(after_help = examples!(
        "dms request list",
        "dms request list --status PENDING --maker B01234X1 --from 2026-11-01",
        "# The operator or an auditor: one participant's requests, as CSV",
        "dms --format csv request list --participant B01234",
    ))]
    List {
        /// PENDING (with the STALE ones: a subject changed since), STALE, APPROVED, REJECTED,
        /// CANCELLED, EXPIRED, or all [default: all].
        #[arg(long)]
        status: Option<String>,
        /// Operator and auditors: one participant.
        #[arg(long)]
        participant: Option<String>,
        /// With --participant, where the code is registered with both HKCC and SEOCH.
        #[arg(long, value_parser = house, requires = "participant")]
        house: Option<ClearingHouse>,
        /// Made by this DA maker.
        #[arg(long, value_parser = user_id, value_name = "ID")]
        maker: Option<UserId>,
        /// Decided by this DA checker.
        #[arg(long, value_parser = user_id, value_name = "ID")]
        checker: Option<UserId>,
        /// Of this kind: create-user, change-user, delete-user, unlock-user, import-emails,
        /// import-users, assign-groups, reset-smartcard-pin.
        #[arg(long, value_name = "KIND")]
        kind: Option<String>,
        /// Made on or after this date (Hong Kong).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Made on or before this date (Hong Kong).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// About this user.
        #[arg(long, value_parser = user_id, value_name = "ID")]
        subject: Option<UserId>,
    },
    /// Show one request with what it would change: each profile's fields, current and
    /// proposed; a bulk request as a field table, a page at a time.
    #[command(after_help = examples!(
        "dms request show 1",
        "# A bulk request: the next page of its field table, or every row as CSV",
        "dms request show 7 --page 2",
        "dms --format csv request show 7 > request-7.csv",
    ))]
    Show {
        /// The request ID (as `request list` shows it).
        id: i64,
        /// Which page of a bulk request's field table (50 profiles a page; CSV and JSON have all).
        #[arg(long, default_value_t = 1, value_name = "N")]
        page: i64,
    },
    /// Authorise requests: the checker's password and a fresh OTP (the authorisation code).
    #[command(after_help = examples!(
        "# Asks for the password and an OTP, shows the requests, asks to confirm",
        "dms request approve 1",
        "# Several at once: one authorisation, one transaction, all or none",
        "dms request approve 1 2 3 --otp 123456 --password-stdin < pw.txt",
    ))]
    Approve {
        /// The request IDs to authorise, all of them or none.
        #[arg(required = true)]
        ids: Vec<i64>,
        /// A fresh one-time password of the checker (asked on a terminal).
        #[arg(long, value_name = "CODE", conflicts_with = "smartcard")]
        otp: Option<String>,
        /// Read the checker's password (or smartcard PIN) from standard input.
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
    #[command(after_help = examples!(
        "dms request reject 2 --reason \"wrong e-mail domain\"",
    ))]
    Reject {
        /// The request ID.
        id: i64,
        /// Why: the maker sees it, and the audit trail keeps it.
        #[arg(long)]
        reason: String,
    },
    /// Cancel your own pending request.
    #[command(after_help = examples!(
        "dms request cancel 3",
    ))]
    Cancel {
        /// The request ID (one of yours, still PENDING).
        id: i64,
    },
    /// Submit a STALE request of yours again, against today's profiles: a new request (rows
    /// that now change nothing dropped and counted); the old one is cancelled.
    #[command(after_help = examples!(
        "dms request resubmit 11",
    ))]
    Resubmit {
        /// The stale request's ID (one of yours).
        id: i64,
    },
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
    /// Only profiles whose user ID, surname, other names or e-mail contain TEXT (any case).
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Only locked accounts.
    #[arg(long)]
    pub locked: bool,
    /// Only accounts whose OTP channel is app or email, or none: 2FA not yet initialised.
    #[arg(long, value_parser = ["app", "email", "none"])]
    pub otp: Option<String>,
    /// Only accounts with no sign-in for N days (never signed in: created N days ago or more).
    #[arg(long, value_name = "N")]
    pub inactive_days: Option<i64>,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum HkexCommand {
    /// Participants and their quota.
    #[command(subcommand, after_help = examples!(
        "dms hkex participant list",
        "dms hkex participant show B01234",
    ))]
    Participant(ParticipantCommand),
    /// eService DA3: Delegated Administrator maintenance.
    #[command(subcommand, after_help = examples!(
        "dms hkex da3 add --participant B01234 --role checker --surname MAK \\",
        "    --other-names \"WAI SHAN\" --email ws.mak@abc.com.hk",
        "dms hkex da3 unlock B01234X1 --email tm.chan@abc.com.hk",
    ))]
    Da3(Da3Command),
    /// The exchange's own accounts: another operator, or a read-only auditor.
    #[command(subcommand, after_help = examples!(
        "dms hkex account add --role auditor --surname AUDIT --other-names \"TEAM ONE\" \\",
        "    --email audit@hkex.example",
    ))]
    Account(AccountCommand),
    /// eService DA4: additional user accounts (HK$250 each, one-off).
    #[command(after_help = examples!(
        "dms hkex da4 --participant B01234 --accounts 5",
        "# A code registered with both HKCC and SEOCH",
        "dms hkex da4 --participant HKXYZ --house seoch --accounts 2",
    ))]
    Da4 {
        /// The participant ID whose maximum number of users is raised.
        #[arg(long)]
        participant: String,
        /// Where the code is registered with both HKCC and SEOCH.
        #[arg(long, value_parser = house)]
        house: Option<ClearingHouse>,
        /// How many user accounts to add (HK$250 each).
        #[arg(long)]
        accounts: i64,
    },
    /// Smartcards of Participant Gateway users (the holder is mailed a one-time initial PIN).
    #[command(subcommand, after_help = examples!(
        "# B01234P1: a PG user (`dms user create ... --channel PG`)",
        "dms hkex smartcard issue B01234P1 --srn SRN0001AB2 \\",
        "    --certificate-expiry 2030-12-31",
    ))]
    Smartcard(SmartcardCommand),
    /// eService SCard 1 (until smartcard decommissioning): a DA's forgotten smartcard PIN.
    #[command(subcommand, after_help = examples!(
        "dms hkex scard1 reset-pin B01234X1",
    ))]
    Scard1(Scard1Command),
    /// Timeline and system settings.
    #[command(subcommand, after_help = examples!(
        "dms hkex settings show",
        "dms hkex settings set service-hours off",
    ))]
    Settings(SettingsCommand),
    /// Public holidays (DMS and terminal closed).
    #[command(subcommand, after_help = examples!(
        "dms hkex holiday add 2026-12-25 --name \"Christmas Day\"",
        "dms hkex holiday list",
    ))]
    Holiday(HolidayCommand),
    /// Notifications that could not be delivered: list them, or send them again.
    #[command(subcommand, after_help = examples!(
        "dms hkex outbox list",
        "dms hkex outbox retry",
    ))]
    Outbox(OutboxCommand),
    /// The key file beside the database: rotate it.
    #[command(subcommand, after_help = examples!(
        "dms hkex key rotate",
    ))]
    Key(KeyCommand),
    /// Reminders by e-mail, for cron: passwords about to expire, 2FA not set up yet.
    #[command(subcommand, after_help = examples!(
        "dms hkex remind expiring --dry-run",
        "dms hkex remind not-initialised",
    ))]
    Remind(RemindCommand),
    /// Migration: import smartcard-era users from CSV (header
    /// participant,user_id,surname,other_names,email,role,srn,certificate_expiry[,pin_phc]).
    #[command(after_help = examples!(
        "h=participant,user_id,surname,other_names,email,role",
        "echo $h,srn,certificate_expiry > sc.csv",
        "echo B01234,B0123420,NG,KIN,kn@abc.com.hk,user,SRN0001AB,2030-12-31 >> sc.csv",
        "dms hkex import-smartcard-users sc.csv --dry-run",
        "dms hkex import-smartcard-users sc.csv",
    ))]
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
#[command(defer = true)]
pub enum SmartcardCommand {
    /// Issue a smartcard (SRN, certificate expiry): from the launch to PG users only.
    ///
    /// The holder is mailed a one-time initial PIN (valid 7 days) and chooses its own PIN at the
    /// first smartcard sign-in: nobody who issues a card knows the PIN that then works.
    #[command(after_help = examples!(
        "# B01234P1: a PG user with an e-mail address (`user create --channel PG`)",
        "dms hkex smartcard issue B01234P1 --srn SRN0001AB2 \\",
        "    --certificate-expiry 2030-12-31",
        "dms hkex smartcard issue B01234P1 --srn SRN0001AB2 \\",
        "    --certificate-expiry \"31-Dec-30 23:59:59\"",
    ))]
    Issue {
        /// The holder's user ID (from the launch, a PG user's).
        #[arg(value_parser = user_id)]
        user_id: UserId,
        /// The smartcard's serial number (SRN): 8 to 32 letters and digits.
        #[arg(long)]
        srn: String,
        /// DATE [TIME], e.g. 2030-12-31 or "31-Dec-30 23:59:59" (Hong Kong time).
        #[arg(long, value_name = "DATE")]
        certificate_expiry: String,
        /// No longer used: the operator does not choose the PIN (ignored, with a warning).
        #[arg(long, hide = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Scard1Command {
    /// Reset a DA's forgotten smartcard PIN: the DA is mailed a one-time initial PIN.
    ///
    /// The DA's next smartcard sign-in with it chooses its own PIN; the lock is lifted and the
    /// DA's sessions end. Until smartcard decommissioning.
    #[command(after_help = examples!(
        "dms hkex scard1 reset-pin B01234X1",
    ))]
    ResetPin {
        /// The DA's user ID.
        #[arg(value_parser = user_id)]
        da_id: UserId,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum AccountCommand {
    /// Unlock and reset another exchange account: its next logon is a first-time logon.
    #[command(after_help = examples!(
        "dms hkex account reset HKEXAU01",
    ))]
    Reset {
        /// The exchange account's user ID (HKEXOPnn or HKEXAUnn).
        #[arg(value_parser = user_id)]
        user_id: UserId,
    },
    /// Add an exchange account: operator (HKEXOPnn) or auditor (HKEXAUnn, read-only).
    #[command(after_help = examples!(
        "dms hkex account add --role auditor --surname AUDIT --other-names \"TEAM ONE\" \\",
        "    --email audit@hkex.example",
        "dms hkex account add --role operator --surname CHOW --other-names \"MAN KIT\" \\",
        "    --email mk.chow@hkex.example",
    ))]
    Add {
        /// operator or auditor.
        #[arg(long)]
        role: String,
        /// Surname (at most 40 characters).
        #[arg(long)]
        surname: String,
        /// Other names (at most 40 characters).
        #[arg(long)]
        other_names: String,
        /// E-mail address: first-time logon OTPs go there.
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum SettingsCommand {
    /// Show every setting.
    #[command(after_help = examples!(
        "dms hkex settings show",
    ))]
    Show,
    /// Set one: launch-date, decommission-date, service-hours on|off, mail file:PATH|smtp://HOST:PORT,
    /// mail-from (OTPs and notices), mail-from-eservice (eService mails), request-expiry-hours,
    /// notifications on|off.
    #[command(after_help = examples!(
        "# Service hours are enforced (HK time); turn them off to work at any hour",
        "dms hkex settings set service-hours off",
        "dms hkex settings set mail smtp://localhost:25",
        "dms hkex settings set mail-from-eservice 'Connect <connect@example.com>'",
    ))]
    Set {
        /// The setting: launch-date, decommission-date, service-hours, mail, mail-from,
        /// mail-from-eservice, request-expiry-hours or notifications.
        key: String,
        /// Its new value: a date (YYYY-MM-DD) for the dates, on or off for service-hours and
        /// notifications, file:PATH or smtp://HOST:PORT for mail, a sender (`NAME <ADDRESS>` or an
        /// address) for mail-from and mail-from-eservice, a number of hours for
        /// request-expiry-hours.
        value: String,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum OutboxCommand {
    /// The kept notifications, oldest first: mail ID, when, to whom, subject, attempts, last
    /// error, when sent (never a body; one-time passwords are never kept).
    #[command(after_help = examples!(
        "dms hkex outbox list",
    ))]
    List,
    /// Send every unsent one again, recording each attempt and its error.
    #[command(after_help = examples!(
        "dms hkex outbox retry",
    ))]
    Retry,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum KeyCommand {
    /// Replace the key file: every sealed TOTP key and the audit key are re-sealed under a new
    /// key in one transaction (unused e-mail OTPs are invalidated: request a new one); a crash
    /// at any point leaves the old or the new key working.
    ///
    /// JSON: {"rotated": N, "audit_key": true, "email_otps_invalidated": N,
    /// "initial_pins_reissued": N, "key_file", "fingerprint"} (initial smartcard PINs not yet
    /// used are replaced and mailed again). The old key file no longer opens the database: do
    /// not keep copies of it.
    #[command(after_help = examples!(
        "dms hkex key rotate",
    ))]
    Rotate,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum RemindCommand {
    /// Remind users whose password expires soon: one e-mail per user per threshold (14, 7 and
    /// 1 days before the 90-day expiry, or --days N); run again, it sends nothing new.
    #[command(after_help = examples!(
        "# From cron every morning (crontab: 30 7 * * * dms ...)",
        "dms --db /srv/dms/dms.db hkex remind expiring --system",
        "dms hkex remind expiring --days 30 --dry-run",
    ))]
    Expiring {
        /// One threshold instead of 14, 7 and 1: remind once when the password expires within N days.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..=89))]
        days: Option<i64>,
        /// List who would be reminded; send and record nothing.
        #[arg(long)]
        dry_run: bool,
        /// For cron: run without a DMS sign-in, as the operating-system account that owns the
        /// database and its key file (dms uses no one else's files); audited as `system`.
        #[arg(long)]
        system: bool,
    },
    /// Remind users who have not set up 2FA (participants' users and DAs from the 2FA launch
    /// on): once per user and registered address.
    #[command(after_help = examples!(
        "# From cron every Monday (crontab: 30 7 * * 1 dms ...)",
        "dms --db /srv/dms/dms.db hkex remind not-initialised --system",
        "dms hkex remind not-initialised --dry-run",
    ))]
    NotInitialised {
        /// List who would be reminded; send and record nothing.
        #[arg(long)]
        dry_run: bool,
        /// For cron: run without a DMS sign-in, as the operating-system account that owns the
        /// database and its key file (dms uses no one else's files); audited as `system`.
        #[arg(long)]
        system: bool,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum HolidayCommand {
    /// Add a public holiday: DMS and the terminal are closed all day.
    #[command(after_help = examples!(
        "dms hkex holiday add 2026-12-25 --name \"Christmas Day\"",
    ))]
    Add {
        /// YYYY-MM-DD (Hong Kong date).
        date: String,
        /// The holiday's name, shown by `holiday list`.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Remove a public holiday.
    #[command(after_help = examples!(
        "dms hkex holiday remove 2026-12-25",
    ))]
    Remove {
        /// YYYY-MM-DD (Hong Kong date).
        date: String,
    },
    /// List the public holidays.
    #[command(after_help = examples!(
        "dms hkex holiday list",
    ))]
    List,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ParticipantCommand {
    /// Register a participant.
    #[command(after_help = examples!(
        "dms hkex participant add --id B05678 --name \"XYZ BROKERS\" \\",
        "    --house hkscc-cp --max-users 30 --domain xyz.com.hk",
        "# One customer code registered with both HKCC and SEOCH",
        "dms hkex participant add --id HKXYZ --name \"XYZ\" --house hkcc --max-users 20",
        "dms hkex participant add --id HKXYZ --name \"XYZ\" --house seoch --max-users 20",
    ))]
    Add {
        /// The participant ID: e.g. B01234 (HKSCC) or HK + customer code (HKCC, SEOCH).
        #[arg(long)]
        id: String,
        /// The participant's name.
        #[arg(long)]
        name: String,
        /// hkscc-cp, hkscc-db, hkcc or seoch.
        #[arg(long)]
        house: String,
        /// Maximum number of users, DAs included (the quota).
        #[arg(long)]
        max_users: i64,
        /// Corporate e-mail domain (repeatable).
        #[arg(long = "domain")]
        domains: Vec<String>,
    },
    /// List participants with their quota use.
    #[command(after_help = examples!(
        "dms hkex participant list",
        "dms --format csv hkex participant list > participants.csv",
    ))]
    List,
    /// Show one participant.
    #[command(after_help = examples!(
        "dms hkex participant show B01234",
        "dms hkex participant show HKXYZ --house seoch",
    ))]
    Show {
        /// The participant ID.
        id: String,
        /// Where the code is registered with both HKCC and SEOCH.
        #[arg(long, value_parser = house)]
        house: Option<ClearingHouse>,
    },
    /// Migration: import participants from CSV (header id,name,house,max_users,domains).
    #[command(after_help = examples!(
        "echo 'id,name,house,max_users,domains' > participants.csv",
        "echo 'B07777,NEW BROKER LTD,hkscc-cp,40,nb.com.hk' >> participants.csv",
        "dms hkex participant import participants.csv --dry-run",
        "dms hkex participant import participants.csv",
    ))]
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
#[command(defer = true)]
pub enum Da3Command {
    /// Add a DA: assigns the next DA ID of the participant.
    #[command(after_help = examples!(
        "dms hkex da3 add --participant B01234 --role checker --surname MAK \\",
        "    --other-names \"WAI SHAN\" --email ws.mak@abc.com.hk",
    ))]
    Add {
        /// The participant ID the DA belongs to.
        #[arg(long)]
        participant: String,
        /// Where the code is registered with both HKCC and SEOCH.
        #[arg(long, value_parser = house)]
        house: Option<ClearingHouse>,
        /// maker or checker.
        #[arg(long)]
        role: String,
        /// The DA's surname (at most 40 characters).
        #[arg(long)]
        surname: String,
        /// The DA's other names (at most 40 characters).
        #[arg(long)]
        other_names: String,
        /// The DA's e-mail address: first-time logon OTPs go there.
        #[arg(long)]
        email: String,
    },
    /// Unlock a DA; the next logon is a first-time logon (password and OTP channel again).
    #[command(after_help = examples!(
        "dms hkex da3 unlock B01234X1 --email tm.chan@abc.com.hk",
    ))]
    Unlock {
        /// The DA's user ID.
        #[arg(value_parser = user_id)]
        da_id: UserId,
        /// The DA's registered e-mail address, checked as the eService checks it.
        #[arg(long)]
        email: Option<String>,
    },
    /// Reset a DA's password and OTP device registration (next logon is first-time).
    #[command(after_help = examples!(
        "dms hkex da3 reset B01234X2 --email sm.wong@abc.com.hk",
    ))]
    Reset {
        /// The DA's user ID.
        #[arg(value_parser = user_id)]
        da_id: UserId,
        /// The DA's registered e-mail address, checked as the eService checks it.
        #[arg(long)]
        email: Option<String>,
    },
    /// Change a DA's registered e-mail address (the old and the new address are told).
    #[command(after_help = examples!(
        "dms hkex da3 change-email B01234X3 --email kayan.lee@abc.com.hk",
    ))]
    ChangeEmail {
        /// The DA's user ID.
        #[arg(value_parser = user_id)]
        da_id: UserId,
        /// The new e-mail address.
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled DA.
    #[command(after_help = examples!(
        "dms hkex da3 enable B01234X4",
    ))]
    Enable {
        /// The DA's user ID.
        #[arg(value_parser = user_id)]
        da_id: UserId,
    },
    /// Disable a DA (refused if the participant would fall below 1 maker and 2 checkers).
    #[command(after_help = examples!(
        "dms hkex da3 disable B01234X4",
    ))]
    Disable {
        /// The DA's user ID.
        #[arg(value_parser = user_id)]
        da_id: UserId,
    },
    /// Delete a DA (refused if the participant would fall below 1 maker and 2 checkers).
    ///
    /// Irreversible: a deleted ID is never reused. At a terminal it asks for confirmation
    /// (--yes skips it). A script should pass --yes; without it, on a pipe, the command still
    /// runs but warns that the form is deprecated.
    #[command(after_help = examples!(
        "# Asks for confirmation",
        "dms hkex da3 delete B01234X4",
        "dms hkex da3 delete B01234X4 --yes",
    ))]
    Delete {
        /// The DA's user ID (never reused).
        #[arg(value_parser = user_id)]
        da_id: UserId,
        /// Delete without asking for confirmation (what a script says).
        #[arg(long, short)]
        yes: bool,
    },
    /// Give an existing business user the DA maker or checker role (after decommissioning).
    #[command(after_help = examples!(
        "dms hkex da3 assign-da B0123402 --role checker",
    ))]
    AssignDa {
        /// The business user's ID.
        #[arg(value_parser = user_id)]
        user_id: UserId,
        /// maker or checker.
        #[arg(long)]
        role: String,
    },
}

// Auditor reports (SPEC §6).
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Which report.
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
    #[arg(long, conflicts_with = "all")]
    pub participant: Option<String>,
    /// Operator and auditors: every participant (the default; said outright, as `listing --all`).
    #[arg(long)]
    pub all: bool,
    /// With --participant, where the code is registered with both HKCC and SEOCH.
    #[arg(long, value_parser = house, requires = "participant")]
    pub house: Option<ClearingHouse>,
    /// audit: only the rows after this sequence number (pull the trail incrementally, e.g. with
    /// --format jsonl for a SIEM).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(0..))]
    pub after_seq: Option<i64>,
    /// audit: only the rows of this actor (a user ID).
    #[arg(long, value_name = "ID")]
    pub actor: Option<String>,
    /// audit: only the rows whose action begins with this (user., request.approved, signin.).
    #[arg(long, value_name = "PREFIX")]
    pub action: Option<String>,
    /// audit: only the rows about this user.
    #[arg(long, value_parser = user_id, value_name = "ID")]
    pub subject: Option<UserId>,
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
