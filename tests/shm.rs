//! The shared file within one process: creation and opening (wrong headers,
//! wrong layouts, short files, symlinks, permissions), the register, the log
//! and the bakery from several threads (each its own member), taking over a
//! dead owner's slot, and a file filled with random bytes read through every
//! public read path.
//!
//! The kill tests, with real processes, are in `shm_processes.rs`; the cases
//! where a live holder could be mistaken for a dead one, in
//! `shm_liveness.rs`.

#![cfg(all(feature = "shm", target_os = "linux", not(loom), not(miri)))]

use doorway::paxos::latch::LatchBlock;
use doorway::shm::{Error, Layout, Options, ParticipantState, Shared};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A fresh directory for one test, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("doorway-shm-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

type File = Shared<u64, [u64; 2]>;

#[test]
fn created_files_are_private_complete_and_not_created_twice() {
    let dir = Dir::new("create");
    let path = dir.path("f");
    let file = File::create(&path, &Options::new(3).log_capacity(4)).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.len(), file.layout().file_len().unwrap());
    assert!(matches!(
        File::create(&path, &Options::new(3)),
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists
    ));
    let shared = File::create(dir.path("g"), &Options::new(2).mode(0o660)).unwrap();
    let mode = std::fs::metadata(dir.path("g"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o660,
        "the mode asked for, whatever the umask"
    );
    drop(shared);
    // Only the two files: no temporary left behind.
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 2);
}

#[test]
fn any_name_the_directory_takes_can_be_created() {
    let dir = Dir::new("long");
    let name = "n".repeat(255);
    let file = File::create(dir.path(&name), &Options::new(2)).unwrap();
    assert!(File::open(dir.path(&name)).is_ok());
    drop(file);
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 1);
}

/// Holds an open-file-description lock on byte 0 of `path`, as a creator
/// does on its temporary file while it writes it.
fn hold_creating_byte(path: &std::path::Path) -> std::fs::File {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    // SAFETY: `flock` is plain data; zeroes are valid (l_pid must be 0).
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as _;
    lock.l_whence = libc::SEEK_SET as _;
    lock.l_len = 1;
    // SAFETY: a valid descriptor and a `flock` that outlives the call.
    let done = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &mut lock) };
    assert_eq!(done, 0, "{}", std::io::Error::last_os_error());
    file
}

#[test]
fn abandoned_temporary_files_are_removed_and_live_ones_kept() {
    let dir = Dir::new("leftovers");
    let abandoned = dir.path(".doorway-0123456789abcdef.tmp");
    let in_progress = dir.path(".doorway-fedcba9876543210.tmp");
    let unrelated = dir.path(".doorway-not-ours.tmp");
    for path in [&abandoned, &in_progress, &unrelated] {
        std::fs::write(path, b"half-written").unwrap();
    }
    let creator = hold_creating_byte(&in_progress);
    drop(File::create(dir.path("f"), &Options::new(2)).unwrap());
    assert!(!abandoned.exists(), "nobody held it: its creator is gone");
    assert!(
        in_progress.exists(),
        "its creator holds it: still being written"
    );
    assert!(unrelated.exists(), "not a name doorway makes");
    drop(creator);
    drop(File::create(dir.path("g"), &Options::new(2)).unwrap());
    assert!(!in_progress.exists(), "removed once its creator let go");
}

#[test]
fn a_directory_at_the_path_is_refused_as_insecure() {
    let dir = Dir::new("directory");
    std::fs::create_dir(dir.path("d")).unwrap();
    assert!(matches!(
        File::open(dir.path("d")),
        Err(Error::Insecure("not a regular file"))
    ));
}

#[test]
fn a_member_dropped_after_truncation_leaves_the_mapping_alone() {
    let dir = Dir::new("truncate");
    let path = dir.path("f");
    drop(File::create(&path, &Options::new(2)).unwrap());
    run_child("truncate", &path); // a SIGBUS would fail the child
}

#[test]
fn a_slot_is_held_while_its_member_lives_and_given_back_on_drop() {
    let dir = Dir::new("held");
    let path = dir.path("f");
    let file = File::create(&path, &Options::new(2)).unwrap();
    let first = file.join().unwrap();
    let second = file.join().unwrap();
    assert_eq!((first.index(), second.index()), (0, 1));
    let me = std::process::id();
    assert_eq!(
        file.participants(),
        [ParticipantState::Owned {
            pid: me,
            alive: true
        }; 2],
        "each member holds its slot through a description of its own"
    );
    assert!(matches!(file.join_as(0), Err(Error::Full)));
    assert!(matches!(file.join(), Err(Error::Full)));
    assert_eq!(file.recover_dead().unwrap(), 0, "nobody is dead");
    drop(first);
    assert_eq!(file.participants()[0], ParticipantState::Free);
    assert_eq!(file.join().unwrap().index(), 0);
}

#[test]
fn a_member_needs_the_file_still_at_its_path() {
    let dir = Dir::new("replaced");
    let path = dir.path("f");
    let file = File::create(&path, &Options::new(2)).unwrap();
    std::fs::rename(&path, dir.path("elsewhere")).unwrap();
    assert!(
        matches!(file.join(), Err(Error::Replaced(_))),
        "no file at the path"
    );
    drop(File::create(&path, &Options::new(2)).unwrap());
    assert!(
        matches!(file.join(), Err(Error::Replaced(_))),
        "another file at the path"
    );
}

/// `check()`, `join`, `recover_dead` and a waiter name each way the path can
/// stop naming the mapped file: removed, renamed away, replaced.
#[test]
fn a_removed_moved_or_replaced_file_is_named() {
    type Replacement = fn(&Path, &Path);
    let ways: [(&str, Replacement); 3] = [
        ("rm", |path, _| std::fs::remove_file(path).unwrap()),
        ("mv away", |path, elsewhere| {
            std::fs::rename(path, elsewhere).unwrap()
        }),
        ("replaced", |path, elsewhere| {
            drop(File::create(elsewhere, &Options::new(2)).unwrap());
            std::fs::rename(elsewhere, path).unwrap();
        }),
    ];
    for (way, replace) in ways {
        let dir = Dir::new("replaced-ways");
        let path = dir.path("f");
        let file = File::create(&path, &Options::new(2)).unwrap();
        let mut holder = file.join().unwrap();
        let mut waiter = file.join().unwrap();
        file.check().unwrap();
        replace(&path, &dir.path("elsewhere"));
        let named = |e: &Error| matches!(e, Error::Replaced(_));
        assert!(named(&file.check().unwrap_err()), "{way}: check");
        assert!(named(&file.join().unwrap_err()), "{way}: join");
        assert!(
            named(&file.recover_dead().unwrap_err()),
            "{way}: recover_dead"
        );
        // A waiter behind a live holder looks for the dead before it
        // sleeps, and cannot ask any more: it withdraws and says why.
        let guard = holder.lock();
        let refused = waiter.lock_checked().map(drop).unwrap_err();
        assert!(named(&refused), "{way}: a waiter: {refused}");
        assert!(!guard.owner_died());
        drop(guard);
        assert!(!file.is_locked(), "{way}: the waiter withdrew");
        // The old members still share the old file: the lock works among them.
        drop(
            waiter
                .lock_checked()
                .unwrap_or_else(|e| panic!("{way}: uncontended: {e}")),
        );
    }
}

#[test]
fn a_planted_symlink_is_never_followed() {
    let dir = Dir::new("symlink");
    let target = dir.path("target");
    std::fs::write(&target, b"precious").unwrap();
    let link = dir.path("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert!(File::create(&link, &Options::new(2)).is_err());
    assert!(matches!(File::open(&link), Err(Error::Insecure(_))));
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
}

#[test]
fn wrong_headers_layouts_and_lengths_are_errors() {
    let dir = Dir::new("wrong");
    let path = dir.path("f");
    drop(File::create(&path, &Options::new(3).log_capacity(4)).unwrap());
    // Other types, another block kind, another layout.
    assert!(matches!(
        Shared::<u32, [u64; 2]>::open(&path),
        Err(Error::Layout {
            what: "the value size",
            ..
        })
    ));
    assert!(matches!(
        Shared::<u64, u64>::open(&path),
        Err(Error::Layout {
            what: "the data size",
            ..
        })
    ));
    assert!(matches!(
        Shared::<u64, [u64; 2], LatchBlock>::open(&path),
        Err(Error::Layout {
            what: "the block kind",
            ..
        })
    ));
    assert!(matches!(
        File::open_or_create(&path, &Options::new(4).log_capacity(4)),
        Err(Error::Layout {
            what: "participants",
            ..
        })
    ));
    File::open_or_create(&path, &Options::new(3).log_capacity(4)).unwrap();
    // A flipped byte in the header.
    let bytes = std::fs::read(&path).unwrap();
    let handle = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    handle.write_all_at(&[bytes[20] ^ 1], 20).unwrap();
    assert!(matches!(File::open(&path), Err(Error::Header(_))));
    handle.write_all_at(&bytes[20..21], 20).unwrap();
    File::open(&path).unwrap();
    // Truncated, extended, shorter than a header, empty, not ours.
    let len = bytes.len() as u64;
    for wrong in [len - 1, len + 64, 100, 0] {
        handle.set_len(wrong).unwrap();
        match File::open(&path) {
            Err(Error::Length { found, .. }) => assert_eq!(found, wrong),
            other => panic!("length {wrong}: {other:?}"),
        }
    }
    handle.set_len(len).unwrap();
    handle.write_all_at(&bytes[..128], 0).unwrap();
    let file = File::open(&path).unwrap();
    handle.set_len(len + 8).unwrap();
    assert!(
        matches!(file.check(), Err(Error::Length { .. })),
        "resized after open"
    );
    std::fs::write(dir.path("text"), b"hello, world").unwrap();
    assert!(matches!(
        File::open(dir.path("text")),
        Err(Error::Length { .. })
    ));
    std::fs::write(dir.path("zeros"), vec![0u8; 4096]).unwrap();
    assert!(matches!(
        File::open(dir.path("zeros")),
        Err(Error::NotDoorway)
    ));
    assert!(File::open(&dir.0).is_err(), "a directory");
}

#[test]
fn threads_agree_on_the_register_and_the_log_and_exclude_on_the_bakery() {
    let dir = Dir::new("threads");
    let file = File::create(dir.path("f"), &Options::new(4).log_capacity(64)).unwrap();
    const ROUNDS: u64 = 2000;
    let decided: Vec<(u64, Vec<usize>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4u64)
            .map(|k| {
                let file = &file;
                s.spawn(move || {
                    let mut me = file.join().unwrap();
                    let value = me.propose(100 + k).unwrap();
                    let slots: Vec<usize> =
                        (0..10).map(|i| me.append(k * 1000 + i).unwrap()).collect();
                    for _ in 0..ROUNDS {
                        let mut guard = me.lock();
                        assert!(!guard.owner_died());
                        let [count, _] = guard.get();
                        guard.set(&[count + 1, k]);
                    }
                    (value, slots)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let value = file.decided().unwrap().unwrap();
    assert!((100..104).contains(&value));
    assert!(decided.iter().all(|(v, _)| *v == value), "agreement");
    let entries = file.log_entries().unwrap();
    assert_eq!(entries.len(), 40);
    assert_eq!(file.log_len().unwrap(), 40);
    for (k, (_, slots)) in decided.iter().enumerate() {
        for (i, &slot) in slots.iter().enumerate() {
            assert_eq!(entries[slot], k as u64 * 1000 + i as u64);
            assert!(file.log_author(slot).unwrap().is_some());
        }
    }
    let mut me = file.join().unwrap();
    assert_eq!(me.lock().get()[0], 4 * ROUNDS, "a lost increment");
    drop(me);
    assert!(
        file.participants()
            .iter()
            .all(|s| *s == ParticipantState::Free)
    );
    assert!(!file.is_locked());
}

/// What a child process does before it dies (`DOORWAY_SHM_CHILD`): `hold`
/// claims slot 0, proposes 7, takes the lock, writes `[1, 99]` and exits
/// holding it; `append` claims slot 1, appends 41 and exits. Neither gives
/// anything back: to the others they died. `truncate` joins, truncates the
/// file under its own mapping, and drops its member, which must not touch
/// the lost pages (`SIGBUS`).
#[test]
fn child() {
    let Ok(role) = std::env::var("DOORWAY_SHM_CHILD") else {
        return; // the normal run: nothing to do
    };
    let path = std::env::var("DOORWAY_SHM_PATH").unwrap();
    let file = File::open(&path).unwrap();
    match role.as_str() {
        "hold" => {
            let mut me = file.join_as(0).unwrap();
            me.propose(7).unwrap();
            let mut guard = me.lock();
            guard.set(&[1, 99]);
            std::process::exit(0); // holding the lock, owning the slot
        }
        "append" => {
            let mut me = file.join_as(1).unwrap();
            me.append(41).unwrap();
            std::process::exit(0);
        }
        "truncate" => {
            let me = file.join().unwrap();
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(0)
                .unwrap();
            assert!(matches!(file.check(), Err(Error::Length { .. })));
            drop(me);
            drop(file);
            std::process::exit(0);
        }
        other => panic!("unknown role {other}"),
    }
}

/// Runs this test binary's `child` test as a process in `role`, to its end;
/// returns its pid.
fn run_child(role: &str, path: &std::path::Path) -> u32 {
    let exe = std::env::current_exe().unwrap();
    let mut child = std::process::Command::new(exe)
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("DOORWAY_SHM_CHILD", role)
        .env("DOORWAY_SHM_PATH", path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    assert!(child.wait().unwrap().success());
    pid
}

#[test]
fn a_dead_owners_slot_is_recovered_and_the_next_holder_told() {
    let dir = Dir::new("dead");
    let path = dir.path("f");
    let file = File::create(&path, &Options::new(2).log_capacity(4)).unwrap();
    run_child("hold", &path);
    assert!(matches!(
        file.participants()[0],
        ParticipantState::Owned { alive: false, .. }
    ));
    assert!(file.is_locked());
    let mut survivor = file.join_as(1).unwrap();
    assert_eq!(
        survivor.propose(8).unwrap(),
        7,
        "the dead one's decision stands"
    );
    {
        let mut guard = survivor.lock(); // recovers slot 0 while it waits
        assert!(guard.owner_died(), "the holder died inside");
        assert_eq!(guard.get(), [1, 99]);
        guard.mark_consistent();
    }
    assert!(!survivor.lock().owner_died());
    assert_eq!(file.participants()[0], ParticipantState::Free);
    let heir = file.join_as(0).unwrap();
    assert_eq!(
        heir.took_over_from(),
        None,
        "already recovered by the waiter"
    );
}

#[test]
fn a_new_owner_goes_on_with_the_dead_owners_proposal() {
    let dir = Dir::new("heir");
    let path = dir.path("f");
    let file = File::create(&path, &Options::new(2).log_capacity(4)).unwrap();
    let pid = run_child("append", &path);
    let mut heir = file.join_as(1).unwrap();
    assert_eq!(heir.took_over_from(), Some(pid));
    assert_eq!(heir.append(42).unwrap(), 1);
    assert_eq!(file.log_entries().unwrap(), [41, 42]);
}

/// A file whose every byte after a valid header is random: every public
/// read path returns a value or an error, never panics, and a member can
/// still lock (recovering the garbage owners) and propose (or report the
/// corruption).
#[test]
fn a_file_of_random_bytes_never_panics_a_reader() {
    let dir = Dir::new("random");
    let path = dir.path("f");
    let len = File::create(&path, &Options::new(4).log_capacity(8))
        .unwrap()
        .layout()
        .file_len()
        .unwrap() as usize;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..40 {
        let mut bytes = std::fs::read(&path).unwrap();
        for byte in &mut bytes[128..] {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Mostly small words, so some blocks and decisions decode.
            *byte = if round % 2 == 0 {
                state as u8
            } else {
                (state as u8) & 3
            };
        }
        assert_eq!(bytes.len(), len);
        std::fs::write(&path, &bytes).unwrap();
        let file = File::open(&path).unwrap();
        let _ = file.decided();
        for slot in 0..10 {
            let _ = (file.log_get(slot), file.log_author(slot));
        }
        let _ = (
            file.log_len(),
            file.log_entries(),
            file.participants(),
            file.is_locked(),
        );
        let _ = file.recover_dead();
        let mut me = file.join().expect("garbage owners are dead");
        let _ = me.propose(5);
        let _ = me.append(6);
        let _ = me.lock().get();
    }
}

#[test]
fn layouts_describe_themselves() {
    let layout = Layout {
        participants: 2,
        block_kind: 1,
        value_size: 8,
        value_align: 8,
        data_size: 0,
        data_align: 1,
        log_capacity: 0,
    };
    let header = layout.to_header().unwrap();
    assert_eq!(Layout::from_header(&header).unwrap(), layout);
}

/// A lock on `len` bytes from `start` (0: to the end), of `kind`, through
/// `file`: what a process other than a member can place.
fn foreign_lock(file: &std::fs::File, kind: libc::c_int, start: i64, len: i64) {
    use std::os::fd::AsRawFd;
    // SAFETY: all zeroes is a valid `flock`; `l_pid` must be 0.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = kind as _;
    lock.l_whence = libc::SEEK_SET as _;
    lock.l_start = start as _;
    lock.l_len = len as _;
    // SAFETY: a valid descriptor and a `flock` that outlives the call.
    let done = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &raw mut lock) };
    assert_eq!(done, 0, "{}", std::io::Error::last_os_error());
}

/// A read lock on the whole file (a reader's), a write lock on the whole
/// file, and a read lock on one participant's byte: `join`, `join_as` and
/// `recover_dead` name them, never `Full` or 0; once they are gone, all is
/// as before.
#[test]
fn locks_no_member_places_are_named() {
    let dir = Dir::new("interference");
    let path = dir.path("f");
    let file = File::create(&path, &Options::new(2)).unwrap();
    let cases: [(&str, bool, libc::c_int, i64, i64); 3] = [
        (
            "a reader's lock on the whole file",
            false,
            libc::F_RDLCK,
            0,
            0,
        ),
        (
            "a writer's lock on the whole file",
            true,
            libc::F_WRLCK,
            0,
            0,
        ),
        (
            "a reader's lock on participant 0's byte",
            false,
            libc::F_RDLCK,
            128,
            1,
        ),
    ];
    for (what, write, kind, start, len) in cases {
        let foreign = std::fs::OpenOptions::new()
            .read(true)
            .write(write)
            .open(&path)
            .unwrap();
        foreign_lock(&foreign, kind, start, len);
        let named = |e: &Error| {
            matches!(e, &Error::Interference { participant: 0, write: w, start: s, len: l }
                if (w, s, l) == (write, start as u64, len as u64))
        };
        let refused = file.join_as(0).unwrap_err();
        assert!(named(&refused), "{what}: join_as(0): {refused}");
        let refused = file.recover_dead().unwrap_err();
        assert!(named(&refused), "{what}: recover_dead: {refused}");
        if len == 0 {
            let refused = file.join().unwrap_err();
            assert!(
                matches!(refused, Error::Interference { .. }),
                "{what}: join: {refused}"
            );
        } else {
            // Participant 1 is free: join takes it.
            assert_eq!(file.join().unwrap().index(), 1, "{what}");
        }
        drop(foreign);
        assert_eq!(file.recover_dead().unwrap(), 0, "{what}: gone");
        assert_eq!(file.join().unwrap().index(), 0, "{what}: gone");
    }
}

#[test]
fn modes_that_give_read_without_write_are_refused() {
    let dir = Dir::new("modes");
    for mode in [0o644, 0o640, 0o604, 0o400] {
        let refused = File::create(dir.path("f"), &Options::new(2).mode(mode));
        assert!(
            matches!(refused, Err(Error::Insecure(_))),
            "create with {mode:o}: {refused:?}"
        );
    }
    let file = File::create(dir.path("g"), &Options::new(2).mode(0o660)).unwrap();
    drop(file);
    std::fs::set_permissions(dir.path("g"), std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(
        matches!(File::open(dir.path("g")), Err(Error::Insecure(_))),
        "open of a file made 0o644 since"
    );
}
