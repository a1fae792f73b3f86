//! Secrets at rest: argon2id PHC strings for passwords and PINs, SHA-256 for session tokens,
//! a keyed HMAC for e-mail OTPs, and XChaCha20-Poly1305 sealing for TOTP keys (the one secret
//! that must be recoverable) under a key kept in a 0600 file beside the database.
//!
//! Randomness comes from [`SecureRng`]: the operating system's CSPRNG, or — only on a database
//! created with `--allow-test-clock` and with `DMS_SEED` set — a seeded generator so tests and
//! the demo are repeatable.

use anyhow::{anyhow, bail, Context as _};
use argon2::Argon2;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use std::io::Write as _;
use std::path::Path;
use zeroize::Zeroizing;

/// The random source of one command.
pub enum SecureRng {
    Os(rand::rngs::ThreadRng),
    Seeded(Box<rand::rngs::StdRng>),
}

impl SecureRng {
    pub fn os() -> Self {
        SecureRng::Os(rand::rng())
    }

    pub fn seeded(seed: u64) -> Self {
        SecureRng::Seeded(Box::new(rand::rngs::StdRng::seed_from_u64(seed)))
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        match self {
            SecureRng::Os(r) => r.fill_bytes(buf),
            SecureRng::Seeded(r) => r.fill_bytes(buf),
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        match self {
            SecureRng::Os(r) => r.next_u64(),
            SecureRng::Seeded(r) => r.next_u64(),
        }
    }

    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        self.fill(&mut b);
        b
    }
}

/// Hash a password or PIN to an argon2id PHC string (argon2 0.6 defaults are OWASP's:
/// m = 19 MiB, t = 2, p = 1).
pub fn hash_secret(secret: &str, rng: &mut SecureRng) -> anyhow::Result<String> {
    let salt: [u8; 16] = rng.bytes();
    let argon = Argon2::default();
    let mut out = Zeroizing::new([0u8; argon2::Params::DEFAULT_OUTPUT_LEN]);
    with_arena(&argon, |blocks| {
        argon.hash_password_into_with_memory(secret.as_bytes(), &salt, out.as_mut_slice(), blocks)
    })?
    .map_err(|e| anyhow!("hashing failed: {e}"))?;
    let phc = argon2::PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(argon2::Version::V0x13.into()),
        params: argon2::password_hash::phc::ParamsString::try_from(argon.params())
            .map_err(|e| anyhow!("hashing failed: {e}"))?,
        salt: Some(argon2::password_hash::phc::Salt::new(&salt).map_err(|e| anyhow!("hashing failed: {e}"))?),
        hash: Some(
            argon2::password_hash::phc::Output::new(out.as_slice()).map_err(|e| anyhow!("hashing failed: {e}"))?,
        ),
    };
    Ok(phc.to_string())
}

/// Check a password or PIN against a PHC string: argon2 recomputed with the hash's own
/// algorithm, version, parameters and salt (as argon2's own verifier does), in [`arena`]
/// memory, and compared in constant time.
pub fn verify_secret(secret: &str, phc: &str) -> bool {
    let Ok(hash) = argon2::PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return false };
    let Ok(algorithm) = argon2::Algorithm::try_from(hash.algorithm.as_str()) else { return false };
    let version = match hash.version.map(argon2::Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = argon2::Params::try_from(&hash) else { return false };
    let argon = Argon2::new(algorithm, version, params);
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    match with_arena(&argon, |blocks| argon.hash_password_into_with_memory(secret.as_bytes(), salt, &mut out, blocks)) {
        Ok(Ok(())) => ct_eq(&out, expected.as_bytes()),
        _ => false,
    }
}

thread_local! {
    /// This thread holds the database's write lock (set by `ops::service::Db::transact`).
    static WRITING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Mark this thread as holding (or no longer holding) the write lock: argon2 refuses to run
/// under it (SPEC §9: the write lock never serialises the hash).
pub fn set_writing(on: bool) {
    WRITING.with(|w| w.set(on));
}

/// At most one argon2 computation per core at once, each in an arena of its own that is kept
/// for the next: a server hashing for many clients pays the arena's page faults once per core,
/// not once per sign-in, and never runs more hashes than there are cores to run them. An arena
/// is zeroed when it is handed back (it held blocks derived from a secret).
struct Gate {
    state: std::sync::Mutex<(Vec<Arena>, usize)>,
    freed: std::sync::Condvar,
    cores: usize,
}

static GATE: std::sync::OnceLock<Gate> = std::sync::OnceLock::new();

/// A long-running process (`dms serve`) keeps its arenas for the next hash.
static KEEP_ARENAS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Keep argon2's arenas between hashes (the server: one per core, wiped after each use).
pub fn keep_arenas() {
    KEEP_ARENAS.store(true, std::sync::atomic::Ordering::Relaxed);
}

fn gate() -> &'static Gate {
    GATE.get_or_init(|| Gate {
        state: std::sync::Mutex::new((Vec::new(), 0)),
        freed: std::sync::Condvar::new(),
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    })
}

/// Run one argon2 computation in an arena, waiting for a core's turn.
fn with_arena<T>(argon: &Argon2<'_>, f: impl FnOnce(&mut [argon2::Block]) -> T) -> anyhow::Result<T> {
    if WRITING.with(|w| w.get()) {
        anyhow::bail!("internal: argon2 was asked to run while the write lock is held");
    }
    let g = gate();
    let blocks = argon.params().block_count();
    let mut arena = {
        let mut st = g.state.lock().map_err(|_| anyhow!("argon2 gate poisoned"))?;
        while st.1 >= g.cores {
            st = g.freed.wait(st).map_err(|_| anyhow!("argon2 gate poisoned"))?;
        }
        st.1 += 1;
        let kept = st.0.iter().position(|a| a.blocks == blocks).map(|i| st.0.swap_remove(i));
        drop(st);
        match kept {
            Some(a) => Ok(a),
            None => arena(argon),
        }
    };
    let result = match arena.as_mut() {
        Ok(a) => Ok(f(a.blocks())),
        Err(e) => Err(anyhow!("{e:#}")),
    };
    let mut st = g.state.lock().map_err(|_| anyhow!("argon2 gate poisoned"))?;
    st.1 -= 1;
    if let Ok(mut a) = arena {
        // Kept by a server only (a command hashes once and unmaps, which hands the kernel back
        // its pages: nothing to wipe); only arenas of the usual size (an imported PHC may ask
        // for another).
        let keep = KEEP_ARENAS.load(std::sync::atomic::Ordering::Relaxed);
        if keep && blocks == Argon2::default().params().block_count() && st.0.len() < g.cores {
            a.wipe();
            st.0.push(a);
        }
    }
    drop(st);
    g.freed.notify_one();
    result
}

/// argon2's working memory (19 MiB for the parameters dms uses), mapped for one hash and
/// unmapped after it.
///
/// Every sign-in is a new process, so this memory is always fresh: the argon2 crate's own
/// allocation takes nearly five thousand 4 KiB page faults, which cost more than the hash
/// itself on this machine (50 ms for the first verification in a process, 18 ms for the next).
/// Mapped here and marked for transparent huge pages (where the kernel offers them on request,
/// the common `madvise` setting), it takes about ten. The blocks start on a 2 MiB boundary:
/// the kernel places a mapping whose size is not a multiple of 2 MiB anywhere, and the
/// unaligned head and tail then fall back to small pages (855 → 625 faults a sign-in here).
pub struct Arena {
    map: memmap2::MmapMut,
    offset: usize,
    blocks: usize,
}

const HUGE_PAGE: usize = 2 << 20;

pub fn arena(argon: &Argon2<'_>) -> anyhow::Result<Arena> {
    let blocks = argon.params().block_count();
    let len = blocks * argon2::Block::SIZE;
    let map = memmap2::MmapMut::map_anon(len + HUGE_PAGE).context("argon2 memory")?;
    let offset = (HUGE_PAGE - map.as_ptr() as usize % HUGE_PAGE) % HUGE_PAGE;
    // Advice only: without huge pages the same memory works with small ones.
    let _ = map.advise_range(memmap2::Advice::HugePage, offset, len);
    Ok(Arena { map, offset, blocks })
}

impl Arena {
    /// Zero the blocks: one memset, which the fence keeps from being optimised away.
    fn wipe(&mut self) {
        let (offset, len) = (self.offset, self.blocks * argon2::Block::SIZE);
        let blocks = &mut self.map[offset..offset + len];
        // SAFETY: `blocks` is a live, exclusively borrowed slice of exactly `len` bytes.
        unsafe { std::ptr::write_bytes(blocks.as_mut_ptr(), 0, blocks.len()) };
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }

    pub fn blocks(&mut self) -> &mut [argon2::Block] {
        // SAFETY: the map is `blocks * Block::SIZE + HUGE_PAGE` bytes and `offset` is less than
        // HUGE_PAGE, so the slice lies inside it; the map is page-aligned and `offset` a multiple
        // of the page size, so the slice is aligned for Block (64); the kernel zero-filled it
        // (every bit pattern is a valid Block: 128 u64s); and it is borrowed mutably for the
        // slice's whole life, so nothing else aliases it.
        unsafe {
            std::slice::from_raw_parts_mut(self.map.as_mut_ptr().add(self.offset).cast::<argon2::Block>(), self.blocks)
        }
    }
}

/// Is this an argon2 PHC string we can verify against?
pub fn is_argon2_phc(phc: &str) -> bool {
    argon2::PasswordHash::new(phc).is_ok_and(|h| h.algorithm.as_str().starts_with("argon2"))
}

/// Bounds on an imported smartcard PIN hash (the migration file's `pin_phc`). Below: weaker
/// than OWASP's weakest argon2id setting (m = 7 MiB with t = 5, i.e. 35,840 KiB-passes). Above:
/// one verification would cost more than 256 MiB-passes (about a third of a second here), and
/// anyone may ask for one by signing in with a smartcard.
pub const PIN_PHC_MIN_KIB_PASSES: u64 = 7_168 * 5;
pub const PIN_PHC_MAX_KIB_PASSES: u64 = 256 * 1024;
pub const PIN_PHC_MAX_MEMORY_KIB: u64 = 64 * 1024;
pub const PIN_PHC_MAX_LANES: u64 = 4;

/// Accept an imported PIN hash only as argon2id (version 19) within the bounds above and with
/// parameters argon2 can verify with; returns it unchanged, or why it was refused. A clear PIN never gets this far: it is not a PHC.
pub fn imported_pin_phc(phc: &str) -> Result<String, String> {
    let h = argon2::PasswordHash::new(phc)
        .map_err(|_| "not an argon2id PHC string (a clear PIN is never accepted)".to_string())?;
    if h.algorithm.as_str() != "argon2id" {
        return Err(format!("{} is not accepted: only argon2id", h.algorithm.as_str()));
    }
    if h.version != Some(19) {
        return Err("only argon2 version 19 is accepted".into());
    }
    let param = |name: &str| h.params.get_decimal(name).map(u64::from);
    let (Some(m), Some(t), Some(p)) = (param("m"), param("t"), param("p")) else {
        return Err("the m, t and p parameters are required".into());
    };
    if h.hash.is_none() || h.salt.is_none() {
        return Err("the salt and hash are required".into());
    }
    let work = m.saturating_mul(t);
    if work < PIN_PHC_MIN_KIB_PASSES {
        return Err(format!(
            "m={m} t={t} is weaker than OWASP's argon2id minimum (m×t ≥ {PIN_PHC_MIN_KIB_PASSES} KiB)"
        ));
    }
    if m > PIN_PHC_MAX_MEMORY_KIB || work > PIN_PHC_MAX_KIB_PASSES || !(1..=PIN_PHC_MAX_LANES).contains(&p) {
        return Err(format!(
            "m={m} t={t} p={p} is too costly to verify at sign-in (at most m={PIN_PHC_MAX_MEMORY_KIB}, m×t ≤ {PIN_PHC_MAX_KIB_PASSES}, p ≤ {PIN_PHC_MAX_LANES})"
        ));
    }
    // Within the bounds is not enough: argon2 itself must accept the parameters (8 KiB of
    // memory per lane at least), or no PIN could ever verify against the hash.
    argon2::Params::try_from(&h).map_err(|e| format!("m={m} t={t} p={p}: argon2 cannot verify with these ({e})"))?;
    Ok(phc.to_string())
}

/// The stored form of a session token.
pub fn token_hash(token: &[u8]) -> Vec<u8> {
    Sha256::digest(token).to_vec()
}

/// Constant-time equality.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// What the key file says of the database beside it, where someone who can write the database
/// but not the key file cannot change it (issue 18): since when its audit trail is keyed, and
/// whether it is a test database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyMarks {
    /// The audit trail is keyed: how many legacy rows came before the keyed chain, and the
    /// hash of the last of them (all zeros for none). Once recorded, a trail verifies only as
    /// keyed.
    pub audit_keyed: Option<(i64, [u8; 32])>,
    /// `dms init --allow-test-clock`: `DMS_NOW` and `DMS_SEED` are honoured.
    pub test_clock: bool,
}

/// The key file beside the database, mode 0600: 32 random bytes in hex on its first line, then
/// its marks, one a line (`audit-keyed ROWS HEAD`, `test-clock`).
#[derive(Clone)]
pub struct MasterKey {
    key: Zeroizing<[u8; 32]>,
    pub marks: KeyMarks,
}

/// The largest key file read: the key and its marks.
pub const MAX_KEY_FILE: u64 = 1024;

impl MasterKey {
    pub fn create(path: &Path, rng: &mut SecureRng, marks: KeyMarks) -> anyhow::Result<Self> {
        let k = MasterKey { key: Zeroizing::new(rng.bytes()), marks };
        let mut f =
            crate::files::create_private(path).with_context(|| format!("cannot create key file {}", path.display()))?;
        f.write_all(k.file_text().as_bytes())?;
        f.sync_all()?;
        Ok(k)
    }

    /// The key file's contents: 64 hex digits and a newline, then a line per mark.
    pub fn file_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(hex::encode(&self.key[..]));
        text.push('\n');
        if let Some((rows, head)) = self.marks.audit_keyed {
            text.push_str(&format!("audit-keyed {rows} {}\n", hex::encode(head)));
        }
        if self.marks.test_clock {
            text.push_str("test-clock\n");
        }
        text
    }

    /// Write this key at `path` in place of what is there: a synced 0600 copy renamed over it.
    pub fn replace(&self, path: &Path) -> anyhow::Result<()> {
        crate::files::replace_private(path, crate::files::Purpose::KeyFile, self.file_text().as_bytes())
    }

    /// Load the key file, judged first (a regular file, its owner's alone: `files`).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        use crate::files::{self, Access, Purpose};
        let f = files::open(path, Purpose::KeyFile, Access::Read)?.ok_or_else(|| {
            anyhow!("no key file {} (it is created by `dms init` beside the database)", path.display())
        })?;
        let raw = Zeroizing::new(files::read_capped(f, path, Purpose::KeyFile, MAX_KEY_FILE)?);
        Self::from_text(&raw).map_err(|why| anyhow!("key file {} is damaged ({why})", path.display()))
    }

    /// A key file's bytes (its text, as `file_text` writes it; a CR or spaces allowed).
    pub fn from_text(raw: &[u8]) -> Result<Self, &'static str> {
        let text = std::str::from_utf8(raw).map_err(|_| "not text")?;
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.next().ok_or("empty")?;
        let bytes = Zeroizing::new(hex::decode(first).map_err(|_| "the key is not hexadecimal")?);
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| "the key is not 32 bytes")?;
        let mut marks = KeyMarks::default();
        for line in lines {
            let mut words = line.split_whitespace();
            match (words.next(), words.next(), words.next(), words.next()) {
                (Some("audit-keyed"), Some(rows), Some(head), None) => {
                    let rows: i64 = rows.parse().ok().filter(|r| *r >= 0).ok_or("a bad audit-keyed line")?;
                    let head: [u8; 32] =
                        hex::decode(head).ok().and_then(|h| h.try_into().ok()).ok_or("a bad audit-keyed line")?;
                    marks.audit_keyed = Some((rows, head));
                }
                (Some("test-clock"), None, None, None) => marks.test_clock = true,
                _ => return Err("a line it does not know"),
            }
        }
        Ok(MasterKey { key: Zeroizing::new(key), marks })
    }

    /// The same key with other marks.
    pub fn with_marks(&self, marks: KeyMarks) -> MasterKey {
        MasterKey { key: self.key.clone(), marks }
    }

    /// Seal a TOTP key for `user_id` (the user ID is bound in as associated data, so a sealed
    /// key copied onto another profile does not open).
    pub fn seal(&self, user_id: &str, plain: &[u8], rng: &mut SecureRng) -> anyhow::Result<Vec<u8>> {
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.key[..]));
        let nonce: [u8; 24] = rng.bytes();
        let ct = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: user_id.as_bytes() })
            .map_err(|_| anyhow!("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn open(&self, user_id: &str, sealed: &[u8]) -> anyhow::Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < 24 + 16 {
            bail!("sealed TOTP key of {user_id} is damaged");
        }
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.key[..]));
        let (nonce, ct) = sealed.split_at(24);
        cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: user_id.as_bytes() })
            .map(Zeroizing::new)
            .map_err(|_| anyhow!("the TOTP key of {user_id} does not open with this key file"))
    }

    /// What names this key without revealing it: HMAC-SHA-256 of a fixed label under the key.
    /// The database records the fingerprint of the key its values are sealed under once the key
    /// has been rotated, so loading can tell which key file belongs to it.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key[..]).expect("HMAC takes any key length");
        mac.update(b"dms key-file fingerprint v1");
        mac.finalize().into_bytes().into()
    }

    /// Keyed hash of an e-mail OTP: without the key file, the stored hash of an 8-digit code
    /// cannot be brute-forced offline.
    pub fn otp_hash(&self, user_id: &str, code: &str) -> Vec<u8> {
        self.code_hash(b"email-otp\0", user_id, code)
    }

    /// Keyed hash of a one-time initial smartcard PIN (the same construction, its own label).
    pub fn initial_pin_hash(&self, user_id: &str, pin: &str) -> Vec<u8> {
        self.code_hash(b"initial-pin\0", user_id, pin)
    }

    fn code_hash(&self, label: &[u8], user_id: &str, code: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key[..]).expect("HMAC takes any key length");
        mac.update(label);
        mac.update(user_id.as_bytes());
        mac.update(b"\0");
        mac.update(code.trim().as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_carries_its_marks_and_refuses_a_line_it_does_not_know() {
        let mut rng = SecureRng::seeded(3);
        let dir = tempfile::tempdir().expect("dir");
        let marks = KeyMarks { audit_keyed: Some((32, [7u8; 32])), test_clock: true };
        let k = MasterKey::create(&dir.path().join("k"), &mut rng, marks).expect("key");
        let text = k.file_text();
        assert_eq!(text.lines().count(), 3, "{}", text.as_str());
        let back = MasterKey::load(&dir.path().join("k")).expect("load");
        assert_eq!(back.marks, marks);
        assert_eq!(back.fingerprint(), k.fingerprint());
        let plain = MasterKey::from_text(format!("{}\n", &text[..64]).as_bytes()).expect("a key file of the first dms");
        assert_eq!(plain.marks, KeyMarks::default());
        assert!(MasterKey::from_text(format!("{}\nkeyed\n", &text[..64]).as_bytes()).is_err());
        assert!(MasterKey::from_text(format!("{}\naudit-keyed -1 00\n", &text[..64]).as_bytes()).is_err());
    }

    #[test]
    fn passwords_hash_to_argon2id_phc_and_verify() {
        let mut rng = SecureRng::seeded(1);
        let phc = hash_secret("Correct-Horse7Battery!", &mut rng).expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_secret("Correct-Horse7Battery!", &phc));
        assert!(!verify_secret("Correct-Horse7Battery?", &phc));
        assert!(!verify_secret("x", "not a phc"));
        assert!(is_argon2_phc(&phc) && !is_argon2_phc("$pbkdf2$x"));
    }

    /// argon2's memory starts on a huge-page boundary and holds exactly the blocks asked for,
    /// inside its map.
    #[test]
    fn the_arena_starts_on_a_huge_page_boundary() {
        for m in [19456, 7168, 4096] {
            let argon = Argon2::new(
                argon2::Algorithm::Argon2id,
                argon2::Version::V0x13,
                argon2::Params::new(m, 2, 1, None).expect("params"),
            );
            let mut a = arena(&argon).expect("arena");
            let (start, n) = (a.blocks().as_ptr() as usize, a.blocks().len());
            assert_eq!(start % HUGE_PAGE, 0);
            assert_eq!(n, m as usize);
            assert!(start + n * argon2::Block::SIZE <= a.map.as_ptr() as usize + a.map.len());
        }
    }

    /// The hash made and checked in dms's own argon2 memory is the argon2 crate's, byte for
    /// byte, and PHC strings the crate makes with other parameters and variants verify.
    #[test]
    fn hashes_in_the_arena_match_the_argon2_crate() {
        use argon2::PasswordHasher as _;
        let mut seeded = SecureRng::seeded(9);
        let ours = hash_secret("Correct-Horse7Battery!", &mut seeded).expect("hash");
        let salt: [u8; 16] = SecureRng::seeded(9).bytes();
        let theirs = Argon2::default().hash_password_with_salt(b"Correct-Horse7Battery!", &salt).expect("hash");
        assert_eq!(ours, theirs.to_string());
        for (alg, m, t, p) in [("argon2id", 7168, 5, 1), ("argon2i", 8192, 3, 2), ("argon2d", 4096, 1, 1)] {
            let params = argon2::Params::new(m, t, p, Some(24)).expect("params");
            let phc = Argon2::new(argon2::Algorithm::new(alg).expect("alg"), argon2::Version::V0x13, params)
                .hash_password_with_salt(b"123456", b"saltsaltsaltsalt")
                .expect("hash")
                .to_string();
            assert!(verify_secret("123456", &phc), "{phc}");
            assert!(!verify_secret("123457", &phc), "{phc}");
            // Damaged: a hash cut short, another salt.
            assert!(!verify_secret("123456", &phc[..phc.len() - 4]), "{phc}");
            assert!(!verify_secret("123456", &phc.replace("c2FsdHNhbHRzYWx0c2FsdA", "c2FsdHNhbHRzYWx0c2FsdB")));
        }
    }

    #[test]
    fn imported_pin_hashes_are_argon2id_within_bounds() {
        use argon2::PasswordHasher as _;
        let mut rng = SecureRng::seeded(3);
        let ok = hash_secret("123456", &mut rng).expect("hash");
        assert_eq!(imported_pin_phc(&ok).as_deref(), Ok(ok.as_str()));
        let with = |alg: &str, m: u32, t: u32, p: u32| -> String {
            let params = argon2::Params::new(m, t, p, None).expect("params");
            let alg = argon2::Algorithm::new(alg).expect("alg");
            Argon2::new(alg, argon2::Version::V0x13, params)
                .hash_password_with_salt(b"123456", b"saltsaltsaltsalt")
                .expect("hash")
                .to_string()
        };
        assert!(imported_pin_phc(&with("argon2i", 19456, 2, 1)).unwrap_err().contains("only argon2id"));
        assert!(imported_pin_phc(&with("argon2id", 8, 1, 1)).unwrap_err().contains("weaker"));
        assert!(imported_pin_phc(&with("argon2id", 7168, 5, 1)).is_ok(), "OWASP's weakest setting");
        let huge =
            "$argon2id$v=19$m=2097152,t=50,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY";
        assert!(imported_pin_phc(huge).unwrap_err().contains("too costly"));
        assert!(imported_pin_phc("123456").unwrap_err().contains("clear PIN"));
    }

    /// Found by the property `pin_hash_accepted_iff_argon2id_within_bounds`: m=1 KiB with
    /// t=35,840 passed the work bounds, but argon2 needs 8 KiB per lane, so no PIN could
    /// ever verify against the imported hash (the user would only collect failures).
    #[test]
    fn imported_pin_hashes_argon2_cannot_verify_are_refused() {
        let salt_hash = "c2FsdHNhbHRzYWx0c2FsdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY";
        let e = imported_pin_phc(&format!("$argon2id$v=19$m=1,t=35840,p=1${salt_hash}")).unwrap_err();
        assert!(e.contains("argon2 cannot verify"), "{e}");
        assert!(
            imported_pin_phc(&format!("$argon2id$v=19$m=16,t=2240,p=4${salt_hash}")).is_err(),
            "4 lanes need 32 KiB"
        );
        assert!(imported_pin_phc(&format!("$argon2id$v=19$m=32,t=1120,p=4${salt_hash}")).is_ok());
    }

    #[test]
    fn sealed_totp_keys_open_only_for_their_user_and_key() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut rng = SecureRng::seeded(7);
        let k = MasterKey::create(&dir.path().join("k"), &mut rng, KeyMarks::default()).expect("key");
        let sealed = k.seal("B0123401", b"12345678901234567890", &mut rng).expect("seal");
        assert!(!sealed.windows(20).any(|w| w == b"12345678901234567890"), "ciphertext hides the key");
        assert_eq!(&k.open("B0123401", &sealed).expect("open")[..], b"12345678901234567890");
        assert!(k.open("B0123402", &sealed).is_err(), "bound to the user ID");
        let other = MasterKey::create(&dir.path().join("k2"), &mut rng, KeyMarks::default()).expect("key");
        assert!(other.open("B0123401", &sealed).is_err(), "bound to the key file");
        let again = MasterKey::load(&dir.path().join("k")).expect("load");
        assert_eq!(&again.open("B0123401", &sealed).expect("open")[..], b"12345678901234567890");
    }

    #[test]
    fn otp_hash_is_keyed_and_per_user() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut rng = SecureRng::seeded(7);
        let k = MasterKey::create(&dir.path().join("k"), &mut rng, KeyMarks::default()).expect("key");
        assert_eq!(k.otp_hash("A", "12345678"), k.otp_hash("A", " 12345678 "));
        assert_ne!(k.otp_hash("A", "12345678"), k.otp_hash("B", "12345678"));
        assert_ne!(k.otp_hash("A", "12345678"), Sha256::digest(b"12345678").to_vec());
    }

    #[test]
    fn seeded_randomness_repeats_and_os_randomness_does_not() {
        assert_eq!(SecureRng::seeded(5).bytes::<16>(), SecureRng::seeded(5).bytes::<16>());
        assert_ne!(SecureRng::os().bytes::<16>(), SecureRng::os().bytes::<16>());
    }
}
