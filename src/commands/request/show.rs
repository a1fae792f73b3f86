//! `request show N [--page P]`: the request, and what approving it now would do to each
//! profile — the seed's screens (field, current, proposed, in HKD) for a few profiles, a
//! field-by-field table a page at a time for a bulk request, every row with `--format csv`,
//! and all of it with `--format json`.

use crate::commands::user::screen;
use crate::commands::{signed_in, READERS};
use crate::context::{Ctx, Mode};
use crate::ops::maker_checker::{self, Shown, View};
use crate::output::{time, DiffRow, Format};
use crate::storage::participants::Participant;
use serde_json::{json, Value};

/// Profiles shown as whole screens (here and when a request is submitted); a request with
/// more is shown as a field table.
pub const SCREENS: usize = 3;
/// Profiles per page of the field table.
pub const PAGE: usize = 50;

pub fn run(ctx: &mut Ctx, n: i64, page: usize) -> anyhow::Result<()> {
    let v = signed_in(ctx, READERS, Mode::Read, |w, me| maker_checker::view(w, &me.account, n))?;
    print(ctx, &v, page)
}

/// Print one request as the reader's format asks.
pub fn print(ctx: &Ctx, v: &View, page: usize) -> anyhow::Result<()> {
    match ctx.out.format {
        Format::Json | Format::Jsonl => ctx.out.object(&json_of(v))?,
        Format::Csv => ctx.out.diff(&diff_rows(&v.participant, v.shown.as_deref().unwrap_or_default()))?,
        Format::Table => table(ctx, v, page)?,
    }
    Ok(())
}

/// The request's own fields, as `request list` shows them.
fn header(v: &View) -> Value {
    let r = &v.row;
    json!({
        "request_id": r.request_id, "participant_id": r.participant.id(), "kind": r.kind, "summary": v.change.summary(),
        "maker": r.maker, "created_at": time(r.created_at), "expires_at": time(r.expires_at), "status": r.status.as_str(),
        "checker": r.checker, "decided_at": r.decided_at.map(time), "reason": r.reason,
    })
}

/// JSON: the header, the subjects, the change (public names), and for a pending request that
/// can still be applied, what it does to each subject (`rows`); otherwise why not (`not_applicable`).
fn json_of(v: &View) -> Value {
    let mut doc = header(v);
    let m = doc.as_object_mut().expect("an object");
    m.insert("subjects".into(), json!(v.subjects.iter().map(|s| s.user_id.clone()).collect::<Vec<_>>()));
    m.insert("change".into(), v.change.public());
    match &v.shown {
        Ok(shown) => {
            m.insert("rows".into(), shown.iter().map(|s| screen::shown_json(s, &v.participant)).collect());
        }
        Err(why) => {
            m.insert("not_applicable".into(), json!(why));
        }
    }
    doc
}

fn table(ctx: &Ctx, v: &View, page: usize) -> anyhow::Result<()> {
    ctx.out.object(&header(v))?;
    let shown = match &v.shown {
        Ok(s) => s,
        Err(why) => {
            ctx.out.note(&format!("Nothing to show beside it: {why}."));
            return Ok(());
        }
    };
    let id = v.row.request_id;
    print_shown(ctx, shown, &v.participant, page, Some(&format!("dms request show {id}")))
}

/// What a request does, in a table: the seed's screens for a few profiles, otherwise a page
/// of the field table (`again` is the command that shows it, for the hint to the next page).
pub fn print_shown(
    ctx: &Ctx,
    shown: &[Shown],
    participant: &Participant,
    page: usize,
    again: Option<&str>,
) -> anyhow::Result<()> {
    if shown.len() <= SCREENS {
        for s in shown {
            ctx.out.gap();
            ctx.out.screen(&screen::shown(s, participant))?;
        }
        return Ok(());
    }
    let pages = shown.len().div_ceil(PAGE);
    let page = page.clamp(1, pages);
    let on_page = &shown[(page - 1) * PAGE..(page * PAGE).min(shown.len())];
    ctx.out.gap();
    ctx.out.diff(&diff_rows(participant, on_page))?;
    let next = match again {
        Some(again) if page < pages => format!("`{again} --page {}` shows the next; ", page + 1),
        _ => String::new(),
    };
    ctx.out.note(&format!("Page {page} of {pages} ({} profiles). {next}`--format csv` writes every row.", shown.len()));
    Ok(())
}

/// One row per field that the request sets or changes, per subject.
pub fn diff_rows(participant: &Participant, shown: &[Shown]) -> Vec<DiffRow> {
    let mut out = Vec::new();
    for s in shown {
        let j = screen::shown_json(s, participant);
        let user_id = j["user_id"].as_str().unwrap_or_default().to_string();
        let action = screen::action(s);
        match j["diff"].as_object() {
            Some(d) if !d.is_empty() => {
                for (key, c) in d {
                    // The ID has its own column; a new profile's organisation is the request's.
                    if action == "create" && (matches!(key.as_str(), "user_id" | "organisation" | "internal_external"))
                    {
                        continue;
                    }
                    if action == "create" && c["proposed"].is_null() {
                        continue;
                    }
                    out.push(DiffRow {
                        user_id: user_id.clone(),
                        action,
                        key: key.clone(),
                        current: c["current"].clone(),
                        proposed: c["proposed"].clone(),
                    });
                }
            }
            // Delete and Unlock/Reset change no field: one row says what happens.
            _ => out.push(DiffRow { user_id, action, key: String::new(), current: Value::Null, proposed: Value::Null }),
        }
    }
    out
}
