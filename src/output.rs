//! The only printer: table (comfy-table), CSV (csv), JSON and JSON Lines (serde_json) are
//! values of [`Format`], chosen once per command. Commands hand over `serde_json::Value`s;
//! lists are streamed row by row (CSV, JSON and JSON Lines never hold a whole listing in memory).
//!
//! stdout carries results only; notes, warnings and errors go to stderr, so that
//! `--format json` prints exactly one JSON document on stdout, and `--format jsonl` one compact
//! JSON object per line: one per row of a list (nothing else: no footer, no totals), or the
//! one result object.

use serde_json::{Map, Value};
use std::borrow::Cow;
use std::io::{self, IsTerminal as _, Write};

pub use crate::api::{DiffRow, Format, ListHead, Screen, ScreenField};

#[derive(Debug, Clone)]
pub struct Output {
    pub format: Format,
    /// Colour on stderr: only on a terminal and without NO_COLOR.
    pub color: bool,
}

impl Output {
    pub fn new(format: Format) -> Self {
        let color = io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Output { format, color }
    }

    /// Is a person reading stdout (table format on a terminal)? QR codes and prompts only then.
    pub fn for_person(&self) -> bool {
        self.format == Format::Table && io::stdout().is_terminal()
    }

    /// One result object.
    pub fn object(&self, v: &Value) -> io::Result<()> {
        let mut w = io::stdout().lock();
        match self.format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut w, v)?;
                writeln!(w)
            }
            Format::Jsonl => {
                serde_json::to_writer(&mut w, v)?;
                writeln!(w)
            }
            Format::Csv => {
                let map = as_map(v);
                let mut c = csv::Writer::from_writer(&mut w);
                c.write_record(map.keys())?;
                c.write_record(map.values().map(|v| csv_cell(v).into_owned()))?;
                c.flush()
            }
            Format::Table => {
                let map = as_map(v);
                let mut t = new_table();
                for (k, val) in &map {
                    t.add_row(vec![label(k), table_cell(k, val)]);
                }
                fit_columns(&mut t, &["label", "value"]);
                writeln!(w, "{t}")
            }
        }
    }

    /// Draw the key URI as a QR code on stdout, with the key written out under it.
    pub fn qr(&self, uri: &str) {
        println!("{}", self.qr_text(uri));
    }

    /// The key URI as a QR code in half-block characters (two modules a character) with the
    /// 4-module quiet zone scanners need, and the key written out for those who cannot scan.
    /// On a colour terminal the code is drawn black on white whatever the theme; without colour
    /// (NO_COLOR, not a terminal) dark modules are drawn as ink, which suits light themes —
    /// `otp setup --qr FILE.png` writes an image instead.
    pub fn qr_text(&self, uri: &str) -> String {
        let mut s = match qr_modules(uri) {
            Some(m) => render_qr(&m, self.color),
            None => String::new(),
        };
        if let Some(secret) = uri.split("secret=").nth(1).and_then(|r| r.split('&').next()) {
            let grouped: Vec<String> =
                secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
            s.push_str(&format!("Key (if you cannot scan): {}\n", grouped.join(" ")));
        }
        s
    }

    /// A screen as the seed draws it (table format), or its machine form (JSON, CSV).
    pub fn screen(&self, s: &Screen) -> io::Result<()> {
        if self.format != Format::Table {
            return self.object(&s.json);
        }
        let mut w = io::stdout().lock();
        if let Some(f) = &s.function {
            writeln!(w, "{f}")?;
        }
        if let Some(t) = &s.title {
            writeln!(w, "{t}")?;
        }
        if let Some(h) = &s.heading {
            writeln!(w, "{h}")?;
        }
        let changes = s.fields.iter().any(|f| f.proposed.is_some());
        let mut t = new_table();
        if changes {
            t.set_header(vec!["".to_string(), "Current".to_string(), "Proposed".to_string()]);
        }
        for f in &s.fields {
            let mut current = table_cell(&f.key, &f.current);
            if let Some(n) = &f.note {
                current = if current.is_empty() { n.clone() } else { format!("{current}  {n}") };
            }
            let mut row = vec![seed_label(&f.key), current];
            if changes {
                row.push(f.proposed.as_ref().map(|p| table_cell(&f.key, p)).unwrap_or_default());
            }
            t.add_row(row);
        }
        writeln!(w, "{t}")?;
        if let Some(enabled) = &s.functions {
            writeln!(w, "\n{}", function_block(enabled))?;
        }
        if let Some((selected, deleted)) = &s.groups {
            writeln!(w, "Selected User Groups: {}", if selected.is_empty() { "-".into() } else { selected.join(" ") })?;
            writeln!(w, "Deleted User Groups:  {}", if deleted.is_empty() { "-".into() } else { deleted.join(" ") })?;
        }
        if let Some(c) = &s.closing {
            writeln!(w, "\n{c}")?;
        }
        Ok(())
    }

    /// Field-by-field rows of a request's subjects (`request show` of a bulk request): a table
    /// under the seed's labels and forms, or CSV with the machine keys and values. `applied`:
    /// what a decided request did, its columns `before` and `after`.
    pub fn diff(&self, rows: &[DiffRow], applied: bool) -> io::Result<()> {
        let (was, will) = if applied { ("before", "after") } else { ("current", "proposed") };
        if self.format == Format::Csv {
            let mut c = csv::Writer::from_writer(io::stdout().lock());
            c.write_record(["user_id", "action", "field", was, will])?;
            for r in rows {
                let user_id = neutralise(printable(&r.user_id).into_owned());
                c.write_record([
                    user_id.as_str(),
                    r.action.as_str(),
                    r.key.as_str(),
                    &csv_cell(&r.current),
                    &csv_cell(&r.proposed),
                ])?;
            }
            return c.flush();
        }
        let mut t = new_table();
        t.set_header(vec!["User ID".to_string(), "Action".into(), "Field".into(), label(was), label(will)]);
        for r in rows {
            t.add_row(vec![
                printable(&r.user_id).into_owned(),
                r.action.clone(),
                seed_label(&r.key),
                table_cell(&r.key, &r.current),
                table_cell(&r.key, &r.proposed),
            ]);
        }
        writeln!(io::stdout().lock(), "{t}")
    }

    /// An empty line between two blocks of a table's output (nothing in CSV or JSON).
    pub fn gap(&self) {
        if self.format == Format::Table {
            let _ = writeln!(io::stdout());
        }
    }

    /// A line for people (what happens next): stderr, and not under `--format json` or
    /// `jsonl`, where stderr carries only JSON.
    pub fn note(&self, msg: &str) {
        if !self.format.is_json() {
            let _ = writeln!(io::stderr(), "{}", printable(msg));
        }
    }

    /// A warning on stderr; under `--format json` or `jsonl` a `{"warning":{"message"}}` line.
    pub fn warn(&self, msg: &str) {
        let mut e = io::stderr().lock();
        if self.format.is_json() {
            let _ = writeln!(e, "{}", serde_json::json!({ "warning": { "message": msg } }));
        } else if self.color {
            let _ = writeln!(e, "\x1b[33mwarning:\x1b[0m {}", printable(msg));
        } else {
            let _ = writeln!(e, "warning: {}", printable(msg));
        }
    }

    /// Report a failure: `{"error":{"code","message"}}` on stderr in JSON (with `"faults"`
    /// when there were several), a line otherwise (and a line per fault under it).
    pub fn error(&self, code: &str, message: &str, faults: &[String]) {
        let mut e = io::stderr().lock();
        if self.format.is_json() {
            let mut doc = serde_json::json!({ "error": { "code": code, "message": message } });
            if !faults.is_empty() {
                doc["error"]["faults"] = serde_json::json!(faults);
            }
            let _ = writeln!(e, "{doc}");
            return;
        }
        if self.color {
            let _ = writeln!(e, "\x1b[31merror:\x1b[0m {}", printable(message));
        } else {
            let _ = writeln!(e, "error: {}", printable(message));
        }
        if faults.len() > 1 {
            for f in faults {
                let _ = writeln!(e, "  {}", printable(f));
            }
        }
    }

    /// Start streaming the list a reply announces.
    pub fn list(&self, head: &ListHead) -> io::Result<Rows> {
        if let (Format::Table, Some(title)) = (self.format, &head.title) {
            writeln!(io::stdout().lock(), "{}", printable(title))?;
        }
        let columns: Vec<&str> = head.columns.iter().map(String::as_str).collect();
        let mut rows = self.rows(&head.key, &columns)?;
        if let Some(t) = &head.table {
            rows = rows.table_columns(&t.iter().map(String::as_str).collect::<Vec<_>>());
        }
        if head.seed_labels {
            rows = rows.profile_labels();
        }
        if !head.json_text.is_empty() {
            rows = rows.json_text_columns(&head.json_text.iter().map(String::as_str).collect::<Vec<_>>());
        }
        Ok(rows)
    }

    /// Start streaming a list of rows with these columns. In JSON the rows go into an array
    /// under `list_key`, with any extras beside it.
    pub fn rows(&self, list_key: &str, columns: &[&str]) -> io::Result<Rows> {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        let sink = match self.format {
            Format::Csv => {
                let mut c = csv::Writer::from_writer(io::stdout());
                c.write_record(&columns)?;
                Sink::Csv(Box::new(c))
            }
            Format::Json => {
                let mut w = io::BufWriter::new(io::stdout());
                write!(w, "{{{}:[", Value::String(list_key.to_string()))?;
                Sink::Json { w, first: true }
            }
            Format::Jsonl => Sink::Jsonl(io::BufWriter::new(io::stdout())),
            Format::Table => Sink::Table(Vec::new()),
        };
        Ok(Rows { columns, sink, table_only: None, json_text: Vec::new(), label })
    }
}

enum Sink {
    Csv(Box<csv::Writer<io::Stdout>>),
    Json { w: io::BufWriter<io::Stdout>, first: bool },
    Jsonl(io::BufWriter<io::Stdout>),
    Table(Vec<Vec<String>>),
}

/// A list being printed.
pub struct Rows {
    columns: Vec<String>,
    sink: Sink,
    /// For the table: the indices of the columns a person sees (CSV and JSON keep them all).
    table_only: Option<Vec<usize>>,
    /// The indices of the columns that hold JSON text, which JSON Lines carry parsed.
    json_text: Vec<usize>,
    /// How the table names a column.
    label: fn(&str) -> String,
}

impl Rows {
    /// Columns of profile fields: the table heads them with the seed's labels.
    pub fn profile_labels(mut self) -> Self {
        self.label = seed_label;
        self
    }

    /// Show only these columns in the table format, so it fits a terminal; the machine
    /// formats keep every column.
    pub fn table_columns(mut self, names: &[&str]) -> Self {
        self.table_only = Some(names.iter().filter_map(|n| self.columns.iter().position(|c| c == n)).collect());
        self
    }

    /// These columns hold JSON text: JSON Lines carry each value parsed (an empty text as null,
    /// text that is not JSON as it is), so a consumer reads one object per line without
    /// decoding a string twice. The other formats keep the text.
    pub fn json_text_columns(mut self, names: &[&str]) -> Self {
        self.json_text = names.iter().filter_map(|n| self.columns.iter().position(|c| c == n)).collect();
        self
    }

    fn table_row(&self, values: &[Value]) -> Vec<String> {
        let cell_of = |i: usize| values.get(i).map(|v| table_cell(&self.columns[i], v));
        match &self.table_only {
            Some(idx) => idx.iter().filter_map(|i| cell_of(*i)).collect(),
            None => (0..values.len().min(self.columns.len())).filter_map(cell_of).collect(),
        }
    }

    /// One row; `values` are in column order.
    pub fn push(&mut self, values: Vec<Value>) -> io::Result<()> {
        match &mut self.sink {
            Sink::Csv(c) => {
                // Field by field, each borrowed where it needs no neutralising; then the end.
                for v in &values {
                    c.write_field(csv_cell(v).as_bytes()).map_err(io::Error::other)?;
                }
                c.write_record(std::iter::empty::<&[u8]>()).map_err(io::Error::other)
            }
            Sink::Json { w, first } => {
                if !*first {
                    w.write_all(b",")?;
                }
                *first = false;
                let obj: Map<String, Value> = self.columns.iter().cloned().zip(values).collect();
                serde_json::to_writer(&mut *w, &obj)?;
                Ok(())
            }
            Sink::Jsonl(w) => {
                // Written member by member: no map, no copy of the column names per row.
                w.write_all(b"{")?;
                for (i, (name, value)) in self.columns.iter().zip(&values).enumerate() {
                    if i > 0 {
                        w.write_all(b",")?;
                    }
                    serde_json::to_writer(&mut *w, name)?;
                    w.write_all(b":")?;
                    match value {
                        Value::String(text) if self.json_text.contains(&i) => match parse_json_text(text) {
                            Some(parsed) => serde_json::to_writer(&mut *w, &parsed)?,
                            None => serde_json::to_writer(&mut *w, value)?,
                        },
                        other => serde_json::to_writer(&mut *w, other)?,
                    }
                }
                w.write_all(b"}\n")
            }
            Sink::Table(_) => {
                let row = self.table_row(&values);
                if let Sink::Table(rows) = &mut self.sink {
                    rows.push(row);
                }
                Ok(())
            }
        }
    }

    /// Close the list. `extras` are JSON members beside the list; `footer` is the text printed
    /// under the table (CSV has neither: its columns stay machine-readable).
    pub fn finish(self, extras: &[(&str, Value)], footer: Option<&str>) -> io::Result<()> {
        match self.sink {
            Sink::Csv(mut c) => c.flush(),
            // One object per row and nothing else: extras and footers are for the other formats.
            Sink::Jsonl(mut w) => w.flush(),
            Sink::Json { mut w, .. } => {
                w.write_all(b"]")?;
                for (k, v) in extras {
                    write!(w, ",{}:", Value::String(k.to_string()))?;
                    serde_json::to_writer(&mut w, v)?;
                }
                w.write_all(b"}\n")?;
                w.flush()
            }
            Sink::Table(rows) => {
                let mut out = io::stdout().lock();
                if rows.is_empty() {
                    writeln!(out, "(none)")?;
                } else {
                    let mut t = new_table();
                    let header: Vec<String> = match &self.table_only {
                        Some(idx) => idx.iter().filter_map(|i| self.columns.get(*i)).map(|c| (self.label)(c)).collect(),
                        None => self.columns.iter().map(|c| (self.label)(c)).collect(),
                    };
                    t.set_header(header);
                    for r in rows {
                        t.add_row(r);
                    }
                    let names: Vec<&str> = match &self.table_only {
                        Some(idx) => idx.iter().filter_map(|i| self.columns.get(*i)).map(String::as_str).collect(),
                        None => self.columns.iter().map(String::as_str).collect(),
                    };
                    fit_columns(&mut t, &names);
                    writeln!(out, "{t}")?;
                }
                if let Some(f) = footer {
                    write!(out, "{f}")?;
                }
                Ok(())
            }
        }
    }
}

/// A table for a person. At a terminal it is laid out for the terminal's width, or a sane one
/// when the terminal reports none ([`table_width`]); elsewhere (a pipe, a file) it is never
/// wrapped. [`fit_columns`] then says which columns may wrap.
fn new_table() -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    if io::stdout().is_terminal() {
        // console answers None for a size of 0 columns (a new pseudo-terminal's) or rows.
        let reported = console::Term::stdout().size_checked().map(|(_rows, cols)| cols);
        let columns = std::env::var("COLUMNS").ok();
        t.set_width(table_width(reported, columns.as_deref()));
    }
    t
}

/// Terminal widths outside these bounds are not believed: comfy-table lays a table out for
/// 0 columns as one character a line.
const SANE_WIDTH: std::ops::RangeInclusive<u16> = 20..=4096;

/// The width a table is laid out for when the terminal does not tell a sane one.
pub const FALLBACK_TABLE_WIDTH: u16 = 100;

/// The width of a table at a terminal: the width the terminal reports when it is sane, else
/// `$COLUMNS` when that is, else [`FALLBACK_TABLE_WIDTH`].
pub fn table_width(reported: Option<u16>, columns_env: Option<&str>) -> u16 {
    let sane = |w: &u16| SANE_WIDTH.contains(w);
    reported
        .filter(sane)
        .or_else(|| columns_env.and_then(|c| c.trim().parse::<u16>().ok()).filter(sane))
        .unwrap_or(FALLBACK_TABLE_WIDTH)
}

/// Columns of free text: names, e-mail addresses, summaries, messages, and the values of a
/// key/value table. Only these wrap; every other column (user and request IDs, references,
/// dates and times, amounts, counts, statuses, roles) is kept whole on its line.
const FREE_TEXT_COLUMNS: &[&str] = &[
    "surname",
    "other_names",
    "name",
    "email",
    "recipient",
    "sent_to",
    "summary",
    "subject",
    "detail",
    "finding",
    "reason",
    "last_error",
    "unlock_by",
    "message",
    "domains",
    "groups",
    "value",
];

/// A free-text column is not squeezed below this many characters (or its widest value, if
/// narrower): a table too wide for the terminal is better than a name one letter a line.
const FREE_TEXT_MIN: u16 = 10;

/// Whether a table column may wrap: free text only.
pub fn wraps(column: &str) -> bool {
    FREE_TEXT_COLUMNS.contains(&column)
}

/// The least width (content, without padding) of each column of a table, from the widest value
/// of each column and the longest word of its header: a column that never wraps is as wide as
/// its widest value; free text as its widest value up to [`FREE_TEXT_MIN`]; and no column is
/// narrower than a word of its header, so a header wraps only between words.
pub fn least_widths(names: &[&str], widest_values: &[u16], header_words: &[u16]) -> Vec<u16> {
    widest_values
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let value = if names.get(i).is_some_and(|n| wraps(n)) { (*w).min(FREE_TEXT_MIN) } else { *w };
            value.max(header_words.get(i).copied().unwrap_or(0)).max(1)
        })
        .collect()
}

/// Display width of the widest line of `text` (`word`: of its widest word).
fn text_width(text: &str, word: bool) -> u16 {
    let widest = if word {
        text.split_whitespace().map(|w| w.chars().count()).max()
    } else {
        text.lines().map(|l| l.chars().count()).max()
    };
    u16::try_from(widest.unwrap_or(0)).unwrap_or(u16::MAX)
}

/// Give each column of `t` (named `names`, in order) its least width ([`least_widths`]), so
/// that the dynamic layout wraps only free text. A table whose least widths do not fit the
/// terminal is drawn wider than it, rather than break an ID.
fn fit_columns(t: &mut comfy_table::Table, names: &[&str]) {
    use comfy_table::{ColumnConstraint, Width};
    let mut widest: Vec<u16> = Vec::new();
    for row in t.row_iter() {
        for (i, cell) in row.cell_iter().enumerate() {
            let w = text_width(&cell.content(), false);
            match widest.get_mut(i) {
                Some(x) => *x = (*x).max(w),
                None => widest.push(w),
            }
        }
    }
    let header_words: Vec<u16> =
        t.header().map(|h| h.cell_iter().map(|c| text_width(&c.content(), true)).collect()).unwrap_or_default();
    widest.resize(widest.len().max(header_words.len()), 0);
    let least = least_widths(names, &widest, &header_words);
    for (i, col) in t.column_iter_mut().enumerate() {
        let w = least.get(i).copied().unwrap_or(1);
        col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(w.saturating_add(col.padding_width()))));
    }
}

fn as_map(v: &Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m.clone(),
        other => std::iter::once(("value".to_string(), other.clone())).collect(),
    }
}

/// The seed's own labels for the profile's fields (seed 4.3, Appendix A, D c); other keys
/// read as words ("request_id" → "Request ID").
const LABELS: &[(&str, &str)] = &[
    ("organisation", "Organisation"),
    ("internal_external", "Internal/External"),
    ("user_id", "User ID"),
    ("status", "User Status"),
    ("surname", "Surname"),
    ("other_names", "Other Names"),
    ("user_name", "User Name"),
    ("email", "Email"),
    ("enable_from", "Enable From"),
    ("disable_after", "Disable After"),
    ("locked", "Locked"),
    ("otp_enabled", "OTP Enabled"),
    ("otp_channel", "OTP Channel"),
    ("clearing_house_options", "Clearing House Options"),
    ("access_channel", "Access Channel"),
    ("transaction_limit_hkd", "Transaction limit (HKD)"),
    ("srn", "SRN (for user using smartcard)"),
    ("certificate_expiry", "Certificate Expiry Date"),
    ("user_groups", "User Groups"),
    ("functions", "Functions"),
    ("role", "Role"),
];

/// Words a label keeps in capitals.
const ACRONYMS: &[&str] = &["id", "otp", "da", "hkd", "uri", "srn", "csv", "json", "sha256", "url"];

/// A profile field's label on the seed's screens (`status` → "User Status"), or for another
/// key its [`label`].
pub fn seed_label(key: &str) -> String {
    match LABELS.iter().find(|(k, _)| *k == key) {
        Some((_, l)) => (*l).to_string(),
        None => label(key),
    }
}

/// A table label: the key as words with its acronyms in capitals ("otpauth_uri" →
/// "Otpauth URI", "da_id" → "DA ID").
pub fn label(key: &str) -> String {
    key.split('_')
        .enumerate()
        .map(|(i, w)| {
            if ACRONYMS.contains(&w) {
                w.to_uppercase()
            } else if i == 0 {
                let mut c = w.chars();
                c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub use crate::api::{time, time_text};

/// How a table shows a value, by what its key says it is: amounts with thousands separators
/// (`9,999,999,999.99`), dates as the seed writes them (`01-Jan-03`), times and certificate
/// expiry as `31-Dec-30 23:59:59` (Hong Kong time), booleans as Yes/No, lists space-separated.
/// JSON and CSV keep the machine forms.
fn seed_form(key: &str, v: &Value) -> Option<String> {
    let Value::String(s) = v else { return None };
    if key.ends_with("_hkd") {
        return crate::domain::profile::Cents::parse(s).ok().map(|c| c.display());
    }
    if matches!(key, "enable_from" | "disable_after" | "date" | "from" | "to") {
        return chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(crate::domain::profile::format_date);
    }
    if key.ends_with("_at") || key.ends_with("_until") || key == "certificate_expiry" || key == "at" {
        return chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.format("%d-%b-%y %H:%M:%S").to_string());
    }
    None
}

/// JSON text as a value: empty text is null; text that is not JSON is None (kept as text).
fn parse_json_text(text: &str) -> Option<Value> {
    if text.trim().is_empty() {
        return Some(Value::Null);
    }
    serde_json::from_str(text).ok()
}

/// A value as a CSV cell: scalars as text, a list of scalars space-separated (user groups:
/// `11 12 A`), anything else as compact JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) if a.iter().all(|x| !x.is_array() && !x.is_object()) => {
            a.iter().map(cell).collect::<Vec<_>>().join(" ")
        }
        other => other.to_string(),
    }
}

/// The quiet zone around a QR code, in modules (ISO/IEC 18004 asks for 4).
pub const QR_QUIET_ZONE: usize = 4;

/// The modules of the QR code of `text`, quiet zone included: `true` is dark.
pub fn qr_modules(text: &str) -> Option<Vec<Vec<bool>>> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let w = code.width();
    let colors = code.to_colors();
    let size = w + 2 * QR_QUIET_ZONE;
    let mut m = vec![vec![false; size]; size];
    for y in 0..w {
        for x in 0..w {
            m[y + QR_QUIET_ZONE][x + QR_QUIET_ZONE] = colors[y * w + x] == qrcode::Color::Dark;
        }
    }
    Some(m)
}

/// Two rows of modules per line of text: `▀` dark above, `▄` dark below, `█` both, space none.
/// With `color`, every line is black on a white background.
fn render_qr(m: &[Vec<bool>], color: bool) -> String {
    let (start, end) = if color { ("\x1b[38;5;16;48;5;231m", "\x1b[0m") } else { ("", "") };
    let mut s = String::new();
    for pair in m.chunks(2) {
        s.push_str(start);
        for x in 0..pair[0].len() {
            let top = pair[0][x];
            let bottom = pair.get(1).is_some_and(|r| r[x]);
            s.push(match (top, bottom) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        s.push_str(end);
        s.push('\n');
    }
    s
}

/// A CSV cell a spreadsheet will never run as a formula: one that begins with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'` (OWASP's CSV-injection advice; SPEC §6),
/// and a control character (ESC from an old database's setting, issue 18 #10) is written
/// escaped, as on a terminal: an auditor `cat`ting the file sees it, it does not act.
fn csv_cell(v: &Value) -> Cow<'_, str> {
    // Text is written as it is, without a copy, unless it must be escaped or neutralised.
    if let Value::String(s) = v {
        let p = printable(s);
        return if needs_neutralising(&p) { Cow::Owned(format!("'{p}")) } else { p };
    }
    Cow::Owned(neutralise(printable(&cell(v)).into_owned()))
}

fn needs_neutralising(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// What [`neutralise`] wrote, read back (a bulk file made from dms's own CSV): a `'` before a
/// cell that would need it is taken off again, so a value round-trips unchanged. A `'` before
/// anything else is the value's own.
pub fn unneutralise(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if needs_neutralising(rest) => rest,
        _ => s,
    }
}

pub fn neutralise(s: String) -> String {
    if needs_neutralising(&s) {
        format!("'{s}")
    } else {
        s
    }
}

/// Text for a person's terminal: control characters (ESC, CR, BEL, C1...) shown escaped, so a
/// name, a CSV header or a setting cannot move the cursor, recolour or clear the screen.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\n' => "\\n".to_string(),
                '\t' => "\\t".to_string(),
                c if c.is_control() => c.escape_unicode().to_string(),
                c => c.to_string(),
            })
            .collect(),
    )
}

/// The seed's confirmation block of functions (App A f): its nine labels two to a line in its
/// order, each marked `[x]` when the profile enables it.
pub fn function_block(enabled: &[String]) -> String {
    let items: Vec<String> = crate::domain::profile::FUNCTIONS
        .iter()
        .map(|(k, l)| format!("[{}] {l}", if enabled.iter().any(|e| e == k) { "x" } else { " " }))
        .collect();
    let width = items.iter().step_by(2).map(|i| i.chars().count()).max().unwrap_or(0);
    items
        .chunks(2)
        .map(|pair| match pair {
            [a, b] => format!("{a:width$}   {b}"),
            [a] => a.clone(),
            _ => String::new(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn table_cell(key: &str, v: &Value) -> String {
    let text = match v {
        Value::Bool(true) => "Yes".into(),
        Value::Bool(false) => "No".into(),
        // The functions under the seed's labels (`cash_compensation` → Cash Compensation Indicator).
        Value::Array(a) if key == "functions" => a
            .iter()
            .map(|k| {
                let k = cell(k);
                crate::domain::profile::FUNCTIONS.iter().find(|(f, _)| *f == k).map_or(k, |(_, l)| (*l).to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(" "),
        other => seed_form(key, other).unwrap_or_else(|| cell(other)),
    };
    printable(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_labels() {
        assert_eq!(cell(&Value::Null), "");
        assert_eq!(cell(&serde_json::json!(12)), "12");
        assert_eq!(cell(&serde_json::json!(["11", "A"])), "11 A", "groups are space-separated in CSV");
        assert_eq!(cell(&serde_json::json!([{"a": 1}])), "[{\"a\":1}]");
        assert_eq!(table_cell("user_groups", &serde_json::json!(["A", "B"])), "A B");
        assert_eq!(table_cell("locked", &Value::Bool(true)), "Yes");
        assert_eq!(label("otpauth_uri"), "Otpauth URI");
        assert_eq!(label("da_id"), "DA ID");
        assert_eq!(seed_label("transaction_limit_hkd"), "Transaction limit (HKD)");
        assert_eq!(seed_label("srn"), "SRN (for user using smartcard)");
        assert_eq!(seed_label("status"), "User Status");
        assert_eq!(label("status"), "Status");
    }

    #[test]
    fn tables_show_the_seeds_formats_and_machine_formats_stay_machine() {
        let t = |k: &str, v: Value| table_cell(k, &v);
        assert_eq!(t("transaction_limit_hkd", "9999999999.99".into()), "9,999,999,999.99");
        assert_eq!(t("enable_from", "2003-01-01".into()), "01-Jan-03");
        assert_eq!(t("certificate_expiry", "2030-12-31T23:59:59+08:00".into()), "31-Dec-30 23:59:59");
        assert_eq!(t("created_at", "2026-11-23T10:00:00+08:00".into()), "23-Nov-26 10:00:00");
        assert_eq!(t("surname", "2003-01-01".into()), "2003-01-01", "only by its key");
        assert_eq!(csv_cell(&"5000.00".into()), "5000.00");
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z").expect("t").with_timezone(&chrono::Utc);
        assert_eq!(time(at), "2026-11-23T10:00:00+08:00");
        assert_eq!(time_text("2026-11-23T02:00:00Z"), "2026-11-23T10:00:00+08:00");
    }

    /// Read a drawn QR code back into modules, scale it up and decode it with an independent
    /// decoder (rqrr), as a phone's camera would see it on a light terminal.
    fn decode_drawn(text: &str) -> String {
        let mut rows: Vec<Vec<bool>> = Vec::new();
        for line in text.lines().filter(|l| !l.starts_with("Key")) {
            let plain = line.replace("\x1b[38;5;16;48;5;231m", "").replace("\x1b[0m", "");
            let (mut top, mut bottom) = (Vec::new(), Vec::new());
            for c in plain.chars() {
                top.push(matches!(c, '█' | '▀'));
                bottom.push(matches!(c, '█' | '▄'));
            }
            rows.push(top);
            rows.push(bottom);
        }
        let scale = 4;
        let (w, h) = (rows[0].len() * scale, rows.len() * scale);
        let mut img =
            rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| if rows[y / scale][x / scale] { 0 } else { 255 });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code found");
        grids[0].decode().expect("decodes").1
    }

    #[test]
    fn the_qr_code_has_a_four_module_quiet_zone_and_decodes_back_to_the_key_uri() {
        let uri = "otpauth://totp/HKEX:B0123401?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=HKEX";
        let m = qr_modules(uri).expect("modules");
        for i in 0..QR_QUIET_ZONE {
            assert!(m[i].iter().all(|d| !d) && m.iter().all(|row| !row[i]), "quiet zone row/column {i}");
        }
        for color in [false, true] {
            let out = Output { format: Format::Table, color };
            let text = out.qr_text(uri);
            assert_eq!(decode_drawn(&text), uri, "color {color}");
            assert!(text.contains("Key (if you cannot scan): JBSW Y3DP"), "{text}");
        }
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
        for f in ["=HYPERLINK(\"//evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"] {
            assert_eq!(csv_cell(&serde_json::json!(f)), format!("'{f}"), "{f:?}");
        }
        // A leading tab or carriage return is escaped (so it no longer leads at all).
        assert_eq!(csv_cell(&serde_json::json!("\tx")), "\\tx");
        assert_eq!(csv_cell(&serde_json::json!("\rx")), "\\u{d}x");
        assert_eq!(csv_cell(&serde_json::json!("CHAN")), "CHAN");
        assert_eq!(csv_cell(&serde_json::json!("2026-11-23")), "2026-11-23");
        assert_eq!(csv_cell(&serde_json::json!(12)), "12");
        assert_eq!(csv_cell(&serde_json::json!("a\u{1b}[2Jb")), "a\\u{1b}[2Jb", "no raw ESC in a CSV");
    }

    #[test]
    fn a_terminal_that_reports_no_width_gets_columns_or_100() {
        assert_eq!(table_width(Some(60), Some("200")), 60, "the terminal's own width first");
        assert_eq!(table_width(Some(0), None), FALLBACK_TABLE_WIDTH);
        assert_eq!(table_width(None, None), FALLBACK_TABLE_WIDTH);
        assert_eq!(table_width(Some(0), Some("132")), 132, "then $COLUMNS");
        assert_eq!(table_width(None, Some(" 80 ")), 80);
        for silly in ["0", "5", "-1", "wide", "", "99999"] {
            assert_eq!(table_width(Some(3), Some(silly)), FALLBACK_TABLE_WIDTH, "COLUMNS={silly:?}");
        }
    }

    #[test]
    fn ids_dates_and_amounts_keep_their_width_and_free_text_may_wrap() {
        let names = ["user_id", "surname", "email", "created_at", "limit", "summary"];
        let widest = [8, 30, 40, 20, 16, 4];
        let header_words = [4, 7, 5, 7, 5, 7];
        assert_eq!(least_widths(&names, &widest, &header_words), vec![8, FREE_TEXT_MIN, FREE_TEXT_MIN, 20, 16, 7]);
        assert!(!wraps("request_id") && !wraps("reference") && !wraps("fee_hkd") && wraps("other_names"));
    }

    /// Lay a table out at `width` columns as a terminal would (the rule of `new_table`).
    fn laid_out(width: u16, header: &[&str], rows: &[&[&str]]) -> String {
        let mut t = comfy_table::Table::new();
        t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        t.set_width(width);
        t.set_header(header.iter().map(|h| label(h)).collect::<Vec<_>>());
        for r in rows {
            t.add_row(r.to_vec());
        }
        fit_columns(&mut t, header);
        t.to_string()
    }

    #[test]
    fn at_60_columns_ids_stay_whole_and_names_wrap() {
        let header = ["request_id", "kind", "summary", "maker", "created_at", "status"];
        let summary = "create B0123404 CHEUNG KA MING km.cheung@abc.com.hk groups 11 A limit 5,000,000.00";
        let text = laid_out(60, &header, &[&["12", "create", summary, "B01234X1", "2026-11-23T02:00:00Z", "PENDING"]]);
        for whole in ["B01234X1", "2026-11-23T02:00:00Z", "PENDING", "create"] {
            assert!(text.lines().any(|l| l.contains(whole)), "{whole} on one line:\n{text}");
        }
        assert!(text.lines().count() > 5, "the summary wraps:\n{text}");
        // A 0-column width is never used: the fallback is.
        let text = laid_out(table_width(Some(0), None), &header, &[&["12", "create", summary, "B01234X1", "x", "y"]]);
        assert!(text.lines().all(|l| l.chars().count() <= usize::from(FALLBACK_TABLE_WIDTH)), "{text}");
        assert!(text.contains("B01234X1"), "{text}");
    }

    #[test]
    fn control_characters_are_escaped_for_a_terminal() {
        assert_eq!(printable("plain"), "plain");
        assert_eq!(printable("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable("x\ny\tz\u{9b}"), "x\\ny\\tz\\u{9b}");
        assert_eq!(table_cell("surname", &serde_json::json!("\x07bell")), "\\u{7}bell");
    }

    #[test]
    fn json_text_is_parsed_empty_is_null_and_anything_else_stays_text() {
        assert_eq!(parse_json_text(r#"{"a":[1,"x"]}"#), Some(serde_json::json!({"a": [1, "x"]})));
        assert_eq!(parse_json_text(""), Some(Value::Null));
        assert_eq!(parse_json_text("not json"), None);
        assert!(Format::Jsonl.is_json() && Format::Json.is_json() && !Format::Csv.is_json());
    }
}
