//! Fuzzing the shared file's open-and-validate path and its decodings with
//! proptest: arbitrary headers and lengths, arbitrary block, decision and
//! file words. Nothing may panic; whatever is accepted must keep the
//! invariants every reader relies on (indices in range, ballots bounded,
//! votes not above promises).

#![cfg(all(target_os = "linux", not(loom), not(miri)))]

use doorway::paxos::{block::WordBlock, latch::LatchBlock};
use doorway::shm::{Error, HEADER_BYTES, Layout, Options, Shared, decode};
use proptest::prelude::*;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh path in the temporary directory, removed by each case.
fn scratch() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("doorway-fuzz-{}-{n}", std::process::id()))
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        1usize..8,
        prop_oneof![Just(1u32), Just(2)],
        0usize..40,
        0usize..20,
    )
        .prop_map(
            |(participants, block_kind, value_size, log_capacity)| Layout {
                participants,
                block_kind,
                value_size,
                value_align: 4,
                data_size: 16,
                data_align: 8,
                log_capacity,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any bytes as a header: an error or a layout whose regions exist.
    #[test]
    fn any_header_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(layout) = Layout::from_header(&bytes) {
            prop_assert!(layout.file_len().is_ok());
            prop_assert_eq!(Layout::from_header(&layout.to_header().unwrap()).unwrap(), layout);
        }
    }

    /// A valid header with bytes changed: refused unless nothing changed.
    #[test]
    fn mutated_headers(layout in layout(), edits in proptest::collection::vec((0usize..HEADER_BYTES, any::<u8>()), 1..6)) {
        let mut header = layout.to_header().unwrap();
        let original = header;
        for (at, byte) in edits {
            header[at] = byte;
        }
        match Layout::from_header(&header) {
            Ok(read) => prop_assert!(header == original && read == layout),
            Err(_) => prop_assert!(header != original),
        }
    }

    /// Block words: whatever is accepted names an input below `n`, has a
    /// vote no higher than its promise, and ballots that are the owner's.
    #[test]
    fn block_words(fields in any::<[u32; 3]>(), owner in 0usize..300, n in 0usize..300) {
        if let Some([mbal, bal, input]) = decode::block(fields, owner, n) {
            prop_assert!(owner < n && n <= 255);
            prop_assert!(mbal <= (1 << 28) - 1 - n as u32);
            prop_assert!(bal <= mbal);
            prop_assert!((input == 0) == (bal == 0));
            prop_assert!(input == 0 || (input as usize) <= n);
            for ballot in [mbal, bal] {
                prop_assert!(ballot == 0 || (ballot as usize - 1) % n == owner);
            }
            prop_assert_eq!([mbal, bal, input], fields);
        }
    }

    /// Small block words, so that many decode: the same invariants.
    #[test]
    fn small_block_words(fields in any::<[u8; 3]>(), owner in 0usize..4, n in 1usize..5) {
        let fields = fields.map(|f| u32::from(f % 16));
        if let Some([mbal, bal, input]) = decode::block(fields, owner, n) {
            prop_assert!(bal <= mbal && (input as usize) <= n && owner < n);
        }
    }

    /// 64-bit word blocks: the fields are re-packed, the same checks apply.
    #[test]
    fn word_blocks(word in any::<u64>(), owner in 0usize..8, n in 1usize..9) {
        if let Some([mbal, bal, input]) = decode::word_block(word, owner, n) {
            prop_assert!(bal <= mbal && (input as usize) <= n);
        }
    }

    /// Decision words: decided indices are in range, the rest corrupt.
    #[test]
    fn decision_words(word in any::<u32>(), n in 1usize..256) {
        match decode::decision(word, n) {
            Ok(Some(i)) => prop_assert!(i < n && word as usize == i + 1),
            Ok(None) => prop_assert_eq!(word, 0),
            Err(()) => prop_assert!(word as usize > n),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Open a file with a random header and length: an error, never a
    /// panic; with the true header and the wrong length, a length error.
    #[test]
    fn open_random_files(layout in layout(), junk in proptest::collection::vec(any::<u8>(), 0..300), cut in any::<u16>(), keep_header in any::<bool>()) {
        let path = scratch();
        let len = layout.file_len().unwrap();
        let mut bytes = if keep_header { layout.to_header().unwrap().to_vec() } else { Vec::new() };
        bytes.extend_from_slice(&junk);
        std::fs::write(&path, &bytes).unwrap();
        // As `create` makes them: a mode that gives read without write is
        // refused before the contents are read.
        let private = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600);
        std::fs::set_permissions(&path, private).unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let target = u64::from(cut) % (len + 64);
        file.set_len(target).unwrap();
        let opened = if layout.block_kind == 1 {
            Shared::<[u8; 8], [u64; 2], WordBlock>::open(&path).map(|_| ())
        } else {
            Shared::<[u8; 8], [u64; 2], LatchBlock>::open(&path).map(|_| ())
        };
        if keep_header && target != len && target >= HEADER_BYTES as u64 {
            prop_assert!(matches!(opened, Err(Error::Length { .. }) | Err(Error::Layout { .. })), "{:?}", opened);
        }
        let _ = std::fs::remove_file(&path);
    }

    /// A valid file whose every byte after the header is random (mostly
    /// small values, so that blocks and decisions often decode): every
    /// public read path, a proposal, an append and the lock return, never
    /// panic. Both block kinds.
    #[test]
    fn random_contents(seed in any::<u64>(), small in any::<bool>(), latch in any::<bool>()) {
        let path = scratch();
        let options = Options::new(3).log_capacity(4);
        let len = if latch {
            Shared::<u32, u64, LatchBlock>::create(&path, &options).unwrap().layout().file_len().unwrap()
        } else {
            Shared::<u32, u64, WordBlock>::create(&path, &options).unwrap().layout().file_len().unwrap()
        };
        let mut state = seed | 1;
        let contents: Vec<u8> = (HEADER_BYTES as u64..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if small { (state as u8) & 3 } else { state as u8 }
            })
            .collect();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .write_all_at(&contents, HEADER_BYTES as u64)
            .unwrap();
        if latch {
            exercise::<LatchBlock>(&path);
        } else {
            exercise::<WordBlock>(&path);
        }
        let _ = std::fs::remove_file(&path);
    }
}

/// Every public path of a file of `u32` values and `u64` data.
fn exercise<B: doorway::paxos::block::BlockCell>(path: &std::path::Path) {
    let file = Shared::<u32, u64, B>::open(path).unwrap();
    let _ = file.decided();
    for slot in 0..6 {
        let _ = (file.log_get(slot), file.log_author(slot));
    }
    let _ = (
        file.log_len(),
        file.log_entries(),
        file.participants(),
        file.is_locked(),
    );
    let _ = file.recover_dead();
    if let Ok(mut me) = file.join() {
        let _ = me.propose(1);
        let _ = me.append(2);
        let _ = me.propose_at(3, 3);
        let mut guard = me.lock();
        let value = guard.get();
        guard.set(&value.wrapping_add(1));
    }
}
