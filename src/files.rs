//! The files dms trusts (SPEC §9 "Files"), each rule written once.
//!
//! - A **private** file — the database (and its `-wal`/`-shm`), the key file, a session file,
//!   the mbox — must be a regular file owned by the user dms runs as, that neither group nor
//!   others may read or write. Running as root changes nothing: root's files are uid 0's, and
//!   a file of another user is refused to root as to anyone.
//! - An **input** file (a bulk or migration CSV) must be a regular file; who owns it does not
//!   matter.
//! - A file dms **writes into or replaces** (a session file, the mbox) is never a symbolic
//!   link; the database and key file may be links (an administrator may move the data), and
//!   their targets are judged.
//! - Nothing is opened before it is judged, and what is opened is judged again through the
//!   open handle (same device and inode, still regular), with `O_NONBLOCK`, so a FIFO or a
//!   device swapped in meanwhile is refused rather than waited on. Reads are capped by the
//!   bytes actually read, not by the size the file claims.
//!
//! Every refusal names the file and the fix and is invalid input (exit 6).

use crate::error::{invalid, DmsError};
use rustix::fs::OFlags;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Write as _};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// The name of the account with this uid, from the system's user database (None when it has
/// none). Looked up once per process and uid.
pub fn user_name(uid: u32) -> Option<String> {
    static SEEN: std::sync::Mutex<Vec<(u32, Option<String>)>> = std::sync::Mutex::new(Vec::new());
    if let Some(found) = SEEN.lock().ok().and_then(|s| s.iter().find(|(u, _)| *u == uid).map(|(_, n)| n.clone())) {
        return found;
    }
    let name = lookup_user(uid);
    if let Ok(mut s) = SEEN.lock() {
        if s.len() < 64 {
            s.push((uid, name.clone()));
        }
    }
    name
}

fn lookup_user(uid: u32) -> Option<String> {
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: `passwd` is a plain C struct for which all-zero bytes are a valid value; it is
    // only read after getpwuid_r filled it.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call: `pwd` and `found` are live locals, and
    // `buf` is a live buffer of `buf.len()` bytes that getpwuid_r fills the strings into.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut found) };
    if rc != 0 || found.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: on success `pw_name` points to a NUL-terminated string inside `buf`, alive here.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    Some(name.to_string_lossy().into_owned())
}

/// The gid of a group by name (the server's `--socket-group`).
pub fn group_id(name: &str) -> Option<u32> {
    let cname = std::ffi::CString::new(name).ok()?;
    let mut buf = vec![0u8; 64 * 1024];
    // SAFETY: `group` is a plain C struct for which all-zero bytes are a valid value.
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call: `cname` is NUL-terminated, `grp` and `found`
    // are live locals, `buf` is a live buffer of `buf.len()` bytes.
    let rc = unsafe { libc::getgrnam_r(cname.as_ptr(), &mut grp, buf.as_mut_ptr().cast(), buf.len(), &mut found) };
    if rc != 0 || found.is_null() {
        return None;
    }
    Some(grp.gr_gid)
}

/// What a file is to dms (named in every message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Database,
    KeyFile,
    SessionFile,
    Mbox,
    Input,
    /// An encrypted backup (`dms backup`): written 0600, never over a file; read from anyone
    /// (it is encrypted, and may have been copied in by another account), but a regular file.
    Backup,
}

impl Purpose {
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Database => "database",
            Purpose::KeyFile => "key file",
            Purpose::SessionFile => "session file",
            Purpose::Mbox => "mbox",
            Purpose::Input => "input file",
            Purpose::Backup => "backup file",
        }
    }

    /// Holds a secret, or reaches one: its owner's alone.
    fn private(self) -> bool {
        !matches!(self, Purpose::Input | Purpose::Backup)
    }

    /// dms writes into it or replaces it: a link could point the write anywhere.
    fn refuses_links(self) -> bool {
        matches!(self, Purpose::SessionFile | Purpose::Mbox)
    }
}

/// The type of a directory entry, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Regular,
    Directory,
    Fifo,
    CharDevice,
    BlockDevice,
    Socket,
    Symlink,
}

impl FileKind {
    fn of(m: &Metadata) -> FileKind {
        let t = m.file_type();
        if t.is_symlink() {
            FileKind::Symlink
        } else if t.is_dir() {
            FileKind::Directory
        } else if t.is_fifo() {
            FileKind::Fifo
        } else if t.is_char_device() {
            FileKind::CharDevice
        } else if t.is_block_device() {
            FileKind::BlockDevice
        } else if t.is_socket() {
            FileKind::Socket
        } else {
            FileKind::Regular
        }
    }

    fn describe(self) -> &'static str {
        match self {
            FileKind::Regular => "a regular file",
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a FIFO (named pipe)",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Socket => "a socket",
            FileKind::Symlink => "a symbolic link",
        }
    }
}

/// What a verdict is made from: the file's type, owner and permission bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub kind: FileKind,
    pub uid: u32,
    pub mode: u32,
}

impl Facts {
    pub fn of(m: &Metadata) -> Facts {
        Facts { kind: FileKind::of(m), uid: m.uid(), mode: m.mode() & 0o7777 }
    }
}

/// Why a file is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    NotRegular(FileKind),
    Link,
    OtherOwner {
        owner: u32,
        me: u32,
    },
    Exposed {
        mode: u32,
    },
    TooLarge {
        cap: u64,
    },
    /// The file changed between the look and the open.
    Swapped,
}

/// The rule, as a pure function: may dms use a file with these facts for this purpose, when
/// running as `me`?
pub fn judge(purpose: Purpose, facts: Facts, me: u32) -> Result<(), Problem> {
    match facts.kind {
        FileKind::Symlink => return Err(Problem::Link),
        FileKind::Regular => {}
        other => return Err(Problem::NotRegular(other)),
    }
    if purpose.private() {
        if facts.uid != me {
            return Err(Problem::OtherOwner { owner: facts.uid, me });
        }
        if facts.mode & 0o066 != 0 {
            return Err(Problem::Exposed { mode: facts.mode });
        }
    }
    Ok(())
}

/// The refusal as the user sees it: the file, what is wrong, the fix.
pub fn refusal(path: &Path, purpose: Purpose, problem: Problem) -> DmsError {
    let p = path.display();
    let what = purpose.name();
    let message = match problem {
        Problem::NotRegular(kind) => format!(
            "{p}: the {what} is {}, not a regular file; dms reads and writes only regular files: give the path of one",
            kind.describe()
        ),
        Problem::Link => format!(
            "{p}: the {what} is a symbolic link, and dms never writes through one: remove the link (`rm {p}`) or give another path"
        ),
        Problem::OtherOwner { owner, me } => format!(
            "{p}: the {what} belongs to another user (uid {owner}; dms runs as uid {me}), and dms uses only its own user's files: `chown {me} {p}` if it is yours, or give another path"
        ),
        Problem::Exposed { mode } => format!(
            "{p}: group or others may read or write the {what} (mode {mode:04o}), and it must be its owner's alone: `chmod 600 {p}`"
        ),
        Problem::TooLarge { cap } => format!(
            "{p}: larger than {cap} bytes, so it is not a {what} dms wrote: remove it or give another path"
        ),
        Problem::Swapped => format!("{p}: the {what} was replaced while dms opened it: try again"),
    };
    invalid(message)
}

/// The folder of a private file (the database, its key file): one that group or others may
/// write is refused, whatever is in it yet — anyone could plant a file there between a look and
/// an open (a rollback journal SQLite would play back into the database, issue 18 #2).
pub fn judge_folder(path: &Path, purpose: Purpose) -> anyhow::Result<()> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(meta) = std::fs::metadata(&folder) else { return Ok(()) };
    let mode = meta.mode() & 0o7777;
    if meta.is_dir() && mode & 0o022 != 0 {
        let f = folder.display();
        return Err(invalid(format!(
            "{f}: group or others may write the folder of the {} (mode {mode:04o}), so anyone could plant a file beside it that SQLite would read (a rollback journal, say): keep it in a folder only its owner writes (`chmod go-w {f}`, or move it)",
            purpose.name()
        ))
        .into());
    }
    Ok(())
}

/// The user dms runs as.
pub fn me() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Look at `path` without opening it: `None` if nothing is there; the metadata of the file
/// (of a link's target, where links are allowed) if it may be used; else the refusal.
pub fn inspect(path: &Path, purpose: Purpose) -> anyhow::Result<Option<Metadata>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(invalid(format!("{}: cannot look at the {}: {e}", path.display(), purpose.name())).into()),
    };
    let meta = if meta.file_type().is_symlink() && !purpose.refuses_links() {
        match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                return Err(invalid(format!(
                    "{}: the {} is a symbolic link that leads nowhere usable: {e}",
                    path.display(),
                    purpose.name()
                ))
                .into())
            }
        }
    } else {
        meta
    };
    judge(purpose, Facts::of(&meta), me()).map_err(|p| refusal(path, purpose, p))?;
    Ok(Some(meta))
}

/// How an existing file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Append,
}

/// Open an existing file that passed [`inspect`]: `None` if nothing is there. The handle is
/// judged again (same file, still regular), so nothing swapped in meanwhile is used, and a
/// FIFO is never waited on.
pub fn open(path: &Path, purpose: Purpose, access: Access) -> anyhow::Result<Option<File>> {
    let Some(before) = inspect(path, purpose)? else { return Ok(None) };
    let mut flags = OFlags::NONBLOCK;
    if purpose.refuses_links() {
        flags |= OFlags::NOFOLLOW;
    }
    let mut opts = OpenOptions::new();
    match access {
        Access::Read => opts.read(true),
        Access::Append => opts.append(true),
    };
    opts.custom_flags(flags.bits() as i32);
    let file = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(invalid(format!("{}: cannot open the {}: {e}", path.display(), purpose.name())).into()),
    };
    let after = file.metadata()?;
    judge(purpose, Facts::of(&after), me()).map_err(|p| refusal(path, purpose, p))?;
    if (after.dev(), after.ino()) != (before.dev(), before.ino()) {
        return Err(refusal(path, purpose, Problem::Swapped).into());
    }
    Ok(Some(file))
}

/// Read the whole of `r`, at most `cap` bytes counted as they are read (a file may claim any
/// size, or none); more is refused.
pub fn read_capped(r: impl Read, path: &Path, purpose: Purpose, cap: u64) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| invalid(format!("{}: cannot read the {}: {e}", path.display(), purpose.name())))?;
    if buf.len() as u64 > cap {
        return Err(refusal(path, purpose, Problem::TooLarge { cap }).into());
    }
    Ok(buf)
}

/// Create a new file readable and writable only by its owner. `O_EXCL`: never over an
/// existing file, never through a link.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

/// The mbox, opened to append (created 0600 if it is not there yet).
pub fn append_private(path: &Path, purpose: Purpose) -> anyhow::Result<File> {
    if let Some(f) = open(path, purpose, Access::Append)? {
        return Ok(f);
    }
    match create_private(path) {
        Ok(f) => Ok(f),
        // Created by someone else since the look: judge that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => open(path, purpose, Access::Append)?
            .ok_or_else(|| invalid(format!("{}: the {} keeps disappearing", path.display(), purpose.name())).into()),
        Err(e) => Err(invalid(format!("{}: cannot create the {}: {e}", path.display(), purpose.name())).into()),
    }
}

/// Put `bytes` in place at `path` atomically: a new 0600 file in the same folder, synced, then
/// renamed over `path` (a rename replaces a link itself, never its target). The caller has
/// judged what is at `path` now.
pub fn replace_private(path: &Path, purpose: Purpose, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = temp_beside(path);
    let written = (|| -> std::io::Result<()> {
        let mut f = create_private(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(invalid(format!("{}: cannot write the {}: {e}", path.display(), purpose.name())).into());
    }
    // The rename itself survives a crash once the folder is synced (best effort).
    sync_folder(path);
    Ok(())
}

/// Put the finished file `tmp` (in the same folder) at `path`, never over anything there: a
/// hard link, which fails if `path` exists (a link, a FIFO or a file created meanwhile
/// included), then `tmp` is removed and the folder synced. On failure `tmp` is left to the
/// caller.
pub fn publish(tmp: &Path, path: &Path, purpose: Purpose) -> anyhow::Result<()> {
    match std::fs::hard_link(tmp, path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(crate::error::conflict(format!(
                "{}: a file is already there, and dms never writes a {} over one: give another path",
                path.display(),
                purpose.name()
            ))
            .into())
        }
        Err(e) => return Err(invalid(format!("{}: cannot write the {}: {e}", path.display(), purpose.name())).into()),
    }
    let _ = std::fs::remove_file(tmp);
    sync_folder(path);
    Ok(())
}

/// Make the entries of `path`'s folder durable (a created, renamed or removed file survives a
/// crash once its folder is synced). Best effort: some file systems cannot sync a folder.
pub fn sync_folder(path: &Path) {
    if let Ok(dir) = File::open(folder_of(path)) {
        let _ = dir.sync_all();
    }
}

/// A new private folder (0700) beside `path` for work in progress, named after it and `label`;
/// never an existing one.
pub fn private_folder_beside(path: &Path, label: &str) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt as _;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = folder_of(path).join(format!(".{name}.{label}-{}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| invalid(format!("{}: cannot create a working folder: {e}", dir.display())))?;
    Ok(dir)
}

/// A file with no name in `path`'s folder (Linux's O_TMPFILE), 0600: whatever it holds, it
/// cannot outlive the process — a SIGKILL leaves nothing behind. For a backup's plaintext
/// snapshot and its archive until the archive is complete (issue 18 #9).
pub fn anonymous_beside(path: &Path) -> anyhow::Result<File> {
    let folder = folder_of(path);
    let fd = rustix::fs::openat(
        rustix::fs::CWD,
        &folder,
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .map_err(|e| {
        invalid(format!(
            "{}: cannot make a file with no name there ({e}): dms writes its temporary copies only as files that cannot outlive it (Linux's O_TMPFILE, on a local file system)",
            folder.display()
        ))
    })?;
    Ok(File::from(fd))
}

/// The path a library can open an open file by (`/proc/self/fd/N`): a file with no name too.
pub fn fd_path(f: &File) -> PathBuf {
    use std::os::fd::AsRawFd as _;
    PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd()))
}

/// Give a file with no name its name `path`, never over an existing file, and make it durable.
pub fn publish_anonymous(f: &File, path: &Path, purpose: Purpose) -> anyhow::Result<()> {
    f.sync_all()?;
    match rustix::fs::linkat(rustix::fs::CWD, fd_path(f), rustix::fs::CWD, path, rustix::fs::AtFlags::SYMLINK_FOLLOW) {
        Ok(()) => {}
        Err(rustix::io::Errno::EXIST) => {
            return Err(crate::error::conflict(format!(
                "{}: a file is already there, and dms never writes a {} over one: give another path",
                path.display(),
                purpose.name()
            ))
            .into())
        }
        Err(e) => return Err(invalid(format!("{}: cannot write the {}: {e}", path.display(), purpose.name())).into()),
    }
    sync_folder(path);
    Ok(())
}

/// Remove what a killed dms of an earlier version left beside `path`: its temporary copies
/// (`.NAME.tmp-PID-N`) and working folders (`.NAME.LABEL-PID`) of processes that are gone, and
/// only its owner's. Best effort.
pub fn remove_leftovers(path: &Path) {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else { return };
    let Ok(entries) = std::fs::read_dir(folder_of(path)) else { return };
    let prefix = format!(".{name}.");
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else { continue };
        // tmp-PID-N, or LABEL-PID.
        let pid = match rest.strip_prefix("tmp-") {
            Some(t) => t.split('-').next(),
            None => rest.rsplit('-').next(),
        };
        let Some(pid) = pid.and_then(|p| p.parse::<i32>().ok()) else { continue };
        let alive = rustix::process::Pid::from_raw(pid).is_some_and(|p| rustix::process::test_kill_process(p).is_ok());
        let ours = e.metadata().is_ok_and(|m| m.uid() == me());
        if alive || !ours {
            continue;
        }
        let p = e.path();
        if p.is_dir() {
            let _ = std::fs::remove_dir_all(&p);
        } else {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// `dir/.name.tmp-PID-N`, in the same folder as `path`, so the rename stays on one file system.
pub fn temp_beside(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = N.fetch_add(1, Ordering::Relaxed);
    folder_of(path).join(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u32 = 1000;

    fn facts(kind: FileKind, uid: u32, mode: u32) -> Facts {
        Facts { kind, uid, mode }
    }

    #[test]
    fn a_private_file_is_a_regular_file_of_its_owner_alone() {
        for p in [Purpose::Database, Purpose::KeyFile, Purpose::SessionFile, Purpose::Mbox] {
            assert_eq!(judge(p, facts(FileKind::Regular, ME, 0o600), ME), Ok(()));
            assert_eq!(judge(p, facts(FileKind::Regular, ME, 0o400), ME), Ok(()));
            assert_eq!(judge(p, facts(FileKind::Regular, ME, 0o700), ME), Ok(()), "execute bits expose nothing");
            assert_eq!(judge(p, facts(FileKind::Regular, ME, 0o644), ME), Err(Problem::Exposed { mode: 0o644 }));
            assert_eq!(judge(p, facts(FileKind::Regular, ME, 0o620), ME), Err(Problem::Exposed { mode: 0o620 }));
            assert_eq!(judge(p, facts(FileKind::Regular, ME, 0o602), ME), Err(Problem::Exposed { mode: 0o602 }));
            assert_eq!(judge(p, facts(FileKind::Regular, 0, 0o600), ME), Err(Problem::OtherOwner { owner: 0, me: ME }));
        }
    }

    #[test]
    fn root_gets_no_exception() {
        assert_eq!(
            judge(Purpose::Database, facts(FileKind::Regular, ME, 0o600), 0),
            Err(Problem::OtherOwner { owner: ME, me: 0 })
        );
        assert_eq!(
            judge(Purpose::Database, facts(FileKind::Regular, 0, 0o666), 0),
            Err(Problem::Exposed { mode: 0o666 })
        );
    }

    #[test]
    fn special_files_are_refused_for_every_purpose() {
        for p in
            [Purpose::Database, Purpose::KeyFile, Purpose::SessionFile, Purpose::Mbox, Purpose::Input, Purpose::Backup]
        {
            for k in
                [FileKind::Directory, FileKind::Fifo, FileKind::CharDevice, FileKind::BlockDevice, FileKind::Socket]
            {
                assert_eq!(judge(p, facts(k, ME, 0o600), ME), Err(Problem::NotRegular(k)), "{p:?} {k:?}");
            }
        }
    }

    #[test]
    fn an_input_file_may_be_anyones() {
        assert_eq!(judge(Purpose::Input, facts(FileKind::Regular, 0, 0o644), ME), Ok(()));
    }

    #[test]
    fn refusals_name_the_file_and_the_fix() {
        let m = refusal(Path::new("dms.db.key"), Purpose::KeyFile, Problem::Exposed { mode: 0o644 }).message;
        assert!(m.contains("dms.db.key") && m.contains("chmod 600 dms.db.key") && m.contains("0644"), "{m}");
        let m = refusal(Path::new("s"), Purpose::SessionFile, Problem::Link).message;
        assert!(m.contains("symbolic link") && m.contains("rm s"), "{m}");
        let m =
            refusal(Path::new("/dev/zero"), Purpose::SessionFile, Problem::NotRegular(FileKind::CharDevice)).message;
        assert!(m.contains("/dev/zero") && m.contains("character device"), "{m}");
        let e = refusal(Path::new("x"), Purpose::Mbox, Problem::OtherOwner { owner: 0, me: ME });
        assert_eq!(e.kind, crate::error::Kind::Invalid);
        assert!(e.message.contains("chown 1000 x"), "{}", e.message);
    }

    #[test]
    fn files_on_disk_are_judged_and_replaced_atomically() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("f");
        assert!(inspect(&p, Purpose::SessionFile).expect("absent").is_none());
        replace_private(&p, Purpose::SessionFile, b"one").expect("write");
        assert_eq!(std::fs::read(&p).expect("read"), b"one");
        assert_eq!(std::fs::metadata(&p).expect("m").permissions().mode() & 0o777, 0o600);
        replace_private(&p, Purpose::SessionFile, b"two").expect("replace");
        let f = open(&p, Purpose::SessionFile, Access::Read).expect("open").expect("there");
        assert_eq!(read_capped(f, &p, Purpose::SessionFile, 3).expect("capped"), b"two");
        let f = open(&p, Purpose::SessionFile, Access::Read).expect("open").expect("there");
        assert!(read_capped(f, &p, Purpose::SessionFile, 2).is_err(), "over the cap");
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").map(|e| e.expect("e").file_name()).collect();
        assert_eq!(names.len(), 1, "no temp file is left behind: {names:?}");

        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        assert!(open(&p, Purpose::SessionFile, Access::Read).is_err());
        assert!(open(&p, Purpose::Input, Access::Read).expect("input").is_some(), "input files may be shared");

        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&p, &link).expect("symlink");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(open(&link, Purpose::SessionFile, Access::Read).is_err(), "never through a link");
        assert!(open(&link, Purpose::KeyFile, Access::Read).expect("key").is_some(), "a key file may be a link");
        assert!(inspect(dir.path(), Purpose::Input).is_err(), "a directory");
    }
}
