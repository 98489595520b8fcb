//! Without `std` nothing sleeps: a wake word is nothing, and a move wakes
//! nobody, at no cost.

use crate::sync::Nap;

/// The wake words of `N` participants: nothing without `std`.
pub struct WakeWords<const N: usize>;

impl<const N: usize> WakeWords<N> {
    pub(crate) const fn new() -> Self {
        Self
    }

    pub(crate) fn beds(&self) -> Beds<'_> {
        Beds(core::marker::PhantomData)
    }
}

/// Nowhere to sleep, and nobody to wake, at no cost.
#[derive(Clone, Copy)]
pub struct Beds<'a>(core::marker::PhantomData<&'a ()>);

impl Beds<'_> {
    /// Never asked: waits never sleep without `std`.
    pub(crate) fn sleep(
        &self,
        _me: usize,
        _on: usize,
        _still_blocked: impl FnOnce() -> bool,
        _nap: Nap,
    ) {
    }

    /// Nothing to wake.
    #[inline(always)]
    pub(crate) fn wake_sleepers_on(&self, _me: usize) {}

    /// Nothing to wake.
    #[inline(always)]
    pub(crate) fn wake_sleepers_on_fenced(&self, _me: usize) {}
}

/// Without `std` a move wakes nobody and needs no fence.
#[inline(always)]
pub(crate) fn fence_before_waking() {}

/// Nowhere to sleep: a lobby compiles to nothing. (Only the ticket lock
/// has a lobby there, where fetch-add exists.)
#[cfg(target_has_atomic = "32")]
pub(crate) struct Backend;

#[cfg(target_has_atomic = "32")]
impl super::lobby::LobbyParking for Backend {
    const SLEEPS: bool = false;

    fn fence_to_sleep(&self) -> bool {
        true
    }

    fn fence_to_wake(&self) {}

    fn wait(&self, _key: usize, _token: usize, _still_blocked: impl Fn() -> bool, _nap: Nap) {}

    fn wake(&self, _key: usize, _lets_through: impl FnMut(usize) -> bool) {}
}
