//! Datasets and data loaders, as `torch.utils.data`: a [`Dataset`] answers `len` and `get`,
//! a [`DataLoader`] cuts it into batches (seeded shuffling, `drop_last`, a custom collate),
//! built on worker threads ahead of the training loop. A [`FileStream`] reads a CSV or
//! Parquet file larger than memory a chunk at a time.
//!
//! ```ignore
//! let loader = DataLoader::new(TensorDataset::new(x, y)?).batch_size(64).shuffle(42).workers(2);
//! for batch in loader.iter() { let (x, y) = batch?; ... }
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread;

use candle_core::{Result, Tensor};
use polars::prelude::{
    CsvReadOptions, DataFrame, ParquetReader, PolarsResult, SchemaRef, SerReader,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Samples by index, as `torch.utils.data.Dataset`.
pub trait Dataset: Send + Sync + 'static {
    type Item: Send + 'static;
    fn len(&self) -> usize;
    fn get(&self, index: usize) -> Result<Self::Item>;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Inputs and targets whose first dimension is the sample, as `TensorDataset`.
#[derive(Clone)]
pub struct TensorDataset {
    pub inputs: Tensor,
    pub targets: Tensor,
}

impl TensorDataset {
    pub fn new(inputs: Tensor, targets: Tensor) -> Result<TensorDataset> {
        let (n, m) = (inputs.dim(0)?, targets.dim(0)?);
        if n != m {
            candle_core::bail!("TensorDataset: inputs have {n} samples but targets have {m}");
        }
        Ok(TensorDataset { inputs, targets })
    }
}

impl Dataset for TensorDataset {
    type Item = (Tensor, Tensor);

    fn len(&self) -> usize {
        self.inputs.dims().first().copied().unwrap_or(0)
    }

    fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
        Ok((self.inputs.get(index)?, self.targets.get(index)?))
    }
}

/// Turns the items of one batch into the batch: [`Stack`] by default, or a closure given to
/// [`DataLoader::collate`].
pub trait Collate<Item>: Send + Sync + 'static {
    type Batch: Send + 'static;
    fn collate(&self, items: Vec<Item>) -> Result<Self::Batch>;
}

/// Stacks items along a new first dimension: tensors, or pairs of tensors.
#[derive(Clone, Copy, Default)]
pub struct Stack;

impl Collate<Tensor> for Stack {
    type Batch = Tensor;
    fn collate(&self, items: Vec<Tensor>) -> Result<Tensor> {
        Tensor::stack(&items, 0)
    }
}

impl Collate<(Tensor, Tensor)> for Stack {
    type Batch = (Tensor, Tensor);
    fn collate(&self, items: Vec<(Tensor, Tensor)>) -> Result<(Tensor, Tensor)> {
        let (inputs, targets): (Vec<Tensor>, Vec<Tensor>) = items.into_iter().unzip();
        Ok((Tensor::stack(&inputs, 0)?, Tensor::stack(&targets, 0)?))
    }
}

/// A closure as a collate function.
pub struct CollateFn<F>(F);

impl<Item, Batch, F> Collate<Item> for CollateFn<F>
where
    F: Fn(Vec<Item>) -> Result<Batch> + Send + Sync + 'static,
    Batch: Send + 'static,
{
    type Batch = Batch;
    fn collate(&self, items: Vec<Item>) -> Result<Batch> {
        (self.0)(items)
    }
}

/// Batches of a dataset, as `torch.utils.data.DataLoader`.
pub struct DataLoader<D: Dataset, C = Stack> {
    dataset: Arc<D>,
    collate: Arc<C>,
    batch_size: usize,
    shuffle: Option<u64>,
    drop_last: bool,
    workers: usize,
    prefetch: usize,
    epoch: std::sync::atomic::AtomicU64,
}

impl<D: Dataset> DataLoader<D, Stack> {
    /// Batches of one sample, in order, built on the calling thread; see the settings below.
    pub fn new(dataset: D) -> Self {
        DataLoader {
            dataset: Arc::new(dataset),
            collate: Arc::new(Stack),
            batch_size: 1,
            shuffle: None,
            drop_last: false,
            workers: 0,
            prefetch: 2,
            epoch: Default::default(),
        }
    }
}

impl<D: Dataset, C> DataLoader<D, C> {
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Reshuffles the samples at every epoch: epoch `e` uses the order drawn from `seed + e`,
    /// so a run is repeatable and each epoch differs.
    pub fn shuffle(mut self, seed: u64) -> Self {
        crate::random::remember_seed("DataLoader::shuffle", seed);
        self.shuffle = Some(seed);
        self
    }

    /// Leaves out a last batch smaller than `batch_size`.
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Threads that build batches ahead of the loop (0: on the calling thread).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// Batches each worker keeps ready.
    pub fn prefetch(mut self, prefetch: usize) -> Self {
        self.prefetch = prefetch.max(1);
        self
    }

    /// Replaces the collate function: `|items: Vec<Item>| -> candle_core::Result<Batch>`.
    pub fn collate<B, F>(self, collate: F) -> DataLoader<D, CollateFn<F>>
    where
        F: Fn(Vec<D::Item>) -> Result<B> + Send + Sync + 'static,
        B: Send + 'static,
    {
        DataLoader {
            dataset: self.dataset,
            collate: Arc::new(CollateFn(collate)),
            batch_size: self.batch_size,
            shuffle: self.shuffle,
            drop_last: self.drop_last,
            workers: self.workers,
            prefetch: self.prefetch,
            epoch: self.epoch,
        }
    }

    /// The epoch the next `iter` yields, as `DistributedSampler.set_epoch`: a resumed run
    /// shuffles its later epochs as the uninterrupted run would have.
    pub fn set_epoch(&self, epoch: u64) {
        self.epoch
            .store(epoch, std::sync::atomic::Ordering::Relaxed);
    }

    /// Batches per epoch.
    pub fn len(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<D: Dataset, C: Collate<D::Item>> DataLoader<D, C> {
    /// One epoch's batches, in order; the next call is the next epoch.
    pub fn iter(&self) -> Batches<C::Batch> {
        let epoch = self
            .epoch
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if let Some(seed) = self.shuffle {
            order.shuffle(&mut StdRng::seed_from_u64(seed.wrapping_add(epoch)));
        }
        let batches: Vec<Vec<usize>> = order
            .chunks(self.batch_size)
            .filter(|chunk| !self.drop_last || chunk.len() == self.batch_size)
            .map(<[usize]>::to_vec)
            .collect();
        let build = {
            let (dataset, collate) = (self.dataset.clone(), self.collate.clone());
            move |indices: &[usize]| -> Result<C::Batch> {
                let items = indices
                    .iter()
                    .map(|&i| dataset.get(i))
                    .collect::<Result<Vec<_>>>()?;
                collate.collate(items)
            }
        };
        if self.workers == 0 {
            let build = Box::new(build);
            return Batches {
                source: Source::Inline(batches.into_iter(), build),
                next: 0,
            };
        }
        // Worker w builds batches w, w + workers, ...; the iterator takes them round-robin,
        // so their order doesn't depend on which thread is faster.
        let build = Arc::new(build);
        let receivers = (0..self.workers.min(batches.len().max(1)))
            .map(|w| {
                let (sender, receiver) = sync_channel(self.prefetch);
                let mine: Vec<Vec<usize>> = batches
                    .iter()
                    .skip(w)
                    .step_by(self.workers)
                    .cloned()
                    .collect();
                let build = build.clone();
                thread::spawn(move || {
                    for indices in mine {
                        if sender.send(build(&indices)).is_err() {
                            break; // the loop stopped early
                        }
                    }
                });
                receiver
            })
            .collect();
        Batches {
            source: Source::Workers(receivers),
            next: 0,
        }
    }
}

type Build<B> = Box<dyn Fn(&[usize]) -> Result<B> + Send + Sync>;

enum Source<B> {
    Inline(std::vec::IntoIter<Vec<usize>>, Build<B>),
    Workers(Vec<Receiver<Result<B>>>),
}

/// One epoch of batches.
pub struct Batches<B> {
    source: Source<B>,
    next: usize,
}

impl<B> Iterator for Batches<B> {
    type Item = Result<B>;

    fn next(&mut self) -> Option<Result<B>> {
        crate::runtime::check_interrupt();
        let batch = match &mut self.source {
            Source::Inline(batches, build) => batches.next().map(|indices| build(&indices)),
            Source::Workers(receivers) => receivers[self.next % receivers.len()].recv().ok(),
        };
        self.next += 1;
        batch
    }
}

/// The rows of a CSV or Parquet file as DataFrames of `chunk_rows` rows, read one chunk at a
/// time, as PyTorch's `IterableDataset` streams data: for files larger than memory. Only the
/// current chunk is held; each pass over `chunks()` reads the file once.
///
/// ```ignore
/// for chunk in FileStream::csv("big.csv").chunk_rows(10_000).chunks()? {
///     let chunk = chunk?;
///     let x = chunk.select(["a", "b"])?.to_tensor(&Device::Cpu)?;
/// }
/// ```
#[derive(Debug, Clone)]
pub struct FileStream {
    path: PathBuf,
    parquet: bool,
    chunk_rows: usize,
}

impl FileStream {
    /// A CSV file with a header line; the first chunk's column types apply to every chunk.
    pub fn csv(path: impl Into<PathBuf>) -> Self {
        FileStream {
            path: path.into(),
            parquet: false,
            chunk_rows: 10_000,
        }
    }

    pub fn parquet(path: impl Into<PathBuf>) -> Self {
        FileStream {
            parquet: true,
            ..FileStream::csv(path)
        }
    }

    pub fn chunk_rows(mut self, rows: usize) -> Self {
        self.chunk_rows = rows.max(1);
        self
    }

    /// One pass over the file.
    pub fn chunks(&self) -> PolarsResult<Box<dyn Iterator<Item = PolarsResult<DataFrame>>>> {
        if self.parquet {
            let rows = ParquetReader::new(File::open(&self.path)?).num_rows()?;
            let (path, chunk) = (self.path.clone(), self.chunk_rows);
            // Each slice reads only the row groups it overlaps.
            Ok(Box::new((0..rows).step_by(chunk).map(move |offset| {
                crate::runtime::check_interrupt();
                ParquetReader::new(File::open(&path)?)
                    .with_slice(Some((offset, chunk)))
                    .finish()
            })))
        } else {
            let mut lines = BufReader::new(File::open(&self.path)?);
            let mut header = String::new();
            lines.read_line(&mut header)?;
            Ok(Box::new(CsvChunks {
                lines,
                header,
                rows: self.chunk_rows,
                schema: None,
            }))
        }
    }
}

/// Cuts a CSV file into chunks of whole records and lets polars parse each one. Polars reads
/// a CSV in bounded memory only with its streaming engine, whose features would add minutes
/// to every prelude build; a record ends at a line break outside double quotes.
struct CsvChunks {
    lines: BufReader<File>,
    header: String,
    rows: usize,
    schema: Option<SchemaRef>,
}

impl Iterator for CsvChunks {
    type Item = PolarsResult<DataFrame>;

    fn next(&mut self) -> Option<PolarsResult<DataFrame>> {
        crate::runtime::check_interrupt();
        let mut text = self.header.clone().into_bytes();
        let (mut records, mut quoted) = (0, false);
        let mut line = Vec::new();
        while records < self.rows {
            line.clear();
            match self.lines.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {}
                Err(err) => return Some(Err(err.into())),
            }
            quoted ^= line.iter().filter(|&&b| b == b'"').count() % 2 == 1;
            text.extend_from_slice(&line);
            if !quoted {
                records += 1;
            }
        }
        if records == 0 {
            return None;
        }
        let parsed = CsvReadOptions::default()
            .with_has_header(true)
            .with_schema(self.schema.clone())
            .into_reader_with_file_handle(Cursor::new(text))
            .finish();
        if let Ok(frame) = &parsed {
            self.schema.get_or_insert_with(|| frame.schema().clone());
        }
        Some(parsed)
    }
}
