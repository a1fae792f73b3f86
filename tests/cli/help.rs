//! What a newcomer reads: `--help` with a description of every argument and examples on every
//! command (each example parses as the command it illustrates), and `dms man --out DIR`, one
//! man page per command with EXIT STATUS, ENVIRONMENT and EXAMPLES.

use crate::harness::*;
use clap::{CommandFactory as _, Parser as _};
use std::path::Path;

/// Every command of the tree (the root first) with its path, e.g. "dms user create"; clap's
/// own `help` subcommand is left out.
fn commands() -> Vec<(String, clap::Command)> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
        let path = if path.is_empty() { cmd.get_name().to_string() } else { format!("{path} {}", cmd.get_name()) };
        out.push((path.clone(), cmd.clone()));
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            walk(sub, &path, out);
        }
    }
    let mut root = dms::cli::Cli::command();
    root.build();
    let mut out = Vec::new();
    walk(&root, "", &mut out);
    out
}

/// A command's example lines, continuations (a line ending in `\`) joined.
fn example_lines(cmd: &clap::Command) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending = String::new();
    for line in dms::commands::meta::examples(cmd) {
        let line = line.trim();
        match line.strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head);
                pending.push(' ');
            }
            None => {
                pending.push_str(line);
                out.push(std::mem::take(&mut pending));
            }
        }
    }
    assert!(pending.is_empty(), "an example ends in a continuation: {pending}");
    out
}

/// The words of a shell command line, as `sh` would split them, up to the first unquoted
/// redirection or pipe (enough for the examples: quotes, no expansions).
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut any) = (Vec::new(), String::new(), None::<char>, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, '<' | '>' | '|') => break,
            (None, c) if c.is_whitespace() => {
                if any || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            (None, c) => word.push(c),
        }
    }
    assert!(quote.is_none(), "an unclosed quote in {line:?}");
    if any || !word.is_empty() {
        words.push(word);
    }
    words
}

/// The subcommand path of a parsed command line: its words without the global options.
fn command_path(words: &[String]) -> String {
    let mut path = Vec::new();
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if ["--db", "--format", "--session", "--server", "--ca-file"].contains(&w.as_str()) {
            it.next();
        } else if !w.starts_with('-') {
            path.push(w.as_str());
        }
    }
    path.join(" ")
}

#[test]
fn every_argument_is_described_and_every_command_has_a_description_and_examples() {
    let mut gaps = Vec::new();
    for (path, cmd) in commands() {
        if cmd.get_about().is_none() && cmd.get_long_about().is_none() {
            gaps.push(format!("{path}: no description"));
        }
        let lines = dms::commands::meta::examples(&cmd);
        let runs = example_lines(&cmd).iter().filter(|l| l.starts_with("dms ")).count();
        if !(1..=3).contains(&runs) {
            gaps.push(format!("{path}: {runs} example command lines (1 to 3 wanted)"));
        }
        for l in lines.iter().filter(|l| l.chars().count() > 78) {
            gaps.push(format!("{path}: an example line wider than 78 columns: {l}"));
        }
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                gaps.push(format!("{path}: argument {} has no description", arg.get_id()));
            }
        }
    }
    assert!(gaps.is_empty(), "the help has gaps:\n{}", gaps.join("\n"));
}

#[test]
fn every_example_parses_as_the_command_it_illustrates() {
    let mut checked = 0;
    for (path, cmd) in commands() {
        for line in example_lines(&cmd).iter().filter(|l| l.starts_with("dms ")) {
            let words = shell_words(line);
            if let Err(e) = dms::cli::Cli::try_parse_from(&words) {
                panic!("the example of `{path}` does not parse:\n  {line}\n{e}");
            }
            let run = command_path(&words);
            assert!(run.starts_with(&path) || path == "dms", "an example under `{path}` runs `{run}`:\n  {line}");
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} examples");
}

#[test]
fn help_shows_the_examples_and_the_descriptions() {
    let w = World::empty(MONDAY_10);
    let r = w.raw(&["user", "create", "--help"]).ok();
    assert!(r.stdout.contains("Examples:\n  # The next free user ID"), "{r}");
    assert!(r.stdout.contains("--surname <SURNAME>") && r.stdout.contains("Surname (required to create"), "{r}");
    // Not coloured on a pipe: the heading's escapes are dropped.
    assert!(!r.stdout.contains('\x1b'), "{r}");
    let r = w.raw(&["request", "approve", "-h"]).ok();
    assert!(r.stdout.contains("<IDS>...") && r.stdout.contains("The request IDs to authorise"), "{r}");
    assert!(r.stdout.contains("dms request approve 1"), "short help keeps the examples:\n{r}");
}

/// A roff page that `man` can render: known requests only, blocks closed, the sections asked
/// for, and (where groff is installed) no warning from groff itself.
#[track_caller]
fn check_page(path: &Path, name: &str) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with(".\\\" Generated by `dms man`"), "{name}: the marker line: {first}");
    assert!(text.contains(&format!(".TH {name} 1 ")), "{name}: the title line");
    let sections: Vec<&str> =
        text.lines().filter_map(|l| l.strip_prefix(".SH ")).map(|s| s.trim_matches('"')).collect();
    for wanted in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "EXAMPLES"] {
        assert!(sections.contains(&wanted), "{name}: no {wanted} section: {sections:?}");
    }
    let (mut nf, mut rs) = (0i32, 0i32);
    for l in text.lines() {
        assert!(!l.starts_with('\''), "{name}: a line that roff reads as a request: {l}");
        let Some(req) = l.strip_prefix('.') else { continue };
        let req = req.split_whitespace().next().unwrap_or("");
        match req {
            "nf" => nf += 1,
            "fi" => nf -= 1,
            "RS" => rs += 1,
            "RE" => rs -= 1,
            "\\\"" | "TH" | "SH" | "SS" | "TP" | "PP" | "IP" | "br" | "B" | "ie" | "el" => {}
            other => panic!("{name}: an unexpected roff request .{other}"),
        }
        assert!((0..=1).contains(&nf) && (0..=1).contains(&rs), "{name}: nested blocks at {l}");
    }
    assert_eq!((nf, rs), (0, 0), "{name}: a block left open");
    let status = text.split(".SH \"EXIT STATUS\"").nth(1).and_then(|s| s.split(".SH ").next()).unwrap_or_default();
    for code in 0..=7 {
        assert!(status.contains(&format!("\\fB{code}\\fR")), "{name}: exit status {code} not listed");
    }
    let env = text.split(".SH ENVIRONMENT").nth(1).and_then(|s| s.split(".SH ").next()).unwrap_or_default();
    for var in ["DMS_DB", "DMS_FORMAT", "DMS_SESSION", "DMS_NOW", "DMS_SEED", "NO_COLOR"] {
        assert!(env.contains(var), "{name}: {var} not in ENVIRONMENT");
    }
    let examples = text.split(".SH EXAMPLES").nth(1).unwrap_or_default();
    assert!(examples.lines().any(|l| l.starts_with("dms ")), "{name}: no example command");

    // groff, where it is installed, renders it without a warning ("cannot adjust line" aside:
    // a CSV header is one long word).
    let groff = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-Wbreak", "-z"])
        .arg(path)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output();
    if let Ok(out) = groff {
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{name}: groff: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn man_out_writes_one_page_per_command_with_exit_status_environment_and_examples() {
    let w = World::empty(MONDAY_10);
    // A folder that is not there yet is made.
    let v = w.run(&["man", "--out", "share/man/man1"], None).ok().json();
    let dir = w.path("share/man/man1");
    let commands = commands();
    assert_eq!(v["pages"], commands.len(), "{v}");
    for (path, _) in &commands {
        let name = path.replace(' ', "-");
        let page = dir.join(format!("{name}.1"));
        assert!(page.is_file(), "no page for `{path}`");
        assert_eq!(mode(&page), 0o644, "{name}.1 is for everyone to read");
        check_page(&page, &name);
    }
    let top = std::fs::read_to_string(dir.join("dms.1")).expect("dms.1");
    assert!(top.contains("dms\\-user(1)") && top.contains("dms\\-hkex(1)"), "the top page names the others");
    let user = std::fs::read_to_string(dir.join("dms-user.1")).expect("dms-user.1");
    assert!(user.contains("dms\\-user\\-create(1)"), "a family's page names its commands");

    // Running it again replaces its own pages.
    w.run(&["man", "--out", "share/man/man1"], None).ok();
}

#[test]
fn man_out_never_overwrites_a_file_it_did_not_write() {
    let w = World::empty(MONDAY_10);
    std::fs::create_dir(w.path("man1")).expect("mkdir");
    w.write("man1/dms-user.1", ".TH SOMETHING-ELSE 1\nnot ours\n");
    let r = w.run(&["man", "--out", "man1"], None);
    r.refused(Exit::Conflict, &["dms-user.1", "not a man page dms wrote"]);
    assert_eq!(std::fs::read_to_string(w.path("man1/dms-user.1")).expect("kept"), ".TH SOMETHING-ELSE 1\nnot ours\n");
    assert!(!w.path("man1/dms.1").exists(), "nothing is written when one file is refused");
}

#[test]
fn man_without_out_prints_the_top_page_with_the_new_sections() {
    let w = World::empty(MONDAY_10);
    let r = w.raw(&["man"]).ok();
    for s in [".TH dms 1", ".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH EXAMPLES", "dms\\-user(1)"] {
        assert!(r.stdout.contains(s), "{s} missing:\n{r}");
    }
    std::fs::write(w.path("dms.1"), &r.stdout).expect("write");
    check_page(&w.path("dms.1"), "dms");
}

/// Issue 20: a subcommand people bring from other tools is answered with the dms command that
/// does it (`user list` → `listing`, `user show` → `user enquire`), exit 2, in JSON too.
#[test]
fn familiar_subcommand_names_point_to_the_dms_command() {
    let w = World::empty(MONDAY_10);
    let r = w.raw(&["user", "list"]).expect(Exit::Usage);
    assert!(r.stderr.contains("'list'") && r.stderr.contains("dms listing") && !r.stderr.contains("history"), "{r}");
    let r = w.raw(&["--format", "json", "user", "show", "B0123401"]).expect(Exit::Usage);
    assert!(r.stderr.contains("dms user enquire ID") && r.stderr.starts_with("{\"error\""), "{r}");
    let r = w.raw(&["--db", "x.db", "approve", "3"]).expect(Exit::Usage);
    assert!(r.stderr.contains("dms request approve N"), "{r}");
}
