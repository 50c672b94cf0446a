//! Small process helpers that several of the binary's roles use.

use std::path::Path;

use anyhow::{Context, Result};

/// Makes `dir/name` a symlink to this binary, which tells its role by the name it was run as.
pub fn link_to_this_binary(dir: &Path, name: &str) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let link = dir.join(name);
    let exe = std::env::current_exe()?;
    if std::fs::read_link(&link).ok().as_deref() != Some(exe.as_path()) {
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&exe, &link)
            .with_context(|| format!("linking {}", link.display()))?;
    }
    Ok(())
}

pub fn process_exists(pid: libc::pid_t) -> bool {
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Exits after the replies in flight have left (the transport sends asynchronously).
pub fn exit_soon() {
    std::thread::spawn(|| {
        std::thread::sleep(std::time::Duration::from_millis(200));
        std::process::exit(0);
    });
}

/// A kernel whose Jupyter (a server, nbconvert, a test) ended without shutting it down exits
/// too, as ipykernel's do, instead of keeping its session's gigabyte for good. jupyter_client
/// sets JPY_PARENT_PID for kernels that are not meant to outlive it; the parent is watched by
/// polling, since PR_SET_PDEATHSIG fires when the thread that started us ends, not the process.
pub fn exit_with_parent() {
    if std::env::var_os("JPY_PARENT_PID").is_none() {
        return;
    }
    // SAFETY: getppid(2) cannot fail.
    let parent = unsafe { libc::getppid() };
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        // SAFETY: as above. An orphan is adopted by init or a subreaper: its parent changes.
        if unsafe { libc::getppid() } != parent {
            eprintln!("ferrolab: the process that started this kernel is gone: exiting");
            std::process::exit(1);
        }
    });
}

/// With FERROLAB_TRACE set, the kernel logs where a session's time goes (for benchmarks).
pub fn trace(message: &str) {
    if std::env::var_os(ferrolab_protocol::env::TRACE).is_some() {
        eprintln!("ferrolab: {message}");
    }
}
