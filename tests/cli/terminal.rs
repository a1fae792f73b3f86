//! At a real terminal (a pseudo-terminal): tables fit the terminal's width (or a sane one when
//! it reports none) and break free text only, never an ID, a date or an amount; an
//! irreversible `hkex da3 delete` asks first.

use crate::harness::*;
use expectrl::session::OsSession as Session;
use expectrl::Expect;
use std::time::Duration;

/// `dms ARGS` in a pseudo-terminal of `cols` columns (0: one that reports no width, as a new
/// pseudo-terminal without a size does). The pseudo-terminal library sets its own 80x24 after
/// the child has started, so a shell waits for a line before it starts dms, and the size is set
/// before that line is sent: nothing races it.
fn at_terminal(w: &World, cols: u16, args: &[&str]) -> Session {
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.env_clear()
        .current_dir(w.dir())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DMS_NOW", w.now_rfc3339())
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .arg("-c")
        .arg("read -r go && exec \"$0\" \"$@\"")
        .arg(dms_bin())
        .args(args);
    let mut s = Session::spawn(cmd).expect("dms in a pseudo-terminal");
    s.get_process_mut().set_window_size(cols, 50).expect("setting the size");
    s.send_line("go").expect("starting dms");
    s.set_expect_timeout(Some(Duration::from_secs(30)));
    s
}

/// Everything it printed until it ended, and its exit code.
fn finish(mut s: Session) -> (String, i32) {
    let out = match s.expect(expectrl::Eof) {
        // Eof matches everything still unread.
        Ok(found) => String::from_utf8_lossy(found.get(0).unwrap_or_default()).replace('\r', ""),
        Err(e) => {
            let _ = s.get_process_mut().kill(expectrl::process::unix::Signal::SIGKILL);
            panic!("dms did not finish: {e}");
        }
    };
    match s.get_process_mut().wait().expect("waiting for dms") {
        expectrl::process::unix::WaitStatus::Exited(_, code) => (out, code),
        other => panic!("dms ended with {other:?}"),
    }
}

/// The lines of a drawn table (those with its borders).
fn table_lines(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with(['┌', '│', '╞', '├', '└'])).collect()
}

fn width(line: &str) -> usize {
    line.chars().count()
}

#[test]
fn a_terminal_that_reports_no_width_gets_a_100_column_table_not_a_column_of_letters() {
    let w = World::with_das();
    let (out, code) = finish(at_terminal(&w, 0, &["--session", "B01234X1.session", "listing"]));
    assert_eq!(code, 0, "{out}");
    let lines = table_lines(&out);
    assert_eq!(lines.len(), 3 + 1 + 6, "a header, six users, one line each:\n{out}");
    assert!(lines.iter().all(|l| width(l) <= 100), "within 100 columns:\n{out}");
    for whole in ["B0123401", "B01234X3", "wk.cheung@abc.com.hk", "Other Names", "ENABLED"] {
        assert!(out.contains(whole), "{whole} whole:\n{out}");
    }
    assert!(out.contains("*** END OF REPORT ***"), "{out}");
}

#[test]
fn at_60_columns_ids_stay_whole_and_only_free_text_wraps() {
    let w = World::with_das();
    // A key/value table fits: its values wrap, its labels and IDs do not.
    let (out, code) = finish(at_terminal(&w, 60, &["--session", "B01234X1.session", "user", "enquire", USER1]));
    assert_eq!(code, 0, "{out}");
    let lines = table_lines(&out);
    assert!(!lines.is_empty() && lines.iter().all(|l| width(l) <= 60), "within 60 columns:\n{out}");
    for whole in [USER1, "wk.cheung@abc.com.hk", "1,000,000.00", "B01234 ABC SECURITIES"] {
        assert!(lines.iter().any(|l| l.contains(whole)), "{whole} on one line:\n{out}");
    }

    // The listing is wider than 60 columns even at its narrowest: it keeps every ID, status
    // and role whole and wraps the e-mail addresses rather than break one.
    let (wide, _) = finish(at_terminal(&w, 0, &["--session", "B01234X1.session", "listing"]));
    let (out, code) = finish(at_terminal(&w, 60, &["--session", "B01234X1.session", "listing"]));
    assert_eq!(code, 0, "{out}");
    let lines = table_lines(&out);
    for whole in [USER1, USER2, USER3, MAKER, CHECKER, CHECKER2, "ENABLED", "checker", "Surname", "Locked"] {
        assert!(lines.iter().any(|l| l.contains(whole)), "{whole} whole:\n{out}");
    }
    assert!(!out.contains("wk.cheung@abc.com.hk"), "e-mail addresses wrap:\n{out}");
    let narrowest = |t: &str| table_lines(t).iter().map(|l| width(l)).max().unwrap_or(0);
    assert!(narrowest(&out) < narrowest(&wide), "narrower than at 100 columns:\n{out}\n{wide}");
}

/// The operator signed in, and a fourth DA (B01234X4) that may be deleted.
fn with_a_spare_checker() -> World {
    let w = World::with_operator();
    w.da3_add(PARTICIPANT, "checker", "CHOI", "kw.choi@abc.com.hk").ok();
    w
}

#[test]
fn da3_delete_at_a_terminal_asks_and_no_keeps_the_da() {
    let w = with_a_spare_checker();
    let mut s = at_terminal(&w, 100, &["--session", "HKEXOP01.session", "hkex", "da3", "delete", "B01234X4"]);
    s.expect("Delete DA B01234X4 (CHOI TEST, DA CHECKER of B01234)?").expect("the question names the DA");
    s.send("n").expect("answering");
    let (out, code) = finish(s);
    assert_eq!(code, Exit::Usage.code(), "{out}");
    assert!(out.contains("B01234X4 not deleted"), "{out}");
    assert!(w.listing(PARTICIPANT).0.contains(&"B01234X4".to_string()), "still there");
}

/// Issue 20, check first, ask last: a deletion the DA minimum forbids is refused before the
/// question, not after a "y".
#[test]
fn da3_delete_at_a_terminal_refused_by_the_rules_is_told_before_anything_is_asked() {
    let w = World::with_operator();
    let s = at_terminal(&w, 100, &["--session", "HKEXOP01.session", "hkex", "da3", "delete", "B01234X3"]);
    let (out, code) = finish(s);
    assert_eq!(code, Exit::NotPermitted.code(), "{out}");
    assert!(out.contains("two DA checkers") && !out.contains("cannot be undone"), "no question: {out}");
    assert!(w.listing(PARTICIPANT).0.contains(&"B01234X3".to_string()), "still there");
}

#[test]
fn da3_delete_at_a_terminal_asks_and_yes_deletes_without_a_deprecation_warning() {
    let w = with_a_spare_checker();
    let mut s = at_terminal(&w, 100, &["--session", "HKEXOP01.session", "hkex", "da3", "delete", "B01234X4"]);
    s.expect("cannot be undone").expect("the question");
    s.send("y").expect("answering");
    let (out, code) = finish(s);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Completed") && !out.contains("deprecated"), "{out}");
    assert_eq!(w.sql("SELECT user_id FROM retired_user_ids"), "B01234X4");
}
