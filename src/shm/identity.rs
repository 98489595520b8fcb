//! Who owns a slot: a process named by its pid and its start time, which
//! together name one life of one process and are never reused; and how a
//! survivor learns that an owner is dead.
//!
//! # Identity
//!
//! An owner is `pid << 40 | start`, where `start` is the process's start
//! time in clock ticks since boot (`/proc/<pid>/stat`, field 22). A pid is
//! reused only after its process is gone, and the new process starts later,
//! so its start time differs (both would have to fall in one 10 ms tick: a
//! pid recycled through the whole pid space within one tick). Linux pids are
//! below 2²² (`PID_MAX_LIMIT`); 40 bits of ticks last 348 years of uptime.
//!
//! Start times count from boot, so each slot also carries a boot stamp (a
//! hash of `/proc/sys/kernel/random/boot_id`), written by every claimant
//! before it claims: an owner stamped with another boot is dead.
//!
//! # Liveness
//!
//! An owner is alive if its boot is this boot and `/proc/<pid>/stat` exists,
//! shows that start time, and a state other than zombie (`Z`) or dead
//! (`X`). A stopped (`SIGSTOP`) or traced process is alive: it may resume.
//! A process that has exited or been killed never takes another step, and
//! the kernel has torn down its address space (so every store it made is
//! in the shared pages) before `/proc` reports it a zombie or stops showing
//! it: that is the ordering the recovery protocol relies on.
//!
//! Only Linux (and Android) have `/proc` with start times; on other unix
//! systems claiming a slot is [`Error::Unsupported`](super::Error).

use super::Error;
use crate::robust::Owner;

/// Bits of the start time in an owner word.
const START_BITS: u32 = 40;
/// Bits of the pid (Linux's `PID_MAX_LIMIT` is 2²²).
const PID_BITS: u32 = 22;

/// The owner word of process `pid` started at `start`, if both fit.
pub(crate) fn owner(pid: u32, start: u64) -> Option<Owner> {
    (pid != 0 && pid < 1 << PID_BITS && start < 1 << START_BITS)
        .then(|| (u64::from(pid) << START_BITS) | start)
}

/// The pid in an owner word.
pub(crate) fn pid_of(owner: Owner) -> u32 {
    (owner >> START_BITS) as u32
}

/// The start time in an owner word.
fn start_of(owner: Owner) -> u64 {
    owner & ((1 << START_BITS) - 1)
}

/// The calling process's owner word.
pub(crate) fn current() -> Result<Owner, Error> {
    let pid = std::process::id();
    let stat = read_stat(pid).ok_or(Error::Unsupported(
        "no start time for this process in /proc (Linux only)",
    ))?;
    owner(pid, stat.start).ok_or(Error::Unsupported(
        "a pid or start time too large for an owner word",
    ))
}

/// What `/proc/<pid>/stat` says that matters here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stat {
    /// The state letter (`R`, `S`, `D`, `T`, `t`, `Z`, `X`, …).
    pub(crate) state: u8,
    /// Start time in clock ticks since boot.
    pub(crate) start: u64,
}

/// Parses a `/proc/<pid>/stat` line: `pid (comm) state ppid … starttime …`.
/// The command name may hold spaces and parentheses, so fields are counted
/// from the last `)`.
pub(crate) fn parse_stat(line: &str) -> Option<Stat> {
    let rest = &line[line.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    // Fields 4 to 21 lie between the state (3) and the start time (22).
    let start = fields.nth(18)?.parse().ok()?;
    Some(Stat { state, start })
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn read_stat(pid: u32) -> Option<Stat> {
    let line = std::fs::read_to_string(std::format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&line)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn read_stat(_pid: u32) -> Option<Stat> {
    None
}

/// This boot's stamp: a nonzero hash of the kernel's boot id.
pub(crate) fn boot_stamp() -> u64 {
    static STAMP: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *STAMP.get_or_init(|| {
        let id = std::fs::read("/proc/sys/kernel/random/boot_id").unwrap_or_default();
        super::header::fnv1a(&id) | 1
    })
}

/// Whether `owner` lives, given the boot stamp of its slot.
pub(crate) fn is_alive(owner: Owner, stamp: u64) -> bool {
    if stamp != boot_stamp() {
        return false; // it lived in an earlier boot
    }
    match read_stat(pid_of(owner)) {
        Some(stat) => stat.start == start_of(owner) && !matches!(stat.state, b'Z' | b'X'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_past_odd_names() {
        let line = "4242 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 19 20";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                state: b'S',
                start: 987_654
            })
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) Z 1 2"), None);
    }

    #[test]
    fn owner_words_round_trip() {
        let word = owner(4_000_000, 123_456_789).unwrap();
        assert_eq!((pid_of(word), start_of(word)), (4_000_000, 123_456_789));
        assert!(
            word & !crate::robust::ID_MASK == 0,
            "the state bits stay free"
        );
        assert_eq!(owner(0, 1), None);
        assert_eq!(owner(1 << 22, 1), None);
    }

    #[cfg(all(target_os = "linux", not(miri)))]
    #[test]
    fn this_process_is_alive_and_its_predecessor_is_not() {
        let me = current().unwrap();
        assert!(is_alive(me, boot_stamp()));
        assert!(!is_alive(me, boot_stamp() ^ 2), "another boot");
        let earlier = owner(pid_of(me), start_of(me).wrapping_sub(1) % (1 << 40)).unwrap();
        assert!(!is_alive(earlier, boot_stamp()), "a recycled pid");
    }
}
