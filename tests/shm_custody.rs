//! No descriptor operation of a live member's process hands its participant
//! to another process, and a lock no member places is named, not waited on
//! in silence.
//!
//! Each case runs real processes: this test binary, re-executed with a role
//! in `DOORWAY_CUSTODY_ROLE` (see [`custody_worker`]).
//!
//! # Stray closes
//!
//! A member's process closes every descriptor it has behind doorway's back
//! (doorway's, if it had any, among them), in one of three ways: `close` of
//! each descriptor number from 3 to 1023, `close_range(3, ~0U, 0)` (as
//! daemonizing code does), or `dup2` of `/dev/null` over each open
//! descriptor. Then, while it lives and holds on:
//!
//! - **bakery**: a holder inside the lock closes, and stays inside for
//!   [`HOLD`]; a waiter in another process joins and locks. Exclusion is judged
//!   outside doorway, as in `shm_liveness.rs`: a counter file read on entering
//!   and written back plus one on leaving, and an `O_APPEND` log of `E` and
//!   `X` lines; they must alternate, the counter must count both critical
//!   sections, and the waiter must not be told `owner_died()` (nobody died).
//! - **agreement**: a proposer joins as participant 0 and closes; a second
//!   process must be refused participant 0 (`join_as(0)` is `Full`) and
//!   `join` as participant 1 without taking anyone over. Both then propose in
//!   the register and append to the log at once; both must be told the
//!   same decided value, the one the file holds, and every entry each
//!   appended must be in the log where it was told it is.
//!
//! # Interference
//!
//! A holder is killed inside the lock; before anyone recovers it, the
//! supervisor places a read lock on the dead holder's byte (which any
//! process that can read the file can do). `Member::lock_checked` and
//! `recover_dead` must name it (`Error::Interference`) within a bound rather
//! than stall; once the read lock is gone, the dead holder is recovered and
//! the next holder is told `owner_died()`.
//!
//! # A death deep in the line of sleepers
//!
//! A holder stays inside while five waiters queue and sleep behind it; the
//! third of them is killed while asleep. Sleepers deep in line sleep long
//! (up to 100 ms), so this checks that the dead one is still found as soon
//! as it reaches the head: the waiter behind it must enter within
//! [`DEEP_DEATH_FOUND_WITHIN`] of the exit of the one before it (it is
//! nudged when its place comes near the head, and then naps 2 ms at most),
//! with every critical section alone (the witness) and nobody told
//! `owner_died()` (the dead one died waiting, not inside).
//!
//! Every child is killed and reaped on every path, and every wait has a
//! deadline. Each case takes about half a second.

#![cfg(all(feature = "shm", target_os = "linux", not(loom), not(miri)))]

use doorway::shm::{Error, Options, Shared};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type File = Shared<u64, u64>;

const ROLE: &str = "DOORWAY_CUSTODY_ROLE";
const DIR: &str = "DOORWAY_CUSTODY_DIR";

const SHARED: &str = "shared.doorway";
const COUNTER: &str = "counter";
const LOG: &str = "log";
/// Created by a worker once it has closed its descriptors.
const CLOSED: &str = "closed";
/// Created by the second proposer once it has joined.
const GO: &str = "go";
/// Created by the holder that is to be killed, once inside.
const INSIDE: &str = "inside";

const SLOTS: usize = 8;
const LOG_SLOTS: usize = 256;
/// Entries each proposer appends.
const APPENDS: u32 = 100;
/// How long the closing holder stays inside after closing: the waiter,
/// started once it has closed, joins and locks well within it.
const HOLD: Duration = Duration::from_millis(400);
const WAIT_WITHIN: Duration = Duration::from_secs(10);
/// How long each waiter of the line stays inside (its holder's stay is
/// the case's: three cases, so that the deep sleepers' 100 ms naps end at
/// three different points of the line's progress, and a death found only
/// by a nap's end shows in at least one of them).
const LINE_TURN: Duration = Duration::from_millis(10);
/// Waiters in the line behind its holder; [`DOOMED`] is killed asleep.
const LINE: usize = 5;
const DOOMED: usize = 2;
/// The longest the waiter behind the dead one may take to enter after the
/// exit of the one before the dead one: its nap near the head (2 ms) and
/// a few system calls, with room for a loaded machine; well below the deep
/// sleepers' 100 ms bound.
const DEEP_DEATH_FOUND_WITHIN: Duration = Duration::from_millis(15);

/// The ways of closing a descriptor one does not own.
const WAYS: [&str; 3] = ["close", "close_range", "dup2"];

// ---------------------------------------------------------------------------
// The workers.
// ---------------------------------------------------------------------------

/// The workers' entry point (`DOORWAY_CUSTODY_ROLE` set); a no-op in the
/// normal run. Roles: `closing-holder:<way>`, `waiter`,
/// `closing-proposer:<way>`, `second-proposer`, `doomed-holder`.
#[test]
fn custody_worker() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let dir = PathBuf::from(std::env::var_os(DIR).expect("the case's directory"));
    // Never outlive the supervisor, whatever happens.
    // SAFETY: `alarm` has no preconditions.
    unsafe { libc::alarm(20) };
    if let Some(way) = role.strip_prefix("closing-holder:") {
        closing_holder(&dir, way);
    } else if role == "waiter" {
        waiter(&dir);
    } else if let Some(way) = role.strip_prefix("closing-proposer:") {
        proposer(&dir, Some(way));
    } else if role == "second-proposer" {
        proposer(&dir, None);
    } else if let Some(k) = role.strip_prefix("in-line:") {
        in_line(&dir, k);
    } else if role == "doomed-holder" {
        let file = open(&dir);
        let mut me = file.join().unwrap_or_else(|e| fail(format!("join: {e}")));
        let guard = me.lock();
        touch(&dir, INSIDE);
        std::thread::sleep(WAIT_WITHIN);
        drop(guard);
        fail("the doomed holder was not killed");
    } else {
        fail(format!("unknown role {role}"));
    }
}

fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("worker {}: {what}", std::process::id());
    std::process::exit(3);
}

fn open(dir: &Path) -> File {
    File::open(dir.join(SHARED)).unwrap_or_else(|e| fail(format!("open the shared file: {e}")))
}

fn touch(dir: &Path, name: &str) {
    fs::write(dir.join(name), b"").unwrap_or_else(|e| fail(format!("create {name}: {e}")));
}

fn wait_for(dir: &Path, name: &str) {
    let deadline = Instant::now() + WAIT_WITHIN;
    while !dir.join(name).exists() {
        if Instant::now() > deadline {
            fail(format!("{name} never appeared"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Closes every descriptor above the standard ones, `way`.
fn close_everything(way: &str) {
    match way {
        "close" => {
            for fd in 3..1024 {
                // SAFETY: closing descriptors this code does not own is the
                // point of the test (it breaks I/O safety on purpose); no
                // Rust handle of this process's is used afterwards except
                // through fresh opens.
                unsafe { libc::close(fd) };
            }
        }
        "close_range" => {
            // SAFETY: as above; `close_range` takes three integers.
            let done = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
            if done != 0 {
                fail(format!("close_range: {}", std::io::Error::last_os_error()));
            }
        }
        "dup2" => {
            let open: Vec<i32> = fs::read_dir("/proc/self/fd")
                .unwrap_or_else(|e| fail(format!("list /proc/self/fd: {e}")))
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .filter(|&fd| fd > 2)
                .collect();
            let null = fs::File::open("/dev/null").unwrap_or_else(|e| fail(e));
            for fd in open.into_iter().filter(|&fd| fd != null.as_raw_fd()) {
                // SAFETY: as above: `/dev/null` replaces whatever `fd` was.
                unsafe { libc::dup2(null.as_raw_fd(), fd) };
            }
        }
        _ => fail(format!("unknown way {way}")),
    }
}

/// The witness, opened afresh for each line (the descriptors may have been
/// closed in between): a counter and an `O_APPEND` log.
fn mark(dir: &Path, kind: char, role: &str, note: &str) {
    let line = format!("{kind} {} {role}{note}\n", std::process::id());
    let mut log = OpenOptions::new()
        .append(true)
        .open(dir.join(LOG))
        .unwrap_or_else(|e| fail(format!("open the log: {e}")));
    match log.write(line.as_bytes()) {
        Ok(n) if n == line.len() => {}
        other => fail(format!("log {line:?}: {other:?}")),
    }
}

fn counter(dir: &Path) -> fs::File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join(COUNTER))
        .unwrap_or_else(|e| fail(format!("open the counter: {e}")))
}

fn enter(dir: &Path, role: &str, owner_died: bool) -> u64 {
    mark(dir, 'E', role, if owner_died { " owner-died" } else { "" });
    let mut bytes = [0; 8];
    counter(dir)
        .read_exact_at(&mut bytes, 0)
        .unwrap_or_else(|e| fail(format!("read the counter: {e}")));
    u64::from_le_bytes(bytes)
}

fn leave(dir: &Path, role: &str, seen: u64) {
    counter(dir)
        .write_all_at(&(seen + 1).to_le_bytes(), 0)
        .unwrap_or_else(|e| fail(format!("write the counter: {e}")));
    mark(dir, 'X', role, "");
}

/// A participant of the line: takes the lock, holds it (the first one,
/// `in-line:holder`, `DOORWAY_CUSTODY_HOLD_MS`; the others [`LINE_TURN`]), and logs
/// its entry and exit in the witness, with the monotonic clock in
/// `times`.
fn in_line(dir: &Path, k: &str) {
    let role = format!("line-{k}");
    let file = open(dir);
    let mut me = file.join().unwrap_or_else(|e| fail(format!("join: {e}")));
    // Its ticket follows within microseconds: the supervisor starts the
    // next one a few milliseconds after this appears.
    touch(dir, &format!("queued-{k}"));
    let guard = me.lock();
    let seen = enter(dir, &role, guard.owner_died());
    stamp(dir, &role, 'E');
    if k == "holder" {
        touch(dir, INSIDE);
        let hold = std::env::var("DOORWAY_CUSTODY_HOLD_MS").unwrap_or_else(|e| fail(e));
        std::thread::sleep(Duration::from_millis(
            hold.parse().unwrap_or_else(|e| fail(e)),
        ));
    } else {
        std::thread::sleep(LINE_TURN);
    }
    stamp(dir, &role, 'X');
    leave(dir, &role, seen);
    drop(guard);
}

/// `<role> <E or X> <monotonic nanoseconds>`, appended to `times`.
fn stamp(dir: &Path, role: &str, kind: char) {
    let line = format!("{role} {kind} {}\n", monotonic().as_nanos());
    let mut times = OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join("times"))
        .unwrap_or_else(|e| fail(format!("open the times: {e}")));
    times.write_all(line.as_bytes()).unwrap_or_else(|e| fail(e));
}

/// `CLOCK_MONOTONIC`, the same in every process of the machine.
fn monotonic() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` is given a valid `timespec`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn closing_holder(dir: &Path, way: &str) {
    let file = open(dir);
    let mut me = file.join().unwrap_or_else(|e| fail(format!("join: {e}")));
    let guard = me.lock();
    let seen = enter(dir, "holder", guard.owner_died());
    close_everything(way);
    touch(dir, CLOSED);
    std::thread::sleep(HOLD);
    leave(dir, "holder", seen);
    drop(guard);
}

fn waiter(dir: &Path) {
    let file = open(dir);
    let mut me = file.join().unwrap_or_else(|e| fail(format!("join: {e}")));
    let guard = me.lock();
    let seen = enter(dir, "waiter", guard.owner_died());
    std::thread::sleep(Duration::from_millis(20));
    leave(dir, "waiter", seen);
    drop(guard);
}

/// A proposer: the closing one as participant 0, the second one beside it.
/// Writes `<decided> <slot>:<entry> …` to `<pid>.out`.
fn proposer(dir: &Path, closing: Option<&str>) {
    let file = open(dir);
    let mut me = match closing {
        Some(way) => {
            let me = file
                .join_as(0)
                .unwrap_or_else(|e| fail(format!("join_as(0): {e}")));
            close_everything(way);
            touch(dir, CLOSED);
            wait_for(dir, GO);
            me
        }
        None => {
            match file.join_as(0) {
                Err(Error::Full) => {}
                Ok(me) => fail(format!(
                    "joined as the live proposer's participant 0 (took over from {:?})",
                    me.took_over_from()
                )),
                Err(e) => fail(format!("join_as(0): {e}")),
            }
            let me = file.join().unwrap_or_else(|e| fail(format!("join: {e}")));
            if me.index() != 1 || me.took_over_from().is_some() {
                fail(format!(
                    "joined as participant {}, took over from {:?}, beside a live proposer",
                    me.index(),
                    me.took_over_from()
                ));
            }
            touch(dir, GO);
            me
        }
    };
    let pid = u64::from(std::process::id());
    let decided = me
        .propose(pid)
        .unwrap_or_else(|e| fail(format!("propose: {e}")));
    let mut out = format!("{decided}");
    for seq in 0..u64::from(APPENDS) {
        let entry = pid << 32 | seq;
        let slot = me
            .append(entry)
            .unwrap_or_else(|e| fail(format!("append: {e}")));
        out += &format!(" {slot}:{entry}");
    }
    fs::write(dir.join(format!("{pid}.out")), out).unwrap_or_else(|e| fail(e));
}

// ---------------------------------------------------------------------------
// The supervisor.
// ---------------------------------------------------------------------------

/// One case's files in a fresh directory; removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(case: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("doorway-custody-{case}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).unwrap();
        let options = Options::new(SLOTS).log_capacity(LOG_SLOTS);
        drop(File::create(dir.join(SHARED), &options).unwrap());
        fs::write(dir.join(COUNTER), 0u64.to_le_bytes()).unwrap();
        fs::write(dir.join(LOG), b"").unwrap();
        Scratch(dir)
    }

    fn log(&self) -> Vec<String> {
        let log = fs::read_to_string(self.0.join(LOG)).unwrap();
        log.lines().map(str::to_owned).collect()
    }

    fn counter(&self) -> u64 {
        u64::from_le_bytes(
            fs::read(self.0.join(COUNTER)).unwrap()[..8]
                .try_into()
                .unwrap(),
        )
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The children of one case, killed and reaped on every path.
struct Children(Vec<(&'static str, Child)>);

impl Children {
    fn spawn(&mut self, scratch: &Scratch, name: &'static str, role: &str) -> u32 {
        self.spawn_with(scratch, name, role, 0)
    }

    /// As `spawn`, for a line holder that stays inside `hold_ms`.
    fn spawn_with(
        &mut self,
        scratch: &Scratch,
        name: &'static str,
        role: &str,
        hold_ms: u64,
    ) -> u32 {
        let stderr = fs::File::create(scratch.0.join(format!("{name}.stderr"))).unwrap();
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "custody_worker", "--nocapture"])
            .env("DOORWAY_CUSTODY_HOLD_MS", hold_ms.to_string())
            .env(ROLE, role)
            .env(DIR, &scratch.0)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let pid = child.id();
        self.0.push((name, child));
        pid
    }

    /// Waits (bounded) until every child has exited; panics, quoting its
    /// standard error, if one failed.
    fn wait_all(&mut self, scratch: &Scratch) {
        let deadline = Instant::now() + WAIT_WITHIN;
        for (name, child) in &mut self.0 {
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                assert!(Instant::now() < deadline, "the {name} never finished");
                std::thread::sleep(Duration::from_millis(2));
            };
            let said = fs::read_to_string(scratch.0.join(format!("{name}.stderr")));
            assert!(
                status.success(),
                "the {name} exited with {status}: {:?}",
                said.unwrap_or_default().trim()
            );
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_for_file(scratch: &Scratch, children: &mut Children, name: &str) {
    let deadline = Instant::now() + WAIT_WITHIN;
    while !scratch.0.join(name).exists() {
        for (who, child) in &mut children.0 {
            if let Some(status) = child.try_wait().unwrap() {
                let said = fs::read_to_string(scratch.0.join(format!("{who}.stderr")));
                panic!(
                    "the {who} exited ({status}) before {name}: {:?}",
                    said.unwrap_or_default().trim()
                );
            }
        }
        assert!(Instant::now() < deadline, "{name} never appeared");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn a_stray_close_leaves_the_holder_inside(way: &str) {
    let scratch = Scratch::new(&format!("bakery-{way}"));
    let mut children = Children(Vec::new());
    children.spawn(&scratch, "holder", &format!("closing-holder:{way}"));
    wait_for_file(&scratch, &mut children, CLOSED);
    children.spawn(&scratch, "waiter", "waiter");
    children.wait_all(&scratch);
    let log = scratch.log();
    let shape: Vec<String> = (log.iter())
        .map(|line| {
            let words: Vec<&str> = line.split(' ').collect();
            format!("{} {}", words[0], words[2..].join(" "))
        })
        .collect();
    assert_eq!(
        shape,
        ["E holder", "X holder", "E waiter", "X waiter"],
        "after `{way}` of every descriptor, the holder's process is alive and inside: \
         nobody else may enter, nor be told it died (log {log:?})"
    );
    assert_eq!(
        scratch.counter(),
        2,
        "mutual exclusion violated after `{way}`: {log:?}"
    );
}

#[test]
fn bakery_close_of_every_descriptor() {
    a_stray_close_leaves_the_holder_inside(WAYS[0]);
}

#[test]
fn bakery_close_range() {
    a_stray_close_leaves_the_holder_inside(WAYS[1]);
}

#[test]
fn bakery_dup2_over_every_descriptor() {
    a_stray_close_leaves_the_holder_inside(WAYS[2]);
}

fn a_stray_close_keeps_one_proposer(way: &str) {
    let scratch = Scratch::new(&format!("paxos-{way}"));
    let mut children = Children(Vec::new());
    let first = children.spawn(
        &scratch,
        "closing proposer",
        &format!("closing-proposer:{way}"),
    );
    wait_for_file(&scratch, &mut children, CLOSED);
    let second = children.spawn(&scratch, "second proposer", "second-proposer");
    children.wait_all(&scratch);
    let file = File::open(scratch.0.join(SHARED)).unwrap();
    let decided = file.decided().unwrap().expect("decided");
    let log = file.log_entries().unwrap();
    for pid in [first, second] {
        let out = fs::read_to_string(scratch.0.join(format!("{pid}.out"))).unwrap();
        let mut words = out.split(' ');
        let told: u64 = words.next().unwrap().parse().unwrap();
        assert_eq!(
            told, decided,
            "after `{way}`, process {pid} was told {told}, the register holds {decided}"
        );
        for pair in words {
            let (slot, entry) = pair.split_once(':').unwrap();
            let (slot, entry): (usize, u64) = (slot.parse().unwrap(), entry.parse().unwrap());
            assert_eq!(
                log.get(slot),
                Some(&entry),
                "after `{way}`, process {pid} was told slot {slot} holds its {entry:#x}"
            );
        }
    }
    assert_eq!(log.len(), 2 * APPENDS as usize, "every append once");
}

#[test]
fn agreement_close_of_every_descriptor() {
    a_stray_close_keeps_one_proposer(WAYS[0]);
}

#[test]
fn agreement_close_range() {
    a_stray_close_keeps_one_proposer(WAYS[1]);
}

#[test]
fn agreement_dup2_over_every_descriptor() {
    a_stray_close_keeps_one_proposer(WAYS[2]);
}

/// Participant 0's byte: the first of its claim line, right after the
/// 128-byte header (the layout of format version 2).
const BYTE_OF_PARTICIPANT_0: i64 = 128;

/// A read lock on `len` bytes from `start`, through a descriptor opened for
/// reading only: what a process without write access can place.
fn read_lock(path: &Path, start: i64, len: i64) -> fs::File {
    let reader = fs::File::open(path).unwrap();
    // SAFETY: all zeroes is a valid `flock`; `l_pid` must be 0.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_RDLCK as _;
    lock.l_whence = libc::SEEK_SET as _;
    lock.l_start = start as _;
    lock.l_len = len as _;
    // SAFETY: a valid descriptor and a `flock` that outlives the call.
    let done = unsafe { libc::fcntl(reader.as_raw_fd(), libc::F_OFD_SETLK, &raw mut lock) };
    assert_eq!(done, 0, "{}", std::io::Error::last_os_error());
    reader
}

#[test]
fn a_read_lock_on_a_dead_holders_byte_is_named_not_waited_on() {
    let scratch = Scratch::new("interference");
    let path = scratch.0.join(SHARED);
    let mut children = Children(Vec::new());
    children.spawn(&scratch, "doomed holder", "doomed-holder");
    wait_for_file(&scratch, &mut children, INSIDE);
    for (_, child) in &mut children.0 {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let reader = read_lock(&path, BYTE_OF_PARTICIPANT_0, 1);
    let file = File::open(&path).unwrap();
    let is_the_read_lock = |e: &Error| {
        matches!(
            e,
            Error::Interference {
                participant: 0,
                write: false,
                start: 128,
                len: 1
            }
        )
    };
    let refused = file.recover_dead().unwrap_err();
    assert!(is_the_read_lock(&refused), "recover_dead: {refused}");
    let mut me = file.join().unwrap();
    assert_eq!(me.index(), 1, "participant 0 is the dead holder's");
    let started = Instant::now();
    let refused = me.lock_checked().map(drop).unwrap_err();
    assert!(is_the_read_lock(&refused), "a waiter: {refused}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "named after {:?}",
        started.elapsed()
    );
    assert!(file.is_locked(), "the dead holder's ticket is still there");
    drop(reader);
    let guard = me.lock_checked().unwrap();
    assert!(
        guard.owner_died(),
        "the dead holder, recovered, died inside"
    );
}

#[test]
fn a_death_deep_in_the_line_of_sleepers_is_found_at_the_head_430() {
    a_death_deep_in_the_line_of_sleepers_is_found_at_the_head(430);
}

#[test]
fn a_death_deep_in_the_line_of_sleepers_is_found_at_the_head_465() {
    a_death_deep_in_the_line_of_sleepers_is_found_at_the_head(465);
}

#[test]
fn a_death_deep_in_the_line_of_sleepers_is_found_at_the_head_500() {
    a_death_deep_in_the_line_of_sleepers_is_found_at_the_head(500);
}

/// The line's case, its holder inside for `hold_ms`.
fn a_death_deep_in_the_line_of_sleepers_is_found_at_the_head(hold_ms: u64) {
    let scratch = Scratch::new(&format!("deep-death-{hold_ms}"));
    let mut children = Children(Vec::new());
    children.spawn_with(&scratch, "line holder", "in-line:holder", hold_ms);
    wait_for_file(&scratch, &mut children, INSIDE);
    let names = ["line 0", "line 1", "line 2", "line 3", "line 4"];
    let mut doomed = 0;
    for (k, name) in names.into_iter().enumerate().take(LINE) {
        let pid = children.spawn(&scratch, name, &format!("in-line:{k}"));
        if k == DOOMED {
            doomed = pid;
        }
        // In line, and asleep (past its 50 µs of spinning), before the next.
        wait_for_file(&scratch, &mut children, &format!("queued-{k}"));
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        !fs::read_to_string(scratch.0.join("times"))
            .unwrap()
            .contains("line-holder X"),
        "the line's holder left before its line had formed (a slow machine: start the waiters \
         faster or hold longer)"
    );
    // SAFETY: `kill` of a child not yet reaped (its pid is its own).
    unsafe { libc::kill(doomed as libc::pid_t, libc::SIGKILL) };
    let doomed_name = names[DOOMED];
    children.0.retain_mut(|(name, child)| {
        if *name == doomed_name {
            let _ = child.wait();
        }
        *name != doomed_name
    });
    children.wait_all(&scratch);
    let roles: Vec<String> = scratch
        .log()
        .iter()
        .map(|line| line.split(' ').skip(2).collect::<Vec<_>>().join(" "))
        .collect();
    let mut expected = vec!["line-holder".to_string(); 2];
    for k in (0..LINE).filter(|&k| k != DOOMED) {
        expected.extend([format!("line-{k}"), format!("line-{k}")]);
    }
    assert_eq!(
        roles, expected,
        "one at a time, in order, nobody told owner_died"
    );
    assert_eq!(
        scratch.counter(),
        LINE as u64,
        "every critical section alone"
    );
    let times = fs::read_to_string(scratch.0.join("times")).unwrap();
    let at = |role: &str, kind: &str| -> Duration {
        let line = times
            .lines()
            .find(|l| l.starts_with(&format!("{role} {kind} ")))
            .unwrap_or_else(|| panic!("no {kind} of {role} in {times}"));
        Duration::from_nanos(line.rsplit(' ').next().unwrap().parse().unwrap())
    };
    let before = format!("line-{}", DOOMED - 1);
    let behind = format!("line-{}", DOOMED + 1);
    let gap = at(&behind, "E").saturating_sub(at(&before, "X"));
    eprintln!(
        "deep death ({hold_ms} ms hold): the waiter behind the dead one entered {gap:?} after \
         the exit before it"
    );
    assert!(
        gap < DEEP_DEATH_FOUND_WITHIN,
        "the waiter behind a sleeper killed deep in line entered {gap:?} after the exit of the one \
         before it: the dead one was not found when it reached the head"
    );
}
