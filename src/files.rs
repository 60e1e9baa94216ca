//! Personal data at rest (CONTRACT §2): the embedded database and the console's logs hold
//! customers' names and addresses, so their folders are the user's alone (0700) and their files
//! too (0600). A folder or file found looser is tightened, and the caller says so in its log.

use std::io;
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and any missing parent) private to the user; tightens it if it exists and
/// others may read it. Returns the paths it had to tighten.
pub fn private_dir(dir: &Path) -> io::Result<Vec<PathBuf>> {
    #[cfg(unix)]
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)?;
        Ok(tighten(dir, DIR_MODE)?.into_iter().collect())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)?;
        Ok(Vec::new())
    }
}

/// Creates `file` empty if it is missing, private to the user; tightens it (and the files
/// beside it that share its name, such as SQLite's `-wal` and `-shm`) if they are looser.
pub fn private_file(file: &Path) -> io::Result<Vec<PathBuf>> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    options.mode(FILE_MODE);
    options.open(file)?;
    let mut tightened = Vec::new();
    #[cfg(unix)]
    {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let dir = file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        for entry in std::fs::read_dir(dir)?.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&name) {
                tightened.extend(tighten(&entry.path(), FILE_MODE)?);
            }
        }
    }
    Ok(tightened)
}

/// Every file in `dir`, private to the user (the console's log files).
pub fn private_files_in(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut tightened = Vec::new();
    #[cfg(unix)]
    for entry in std::fs::read_dir(dir)?.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            tightened.extend(tighten(&entry.path(), FILE_MODE)?);
        }
    }
    Ok(tightened)
}

/// Sets `mode` when the current one lets anyone else in; the path when it did.
#[cfg(unix)]
fn tighten(path: &Path, mode: u32) -> io::Result<Option<PathBuf>> {
    let current = std::fs::metadata(path)?.permissions().mode();
    if current & 0o077 == 0 {
        return Ok(None);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(Some(path.to_path_buf()))
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_folders_and_files_are_the_users_alone() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data/restaurant-tui");
        assert!(private_dir(&dir).unwrap().is_empty());
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("data")), 0o700);
        let db = dir.join("restaurant.db");
        assert!(private_file(&db).unwrap().is_empty());
        assert_eq!(mode(&db), 0o600);
    }

    #[test]
    fn looser_folders_and_files_are_tightened_and_named() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let db = dir.join("restaurant.db");
        let wal = dir.join("restaurant.db-wal");
        for f in [&db, &wal] {
            std::fs::write(f, b"").unwrap();
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        assert_eq!(private_dir(&dir).unwrap(), std::slice::from_ref(&dir));
        let mut files = private_file(&db).unwrap();
        files.sort();
        assert_eq!(files, [db.clone(), wal.clone()]);
        assert_eq!((mode(&dir), mode(&db), mode(&wal)), (0o700, 0o600, 0o600));
    }
}
