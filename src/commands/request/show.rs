//! `request show N`: the request, and for a profile change each field's current and proposed
//! value.

use crate::commands::{signed_in, READERS};
use crate::context::{Ctx, Mode};
use crate::domain::change::{self, Change};
use crate::ops::maker_checker;
use crate::storage::ts;
use serde_json::{json, Map, Value};

pub fn run(ctx: &mut Ctx, n: i64) -> anyhow::Result<()> {
    let v = signed_in(ctx, READERS, Mode::Read, |w, me| describe(w, &me.account, n))?;
    ctx.out.object(&v)?;
    Ok(())
}

/// The request, with what it would change.
pub fn describe(w: &crate::context::Work<'_>, who: &crate::domain::account::Account, n: i64) -> anyhow::Result<Value> {
    let (r, change, subjects) = maker_checker::view(w, who, n)?;
    let mut proposed = serde_json::to_value(&change)?;
    if let (Change::ChangeUser { user_id, changes }, Some(obj)) = (&change, proposed.as_object_mut()) {
        if let Some(current) = maker_checker::current(w, user_id)? {
            let before = change::fields(&current);
            let after = changes.apply_to(&current).map(|p| change::fields(&p)).unwrap_or_default();
            let mut diff = Map::new();
            for (k, now) in before {
                if let Some(then) = after.get(&k).filter(|v| **v != now) {
                    diff.insert(k, json!({ "current": now, "proposed": then }));
                }
            }
            obj.insert("diff".into(), Value::Object(diff));
        }
    }
    Ok(json!({
        "request_id": r.request_id, "participant_id": r.participant.id(), "kind": r.kind, "summary": change.summary(),
        "maker": r.maker, "created_at": ts(r.created_at), "expires_at": ts(r.expires_at), "status": r.status.as_str(),
        "checker": r.checker, "decided_at": r.decided_at.map(ts), "reason": r.reason,
        "subjects": subjects.iter().map(|s| s.user_id.clone()).collect::<Vec<_>>(),
        "change": proposed,
    }))
}
