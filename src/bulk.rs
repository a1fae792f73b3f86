//! Reading the bulk CSV files (the migration's two files, bulk e-mail registration and bulk
//! user creation): a size cap, the header checked against the columns a file may have, and
//! each record with the line it starts on, so every error names its line — counted from the
//! bytes themselves, so CRLF (what spreadsheets write), a lone CR, a BOM and quoted newlines
//! all give the line a text editor shows. A file's faults are all reported at once.

use crate::error::invalid;
use crate::error::{DmsError, Kind};
use crate::files::{self, Access, Purpose};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;

/// Reads a file and hashes what it reads, so the audit row can name the file's SHA-256
/// without reading it twice; more than `cap` bytes actually read is an error (the size a file
/// claims is not trusted: a device or a growing file claims anything).
struct Hashing {
    inner: Box<dyn Read + Send>,
    hasher: Sha256,
    read: u64,
    cap: u64,
    breaks: LineBreaks,
}

/// Where the line breaks are, for the records not yet numbered: a CRLF, a lone CR or a lone
/// LF each end one line. The csv reader reads ahead of the record it returns, so the
/// terminator bytes read but not yet passed are kept (a buffer's worth), each with whether it
/// ends a line (the LF of a CRLF does not).
#[derive(Default)]
struct LineBreaks {
    ahead: VecDeque<(u64, bool)>,
    passed: usize,
    last_was_cr: bool,
}

impl LineBreaks {
    fn scan(&mut self, start: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            match b {
                b'\r' => self.ahead.push_back((start + i as u64, true)),
                b'\n' => self.ahead.push_back((start + i as u64, !self.last_was_cr)),
                _ => {}
            }
            self.last_was_cr = *b == b'\r';
        }
    }

    /// The line (from 1) of the first byte at or after `offset` that is not a line
    /// terminator: the csv reader places a record after blank lines at the first of them.
    /// Offsets asked must not go back.
    fn line_of(&mut self, mut offset: u64) -> usize {
        while let Some(&(at, ends)) = self.ahead.front() {
            if at > offset {
                break;
            }
            if at == offset {
                offset += 1;
            }
            self.ahead.pop_front();
            self.passed += usize::from(ends);
        }
        self.passed + 1
    }
}

impl Read for Hashing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.breaks.scan(self.read, &buf[..n]);
        self.read += n as u64;
        if self.read > self.cap {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the file is larger than {} MiB", self.cap >> 20),
            ));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// What a whole file held.
pub struct Summary {
    pub rows: usize,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
}

/// An open CSV file with its header checked.
pub struct CsvFile {
    pub path: String,
    columns: Columns,
    reader: csv::Reader<Hashing>,
}

/// Read a bulk file the client names, for sending: a regular file (never a FIFO or a device,
/// which could be read forever: `files`), at most `max_bytes`.
pub fn read_upload(path: &Path, max_bytes: u64) -> anyhow::Result<crate::api::Upload> {
    let shown = path.display().to_string();
    let f =
        files::open(path, Purpose::Input, Access::Read)?.ok_or_else(|| invalid(format!("{shown}: no such file")))?;
    if f.metadata()?.len() > max_bytes {
        return Err(invalid(format!("{shown}: larger than {} MiB", max_bytes >> 20)).into());
    }
    let bytes = files::read_capped(f, path, Purpose::Input, max_bytes)
        .map_err(|_| invalid(format!("{shown}: larger than {} MiB", max_bytes >> 20)))?;
    Ok(crate::api::Upload { name: shown, bytes })
}

/// Open a bulk file a call carries (at most `max_bytes`), read its header and check it
/// against `required` and `optional` column names (case-insensitive, a BOM ignored).
pub fn open(file: crate::api::Upload, max_bytes: u64, required: &[&str], optional: &[&str]) -> anyhow::Result<CsvFile> {
    let shown = file.name;
    if file.bytes.len() as u64 > max_bytes {
        return Err(invalid(format!("{shown}: larger than {} MiB", max_bytes >> 20)).into());
    }
    let bytes = file.bytes;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(Hashing {
        inner: Box::new(std::io::Cursor::new(bytes)),
        hasher: Sha256::new(),
        read: 0,
        cap: max_bytes,
        breaks: LineBreaks::default(),
    });
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| invalid(format!("{shown} line 1: {}", describe(&e))))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
        .collect();
    let mut columns = Columns::default();
    for (i, h) in header.iter().enumerate() {
        if !required.contains(&h.as_str()) && !optional.contains(&h.as_str()) {
            let optional =
                if optional.is_empty() { String::new() } else { format!(", optional {}", optional.join(",")) };
            return Err(invalid(format!(
                "{shown} line 1: unknown column {h:?} (columns: {}{optional})",
                required.join(",")
            ))
            .into());
        }
        if columns.index(h).is_some() {
            return Err(invalid(format!("{shown} line 1: column {h} appears twice")).into());
        }
        columns.0.push((h.clone(), i));
    }
    for r in required {
        if columns.index(r).is_none() {
            return Err(invalid(format!(
                "{shown} line 1: missing column {r} (the header must have {})",
                required.join(",")
            ))
            .into());
        }
    }
    Ok(CsvFile { path: shown, columns, reader })
}

/// The header: each column's name and position. A handful of names looked up for every row,
/// so a short list searched in order, not a hash map (SipHash per lookup was 3 % of a
/// 100,000-user migration).
#[derive(Default)]
struct Columns(Vec<(String, usize)>);

impl Columns {
    fn index(&self, name: &str) -> Option<usize> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, i)| *i)
    }
}

/// One record of a bulk file.
pub struct Record<'a> {
    pub line: usize,
    columns: &'a Columns,
    record: &'a csv::StringRecord,
}

impl Record<'_> {
    /// The value of a column, without the white space around it (None when the file has no
    /// such column), and without the `'` dms's own CSV puts before a cell a spreadsheet would
    /// run as a formula (`output::unneutralise`: what dms writes, it reads back the same).
    /// Trimmed here, when asked, rather than by the reader: csv's own trimming builds a new
    /// record for every row.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.columns.index(column).and_then(|i| self.record.get(i)).map(|v| crate::output::unneutralise(v.trim()))
    }

    /// The value of a required column.
    pub fn req(&self, column: &str) -> &str {
        self.get(column).unwrap_or_default()
    }
}

/// Faults listed before the rest are only counted.
const MAX_FAULTS: usize = 100;

impl CsvFile {
    /// The line that the record or error at this position starts on.
    fn line(&mut self, pos: Option<&csv::Position>) -> usize {
        let byte = pos.map_or(0, |p| p.byte());
        self.reader.get_mut().breaks.line_of(byte)
    }

    /// Call `each` for every record, with at most `max_rows`. A record that `each` refuses,
    /// or that is not CSV, is a fault: reading goes on, and every fault of the file is
    /// reported in one error, each with its line (the first [`MAX_FAULTS`] listed). An
    /// empty file is an error too.
    pub fn for_each(
        mut self,
        max_rows: usize,
        mut each: impl FnMut(&Record<'_>) -> anyhow::Result<()>,
    ) -> anyhow::Result<Summary> {
        let mut n = 0;
        let mut faults: Vec<(Kind, String)> = Vec::new();
        let mut more_faults = 0usize;
        let mut fault = |kind: Kind, line: usize, message: String| {
            if faults.len() < MAX_FAULTS {
                faults.push((kind, format!("line {line}: {message}")));
            } else {
                more_faults += 1;
            }
        };
        let mut record = csv::StringRecord::new();
        loop {
            let more = match self.reader.read_record(&mut record) {
                Ok(more) => more,
                // A row of the wrong width or not UTF-8 is that row's fault; reading goes on.
                Err(e) if matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. }) => {
                    n += 1;
                    let line = self.line(e.position());
                    fault(Kind::Invalid, line, describe(&e));
                    continue;
                }
                Err(e) => {
                    let line = self.line(e.position());
                    return Err(invalid(format!("{} line {line}: {}", self.path, describe(&e))).into());
                }
            };
            if !more {
                break;
            }
            n += 1;
            if n > max_rows {
                return Err(invalid(format!("{}: more than {max_rows} rows", self.path)).into());
            }
            let line = self.line(record.position());
            // Lent, not moved: the one record's buffers are reused for every row.
            let r = Record { line, columns: &self.columns, record: &record };
            if let Err(e) = each(&r) {
                match crate::error::classify(&e) {
                    (Kind::Other, _) => return Err(at_line(&self.path, line, e)),
                    (kind, message) => fault(kind, line, message),
                }
            }
        }
        if n == 0 {
            return Err(invalid(format!("{}: no rows after the header", self.path)).into());
        }
        if !faults.is_empty() {
            let total = faults.len() + more_faults;
            if more_faults > 0 {
                faults.push((Kind::Invalid, format!("... and {more_faults} more")));
            }
            return Err(DmsError::several(&self.path, faults, total).into());
        }
        let mut rest = self.reader.into_inner();
        std::io::copy(&mut rest, &mut std::io::sink()).map_err(|e| invalid(format!("{}: {e}", self.path)))?;
        Ok(Summary { rows: n, sha256: hex::encode(rest.hasher.finalize()) })
    }
}

/// Prefix an error with its file and line, keeping its kind (exit code).
pub fn at_line(path: &str, line: usize, e: anyhow::Error) -> anyhow::Error {
    match e.downcast::<crate::error::DmsError>() {
        Ok(d) => d.prefixed(&format!("{path} line {line}")).into(),
        Err(e) => match crate::error::classify(&e) {
            (crate::error::Kind::Other, _) => e,
            (kind, message) => crate::error::DmsError::new(kind, format!("{path} line {line}: {message}")).into(),
        },
    }
}

fn describe(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".into(),
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::LineBreaks;

    /// Every value is read without the white space around it, quoted or not, and the header's
    /// names too (case-insensitive, a BOM ignored); the record's buffers are reused row to row.
    #[test]
    fn values_and_header_names_are_trimmed_and_looked_up_by_name() {
        let upload = crate::api::Upload {
            name: "in.csv".into(),
            bytes: "\u{feff} User_ID , email\n  B01234A1 ,\" a@b.example \"\nB01234A2,\t\n".into(),
        };
        let file = super::open(upload, 1 << 20, &["user_id"], &["email", "other"]).expect("open");
        let mut seen = Vec::new();
        file.for_each(10, |r| {
            seen.push((
                r.line,
                r.req("user_id").to_string(),
                r.get("email").map(str::to_string),
                r.get("other").is_some(),
            ));
            Ok(())
        })
        .expect("rows");
        assert_eq!(
            seen,
            [
                (2, "B01234A1".to_string(), Some("a@b.example".to_string()), false),
                (3, "B01234A2".to_string(), Some(String::new()), false)
            ]
        );
    }

    /// The line of each record start, by the bytes: what an editor shows.
    fn lines(text: &[u8], starts: &[u64], chunk: usize) -> Vec<usize> {
        let mut b = LineBreaks::default();
        for (i, c) in text.chunks(chunk).enumerate() {
            b.scan((i * chunk) as u64, c);
        }
        starts.iter().map(|s| b.line_of(*s)).collect()
    }

    #[test]
    fn lines_are_counted_for_lf_crlf_and_lone_cr_across_read_boundaries() {
        for chunk in [1, 2, 3, 64] {
            assert_eq!(lines(b"h\na\nb\n", &[2, 4], chunk), [2, 3]);
            assert_eq!(lines(b"h\r\na\r\nb\r\n", &[3, 6], chunk), [2, 3], "CRLF is one break");
            assert_eq!(lines(b"h\ra\rb\r", &[2, 4], chunk), [2, 3], "a lone CR is one break");
            // A record placed at the blank lines before it is on the line after them.
            assert_eq!(lines(b"h\r\n\r\n\r\nx\r\n", &[3], chunk), [4]);
            assert_eq!(lines(b"h\n\"q\nq\"\nz\n", &[2, 8], chunk), [2, 4], "a quoted newline counts");
        }
    }
}
