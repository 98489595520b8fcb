//! Wake words of threads in one process (`std`), parked in
//! `parking_lot_core`'s table keyed by the word's address.

use super::Parking;
use super::protocol::{LOBBY_SLEEP, LOBBY_WAKE};
use crate::sync::{AtomicU32, Nap, Ordering::*, fence};
use std::time::Instant;

/// One participant's wake word (see the [protocol](super)).
pub struct WakeWord(AtomicU32);

impl WakeWord {
    pub(crate) const fn new() -> Self {
        Self(AtomicU32::new(0))
    }

    /// Puts this word's participant to sleep until participant `on` moves,
    /// unless `still_blocked` says, after the announcement, that it has.
    #[cold]
    pub(crate) fn sleep(&self, on: usize, still_blocked: impl FnOnce() -> bool, nap: Nap) {
        super::sleep_on(&InProcess, &self.0, on, still_blocked, nap);
    }

    /// After a store of `me`'s that may let waiters through: wakes those of
    /// `words` asleep on `me`.
    #[inline]
    pub(crate) fn wake_sleepers_on(words: &[WakeWord], me: usize) {
        super::fence_before_waking();
        Self::wake_sleepers_on_fenced(words, me);
    }

    /// [`wake_sleepers_on`](Self::wake_sleepers_on) right after a `SeqCst`
    /// fence that follows the store (the lock's own, or
    /// `fence_before_waking`).
    #[inline]
    pub(crate) fn wake_sleepers_on_fenced(words: &[WakeWord], me: usize) {
        super::wake_sleepers_on(&InProcess, words.iter().map(|word| &word.0), me);
    }
}

/// The wake words of `N` participants.
pub(crate) type WakeWords<const N: usize> = [WakeWord; N];

/// Threads of this process, parked by `parking_lot_core`.
struct InProcess;

impl InProcess {
    /// The parking key of `word`: its address, which no other parking in
    /// this crate uses.
    fn key(word: &AtomicU32) -> usize {
        core::ptr::from_ref(word) as usize
    }
}

/// When a nap ends, for `parking_lot_core`.
fn timeout(nap: Nap) -> Option<Instant> {
    match nap {
        Nap::Unbounded => None,
        Nap::AtMost(nap) => Instant::now().checked_add(nap),
        Nap::Until(deadline) => Some(deadline),
    }
}

impl Parking for InProcess {
    fn wait(&self, word: &AtomicU32, mark: u32, nap: Nap) {
        // SAFETY: the key is the word's address, which doorway parks on for
        // this purpose only; the validation is one load and neither panics
        // nor parks, and the callbacks do nothing.
        unsafe {
            parking_lot_core::park(
                Self::key(word),
                // Relaxed: the compare of compare-then-sleep; the bucket lock
                // orders it against `wake` (see the protocol, invariant 1).
                || word.load(Relaxed) == mark,
                || {},
                |_, _| {},
                parking_lot_core::DEFAULT_PARK_TOKEN,
                timeout(nap),
            );
        }
    }

    fn wake(&self, word: &AtomicU32) {
        // SAFETY: as in `wait`; the callback does nothing.
        unsafe {
            parking_lot_core::unpark_one(Self::key(word), |_| {
                parking_lot_core::DEFAULT_UNPARK_TOKEN
            });
        }
    }
}

/// Sleepers with no participant of their own, parked on a word of their lock
/// (see [lobbies](super#lobbies-waiters-with-no-participant)).
pub(crate) struct Lobby {
    sleepers: AtomicU32,
}

impl Lobby {
    pub(crate) const fn new() -> Self {
        Self {
            sleepers: AtomicU32::new(0),
        }
    }

    /// Sleeps, with `token`, parked on `key` (the address of a word of the
    /// lock that this lobby alone parks on), if `still_blocked` says so
    /// after the count, atomically with any wake; at most `nap`.
    #[cold]
    pub(crate) fn sleep(
        &self,
        key: usize,
        token: usize,
        still_blocked: impl FnOnce() -> bool,
        nap: Nap,
    ) {
        // Relaxed: the count's own order is all a mover reads; the fence
        // orders it before the look.
        self.sleepers.fetch_add(1, Relaxed);
        fence(SeqCst, LOBBY_SLEEP);
        // SAFETY: `key` is parked on by this lobby only (the caller's word);
        // `still_blocked` only loads, and neither panics nor parks.
        unsafe {
            parking_lot_core::park(
                key,
                still_blocked,
                || {},
                |_, _| {},
                parking_lot_core::ParkToken(token),
                timeout(nap),
            );
        }
        // Relaxed: a mover that still counts this sleeper only wakes nobody.
        self.sleepers.fetch_sub(1, Relaxed);
    }

    /// After a store that may let a sleeper parked on `key` through: wakes
    /// the first whose token `lets_through` accepts, if anyone sleeps.
    #[inline]
    pub(crate) fn wake_one(&self, key: usize, mut lets_through: impl FnMut(usize) -> bool) {
        fence(SeqCst, LOBBY_WAKE);
        // Relaxed: see `sleep`.
        if self.sleepers.load(Relaxed) != 0 {
            let mut woken = false;
            // SAFETY: as in `sleep`; the filter and callback do nothing but
            // compare.
            unsafe {
                parking_lot_core::unpark_filter(
                    key,
                    |token| {
                        if woken {
                            parking_lot_core::FilterOp::Stop
                        } else if lets_through(token.0) {
                            woken = true;
                            parking_lot_core::FilterOp::Unpark
                        } else {
                            parking_lot_core::FilterOp::Skip
                        }
                    },
                    |_| parking_lot_core::DEFAULT_UNPARK_TOKEN,
                );
            }
        }
    }
}
