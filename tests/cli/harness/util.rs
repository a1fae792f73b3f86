//! Bytes, hashes and file modes.

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;

/// The helper tools (oathtool, sqlite3, sha256sum) run with a clean environment too, found on
/// the test's own PATH.
pub(super) fn tool_path() -> std::ffi::OsString {
    std::env::var_os("PATH").unwrap_or_default()
}

/// SHA-256 of `bytes` by the system `sha256sum`, lower-case hex.
pub fn sha256sum(bytes: &[u8]) -> String {
    let mut child = std::process::Command::new("sha256sum")
        .env_clear()
        .env("PATH", tool_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("sha256sum is required: {e}"));
    child.stdin.take().expect("sha256sum's stdin").write_all(bytes).expect("writing to sha256sum");
    let out = child.wait_with_output().expect("waiting for sha256sum");
    assert!(out.status.success(), "sha256sum failed");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().expect("sha256sum printed a hash").to_string()
}

pub fn hex_decode(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex {s:?}");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("a hex digit")).collect()
}

/// RFC 4648 base32 (no padding) to bytes.
pub fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut acc, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|&a| a == c.to_ascii_uppercase()).expect("a base32 digit") as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

pub fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The permission bits of a file.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// The token of a session file (`token=HEX`).
pub fn session_token(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .find_map(|l| l.strip_prefix("token="))
        .unwrap_or_else(|| panic!("no token in {}:\n{text}", path.display()))
        .trim()
        .to_string()
}

/// Every user ID of an HKSCC participant's ID space, except the DA suffixes and the given ones.
pub fn free_user_ids(participant: &str, taken: &[&str]) -> Vec<String> {
    let alphabet: Vec<char> = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".chars().collect();
    let mut ids = Vec::new();
    for a in &alphabet {
        for b in &alphabet {
            let da = matches!(a, 'X' | 'Y' | 'Z') && *b != '0' && b.is_ascii_digit();
            let id = format!("{participant}{a}{b}");
            if !da && !taken.contains(&id.as_str()) {
                ids.push(id);
            }
        }
    }
    ids
}

/// Does this test run as root (then it can give a file to another user, or run as one)?
pub fn is_root() -> bool {
    rustix_like_geteuid() == 0
}

fn rustix_like_geteuid() -> u32 {
    let out = std::process::Command::new("id").arg("-u").output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(u32::MAX)
}
