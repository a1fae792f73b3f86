//! The `dms` binary: parse, run, map the error to an exit code.

use clap::Parser as _;

fn main() {
    let cli = match dms::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if !e.use_stderr() {
                let _ = e.print(); // --help, --version
                std::process::exit(0);
            }
            // The contract holds for usage errors too: under --format json, a JSON error.
            if requested_format() == dms::output::Format::Json {
                let text = e.render().to_string();
                dms::output::Output::new(dms::output::Format::Json)
                    .error(dms::error::Kind::Usage.code(), text.trim().trim_start_matches("error: "));
            } else {
                let _ = e.print();
            }
            std::process::exit(dms::error::Kind::Usage.exit_code());
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

/// The --format (or DMS_FORMAT) of a command line that did not parse, as far as it can be read.
fn requested_format() -> dms::output::Format {
    use clap::CommandFactory as _;
    dms::cli::Cli::command()
        .ignore_errors(true)
        .try_get_matches()
        .ok()
        .and_then(|m| m.get_one::<dms::output::Format>("format").copied())
        .unwrap_or(dms::output::Format::Table)
}
