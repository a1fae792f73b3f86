//! What a newcomer reads: `--help` with a description of every argument and examples on every
//! command (each example parses as the command it illustrates).

use crate::harness::*;
use clap::{CommandFactory as _, Parser as _};

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
        if ["--db", "--format", "--session"].contains(&w.as_str()) {
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
