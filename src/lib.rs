//! dms: the Security Management Functions (DMS) of a clearing system's terminal access.
//!
//! Data flows one way: `cli` (clap) → `commands::<family>::<verb>` (glue) → `ops` (each rule
//! enforced on one path) → `domain` (pure rules, `now` passed in) and `storage` (all SQL, one
//! transaction per command); `output` is the only printer.

pub mod api;
pub mod bulk;
pub mod cli;
pub mod client;
pub mod commands;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod files;
pub mod mail;
pub mod ops;
pub mod output;
pub mod prompt;
pub mod secrets;
pub mod server;
pub mod session_file;
pub mod storage;

/// Run one parsed command line.
pub fn run(cli: cli::Cli) -> anyhow::Result<()> {
    commands::dispatch(cli)
}

/// The whole program: parse the command line, run it, report any error in the chosen format,
/// and return the exit code of SPEC §8.
pub fn main() -> i32 {
    use clap::{CommandFactory as _, FromArgMatches as _};
    let matches = match cli::Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return report_clap_error(&e),
    };
    let mut cli = match cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return report_clap_error(&e),
    };
    cli.global.db_given = on_command_line(&matches, "db");
    cli.global.server_given = on_command_line(&matches, "server");
    let out = output::Output::new(cli.global.format);
    match run(cli) {
        Ok(()) => 0,
        Err(err) if error::is_broken_pipe(&err) => 0,
        Err(err) => {
            let (kind, message) = error::classify(&err);
            out.error(kind.code(), &message, error::faults(&err));
            kind.exit_code()
        }
    }
}

/// Was this global option typed on the command line (at any level of the subcommands)?
fn on_command_line(m: &clap::ArgMatches, id: &str) -> bool {
    let here = m.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    here || m.subcommand().is_some_and(|(_, sub)| on_command_line(sub, id))
}

/// A command line that did not parse: --help and --version exit 0; a value that fails its
/// validator (a malformed user ID, say) is invalid input (6); anything else is usage (2).
/// Under --format json the error is a JSON object, as for every other failure.
fn report_clap_error(e: &clap::Error) -> i32 {
    if !e.use_stderr() {
        let _ = e.print();
        return 0;
    }
    let kind = match e.kind() {
        clap::error::ErrorKind::ValueValidation => error::Kind::Invalid,
        _ => error::Kind::Usage,
    };
    if let Some(text) = familiar_name(e) {
        if requested_format().is_json() {
            output::Output::new(output::Format::Json).error(kind.code(), &text, &[]);
        } else {
            eprintln!("error: {text}\n\nFor more information, try '--help'.");
        }
        return kind.exit_code();
    }
    if requested_format().is_json() {
        let text = e.render().to_string();
        output::Output::new(output::Format::Json).error(kind.code(), text.trim().trim_start_matches("error: "), &[]);
    } else {
        let _ = e.print();
    }
    kind.exit_code()
}

/// A subcommand people type from other tools (`user list`, `user show`): the error names the
/// dms command that does it, instead of clap's nearest spelling (`history`, `logout`).
fn familiar_name(e: &clap::Error) -> Option<String> {
    if e.kind() != clap::error::ErrorKind::InvalidSubcommand {
        return None;
    }
    let Some(clap::error::ContextValue::String(word)) = e.get(clap::error::ContextKind::InvalidSubcommand) else {
        return None;
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let at = args.iter().position(|a| a == word)?;
    // The command group it was typed under, if any (the words before it may be option values).
    let groups = ["user", "request", "hkex", "da", "otp", "password", "auth", "audit"];
    let parent = args[..at].iter().rev().find(|a| groups.contains(&a.as_str())).map(String::as_str);
    let hint = match (parent, word.to_ascii_lowercase().as_str()) {
        (Some("user") | None, "list" | "ls" | "users") => "`dms listing` lists the profiles (User Profile Listing)",
        (Some("user") | None, "show" | "get" | "info" | "view") => {
            "`dms user enquire ID` shows one profile (Enquire User Profile)"
        }
        (None, "approve" | "reject" | "requests") => {
            "requests are under `dms request` (`dms request list`, `dms request approve N`)"
        }
        _ => return None,
    };
    Some(format!("unrecognized subcommand '{word}'\n\n  tip: {hint}"))
}

/// The --format (or DMS_FORMAT) of a command line that did not parse, as far as it can be read.
fn requested_format() -> output::Format {
    use clap::CommandFactory as _;
    cli::Cli::command()
        .ignore_errors(true)
        .try_get_matches()
        .ok()
        .and_then(|m| m.get_one::<output::Format>("format").copied())
        .unwrap_or(output::Format::Table)
}
