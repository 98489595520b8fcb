//! Leader election among processes that share one file: term `t` of office
//! is decided by Paxos in slot `t` of a log kept in the file, so every
//! candidate learns the same leader for every term, whoever is killed or
//! frozen along the way.
//!
//! ```text
//! cargo run --release -p doorway --example processes
//! ```
//!
//! Run plainly, this program is the supervisor: it creates the file and
//! re-executes itself as candidate processes. A candidate joins the file
//! (claims a participant), reports every term the log decides, and when the
//! latest leader no longer holds its participant, proposes itself for the
//! next term. The supervisor kills each leader with `SIGKILL` while one candidate
//! stays frozen with `SIGSTOP`, then thaws that one and checks that every
//! report names the leader the log holds; it exits non-zero otherwise.
//!
//! Each candidate starts as a daemon might: it closes every descriptor above
//! the standard ones (`close_range`) and forks a helper that outlives it by a
//! few seconds. Neither touches its participant: the participant is held by a
//! mapping that no close can end and that a child does not inherit, so a
//! leader's death frees it at once, whatever its helper does.
//!
//! The log's and the bakery's costs beside a robust pthread mutex and `flock`,
//! and what killed or frozen holders do, are a bench: `cargo bench --bench processes`.

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!(
        "processes: Linux only (a participant is held through an open-file-description lock)"
    );
}

#[cfg(target_os = "linux")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::var_os(linux::FILE_VAR) {
        Some(path) => linux::candidate(path.as_ref()),
        None => linux::supervise(),
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use doorway::shm::{Options, ParticipantState, Pod, Shared, Zeroable};
    use std::collections::BTreeMap;
    use std::io::Write;
    use std::path::Path;
    use std::process::{Child, Command};
    use std::time::{Duration, Instant};

    /// In a candidate's environment: the path of the shared file.
    pub const FILE_VAR: &str = "DOORWAY_ELECTION_FILE";
    /// Candidates running at any time (one of them frozen).
    const CANDIDATES: usize = 4;
    /// Participants of the file: a new candidate takes over a dead one's
    /// participant, so a few spare ones are plenty.
    const PARTICIPANTS: usize = 8;
    /// Leaders killed, one per term after the first.
    const KILLS: usize = 6;
    /// How long a candidate's forked helper lives on: longer than an election
    /// takes, so that each leader is killed while its helper lives.
    const HELPER_LIFE: Duration = Duration::from_secs(3);

    /// Who leads during a term: the value of the term's log slot.
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Leader {
        pid: u32,
        participant: u32,
    }

    // SAFETY: two `u32`s and no padding, so any bytes, zeroes included, are
    // a valid `Leader`.
    unsafe impl Zeroable for Leader {}
    // SAFETY: as for `Zeroable`; `Leader` is `Copy` and holds no pointers.
    unsafe impl Pod for Leader {}

    /// The file: a log of leaders, one slot per term (the bakery, unused
    /// here, guards `()`).
    type File = Shared<Leader>;
    type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;
    /// What the candidates reported: (term, reporter's pid) to leader's pid.
    type Reports = BTreeMap<(usize, u32), u32>;

    /// Reports every decided term, and stands for the next one whenever the
    /// latest leader is gone. Runs until killed.
    pub fn candidate(path: &Path) -> Result<()> {
        let file = File::open(path)?;
        let mut me = file.join()?;
        daemonize()?;
        let (pid, participant) = (std::process::id(), me.index() as u32);
        if let Some(dead) = me.took_over_from() {
            // One write, so that lines from several processes never mix.
            let line =
                format!("  pid {pid} replaces dead pid {dead} as participant {participant}\n");
            std::io::stderr().write_all(line.as_bytes())?;
        }
        let mut reported = 0;
        loop {
            let terms = file.log_len()?;
            for term in reported..terms {
                let elected = leader(&file, term)?.pid;
                println!("pid {pid} term {term} leader {elected}");
            }
            reported = terms;
            if terms > 0 && still_holds(&file, leader(&file, terms - 1)?) {
                std::thread::sleep(Duration::from_millis(1));
            } else {
                // Every candidate that sees the leader gone proposes itself
                // in the same log slot; Paxos decides one, the same for all.
                me.propose_at(terms, Leader { pid, participant })?;
            }
        }
    }

    /// What a daemon's start does to a joined member, which must change
    /// nothing: every descriptor above the standard ones closed, and a
    /// helper forked that outlives this process by a few seconds.
    fn daemonize() -> Result<()> {
        // SAFETY: `close_range` takes three integers. No descriptor above 2
        // is in use by this program (doorway keeps none: its participant
        // is held by a mapping).
        if unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) } != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        // SAFETY: this program has a single thread, so the child's copy of
        // its memory holds no lock another thread was holding.
        match unsafe { libc::fork() } {
            -1 => Err(std::io::Error::last_os_error().into()),
            0 => {
                // The helper: it holds nothing of its parent's participant
                // (its member panics here, naming fork, if used), and lives
                // on, its output on `/dev/null` so that nobody waits for it
                // to close the supervisor's.
                if let Ok(null) = std::fs::File::options().write(true).open("/dev/null") {
                    use std::os::fd::AsRawFd;
                    // SAFETY: `dup2` onto the standard descriptors, which this
                    // process owns; `null` stays open through the calls.
                    unsafe {
                        libc::dup2(null.as_raw_fd(), 1);
                        libc::dup2(null.as_raw_fd(), 2);
                    }
                }
                std::thread::sleep(HELPER_LIFE);
                // SAFETY: `_exit` ends the helper at once, running none of
                // the parent's exit handlers.
                unsafe { libc::_exit(0) }
            }
            _ => Ok(()),
        }
    }

    /// Whether `leader` still owns its participant. The kernel drops a dead
    /// process's byte lock, so `alive` turns false; once a new process has
    /// taken the participant over, the pid differs.
    fn still_holds(file: &File, leader: Leader) -> bool {
        matches!(file.participants().get(leader.participant as usize),
            Some(&ParticipantState::Owned { pid, alive: true }) if pid == leader.pid)
    }

    /// The leader of a decided term.
    fn leader(file: &File, term: usize) -> Result<Leader> {
        Ok(file.log_get(term)?.ok_or("undecided term")?)
    }

    /// Creates the file in a directory of its own, runs the election, and
    /// removes everything, whatever the outcome.
    pub fn supervise() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("doorway-election-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let mut candidates = Vec::new();
        let outcome = elect(&dir, &mut candidates);
        for candidate in candidates.iter_mut().rev() {
            let _ = candidate.kill(); // SIGKILL ends a stopped process too.
            let _ = candidate.wait();
        }
        let _ = std::fs::remove_dir_all(&dir);
        outcome
    }

    /// Starts the candidates, freezes one, kills each leader in turn, then
    /// thaws the frozen one and checks every report against the log.
    fn elect(dir: &Path, candidates: &mut Vec<Child>) -> Result<()> {
        let path = dir.join("election.doorway");
        let file = File::create(&path, &Options::new(PARTICIPANTS).log_capacity(2 * KILLS))?;
        for _ in 0..CANDIDATES {
            start(dir, &path, candidates)?;
        }
        let mut leader = wait_for_term(&file, 0)?;
        println!("term 0: leader pid {}", leader.pid);
        let frozen = candidates.iter().find(|c| c.id() != leader.pid);
        let frozen = frozen.ok_or("no candidate to freeze")?.id();
        signal(frozen, libc::SIGSTOP);
        println!("froze candidate pid {frozen} with SIGSTOP");
        for term in 1..=KILLS {
            let killed = Instant::now();
            kill(candidates, leader.pid)?;
            println!("SIGKILL to leader pid {}", leader.pid);
            leader = wait_for_term(&file, term)?;
            let (pid, took) = (leader.pid, killed.elapsed());
            println!("term {term}: leader pid {pid}, elected {took:.1?} after the kill");
            let pid = start(dir, &path, candidates)?;
            println!("  new candidate pid {pid}");
        }
        signal(frozen, libc::SIGCONT);
        println!("thawed pid {frozen}; it reports the terms it slept through");
        let reports = caught_up(dir, frozen, KILLS)?;
        check_agreement(&file, &reports)?;
        println!("ok: all {} reports agree with the log", reports.len());
        Ok(())
    }

    /// Starts this same program as a candidate, its stdout to a report file.
    fn start(dir: &Path, path: &Path, candidates: &mut Vec<Child>) -> Result<u32> {
        let report = std::fs::File::create_new(dir.join(format!("{}.report", candidates.len())))?;
        let candidate = Command::new(std::env::current_exe()?)
            .env(FILE_VAR, path)
            .stdout(report)
            .spawn()?;
        let pid = candidate.id();
        candidates.push(candidate);
        Ok(pid)
    }

    /// `SIGKILL`, and waits until the process is gone: the kernel has then
    /// released its byte lock, so its participant reads dead.
    fn kill(candidates: &mut [Child], pid: u32) -> Result<()> {
        let candidate = candidates.iter_mut().find(|c| c.id() == pid);
        let candidate = candidate.ok_or("no such candidate")?;
        candidate.kill()?;
        candidate.wait()?;
        Ok(())
    }

    /// `SIGSTOP` or `SIGCONT`. A stopped process still holds its
    /// participant: it is alive, and does nothing.
    fn signal(pid: u32, signal: libc::c_int) {
        // SAFETY: kill(2) touches none of this process's memory; `pid` is a
        // child not yet reaped, so it names no other process.
        unsafe { libc::kill(pid as libc::pid_t, signal) };
    }

    /// The leader of `term`, once the log has decided it.
    fn wait_for_term(file: &File, term: usize) -> Result<Leader> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Some(leader) = file.log_get(term)? {
                return Ok(leader);
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        Err(format!("no leader elected for term {term}").into())
    }

    /// Every report so far, read from the candidates' report files.
    fn reports(dir: &Path) -> Result<Reports> {
        let mut reports = Reports::new();
        let read = |n: usize| std::fs::read_to_string(dir.join(format!("{n}.report")));
        for text in (0..).map_while(|n| read(n).ok()) {
            // A line still being written is left for the next read.
            let complete = &text[..text.rfind('\n').map_or(0, |end| end + 1)];
            for line in complete.lines() {
                let words: Vec<&str> = line.split(' ').collect();
                if let ["pid", pid, "term", term, "leader", leader] = words[..] {
                    reports.insert((term.parse()?, pid.parse()?), leader.parse()?);
                }
            }
        }
        Ok(reports)
    }

    /// The reports, once `pid` has reported `last_term`.
    fn caught_up(dir: &Path, pid: u32, last_term: usize) -> Result<Reports> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            let reports = reports(dir)?;
            if reports.contains_key(&(last_term, pid)) {
                return Ok(reports);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Err(format!("the thawed candidate {pid} did not catch up").into())
    }

    /// Every leader any process reported must be the one the log holds.
    fn check_agreement(file: &File, reports: &Reports) -> Result<()> {
        for (&(term, pid), &reported) in reports {
            let logged = leader(file, term)?.pid;
            if reported != logged {
                let why = format!("pid {pid} reports {reported} as leader of term {term}");
                return Err(format!("{why}; the log says {logged}").into());
            }
        }
        Ok(())
    }
}
