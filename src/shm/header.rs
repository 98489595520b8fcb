//! The file's header and layout: what the file says about itself, checked
//! before anything else is read, and where every region lies.
//!
//! Pure functions over bytes: no mapping, no atomics, so they run under Miri
//! and the fuzz tests call them directly.
//!
//! # The header (128 bytes, native byte order)
//!
//! ```text
//! 0   magic         b"doorway\0"
//! 8   version       2
//! 12  byte order    0x0102_0304 as written by the creating machine
//! 16  header bytes  128
//! 20  participants  1 ..= 255 (members; proposers; bakery participants)
//! 24  block kind    1: one 64-bit word per block, 2: a 32-bit latch
//! 28  value size    bytes of T (register and log values)
//! 32  value align   alignment of T
//! 36  data size     bytes of D (the bakery's data)
//! 40  data align    alignment of D
//! 44  log capacity  slots of the log
//! 48  total length  bytes of the whole file (u64)
//! 56  checksum      FNV-1a (64-bit) of bytes 0..56 (u64)
//! 64..128           zero
//! ```
//!
//! # Regions (each starts on a 64-byte line)
//!
//! ```text
//! header     128 bytes
//! claims     one line per participant (CLAIM_BYTES): at CLAIM_WORD the
//!            claim word (u64: 0 free, else the owner's pid), at WAKE_WORD
//!            the wake word (u32: 0 awake, else whom it sleeps on, plus
//!            one), 4 reserved bytes, at INSIDE inside (u32); the line's
//!            first byte is also the participant's byte lock
//!            (`Regions::claim_byte`, see `custody`)
//! bakery     a line of its own: at OWNER_DIED owner_died (u32), at ASLEEP
//!            how many sleep (u32); then number[P] (u32); choosing[P] (u8)
//! data       D, as 32-bit words
//! registers  1 + capacity registers (the register, then the log's slots),
//!            each: blocks[P] (8 or 28 bytes), decision (u32), then per
//!            participant an input: written (u32), then at INPUT_VALUE T as
//!            32-bit words
//! ```
//!
//! Limits keep every offset far from overflow: at most 255 participants,
//! values and data of at most 1 MiB, a log of at most 2²⁴ slots, and a file
//! of at most 2⁴⁰ bytes.

use super::Error;

/// Bytes of the header.
pub const HEADER_BYTES: usize = 128;

const MAGIC: [u8; 8] = *b"doorway\0";
/// The format version this crate reads and writes.
pub const VERSION: u32 = 2;
const BYTE_ORDER: u32 = 0x0102_0304;
const LINE: u64 = 64;

/// The most participants a file can have (the Paxos register's limit).
pub const MAX_PARTICIPANTS: usize = crate::paxos::ballot::MAX_PROPOSERS;
/// The largest value or data type, in bytes.
pub const MAX_VALUE_BYTES: usize = 1 << 20;
/// The most log slots.
pub const MAX_LOG_CAPACITY: usize = 1 << 24;
/// The largest file.
pub const MAX_FILE_BYTES: u64 = 1 << 40;

/// Bytes of one block of each kind.
const fn block_bytes(kind: u32) -> Option<u64> {
    match kind {
        1 => Some(8),
        2 => Some(28),
        _ => None,
    }
}

/// What a file holds: checked against the types a process opens it with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Participants (members, proposers, replicas, bakery participants).
    pub participants: usize,
    /// 1: word blocks, 2: latch blocks.
    pub block_kind: u32,
    /// `size_of::<T>()` of the values agreed on.
    pub value_size: usize,
    /// `align_of::<T>()`.
    pub value_align: usize,
    /// `size_of::<D>()` of the bakery's data.
    pub data_size: usize,
    /// `align_of::<D>()`.
    pub data_align: usize,
    /// Slots of the log.
    pub log_capacity: usize,
}

/// Byte offsets of every region, computed from a checked [`Layout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Regions {
    pub(crate) claims: usize,
    /// The bakery's line: `owner_died` and how many sleep.
    pub(crate) bakery: usize,
    pub(crate) numbers: usize,
    pub(crate) choosing: usize,
    pub(crate) data: usize,
    pub(crate) registers: usize,
    /// Bytes of one register region.
    pub(crate) register_bytes: usize,
    /// Within a register region: where the decision word lies.
    pub(crate) decision: usize,
    /// Within a register region: where the inputs start.
    pub(crate) inputs: usize,
    /// Bytes of one input: the written flag and the value's words.
    pub(crate) input_bytes: usize,
    /// Bytes of one block.
    pub(crate) block_bytes: usize,
    /// Bytes of the whole file.
    pub(crate) total: usize,
}

/// Bytes of one claim line: claim word, wake word, 4 reserved bytes, inside.
pub(crate) const CLAIM_BYTES: usize = 64;
/// Within a claim line: the claim word (u64).
pub(crate) const CLAIM_WORD: usize = 0;
/// Within a claim line: the wake word (u32).
pub(crate) const WAKE_WORD: usize = 8;
/// Within a claim line: `inside` (u32), after 4 reserved bytes.
pub(crate) const INSIDE: usize = 16;
/// Within the bakery's line: `owner_died` (u32).
pub(crate) const OWNER_DIED: usize = 0;
/// Within the bakery's line: how many participants sleep (u32).
pub(crate) const ASLEEP: usize = 4;
/// Within an input: the written flag (u32) is at 0, the value's words from
/// here.
pub(crate) const INPUT_VALUE: usize = 4;

impl Regions {
    /// Where participant `i`'s claim line begins.
    ///
    /// # Panics
    ///
    /// If `i` is not below `participants` (a bug in this module).
    pub(crate) fn claim_line(&self, participants: usize, i: usize) -> usize {
        assert!(
            i < participants,
            "doorway shm: participant {i} of {participants}"
        );
        self.claims + i * CLAIM_BYTES
    }

    /// The byte whose lock is participant `i`'s custody (see `custody`): the
    /// first of its claim line. The one place this is computed.
    pub(crate) fn claim_byte(&self, participants: usize, i: usize) -> u64 {
        self.claim_line(participants, i) as u64
    }
}

fn round_up(x: u64, to: u64) -> Option<u64> {
    x.checked_add(to - 1).map(|x| x / to * to)
}

/// Words of 32 bits that hold `bytes`.
pub(crate) const fn words(bytes: usize) -> usize {
    bytes.div_ceil(4)
}

impl Layout {
    /// Checks the limits and computes where everything lies.
    pub(crate) fn regions(&self) -> Result<Regions, Error> {
        let bad = |what: &'static str| Err(Error::Header(what));
        if self.participants == 0 || self.participants > MAX_PARTICIPANTS {
            return bad("participants must be 1 to 255");
        }
        let Some(block) = block_bytes(self.block_kind) else {
            return bad("unknown block kind");
        };
        if self.value_size > MAX_VALUE_BYTES || self.data_size > MAX_VALUE_BYTES {
            return bad("values and data are at most 1 MiB");
        }
        for align in [self.value_align, self.data_align] {
            if !align.is_power_of_two() || align > 4096 {
                return bad("an alignment is not a power of two up to 4096");
            }
        }
        if self.log_capacity > MAX_LOG_CAPACITY {
            return bad("the log has at most 2^24 slots");
        }
        let p = self.participants as u64;
        let fits = |x: Option<u64>| x.filter(|&x| x <= MAX_FILE_BYTES);
        let compute = || -> Option<Regions> {
            let claims = HEADER_BYTES as u64;
            let bakery = fits(round_up(claims + p * CLAIM_BYTES as u64, LINE))?;
            let numbers = bakery + LINE;
            let choosing = fits(round_up(numbers + 4 * p, LINE))?;
            let data = fits(round_up(choosing + p, LINE))?;
            let data_words = words(self.data_size) as u64;
            let registers = fits(round_up(data + 4 * data_words, LINE))?;
            let decision = round_up(p * block, 8)?;
            let inputs = decision + 8;
            let input_bytes = (INPUT_VALUE + 4 * words(self.value_size)) as u64;
            let register_bytes = fits(round_up(inputs + p * input_bytes, LINE))?;
            let count = 1 + self.log_capacity as u64;
            let total = fits(registers.checked_add(count.checked_mul(register_bytes)?))?;
            let us = |x: u64| usize::try_from(x).ok();
            Some(Regions {
                claims: us(claims)?,
                bakery: us(bakery)?,
                numbers: us(numbers)?,
                choosing: us(choosing)?,
                data: us(data)?,
                registers: us(registers)?,
                register_bytes: us(register_bytes)?,
                decision: us(decision)?,
                inputs: us(inputs)?,
                input_bytes: us(input_bytes)?,
                block_bytes: us(block)?,
                total: us(total)?,
            })
        };
        compute().map_or_else(|| bad("the file would exceed 2^40 bytes"), Ok)
    }

    /// Bytes of the whole file this layout describes.
    pub fn file_len(&self) -> Result<u64, Error> {
        Ok(self.regions()?.total as u64)
    }

    /// The header of a file with this layout.
    pub fn to_header(&self) -> Result<[u8; HEADER_BYTES], Error> {
        let total = self.regions()?.total as u64;
        let mut h = [0u8; HEADER_BYTES];
        let put = |h: &mut [u8; HEADER_BYTES], at: usize, x: u32| {
            h[at..at + 4].copy_from_slice(&x.to_ne_bytes());
        };
        h[0..8].copy_from_slice(&MAGIC);
        put(&mut h, 8, VERSION);
        put(&mut h, 12, BYTE_ORDER);
        put(&mut h, 16, HEADER_BYTES as u32);
        // Each fits: `regions` checked the limits.
        put(&mut h, 20, self.participants as u32);
        put(&mut h, 24, self.block_kind);
        put(&mut h, 28, self.value_size as u32);
        put(&mut h, 32, self.value_align as u32);
        put(&mut h, 36, self.data_size as u32);
        put(&mut h, 40, self.data_align as u32);
        put(&mut h, 44, self.log_capacity as u32);
        h[48..56].copy_from_slice(&total.to_ne_bytes());
        let sum = fnv1a(&h[..56]);
        h[56..64].copy_from_slice(&sum.to_ne_bytes());
        Ok(h)
    }

    /// Reads and checks a header: any bytes at all give a layout whose
    /// regions are in bounds of the length it states, or an error, never a
    /// panic.
    pub fn from_header(bytes: &[u8]) -> Result<Layout, Error> {
        if bytes.len() < HEADER_BYTES {
            return Err(Error::Length {
                found: bytes.len() as u64,
                expected: HEADER_BYTES as u64,
            });
        }
        let u32_at = |at: usize| {
            let mut word = [0u8; 4];
            word.copy_from_slice(&bytes[at..at + 4]);
            u32::from_ne_bytes(word)
        };
        let u64_at = |at: usize| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[at..at + 8]);
            u64::from_ne_bytes(word)
        };
        if bytes[0..8] != MAGIC {
            return Err(Error::NotDoorway);
        }
        if u32_at(12) != BYTE_ORDER {
            return Err(Error::Header(
                "written on a machine of the other byte order",
            ));
        }
        if u32_at(8) != VERSION {
            return Err(Error::Version {
                found: u32_at(8),
                supported: VERSION,
            });
        }
        if u64_at(56) != fnv1a(&bytes[..56]) {
            return Err(Error::Header("checksum mismatch"));
        }
        if u32_at(16) != HEADER_BYTES as u32 || bytes[64..HEADER_BYTES].iter().any(|&b| b != 0) {
            return Err(Error::Header("unknown header extension"));
        }
        let us = |x: u32| x as usize;
        let layout = Layout {
            participants: us(u32_at(20)),
            block_kind: u32_at(24),
            value_size: us(u32_at(28)),
            value_align: us(u32_at(32)),
            data_size: us(u32_at(36)),
            data_align: us(u32_at(40)),
            log_capacity: us(u32_at(44)),
        };
        let total = layout.regions()?.total as u64;
        if u64_at(48) != total {
            return Err(Error::Header("the stated length does not match the layout"));
        }
        Ok(layout)
    }
}

/// FNV-1a, 64-bit.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout {
            participants: 3,
            block_kind: 1,
            value_size: 12,
            value_align: 4,
            data_size: 24,
            data_align: 8,
            log_capacity: 5,
        }
    }

    #[test]
    fn headers_round_trip() {
        let h = layout().to_header().unwrap();
        assert_eq!(Layout::from_header(&h).unwrap(), layout());
    }

    #[test]
    fn regions_are_in_order_and_in_bounds() {
        let r = layout().regions().unwrap();
        assert!(r.claims == HEADER_BYTES && r.bakery >= r.claims + 3 * CLAIM_BYTES);
        assert!(r.numbers < r.choosing && r.choosing < r.data && r.data < r.registers);
        assert!(r.decision >= 3 * 8 && r.inputs + 3 * r.input_bytes <= r.register_bytes);
        assert_eq!(r.total, r.registers + 6 * r.register_bytes);
        assert!(r.registers.is_multiple_of(64) && r.register_bytes.is_multiple_of(64));
        assert!(r.decision.is_multiple_of(8));
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let h = layout().to_header().unwrap();
        // Under Miri, every 7th bit (it runs this once per seed).
        let step = if cfg!(miri) { 7 } else { 1 };
        for bit in (0..HEADER_BYTES * 8).step_by(step) {
            let mut bad = h;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(Layout::from_header(&bad).is_err(), "bit {bit}");
        }
    }

    #[test]
    fn short_headers_and_wrong_versions_are_refused() {
        let h = layout().to_header().unwrap();
        assert!(matches!(
            Layout::from_header(&h[..100]),
            Err(Error::Length { .. })
        ));
        for other in [VERSION - 1, VERSION + 1] {
            let mut h = h;
            h[8..12].copy_from_slice(&other.to_ne_bytes());
            let sum = fnv1a(&h[..56]);
            h[56..64].copy_from_slice(&sum.to_ne_bytes());
            assert!(matches!(
                Layout::from_header(&h),
                Err(Error::Version { found, .. }) if found == other
            ));
        }
        assert!(matches!(
            Layout::from_header(&[0u8; 128]),
            Err(Error::NotDoorway)
        ));
    }

    #[test]
    fn limits_hold() {
        let too_many = Layout {
            participants: 256,
            ..layout()
        };
        assert!(too_many.regions().is_err());
        let huge = Layout {
            log_capacity: MAX_LOG_CAPACITY,
            value_size: MAX_VALUE_BYTES,
            participants: 255,
            ..layout()
        };
        assert!(huge.regions().is_err(), "2^24 slots of 255 MiB exceed 2^40");
    }
}
