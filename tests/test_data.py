"""Datasets and data loaders (`data`), as a training loop uses them, through a real kernel."""

from conftest import printed_values

SETUP = """
let x = Tensor::arange(0f32, 10f32, &Device::Cpu)?.reshape((10, 1))?;
let y = Tensor::arange(0u32, 10u32, &Device::Cpu)?;
let samples = TensorDataset::new(x, y)?;
fn targets(loader: &DataLoader<TensorDataset>) -> Result<Vec<Vec<u32>>, candle_core::Error> {
    loader.iter().map(|batch| batch?.1.to_vec1::<u32>()).collect()
}
"""


def test_batches_in_order_with_and_without_the_last_partial_one(kernel):
    run = kernel.run(SETUP + """
println!("in_order {:?}", targets(&DataLoader::new(samples.clone()).batch_size(4))?);
let dropping = DataLoader::new(samples.clone()).batch_size(4).drop_last(true);
println!("drop_last {:?}", targets(&dropping)?);
println!("len {}", dropping.len());
let (first_x, first_y) = DataLoader::new(samples.clone()).batch_size(4).iter().next().unwrap()?;
println!("shapes {:?}", [first_x.dims().to_vec(), first_y.dims().to_vec()]);
""")
    values = printed_values(run)
    assert values["in_order"] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert values["drop_last"] == [[0, 1, 2, 3], [4, 5, 6, 7]] and values["len"] == 2
    assert values["shapes"] == [[4, 1], [4]]


def test_shuffling_is_seeded_differs_by_epoch_and_workers_change_nothing(kernel):
    run = kernel.run(SETUP + """
let loader = DataLoader::new(samples.clone()).batch_size(3).shuffle(42);
let (epoch1, epoch2) = (targets(&loader)?, targets(&loader)?);
let again = DataLoader::new(samples.clone()).batch_size(3).shuffle(42);
let threaded = DataLoader::new(samples.clone()).batch_size(3).shuffle(42).workers(3).prefetch(1);
println!("epoch1 {:?}", epoch1);
println!("epoch2 {:?}", epoch2);
println!("repeatable {}", targets(&again)? == epoch1);
println!("threaded_same {}", targets(&threaded)? == epoch1 && targets(&threaded)? == epoch2);
""")
    values = printed_values(run)
    epoch1, epoch2 = values["epoch1"], values["epoch2"]
    assert sorted(sum(epoch1, [])) == list(range(10)) and sorted(sum(epoch2, [])) == list(range(10))
    assert epoch1 != epoch2 and sum(epoch1, []) != list(range(10))
    assert values["repeatable"] is True and values["threaded_same"] is True


def test_custom_collate_and_a_dataset_of_ones_own(kernel):
    run = kernel.run("""
struct Squares;
impl Dataset for Squares {
    type Item = u32;
    fn len(&self) -> usize { 7 }
    fn get(&self, index: usize) -> candle_core::Result<u32> { Ok((index * index) as u32) }
}
let sums: Vec<u32> = DataLoader::new(Squares).batch_size(3).workers(2)
    .collate(|items: Vec<u32>| Ok(items.iter().sum::<u32>()))
    .iter().collect::<candle_core::Result<_>>()?;
println!("sums {:?}", sums);
""")
    assert printed_values(run)["sums"] == [0 + 1 + 4, 9 + 16 + 25, 36]


def test_a_file_stream_reads_csv_and_parquet_a_chunk_at_a_time(kernel, tmp_path):
    csv = tmp_path / "rows.csv"
    # Quoted fields with commas, doubled quotes and line breaks: a record is not a line.
    rows = [f'{i},"note {i}, with ""quotes""\nand a second line",{i * 0.5}' for i in range(11)]
    csv.write_text("id,note,value\n" + "\n".join(rows) + "\n")
    run = kernel.run(f"""{{
let whole = CsvReadOptions::default().with_has_header(true).try_into_reader_with_file_path(Some({str(csv)!r}.into()))?.finish()?;
let chunks: Vec<DataFrame> = FileStream::csv({str(csv)!r}).chunk_rows(4).chunks()?.collect::<PolarsResult<_>>()?;
println!("csv_heights {{:?}}", chunks.iter().map(|c| c.height()).collect::<Vec<_>>());
let mut joined = chunks[0].clone();
for chunk in &chunks[1..] {{ joined.vstack_mut(chunk)?; }}
println!("csv_equal {{}}", joined.equals_missing(&whole));
let mut file = std::fs::File::create({str(tmp_path / "rows.parquet")!r})?;
ParquetWriter::new(&mut file).with_row_group_size(Some(3)).finish(&mut whole.clone())?;
let parts: Vec<DataFrame> = FileStream::parquet({str(tmp_path / "rows.parquet")!r}).chunk_rows(5).chunks()?.collect::<PolarsResult<_>>()?;
println!("parquet_heights {{:?}}", parts.iter().map(|c| c.height()).collect::<Vec<_>>());
println!("parquet_last_id {{}}", parts[2].column("id")?.i64()?.get(0).unwrap());
}}""".replace("'", '"'))
    values = printed_values(run)
    assert values["csv_heights"] == [4, 4, 3] and values["csv_equal"] is True
    assert values["parquet_heights"] == [5, 5, 1] and values["parquet_last_id"] == 10
