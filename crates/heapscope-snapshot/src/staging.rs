//! Atomic output: a file or directory is made under a temporary name beside its target
//! and renamed over the target only when complete.
//!
//! Snapshots and exports are large and slow to write; a writer that fails, is
//! cancelled or is killed half-way must never leave something at the target that a
//! reader would take for the real thing. [`Staged`] owns the temporary: dropping it
//! without [`Staged::commit`] (an error, a cancellation, a panic unwinding) removes it.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use crate::SnapshotError;

/// A temporary file or directory that becomes `target` on [`Staged::commit`].
#[derive(Debug)]
pub(crate) struct Staged {
    tmp: PathBuf,
    target: PathBuf,
    dir: PathBuf,
    is_dir: bool,
    committed: bool,
}

/// The `SnapshotError::Io` for `action` on `path`.
pub(crate) fn io_error(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(io::Error) -> SnapshotError {
    let path = path.to_path_buf();
    move |source| SnapshotError::Io {
        action,
        path,
        source,
    }
}

impl Staged {
    /// A new temporary file beside `target` (`.<name>.<pid>.tmp`), open for writing.
    pub(crate) fn file(target: &Path) -> Result<(Staged, File), SnapshotError> {
        let staged = Staged::beside(target, false)?;
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&staged.tmp)
            .map_err(io_error("cannot create", &staged.tmp))?;
        Ok((staged, file))
    }

    /// A new empty temporary directory beside `target` (Parquet exports).
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    pub(crate) fn dir(target: &Path) -> Result<Staged, SnapshotError> {
        let staged = Staged::beside(target, true)?;
        fs::create_dir(&staged.tmp).map_err(io_error("cannot create", &staged.tmp))?;
        Ok(staged)
    }

    fn beside(target: &Path, is_dir: bool) -> Result<Staged, SnapshotError> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .ok_or_else(|| SnapshotError::Io {
                action: "cannot write to",
                path: target.to_path_buf(),
                source: io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
            })?
            .to_string_lossy()
            .into_owned();
        Ok(Staged {
            tmp: dir.join(format!(".{name}.{}.tmp", std::process::id())),
            target: target.to_path_buf(),
            dir,
            is_dir,
            committed: false,
        })
    }

    /// Where the temporary is (write the output there).
    pub(crate) fn path(&self) -> &Path {
        &self.tmp
    }

    /// Renames the temporary over the target and makes the rename durable (best
    /// effort). A directory replaces an existing directory only if `replaceable` says
    /// the old one may go (it is moved aside first, then removed: a rename cannot
    /// replace a non-empty directory).
    pub(crate) fn commit(
        mut self,
        replaceable: impl FnOnce(&Path) -> bool,
    ) -> Result<(), SnapshotError> {
        let mut old = None;
        if self.is_dir && self.target.is_dir() {
            if !replaceable(&self.target) {
                return Err(SnapshotError::Io {
                    action: "will not replace",
                    path: self.target.clone(),
                    source: io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        "a directory that is not an export of this format is there",
                    ),
                });
            }
            let aside = self.tmp.with_extension("old");
            fs::rename(&self.target, &aside)
                .map_err(io_error("cannot move aside", &self.target))?;
            old = Some(aside);
        }
        if let Err(e) = fs::rename(&self.tmp, &self.target) {
            if let Some(aside) = &old {
                let _ = fs::rename(aside, &self.target); // put the old one back
            }
            return Err(io_error("cannot move the output to", &self.target)(e));
        }
        self.committed = true;
        if let Some(aside) = old {
            let _ = fs::remove_dir_all(aside);
        }
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let _ = if self.is_dir {
            fs::remove_dir_all(&self.tmp)
        } else {
            fs::remove_file(&self.tmp)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hs-staging-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn entries(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn an_uncommitted_file_or_directory_leaves_nothing() {
        let d = scratch("drop");
        {
            let (s, _f) = Staged::file(&d.join("out.json")).unwrap();
            assert!(s.path().exists());
            let s2 = Staged::dir(&d.join("out.parquet")).unwrap();
            fs::write(s2.path().join("objects.parquet"), b"x").unwrap();
            assert_eq!(entries(&d).len(), 2);
        }
        assert!(entries(&d).is_empty());
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn commit_replaces_a_file_and_only_a_replaceable_directory() {
        let d = scratch("commit");
        let target = d.join("out.json");
        fs::write(&target, b"old").unwrap();
        let (s, _f) = Staged::file(&target).unwrap();
        fs::write(s.path(), b"new").unwrap();
        s.commit(|_| true).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");

        let out = d.join("out.dir");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("keep.txt"), b"mine").unwrap();
        let s = Staged::dir(&out).unwrap();
        fs::write(s.path().join("a"), b"1").unwrap();
        let err = s.commit(|_| false).unwrap_err().to_string();
        assert!(err.contains("will not replace"), "{err}");
        assert_eq!(entries(&out), vec!["keep.txt"]);
        assert_eq!(entries(&d), vec!["out.dir", "out.json"]);

        let s = Staged::dir(&out).unwrap();
        fs::write(s.path().join("a"), b"1").unwrap();
        s.commit(|_| true).unwrap();
        assert_eq!(entries(&out), vec!["a"]);
        assert_eq!(entries(&d), vec!["out.dir", "out.json"]);
        fs::remove_dir_all(d).unwrap();
    }
}
