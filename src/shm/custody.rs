//! Who holds a participant, as the kernel says: open-file-description locks
//! on one byte of the file per participant (Linux's `F_OFD_SETLK`), each
//! held by a mapping rather than by a descriptor.
//!
//! # The rule
//!
//! Participant `i`'s custodian holds a write lock on byte
//! [`Regions::claim_byte`](super::header::Regions::claim_byte)`(i)` of the
//! file, on an open file description of its own, for as long as it has the
//! participant: an owner for its whole ownership, a recoverer for the few
//! stores of the recovery rule. Everyone else asks for that byte without
//! waiting; being refused means someone holds the participant, being granted
//! means nobody does, and the grant is custody.
//!
//! Custody is taken on a fresh description, opened by path for this one
//! grant ([`Description::open`], which checks that the path still names the
//! mapped file); once the lock is granted, one page of that description is
//! mapped (`PROT_NONE`, `MAP_SHARED`, `MADV_DONTFORK`) and the descriptor is
//! closed at once ([`Description::hold`]). What is left is a [`Hold`]: a
//! mapping, which no `close`, `close_range` or `dup2` can touch, and whose
//! `munmap` is the only way this process gives the lock back. No descriptor
//! of doorway's outlives the call that opened it, so doorway never makes a
//! lock request on a descriptor number that someone else may have closed and
//! reused.
//!
//! # What the kernel guarantees, and what this relies on
//!
//! 1. **A lock belongs to an open file description**, not to a process or a
//!    thread. It conflicts with a lock on any other description of the same
//!    file, whether in another process or in this one; so every custody is
//!    taken on a description of its own, and nothing else ever locks a
//!    participant's byte.
//! 2. **It is given back only when its holder lets go or can no longer
//!    act**: an explicit unlock, or the freeing of the description, which
//!    happens when its last reference goes: descriptors and mappings alike.
//!    A [`Hold`] is the only reference (its descriptor is closed), so the
//!    lock goes with its `munmap`, or with the address space: when the
//!    process exits or is killed (after its last instruction) and when it
//!    execs (checked on this kernel, 6.18). A stopped (`SIGSTOP`) or traced
//!    process keeps its locks, and so does a process whose main thread has
//!    exited while others run. A forked child inherits neither the
//!    descriptor (closed) nor the page (`MADV_DONTFORK`): it holds nothing
//!    of its parent's custody, so the parent's death frees its participants
//!    while the child lives.
//! 3. **Asking never guesses**: `F_OFD_SETLK` grants or refuses (`EAGAIN`)
//!    from the kernel's own record of locks on the inode. No `/proc`, pid,
//!    start time, boot id or clock is read, so pid namespaces, time
//!    namespaces, `hidepid`, a recycled pid or a dead leader thread change
//!    nothing. An error other than a refusal (out of descriptors, out of lock
//!    records) is never read as a grant: the caller treats the participant
//!    as held.
//! 4. **A grant is ordered after the previous holder's stores**: the kernel
//!    changes an inode's locks under a lock of its own, which the releasing
//!    side (an `munmap` or the teardown after a process's last step) takes
//!    after the holder's stores to the mapping and the granting side takes
//!    before the taker's loads.
//!
//! # Locks no member places
//!
//! Every lock doorway places is a write lock on exactly one claim byte. A
//! refused request asks the kernel what is in the way (`F_OFD_GETLK`, which
//! names the type and range of one conflicting lock): a read lock (placed
//! by anyone who can open the file for reading), or a lock on any other range
//! (the whole file, say), is interference ([`Conflict::is_foreign`]), which
//! the caller reports as [`Error::Interference`] rather than as a live owner.
//!
//! # What is left
//!
//! Between the `open` of a fresh description and the close that follows its
//! mapping (a few system calls), a `close` in another thread of the process
//! can still end the description; a close of a descriptor one does not own
//! breaks Rust's I/O safety, and this window is the only one it can reach.
//!
//! [`Error::Interference`]: super::Error::Interference

use std::fs::{File, Metadata};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::Error;
use super::fork::Born;

/// The byte a creator holds while it writes a new file under its temporary
/// name, so that a later creator can tell a file still being written from one
/// whose creator is gone. Held on the creator's own descriptor (not a
/// [`Hold`]): a stray close there only makes a concurrent creator's sweep
/// remove the temporary name, and the creator starts again under a new one.
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

/// Which file: its device and inode, recorded when it was opened and mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    pub(crate) fn of(meta: &Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// What the path names now, without following a symlink: its metadata if it
/// is still the file `id`, else [`Error::Replaced`].
pub(crate) fn at_path(path: &Path, id: FileId) -> Result<Metadata, Error> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if FileId::of(&meta) == id => Ok(meta),
        Ok(_) => Err(Error::Replaced(
            "the path names another file than the one mapped (replaced, or renamed over)",
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::Replaced(
            "the path names no file any more (the mapped file was removed or renamed away)",
        )),
        Err(e) => Err(Error::Io(e)),
    }
}

/// An open file description of the shared file, private to one custodian
/// for one grant: the locks it holds are its own (guarantee 1).
#[derive(Debug)]
pub(crate) struct Description {
    file: File,
}

impl Description {
    /// Opens `path` again, as a new description, and checks that it is the
    /// very file `id` names (not another one put there since).
    pub(crate) fn open(path: &Path, id: FileId) -> Result<Self, Error> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ENOENT) => at_path(path, id).err().unwrap_or(Error::Io(e)),
                Some(libc::ELOOP) => Error::Replaced("the path names a symlink now"),
                _ => Error::Io(e),
            })?;
        if FileId::of(&file.metadata()?) != id {
            return Err(Error::Replaced(
                "the path names another file than the one mapped (replaced, or renamed over)",
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

    /// The description's file, to keep.
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

    /// A lock that some other description holds in the way of a write lock
    /// on `byte`, if any: a report, stale as soon as it is made
    /// (`F_OFD_GETLK` takes nothing).
    pub(crate) fn conflict(&self, byte: u64) -> io::Result<Option<Conflict>> {
        let mut lock = request(Kind::Write, byte);
        ofd(&self.file, OFD_GETLK, &mut lock)?;
        // The fields' integer types differ between systems; the values are
        // small, and start and length are never negative in an answer.
        let kind = i64::from(lock.l_type);
        if kind == libc::F_UNLCK as i64 {
            return Ok(None);
        }
        Ok(Some(Conflict {
            write: kind == libc::F_WRLCK as i64,
            start: lock.l_start as u64,
            len: lock.l_len as u64,
        }))
    }

    /// Keeps this description's locks for as long as the returned [`Hold`]
    /// lives, and closes the descriptor: maps one page of the description
    /// (`PROT_NONE`, `MAP_SHARED`; the mapping holds the description), marks
    /// it `MADV_DONTFORK` (a child inherits nothing). If the system refuses,
    /// the descriptor is closed all the same, and its locks with it.
    pub(crate) fn hold(self) -> io::Result<Hold> {
        let page = page_bytes();
        // SAFETY: a new mapping chosen by the kernel (no address asked for),
        // of a descriptor that is open (`self.file` lives until the end of
        // this function); `PROT_NONE`: nothing can read or write it.
        let addr = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                page,
                libc::PROT_NONE,
                libc::MAP_SHARED,
                self.file.as_raw_fd(),
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let hold = Hold {
            addr: addr as usize,
            born: Born::now(),
        };
        // SAFETY: the page just mapped, whole.
        if unsafe { libc::madvise(addr, page, libc::MADV_DONTFORK) } != 0 {
            // Dropping `hold` unmaps it: a child could otherwise inherit it.
            return Err(io::Error::last_os_error());
        }
        drop(self.file);
        Ok(hold)
    }
}

/// A lock found in the way of a write lock on a claim byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Conflict {
    /// A write lock (else a read lock).
    pub(crate) write: bool,
    /// Its first byte.
    pub(crate) start: u64,
    /// Its length; 0: to the end of the file, however long.
    pub(crate) len: u64,
}

impl Conflict {
    /// Whether no member could have placed it: members place write locks on
    /// exactly one claim byte, `byte` here.
    pub(crate) fn is_foreign(&self, byte: u64) -> bool {
        !(self.write && self.start == byte && self.len == 1)
    }

    /// The error that names this lock, found in the way of `participant`.
    pub(crate) fn interference(&self, participant: usize) -> Error {
        Error::Interference {
            participant,
            write: self.write,
            start: self.start,
            len: self.len,
        }
    }
}

/// The locks of one description, held by a one-page mapping of it (see the
/// module documentation); dropping it unmaps the page, which gives them back.
/// In a forked child it does nothing: the page is not there
/// (`MADV_DONTFORK`), and its address may be another mapping's.
#[derive(Debug)]
pub(crate) struct Hold {
    addr: usize,
    born: Born,
}

impl Hold {
    /// Keeps the locks until the process ends: the page stays mapped.
    pub(crate) fn keep_until_exit(self) {
        core::mem::forget(self);
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if !self.born.is_here() {
            return;
        }
        // SAFETY: the page this hold mapped, in this very process (checked
        // above), mapped `PROT_NONE`: nothing refers into it. An error would
        // leave the lock held until the process ends: the participant looks
        // owned a while longer, which never lets two custodians in.
        unsafe { libc::munmap(self.addr as *mut libc::c_void, page_bytes()) };
    }
}

fn page_bytes() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page)
        .ok()
        .filter(|&p| p > 0)
        .unwrap_or(4096)
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

    /// A file, its id, and a descriptor that keeps its inode (and so its
    /// number) from being reused, as a `Shared`'s mapping does.
    fn scratch(name: &str) -> (std::path::PathBuf, FileId, File) {
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
        file.set_len(256).unwrap();
        let id = FileId::of(&file.metadata().unwrap());
        (path, id, file)
    }

    #[test]
    fn two_descriptions_in_one_process_conflict() {
        let (path, id, _keep) = scratch("conflict");
        let a = Description::open(&path, id).unwrap();
        let b = Description::open(&path, id).unwrap();
        assert!(a.try_lock(7).unwrap());
        assert!(
            a.try_lock(7).unwrap(),
            "a description's own lock is its own"
        );
        assert!(!b.try_lock(7).unwrap(), "another description is refused");
        assert!(b.try_lock(8).unwrap(), "other bytes are free");
        let seen = b.conflict(7).unwrap().expect("held");
        assert!(!seen.is_foreign(7), "a member's lock: {seen:?}");
        a.unlock(7).unwrap();
        assert_eq!(b.conflict(7).unwrap(), None);
        assert!(b.try_lock(7).unwrap(), "granted once given back");
        drop(a);
        let c = Description::open(&path, id).unwrap();
        drop(b);
        assert!(
            c.conflict(7).unwrap().is_none() && c.conflict(8).unwrap().is_none(),
            "closing gives every lock back"
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_hold_keeps_the_lock_with_no_descriptor_until_it_is_dropped() {
        let (path, id, _keep) = scratch("hold");
        let a = Description::open(&path, id).unwrap();
        assert!(a.try_lock(9).unwrap());
        let hold = a.hold().unwrap();
        let b = Description::open(&path, id).unwrap();
        assert!(!b.try_lock(9).unwrap(), "held by the mapping alone");
        drop(hold);
        assert!(
            b.try_lock(9).unwrap(),
            "the unmapping gives it back at once"
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn read_locks_and_other_ranges_are_foreign() {
        let (path, id, _keep) = scratch("foreign");
        let reader = std::fs::File::open(&path).unwrap();
        let mut lock = request(Kind::Write, 5);
        lock.l_type = libc::F_RDLCK as _;
        ofd(&reader, OFD_SETLK, &mut lock).unwrap();
        let asker = Description::open(&path, id).unwrap();
        assert!(!asker.try_lock(5).unwrap());
        let seen = asker.conflict(5).unwrap().expect("read-locked");
        assert!(!seen.write && seen.is_foreign(5), "{seen:?}");
        drop(reader);
        let whole = Description::open(&path, id).unwrap();
        let mut lock = request(Kind::Write, 0);
        lock.l_len = 0;
        ofd(whole.file(), OFD_SETLK, &mut lock).unwrap();
        let seen = asker.conflict(5).unwrap().expect("write-locked whole");
        assert!(seen.write && seen.is_foreign(5), "{seen:?}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_replaced_or_removed_file_is_named() {
        let (path, id, _keep) = scratch("replaced");
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            Description::open(&path, id),
            Err(Error::Replaced(_))
        ));
        assert!(matches!(at_path(&path, id), Err(Error::Replaced(_))));
        std::fs::write(&path, b"another").unwrap();
        assert!(matches!(
            Description::open(&path, id),
            Err(Error::Replaced(_))
        ));
        assert!(matches!(at_path(&path, id), Err(Error::Replaced(_))));
        std::fs::remove_file(&path).unwrap();
    }
}
