//! Orderings, each by name.
//!
//! Every `Release`, `Acquire` or `AcqRel` access on an algorithm's path is
//! written with an [`Access`] constant: its name, its ordering, and why that
//! ordering is there. In a user's build `order()` is the constant itself. In
//! doorway's own loom and Miri builds a test may weaken exactly one named
//! access, one step (to `Relaxed`, or `AcqRel` to `Acquire`), to show that a
//! model then fails; `bash .ci/orderings` does that for every access in turn.
//! (`Relaxed` accesses carry a comment saying why they need no edge; there is
//! nothing weaker to try.)

use super::Ordering;

/// Why an access has the ordering it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// Read by doorway's ordering sweep only.
#[cfg_attr(not(hooks), allow(dead_code))]
pub enum Why {
    /// It provides a happens-before edge that some model or Miri test needs:
    /// weakened, that test must fail.
    Edge,
    /// It is kept for a reason other than an edge a test can observe, given
    /// in words (for example: a fence right after it already orders it).
    /// The ordering sweep accepts its weakening surviving every model.
    Redundant(&'static str),
}

/// One named atomic access: a load, a store or a read-modify-write.
#[derive(Clone, Copy, Debug)]
// The name and the reason are read by doorway's ordering sweep only.
#[cfg_attr(not(hooks), allow(dead_code))]
pub struct Access {
    /// `module: what the access is`, unique in the crate.
    pub name: &'static str,
    /// The ordering the access runs with.
    order: Ordering,
    /// Why it has that ordering.
    pub why: Why,
}

impl Access {
    /// An access that provides an edge some test must see.
    pub const fn edge(name: &'static str, order: Ordering) -> Self {
        Self {
            name,
            order,
            why: Why::Edge,
        }
    }

    /// An access whose ordering no test can see fail, for the reason given.
    #[cfg_attr(not(hooks), allow(dead_code))]
    pub const fn redundant(name: &'static str, order: Ordering, because: &'static str) -> Self {
        Self {
            name,
            order,
            why: Why::Redundant(because),
        }
    }

    /// The ordering to run the access with: [`order`](Self::order), unless a
    /// test has weakened this access.
    #[inline(always)]
    pub(crate) fn order(self) -> Ordering {
        #[cfg(mutants)]
        return super::mutation::access_order(self.name, self.order);
        #[cfg(not(mutants))]
        return self.order;
    }

    /// The ordering as written in the code.
    #[cfg_attr(not(hooks), allow(dead_code))]
    pub const fn declared(self) -> Ordering {
        self.order
    }

    /// The ordering one step weaker, as the sweep tries it; `None` for
    /// `Relaxed`.
    #[cfg_attr(not(hooks), allow(dead_code))]
    pub const fn weaker(self) -> Option<Ordering> {
        match self.order {
            Ordering::SeqCst => Some(Ordering::AcqRel),
            Ordering::AcqRel => Some(Ordering::Acquire),
            Ordering::Release | Ordering::Acquire => Some(Ordering::Relaxed),
            _ => None,
        }
    }
}
