//! The embedded database belongs to one process at a time (CONTRACT §2): an exclusive lock on
//! `<database>.lock` beside it, held for the life of the store, with the holder's pid inside so
//! that a second process can say who has it. The operating system drops the lock when the
//! process ends, however it ends (`kill -9` included), so a lock is never stale.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::StoreError;

#[derive(Debug)]
pub(super) struct DataLock {
    /// Held open: closing it releases the lock.
    _file: File,
}

impl DataLock {
    /// Takes the lock of the database at `database`, or says which process holds it.
    pub(super) fn acquire(database: &Path) -> Result<DataLock, StoreError> {
        let path = lock_path(database);
        let files = |source| StoreError::Files {
            path: path.clone(),
            source,
        };
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(files)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path: database.to_path_buf(),
                    pid: holder(&mut file),
                });
            }
            Err(TryLockError::Error(e)) => return Err(files(e)),
        }
        file.set_len(0).map_err(files)?;
        file.rewind().map_err(files)?;
        writeln!(file, "{}", std::process::id()).map_err(files)?;
        file.flush().map_err(files)?;
        Ok(DataLock { _file: file })
    }
}

fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    database.with_file_name(name)
}

/// The pid the holder wrote (it may not have written it yet).
fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_database_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("restaurant.db");
        let first = DataLock::acquire(&db).unwrap();
        match DataLock::acquire(&db) {
            Err(StoreError::Locked { path, pid }) => {
                assert_eq!(path, db);
                assert_eq!(pid, Some(std::process::id()));
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(first);
        assert!(DataLock::acquire(&db).is_ok(), "released when dropped");
    }
}
