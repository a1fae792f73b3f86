//! The commands: each parses its arguments into a [`Call`] (reading the files and secrets it
//! names on this side), runs it through the [`Client`] — in this process, or on the server
//! `--server` names — and the reply is rendered as it arrives. Glue only: every rule is the
//! service's (`ops`), every line printed is `output`'s.
//!
//! The host-local commands (`init`, `restore`, `demo`, `completions`, `man`) work on files of
//! this host and make no call.

pub mod auth;
pub mod backup;
pub mod demo;
pub mod hkex;
pub mod init;
pub mod meta;
pub mod read;
pub mod user;

use crate::api::Call;
use crate::cli::{Cli, Command, Global};
use crate::client::Client;
use crate::error::usage;
use crate::ops::work::default_session_path;
use crate::output::Output;
use crate::secrets::Input;

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let g = cli.global;
    if g.server_given {
        let local = match &cli.command {
            Command::Init(_) => Some("init"),
            Command::Restore(_) => Some("restore"),
            Command::Serve(_) => Some("serve"),
            _ => None,
        };
        if let Some(name) = local {
            return Err(usage(format!(
                "dms {name} works on a database file of this host and takes no --server: run it on the server's host, as the account that owns the database"
            ))
            .into());
        }
    }
    match cli.command {
        Command::Init(a) => init::run(&g, a),
        Command::Restore(a) => backup::restore(&g, a),
        Command::Demo(a) => demo::run(&g, a),
        Command::Completions { shell } => meta::completions(shell),
        Command::Man(a) => meta::man(a, g.format),
        Command::Serve(a) => crate::server::run(crate::server::Options {
            db: g.db.clone(),
            socket: a.socket,
            socket_mode: crate::server::parse_mode(&a.socket_mode)?,
            socket_group: a.socket_group,
            listen: a.listen,
            tls_cert: a.tls_cert,
            tls_key: a.tls_key,
        }),
        other => {
            let mut client = client(&g)?;
            match other {
                Command::Login(a) => auth::login(&mut client, a),
                Command::Logout => simple(&mut client, Call::Logout),
                Command::Whoami => simple(&mut client, Call::Whoami),
                Command::Otp(c) => auth::otp(&mut client, c),
                Command::Password(c) => auth::password(&mut client, c),
                Command::Auth(c) => auth::settings(&mut client, c),
                Command::User(c) => user::run(&mut client, c),
                Command::Da(c) => user::da(&mut client, c),
                Command::Request(c) => user::request(&mut client, c),
                Command::Listing(a) => read::listing(&mut client, a),
                Command::Report(a) => read::report(&mut client, a),
                Command::Audit(c) => read::audit(&mut client, c),
                Command::Hkex(c) => hkex::run(&mut client, c),
                Command::Backup(a) => backup::backup(&mut client, a),
                Command::Init(_)
                | Command::Restore(_)
                | Command::Demo(_)
                | Command::Completions { .. }
                | Command::Serve(_)
                | Command::Man(_) => unreachable!("host-local: handled above"),
            }
        }
    }
}

/// The client the global options name: a server's (`--server`), or this process on the
/// database file.
fn client(g: &Global) -> anyhow::Result<Client> {
    let out = Output::new(g.format);
    let session = g.session.clone().unwrap_or_else(|| default_session_path(&g.db));
    if g.db_given && g.server_given {
        return Err(usage(
            "--db and --server both given: a client of a server opens no database file (drop --db, or --server to work on the file)",
        )
        .into());
    }
    // A --db typed on the command line wins over DMS_SERVER from the environment (a host job of
    // the service account, run beside its server); a server named either way otherwise wins.
    match g.server.as_deref().filter(|s| !s.trim().is_empty() && !g.db_given) {
        Some(url) => Client::remote(url, g.ca_file.as_deref(), out, session),
        None => Client::embedded(&g.db, out, session),
    }
}

/// A call that asks nothing: no secrets, no terminal steps.
pub fn simple(client: &mut Client, call: Call) -> anyhow::Result<()> {
    client.run(call, Input::none())
}

/// A call that may ask at the terminal (a confirmation, an address).
pub fn with_terminal(client: &mut Client, call: Call) -> anyhow::Result<()> {
    client.run(call, Input::terminal())
}

/// A call with its inputs.
pub fn with_input(client: &mut Client, call: Call, input: Input) -> anyhow::Result<()> {
    client.run(call, input)
}
