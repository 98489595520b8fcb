//! A waker slot without compare-and-swap: a task publishes its `Waker`
//! where the participant it waits on finds it, and replaces it on a later
//! poll, while that participant may be cloning it, from loads, stores and
//! fences only.
//!
//! # The protocol
//!
//! Every participant `s` owns, as a *waiter*, a mark, two cells and `cur`;
//! every participant `m` owns, as a *mover*, one register `reading[m]`:
//!
//! ```text
//! waiter s, blocked by p (one poll):        mover m, after a move (exit, withdrawal):
//!   c := the cell cur[s] does not name         fence WAKE_TASKS
//!   if some reading[k] = (s, c):               for every s with mark[s] = m + 1:
//!       wake itself, Pending (busy)               loop:
//!   cell[s][c] := this poll's waker                  c := cur[s]; if c = none: done
//!   cur[s] := c                    (PUBLISH)         reading[m] := (s, c)   (ANNOUNCE)
//!   mark[s] := p + 1                                 fence READ
//!   fence SLEEP_TASK                                 if cur[s] = c:         (READ_CUR)
//!   if still blocked by p: Pending                       w := clone cell[s][c]
//!   else look again                                      reading[m] := none (DONE)
//!                                                        wake w; done
//! retire (acquired, or cancelled):                   reading[m] := none; again
//!   mark[s] := 0; cur[s] := none
//!   fence RETIRE
//!   if no reading[k] names s: empty both cells
//! ```
//!
//! A poll whose waker the published cell already holds (`will_wake`) skips
//! the cell and `cur`, and only marks and fences.
//!
//! # Invariants
//!
//! 1. **Single writers.** `mark[s]`, `cur[s]` and the cells of `s` are
//!    written by the task that holds participant `s` only; `reading[m]` by
//!    the task that holds participant `m` only (its guard's drop, its
//!    future's drop, its failed `try_lock`). No register has two writers,
//!    so no read-modify-write is needed anywhere.
//! 2. **No cell is written while a mover clones it.** The waiter writes a
//!    cell only while `cur` does not name it and, after a `SeqCst` fence
//!    that follows the store which stopped naming it (the previous poll's
//!    `SLEEP_TASK`, or `RETIRE`), no `reading` names it. A mover clones a
//!    cell only after announcing it in `reading`, fencing (`READ`), and
//!    reading `cur` naming it again. Store buffering on (`cur`, `reading`):
//!    either the mover's second look sees the cell unpublished (and it
//!    retries), or the waiter's look sees the announcement (and does not
//!    write), or sees the mover's later `DONE` (`Release`, read `Acquire`:
//!    the clone happened before).
//! 3. **A clone sees the waker written.** The waiter writes the cell before
//!    its `Release` store of `cur` (`PUBLISH`); the mover clones after an
//!    `Acquire` load of `cur` that read it (`READ_CUR`).
//! 4. **No lost wake.** A poll that returns `Pending` has marked and
//!    published, fenced (`SLEEP_TASK`), and found `p` still in its way; `p`
//!    moves, fences (`WAKE_TASKS`), then reads the mark and `cur`. Store
//!    buffering: either the recheck saw the move, or `p` sees this poll's
//!    mark and `cur` (or a later poll's, which then carries the duty), and
//!    wakes the waker of the last publication it finds stable, retrying
//!    while `cur` changes under it.
//! 5. **Nobody waits on anybody here.** A waiter that finds its cell busy
//!    wakes itself and tries on its next poll; a mover's retry needs the
//!    waiter to publish a new waker between its two looks, which takes a
//!    poll with a different waker (a stable waker is never re-published).
//!    Retiring never waits: cells a mover may still be cloning stay full
//!    until the next publication replaces them, one stale waker per cell
//!    at most.
//!
//! A waker that panics (an executor's bug) breaks no invariant above but
//! costs liveness: a clone that panics in a mover leaves `reading[m]`
//! naming its cell until `m`'s next wake (the waiter yields instead of
//! reusing that cell, and retiring leaves the cells full), and the panic
//! ends the mover's waking half, so a task whose mark names `m` further on
//! is not woken by this move. The waiter's side is cancel-safe under such
//! a panic (see `bakery.rs`, invariant 4).
//!
//! # Memory ordering
//!
//! `SLEEP_TASK` and `WAKE_TASKS` are the store buffering of invariant 4
//! (the sleeping protocol's `SLEEP`/`WAKE` pair, for tasks); `READ`
//! against the waiter's `SLEEP_TASK` or `RETIRE`, the store buffering of
//! invariant 2. `PUBLISH`/`READ_CUR` carry the waker to the mover
//! (invariant 3); `ANNOUNCE`/`DONE` (every store to `reading` is `Release`)
//! and `CHECK` carry the end of a clone to the waiter that then overwrites
//! or empties the cell, whichever store of the mover's it reads. Marks are
//! `Relaxed`: they only decide whom to wake, and the fences order them.
//!
//! # Cost
//!
//! Nothing on a path that never waits. A wait: one waker clone and a fence
//! per publication, a fence per later poll, `N` loads to check the
//! readers; a mover: one load per participant after its fence, and for the
//! one waiter it lets through a store, a fence, two loads, a clone and a
//! store; an acquisition that waited: a fence to retire.

use crate::sync::{Access, AtomicU32, FenceSite, Ordering::*, UnsafeCell, fence};
use core::task::Waker;

/// The waiter's mark and `cur` are visible before it looks at its lock
/// again (store buffering against [`WAKE_TASKS`] in the mover).
pub(crate) const SLEEP_TASK: FenceSite =
    FenceSite("async: publish the waker and mark before looking again");

/// The mover's move is visible before it reads the marks (store buffering
/// against [`SLEEP_TASK`] in a waiter).
pub(crate) const WAKE_TASKS: FenceSite =
    FenceSite("async: publish the move before reading the marks");

/// The mover's announcement is visible before it reads `cur` again (store
/// buffering against [`SLEEP_TASK`] or [`RETIRE`] in the waiter, before it
/// reuses or empties a cell).
pub(crate) const READ: FenceSite = FenceSite("async: announce the cell before reading cur again");

/// `cur := none` is visible before the retiring waiter looks at the
/// readers (store buffering against [`READ`]).
pub(crate) const RETIRE: FenceSite =
    FenceSite("async: unpublish the waker before looking at the readers");

/// Every fence of the protocol, for doorway's loom mutation tests.
#[cfg(hooks)]
pub const FENCES: [FenceSite; 4] = [SLEEP_TASK, WAKE_TASKS, READ, RETIRE];

/// `cur := c` after writing the cell: a mover that reads it clones the
/// waker written.
const PUBLISH: Access = Access::edge("async: publish the waker (cur)", Release);

/// The mover's second look at `cur`, the one it clones on.
const READ_CUR: Access = Access::edge("async: mover reads cur before cloning", Acquire);

/// `reading[m] := (s, c)`: a waiter that reads this announcement after the
/// mover's earlier clone of its cell (it skipped the clear) must see that
/// clone finished.
const ANNOUNCE: Access = Access::edge("async: announce the cell being cloned", Release);

/// `reading[m] := none` after a clone: the waiter that then writes or
/// empties the cell must see the clone finished.
const DONE: Access = Access::edge("async: clone finished (reading = none)", Release);

/// The waiter's look at the readers before it writes or empties a cell.
const CHECK: Access = Access::edge("async: waiter reads the readers", Acquire);

/// Every named ordering of the protocol, for doorway's ordering sweep.
#[cfg(hooks)]
pub const ORDERINGS: [Access; 5] = [PUBLISH, READ_CUR, ANNOUNCE, DONE, CHECK];

/// `cur` when no cell is published.
const NONE: u32 = 0;

/// What `reading[m]` holds while `m` clones cell `c` of participant `s`.
#[inline(always)]
fn names(s: usize, c: u32) -> u32 {
    (s as u32) * 2 + c + 1
}

/// One participant's mark: `0` while its task is not waiting, `p + 1` while
/// it waits for participant `p` to move. Kept apart from the slot, so that
/// a mover's look at every mark reads a few packed lines.
pub(crate) struct Mark(AtomicU32);

impl Mark {
    crate::sync::const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self(AtomicU32::new(0))
        }
    }

    /// Whether the owner waits for participant `mover` to move.
    #[inline(always)]
    pub(crate) fn names(&self, mover: usize) -> bool {
        // Relaxed: only decides whether to wake; `wake` reads `cur` with its
        // own orderings, and the waker rechecks its lock.
        self.0.load(Relaxed) == mover as u32 + 1
    }
}

/// One participant's side as a waiter: its two cells and `cur`.
pub(crate) struct Slot {
    /// [`NONE`], or `c + 1` while cell `c` holds the waker to wake.
    cur: AtomicU32,
    cells: [UnsafeCell<Option<Waker>>; 2],
}

// SAFETY: the cells are written by the slot's owner only, never while a
// mover may clone them (invariant 2), and hold `Waker`s, which are `Send`
// and `Sync`; everything else is atomic.
unsafe impl Sync for Slot {}

impl Slot {
    crate::sync::const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                cur: AtomicU32::new(NONE),
                cells: [UnsafeCell::new(None), UnsafeCell::new(None)],
            }
        }
    }

    /// The owner `me` waits for participant `on`: publishes `waker` (unless
    /// the published one already wakes its task), marks, and fences; the
    /// caller then looks at its lock again and returns `Pending` if `on` is
    /// still in its way. `false` if the cell to write is busy: the caller
    /// wakes itself and returns `Pending` without looking.
    ///
    /// Only the owner of participant `me` may call it.
    #[inline]
    pub(crate) fn sleep_on(
        &self,
        me: usize,
        mark: &Mark,
        on: usize,
        readers: &[Reader],
        waker: &Waker,
    ) -> bool {
        // Relaxed: the owner's own register.
        let cur = self.cur.load(Relaxed);
        let fresh = cur == NONE
            || self.cells[cur as usize - 1]
                // SAFETY: only the owner writes its cells (invariant 1), and
                // it is here; movers only read them.
                .with(|cell| unsafe { &*cell })
                .as_ref()
                .is_none_or(|published| !published.will_wake(waker));
        if fresh {
            // Cell 0 unless cell 0 is the one published.
            let c = if cur == 1 { 1 } else { 0 };
            if is_read(readers, me, c) {
                return false;
            }
            let replaced = self.cells[c as usize]
                // SAFETY: `c` is not published and no mover announced it after
                // the fence that followed its unpublishing (invariant 2).
                .with_mut(|cell| unsafe { (*cell).replace(waker.clone()) });
            self.cur.store(c + 1, PUBLISH.order());
            drop(replaced);
        }
        // Relaxed: ordered before the recheck by the fence below.
        mark.0.store(on as u32 + 1, Relaxed);
        fence(SeqCst, SLEEP_TASK);
        true
    }

    /// The owner `me` no longer waits (it acquired, or gave up): clears its
    /// mark and unpublishes; empties the cells unless a mover may be cloning
    /// one (invariant 5).
    #[inline]
    pub(crate) fn retire(&self, me: usize, mark: &Mark, readers: &[Reader]) {
        // Relaxed, both: the owner's own registers; a mover that still reads
        // the old mark only wakes this task once more, spuriously.
        mark.0.store(0, Relaxed);
        if self.cur.load(Relaxed) == NONE {
            return;
        }
        self.cur.store(NONE, Relaxed);
        fence(SeqCst, RETIRE);
        if !is_read(readers, me, 0) && !is_read(readers, me, 1) {
            for cell in &self.cells {
                // SAFETY: unpublished, and no mover announced it after the
                // fence (invariant 2).
                drop(cell.with_mut(|cell| unsafe { (*cell).take() }));
            }
        }
    }

    /// Mover `mover`, through its register `reader`, wakes the owner `s` of
    /// this slot, which waits for it: clones the waker last published and
    /// wakes it (see the module documentation).
    #[cold]
    pub(crate) fn wake(&self, s: usize, mark: &Mark, mover: usize, reader: &Reader) {
        loop {
            // Relaxed: the loop decides on the second look, below.
            let c = self.cur.load(Relaxed);
            if c == NONE {
                return;
            }
            reader.0.store(names(s, c - 1), ANNOUNCE.order());
            fence(SeqCst, READ);
            if self.cur.load(READ_CUR.order()) == c {
                let waker = self.cells[c as usize - 1]
                    // SAFETY: announced and still published after the fence:
                    // the owner does not write this cell until it reads the
                    // clear below (invariant 2), and it wrote it before the
                    // store of `cur` read here (invariant 3).
                    .with(|cell| unsafe { (*cell).clone() });
                reader.0.store(0, DONE.order());
                if let Some(waker) = waker {
                    waker.wake();
                }
                return;
            }
            // Re-published under us: clear, and wake the newer waker if the
            // owner still waits for this mover.
            reader.0.store(0, DONE.order());
            if !mark.names(mover) {
                return;
            }
        }
    }
}

/// One participant's side as a mover: which cell it is cloning, if any.
pub(crate) struct Reader(AtomicU32);

impl Reader {
    crate::sync::const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self(AtomicU32::new(0))
        }
    }
}

/// Whether some mover announced cell `c` of participant `s`.
#[inline]
fn is_read(readers: &[Reader], s: usize, c: u32) -> bool {
    let named = names(s, c);
    readers
        .iter()
        .any(|reader| reader.0.load(CHECK.order()) == named)
}

/// The protocol over two participants' slots and readers, for doorway's
/// loom models of it (with the test hooks): the very code the lock runs.
#[cfg(loom_hooks)]
pub mod hooks {
    use super::{Mark, Reader, Slot};
    use core::task::Waker;

    /// The slots and readers of participants 0 and 1.
    pub struct Pair {
        marks: [Mark; 2],
        slots: [Slot; 2],
        readers: [Reader; 2],
    }

    impl Pair {
        /// Nobody waits.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            Self {
                marks: [Mark::new(), Mark::new()],
                slots: [Slot::new(), Slot::new()],
                readers: [Reader::new(), Reader::new()],
            }
        }

        /// Participant `me` waits for `on` with `waker`; `false` if the cell
        /// to write was busy.
        pub fn sleep_on(&self, me: usize, on: usize, waker: &Waker) -> bool {
            self.slots[me].sleep_on(me, &self.marks[me], on, &self.readers, waker)
        }

        /// Participant `mover` wakes `s` through `s`'s slot.
        pub fn wake(&self, s: usize, mover: usize) {
            self.slots[s].wake(s, &self.marks[s], mover, &self.readers[mover]);
        }

        /// Participant `me` no longer waits.
        pub fn retire(&self, me: usize) {
            self.slots[me].retire(me, &self.marks[me], &self.readers);
        }
    }
}
