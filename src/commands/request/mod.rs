//! Pending maker-checker requests: `request list|show|approve|reject|cancel`.

pub mod approve;
pub mod decide;
pub mod list;
pub mod show;

use crate::domain::change::Change;
use crate::output::time;
use crate::storage::requests::RequestRow;
use serde_json::{json, Value};

pub const REQUEST_COLUMNS: &[&str] = &[
    "request_id",
    "participant_id",
    "kind",
    "summary",
    "maker",
    "created_at",
    "expires_at",
    "status",
    "checker",
    "decided_at",
    "reason",
];

/// A request as a row of [`REQUEST_COLUMNS`].
pub fn row(r: &RequestRow) -> Vec<Value> {
    let summary = serde_json::from_str::<Change>(&r.payload).map(|c| c.summary()).unwrap_or_default();
    vec![
        json!(r.request_id),
        json!(r.participant.id()),
        json!(r.kind),
        json!(summary),
        json!(r.maker),
        json!(time(r.created_at)),
        json!(time(r.expires_at)),
        json!(r.status.as_str()),
        json!(r.checker),
        json!(r.decided_at.map(time)),
        json!(r.reason),
    ]
}
