//! Getting at the file: creating it whole under a temporary name and
//! publishing it, or opening it and checking that it is one to trust.
//!
//! # Creating
//!
//! A new file is written whole under a temporary name in the same directory,
//! `.doorway-<16 hex digits>.tmp` (29 bytes, whatever the final name, so any
//! name the directory accepts can be created), opened `O_CREAT | O_EXCL`
//! (which follows no symlink), then published with `link(2)`, which fails
//! if anything, a planted symlink included, has the final name. So a file
//! under its final name is always complete.
//!
//! While its temporary name exists, the creator holds the lock on
//! [`CREATING_BYTE`] of the file (see [`custody`](super::custody)). A
//! creator killed half-way leaves the name behind; the next `create` in the
//! directory removes such leftovers, each only once the kernel grants it
//! that byte (the creator is gone) and the name still names the file it
//! locked. A name it removes too early (between a live creator's `O_EXCL`
//! and its lock) makes that creator's `link` fail with `NotFound`, and the
//! creator starts again under a new name.
//!
//! # Opening
//!
//! `O_NOFOLLOW`; then only a regular file, owned by the calling user unless
//! the caller allows other owners, at least a header long, whose header
//! checks out, and whose mode gives no one read access without write access
//! ([`check_mode`]).

use super::Error;
use super::custody::{CREATING_BYTE, Description};
use super::header::{HEADER_BYTES, Layout, fnv1a};
use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::string::String;

const TEMP_PREFIX: &str = ".doorway-";
const TEMP_SUFFIX: &str = ".tmp";

/// How many temporary names a creator tries before giving up.
const ATTEMPTS: u32 = 16;

/// Refuses a mode that lets the owner, the group or others read the file
/// without writing it. Read access is enough to place read locks
/// (`F_OFD_SETLK` with `F_RDLCK` on a descriptor opened for reading), which
/// refuse every member's write lock on the bytes they cover: on a free
/// participant's byte they keep it from being claimed, on a dead one's they
/// keep it from being recovered, and a waiter behind it can only give up
/// (with [`Error::Interference`]). Through doorway a reader can do nothing
/// else (every handle opens the file for reading and writing), and what it
/// could read (every value and the bakery's data) is the members' own.
pub(crate) fn check_mode(mode: u32) -> Result<(), Error> {
    let read_without_write = [(0o400, 0o200), (0o040, 0o020), (0o004, 0o002)]
        .into_iter()
        .any(|(read, write)| mode & read != 0 && mode & write == 0);
    if read_without_write {
        return Err(Error::Insecure(
            "a mode that gives read access without write access (a reader can place byte \
             locks that keep participants from being claimed or recovered)",
        ));
    }
    Ok(())
}

/// Writes a complete file under a temporary name in `path`'s directory and
/// links it to `path`, which fails if anything is there.
pub(crate) fn create_file(
    path: &Path,
    header: &[u8; HEADER_BYTES],
    len: u64,
    mode: u32,
) -> Result<File, Error> {
    check_mode(mode)?;
    if path.file_name().is_none() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no file name").into());
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    remove_leftovers(dir);
    for attempt in 0..ATTEMPTS {
        let temp = dir.join(temp_name(attempt));
        let file = match create_new(&temp, mode) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        };
        let creating = Description::of(file);
        if !creating.try_lock(CREATING_BYTE)? {
            continue; // a sweeper took it first and will remove the name
        }
        let published = write_whole(creating.file(), header, len, mode)
            .and_then(|()| std::fs::hard_link(&temp, path));
        let _ = std::fs::remove_file(&temp);
        match published {
            Ok(()) => {
                // Closing would also give it back; the description lives on
                // as the file's, so say it.
                let _ = creating.unlock(CREATING_BYTE);
                return Ok(creating.into_file());
            }
            // A sweeper removed the name before this creator's lock.
            Err(e) if e.kind() == io::ErrorKind::NotFound && temp_vanished(&temp) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::other("no temporary name could be used").into())
}

/// A temporary name: 16 hex digits of a hash of the time, the process, the
/// attempt and a counter.
fn temp_name(attempt: u32) -> String {
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut seed = [0u8; 28];
    seed[..16].copy_from_slice(&nanos.to_ne_bytes());
    seed[16..20].copy_from_slice(&std::process::id().to_ne_bytes());
    seed[20..24].copy_from_slice(&attempt.to_ne_bytes());
    // Relaxed: only a distinct number per call.
    seed[24..].copy_from_slice(&COUNTER.fetch_add(1, Relaxed).to_ne_bytes());
    std::format!("{TEMP_PREFIX}{:016x}{TEMP_SUFFIX}", fnv1a(&seed))
}

fn is_temp_name(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    name.strip_prefix(TEMP_PREFIX)
        .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `O_EXCL`: fails on anything already there, a symlink included, and never
/// follows one.
fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

fn write_whole(file: &File, header: &[u8; HEADER_BYTES], len: u64, mode: u32) -> io::Result<()> {
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    file.set_len(len)?;
    file.write_all_at(header, 0)
}

fn temp_vanished(temp: &Path) -> bool {
    matches!(std::fs::symlink_metadata(temp), Err(e) if e.kind() == io::ErrorKind::NotFound)
}

/// Removes the temporary files of creators that are gone: those whose
/// creating byte the kernel grants, owned by this user, still named as
/// found. Errors only mean a leftover stays.
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if is_temp_name(&entry.file_name()) {
            remove_if_abandoned(&entry.path());
        }
    }
}

fn remove_if_abandoned(temp: &Path) {
    let Ok(file) = open_no_follow(temp) else {
        return;
    };
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let Ok(meta) = file.metadata() else {
        return;
    };
    if !meta.file_type().is_file() || meta.uid() != me {
        return;
    }
    let held = Description::of(file);
    if held.try_lock(CREATING_BYTE).unwrap_or(false)
        && std::fs::symlink_metadata(temp)
            .is_ok_and(|now| (now.dev(), now.ino()) == (meta.dev(), meta.ino()))
    {
        let _ = std::fs::remove_file(temp);
    }
}

fn open_no_follow(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

/// Opens `path` without following a symlink and reads its header.
pub(crate) fn open_file(path: &Path, allow_other_owner: bool) -> Result<(File, Layout), Error> {
    let file = open_no_follow(path).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => Error::Insecure("the path is a symlink"),
        Some(libc::EISDIR) => Error::Insecure("not a regular file"),
        _ => Error::Io(e),
    })?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(Error::Insecure("not a regular file"));
    }
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if !allow_other_owner && meta.uid() != me {
        return Err(Error::Insecure("owned by another user"));
    }
    if meta.len() < HEADER_BYTES as u64 {
        return Err(Error::Length {
            found: meta.len(),
            expected: HEADER_BYTES as u64,
        });
    }
    let mut header = [0u8; HEADER_BYTES];
    file.read_exact_at(&mut header, 0)?;
    let layout = Layout::from_header(&header)?;
    // After the header: a file that is no doorway file is named as such.
    check_mode(meta.mode())?;
    Ok((file, layout))
}

// Not under Miri: a temporary name reads the wall clock, which Miri's
// isolated interpreter refuses.
#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_short_and_recognized() {
        let name = temp_name(3);
        assert_eq!(name.len(), 29);
        assert!(is_temp_name(OsStr::new(&name)));
        assert_ne!(name, temp_name(3), "each call a new name");
        for other in [".doorway-xyz.tmp", ".doorway-0123456789abcdef.tmpx", "f"] {
            assert!(!is_temp_name(OsStr::new(other)), "{other}");
        }
    }
}
