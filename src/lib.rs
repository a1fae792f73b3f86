//! dms: the Security Management Functions (DMS) of a clearing system's terminal access.
//!
//! Data flows one way: `cli` (clap) → `commands::<family>` (glue) → `domain` (pure rules,
//! `now` passed in) with `storage` (all SQL, one transaction per command) and `output` (the
//! only printer).

pub mod cli;
pub mod commands;
pub mod context;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod mail;
pub mod output;
pub mod requests;
pub mod secrets;
pub mod session;
pub mod signin;
pub mod storage;

/// Run one parsed command line.
pub fn run(cli: cli::Cli) -> anyhow::Result<()> {
    commands::dispatch(cli)
}
