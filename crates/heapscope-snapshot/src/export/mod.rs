//! Exports: a loaded heap graph written in other tools' formats.
//!
//! * [`ExportFormat::Heapsnapshot`] — Chrome DevTools' `.heapsnapshot` (V8's JSON
//!   schema), so a Python heap can be browsed in DevTools' Memory panel or read by
//!   memlab (`heapsnapshot.rs`);
//! * [`ExportFormat::JsonLines`] — one JSON object per line, meliae's keys plus ours, for
//!   scripts and for people moving from meliae (`jsonl.rs`);
//! * [`ExportFormat::Parquet`] — a directory of tables (objects with retained sizes and
//!   dominators, edges, types, roots) for DuckDB, polars or pandas (`parquet.rs`, behind
//!   the `parquet` feature).
//!
//! Every export streams (the graph is the only large thing in memory, besides what
//! Parquet's row groups and the dominator tree need), reports progress through a
//! [`ProgressHook`] that can cancel it, and is atomic: it is written under a temporary
//! name beside the target and renamed into place only when complete, so an error or a
//! cancellation leaves nothing at the target. docs/exports.md describes the formats.

mod error;
mod heapsnapshot;
mod json;
mod jsonl;
mod names;
#[cfg(feature = "parquet")]
mod parquet;
mod progress;
mod reach;
#[cfg(test)]
pub(crate) mod sample;

use std::path::Path;

use heapscope_core::{DominatorTree, GraphNotes, HeapGraph};

pub use error::ExportError;
pub use progress::ProgressHook;

use crate::staging::Staged;
use json::JsonOut;
use progress::Ticker;

/// The formats a graph can be exported to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Chrome DevTools' `.heapsnapshot` (one JSON file).
    Heapsnapshot,
    /// JSON lines: one object per line (one file).
    JsonLines,
    /// A directory of Parquet tables.
    Parquet,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 3] = [
        ExportFormat::Heapsnapshot,
        ExportFormat::JsonLines,
        ExportFormat::Parquet,
    ];

    /// The name callers use (`heapsnapshot`, `jsonl`, `parquet`).
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Heapsnapshot => "heapsnapshot",
            ExportFormat::JsonLines => "jsonl",
            ExportFormat::Parquet => "parquet",
        }
    }

    /// Whether this build can write the format (Parquet needs the `parquet` feature).
    pub fn available(self) -> bool {
        self != ExportFormat::Parquet || cfg!(feature = "parquet")
    }
}

/// What an export reads: a graph with its notes (a loaded snapshot's), and its
/// dominator tree if the caller has one (Parquet's retained sizes and dominators need
/// it; it is computed when not given).
#[derive(Clone, Copy)]
pub struct ExportSource<'a> {
    pub graph: &'a HeapGraph,
    pub notes: &'a GraphNotes,
    pub dominators: Option<&'a DominatorTree>,
}

/// Writes `source` to `path` in `format`, atomically (see the module docs), telling
/// `progress` how far it got; a `Break` from it cancels with
/// [`ExportError::Cancelled`] and leaves nothing at `path`. Parquet writes a directory
/// and replaces an existing one only if it holds nothing but a Parquet export's tables.
pub fn export(
    source: &ExportSource<'_>,
    format: ExportFormat,
    path: &Path,
    progress: ProgressHook<'_>,
) -> Result<(), ExportError> {
    // work units: one per node and pass over the nodes
    let passes = match format {
        ExportFormat::Heapsnapshot => 3, // nodes, edges, strings
        ExportFormat::JsonLines => 1,
        ExportFormat::Parquet => 2, // objects, edges
    };
    let mut ticker = Ticker::start(progress, passes * source.graph.node_count() as u64)?;
    match format {
        ExportFormat::Heapsnapshot | ExportFormat::JsonLines => {
            let (staged, file) = Staged::file(path)?;
            let mut out = JsonOut::new(file, staged.path().to_path_buf());
            if format == ExportFormat::Heapsnapshot {
                heapsnapshot::write(source, &mut out, &mut ticker)?;
            } else {
                jsonl::write(source, &mut out, &mut ticker)?;
            }
            out.finish()?;
            // the last chance to cancel comes after the (slow) fsync, so that a
            // cancellation then still leaves nothing
            ticker.finish()?;
            staged.commit(|_| false)?;
            Ok(())
        }
        ExportFormat::Parquet => write_parquet(source, path, &mut ticker),
    }
}

#[cfg(feature = "parquet")]
fn write_parquet(
    source: &ExportSource<'_>,
    path: &Path,
    ticker: &mut Ticker<'_>,
) -> Result<(), ExportError> {
    let staged = Staged::dir(path)?;
    parquet::write(source, staged.path(), ticker)?;
    ticker.finish()?;
    staged.commit(parquet::is_export_dir)?;
    Ok(())
}

#[cfg(not(feature = "parquet"))]
fn write_parquet(_: &ExportSource<'_>, _: &Path, _: &mut Ticker<'_>) -> Result<(), ExportError> {
    Err(ExportError::Unsupported {
        format: "parquet",
        why: "this build of heapscope-snapshot lacks the `parquet` feature".into(),
    })
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use super::*;

    #[test]
    fn a_cancelled_or_failed_export_leaves_nothing_and_a_finished_one_its_output() {
        let (g, notes) = sample::graph();
        let source = ExportSource {
            graph: &g,
            notes: &notes,
            dominators: None,
        };
        let dir = sample::scratch("cancel");
        let listing = || {
            let mut v: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        for format in ExportFormat::ALL.into_iter().filter(|f| f.available()) {
            let target = dir.join(format!("out.{}", format.name()));
            // cancelled at once, half-way, and at the very end
            for stop_at in [0u64, 1, u64::MAX] {
                let mut reports = 0u64;
                let mut hook = |done: u64, total: u64| {
                    reports += 1;
                    if done >= stop_at.min(total) {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                };
                let err = export(&source, format, &target, &mut hook).unwrap_err();
                assert!(matches!(err, ExportError::Cancelled), "{format:?}: {err}");
                assert!(
                    listing().is_empty(),
                    "{format:?} {stop_at}: {:?}",
                    listing()
                );
                assert!(reports >= 1);
            }
            let mut last = (0, 1);
            export(&source, format, &target, &mut |d, t| {
                last = (d, t);
                ControlFlow::Continue(())
            })
            .unwrap();
            assert_eq!(last.0, last.1, "{format:?} ends with (total, total)");
            assert_eq!(
                listing(),
                vec![target.file_name().unwrap().to_string_lossy()]
            );
            // a second export replaces the first
            export(&source, format, &target, &mut |_, _| {
                ControlFlow::Continue(())
            })
            .unwrap();
            assert_eq!(listing().len(), 1);
            remove(&target);
        }
        // a directory that is missing is an I/O error naming it, and leaves nothing
        let missing = dir.join("no/such/dir/out.jsonl");
        let err = export(&source, ExportFormat::JsonLines, &missing, &mut |_, _| {
            ControlFlow::Continue(())
        })
        .unwrap_err();
        assert!(matches!(err, ExportError::File(_)), "{err}");
        assert!(err.to_string().contains("no/such/dir"), "{err}");
        assert!(listing().is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(not(feature = "parquet"))]
    #[test]
    fn parquet_without_the_feature_says_so_and_writes_nothing() {
        let (g, notes) = sample::graph();
        let source = ExportSource {
            graph: &g,
            notes: &notes,
            dominators: None,
        };
        let dir = sample::scratch("no-parquet");
        let target = dir.join("x.parquet");
        let err = export(&source, ExportFormat::Parquet, &target, &mut |_, _| {
            ControlFlow::Continue(())
        })
        .unwrap_err();
        assert!(err.to_string().contains("`parquet` feature"), "{err}");
        assert!(!ExportFormat::Parquet.available() && !target.exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn remove(p: &Path) {
        if p.is_dir() {
            std::fs::remove_dir_all(p).unwrap();
        } else {
            std::fs::remove_file(p).unwrap();
        }
    }
}
