//! The AWS config and credentials files: load them losslessly, read them as the AWS CLI and the
//! AWS SDKs do, edit them line by line, and save them without ever losing a byte.

pub mod check;
pub(crate) mod cli_reading;
pub(crate) mod disagreements;
pub mod document;
pub mod edit;
pub mod leftovers;
pub(crate) mod lock;
pub mod model;
pub(crate) mod names;
pub(crate) mod paths;
pub(crate) mod private;
pub(crate) mod python_text;
mod redact;
pub mod save;
pub(crate) mod sdk_reading;

use document::Document;
pub use model::{Dialect, FileKind, Origin, Problem, Reading, Setting, Settings, Value};
pub use paths::FilePaths;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One of the two files as loaded: its path, its document, and the bytes on disk when loaded.
/// Its `Debug` shows the text with every secret value redacted.
#[derive(Clone)]
pub struct LoadedFile {
    pub kind: FileKind,
    pub path: PathBuf,
    pub doc: Document,
    /// The bytes read from disk (`None`: the file did not exist), to detect outside changes.
    /// Shared, so that the draft copy every edit makes does not copy them.
    pub on_disk: Option<Arc<[u8]>>,
    /// The version of the document that was read from disk or last written to it.
    on_disk_version: u64,
}

impl std::fmt::Debug for LoadedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedFile")
            .field("kind", &self.kind)
            .field("path", &self.path)
            .field("doc", &self.doc)
            .field("on_disk", &self.on_disk.as_deref().map(redact::FileBytes))
            .field("on_disk_version", &self.on_disk_version)
            .finish()
    }
}

impl LoadedFile {
    pub fn load(kind: FileKind, path: &Path) -> Result<Self, FilesError> {
        let on_disk = save::read_if_exists(path).map_err(|source| FilesError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let doc = Document::parse(on_disk.as_deref().unwrap_or_default());
        Ok(LoadedFile {
            kind,
            path: path.to_path_buf(),
            on_disk_version: doc.version(),
            doc,
            on_disk: on_disk.map(Arc::from),
        })
    }

    pub fn exists(&self) -> bool {
        self.on_disk.is_some()
    }

    /// Whether the document differs from what was loaded.
    pub fn is_modified(&self) -> bool {
        self.unsaved_bytes().is_some()
    }

    /// The document's bytes when they differ from what is on disk (a document that edits
    /// emptied still counts as different from a file that does not exist).
    fn unsaved_bytes(&self) -> Option<Vec<u8>> {
        if self.doc.version() == self.on_disk_version {
            return None;
        }
        let bytes = self.doc.to_bytes();
        let same = match &self.on_disk {
            Some(on_disk) => **on_disk == *bytes,
            None => self.doc.is_empty(),
        };
        (!same).then_some(bytes)
    }
}

/// Errors loading or saving the files, worded for the person who owns them.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("could not read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Save(#[from] save::SaveError),
}

/// The two files together, as every AWS tool sees them.
#[derive(Clone, Debug)]
pub struct AwsFiles {
    pub config: LoadedFile,
    pub credentials: LoadedFile,
    readings: ReadingCache,
}

/// The last reading of each dialect, with the versions of the documents it came from, so
/// that reading unchanged files again (every edit reads them before and after) costs nothing.
#[derive(Debug, Default)]
struct ReadingCache(Mutex<Vec<CachedReading>>);

/// A reading, its dialect, and the versions of the config and credentials documents.
type CachedReading = (Dialect, u64, u64, Arc<Reading>);

impl Clone for ReadingCache {
    fn clone(&self) -> Self {
        ReadingCache(Mutex::new(
            self.0.lock().map(|c| c.clone()).unwrap_or_default(),
        ))
    }
}

impl AwsFiles {
    pub fn load(paths: &FilePaths) -> Result<Self, FilesError> {
        Ok(AwsFiles {
            config: LoadedFile::load(FileKind::Config, &paths.config)?,
            credentials: LoadedFile::load(FileKind::Credentials, &paths.credentials)?,
            readings: ReadingCache::default(),
        })
    }

    /// Build from bytes (tests, benchmarks); paths are only used in messages.
    pub fn from_bytes(config: &[u8], credentials: &[u8]) -> Self {
        let file = |kind, path: &str, bytes: &[u8]| {
            let doc = Document::parse(bytes);
            LoadedFile {
                kind,
                path: PathBuf::from(path),
                on_disk_version: doc.version(),
                doc,
                on_disk: Some(Arc::from(bytes)),
            }
        };
        AwsFiles {
            config: file(FileKind::Config, "config", config),
            credentials: file(FileKind::Credentials, "credentials", credentials),
            readings: ReadingCache::default(),
        }
    }

    pub fn file(&self, kind: FileKind) -> &LoadedFile {
        match kind {
            FileKind::Config => &self.config,
            FileKind::Credentials => &self.credentials,
        }
    }

    pub fn file_mut(&mut self, kind: FileKind) -> &mut LoadedFile {
        match kind {
            FileKind::Config => &mut self.config,
            FileKind::Credentials => &mut self.credentials,
        }
    }

    pub fn path(&self, kind: FileKind) -> &Path {
        &self.file(kind).path
    }

    /// The paths the two files were loaded from.
    pub fn paths(&self) -> FilePaths {
        FilePaths {
            config: self.config.path.clone(),
            credentials: self.credentials.path.clone(),
        }
    }

    /// The files as one family of tools reads them.
    pub fn read(&self, dialect: Dialect) -> Arc<Reading> {
        let versions = (self.config.doc.version(), self.credentials.doc.version());
        let cached = |cache: &Vec<CachedReading>| {
            cache
                .iter()
                .find(|(d, c, k, _)| *d == dialect && (*c, *k) == versions)
                .map(|(.., r)| r.clone())
        };
        if let Some(reading) = self.readings.0.lock().ok().and_then(|c| cached(&c)) {
            return reading;
        }
        let reading = Arc::new(match dialect {
            Dialect::Cli => cli_reading::read(&self.config.doc, &self.credentials.doc),
            Dialect::Sdk => sdk_reading::read(&self.config.doc, &self.credentials.doc),
        });
        if let Ok(mut cache) = self.readings.0.lock() {
            cache.retain(|(d, ..)| *d != dialect);
            cache.push((dialect, versions.0, versions.1, reading.clone()));
        }
        reading
    }

    /// Every place where the AWS CLI and the AWS SDKs read these files differently.
    pub fn disagreements(&self) -> Vec<Problem> {
        disagreements::find(
            &self.read(Dialect::Cli),
            &self.read(Dialect::Sdk),
            &self.config.doc,
            &self.credentials.doc,
        )
    }

    /// Write every modified file atomically (config first). A file that changed on disk since it
    /// was loaded is not overwritten: the error says so and nothing of that file is written.
    pub fn save(&mut self) -> Result<Vec<FileKind>, FilesError> {
        let mut saved = Vec::new();
        for kind in [FileKind::Config, FileKind::Credentials] {
            let file = self.file_mut(kind);
            let Some(bytes) = file.unsaved_bytes() else {
                continue;
            };
            save::save(&file.path, &bytes, file.on_disk.as_deref())?;
            file.on_disk = Some(Arc::from(bytes));
            file.on_disk_version = file.doc.version();
            saved.push(kind);
        }
        Ok(saved)
    }
}
