//! A FIFO audit for futures: stamps from one clock around an acquisition's
//! first poll, and a count of the entries that overtook an earlier arrival.
//!
//! An async lock fixes its order when the future is first polled, so the
//! first poll is the arrival: if one acquisition's first poll ended before
//! another's began, it must enter first. Each acquisition records its
//! `(start, end)` stamps inside the lock, in the order of entry;
//! [`overtakes`] counts the entries that came in ahead of an arrival whose
//! first poll had ended before theirs began.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::task::{Context, Poll};

/// `inner`, with the clock's readings just before and just after its first
/// poll returned beside its output.
pub struct FirstPoll<F> {
    inner: F,
    clock: &'static AtomicU64,
    stamps: Option<(u64, u64)>,
}

impl<F> FirstPoll<F> {
    /// Stamps `inner`'s first poll from `clock` (`Box::pin` a future that is
    /// not `Unpin`).
    pub fn new(inner: F, clock: &'static AtomicU64) -> Self {
        Self {
            inner,
            clock,
            stamps: None,
        }
    }
}

impl<F: Future + Unpin> Future for FirstPoll<F> {
    type Output = (F::Output, (u64, u64));

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let first = self.stamps.is_none();
        // SeqCst: one total order of every stamp, across threads.
        let start = if first {
            self.clock.fetch_add(1, SeqCst)
        } else {
            0
        };
        let outcome = Pin::new(&mut self.inner).poll(cx);
        if first {
            let end = self.clock.fetch_add(1, SeqCst);
            self.stamps = Some((start, end));
        }
        let stamps = self.stamps.expect("stamped at the first poll");
        outcome.map(|output| (output, stamps))
    }
}

/// How many entries, given in the order they entered, went in before an
/// earlier arrival: an entry whose first poll ended before the latest start
/// seen so far.
pub fn overtakes(entries: &[(u64, u64)]) -> usize {
    let mut latest_start = None;
    let mut count = 0;
    for &(start, end) in entries {
        if latest_start.is_some_and(|latest| end < latest) {
            count += 1;
        }
        latest_start = latest_start.max(Some(start));
    }
    count
}

#[cfg(test)]
mod tests {
    use super::overtakes;

    /// The audit itself can fail.
    #[test]
    fn the_audit_sees_an_overtake() {
        assert_eq!(overtakes(&[(0, 1), (2, 3)]), 0);
        assert_eq!(overtakes(&[(2, 3), (0, 1)]), 1);
    }
}
