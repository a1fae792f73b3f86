//! The `dms` binary: parse, run, map the error to an exit code.

use clap::Parser as _;

fn main() {
    let cli = match dms::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let out = dms::output::Output::new(cli.global.format);
    if let Err(err) = dms::run(cli) {
        if dms::error::is_broken_pipe(&err) {
            std::process::exit(0);
        }
        let (kind, message) = dms::error::classify(&err);
        out.error(kind.code(), &message);
        std::process::exit(kind.exit_code());
    }
}
