//! Threads, `Arc`, atomics and a checked cell: `std`'s normally, loom's under
//! `--cfg loom`, so that one scenario serves stress tests and loom models.

#[cfg(loom)]
pub(crate) use loom::{
    sync::{Arc, atomic::AtomicUsize},
    thread,
};
#[cfg(not(loom))]
pub(crate) use std::{
    sync::{Arc, atomic::AtomicUsize},
    thread,
};

/// A cell whose every access loom checks for a happens-before edge with the
/// previous conflicting one; a plain cell outside loom.
#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// A cell whose every access loom checks for a happens-before edge with the
/// previous conflicting one; a plain cell outside loom.
#[cfg(not(loom))]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(std::cell::UnsafeCell::new(value))
    }

    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }

    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}
