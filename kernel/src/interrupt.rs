//! Stopping a running cell from another thread, keeping the session's variables when it can.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How long a running cell gets to stop by itself (prelude code checks the interrupt flag)
/// before the evaluation process is ended, which costs the session's variables.
const INTERRUPT_GRACE: Duration = Duration::from_secs(2);

/// First raises the flag that prelude loops check (`ferrolab::runtime::check_interrupt`),
/// which unwinds the cell and keeps every variable; a cell that does not stop within
/// INTERRUPT_GRACE loses its process.
pub struct Interrupter {
    /// A one-byte file the evaluation process maps into memory: 1 means "stop".
    flag: PathBuf,
    /// Touched by the cell-build hook after each build (see cellbuild.rs).
    built: PathBuf,
    /// When the current cell began, to tell whether its build has finished.
    cell_began: Mutex<SystemTime>,
    pid: Mutex<Option<u32>>,
    /// Counts cells, so a late kill never hits a cell started after the interrupt.
    cell: AtomicU64,
    running: AtomicBool,
    killed: AtomicBool,
}

impl Interrupter {
    pub fn new(session_dir: &Path) -> Self {
        Interrupter {
            flag: session_dir.join("interrupt"),
            built: session_dir.join(crate::cellbuild::BUILT_MARKER),
            cell_began: Mutex::new(SystemTime::now()),
            pid: Mutex::new(None),
            cell: AtomicU64::new(0),
            running: AtomicBool::new(false),
            killed: AtomicBool::new(false),
        }
    }

    /// The evaluation process that runs the cells (a new one after the last was lost).
    pub fn set_process(&self, pid: u32) {
        *self.pid.lock().unwrap() = Some(pid);
    }

    /// The last cell's process was ended by an interrupt.
    pub fn killed_the_process(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    fn set_flag(&self, raised: bool) {
        use std::os::unix::fs::FileExt;
        // Written in place, never truncated: the evaluation process has this byte mapped,
        // and reading a mapping past the end of its file is a SIGBUS.
        let written = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.flag)
            .and_then(|f| f.write_all_at(&[raised as u8], 0));
        if let Err(error) = written {
            eprintln!(
                "ferrolab: cannot write the interrupt flag {}: {error}",
                self.flag.display()
            );
        }
    }

    pub fn begin_cell(&self) {
        self.set_flag(false);
        *self.cell_began.lock().unwrap() = SystemTime::now();
        self.killed.store(false, Ordering::SeqCst);
        self.cell.fetch_add(1, Ordering::SeqCst);
        self.running.store(true, Ordering::SeqCst);
    }

    pub fn end_cell(&self) {
        self.running.store(false, Ordering::SeqCst);
    }

    /// When the current cell's build ended, if it has.
    fn build_ended(&self) -> Option<SystemTime> {
        let built = std::fs::metadata(&self.built).ok()?.modified().ok()?;
        (built >= *self.cell_began.lock().unwrap()).then_some(built)
    }

    pub fn interrupt(self: &Arc<Self>) {
        if !self.running.load(Ordering::SeqCst) {
            return;
        }
        self.set_flag(true);
        let (this, cell) = (self.clone(), self.cell.load(Ordering::SeqCst));
        std::thread::spawn(move || {
            let still_running =
                || this.running.load(Ordering::SeqCst) && this.cell.load(Ordering::SeqCst) == cell;
            std::thread::sleep(INTERRUPT_GRACE);
            // The grace counts from the end of the cell's build: while rustc works, no code
            // of the cell runs yet, and ending the process would only cost the variables.
            let build_ended = loop {
                match this.build_ended() {
                    Some(ended) => break ended,
                    None if still_running() => std::thread::sleep(Duration::from_millis(50)),
                    None => return,
                }
            };
            let since_build = build_ended.elapsed().unwrap_or_default();
            std::thread::sleep(INTERRUPT_GRACE.saturating_sub(since_build));
            if still_running() {
                if let Some(pid) = *this.pid.lock().unwrap() {
                    this.killed.store(true, Ordering::SeqCst);
                    // SAFETY: kill(2) on the evaluation process we started.
                    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                }
            }
        });
    }
}
