//! Wake words and the count of sleepers: where a lock's participants sleep
//! (`std`, or loom's models), over this environment's backend.

use super::env::Backend;
use super::protocol::{Parking, sleep_on, wake_sleepers_on};
use crate::sync::{AtomicU32, Nap, const_fn_unless_loom};

/// One participant's wake word: `0` while it is awake, `p + 1` while it
/// sleeps until participant `p` moves.
pub struct WakeWord(AtomicU32);

impl WakeWord {
    const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self(AtomicU32::new(0))
        }
    }
}

/// The wake words of `N` participants, and how many of them sleep.
pub struct WakeWords<const N: usize> {
    asleep: AtomicU32,
    words: [WakeWord; N],
}

impl<const N: usize> WakeWords<N> {
    const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                asleep: AtomicU32::new(0),
                words: crate::sync::array_of![WakeWord::new(); N],
            }
        }
    }

    /// These words as [`Beds`].
    #[inline(always)]
    pub(crate) fn beds(&self) -> Beds<'_> {
        Beds {
            asleep: &self.asleep,
            words: &self.words,
        }
    }
}

/// A lock's wake words and its count of sleepers, wherever they are kept.
#[derive(Clone, Copy)]
pub struct Beds<'a> {
    /// How many participants sleep (or are about to).
    pub(crate) asleep: &'a AtomicU32,
    /// One wake word per participant.
    pub(crate) words: &'a [WakeWord],
}

impl Beds<'_> {
    /// Puts participant `me` to sleep until participant `on` moves, unless
    /// `still_blocked` says, after the announcement, that it has; at most
    /// `nap`.
    #[cold]
    pub(crate) fn sleep(
        &self,
        me: usize,
        on: usize,
        still_blocked: impl FnOnce() -> bool,
        nap: Nap,
    ) {
        sleep_on(
            &Backend,
            self.asleep,
            &self.words[me].0,
            on,
            still_blocked,
            nap,
        );
    }

    /// After a store of `me`'s that may let waiters through: wakes those
    /// asleep on `me`.
    #[inline(always)]
    pub(crate) fn wake_sleepers_on(&self, me: usize) {
        fence_before_waking();
        self.wake_sleepers_on_fenced(me);
    }

    /// [`wake_sleepers_on`](Self::wake_sleepers_on) right after
    /// [`fence_before_waking`], or a `SeqCst` fence of the lock's own that
    /// follows the store.
    #[inline(always)]
    pub(crate) fn wake_sleepers_on_fenced(&self, me: usize) {
        wake_sleepers_on(
            &Backend,
            self.asleep,
            self.words.iter().map(|word| &word.0),
            me,
        );
    }
}

/// The mover's fence in this process, after its move and before it looks
/// for sleepers (asymmetric where the sleepers' barrier stands in for it).
#[inline(always)]
pub(crate) fn fence_before_waking() {
    Backend.fence_to_wake();
}
