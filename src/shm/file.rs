//! The mapped file and the handles on it: [`Shared`] (the file),
//! [`Member`] (a participant this process owns) and [`Guard`] (the
//! bakery held).

use super::Error;
use super::custody::{self, Description, Hold};
use super::fork::Born;
use super::futex::SharedFutex;
use super::header::Layout;
use super::mapping::Mapped;
use super::opening::{create_file, open_file};
use super::register::FileRegister;
use crate::bakery::over::{Registers, TICKET_LIMIT};
use crate::paxos::block::{BlockCell, NativeBlock};
use crate::paxos::steps::{Unbounded, unstoppable};
use crate::robust::{self, Claims, Custody, FREE, Owner};
use crate::sync::sleep::{Parking, sleep_on, wake_sleepers_on};
use crate::sync::{AtomicU8, AtomicU32, AtomicU64, Nap, Ordering::Relaxed};
use bytemuck::Pod;
use core::marker::PhantomData;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::vec::Vec;

impl Mapped {
    fn claims(&self) -> FileClaims<'_> {
        FileClaims(self)
    }
}

/// The claim words and bakery registers of a mapped file, for the
/// recovery protocol and the bakery's functions.
struct FileClaims<'m>(&'m Mapped);

impl Registers for FileClaims<'_> {
    fn len(&self) -> usize {
        self.0.layout.participants
    }

    fn choosing(&self, i: usize) -> &AtomicU8 {
        assert!(i < self.0.layout.participants);
        self.0.u8_at(self.0.regions.choosing + i)
    }

    fn number(&self, i: usize) -> &AtomicU32 {
        assert!(i < self.0.layout.participants);
        self.0.u32_at(self.0.regions.numbers + 4 * i)
    }

    fn ticket_limit(&self) -> u32 {
        TICKET_LIMIT
    }

    fn sleep(&self, me: usize, on: usize, still_blocked: impl FnOnce() -> bool, nap: Nap) {
        sleep_on(
            &SharedFutex,
            self.0.asleep(),
            self.0.wake_word(me),
            on,
            still_blocked,
            nap,
        );
    }

    fn wake_sleepers_on(&self, me: usize) {
        // A `SeqCst` fence, not an asymmetric one: the sleepers are in other
        // processes.
        SharedFutex.fence_to_wake();
        let n = self.0.layout.participants;
        let words = (0..n).map(|i| self.0.wake_word(i));
        wake_sleepers_on(&SharedFutex, self.0.asleep(), words, me);
    }
}

impl Claims for FileClaims<'_> {
    type Registers = Self;

    fn len(&self) -> usize {
        self.0.layout.participants
    }

    fn claim_word(&self, i: usize) -> &AtomicU64 {
        self.0.claim_word(i)
    }

    fn registers(&self) -> &Self {
        self
    }

    fn inside(&self, i: usize) -> &AtomicU32 {
        self.0.inside(i)
    }

    fn owner_died(&self) -> &AtomicU32 {
        self.0.owner_died()
    }

    fn anyone_asleep(&self) -> bool {
        // Relaxed: a hint for a nudge (see `nudge_sleepers_on`).
        self.0.asleep().load(Relaxed) != 0
    }

    fn nudge_sleepers_on(&self, on: usize) {
        // No fence: a nudge, never the wake a sleeper relies on (see
        // `robust::LONGEST_DEEP_SLEEP`). The same wake as an exit's
        // otherwise: it clears the word first, so a sleeper that has not yet
        // gone to sleep on it does not.
        let n = self.0.layout.participants;
        let words = (0..n).map(|i| self.0.wake_word(i));
        wake_sleepers_on(&SharedFutex, self.0.asleep(), words, on);
    }
}

/// Custody of a file's participants as the kernel's byte locks (see
/// [`custody`]): each grant on a fresh description opened by path, held by
/// a mapping of it.
struct Bytes<'a> {
    m: &'a Mapped,
    path: &'a Path,
    /// The custody this caller has: a member's own participant, and for a
    /// few stores one it is recovering.
    held: Mutex<Vec<(usize, Hold)>>,
    /// What stops this caller from ever learning of a death: a lock no
    /// member places, or a path that names another file.
    trouble: Mutex<Option<Error>>,
    /// Whether `trouble` may hold something: one load on the lock path.
    troubled: AtomicBool,
}

impl<'a> Bytes<'a> {
    fn new(m: &'a Mapped, path: &'a Path) -> Self {
        Self {
            m,
            path,
            held: Mutex::new(Vec::new()),
            trouble: Mutex::new(None),
            troubled: AtomicBool::new(false),
        }
    }

    /// The trouble met, if any (taken).
    fn trouble(&self) -> Option<Error> {
        // Relaxed: this flag and `trouble` are only this caller's (a member
        // is used by one thread at a time, `&mut`); the mutex orders the rest.
        if !self.troubled.load(Relaxed) {
            return None;
        }
        self.troubled.store(false, Relaxed);
        lock(&self.trouble).take()
    }

    /// Keeps the first trouble met (the one a caller is told of).
    fn note(&self, trouble: Error) {
        lock(&self.trouble).get_or_insert(trouble);
        // Relaxed: see `trouble`.
        self.troubled.store(true, Relaxed);
    }

    /// Takes custody of `i` on a fresh description (see [`Custody`]), noting
    /// a replaced file or a lock no member places.
    fn take(&self, i: usize) -> Result<bool, Error> {
        let byte = self.m.claim_byte(i);
        let description = match Description::open(self.path, self.m.id) {
            Ok(description) => description,
            Err(Error::Replaced(why)) => {
                self.note(Error::Replaced(why));
                return Err(Error::Replaced(why));
            }
            Err(e) => return Err(e),
        };
        if description.try_lock(byte)? {
            let hold = description.hold()?;
            lock(&self.held).push((i, hold));
            return Ok(true);
        }
        if let Some(seen) = description.conflict(byte)?
            && seen.is_foreign(byte)
        {
            self.note(seen.interference(i));
        }
        Ok(false)
    }

    /// The hold on `i`, taken out of this custody.
    fn take_hold(&self, i: usize) -> Option<Hold> {
        let mut held = lock(&self.held);
        let k = held.iter().position(|&(j, _)| j == i)?;
        Some(held.swap_remove(k).1)
    }
}

/// A mutex of this module's, which no panic while holding poisons for good.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Custody for Bytes<'_> {
    type Error = Error;

    fn try_take(&self, i: usize) -> Result<bool, Error> {
        self.take(i)
    }

    fn give_back(&self, i: usize) {
        // Unmapping the page gives the lock back at once (an unmapping that
        // fails leaves it held until the process ends: the participant looks
        // owned a while longer, which never lets two custodians in).
        drop(self.take_hold(i));
    }

    fn stuck(&self) -> bool {
        // Relaxed: see `Bytes::trouble`.
        self.troubled.load(Relaxed)
    }
}

/// How to create or open a shared file.
///
/// ```
/// let options = doorway::shm::Options::new(4).log_capacity(1024).mode(0o600);
/// assert_eq!(options.participants(), 4);
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    participants: usize,
    log_capacity: usize,
    mode: u32,
    allow_other_owner: bool,
}

impl Options {
    /// A file with `participants` participants (1 to 255), no log, mode
    /// `0o600`.
    pub fn new(participants: usize) -> Self {
        Self {
            participants,
            log_capacity: 0,
            mode: 0o600,
            allow_other_owner: false,
        }
    }

    /// Claims of the log (default 0).
    pub fn log_capacity(mut self, slots: usize) -> Self {
        self.log_capacity = slots;
        self
    }

    /// The permission bits of a file [`Shared::create`] makes (default
    /// `0o600`, readable and writable by its owner only), set exactly,
    /// whatever the umask.
    ///
    /// A mode that gives someone read access without write access (`0o644`,
    /// `0o640`) is refused with [`Error::Insecure`], by `create` and by
    /// [`Shared::open`] alike: read access lets a process do nothing through
    /// doorway (every handle opens the file for reading and writing) but
    /// read every value and the bakery's data, and place read locks on
    /// participants' bytes, which keep free participants from being claimed
    /// and dead ones from being recovered (reported as
    /// [`Error::Interference`], but a stall all the same). Give those who
    /// take part read and write access (`0o660` for a group), and nobody
    /// else either.
    ///
    /// ```
    /// use doorway::shm::{Error, Options, Shared};
    ///
    /// let path = std::env::temp_dir().join(format!("doorway-mode-{}", std::process::id()));
    /// let refused = Shared::<u64>::create(&path, &Options::new(2).mode(0o644));
    /// assert!(matches!(refused, Err(Error::Insecure(_))));
    /// ```
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode & 0o7777;
        self
    }

    /// Whether [`Shared::open`] accepts a file owned by another user
    /// (default `false`).
    pub fn allow_other_owner(mut self, allow: bool) -> Self {
        self.allow_other_owner = allow;
        self
    }

    /// The participants these options ask for.
    pub fn participants(&self) -> usize {
        self.participants
    }
}

/// What a participant's claim word says, and whether anyone holds the
/// participant: a report, stale as soon as it is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParticipantState {
    /// Nobody owns it (someone may be claiming it).
    Free,
    /// Owned by the process that called itself `pid` when it joined.
    Owned {
        /// The owner's process id, in its own pid namespace: a name for
        /// people, never used to decide anything.
        pid: u32,
        /// Whether someone holds the participant's byte lock: the owner, alive
        /// (`false` once it has died, exited or exec'd and nobody has
        /// recovered the participant yet), or for an instant a recoverer.
        alive: bool,
    },
}

/// A shared file holding a Paxos register and a Paxos log of `T`, and a
/// bakery lock over a `D`, for processes that map it.
///
/// `T` and `D` live in the file, so they are plain bytes: [`Pod`] (no
/// pointers, no invariants, any bytes valid). `B` is the block
/// representation, as for [`PaxosRegister`](crate::paxos::register::PaxosRegister). See the
/// [module documentation](super) for the format, the security model and the
/// crash semantics.
pub struct Shared<T, D = (), B = NativeBlock> {
    m: Mapped,
    /// Where the file was opened: every custody opens it again for a
    /// description of its own (and checks that it is the same file).
    path: PathBuf,
    _types: Types<T, D, B>,
}

/// The types a [`Shared`] file holds, without owning any (the values live in
/// the file).
type Types<T, D, B> = PhantomData<fn() -> (T, D, B)>;

impl<T: Pod, D: Pod, B: BlockCell> Shared<T, D, B> {
    /// The layout these types and `options` call for.
    fn layout_for(options: &Options) -> Layout {
        Layout {
            participants: options.participants,
            block_kind: B::KIND,
            value_size: size_of::<T>(),
            value_align: align_of::<T>(),
            data_size: size_of::<D>(),
            data_align: align_of::<D>(),
            log_capacity: options.log_capacity,
        }
    }

    /// Creates a new file at `path`, readable and writable by its owner only
    /// (unless [`Options::mode`] says otherwise), holding an undecided
    /// register, an empty log and a free lock over a zeroed `D`.
    ///
    /// # Errors
    ///
    /// If anything exists at `path` (a symlink included:
    /// [`io::ErrorKind::AlreadyExists`]), if the layout is impossible
    /// ([`Error::Header`]), if the mode gives read access without write
    /// access ([`Error::Insecure`], see [`Options::mode`]), or if the system
    /// refuses.
    pub fn create(path: impl AsRef<Path>, options: &Options) -> Result<Self, Error> {
        let layout = Self::layout_for(options);
        custody::supported()?;
        let header = layout.to_header()?;
        let path = path.as_ref();
        let file = create_file(path, &header, layout.file_len()?, options.mode)?;
        Self::map(file, path, layout)
    }

    /// Opens an existing file, checking its header against `T`, `D` and
    /// `B`, with the default [`Options`] (the file must belong to the
    /// calling user).
    ///
    /// # Errors
    ///
    /// [`Error::Insecure`] for a symlink, anything but a regular file, a
    /// file of another user, or a mode that gives read access without write
    /// access (see [`Options::mode`]); [`Error::NotDoorway`],
    /// [`Error::Version`], [`Error::Header`], [`Error::Layout`] or
    /// [`Error::Length`] for a file that is not one these types read; and
    /// [`Error::Io`] if the system refuses.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_with(path, &Options::new(1))
    }

    /// Opens an existing file; of `options` only
    /// [`allow_other_owner`](Options::allow_other_owner) matters (the
    /// layout is the file's).
    pub fn open_with(path: impl AsRef<Path>, options: &Options) -> Result<Self, Error> {
        custody::supported()?;
        let path = path.as_ref();
        let (file, layout) = open_file(path, options.allow_other_owner)?;
        let mine =
            Self::layout_for(&Options::new(layout.participants).log_capacity(layout.log_capacity));
        check_types(&layout, &mine)?;
        Self::map(file, path, layout)
    }

    /// Opens the file at `path` if it exists (its participants and log
    /// capacity must be `options`'), or creates it.
    pub fn open_or_create(path: impl AsRef<Path>, options: &Options) -> Result<Self, Error> {
        let path = path.as_ref();
        for _ in 0..8 {
            let opened = match Self::open_with(path, options) {
                Err(Error::Io(e)) if e.kind() == io::ErrorKind::NotFound => {
                    match Self::create(path, options) {
                        Err(Error::Io(e)) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                        created => return created,
                    }
                }
                opened => opened?,
            };
            check_types(&opened.m.layout, &Self::layout_for(options))?;
            return Ok(opened);
        }
        Err(Error::Io(io::Error::other(
            "the file kept appearing and disappearing",
        )))
    }

    fn map(file: File, path: &Path, layout: Layout) -> Result<Self, Error> {
        let regions = layout.regions()?;
        assert_eq!(size_of::<B>(), regions.block_bytes, "a block kind's size");
        let expected = regions.total as u64;
        let meta = file.metadata()?;
        let found = meta.len();
        if found != expected {
            return Err(Error::Length { found, expected });
        }
        let map = memmap2::MmapOptions::new()
            .len(regions.total)
            .map_raw(&file)?;
        // The mapping holds the file from now on; no descriptor is kept that
        // a stray close could end or a reuse could change.
        drop(file);
        let shared = Self {
            m: Mapped {
                map,
                id: custody::FileId::of(&meta),
                layout,
                regions,
            },
            path: path.to_path_buf(),
            _types: PhantomData,
        };
        // Resized, or replaced, between the open and the mapping?
        shared.check()?;
        Ok(shared)
    }

    /// The file's layout.
    pub fn layout(&self) -> Layout {
        self.m.layout
    }

    /// Checks that the path this handle was opened with still names the
    /// mapped file, and that the file still has the length its header states
    /// (a file truncated under a mapping makes touching the lost pages raise
    /// `SIGBUS`). One `lstat` of the path.
    ///
    /// # Errors
    ///
    /// [`Error::Replaced`] if the file was removed, renamed away, or
    /// replaced by another file at its path: newcomers then share another
    /// file than this handle's members (see the [module
    /// documentation](super)); [`Error::Length`] if it was truncated or
    /// extended.
    pub fn check(&self) -> Result<(), Error> {
        self.m.check(&self.path)
    }

    /// Claims a participant for this process: a free one, or one whose
    /// owner has died (after clearing its registers by the recovery rule).
    ///
    /// The member opens the file again, by the path it was opened with, for
    /// an open file description of its own, on which it holds its
    /// participant's byte lock while it lives, through a mapping of one page
    /// rather than a descriptor (see the [module documentation](super)).
    ///
    /// # Errors
    ///
    /// [`Error::Full`] if every participant was held when asked (by a live owner,
    /// or for an instant by a process claiming it or clearing a dead
    /// owner's registers); [`Error::Interference`] if none could be claimed
    /// and a lock no member places stands on a participant's byte;
    /// [`Error::Replaced`] if the path no longer names this file;
    /// [`Error::Io`] if the file cannot be opened again (out of
    /// descriptors, say) or the kernel refuses to answer for a participant.
    pub fn join(&self) -> Result<Member<'_, T, D, B>, Error> {
        let custody = Bytes::new(&self.m, &self.path);
        for participant in 0..self.m.layout.participants {
            if let Some(took_over) = self.claim(participant, &custody)? {
                return Ok(self.member(participant, custody, took_over));
            }
        }
        Err(custody.trouble().unwrap_or(Error::Full))
    }

    /// Claims participant `participant` for this process, as
    /// [`join`](Self::join) does;
    /// [`Error::Full`] if someone holds it, [`Error::Interference`] if that
    /// someone is no member.
    ///
    /// # Panics
    ///
    /// If `participant` is not below the file's participants.
    #[track_caller]
    pub fn join_as(&self, participant: usize) -> Result<Member<'_, T, D, B>, Error> {
        assert!(
            participant < self.m.layout.participants,
            "doorway shm: participant {participant} of a file with {} participants",
            self.m.layout.participants
        );
        let custody = Bytes::new(&self.m, &self.path);
        match self.claim(participant, &custody)? {
            Some(took_over) => Ok(self.member(participant, custody, took_over)),
            None => Err(custody.trouble().unwrap_or(Error::Full)),
        }
    }

    /// Claims `participant` into `custody`: `None` if someone holds it,
    /// `Some(took_over)` naming the previous owner if it had stopped.
    fn claim(&self, participant: usize, custody: &Bytes<'_>) -> Result<Option<Option<u32>>, Error> {
        let claims = self.m.claims();
        let claimed = unstoppable(robust::claim(
            &claims,
            custody,
            participant,
            this_process(),
            &mut Unbounded,
        ))?;
        Ok(claimed.map(|claimed| match claimed {
            robust::Claimed::Free => None,
            robust::Claimed::FromDead(dead) => Some(dead as u32),
        }))
    }

    fn member<'s>(
        &'s self,
        participant: usize,
        custody: Bytes<'s>,
        took_over: Option<u32>,
    ) -> Member<'s, T, D, B> {
        Member {
            file: self,
            participant,
            owner: this_process(),
            custody,
            born: Born::now(),
            took_over,
            next: None,
        }
    }

    /// The register's decided value, if any.
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] if the decision word or the input it names holds
    /// words no participant writes.
    pub fn decided(&self) -> Result<Option<T>, Error> {
        FileRegister::<T, B>::new(&self.m, 0).decided()
    }

    /// The value decided in log slot `slot`, if any (`None` beyond the
    /// capacity).
    pub fn log_get(&self, slot: usize) -> Result<Option<T>, Error> {
        if slot >= self.m.layout.log_capacity {
            return Ok(None);
        }
        FileRegister::<T, B>::new(&self.m, slot + 1).decided()
    }

    /// The participant slot whose command was decided in log slot `slot`.
    pub fn log_author(&self, slot: usize) -> Result<Option<usize>, Error> {
        if slot >= self.m.layout.log_capacity {
            return Ok(None);
        }
        FileRegister::<T, B>::new(&self.m, slot + 1).winner()
    }

    /// How many log slots are decided: a binary search over the decided
    /// prefix (a snapshot).
    pub fn log_len(&self) -> Result<usize, Error> {
        let (mut low, mut high) = (0, self.m.layout.log_capacity);
        while low < high {
            let mid = low + (high - low) / 2;
            if self.log_author(mid)?.is_some() {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        Ok(low)
    }

    /// The decided prefix of the log.
    pub fn log_entries(&self) -> Result<Vec<T>, Error> {
        let mut entries = Vec::new();
        while let Some(value) = self.log_get(entries.len())? {
            entries.push(value);
        }
        Ok(entries)
    }

    /// What every participant's claim word says, with whether someone holds
    /// each owned one (asked of the kernel, without taking anything, through
    /// a description opened for the purpose; if the path no longer names the
    /// file, or no descriptor is to be had, every owned one is reported held).
    pub fn participants(&self) -> Vec<ParticipantState> {
        let asker = Description::open(&self.path, self.m.id).ok();
        (0..self.m.layout.participants)
            .map(|i| {
                // Relaxed: a report; custody is asked of the kernel below.
                match self.m.claim_word(i).load(Relaxed) {
                    FREE => ParticipantState::Free,
                    word => ParticipantState::Owned {
                        pid: word as u32,
                        // No answer is reported as held: never as dead
                        // without the kernel's word.
                        alive: asker.as_ref().is_none_or(|asker| {
                            (asker.conflict(self.m.claim_byte(i))).map_or(true, |c| c.is_some())
                        }),
                    },
                }
            })
            .collect()
    }

    /// Clears the registers of every participant whose owner has stopped
    /// (died, exited or exec'd while owning it) and frees them; returns how
    /// many. (Waiters in the bakery do this by themselves for those in
    /// their way; a supervisor may do it eagerly.)
    ///
    /// # Errors
    ///
    /// [`Error::Interference`] if a lock no member places stands on the byte
    /// of an owned participant (it could not be recovered if its owner died);
    /// [`Error::Replaced`] if the path no longer names this file;
    /// [`Error::Io`] if no description of the file can be opened.
    pub fn recover_dead(&self) -> Result<usize, Error> {
        // Opened up front, so that a failure is reported rather than taken for
        // "nobody to recover"; it asks about the free participants, whose
        // bytes are never taken (a process may be claiming them).
        let asker = Description::open(&self.path, self.m.id)?;
        let custody = Bytes::new(&self.m, &self.path);
        let claims = self.m.claims();
        let mut recovered = 0;
        for i in 0..self.m.layout.participants {
            // Relaxed: a hint of which participants to ask about; custody decides.
            if claims.claim_word(i).load(Relaxed) != FREE {
                let done =
                    robust::recover_if_dead(&claims, &custody, i, this_process(), &mut Unbounded);
                recovered += usize::from(unstoppable(done));
            } else {
                let byte = self.m.claim_byte(i);
                if let Some(seen) = asker.conflict(byte)?
                    && seen.is_foreign(byte)
                {
                    custody.note(seen.interference(i));
                }
            }
        }
        match custody.trouble() {
            Some(trouble) => Err(trouble),
            None => Ok(recovered),
        }
    }

    /// The address of the bakery's data in this process's mapping, for
    /// data that must be shared in place rather than copied (a
    /// process-shared `pthread_mutex_t`, say). Getting it is safe; using it
    /// is up to the caller: other processes may write there at any time,
    /// and the address is valid while `self` lives.
    pub fn data_ptr(&self) -> *mut u8 {
        self.m.at(self.m.regions.data, size_of::<D>(), 4)
    }

    /// Whether some participant holds the bakery or is on its way in.
    pub fn is_locked(&self) -> bool {
        robust::is_locked(&self.m.claims())
    }
}

impl<T, D, B> core::fmt::Debug for Shared<T, D, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Shared")
            .field("layout", &self.m.layout)
            .finish_non_exhaustive()
    }
}

/// This process's name in claim words: its pid (nonzero), for reports only.
fn this_process() -> Owner {
    u64::from(std::process::id())
}

/// Checks the types a process opens a file with against the file's layout.
fn check_types(file: &Layout, mine: &Layout) -> Result<(), Error> {
    let fields = [
        ("participants", file.participants, mine.participants),
        ("the log capacity", file.log_capacity, mine.log_capacity),
        (
            "the block kind",
            file.block_kind as usize,
            mine.block_kind as usize,
        ),
        ("the value size", file.value_size, mine.value_size),
        ("the value alignment", file.value_align, mine.value_align),
        ("the data size", file.data_size, mine.data_size),
        ("the data alignment", file.data_align, mine.data_align),
    ];
    match fields.into_iter().find(|(_, a, b)| a != b) {
        None => Ok(()),
        Some((what, file, expected)) => Err(Error::Layout {
            what,
            file: file as u64,
            expected: expected as u64,
        }),
    }
}

/// A participant this process owns in a [`Shared`] file: proposer, replica
/// and bakery participant number [`index()`](Self::index).
///
/// It holds its participant through a byte lock on an open file description
/// of its own, kept by a one-page mapping of it rather than by a descriptor,
/// so that no `close`, `close_range` or `dup2` in the process can drop it;
/// the kernel gives it back when the process exits, is killed or execs:
/// then the participant is recovered by whoever needs it. Dropping the
/// member gives it back (unless it still holds a ticket, when it stays
/// held until the process ends). A member belongs to the process that
/// joined: used in a forked child it panics, and the child holds nothing of
/// it (see the [module documentation](super)).
pub struct Member<'f, T, D = (), B = NativeBlock> {
    file: &'f Shared<T, D, B>,
    participant: usize,
    owner: Owner,
    /// Holds the participant's byte lock, and takes others' for recovery.
    custody: Bytes<'f>,
    born: Born,
    took_over: Option<u32>,
    /// The first log slot this member has not passed.
    next: Option<usize>,
}

impl<'f, T: Pod, D: Pod, B: BlockCell> Member<'f, T, D, B> {
    /// This member's participant index: its proposer, replica and bakery
    /// number.
    pub fn index(&self) -> usize {
        self.participant
    }

    /// This member's participant index; renamed [`index`](Self::index), as
    /// on every other handle of a participant.
    #[deprecated(since = "0.2.0", note = "renamed `index`, as on `Participant`")]
    pub fn participant(&self) -> usize {
        self.index()
    }

    /// The process whose participant this member took over after it stopped (died,
    /// exited or exec'd owning it), by the pid it had in its own namespace,
    /// if it did.
    pub fn took_over_from(&self) -> Option<u32> {
        self.took_over
    }

    /// The file.
    pub fn file(&self) -> &'f Shared<T, D, B> {
        self.file
    }

    fn seed(&self, at: usize) -> usize {
        (self.owner as usize) ^ (at << 8) ^ self.participant
    }

    /// Proposes `value` in the register and returns the decided value, which
    /// may be another participant's. Lock-free: no stopped or killed process
    /// can hold it up.
    ///
    /// A participant proposes once per register: if its input is already
    /// in the register (an earlier call, or the participant's previous owner, which
    /// died), this call goes on with that input, not `value`.
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] if the register holds words no participant writes;
    /// [`Error::OutOfBallots`].
    ///
    /// # Panics
    ///
    /// In a forked child (the member is its parent's).
    #[track_caller]
    pub fn propose(&mut self, value: T) -> Result<T, Error> {
        self.born.assert_here();
        let seed = self.seed(0);
        FileRegister::<T, B>::new(&self.file.m, 0)
            .propose(self.participant, value, seed)
            .map(|(_, decided)| decided)
    }

    /// Appends `command` to the log at the first slot it wins, and returns
    /// that slot; every slot before it is decided. Lock-free.
    ///
    /// # Errors
    ///
    /// [`Error::LogFull`], [`Error::Corrupt`], [`Error::OutOfBallots`].
    ///
    /// # Panics
    ///
    /// In a forked child (the member is its parent's).
    #[track_caller]
    pub fn append(&mut self, command: T) -> Result<usize, Error> {
        self.born.assert_here();
        let mut slot = match self.next {
            Some(next) => next,
            None => self.file.log_len()?,
        };
        loop {
            if slot >= self.file.m.layout.log_capacity {
                self.next = Some(slot);
                return Err(Error::LogFull);
            }
            let register = FileRegister::<T, B>::new(&self.file.m, slot + 1);
            // An input already here is this participant's previous owner's command
            // (or this member's, from a call that failed): the register goes
            // on with it.
            let before = register.own_input(self.participant)?;
            let (winner, _) = register.propose(self.participant, command, self.seed(slot + 1))?;
            self.next = Some(slot + 1);
            let ours =
                before.is_none_or(|b| bytemuck::bytes_of(&b) == bytemuck::bytes_of(&command));
            if winner == self.participant && ours {
                return Ok(slot);
            }
            slot += 1;
        }
    }

    /// Proposes `value` in log slot `slot` alone, as in a register of its
    /// own, and returns the value decided there (for logs whose slots are
    /// rounds: terms of office, epochs). Like [`propose`](Self::propose), it
    /// goes on with this participant's input if one is already there.
    ///
    /// [`Shared::log_len`] counts the decided prefix; keep it one by
    /// proposing in a slot only once the slot before it is decided (for
    /// example at `log_len()`).
    ///
    /// # Errors
    ///
    /// [`Error::LogFull`] if `slot` is not below the capacity;
    /// [`Error::Corrupt`]; [`Error::OutOfBallots`].
    ///
    /// # Panics
    ///
    /// In a forked child (the member is its parent's).
    #[track_caller]
    pub fn propose_at(&mut self, slot: usize, value: T) -> Result<T, Error> {
        self.born.assert_here();
        if slot >= self.file.m.layout.log_capacity {
            return Err(Error::LogFull);
        }
        let seed = self.seed(slot + 1);
        FileRegister::<T, B>::new(&self.file.m, slot + 1)
            .propose(self.participant, value, seed)
            .map(|(_, decided)| decided)
    }

    /// Acquires the bakery, waiting as long as it takes; while it waits it
    /// clears the registers of participants in its way whose byte lock the
    /// kernel says nobody holds any more (see the [module
    /// documentation](super)). A live holder, even a stopped one, is waited
    /// for.
    ///
    /// # Panics
    ///
    /// In a forked child (the member is its parent's); and where
    /// [`lock_checked`](Self::lock_checked) returns an error, naming it
    /// (a wait that could never learn of a death, rather than a silent
    /// stall).
    #[track_caller]
    pub fn lock(&mut self) -> Guard<'_, 'f, T, D, B> {
        match self.lock_checked() {
            Ok(guard) => guard,
            Err(e) => panic!("doorway shm: Member::lock: {e}"),
        }
    }

    /// Acquires the bakery as [`lock`](Self::lock) does, or gives up, having
    /// withdrawn from the line, when a look for the dead in its way finds
    /// that it could never learn of a death there.
    ///
    /// # Errors
    ///
    /// [`Error::Interference`]: a lock no member places stands on the byte
    /// of a participant in its way (so its death could never be told);
    /// [`Error::Replaced`]: the path no longer names the mapped file (so it
    /// can no longer be asked about, and newcomers use another lock). Only
    /// a waiter that looks reports them: an acquisition that finds the
    /// bakery free makes no system call.
    ///
    /// # Panics
    ///
    /// In a forked child (the member is its parent's).
    #[track_caller]
    pub fn lock_checked(&mut self) -> Result<Guard<'_, 'f, T, D, B>, Error> {
        self.born.assert_here();
        // What an earlier wait met and got past (a lock that went away
        // before it gave up) is not this wait's to report.
        drop(self.custody.trouble());
        let claims = self.file.m.claims();
        let taken = unstoppable(robust::lock(
            &claims,
            &self.custody,
            self.participant,
            self.owner,
            &mut Unbounded,
        ));
        match taken {
            Some(owner_died) => Ok(Guard {
                member: self,
                owner_died,
            }),
            None => Err(self
                .custody
                .trouble()
                .unwrap_or_else(|| unreachable!("a wait gives up only on trouble"))),
        }
    }
}

impl<T, D, B> Drop for Member<'_, T, D, B> {
    fn drop(&mut self) {
        if !self.born.is_here() {
            // A forked child: the participant is the parent's, and the child
            // has no part of its custody (its hold does nothing here).
            return;
        }
        if self.file.m.check(&self.file.path).is_err() {
            // Truncated under the mapping (reading the registers could raise
            // SIGBUS), or no longer at its path (so its length cannot be
            // known): the hold, dropped with `custody`, gives the slot up;
            // its next custodian clears it by the recovery rule.
            return;
        }
        let claims = self.file.m.claims();
        let i = self.participant;
        // Relaxed: this member's own registers, last written by this thread.
        let quiet = claims.number(i).load(Relaxed) == 0
            && claims.choosing(i).load(Relaxed) == 0
            && claims.inside(i).load(Relaxed) == 0;
        if quiet {
            robust::release(&claims, &self.custody, i, self.owner);
        } else if let Some(hold) = self.custody.take_hold(i) {
            // Still holding a ticket (a guard was leaked): keep the participant
            // held until the process ends, when it is recovered as a death.
            hold.keep_until_exit();
        }
    }
}

impl<T, D, B> core::fmt::Debug for Member<'_, T, D, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Member")
            .field("participant", &self.participant)
            .field("took_over_from", &self.took_over)
            .finish_non_exhaustive()
    }
}

/// The bakery of a [`Shared`] file, held by a [`Member`]; released on drop.
///
/// The data is read and written whole, as words (a process that breaks the
/// lock could be writing it at the same time, so no reference into the file
/// is handed out).
pub struct Guard<'m, 'f, T, D = (), B = NativeBlock> {
    member: &'m mut Member<'f, T, D, B>,
    owner_died: bool,
}

impl<T, D: Pod, B> Guard<'_, '_, T, D, B> {
    /// Whether a previous holder died in the critical section and no holder
    /// has called [`mark_consistent`](Self::mark_consistent) since: the
    /// data may be half-written (a robust mutex's `EOWNERDEAD`).
    pub fn owner_died(&self) -> bool {
        self.owner_died
    }

    /// Declares the data consistent again, after repairing it: later holders
    /// are no longer told that an owner died.
    ///
    /// # Panics
    ///
    /// In a forked child (the guard is its parent's).
    #[track_caller]
    pub fn mark_consistent(&mut self) {
        self.member.born.assert_here();
        robust::consistent(&self.member.file.m.claims());
        self.owner_died = false;
    }

    /// The data.
    ///
    /// # Panics
    ///
    /// In a forked child (the guard is its parent's).
    #[track_caller]
    pub fn get(&self) -> D {
        self.member.born.assert_here();
        let m = &self.member.file.m;
        m.load_pod(m.regions.data)
    }

    /// Replaces the data.
    ///
    /// # Panics
    ///
    /// In a forked child (the guard is its parent's).
    #[track_caller]
    pub fn set(&mut self, value: &D) {
        self.member.born.assert_here();
        let m = &self.member.file.m;
        m.store_pod(m.regions.data, value);
    }
}

impl<T, D, B> Drop for Guard<'_, '_, T, D, B> {
    fn drop(&mut self) {
        if !self.member.born.is_here() {
            // A forked child: the lock is held by the parent, which is
            // still inside. Releasing it here would let a third process in.
            return;
        }
        let claims = self.member.file.m.claims();
        if std::thread::panicking() {
            // A holder that unwinds may leave half-written data, as a dead
            // one does: the next holder is told. Relaxed: published by the
            // unlock's `Release` exit right after.
            claims.owner_died().store(1, Relaxed);
        }
        let (me, owner) = (self.member.participant, self.member.owner);
        unstoppable(robust::unlock(&claims, me, owner, &mut Unbounded));
    }
}

impl<T, D, B> core::fmt::Debug for Guard<'_, '_, T, D, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Guard")
            .field("owner_died", &self.owner_died)
            .finish_non_exhaustive()
    }
}
