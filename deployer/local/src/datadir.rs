//! The local stage's data directory, held by one process at a time through an exclusive lock.
//!
//! It is private: the directory is made (or tightened to) `0700`, and the files the stage writes
//! are `0600` ([`write_private`], [`private_database`]): the database holds password hashes and
//! tokens' digests, the outbox codes, the objects the users' photos.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use thiserror::Error;

/// Why the data directory cannot be used.
#[derive(Debug, Error)]
pub enum DataDirError {
    #[error("cannot create the data directory `{path}`: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the data directory `{path}` is in use by another `deployer up`{} (waited {} s for it; stop it, or pass another --data-dir)",
        .holder.map(|pid| format!(", process {pid}")).unwrap_or_default(),
        .waited.as_secs_f32().ceil()
    )]
    InUse {
        path: PathBuf,
        /// The process holding it, as it wrote itself in the lock file.
        holder: Option<u32>,
        waited: Duration,
    },
    #[error("cannot lock the data directory `{path}`: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How often a held lock is tried again.
const LOCK_POLL: Duration = Duration::from_millis(100);

/// How long `deployer up` waits for the data directory's lock by default: longer than a stopping
/// stage takes to finish the photo in hand.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(15);

/// The data directory, locked for this process until dropped.
#[derive(Debug)]
pub struct DataDir {
    root: PathBuf,
    // The lock lives as long as this handle; the OS releases it if the process dies.
    _lock: File,
}

impl DataDir {
    /// Creates the directory when missing and takes its lock without waiting.
    pub fn open(root: &Path) -> Result<Self, DataDirError> {
        Self::open_waiting(root, Duration::ZERO)
    }

    /// Creates the directory when missing and takes its lock, waiting up to `wait` for a holder
    /// to let go (a stage still stopping, or the one just killed: the OS frees its lock as it
    /// exits); when it stays held, the error names the process holding it.
    pub fn open_waiting(root: &Path, wait: Duration) -> Result<Self, DataDirError> {
        let create = |source| DataDirError::Create {
            path: root.to_owned(),
            source,
        };
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(root).map_err(create)?;
        // A directory made by an earlier stage, or by hand, is tightened too.
        set_mode(root, 0o700).map_err(create)?;
        let lock_path = root.join("lock");
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let lock = options
            .open(&lock_path)
            .map_err(|source| DataDirError::Lock {
                path: lock_path.clone(),
                source,
            })?;
        let started = Instant::now();
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if started.elapsed() < wait => {
                    std::thread::sleep(LOCK_POLL.min(wait));
                }
                Err(TryLockError::WouldBlock) => {
                    let holder = std::fs::read_to_string(&lock_path)
                        .ok()
                        .and_then(|text| text.trim().parse().ok());
                    return Err(DataDirError::InUse {
                        path: root.to_owned(),
                        holder,
                        waited: started.elapsed(),
                    });
                }
                Err(TryLockError::Error(source)) => {
                    return Err(DataDirError::Lock {
                        path: lock_path,
                        source,
                    });
                }
            }
        }
        // Held: say who holds it, for the next one to find.
        let lock_error = |source| DataDirError::Lock {
            path: lock_path.clone(),
            source,
        };
        {
            use std::io::Write as _;
            lock.set_len(0).map_err(lock_error)?;
            (&lock)
                .write_all(format!("{}\n", std::process::id()).as_bytes())
                .map_err(lock_error)?;
        }
        Ok(DataDir {
            root: root.to_owned(),
            _lock: lock,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

/// Sets a path's permission bits (Unix; elsewhere nothing).
pub fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// Writes `bytes` to `path` (replacing it), readable by its owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // A file left from before keeps its mode through `open`: set it.
    set_mode(path, 0o600)?;
    file.write_all(bytes)
}

/// Makes the database file `path` owner-only before SQLite opens it: created empty (which SQLite
/// takes as a new database) when missing, tightened when not. SQLite gives the `-wal` and `-shm`
/// files it creates the database's mode; ones left from before are tightened here.
pub fn private_database(path: &Path) -> std::io::Result<()> {
    if !path.exists() {
        write_private(path, b"")?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        if file.exists() {
            set_mode(&file, 0o600)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let first = DataDir::open(&root).unwrap();
        let err = DataDir::open(&root).unwrap_err();
        assert!(matches!(err, DataDirError::InUse { .. }), "{err}");
        assert!(
            err.to_string()
                .contains(&format!("process {}", std::process::id())),
            "{err}"
        );
        assert!(!err.to_string().contains('\n'));
        drop(first);
        DataDir::open(&root).unwrap();
    }
}
