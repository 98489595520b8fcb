//! The bakery's waiting room made pollable: the scan of `wait_turn`,
//! resumable between polls, with the task waiting on the participant just
//! ahead of it through its [waker slot](super::waker_slot) instead of
//! sleeping there.
//!
//! # The algorithm
//!
//! The doorway is the bakery's own (`bakery::doorway`), run whole inside
//! the first poll; then, as in `wait_turn`, the `ENTER` fence and a scan of
//! every `j ≠ me`, which a poll resumes where the last one stopped:
//!
//! ```text
//! while j < N:
//!     if j = me or (choosing[j] = 0 and j not ahead of me): j += 1
//!     else if choosing[j] ≠ 0: wake myself, Pending      (a doorway ends in a few steps)
//!     else: p := the participant just ahead of me
//!           sleep on p through my slot (mark, waker, fence SLEEP_TASK)
//!           if p is still ahead of me: Pending           (p's move wakes me)
//! Ready: I hold the lock; retire my slot
//! ```
//!
//! An exit or a withdrawal is the bakery's (`number[me] := 0`), followed by
//! the waking half for tasks: fence `WAKE_TASKS`, then every participant
//! whose mark names the mover is woken through its slot.
//!
//! # Invariants
//!
//! 1. **The bakery's invariants hold unchanged**: the registers are a
//!    bakery's, written by the bakery's own doorway, exit and withdrawal;
//!    the scan reads them exactly as `wait_turn` does, and a poll that
//!    returns `Pending` has passed only the `j` that were out of its way.
//!    A `j` passed stays passed: it left, or came back through a doorway
//!    that read this task's ticket and took a larger one (bakery
//!    invariant 4).
//! 2. **Order is fixed at the first poll**: the doorway runs there, whole,
//!    so a task polled first after another's first poll has ended enters
//!    after it (bakery invariant 4). At the ticket limit (bakery invariant
//!    5) the doorway takes no ticket; the task wakes itself and tries its
//!    doorway again on its next poll, and its place is fixed by the poll
//!    that takes the ticket.
//! 3. **Every `Pending` has a waker that will be woken**: on itself (a
//!    participant choosing, a busy cell), or on `p`, a participant ahead of
//!    it when it looked again after its `SLEEP_TASK` fence; `p` exits or
//!    withdraws eventually, and its waking half finds the mark (waker slot
//!    invariant 4). A woken task that is still blocked sleeps again on
//!    whoever blocks it now.
//! 4. **Cancelling leaves no trace**: a dropped future that holds a ticket
//!    (its state says so from the doorway on, before any code of the
//!    executor's runs, so a poll that panics and is dropped is a cancel
//!    too) retires its slot and withdraws (bakery invariant 6); the withdrawal
//!    runs the waking half, so a task that waited on it looks again, and a
//!    wake this task received and did not use is passed on to whoever
//!    waits on it. A future dropped before its first poll wrote nothing.
//! 5. **One waiter per move**: a task sleeps on the participant just ahead,
//!    so each move wakes the one task it lets through (or the one behind a
//!    withdrawn one).
//!
//! # Memory ordering
//!
//! The bakery's fences and orderings, unchanged, and the waker slot's (see
//! there). A task may move between threads from one poll to the next; the
//! executor's wake and poll order the earlier poll's fence before the later
//! poll's loads, which is all a `SeqCst` fence's rules ask (C++20 states
//! them with happens-before).

use super::waker_slot::{Mark, Reader, Slot, WAKE_TASKS};
use crate::bakery::{
    BakeryRegisters, ENTER, Registers, TICKET_LIMIT, doorway, is_ahead, is_choosing, others,
};
use crate::sync::{AtomicU8, AtomicU32, Nap, Ordering::*, array_of, const_fn_unless_loom, fence};
use core::task::{Context, Poll};

/// A bakery's registers, and every participant's waker slot and reader.
pub(crate) struct AsyncRegisters<const N: usize> {
    bakery: BakeryRegisters<N>,
    marks: [Mark; N],
    slots: [Slot; N],
    readers: [Reader; N],
}

impl<const N: usize> AsyncRegisters<N> {
    const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                bakery: BakeryRegisters::new(TICKET_LIMIT),
                marks: array_of![Mark::new(); N],
                slots: array_of![Slot::new(); N],
                readers: array_of![Reader::new(); N],
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
impl<const N: usize> AsyncRegisters<N> {
    /// Tickets stop at `limit`, so that tests reach the limit quickly.
    pub(crate) fn with_ticket_limit(limit: u32) -> Self {
        Self {
            bakery: BakeryRegisters::new(limit),
            marks: array_of![Mark::new(); N],
            slots: array_of![Slot::new(); N],
            readers: array_of![Reader::new(); N],
        }
    }
}

impl<const N: usize> Registers for AsyncRegisters<N> {
    #[inline(always)]
    fn len(&self) -> usize {
        N
    }

    #[inline(always)]
    fn choosing(&self, i: usize) -> &AtomicU8 {
        self.bakery.choosing(i)
    }

    #[inline(always)]
    fn number(&self, i: usize) -> &AtomicU32 {
        self.bakery.number(i)
    }

    #[inline(always)]
    fn ticket_limit(&self) -> u32 {
        self.bakery.ticket_limit()
    }

    fn sleep(&self, _me: usize, _on: usize, _still_blocked: impl FnOnce() -> bool, _nap: Nap) {
        unreachable!("doorway: a task's waiting room never puts its thread to sleep")
    }

    /// The waking half for tasks, after `me`'s exit or withdrawal.
    #[inline]
    fn wake_sleepers_on(&self, me: usize) {
        fence(SeqCst, WAKE_TASKS);
        for s in others(self, me) {
            if self.marks[s].names(me) {
                self.slots[s].wake(s, &self.marks[s], me, &self.readers[me]);
            }
        }
    }
}

/// Where a task's acquisition stands between polls.
#[derive(Debug)]
pub(crate) enum Waiting {
    /// Not polled yet (or the doorway met the ticket limit).
    Doorway,
    /// In line with `ticket`; participants below `next` are out of its way.
    InLine { ticket: u32, next: usize },
    /// Holding the lock, or given up: nothing to undo.
    Done,
}

impl<const N: usize> AsyncRegisters<N> {
    /// One poll of `me`'s acquisition: `Ready` when `me` holds the lock.
    pub(crate) fn poll_lock(&self, me: usize, at: &mut Waiting, cx: &mut Context<'_>) -> Poll<()> {
        let (ticket, mut next) = match *at {
            Waiting::Doorway => {
                crate::bakery::assert_not_holding(self, me);
                // Never waits: at the ticket limit it gives up at once and
                // tries again on the next poll (invariant 2).
                let Some(ticket) = doorway(self, me, &mut || true) else {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                };
                fence(SeqCst, ENTER);
                (ticket, 0)
            }
            Waiting::InLine { ticket, next } => (ticket, next),
            Waiting::Done => unreachable!("a completed acquisition is not polled"),
        };
        // Recorded before the scan, which runs the task's waker (code of the
        // executor's, which may panic): a future dropped while that panic
        // unwinds then withdraws its ticket (invariant 4). A scan resumed
        // from an earlier `next` only looks at more participants again.
        *at = Waiting::InLine { ticket, next };
        let outcome = self.scan(me, ticket, &mut next, cx);
        *at = match outcome {
            Poll::Ready(()) => {
                // A panic here (dropping a waker) leaves `InLine`: the drop
                // that follows withdraws, which is an exit.
                self.slots[me].retire(me, &self.marks[me], &self.readers);
                Waiting::Done
            }
            Poll::Pending => Waiting::InLine { ticket, next },
        };
        outcome
    }

    /// The resumable waiting room.
    #[inline]
    fn scan(&self, me: usize, ticket: u32, next: &mut usize, cx: &mut Context<'_>) -> Poll<()> {
        while *next < N {
            let j = *next;
            if j == me {
                *next += 1;
            } else if is_choosing(self, j) {
                // A doorway ends in a few steps and wakes nobody: yield.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            } else if !is_ahead(self, j, me, ticket) {
                *next += 1;
            } else if self.sleep_behind(me, ticket, cx) {
                return Poll::Pending;
            }
        }
        Poll::Ready(())
    }

    /// Waits on the participant just ahead of `me`: `true` to return
    /// `Pending` (a wake is sure to come), `false` to look again (nobody
    /// is ahead any more, or the one just ahead has moved).
    #[cold]
    fn sleep_behind(&self, me: usize, ticket: u32, cx: &mut Context<'_>) -> bool {
        // Relaxed: only chooses whom to wait on; the recheck decides.
        let just_ahead = others(self, me)
            .map(|j| (self.number(j).load(Relaxed), j))
            .filter(|&(theirs, j)| theirs != 0 && (theirs, j) < (ticket, me))
            .max();
        let Some((_, p)) = just_ahead else {
            return false;
        };
        if !self.slots[me].sleep_on(me, &self.marks[me], p, &self.readers, cx.waker()) {
            // A mover still reads the cell to reuse: try on the next poll.
            cx.waker().wake_by_ref();
            return true;
        }
        is_ahead(self, p, me, ticket)
    }

    /// Undoes an acquisition dropped in line: retire the slot, withdraw
    /// the ticket (which wakes whoever waits on `me`).
    pub(crate) fn cancel(&self, me: usize, at: &mut Waiting) {
        if let Waiting::InLine { .. } = *at {
            self.slots[me].retire(me, &self.marks[me], &self.readers);
            crate::bakery::withdraw(self, me);
        }
        *at = Waiting::Done;
    }
}
