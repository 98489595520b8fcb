//! Who holds a participant, as the kernel says: open-file-description locks
//! on one byte of the file per participant (Linux's `F_OFD_SETLK`).
//!
//! # The rule
//!
//! Participant `i`'s custodian holds a write lock on byte [`claim_byte`]`(i)` of the
//! file, on an open file description of its own (a [`Description`]), for
//! as long as it has the participant: an owner for its whole ownership, a recoverer
//! for the few stores of the recovery rule. Everyone else asks for that byte
//! without waiting; being refused means someone holds the participant, being
//! granted means nobody does, and the grant is custody.
//!
//! # What the kernel guarantees, and what this relies on
//!
//! 1. **A lock belongs to an open file description**, not to a process or a
//!    thread. It conflicts with a lock on any other description of the same
//!    file, whether in another process or in this one; so every [`Member`]
//!    opens a description of its own, and nothing else ever locks a participant's
//!    byte.
//! 2. **It is given back only when its holder lets go or can no longer
//!    act**: an explicit unlock, or the last close of the description. A
//!    process's descriptions are closed when it exits or is killed, after its
//!    last instruction; they are closed at `exec` too, because a
//!    [`Description`] is opened `O_CLOEXEC` and never mapped. A stopped
//!    (`SIGSTOP`) or traced process keeps its locks, and so does a process
//!    whose main thread has exited while others run.
//! 3. **Asking never guesses**: `F_OFD_SETLK` grants or refuses (`EAGAIN`)
//!    from the kernel's own record of locks on the inode. No `/proc`, pid,
//!    start time, boot id or clock is read, so pid namespaces, time
//!    namespaces, `hidepid`, a recycled pid or a dead leader thread change
//!    nothing. An error other than a refusal (out of lock records, say) is
//!    never read as a grant: the caller treats the participant as held.
//! 4. **A grant is ordered after the previous holder's stores**: the kernel
//!    changes an inode's locks under a lock of its own, which the releasing
//!    side (an unlock, or the teardown after a process's last step) takes
//!    after the holder's stores to the mapping and the granting side takes
//!    before the taker's loads.
//!
//! A forked child shares its parent's descriptions, and so its locks; see
//! [`fork`](super::fork) for what a handle does there.
//!
//! [`Member`]: super::Member

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use super::Error;

/// The byte whose lock is participant `i`'s custody: the first byte of the participant's
/// line. (Byte locks are advisory: they guard nothing by themselves, and the
/// mapping's words are read and written as always.)
pub(crate) fn claim_byte(claims_offset: usize, claim_bytes: usize, i: usize) -> u64 {
    (claims_offset + i * claim_bytes) as u64
}

/// The byte a creator holds while it writes a new file under its temporary
/// name, so that a later creator can tell a file still being written from one
/// whose creator is gone.
pub(crate) const CREATING_BYTE: u64 = 0;

/// Whether this system has open-file-description locks.
pub(crate) fn supported() -> Result<(), Error> {
    if cfg!(linux) {
        Ok(())
    } else {
        Err(Error::Unsupported(
            "the shared file needs Linux's open file description locks (F_OFD_SETLK) \
             to learn of a participant's death from the kernel",
        ))
    }
}

/// An open file description of the shared file, private to one custodian:
/// the locks it holds are its own (guarantee 1).
#[derive(Debug)]
pub(crate) struct Description {
    file: File,
}

impl Description {
    /// Opens `path` again, as a new description, and checks that it is the
    /// very file `opened` is (not another one put there since).
    pub(crate) fn reopen(path: &Path, opened: &File) -> Result<Self, Error> {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)?;
        let (now, then) = (file.metadata()?, opened.metadata()?);
        if (now.dev(), now.ino()) != (then.dev(), then.ino()) {
            return Err(Error::Insecure(
                "the path names another file than the one opened (replaced or removed)",
            ));
        }
        Ok(Self { file })
    }

    /// A description of a file this process has just created.
    pub(crate) fn of(file: File) -> Self {
        Self { file }
    }

    /// The description's file.
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// The description's file, to keep (its locks go with it).
    pub(crate) fn into_file(self) -> File {
        self.file
    }

    /// Asks for a write lock on `byte` without waiting: `Ok(true)` granted
    /// (or already held through this very description), `Ok(false)` held
    /// through another description.
    pub(crate) fn try_lock(&self, byte: u64) -> io::Result<bool> {
        match ofd(&self.file, OFD_SETLK, &mut request(Kind::Write, byte)) {
            Ok(()) => Ok(true),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EACCES)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the lock on `byte` back.
    pub(crate) fn unlock(&self, byte: u64) -> io::Result<()> {
        ofd(&self.file, OFD_SETLK, &mut request(Kind::Unlock, byte))
    }
}

/// Whether some description other than `file`'s holds a lock on `byte`: a
/// report, stale as soon as it is made (`F_OFD_GETLK` takes nothing).
pub(crate) fn is_held(file: &File, byte: u64) -> io::Result<bool> {
    let mut lock = request(Kind::Write, byte);
    ofd(file, OFD_GETLK, &mut lock)?;
    // The field's integer type differs between systems; the values are small.
    Ok(i64::from(lock.l_type) != libc::F_UNLCK as i64)
}

/// What a request asks for.
#[derive(Clone, Copy)]
enum Kind {
    Write,
    Unlock,
}

/// A lock request of `kind` on one byte.
fn request(kind: Kind, byte: u64) -> libc::flock {
    // SAFETY: `flock` is plain old data; all zeroes is a valid value (and
    // `l_pid` must be 0 for open-file-description locks).
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = match kind {
        Kind::Write => libc::F_WRLCK,
        Kind::Unlock => libc::F_UNLCK,
    } as _;
    lock.l_whence = libc::SEEK_SET as _;
    lock.l_start = byte as _;
    lock.l_len = 1;
    lock
}

#[cfg(linux)]
const OFD_SETLK: libc::c_int = libc::F_OFD_SETLK;
#[cfg(linux)]
const OFD_GETLK: libc::c_int = libc::F_OFD_GETLK;
// Never called elsewhere: `supported` refuses first.
#[cfg(not(linux))]
const OFD_SETLK: libc::c_int = -1;
#[cfg(not(linux))]
const OFD_GETLK: libc::c_int = -1;

/// One `fcntl` lock command, retried if a signal interrupts it.
fn ofd(file: &File, command: libc::c_int, lock: &mut libc::flock) -> io::Result<()> {
    supported().map_err(|_| io::Error::from(io::ErrorKind::Unsupported))?;
    loop {
        // SAFETY: a valid descriptor (`file` lives), a lock command and a
        // pointer to a `flock` that outlives the call.
        let done = unsafe { libc::fcntl(file.as_raw_fd(), command, lock as *mut libc::flock) };
        if done != -1 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

// Not under Miri: these ask the kernel for file locks, which Miri's isolated
// interpreter cannot open files for, let alone lock (the processes tests
// check custody with real processes instead).
#[cfg(all(test, linux, not(miri)))]
mod tests {
    use super::*;

    fn scratch(name: &str) -> (std::path::PathBuf, File) {
        let path = std::env::temp_dir().join(std::format!(
            "doorway-custody-{name}-{}",
            std::process::id()
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        (path, file)
    }

    #[test]
    fn two_descriptions_in_one_process_conflict() {
        let (path, file) = scratch("conflict");
        let a = Description::reopen(&path, &file).unwrap();
        let b = Description::reopen(&path, &file).unwrap();
        assert!(a.try_lock(7).unwrap());
        assert!(
            a.try_lock(7).unwrap(),
            "a description's own lock is its own"
        );
        assert!(!b.try_lock(7).unwrap(), "another description is refused");
        assert!(b.try_lock(8).unwrap(), "other bytes are free");
        assert!(is_held(&file, 7).unwrap());
        a.unlock(7).unwrap();
        assert!(!is_held(&file, 7).unwrap());
        assert!(b.try_lock(7).unwrap(), "granted once given back");
        drop(a);
        drop(b);
        assert!(
            !is_held(&file, 7).unwrap() && !is_held(&file, 8).unwrap(),
            "closing gives every lock back"
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_replaced_file_is_refused() {
        let (path, file) = scratch("replaced");
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"another").unwrap();
        assert!(matches!(
            Description::reopen(&path, &file),
            Err(Error::Insecure(_))
        ));
        std::fs::remove_file(&path).unwrap();
    }
}
