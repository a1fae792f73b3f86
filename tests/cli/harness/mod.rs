//! The one harness of the integration tests: every test runs the `dms` binary hermetically in
//! a [`World`] of its own and reads what it did from the JSON contract.
//!
//! - [`run`]: the runner. A temp dir, `env_clear()`, a pinned `DMS_NOW` the test moves with
//!   `at`/`advance`, `--format json` unless asked for raw output, per-user session files
//!   `USER.session`, secrets on stdin only, a 60-second timeout; exit codes by name ([`Exit`]);
//!   every finished run is kept ([`World::runs`]).
//! - [`fixtures`]: the constants and the starting worlds (`empty`, `operator`, `demo`,
//!   `with_operator`, `with_das`, `ready`).
//! - [`mail`]: the mbox beside the database. [`totp`]: codes by the system `oathtool`, an
//!   implementation independent of the one under test.
//! - [`flows`]: first-time logon, login, smartcard, maker-checker and eService helpers.
//! - [`db`]: the `sqlite3` shell, for state no command prints (hashes, sessions, the audit
//!   trail) and for tampering. [`util`]: bytes, hashes, file modes.
//! - [`pty`]: `dms` in a pseudo-terminal with a clock file, for the interactive flows.
//! - [`audit`]: the audit trail as someone without the key file can rewrite it (the plain
//!   SHA-256 chain, written independently), pre-keyed trails, and checkpoints.

#![allow(dead_code)] // each test module uses a different subset

mod audit;
mod db;
mod fixtures;
mod flows;
mod mail;
mod pty;
mod run;
mod totp;
mod util;

pub use fixtures::*;
pub use flows::{create_args, da3_add_args, user_ids};
pub use pty::{at_terminal, exit_code, set_clock};
pub use run::{dms_bin, served, Exit, Run, Spawned, World};
pub use totp::{oathtool, secret_of};
pub use util::*;
