//! A live holder of the shared file's bakery is never taken for dead, and a
//! holder that `exec`s lets the others in as a dead one would.
//!
//! Each case runs real processes: this test binary, re-executed with a role
//! in `DOORWAY_LIVENESS_ROLE` (see [`liveness_worker`], and
//! [`ROLES_BEFORE_MAIN`] for the two roles that must run on the process's
//! leader thread). A **holder** takes
//! the bakery (`Member::lock`) and stays inside for [`HOLD`]; once it is
//! inside, a **waiter** joins and locks under the case's condition. A waiter
//! that judged the holder's liveness from `/proc` (or a pid, a start time, a
//! boot id) and took "cannot confirm alive" for dead would clear the
//! holder's ticket and go in beside it, in every case below.
//!
//! # The witness
//!
//! Exclusion is judged outside doorway, by two plain files next to the
//! shared one:
//!
//! - a counter (8 bytes) that a process inside reads with `pread` as it
//!   enters and writes back plus one with `pwrite` as it leaves, so two
//!   processes inside at once lose an update;
//! - an `O_APPEND` log where a process writes `E <pid> <role>` as it enters
//!   (followed by `owner-died` if the lock said a holder died inside) and
//!   `X <pid> <role>` before it leaves, one `write(2)` each, so lines never
//!   interleave.
//!
//! The supervisor checks that the log's lines alternate E, X with one
//! process in each pair, the holder's pair before the waiter's (the waiter
//! starts only once the holder's E is logged), that the counter equals the
//! number of pairs (less a holder that never left by itself: case 7's exec),
//! and that the waiter was told `owner_died()` exactly when the holder did
//! not leave by itself.
//!
//! # The cases
//!
//! 1. The waiter is out of file descriptors: after joining, it lowers
//!    `RLIMIT_NOFILE` to the descriptors it has open.
//! 2. Holder and waiter are in different pid namespaces
//!    (`unshare --pid --fork --mount-proc`), either way round.
//! 3. The waiter's `/proc` is mounted with `hidepid=2` and the holder is
//!    another user (uids 65534 and 65533, a file of mode `0o666`).
//! 4. The holder reads the boot id as empty, as a failed read does (it is
//!    bind-mounted over by `/dev/null` in the holder's mount namespace).
//! 5. The holder's leader thread has exited (a zombie) while another of its
//!    threads holds the lock.
//! 6. The holder is in a time namespace whose boot time is shifted.
//! 7. The holder `exec`s a sleeper inside the lock: the exec must release
//!    the lock as a death would (the waiter gets in while the sleeper runs,
//!    told `owner_died()`), not stall it for the sleeper's whole life.
//!
//! And two forks: the child of a holder can neither lock with the member it
//! inherited (that panics, naming fork) nor release the parent's slot by
//! dropping it; and the child holds nothing of its parent's custody, so
//! once the parent is killed inside, the child, alive, joins and takes the
//! lock as any newcomer (told that its parent died inside).
//!
//! Cases 2, 3, 4 and 6 need root, namespaces, `unshare` and `setpriv`; where
//! the machine refuses, the case prints a line `SKIPPED <test name>:
//! <reason>` to stderr and passes. `.ci/run` counts those lines, and fails
//! if there are any where `CI=true` (CI runs as root, with namespaces). Every child is killed and reaped on every path ([`Children`]),
//! and every wait has a deadline.

#![cfg(all(feature = "shm", target_os = "linux", not(loom), not(miri)))]

use doorway::shm::{Member, Options, ParticipantState, Shared};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

type File = Shared<u64, u64>;

/// The worker's role: `holder`, `leaderless-holder`, `exec-holder`,
/// `waiter` or `forker`.
const ROLE: &str = "DOORWAY_LIVENESS_ROLE";
/// The directory of the case's files.
const DIR: &str = "DOORWAY_LIVENESS_DIR";
/// The case's condition, which the worker makes or checks (see
/// [`liveness_worker`]).
const CONDITION: &str = "DOORWAY_LIVENESS_CONDITION";

/// The shared file, the counter and the log, in the case's directory.
const SHARED: &str = "shared.doorway";
const COUNTER: &str = "counter";
const LOG: &str = "log";
/// Created by the forker once its forked child has been reaped.
const FORKED: &str = "forked-child-reaped";
/// Created by the orphaning forker once it has forked.
const ORPHANED: &str = "forked-child-running";

const SLOTS: usize = 4;
/// How long a holder stays inside. The waiter looks for the dead every 256
/// turns of its wait, a few milliseconds: a holder wrongly judged dead is
/// broken in on long before this is over, even on a loaded machine.
const HOLD: Duration = Duration::from_millis(1500);
/// How long a waiter stays inside, with the counter read and not yet
/// written back: long enough to overlap a holder still inside.
const WAITER_HOLD: Duration = Duration::from_millis(200);
/// How long case 7's holder sleeps after its `exec`.
const SLEEPER: Duration = Duration::from_secs(4);
/// Case 7 fails if its waiter is still out this long before the sleeper
/// ends (a waiter that only gets in when the sleeper exits was stalled).
const STALL_MARGIN: Duration = Duration::from_secs(2);
/// Case 6's shift of the boot and monotonic clocks, in seconds.
const TIME_SHIFT: u64 = 100_000;

/// Bounds on the supervisor's waits.
const ENTER_WITHIN: Duration = Duration::from_secs(5);
const FINISH_WITHIN: Duration = Duration::from_secs(5);
const PROBE_WITHIN: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// The workers: this test binary, re-executed.
// ---------------------------------------------------------------------------

/// The workers' entry point (`DOORWAY_LIVENESS_ROLE` set); a no-op in the
/// normal run.
///
/// Conditions (`DOORWAY_LIVENESS_CONDITION`): a holder checks
/// `boot-id-unreadable` (case 4) or `time-shifted:<supervisor's boot time in
/// s>` (case 6) before it joins, so that a case whose namespace did not take
/// fails instead of passing for the wrong reason; a waiter makes
/// `out-of-descriptors` (case 1) after it joins, and checks
/// `proc-hidden:<holder's pid>` (case 3).
#[test]
fn liveness_worker() {
    let Ok(role) = std::env::var(ROLE) else {
        return; // the normal run: nothing to do
    };
    let dir = PathBuf::from(std::env::var_os(DIR).expect("the case's directory"));
    let condition = std::env::var(CONDITION).unwrap_or_default();
    match role.as_str() {
        "holder" => holder(&dir, &condition),
        "leaderless-holder" | "forker" => fail("runs before main, never as a test"),
        "exec-holder" => exec_holder(&dir),
        "waiter" => waiter(&dir, &condition),
        other => fail(format!("unknown role {other}")),
    }
}

/// A worker fails loudly: a message and exit code 3, which the supervisor
/// reports.
fn fail(what: impl fmt::Display) -> ! {
    eprintln!("{} {}: {what}", role_name(), std::process::id());
    std::process::exit(3);
}

fn role_name() -> String {
    std::env::var(ROLE).unwrap_or_default()
}

/// The shared file, opened as any participant opens it (in case 3 it
/// belongs to another user).
fn open_shared(dir: &Path) -> File {
    File::open_with(
        dir.join(SHARED),
        &Options::new(SLOTS).allow_other_owner(true),
    )
    .unwrap_or_else(|e| fail(format!("open the shared file: {e}")))
}

fn join(file: &File) -> Member<'_, u64, u64> {
    file.join()
        .unwrap_or_else(|e| fail(format!("join the shared file: {e}")))
}

/// A worker's handles on the witness files, opened before anything else so
/// that it can write them even out of descriptors.
struct Witness {
    counter: fs::File,
    log: fs::File,
    role: &'static str,
}

impl Witness {
    fn open(dir: &Path, role: &'static str) -> Self {
        let counter = OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join(COUNTER))
            .unwrap_or_else(|e| fail(format!("open the counter: {e}")));
        let log = OpenOptions::new()
            .append(true)
            .open(dir.join(LOG))
            .unwrap_or_else(|e| fail(format!("open the log: {e}")));
        Self { counter, log, role }
    }

    /// Logs the entry and reads the counter (written back by `leave`).
    fn enter(&self, owner_died: bool) -> u64 {
        self.mark('E', if owner_died { " owner-died" } else { "" });
        let mut bytes = [0; 8];
        self.counter
            .read_exact_at(&mut bytes, 0)
            .unwrap_or_else(|e| fail(format!("read the counter: {e}")));
        u64::from_le_bytes(bytes)
    }

    /// Writes back the counter read on entering, plus one, and logs the exit.
    fn leave(&self, seen: u64) {
        self.counter
            .write_all_at(&(seen + 1).to_le_bytes(), 0)
            .unwrap_or_else(|e| fail(format!("write the counter: {e}")));
        self.mark('X', "");
    }

    /// One line, in one `write`: appends of a whole line never interleave.
    fn mark(&self, kind: char, note: &str) {
        let line = format!("{kind} {} {}{note}\n", std::process::id(), self.role);
        match (&self.log).write(line.as_bytes()) {
            Ok(n) if n == line.len() => {}
            other => fail(format!("log {line:?}: {other:?}")),
        }
    }
}

/// Takes the lock, stays inside for [`HOLD`], leaves.
fn holder(dir: &Path, condition: &str) {
    check_holder_condition(condition);
    let file = open_shared(dir);
    let witness = Witness::open(dir, "holder");
    let mut me = join(&file);
    let guard = me.lock();
    let seen = witness.enter(guard.owner_died());
    std::thread::sleep(HOLD);
    witness.leave(seen);
    drop(guard);
}

fn check_holder_condition(condition: &str) {
    if condition.is_empty() {
        return;
    }
    if condition == "boot-id-unreadable" {
        // `/dev/null` bound over it: it reads as empty, as a read that
        // failed did (doorway then stamps the hash of no bytes).
        let id = fs::read("/proc/sys/kernel/random/boot_id").unwrap_or_default();
        if !id.is_empty() {
            fail(format!(
                "the boot id is not masked: {:?}",
                String::from_utf8_lossy(&id)
            ));
        }
    } else if let Some(theirs) = condition.strip_prefix("time-shifted:") {
        let theirs: u64 = theirs.parse().expect("the supervisor's boot time");
        let mine = boot_time().as_secs();
        if mine < theirs + TIME_SHIFT {
            fail(format!(
                "not in a shifted time namespace: boot time {mine} s, the supervisor's {theirs} s"
            ));
        }
    } else {
        fail(format!("unknown holder condition {condition}"));
    }
}

/// Two roles run before `main`, from the binary's constructors
/// (`.init_array`), on the process's first thread (its leader) while it is
/// still the only thread: libtest runs each test on a thread of its own even
/// with `--test-threads=1` (its main thread waits for the result). Case 5
/// ends the leader alone; the fork test forks, which copies only the calling
/// thread. A no-op for the other roles, and in the normal run.
#[used]
#[unsafe(link_section = ".init_array")]
static ROLES_BEFORE_MAIN: extern "C" fn() = roles_before_main;

extern "C" fn roles_before_main() {
    let Some(role) = std::env::var_os(ROLE) else {
        return;
    };
    let dir = || PathBuf::from(std::env::var_os(DIR).expect("the case's directory"));
    if role == "leaderless-holder" {
        leaderless_holder(dir());
    } else if role == "forker" {
        forker(&dir());
        // Not on to libtest: this role is done.
        std::process::exit(0);
    } else if role == "orphaning-forker" {
        orphaning_forker(&dir());
    }
}

/// Case 5: the holder's work runs on a second thread, and the leader (the
/// thread whose id is the process's) ends alone, leaving a zombie leader in
/// a process that lives on and holds the lock.
///
/// The leader ends by the raw `exit` system call, which ends one thread and
/// unwinds nothing. `pthread_exit` is no way out of a Rust thread: it
/// unwinds by a forced unwind, which the `catch_unwind` that `std` wraps
/// around `main` (and libtest around each test) stops, and glibc aborts the
/// process ("FATAL: exception not rethrown").
fn leaderless_holder(dir: PathBuf) -> ! {
    // SAFETY: `getpid` and `gettid` have no preconditions and cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    if pid != tid {
        fail(format!(
            "the holder runs on thread {tid}, not on the leader {pid}"
        ));
    }
    std::thread::spawn(move || {
        wait_until_the_leader_is_a_zombie();
        holder(&dir, "");
        std::process::exit(0);
    });
    // SAFETY: `SYS_exit` ends the calling thread only (unlike `exit_group`),
    // without unwinding: nothing on its stack is dropped or freed (the main
    // thread's stack stays mapped until the process ends), and the holder
    // thread borrows nothing from it (its closure owns what it uses).
    unsafe { libc::syscall(libc::SYS_exit, 0) };
    unreachable!("the leader's exit returned");
}

/// `/proc/self/stat` is the thread group's, and shows its leader's state.
fn wait_until_the_leader_is_a_zombie() {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if proc_state("self").as_deref() == Some("Z") {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    fail("the leader never became a zombie");
}

/// Case 7: takes the lock and, inside, replaces itself with a sleeper (same
/// pid, same start time; the shared file's descriptor is `O_CLOEXEC`).
fn exec_holder(dir: &Path) {
    let file = open_shared(dir);
    let witness = Witness::open(dir, "holder");
    let mut me = join(&file);
    let guard = me.lock();
    witness.enter(guard.owner_died());
    let error = Command::new("sleep")
        .arg(SLEEPER.as_secs().to_string())
        .exec();
    fail(format!("exec sleep: {error}"));
}

/// Joins (under the case's condition), takes the lock, stays inside for
/// [`WAITER_HOLD`], leaves.
fn waiter(dir: &Path, condition: &str) {
    let file = open_shared(dir);
    let witness = Witness::open(dir, "waiter");
    let mut me = join(&file);
    if condition == "out-of-descriptors" {
        run_out_of_descriptors();
    } else if let Some(pid) = condition.strip_prefix("proc-hidden:") {
        // Case 3: the waiter must not see the holder (else hidepid did not
        // take, and the case would pass for the wrong reason).
        if Path::new(&format!("/proc/{pid}")).exists() {
            fail(format!("/proc/{pid} is visible: hidepid=2 did not take"));
        }
    } else if !condition.is_empty() {
        fail(format!("unknown waiter condition {condition}"));
    }
    let guard = me.lock();
    let seen = witness.enter(guard.owner_died());
    std::thread::sleep(WAITER_HOLD);
    witness.leave(seen);
    drop(guard);
}

/// Case 1: lowers the descriptor limit to the descriptors open now, so that
/// every `open` fails with `EMFILE` (reading `/proc/<pid>/stat` included).
fn run_out_of_descriptors() {
    // Minus one: the directory's own descriptor, closed once it is read.
    let open = fs::read_dir("/proc/self/fd")
        .unwrap_or_else(|e| fail(format!("list /proc/self/fd: {e}")))
        .count()
        - 1;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` and `setrlimit` are given a valid `rlimit`.
    let lowered = unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && {
            limit.rlim_cur = open as libc::rlim_t;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0
        }
    };
    if !lowered {
        fail(format!("setrlimit: {}", std::io::Error::last_os_error()));
    }
    // A new descriptor takes the lowest free number below the limit: fill
    // any gap the open ones leave, so that no `open` can succeed. (They stay
    // open until the process ends.)
    // SAFETY: `dup` of the standard error, which is open (the supervisor's).
    while unsafe { libc::dup(2) } >= 0 {}
    match fs::File::open("/proc/self/stat") {
        Err(e) if e.raw_os_error() == Some(libc::EMFILE) => {}
        other => fail(format!("still not out of descriptors: {other:?}")),
    }
}

/// The fork test's holder: takes the lock, forks, and holds on for [`HOLD`]
/// after its child has tried to lock and has dropped its copy of the member.
fn forker(dir: &Path) {
    // Fork copies only the calling thread: with others, the child could
    // inherit a lock (the allocator's, say) that no thread will release.
    let threads = thread_count();
    if threads != 1 {
        fail(format!(
            "the forker has {threads} threads; fork needs it single-threaded"
        ));
    }
    let file = open_shared(dir);
    let witness = Witness::open(dir, "forker");
    let mut me = join(&file);
    let guard = me.lock();
    let seen = witness.enter(guard.owner_died());
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: this process has a single thread (checked above), so the
    // child's copy of its memory holds no lock another thread was holding.
    let child = unsafe { libc::fork() };
    if child < 0 {
        fail(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if child == 0 {
        // Never outlive the forker (which the supervisor may kill).
        // SAFETY: `prctl` with an option and a signal number, no pointers;
        // `getppid` has no preconditions.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if libc::getppid() != parent {
                libc::_exit(FORK_PARENT_GONE);
            }
        }
        // The copy of the parent's guard is not the child's to release.
        std::mem::forget(guard);
        let code = in_the_forked_child(me);
        // SAFETY: `_exit` ends the process at once: the copy of libtest's
        // state and of the parent's `atexit` handlers never runs.
        unsafe { libc::_exit(code) };
    }
    let verdict = reap_the_forked_child(child);
    fs::write(dir.join(FORKED), b"")
        .unwrap_or_else(|e| fail(format!("write the fork marker: {e}")));
    // The supervisor starts a waiter now: it must not get in until this
    // process leaves.
    std::thread::sleep(HOLD);
    witness.leave(seen);
    drop(guard);
    if let Err(why) = verdict {
        fail(why);
    }
}

/// The orphan test's holder: takes the lock, forks a child, and stays
/// inside until the supervisor kills it. The child holds nothing of its
/// parent's custody: once the parent is dead, it opens the file, joins and
/// takes the lock as any newcomer would, and must be let in (told that its
/// parent died inside) while it lives.
fn orphaning_forker(dir: &Path) -> ! {
    let threads = thread_count();
    if threads != 1 {
        fail(format!(
            "the forker has {threads} threads; fork needs it single-threaded"
        ));
    }
    let file = open_shared(dir);
    let witness = Witness::open(dir, "forker");
    let mut me = join(&file);
    let guard = me.lock();
    witness.enter(guard.owner_died());
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: this process has a single thread (checked above).
    let child = unsafe { libc::fork() };
    if child < 0 {
        fail(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if child == 0 {
        // The copies of the parent's guard and member are the parent's: the
        // guard is forgotten, the member dropped (which must leave the file
        // alone, its hold included: the page is not in the child).
        std::mem::forget(guard);
        drop(me);
        let code = orphan(dir, parent);
        // SAFETY: `_exit` ends the process at once (the copy of libtest's
        // state and of the parent's `atexit` handlers never runs).
        unsafe { libc::_exit(code) };
    }
    fs::write(dir.join(ORPHANED), b"").unwrap_or_else(|e| fail(format!("write the marker: {e}")));
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The orphan: waits for its parent's death, then takes the lock with a
/// member of its own.
fn orphan(dir: &Path, parent: libc::pid_t) -> i32 {
    // Never outlive the test by long.
    // SAFETY: `alarm` has no preconditions.
    unsafe { libc::alarm(10) };
    // SAFETY: `getppid` has no preconditions.
    while unsafe { libc::getppid() } == parent {
        std::thread::sleep(Duration::from_millis(1));
    }
    let file = open_shared(dir);
    let witness = Witness::open(dir, "child");
    let mut me = join(&file);
    let guard = me.lock();
    let seen = witness.enter(guard.owner_died());
    witness.leave(seen);
    drop(guard);
    0
}

/// The forked child's exit codes.
const FORK_LOCK_PANICKED_NAMING_FORK: i32 = 0;
const FORK_LOCK_RETURNED: i32 = 10;
const FORK_LOCK_PANICKED_OTHERWISE: i32 = 11;
const FORK_PARENT_GONE: i32 = 12;

/// In the forked child: `lock` on the inherited member must panic with a
/// message naming fork; then the member is dropped (which must leave the
/// parent's slot alone).
fn in_the_forked_child(mut me: Member<'_, u64, u64>) -> i32 {
    // The payload is judged below; the default hook's report would only be
    // noise.
    std::panic::set_hook(Box::new(|_| {}));
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // A guard it got would be on the parent's slot: leave it be.
        std::mem::forget(me.lock());
    }));
    let code = match attempt {
        Ok(()) => FORK_LOCK_RETURNED,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("");
            if message.to_lowercase().contains("fork") {
                FORK_LOCK_PANICKED_NAMING_FORK
            } else {
                eprintln!("forked child: lock() panicked without naming fork: {message:?}");
                FORK_LOCK_PANICKED_OTHERWISE
            }
        }
    };
    drop(me);
    code
}

/// Waits (bounded) for the forked child and judges its exit code.
fn reap_the_forked_child(pid: libc::pid_t) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut status = 0;
    loop {
        // SAFETY: `waitpid` on this process's own child, with a valid
        // out-pointer.
        let reaped = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if reaped == pid {
            break;
        }
        if reaped < 0 {
            return Err(format!("waitpid: {}", std::io::Error::last_os_error()));
        }
        if Instant::now() > deadline {
            // SAFETY: as above; the child is not reaped, so the pid is its.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return Err("the forked child hung in lock() for 3 s (killed)".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
        (true, FORK_LOCK_PANICKED_NAMING_FORK) => Ok(()),
        (true, FORK_LOCK_RETURNED) => Err(
            "in the forked child, member.lock() returned a guard on the parent's slot instead of \
             panicking"
                .into(),
        ),
        (true, FORK_LOCK_PANICKED_OTHERWISE) => {
            Err("in the forked child, member.lock() panicked without naming fork".into())
        }
        _ => Err(format!(
            "the forked child ended with wait status {status:#x}"
        )),
    }
}

fn thread_count() -> usize {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// `CLOCK_BOOTTIME` as this process's time namespace shows it.
fn boot_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` is given a valid `timespec`.
    if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut now) } != 0 {
        panic!("clock_gettime: {}", std::io::Error::last_os_error());
    }
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The state letter in `/proc/<pid>/stat` (fields are counted from the last
/// `)`: the command name may hold anything).
fn proc_state(pid: &str) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().next().map(str::to_owned)
}

// ---------------------------------------------------------------------------
// The supervisor.
// ---------------------------------------------------------------------------

/// One case's files in a fresh directory that every user may write (sticky,
/// as `/tmp` is: case 3's workers are two other users); removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(case: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("doorway-liveness-{case}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o1777)).unwrap();
        drop(File::create(dir.join(SHARED), &Options::new(SLOTS).mode(0o666)).unwrap());
        for (name, bytes) in [(COUNTER, &0u64.to_le_bytes()[..]), (LOG, &[][..])] {
            fs::write(dir.join(name), bytes).unwrap();
            fs::set_permissions(dir.join(name), fs::Permissions::from_mode(0o666)).unwrap();
        }
        Scratch(dir)
    }

    fn marks(&self) -> Vec<Mark> {
        fs::read_to_string(self.0.join(LOG))
            .unwrap()
            .lines()
            .map(|line| Mark::parse(line).unwrap_or_else(|| panic!("a bad log line {line:?}")))
            .collect()
    }

    fn counter(&self) -> u64 {
        let bytes = fs::read(self.0.join(COUNTER)).unwrap();
        u64::from_le_bytes(bytes[..8].try_into().unwrap())
    }

    /// The entry of `role`, if it is logged.
    fn entry_of(&self, role: &str) -> Option<Mark> {
        self.marks().into_iter().find(|m| m.enter && m.role == role)
    }

    /// Waits for `role`'s entry; panics if a child fails first or it takes
    /// longer than [`ENTER_WITHIN`].
    fn wait_for_entry(&self, children: &mut Children, role: &str) -> Mark {
        children.wait_until(ENTER_WITHIN, &format!("the {role} to enter"), || {
            self.entry_of(role).is_some()
        });
        self.entry_of(role).unwrap()
    }

    /// Checks the witness: the lock held in turn by `order`, one process at
    /// a time, the counter exact, and `owner_died()` told to the waiter
    /// exactly when a holder did not leave by itself. `exec_inside`: that
    /// role `exec`ed inside the lock and never wrote its X; its exec ended
    /// its critical section as a death would, right after its E.
    fn assert_excluded(&self, order: &[&str], exec_inside: Option<&str>) {
        let mut marks = self.marks();
        if let Some(role) = exec_inside
            && let Some(k) = marks.iter().position(|m| m.enter && m.role == role)
        {
            let exit = Mark {
                enter: false,
                pid: marks[k].pid,
                role: role.to_owned(),
                owner_died: false,
                by_supervisor: true,
            };
            marks.insert(k + 1, exit);
        }
        let log = marks
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let mut inside: Option<&Mark> = None;
        for mark in &marks {
            match (mark.enter, inside) {
                (true, None) => inside = Some(mark),
                (true, Some(other)) => panic!(
                    "mutual exclusion violated: the {} (pid {}) entered while the {} (pid {}) was \
                     inside; the witness log reads [{log}], the counter {}",
                    mark.role,
                    mark.pid,
                    other.role,
                    other.pid,
                    self.counter()
                ),
                (false, Some(entered))
                    if (entered.pid, &entered.role) == (mark.pid, &mark.role) =>
                {
                    inside = None;
                }
                (false, _) => panic!("an exit without its entry: [{log}]"),
            }
        }
        assert!(inside.is_none(), "a worker never left: [{log}]");
        let turns: Vec<&str> = marks.chunks(2).map(|p| p[0].role.as_str()).collect();
        assert_eq!(turns, order, "who held the lock, in turn: [{log}]");
        let bumps = turns.len() - usize::from(exec_inside.is_some());
        assert_eq!(
            self.counter(),
            bumps as u64,
            "mutual exclusion violated: the counter is {} after {bumps} critical sections that \
             each added one (log [{log}])",
            self.counter()
        );
        // Nobody declares the data consistent: once a holder has left by its
        // exec, every later holder is told.
        for (k, entry) in marks.iter().enumerate().filter(|(_, m)| m.enter) {
            let died = marks[..k].iter().any(|m| m.by_supervisor);
            assert_eq!(
                entry.owner_died,
                died,
                "the {} was {}told owner_died() (log [{log}])",
                entry.role,
                if died { "not " } else { "" }
            );
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A line of the witness log: `E <pid> <role>[ owner-died]` or
/// `X <pid> <role>`.
#[derive(Clone, Debug)]
struct Mark {
    enter: bool,
    pid: u32,
    role: String,
    owner_died: bool,
    /// An exit the supervisor wrote in for a holder that `exec`ed inside.
    by_supervisor: bool,
}

impl Mark {
    fn parse(line: &str) -> Option<Self> {
        let mut words = line.split(' ');
        let enter = match words.next()? {
            "E" => true,
            "X" => false,
            _ => return None,
        };
        let pid = words.next()?.parse().ok()?;
        let role = words.next()?.to_owned();
        let owner_died = match words.next() {
            None => false,
            Some("owner-died") => true,
            Some(_) => return None,
        };
        Some(Mark {
            enter,
            pid,
            role,
            owner_died,
            by_supervisor: false,
        })
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.enter { 'E' } else { 'X' };
        write!(f, "{kind} {} {}", self.pid, self.role)?;
        if self.owner_died {
            f.write_str(" (told owner died)")?;
        }
        if self.by_supervisor {
            f.write_str(" (its exec)")?;
        }
        Ok(())
    }
}

/// The children of one case; every one still running is killed and reaped
/// when this is dropped, whichever way the test ends. Each child's standard
/// error goes to `<name>.stderr` in the case's directory, and is quoted if
/// it fails.
struct Children {
    dir: PathBuf,
    running: Vec<Running>,
}

struct Running {
    name: &'static str,
    child: Child,
    status: Option<ExitStatus>,
}

impl Children {
    fn new(scratch: &Scratch) -> Self {
        Self {
            dir: scratch.0.clone(),
            running: Vec::new(),
        }
    }

    fn spawn(&mut self, name: &'static str, mut command: Command) {
        // The child inherits the descriptor, so it needs no permission to
        // open the file (case 3's workers are other users).
        let stderr = fs::File::create(self.dir.join(format!("{name}.stderr"))).unwrap();
        let child = command
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the {name}: {e}"));
        self.running.push(Running {
            name,
            child,
            status: None,
        });
    }

    /// Reaps the children that have exited.
    fn poll(&mut self) {
        for r in self.running.iter_mut().filter(|r| r.status.is_none()) {
            r.status = r.child.try_wait().unwrap();
        }
    }

    /// Panics if a child has exited unsuccessfully, quoting what it said.
    fn assert_none_failed(&mut self) {
        self.poll();
        for r in &self.running {
            if let Some(status) = r.status.filter(|s| !s.success()) {
                let said = fs::read_to_string(self.dir.join(format!("{}.stderr", r.name)));
                panic!(
                    "the {} exited with {status}; its standard error: {:?}",
                    r.name,
                    said.unwrap_or_default().trim()
                );
            }
        }
    }

    /// Kills the child named `name` with `SIGKILL`, reaps it, and forgets it
    /// (its death is the case's doing, not a failure).
    fn kill(&mut self, name: &str) {
        for r in self.running.iter_mut().filter(|r| r.name == name) {
            r.child.kill().unwrap();
            r.child.wait().unwrap();
        }
        self.running.retain(|r| r.name != name);
    }

    fn is_running(&mut self, name: &str) -> bool {
        self.poll();
        (self.running.iter()).any(|r| r.name == name && r.status.is_none())
    }

    /// Polls `ready` until it says yes; panics if a child fails first or if
    /// `within` passes.
    fn wait_until(&mut self, within: Duration, what: &str, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + within;
        loop {
            if ready() {
                return;
            }
            self.assert_none_failed();
            assert!(
                Instant::now() < deadline,
                "timed out after {within:?} waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits (bounded) until the children named (all if none is) have
    /// exited, and panics if any child failed.
    fn wait_for_exit(&mut self, names: &[&str]) {
        let deadline = Instant::now() + FINISH_WITHIN;
        loop {
            self.assert_none_failed();
            let running: Vec<&str> = (self.running.iter())
                .filter(|r| r.status.is_none() && (names.is_empty() || names.contains(&r.name)))
                .map(|r| r.name)
                .collect();
            if running.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {FINISH_WITHIN:?}: {running:?} still running"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for r in &mut self.running {
            // Both are no-ops for a child already reaped.
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
    }
}

/// This test binary, re-executed as `role` under `condition`, behind
/// `wrapper`: a command that ends by exec'ing its arguments (`unshare`,
/// `setpriv`, `sh -c '… exec "$@"'`), so that the environment reaches the
/// worker.
fn worker(wrapper: &[&str], role: &str, condition: &str, scratch: &Scratch) -> Command {
    let exe = std::env::current_exe().unwrap();
    let mut command = match wrapper.split_first() {
        None => Command::new(&exe),
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(&exe);
            command
        }
    };
    command
        .args([
            "--exact",
            "liveness_worker",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env(DIR, &scratch.0)
        .env(CONDITION, condition)
        .stdout(Stdio::null());
    command
}

/// Whether this machine lets a case build its condition: runs `probe` to its
/// end (bounded). If it fails, prints `SKIPPED <test name>: <case>: <why>`
/// to stderr (the test name is libtest's name for the calling thread) and
/// returns `false`.
fn allowed(case: &str, probe: &[&str]) -> bool {
    let refused = |why: String| {
        let shown: Vec<String> = (probe.iter())
            .map(|arg| {
                if arg.contains(' ') {
                    format!("'{arg}'")
                } else {
                    arg.to_string()
                }
            })
            .collect();
        // Straight to the standard error, past libtest's capture of
        // `eprintln!`, so that a skip shows in every run's output; one line,
        // in one write, which `.ci/run` counts.
        let test = std::thread::current().name().unwrap_or("?").to_owned();
        let line = format!("SKIPPED {test}: {case}: `{}` {why}\n", shown.join(" "));
        let line = line.replace('\n', " ").trim_end().to_owned() + "\n";
        let _ = std::io::stderr().write_all(line.as_bytes());
        false
    };
    let mut child = match Command::new(probe[0])
        .args(&probe[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return refused(format!("cannot start: {e}")),
    };
    let deadline = Instant::now() + PROBE_WITHIN;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return refused(format!("took longer than {PROBE_WITHIN:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if status.success() {
        return true;
    }
    let mut why = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut stderr, &mut why);
    }
    refused(format!("failed ({status}): {}", why.trim()))
}

/// The scenario of cases 1 to 6: the holder enters; `inside` checks the
/// case's condition on the holder's logged pid while it holds; then the
/// waiter (given that pid) joins and locks; both must finish, and the witness
/// must show their turns one after the other.
fn holder_then_waiter(
    scratch: &Scratch,
    holder: Command,
    inside: impl FnOnce(u32),
    waiter: impl FnOnce(u32) -> Command,
) {
    let mut children = Children::new(scratch);
    children.spawn("holder", holder);
    let entered = scratch.wait_for_entry(&mut children, "holder");
    inside(entered.pid);
    children.spawn("waiter", waiter(entered.pid));
    children.wait_for_exit(&[]);
    scratch.assert_excluded(&["holder", "waiter"], None);
}

/// A pid namespace of its own, with a `/proc` that shows it; the worker (its
/// pid 1) is killed with `unshare` if `unshare` is.
const UNSHARE_PID: [&str; 5] = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"];

#[test]
fn case1_a_waiter_out_of_descriptors_leaves_a_live_holder_alone() {
    let scratch = Scratch::new("emfile");
    holder_then_waiter(
        &scratch,
        worker(&[], "holder", "", &scratch),
        |_| {},
        |_| worker(&[], "waiter", "out-of-descriptors", &scratch),
    );
}

#[test]
fn case2_a_holder_in_another_pid_namespace_is_alive() {
    if !allowed(
        "case 2 (pid namespaces)",
        &[&UNSHARE_PID[..], &["true"]].concat(),
    ) {
        return;
    }
    let scratch = Scratch::new("pidns-holder");
    holder_then_waiter(
        &scratch,
        worker(&UNSHARE_PID, "holder", "", &scratch),
        |_| {},
        |_| worker(&[], "waiter", "", &scratch),
    );
}

#[test]
fn case2_a_waiter_in_another_pid_namespace_sees_the_holder_alive() {
    if !allowed(
        "case 2 (pid namespaces)",
        &[&UNSHARE_PID[..], &["true"]].concat(),
    ) {
        return;
    }
    let scratch = Scratch::new("pidns-waiter");
    holder_then_waiter(
        &scratch,
        worker(&[], "holder", "", &scratch),
        |_| {},
        |_| worker(&UNSHARE_PID, "waiter", "", &scratch),
    );
}

#[test]
fn case3_a_holder_hidden_by_hidepid_is_alive() {
    const HOLDER: [&str; 4] = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ];
    const WAITER: [&str; 4] = [
        "setpriv",
        "--reuid=65533",
        "--regid=65533",
        "--clear-groups",
    ];
    const HIDEPID: [&str; 6] = [
        "unshare",
        "--mount",
        "sh",
        "-c",
        "mount -t proc -o hidepid=2 proc /proc && exec \"$@\"",
        "sh",
    ];
    let exe = std::env::current_exe().unwrap();
    let exe = exe.to_str().expect("a UTF-8 path to the test binary");
    // `--list` runs the binary as that user: it must be executable by them
    // (the target directory's permissions).
    let probes: [&[&str]; 3] = [
        &[&HOLDER[..], &[exe, "--list"]].concat(),
        &[&WAITER[..], &[exe, "--list"]].concat(),
        &[&HIDEPID[..4], &["mount -t proc -o hidepid=2 proc /proc"]].concat(),
    ];
    if !probes
        .iter()
        .all(|p| allowed("case 3 (hidepid, other users)", p))
    {
        return;
    }
    let scratch = Scratch::new("hidepid");
    holder_then_waiter(
        &scratch,
        worker(&HOLDER, "holder", "", &scratch),
        |_| {},
        |holder| {
            let wrapper = [&HIDEPID[..], &WAITER[..]].concat();
            worker(
                &wrapper,
                "waiter",
                &format!("proc-hidden:{holder}"),
                &scratch,
            )
        },
    );
}

#[test]
fn case4_a_holder_that_could_not_read_the_boot_id_is_alive() {
    const MASK: &str = "mount --bind /dev/null /proc/sys/kernel/random/boot_id";
    if !allowed(
        "case 4 (boot id)",
        &["unshare", "--mount", "sh", "-c", MASK],
    ) {
        return;
    }
    let script = format!("{MASK} && exec \"$@\"");
    let wrapper = ["unshare", "--mount", "sh", "-c", &script, "sh"];
    let scratch = Scratch::new("bootid");
    holder_then_waiter(
        &scratch,
        worker(&wrapper, "holder", "boot-id-unreadable", &scratch),
        |_| {},
        |_| worker(&[], "waiter", "", &scratch),
    );
}

#[test]
fn case5_a_holder_whose_leader_thread_exited_is_alive() {
    let scratch = Scratch::new("leader");
    holder_then_waiter(
        &scratch,
        worker(&[], "leaderless-holder", "", &scratch),
        |holder| {
            let state = proc_state(&holder.to_string());
            assert_eq!(
                state.as_deref(),
                Some("Z"),
                "the holder's leader should be a zombie while the holder holds"
            );
        },
        |_| worker(&[], "waiter", "", &scratch),
    );
}

#[test]
fn case6_a_holder_in_another_time_namespace_is_alive() {
    let shift = TIME_SHIFT.to_string();
    let unshare_time = [
        "unshare",
        "--time",
        "--fork",
        "--kill-child",
        "--boottime",
        &shift,
        "--monotonic",
        &shift,
    ];
    if !allowed(
        "case 6 (time namespaces)",
        &[&unshare_time[..], &["true"]].concat(),
    ) {
        return;
    }
    let scratch = Scratch::new("timens");
    let condition = format!("time-shifted:{}", boot_time().as_secs());
    holder_then_waiter(
        &scratch,
        worker(&unshare_time, "holder", &condition, &scratch),
        |_| {},
        |_| worker(&[], "waiter", "", &scratch),
    );
}

#[test]
fn case7_a_holder_that_execs_releases_the_lock_as_a_death_would() {
    let scratch = Scratch::new("exec");
    let mut children = Children::new(&scratch);
    children.spawn("holder", worker(&[], "exec-holder", "", &scratch));
    let holder = scratch.wait_for_entry(&mut children, "holder");
    let comm = || fs::read_to_string(format!("/proc/{}/comm", holder.pid)).unwrap_or_default();
    children.wait_until(Duration::from_secs(2), "the holder's exec", || {
        comm().trim() == "sleep"
    });
    let exec_seen = Instant::now();
    children.spawn("waiter", worker(&[], "waiter", "", &scratch));
    // The exec released the lock, as a death would: the waiter gets in at
    // once. A lock that takes the sleeper for the holder waits for the
    // sleeper's whole life: fail then, rather than wait.
    let stalled = exec_seen + SLEEPER - STALL_MARGIN;
    while scratch.entry_of("waiter").is_none() {
        children.assert_none_failed();
        assert!(
            Instant::now() < stalled,
            "the bakery stalled across exec: the holder (pid {}) exec'ed `sleep {}` inside the \
             lock, and {:.1} s later the waiter still had not entered (the sleeper keeps the \
             holder's pid and start time; the waiter would wait for its whole life)",
            holder.pid,
            SLEEPER.as_secs(),
            exec_seen.elapsed().as_secs_f64(),
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // The exec, not the sleeper's exit, must have let the waiter in.
    assert!(
        children.is_running("holder") && comm().trim() == "sleep",
        "the sleeper had exited when the waiter entered"
    );
    children.wait_for_exit(&["waiter"]);
    scratch.assert_excluded(&["holder", "waiter"], Some("holder"));
}

#[test]
fn a_forked_child_can_neither_lock_nor_release_its_parents_slot() {
    let scratch = Scratch::new("fork");
    let file = File::open(scratch.0.join(SHARED)).unwrap();
    let mut children = Children::new(&scratch);
    children.spawn("forker", worker(&[], "forker", "", &scratch));
    let forker = scratch.wait_for_entry(&mut children, "forker");
    children.wait_until(ENTER_WITHIN, "the forked child to be reaped", || {
        scratch.0.join(FORKED).exists()
    });
    // The child has dropped its copy of the member and exited: the slot is
    // still the parent's, and the lock still held.
    let owned = ParticipantState::Owned {
        pid: forker.pid,
        alive: true,
    };
    assert!(
        file.participants().contains(&owned),
        "the forked child's drop released its parent's slot: {:?}",
        file.participants()
    );
    assert!(file.is_locked(), "the forked child released the lock");
    children.spawn("waiter", worker(&[], "waiter", "", &scratch));
    children.wait_for_exit(&[]);
    scratch.assert_excluded(&["forker", "waiter"], None);
}

#[test]
fn a_dead_parents_participant_is_recovered_while_its_forked_child_lives() {
    let scratch = Scratch::new("orphan");
    let mut children = Children::new(&scratch);
    children.spawn("forker", worker(&[], "orphaning-forker", "", &scratch));
    scratch.wait_for_entry(&mut children, "forker");
    children.wait_until(ENTER_WITHIN, "the fork", || {
        scratch.0.join(ORPHANED).exists()
    });
    children.kill("forker");
    // The child, alive, must get in: a custody it shared would keep its dead
    // parent's participant held, and the child waiting on itself, for good.
    let child_left = || (scratch.marks().iter()).any(|m| !m.enter && m.role == "child");
    children.wait_until(
        ENTER_WITHIN,
        "the forked child to enter and leave",
        child_left,
    );
    scratch.assert_excluded(&["forker", "child"], Some("forker"));
}
