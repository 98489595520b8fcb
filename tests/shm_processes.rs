//! Real processes, real kills: workers (this test binary, re-executed) share
//! one file; a supervisor kills them with `SIGKILL` at random points, starts
//! new ones in their place (which take over the dead ones' slots), and
//! freezes one with `SIGSTOP`. Checked:
//!
//! - **agreement** on the register and on every log slot: every worker that
//!   decided reads the same value back; every replica's commands are in the
//!   log once each, in order, and nothing else is;
//! - **exclusion** under the bakery: a counter in the file, updated by read
//!   and write, equals the sum of per-slot tallies updated in the same
//!   critical sections. A holder killed inside leaves an intent record; the
//!   next holder must be told (`owner_died`) and rolls the update forward,
//!   so the count stays exact; a holder that finds an intent without being
//!   told fails the test;
//! - **the frozen worker never stops the others deciding**: the log grows
//!   while it is stopped.
//!
//! `DOORWAY_KILL_SECONDS` sets how long the supervisor kills (default 6;
//! CI runs it for 30).

#![cfg(all(feature = "shm", target_os = "linux", not(loom), not(miri)))]

use doorway::shm::{Error, Options, Pod, Shared, Zeroable};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Participant slots: four workers at a time, with room for heirs.
const SLOTS: usize = 6;
const LOG: usize = 1 << 18;
/// A Paxos worker's pause between appends, so the log lasts the run.
const APPEND_PAUSE: Duration = Duration::from_micros(200);

/// A log entry or register value: which worker process, its `seq`-th append.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    pid: u32,
    seq: u32,
}

// SAFETY: two `u32`s, no padding; any bytes are an `Entry`.
unsafe impl Zeroable for Entry {}
// SAFETY: as above; `Copy` and `'static`.
unsafe impl Pod for Entry {}

/// The bakery's data: a counter, per-slot tallies, and the intent record of
/// the update under way: `[slot + 1, new count, new tally, check]`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct Counter {
    count: u64,
    tallies: [u64; SLOTS],
    intent: [u64; 4],
    /// Updates rolled forward after a holder died inside.
    repairs: u64,
    /// Acquisitions that were told a holder died inside.
    told: u64,
}

// SAFETY: plain `u64`s, no padding; any bytes are a `Counter`.
unsafe impl Zeroable for Counter {}
// SAFETY: as above.
unsafe impl Pod for Counter {}

type File = Shared<Entry, Counter>;

fn check(slot: u64, count: u64, tally: u64) -> u64 {
    (slot.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ count.wrapping_mul(0xC2B2_AE3D_27D4_EB4F) ^ tally)
        | 1
}

/// A worker fails loudly: a message and exit code 3, which the supervisor
/// sees when it reaps the process.
fn fail(what: String) -> ! {
    eprintln!("worker {}: {what}", std::process::id());
    std::process::exit(3);
}

/// The worker processes' entry point (`DOORWAY_SHM_ROLE` set); a no-op in
/// the normal run.
#[test]
fn worker() {
    let Ok(role) = std::env::var("DOORWAY_SHM_ROLE") else {
        return;
    };
    let path = std::env::var("DOORWAY_SHM_PATH").unwrap();
    let file = File::open(&path).unwrap_or_else(|e| fail(format!("open: {e}")));
    let mut me = loop {
        match file.join() {
            Ok(me) => break me,
            Err(Error::Full) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => fail(format!("join: {e}")),
        }
    };
    let pid = std::process::id();
    match role.as_str() {
        "paxos" => {
            let decided = me.propose(Entry { pid, seq: u32::MAX }).unwrap();
            if file.decided().unwrap() != Some(decided) {
                fail(format!("decided {decided:?}, the register says otherwise"));
            }
            for seq in 0.. {
                let entry = Entry { pid, seq };
                match me.append(entry) {
                    Ok(slot) => {
                        if file.log_get(slot).unwrap() != Some(entry) {
                            fail(format!("appended {entry:?} at {slot}, which holds another"));
                        }
                        std::thread::sleep(APPEND_PAUSE);
                    }
                    Err(Error::LogFull) => std::thread::sleep(Duration::from_millis(5)),
                    Err(e) => fail(format!("append: {e}")),
                }
            }
        }
        "bakery" => loop {
            let slot = me.index() as u64;
            let mut guard = me.lock();
            let mut data = guard.get();
            if guard.owner_died() {
                data.told += 1;
                let [who, count, tally, sum] = data.intent;
                if who != 0 && (who as usize) <= SLOTS && sum == check(who, count, tally) {
                    data.count = count;
                    data.tallies[who as usize - 1] = tally;
                    data.repairs += 1;
                }
                data.intent = [0; 4];
                guard.set(&data);
                guard.mark_consistent();
            } else if data.intent[0] != 0 {
                fail(format!(
                    "half-written data without an owner-died report: {data:?}"
                ));
            }
            let (count, tally) = (data.count + 1, data.tallies[slot as usize] + 1);
            data.intent = [slot + 1, count, tally, check(slot + 1, count, tally)];
            guard.set(&data);
            data.count = count;
            data.tallies[slot as usize] = tally;
            guard.set(&data);
            data.intent = [0; 4];
            guard.set(&data);
        },
        other => fail(format!("unknown role {other}")),
    }
}

/// The workers of one run; every one still running is killed (after a
/// `SIGCONT`) when this is dropped, even if the test fails.
struct Workers {
    path: PathBuf,
    children: Vec<(Child, &'static str)>,
}

impl Workers {
    fn spawn(&mut self, role: &'static str) {
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "worker", "--nocapture", "--test-threads=1"])
            .env("DOORWAY_SHM_ROLE", role)
            .env("DOORWAY_SHM_PATH", &self.path)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        self.children.push((child, role));
    }

    fn signal(child: &Child, signal: i32) {
        // SAFETY: `kill` has no memory-safety preconditions; the pid is our
        // own child's, not yet reaped, so it names that process.
        unsafe { libc::kill(child.id() as i32, signal) };
    }

    /// Fails if any worker exited by itself (workers run until killed).
    fn check_alive(&mut self) {
        for (child, role) in &mut self.children {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("a {role} worker exited by itself: {status}");
            }
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for (child, _) in &mut self.children {
            Workers::signal(child, libc::SIGCONT);
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn kill_and_freeze_workers() {
    let seconds: u64 = std::env::var("DOORWAY_KILL_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let path = std::env::temp_dir().join(format!("doorway-kills-{}.doorway", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let file = File::create(&path, &Options::new(SLOTS).log_capacity(LOG)).unwrap();
    let mut workers = Workers {
        path: path.clone(),
        children: Vec::new(),
    };
    for role in ["paxos", "paxos", "bakery", "bakery"] {
        workers.spawn(role);
    }
    let mut rng = Instant::now().elapsed().as_nanos() as u64 | 1;
    let start = Instant::now();
    let mut kills = 0;
    let mut froze = None;
    while start.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_micros(2_000 + xorshift(&mut rng) % 30_000));
        workers.check_alive();
        if froze.is_none() && start.elapsed() > Duration::from_secs(seconds / 3) {
            // Freeze a Paxos worker for a second: the others must decide.
            let k = workers
                .children
                .iter()
                .position(|(_, r)| *r == "paxos")
                .unwrap();
            let (frozen, _) = workers.children.remove(k);
            Workers::signal(&frozen, libc::SIGSTOP);
            let before = file.log_len().unwrap();
            std::thread::sleep(Duration::from_secs(1));
            let during = file.log_len().unwrap() - before;
            Workers::signal(&frozen, libc::SIGCONT);
            workers.children.push((frozen, "paxos"));
            assert!(
                during > 0,
                "a frozen worker stopped the others deciding (log at {before} of {LOG})"
            );
            froze = Some(during);
            continue;
        }
        let k = (xorshift(&mut rng) % workers.children.len() as u64) as usize;
        let (mut victim, role) = workers.children.remove(k);
        Workers::signal(&victim, libc::SIGKILL);
        let status = victim.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(libc::SIGKILL),
            "a {role} worker died otherwise: {status}"
        );
        kills += 1;
        workers.spawn(role);
    }
    let elapsed = start.elapsed();
    // Stop everyone, then check the file.
    for (mut child, _) in std::mem::take(&mut workers.children) {
        Workers::signal(&child, libc::SIGKILL);
        let _ = child.wait();
    }
    check_the_file(&file, &path);
    let entries = file.log_len().unwrap();
    let counter = {
        let mut me = file.join().unwrap();
        let guard = me.lock();
        guard.get()
    };
    println!(
        "shm kills: {kills} SIGKILLs in {:.1} s; {entries} log entries; {} critical sections, \
         {} holders told of a death inside, {} updates rolled forward; {} entries decided while \
         a worker was frozen for 1 s",
        elapsed.as_secs_f64(),
        counter.count,
        counter.told,
        counter.repairs,
        froze.unwrap_or(0),
    );
    assert!(kills >= 100 || seconds < 5, "too few kills: {kills}");
}

/// Agreement and exclusion, from the file left by the workers.
fn check_the_file(file: &File, path: &Path) {
    assert!(path.exists());
    // Agreement on the register: workers checked their own decisions
    // against it; it must be some worker's proposal.
    let decided = file.decided().unwrap().expect("the register decided");
    assert_eq!(decided.seq, u32::MAX, "validity: {decided:?}");
    // The log: each worker's appends, in order, once each.
    let entries = file.log_entries().unwrap();
    let mut by_pid: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for entry in &entries {
        by_pid.entry(entry.pid).or_default().push(entry.seq);
    }
    for (pid, seqs) in by_pid {
        let expected: Vec<u32> = (0..seqs.len() as u32).collect();
        assert_eq!(
            seqs, expected,
            "worker {pid}'s commands, once each and in order"
        );
    }
    // The bakery: the count is the sum of the tallies, once every dead
    // holder's update is rolled forward.
    let mut me = file.join().unwrap();
    let mut guard = me.lock();
    let mut data = guard.get();
    if guard.owner_died() {
        let [who, count, tally, sum] = data.intent;
        if who != 0 && sum == check(who, count, tally) {
            data.count = count;
            data.tallies[who as usize - 1] = tally;
        }
        data.intent = [0; 4];
        guard.set(&data);
        guard.mark_consistent();
    }
    assert_eq!(
        data.intent, [0; 4],
        "an intent left without an owner-died report"
    );
    assert_eq!(
        data.count,
        data.tallies.iter().sum::<u64>(),
        "mutual exclusion violated: {data:?}"
    );
}
