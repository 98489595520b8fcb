//! The per-core bakery's packed register: one 32-bit word per core holding its
//! `choosing` bit, its batch color and its ticket.
//!
//! ```text
//! bit 31      choosing
//! bit 30      color (set: white)
//! bits 0..30  ticket
//! ```
//!
//! An idle core's word is 0. Packing the three into one word is what lets a
//! core's doorway be two stores to its own cache line, and a waiter's look at
//! a rival be one load, so a ticket is never read with a stale color.

use core::fmt;

const CHOOSING_BIT: u32 = 1 << 31;
const WHITE_BIT: u32 = 1 << 30;
pub(super) const TICKET_MASK: u32 = WHITE_BIT - 1;

/// A batch color: the value of the color bit.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Color(pub(super) u32);

impl Color {
    pub(super) const BLACK: Color = Color(0);

    #[inline(always)]
    pub(super) fn other(self) -> Color {
        Color(self.0 ^ WHITE_BIT)
    }
}

impl fmt::Debug for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if *self == Color::BLACK {
            "black"
        } else {
            "white"
        })
    }
}

/// A core's word, as read or about to be written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Word(pub(super) u32);

impl Word {
    pub(super) const IDLE: Word = Word(0);
    pub(super) const CHOOSING: Word = Word(CHOOSING_BIT);

    #[inline(always)]
    pub(super) fn in_line(color: Color, ticket: u32) -> Word {
        debug_assert!(0 < ticket && ticket <= TICKET_MASK);
        Word(color.0 | ticket)
    }

    #[inline(always)]
    pub(super) fn is_choosing(self) -> bool {
        self.0 & CHOOSING_BIT != 0
    }

    #[inline(always)]
    pub(super) fn color(self) -> Color {
        Color(self.0 & WHITE_BIT)
    }

    #[inline(always)]
    pub(super) fn ticket(self) -> u32 {
        self.0 & TICKET_MASK
    }

    /// Whether the word holds a ticket: its core is in line or in the
    /// critical section.
    #[inline(always)]
    pub(super) fn has_ticket(self) -> bool {
        self.ticket() != 0
    }
}

impl fmt::Debug for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Word::IDLE => f.write_str("idle"),
            w if w.is_choosing() => f.write_str("choosing"),
            w => write!(f, "{:?} {}", w.color(), w.ticket()),
        }
    }
}

/// A core's place in line: its batch color and its ticket, as the doorway
/// handed them out ([`FifoLock::Ticket`](crate::FifoLock::Ticket) of the
/// per-core bakery).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Place(pub(super) Word);

impl Place {
    /// The ticket number, from 1 to [`TICKET_LIMIT`](super::TICKET_LIMIT) (at
    /// most `N` unless withdrawals pushed it higher).
    pub fn number(self) -> u32 {
        self.0.ticket()
    }

    /// Whether the place is in the white batch (else the black one).
    pub fn is_white(self) -> bool {
        self.0.color() != Color::BLACK
    }

    #[inline(always)]
    pub(super) fn color(self) -> Color {
        self.0.color()
    }
}

impl fmt::Debug for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Place")
            .field("color", &self.0.color())
            .field("number", &self.number())
            .finish()
    }
}
