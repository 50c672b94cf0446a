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

/// With FERROLAB_TRACE set, the kernel logs where a session's time goes (for benchmarks).
pub fn trace(message: &str) {
    if std::env::var_os(ferrolab_protocol::env::TRACE).is_some() {
        eprintln!("ferrolab: {message}");
    }
}
