//! The local stage's data directory, held by one process at a time through an exclusive lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

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
        "the data directory `{0}` is in use by another `deployer up` (stop it, or pass another --data-dir)"
    )]
    InUse(PathBuf),
    #[error("cannot lock the data directory `{path}`: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
}

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
        std::fs::create_dir_all(root).map_err(|source| DataDirError::Create {
            path: root.to_owned(),
            source,
        })?;
        let lock_path = root.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| DataDirError::Lock {
                path: lock_path.clone(),
                source,
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(DataDirError::InUse(root.to_owned())),
            Err(TryLockError::Error(source)) => {
                return Err(DataDirError::Lock {
                    path: lock_path,
                    source,
                });
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let first = DataDir::open(&root).unwrap();
        let err = DataDir::open(&root).unwrap_err();
        assert!(matches!(err, DataDirError::InUse(_)), "{err}");
        assert!(!err.to_string().contains('\n'));
        drop(first);
        DataDir::open(&root).unwrap();
    }
}
