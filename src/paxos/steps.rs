//! Shared-memory steps, counted so that tests can stop a proposer between any
//! two of them.
//!
//! Every load or store a proposer makes to shared memory (the decision, its
//! input cell, a block word or one word of a latch) is preceded by
//! [`Steps::take`]. Production code passes [`Unbounded`], whose `take` is an
//! inlined `Ok(())` with an uninhabited error type, so the accounting
//! compiles away. The test hooks (doorway's own test builds only, feature
//! `__test_hooks`) count the steps and
//! either stop the proposer for good after the `k`-th one ([`HaltAfter`]),
//! or run a closure there, which may block the thread for as long as it likes
//! ([`PauseAfter`]).
//!
//! Stopping before a step is the same, for everyone else, as a thread that is
//! never scheduled again: it takes no further step. Fences are not steps: a
//! stop just before or just after a fence leaves shared memory the same.

use core::convert::Infallible;

/// A budget of shared-memory steps.
///
/// `pub` inside a private module: nameable in the bounds of the sealed block
/// trait, invisible outside the crate.
pub trait Steps {
    /// Why a proposer stopped before a step.
    type Stop;

    /// Called before every shared-memory step; an error stops the proposer
    /// before it takes the step.
    fn take(&mut self) -> Result<(), Self::Stop>;

    /// Called right before each of the register's `SeqCst` fences, where no
    /// step is taken: a test hook may stall the proposer between a block
    /// write and the fence after it.
    #[inline(always)]
    fn before_fence(&mut self) {}
}

/// No limit, no cost: what every public operation uses.
pub(crate) struct Unbounded;

impl Steps for Unbounded {
    type Stop = Infallible;

    #[inline(always)]
    fn take(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// Unwraps a result whose error cannot exist.
#[inline(always)]
pub(crate) fn unstoppable<T>(result: Result<T, Infallible>) -> T {
    match result {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// The proposer stopped for good after its budget of steps.
#[cfg(hooks)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Halted;

/// Allows `k` steps, then stops the proposer before step `k + 1`, forever.
#[cfg(hooks)]
pub(crate) struct HaltAfter {
    left: usize,
    taken: usize,
}

#[cfg(hooks)]
impl HaltAfter {
    pub(crate) fn new(steps: usize) -> Self {
        Self {
            left: steps,
            taken: 0,
        }
    }

    /// Steps taken so far.
    pub(crate) fn taken(&self) -> usize {
        self.taken
    }
}

#[cfg(hooks)]
impl Steps for HaltAfter {
    type Stop = Halted;

    fn take(&mut self) -> Result<(), Halted> {
        self.left = self.left.checked_sub(1).ok_or(Halted)?;
        self.taken += 1;
        Ok(())
    }
}

/// Runs `pause` once, right before the proposer's `k`-th fence (counting from
/// 1), and never stops.
#[cfg(hooks)]
pub(crate) struct PauseBeforeFence<F: FnOnce()> {
    left: usize,
    pause: Option<F>,
}

#[cfg(hooks)]
impl<F: FnOnce()> PauseBeforeFence<F> {
    pub(crate) fn new(fence: usize, pause: F) -> Self {
        Self {
            left: fence,
            pause: Some(pause),
        }
    }
}

#[cfg(hooks)]
impl<F: FnOnce()> Steps for PauseBeforeFence<F> {
    type Stop = Infallible;

    fn take(&mut self) -> Result<(), Infallible> {
        Ok(())
    }

    fn before_fence(&mut self) {
        self.left = self.left.saturating_sub(1);
        if self.left == 0
            && let Some(pause) = self.pause.take()
        {
            pause();
        }
    }
}

/// Runs `pause` once, after `k` steps and before step `k + 1`, and never stops.
#[cfg(hooks)]
pub(crate) struct PauseAfter<F: FnOnce()> {
    left: usize,
    pause: Option<F>,
}

#[cfg(hooks)]
impl<F: FnOnce()> PauseAfter<F> {
    pub(crate) fn new(steps: usize, pause: F) -> Self {
        Self {
            left: steps,
            pause: Some(pause),
        }
    }

    /// Whether the pause has run.
    pub(crate) fn paused(&self) -> bool {
        self.pause.is_none()
    }
}

#[cfg(hooks)]
impl<F: FnOnce()> Steps for PauseAfter<F> {
    type Stop = Infallible;

    fn take(&mut self) -> Result<(), Infallible> {
        match self.left.checked_sub(1) {
            Some(left) => self.left = left,
            None => {
                if let Some(pause) = self.pause.take() {
                    pause();
                }
            }
        }
        Ok(())
    }
}
