//! The Paxos register, the Paxos log and the bakery in a file that unrelated
//! processes map: agreement and mutual exclusion that survive `kill -9`
//! (feature `shm`; Linux, where the kernel says who has died).
//!
//! Disk Paxos was meant for a disk shared by machines (sanlock runs it over
//! shared storage to hold leases). Here the disk is a file mapped by the
//! processes of one machine, and the code that runs over it is the code the
//! loom models check: the register's attempt over a storage trait, the
//! bakery's functions over its `Registers`, and the recovery protocol of
//! `robust` over its claim words and its custody.
//!
//! ```
//! use doorway::shm::{Options, Shared};
//!
//! let dir = std::env::temp_dir().join(format!("doorway-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("example.doorway");
//!
//! // Three participants, a register and a log of u64, a bakery over a u64.
//! let file = Shared::<u64, u64>::create(&path, &Options::new(3).log_capacity(8))?;
//! let mut me = file.join()?; // claims a free participant for this process
//! assert_eq!(me.propose(7)?, 7); // alone, it decides its own value
//! assert_eq!(me.append(40)?, 0); // first slot of the log
//! {
//!     let mut counter = me.lock();
//!     assert!(!counter.owner_died());
//!     counter.set(&(counter.get() + 1));
//! }
//!
//! // Another process (here, another handle) opens the same file.
//! let other = Shared::<u64, u64>::open(&path)?;
//! assert_eq!(other.decided()?, Some(7));
//! assert_eq!(other.log_entries()?, [40]);
//! drop(me);
//! drop((file, other));
//! std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The file
//!
//! A 128-byte header with a magic number, a format version and the layout
//! (participants, block kind, value size and alignment, data size and
//! alignment, log capacity, total length, a checksum) is checked on every
//! open against the types the process asks for; see [`Layout`] for the
//! format. Values live in the file, so they are plain bytes: `T` and `D` are
//! [`Pod`], and are copied in and out as 32-bit words with atomic loads and
//! stores.
//!
//! # Who gets in
//!
//! - [`Shared::create`] makes the file readable and writable by its owner
//!   only (mode `0o600`, exactly, whatever the umask) unless
//!   [`Options::mode`] says otherwise. It writes the whole file under a
//!   short temporary name (`O_CREAT | O_EXCL`, which follows no symlink) and
//!   publishes it with `link(2)`, which fails if anything, a planted symlink
//!   included, already has the name: a file under its final name is always
//!   complete. A creator killed half-way leaves its temporary file behind
//!   until the next `create` in that directory, which removes it once the
//!   kernel says its creator is gone.
//! - [`Shared::open`] opens with `O_NOFOLLOW`, and refuses
//!   ([`Error::Insecure`]) anything but a regular file owned by the calling user (unless
//!   [`Options::allow_other_owner`]), a header that does not check out, and a
//!   length other than the layout's.
//! - Everything read from the mapping is checked before use: blocks
//!   (ballots, votes, input indices), decision words, latch counters,
//!   claim words. A process that writes garbage into the file can break
//!   agreement or exclusion among those who share it, or stop their
//!   progress, but cannot make another process read out of bounds, panic or
//!   hit undefined behaviour: every access to the mapping is atomic, every
//!   offset comes from the checked layout, and any bytes are a valid `Pod`.
//!   A register or log operation that meets words no honest participant
//!   writes returns [`Error::Corrupt`] without deciding.
//! - [`Options::mode`] refuses a mode that gives anyone read access without
//!   write access: a reader could place byte locks that keep participants
//!   from being claimed or recovered. Such a lock, however it got there (a
//!   process of the same user, or root), is reported as
//!   [`Error::Interference`] by [`Shared::join`], [`Shared::recover_dead`]
//!   and a waiter ([`Member::lock_checked`]), never taken for a live member.
//! - **The path is the lock's name, so the file must stay at it while
//!   anyone uses it.** A process that removes or renames the file, or puts
//!   another file at its path (`rm`, `mv`, a new `create` after a removal),
//!   splits the processes in two: the members already in keep the old file,
//!   newcomers open the new one, and two locks and two registers run side by
//!   side, each unaware of the other. doorway cannot prevent it (anyone who
//!   may write the directory may do it); it notices it wherever that costs
//!   nothing on the lock path: [`Shared::check`] (one `lstat`),
//!   [`Shared::join`], [`Shared::recover_dead`] and a waiter that looks for
//!   the dead report [`Error::Replaced`]. So a service should place its
//!   file in a directory of its own that only its user can write (not a
//!   shared `/tmp`; under `$XDG_RUNTIME_DIR` or `/run/<service>`, say), open
//!   it with [`Shared::open_or_create`] and never remove it while it may be
//!   in use: leave it in place between runs (its participants are recovered
//!   as their owners die), and remove it, if at all, only once every process
//!   that uses it is known to be gone (at the service's uninstall, or from a
//!   supervisor that has stopped them all). A process that wants to know can
//!   call [`Shared::check`] now and then, and treat [`Error::Replaced`] as a
//!   reason to stop.
//! - Not covered: a process that truncates the file while others have it
//!   mapped makes their next touch of a lost page raise `SIGBUS` (the
//!   kernel's rule for shared file mappings); such a process runs as the
//!   same user (the file is `0o600`) and could as well kill them. Open
//!   checks the length; [`Shared::check`] checks it again, and a
//!   [`Member`] dropped after a truncation gives its participant up without
//!   touching the mapping.
//!
//! # Who is alive: the kernel's word
//!
//! A process owns a participant by holding an open-file-description lock
//! (`F_OFD_SETLK`) on one byte of the file, the participant's, for as long as
//! it owns it, on an open file description of its own that it holds by a
//! one-page mapping (`PROT_NONE`, `MADV_DONTFORK`), not by a descriptor: the
//! descriptor is closed right after the lock is granted. So no descriptor
//! operation of the process (`close`, `close_range`, `dup2` over it, a
//! library that closes every descriptor) can give the lock back; doorway
//! keeps no descriptor at all once a call returns. The kernel gives the
//! lock back when the process lets go (an `munmap`), exits, is killed or
//! execs, and only then; another process learns of a death only by being
//! granted that byte without waiting, and the grant makes it the
//! participant's only custodian while it clears the registers. Nothing
//! reads `/proc`, a pid, a start time, a boot id or a clock, so pid and time
//! namespaces, `hidepid`, and a holder whose main thread has exited change
//! nothing: a live process, stopped or not, is never judged dead. Lock and
//! unlock make no system call; a waiter asks the kernel about the
//! participants holding it up only after waiting a while, on a description
//! it opens by path for each look (a waiter out of descriptors cannot ask,
//! and so cannot clear the dead until it can; it never takes anyone for
//! dead).
//!
//! Other systems have no such locks: there [`Shared::create`] and
//! [`Shared::open`] return [`Error::Unsupported`].
//!
//! # Crash semantics
//!
//! - **Paxos**: a process killed at any instant never blocks the others, and
//!   agreement holds: a proposer's block is written only by its owner, and
//!   its state is in the file. A process that claims the participant of a dead one
//!   goes on with that one's proposals (Disk Paxos's recovery): its ballots
//!   start above the dead one's promise, and an input the dead one already
//!   wrote stays (a value others may have adopted is never overwritten).
//! - **Bakery**: waiters sleep on a futex word of their own in the file
//!   (shared between processes), woken by the process whose exit lets them
//!   through. A sleeper with at most two tickets ahead of it (the holder's
//!   and the next waiter's) sleeps 2 ms at most, so a waker killed between its exit and its wake (or a
//!   waiter killed just ahead of it) strands nobody; deeper sleepers sleep up
//!   to 100 ms, and a process that takes the lock nudges the sleepers on
//!   itself and on the waiter just behind it, whose places have just come
//!   near the head (so 64 sleepers cost a few thousand wakes a second, not
//!   32,000). A death deeper in line holds nobody up until it is near the
//!   head; a sleeper that missed its nudge in a race learns of it at its
//!   100 ms bound. A process that dies holding or
//!   waiting leaves its ticket (or `choosing`) behind; a waiter that waits
//!   long, and every waiter before and after each sleep, asks the kernel for
//!   the byte of the participant at the head of the line and of any in its
//!   doorway (a dead one further back holds nobody up until it is the head),
//!   and clears the registers of those it is granted by the recovery rule;
//!   the next holder learns from [`Guard::owner_died`] that a previous
//!   holder died in the critical section (as a robust pthread mutex returns
//!   `EOWNERDEAD`), until a holder calls [`Guard::mark_consistent`]. A
//!   holder that unwinds from a panic raises the same flag. The heir of a dead participant wakes
//!   whoever sleeps behind it, as its exit would have. One trace of a death
//!   stays: a process killed while asleep leaves the file's count of
//!   sleepers raised, so from then on every exit reads each participant's
//!   wake word (loads, no system call) before it finds nobody to wake.
//! - **exec**: the address space goes, and the mapping that held the
//!   member's description with it, so a process that execs leaves its
//!   participants as a death does (a robust pthread mutex is released at
//!   exec too); the new program is not a participant.
//! - **fork**: a child inherits nothing of its parent's custody (the
//!   descriptor is closed, the page is `MADV_DONTFORK`), so a parent's
//!   participants are its own: when the parent dies they are recovered,
//!   children alive or not. A [`Member`] or [`Guard`] refuses to act in the
//!   child (it panics, naming fork) and its drop there leaves the file alone;
//!   the child opens the file (or uses the inherited [`Shared`]) and joins
//!   for a participant of its own, as any newcomer does.
//! - **Stopped** (`SIGSTOP`, a debugger): a stopped process is alive. A
//!   stopped holder blocks the bakery, and so does a stopped waiter that is
//!   first in line, since a first-come-first-served lock serves it next (a
//!   robust mutex or `flock` would let another waiter in, which is the
//!   fairness they do not promise). The Paxos register and log go on
//!   deciding.
//! - **Participants**: one whose owner died is claimed again only after its
//!   registers are cleared, by one custodian at a time (see the recovery
//!   protocol in the crate's `robust` module, whose loom models check
//!   exactly this code).

mod custody;
mod file;
mod fork;
mod futex;
mod header;
mod mapping;
mod opening;
mod register;

pub use bytemuck::{Pod, Zeroable};
pub use file::{Guard, Member, Options, ParticipantState, Shared};
pub use header::{
    HEADER_BYTES, Layout, MAX_FILE_BYTES, MAX_LOG_CAPACITY, MAX_PARTICIPANTS, MAX_VALUE_BYTES,
    VERSION,
};

use core::fmt;
use std::io;
use std::string::ToString;

/// Why a shared file could not be opened or used.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused (open, map, link, …).
    Io(io::Error),
    /// The file does not start with doorway's magic number.
    NotDoorway,
    /// The file has another format version.
    Version {
        /// The version in the file.
        found: u32,
        /// The version this crate reads.
        supported: u32,
    },
    /// The header is damaged or describes an impossible layout.
    Header(&'static str),
    /// The file holds another layout than the types it is opened with.
    Layout {
        /// Which part differs.
        what: &'static str,
        /// As the file says.
        file: u64,
        /// As the caller's types (or options) say.
        expected: u64,
    },
    /// The file is shorter or longer than its header says (truncated, or
    /// being resized).
    Length {
        /// Bytes found.
        found: u64,
        /// Bytes expected.
        expected: u64,
    },
    /// The file is not one this process should trust: not a regular file,
    /// a symlink, or owned by another user.
    Insecure(&'static str),
    /// Every participant has a live owner.
    Full,
    /// The path no longer names the file this handle mapped: it was removed,
    /// renamed away, or replaced by another file. Processes that open the
    /// path now share another file, and another lock, than this handle's
    /// members (see the module documentation's security model).
    Replaced(&'static str),
    /// A lock that no member places stands on a participant's byte: a read
    /// lock, or a lock on another range than the one byte a member locks
    /// (the whole file, say). While it stands, the participant can be neither
    /// claimed nor recovered. Placed by a process that opened the file
    /// (for reading is enough for a read lock), not by doorway.
    Interference {
        /// The participant whose byte it covers.
        participant: usize,
        /// A write lock (else a read lock).
        write: bool,
        /// Its first byte.
        start: u64,
        /// Its length in bytes; 0: to the end of the file.
        len: u64,
    },
    /// The file holds words no honest participant writes.
    Corrupt {
        /// Where: "block", "decision", "input", "own block".
        what: &'static str,
        /// Which register (0, or the log slot plus one), or slot.
        at: usize,
    },
    /// Every slot of the log is decided.
    LogFull,
    /// A register ran out of ballots (after about 2²⁸ / participants
    /// preemptions, or a promise someone scribbled at the top).
    OutOfBallots,
    /// Not available on this system.
    Unsupported(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "doorway shared file: {e}"),
            Error::NotDoorway => f.write_str("not a doorway shared file (bad magic number)"),
            Error::Version { found, supported } => write!(
                f,
                "doorway shared file of format version {found}; this crate reads version {supported}"
            ),
            Error::Header(why) => write!(f, "doorway shared file: bad header: {why}"),
            Error::Layout {
                what,
                file,
                expected,
            } => write!(
                f,
                "doorway shared file holds another layout: {what} is {file} in the file, {expected} here"
            ),
            Error::Length { found, expected } => write!(
                f,
                "doorway shared file is {found} bytes long, expected {expected} (truncated or resized)"
            ),
            Error::Insecure(why) => write!(f, "doorway shared file refused: {why}"),
            Error::Full => {
                f.write_str("every participant of the doorway shared file has a live owner")
            }
            Error::Replaced(why) => write!(f, "doorway shared file replaced: {why}"),
            Error::Interference {
                participant,
                write,
                start,
                len,
            } => write!(
                f,
                "doorway shared file: interference: a {} lock on bytes {start}..{} that no \
                 member places stands on participant {participant}'s byte",
                if *write { "write" } else { "read" },
                if *len == 0 {
                    "end".to_string()
                } else {
                    (start + len).to_string()
                }
            ),
            Error::Corrupt { what, at } => write!(
                f,
                "doorway shared file is corrupt: a {what} at {at} holds words no participant writes"
            ),
            Error::LogFull => f.write_str("every slot of the shared Paxos log is decided"),
            Error::OutOfBallots => f.write_str("a shared Paxos register ran out of ballots"),
            Error::Unsupported(why) => write!(f, "doorway shared file: unsupported: {why}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// Test hooks for doorway's own fuzz tests: the checked decodings, callable
/// on any words (feature `__test_hooks` only).
#[cfg(hooks)]
#[doc(hidden)]
pub mod decode {
    /// `Block::checked_from_fields` (crate-private): the
    /// re-encoded fields of a block proposer `owner` of `n` could have
    /// written, or `None`.
    pub fn block(fields: [u32; 3], owner: usize, n: usize) -> Option<[u32; 3]> {
        let limit = super::register::ballot_limit(n)?;
        crate::paxos::ballot::Block::checked_from_fields(fields, owner, n, limit)
            .map(|block| block.to_fields())
    }

    /// A 64-bit word block, checked the same way.
    pub fn word_block(word: u64, owner: usize, n: usize) -> Option<[u32; 3]> {
        block(crate::paxos::ballot::Block::word_fields(word), owner, n)
    }

    /// A decision word among `n` proposers: `Ok(None)` undecided,
    /// `Ok(Some(i))` decided input `i < n`, `Err(())` corrupt.
    #[allow(clippy::result_unit_err)]
    pub fn decision(word: u32, n: usize) -> Result<Option<usize>, ()> {
        super::register::decode_decision(word, n).ok_or(())
    }
}
