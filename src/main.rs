//! The `dms` binary: parse, run, map the error to an exit code (all in `dms::main`).

fn main() {
    std::process::exit(dms::main());
}
