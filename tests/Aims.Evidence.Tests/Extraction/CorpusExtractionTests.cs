using Aims.Evidence.Core.Lexical;
using System.Text;
using System.Text.Json;
using Aims.Evidence.Core.Extraction;

namespace Aims.Evidence.Tests.Extraction;

[Trait(Tiers.Name, Tiers.Integration)]
public class CorpusExtractionTests(ITestOutputHelper output)
{
    private static readonly DocumentReader Reader = DocumentReader.CreateDefault();

    private static Task<ExtractedDocument> Read(string path) =>
        Reader.ReadAsync(File.ReadAllBytes(path), Path.GetFileName(path), ExtractionLimits.Default, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Every_corpus_file_extracts_with_consistent_spans()
    {
        var dir = TestPaths.RequireCorpus();
        foreach (var path in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
        {
            var doc = await Read(path);
            output.WriteLine($"{Path.GetFileName(path)}: {doc.MediaType} pages={doc.PageCount} blocks={doc.Blocks.Count} title={doc.Title}");
            Assert.True(doc.Blocks.Count >= 3, $"{Path.GetFileName(path)} has only {doc.Blocks.Count} blocks");
            ExtractorTests.AssertSpans(doc);
        }
    }

    [Fact]
    public async Task Audit_pdf_has_77_pages()
    {
        var doc = await Read(TestPaths.RequireCorpusFile("audit-algorithmaudit-duo-preventing-prejudice.pdf"));
        Assert.Equal(77, doc.PageCount);
        Assert.Contains(doc.Blocks, b => b.Kind == BlockKind.Heading);
        Assert.Contains(doc.Blocks, b => b.Page == 77 || b.Page == 76);
    }

    [Fact]
    public async Task Cp1252_csv_decodes_accents()
    {
        var doc = await Read(TestPaths.RequireCorpusFile("inventory-hhs-ai-use-cases-fy25.csv"));
        Assert.Equal(MediaTypes.Csv, doc.MediaType);
        Assert.DoesNotContain('\uFFFD', doc.Text);
        Assert.Matches("[\u2018\u2019\u201C\u201D\u2013\u2014®]", doc.Text); // cp1252 punctuation bytes 0x91-0x97, 0xAE
        Assert.All(doc.Blocks, b => Assert.NotNull(b.TableHeader));
    }

    [Fact]
    public async Task Xlsx_has_sheets()
    {
        var doc = await Read(TestPaths.RequireCorpusFile("impact-assessment-nl-gov-ai-act-impact-analysis.xlsx"));
        Assert.Equal(MediaTypes.Xlsx, doc.MediaType);
        Assert.True(doc.PageCount >= 1);
        Assert.Contains(doc.Blocks, b => b.Kind == BlockKind.TableRow && b.TableHeader is not null);
    }

    /// <summary>Report only: how many gold quotes sit inside one extracted block (normalised).</summary>
    [Fact]
    public async Task Report_gold_quote_coverage()
    {
        TestPaths.RequireCorpus();
        if (!File.Exists(TestPaths.GoldDev))
        {
            Assert.Skip("gold-dev.jsonl not present");
        }

        var cache = new Dictionary<string, ExtractedDocument>();
        var found = 0;
        var total = 0;
        var missByFile = new Dictionary<string, int>();
        var verbose = Environment.GetEnvironmentVariable("QUOTE_REPORT_VERBOSE") == "1";
        foreach (var line in File.ReadLines(TestPaths.GoldDev).Where(l => l.Trim().Length > 0))
        {
            using var json = JsonDocument.Parse(line);
            var file = json.RootElement.GetProperty("file").GetString()!;
            var path = Path.Combine(TestPaths.CorpusDir, file);
            if (!File.Exists(path) || !json.RootElement.TryGetProperty("passages", out var passages))
            {
                continue;
            }

            if (!cache.TryGetValue(file, out var doc))
            {
                cache[file] = doc = await Read(path);
            }

            var blocks = doc.Blocks.Select(b => Tokenizer.Normalize(b.Text)).ToList();
            var whole = Tokenizer.Normalize(doc.Text);
            foreach (var passage in passages.EnumerateArray())
            {
                var quote = Tokenizer.Normalize(passage.GetProperty("quote").GetString()!);
                total++;
                if (blocks.Any(b => b.Contains(quote, StringComparison.Ordinal)))
                {
                    found++;
                    continue;
                }

                missByFile[file] = missByFile.GetValueOrDefault(file) + 1;
                var inText = whole.Contains(quote, StringComparison.Ordinal);
                output.WriteLine($"MISS {file} (in full text: {inText}): {(verbose ? quote : quote[..Math.Min(60, quote.Length)])}");
            }
        }

        output.WriteLine($"Quotes found inside one block: {found}/{total}");
        foreach (var (file, n) in missByFile.OrderByDescending(kv => kv.Value))
        {
            output.WriteLine($"  {file}: {n} missed");
        }

        File.WriteAllText(Path.Combine(Path.GetTempPath(), "aims-quote-coverage.txt"), $"{found}/{total}\n");
    }
}
