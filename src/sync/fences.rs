//! Fences, each by name.
//!
//! Each algorithm declares its fences as [`FenceSite`] constants, documented
//! with the reordering they forbid and the partner fence on the other side,
//! and passes the name to [`fence`]. In a user's build the name compiles away.
//! In doorway's own loom and Miri builds a test may remove or weaken exactly
//! one named fence ([`mutation`](super::mutation)) to show that a model then
//! fails.

use super::Ordering;

/// The name of one fence in one algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FenceSite(pub &'static str);

impl core::fmt::Display for FenceSite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.0)
    }
}

/// Issues the memory fence named `site`.
#[inline(always)]
pub(crate) fn fence(order: Ordering, site: FenceSite) {
    #[cfg(mutants)]
    let Some(order) = super::mutation::fence_order(site, order) else {
        return;
    };
    #[cfg(not(mutants))]
    let _ = site;
    #[cfg(loom)]
    loom::sync::atomic::fence(order);
    #[cfg(not(loom))]
    core::sync::atomic::fence(order);
}
