using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Tools;

namespace Aims.Evidence.Tests.Reliability;

/// <summary>
/// Memory bounded by the limits (issue 17, item 6), through the real pipeline over a temporary SQLite file: runs
/// without word breaks in every text format and in a DOCX become passages of bounded length, office packages whose
/// XML unpacks large fail on the XML cap before the Open XML SDK builds its tree, and a file named directly is read
/// within the size cap whatever it claims (a character device is not read at all). The inputs come from
/// <see cref="HostileInputs"/>, smaller than in `aims-tools bench hostile`, which measures the peak memory of
/// `aims ingest` on them at full size.
/// </summary>
[Trait(Tiers.Name, Tiers.Integration)]
public sealed class HostileMemoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly HostileInputs.Sizes Small = new() { RunBytes = 3 * 1024 * 1024, XmlBytes = 3 * 1024 * 1024, XmlUnderCapBytes = 1024 * 1024, UnderTextCapBytes = 3 * 1024 * 1024 };

    private static byte[] Bytes(string name, HostileInputs.Sizes sizes)
    {
        using var stream = new MemoryStream();
        HostileInputs.All(sizes).Single(i => i.Name == name).Write(stream);
        return stream.ToArray();
    }

    [Theory]
    [InlineData("nobreak.txt")]
    [InlineData("nobreak.md")]
    [InlineData("nobreak.html")]
    [InlineData("nobreak.csv")]
    [InlineData("nobreak.json")]
    [InlineData("nobreak.docx")]
    public async Task A_run_without_word_breaks_becomes_passages_of_at_most_4000_characters_and_is_kept(string name)
    {
        using var tmp = new TempDir();
        using var aims = await HostileInputTests.OpenAsync(tmp);
        var outcome = await aims.CreatePipeline("run-memory").IngestAsync(name, Bytes(name, Small), Ct);
        Assert.True(outcome.Status == IngestStatus.Processed, $"{name}: {outcome.Status} {outcome.Reason}");
        var passages = await aims.Store.GetPassagesAsync(outcome.Document!.Id, Ct);
        var longest = passages.Max(p => p.Passage.Text.Length);
        var kept = passages.Sum(p => (long)p.Passage.Text.Length);
        TestContext.Current.TestOutputHelper?.WriteLine($"OBSERVED {name}: {passages.Count} passages, longest {longest}, {kept} characters kept");
        Assert.True(longest <= new SegmenterOptions().MaxChars, $"{name}: a passage of {longest} characters");
        Assert.True(kept >= Small.RunBytes, $"{name}: only {kept} of {Small.RunBytes} characters kept");
    }

    [Theory]
    [InlineData("nobreak.txt", "text")]
    [InlineData("nobreak.html", "HTML")]
    [InlineData("words-without-sentence-ends.txt", "text")]
    public async Task Text_over_the_character_cap_fails_before_it_is_parsed(string name, string format)
    {
        var limits = ExtractionLimits.Default with { MaxTextChars = 2_000_000 };
        await HostileInputTests.IngestThenGoodAsync(name, Bytes(name, Small), IngestStatus.Failed, $"the {format} file has ", limits);
        await HostileInputTests.IngestThenGoodAsync(name, Bytes(name, Small), IngestStatus.Failed, "characters of text, over the limit of 2000000", limits);
    }

    [Fact]
    public async Task A_docx_whose_text_passes_the_character_cap_fails_after_extraction()
    {
        await HostileInputTests.IngestThenGoodAsync("nobreak.docx", Bytes("nobreak.docx", Small), IngestStatus.Failed, "characters of text, over the limit of 2000000",
            ExtractionLimits.Default with { MaxTextChars = 2_000_000 });
    }

    [Fact]
    public async Task One_paragraph_of_words_without_a_sentence_end_is_cut_at_300_words()
    {
        using var tmp = new TempDir();
        using var aims = await HostileInputTests.OpenAsync(tmp);
        var outcome = await aims.CreatePipeline("run-memory").IngestAsync("words.txt", Bytes("words-without-sentence-ends.txt", Small), Ct);
        Assert.Equal(IngestStatus.Processed, outcome.Status);
        var passages = await aims.Store.GetPassagesAsync(outcome.Document!.Id, Ct);
        Assert.True(passages.Count > 1000, $"{passages.Count} passages");
        Assert.All(passages, p => Assert.InRange(p.Passage.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length, 1, 300));
    }

    [Theory]
    [InlineData("many-rows.csv", "CSV")]
    [InlineData("words-under-cap.txt", "text")]
    public async Task A_document_over_the_passage_cap_fails_before_it_is_classified_or_mapped(string name, string format)
    {
        var sizes = Small with { ManyRows = 3_000 };
        var bytes = Bytes(name, sizes);
        var limits = ExtractionLimits.Default with { MaxPassages = 1_000 };
        var outcome = await HostileInputTests.IngestThenGoodAsync(name, bytes, IngestStatus.Failed, $"the {format} file has ", limits);
        Assert.Matches(@"^the \w+ file has \d+ passages, over the limit of 1000$", outcome.Reason);
        Assert.Equal(0, outcome.Document!.PassageCount);

        // Within the limit the same document is read: the cap is what failed it.
        using var tmp = new TempDir();
        using var aims = await HostileInputTests.OpenAsync(tmp, limits with { MaxPassages = 100_000 });
        var read = await aims.CreatePipeline("run-memory").IngestAsync(name, bytes, Ct);
        Assert.True(read.Status == IngestStatus.Processed, $"{name}: {read.Status} {read.Reason}");
        Assert.InRange(read.Document!.PassageCount, 1_001, 100_000);
    }

    [Fact]
    public async Task A_table_of_150000_rows_fails_on_the_default_passage_cap_before_mapping()
    {
        var bytes = Bytes("many-rows.csv", HostileInputs.Sizes.Full);
        var outcome = await HostileInputTests.IngestThenGoodAsync("many-rows.csv", bytes, IngestStatus.Failed,
            $"passages, over the limit of {ExtractionLimits.Default.MaxPassages}");
        Assert.StartsWith("the CSV file has 15000", outcome.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xml-heavy.docx", "DOCX")]
    [InlineData("xml-heavy.xlsx", "XLSX")]
    [InlineData("xml-heavy.pptx", "PPTX")]
    public async Task Office_xml_over_the_cap_fails_with_the_limit_before_the_sdk_loads_it(string name, string format)
    {
        var bytes = Bytes(name, Small);
        var outcome = await HostileInputTests.IngestThenGoodAsync(name, bytes, IngestStatus.Failed, $"the {format}'s XML parts hold more than 2 MB uncompressed",
            ExtractionLimits.Default with { MaxXmlBytes = 2 * 1024 * 1024 });
        Assert.True(bytes.Length * 4 < Small.XmlBytes, $"{name} is {bytes.Length} bytes: not a high-ratio package"); // under the ratio cap by far
        Assert.Contains("limit", outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_docx_whose_xml_unpacks_past_40_MB_fails_with_the_default_limits()
    {
        var sizes = Small with { XmlBytes = 41 * 1024 * 1024 };
        var bytes = Bytes("xml-heavy.docx", sizes);
        await HostileInputTests.IngestThenGoodAsync("xml-heavy.docx", bytes, IngestStatus.Failed, "XML parts hold more than 40 MB uncompressed");
    }

    [Fact]
    public async Task Office_xml_under_the_cap_is_still_read()
    {
        await HostileInputTests.IngestThenGoodAsync("xml-under-cap.docx", Bytes("xml-under-cap.docx", Small), IngestStatus.Processed, "",
            ExtractionLimits.Default with { MaxXmlBytes = 2 * 1024 * 1024 });
    }

    [Fact]
    public async Task A_character_device_named_directly_is_skipped_and_a_file_that_streams_past_its_stated_size_is_read_only_to_the_cap()
    {
        using var tmp = new TempDir();
        using var aims = await HostileInputTests.OpenAsync(tmp, ExtractionLimits.Default with { MaxFileBytes = 64 * 1024 });
        var pipeline = aims.CreatePipeline("run-memory");

        var zero = await pipeline.IngestFileAsync("zero", "/dev/zero", Ct);
        Assert.Equal(IngestStatus.Skipped, zero.Status);
        Assert.Equal("not a regular file (character device); not read", zero.Reason);

        // A /proc file states 0 bytes and streams more than the cap: read to the cap + 1 byte, then recorded as over it.
        Assert.Equal(0, new FileInfo("/proc/self/smaps").Length);
        var smaps = await pipeline.IngestFileAsync("smaps", "/proc/self/smaps", Ct);
        Assert.True(smaps.Status == IngestStatus.Failed, $"{smaps.Status}: {smaps.Reason}");
        Assert.Contains("above the 65536 bytes limit", smaps.Reason, StringComparison.Ordinal);

        // A regular file within the cap is read whole.
        var good = await pipeline.IngestFileAsync("good.md", tmp.File("good.md", "# Risk\n\nEvery AI risk has an owner who approves its treatment plan.\n"), Ct);
        Assert.Equal(IngestStatus.Processed, good.Status);
    }

    [Fact]
    public void The_segmenter_cuts_runs_at_word_breaks_or_at_the_cap_without_splitting_a_surrogate_pair()
    {
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", 5000)); // 10,000 UTF-16 units, no break
        var words = string.Join(' ', Enumerable.Repeat("assessment", 2000));
        foreach (var text in new[] { emoji, words, "short " + new string('x', 9999) + " tail" })
        {
            var pieces = Segmenter.SplitToMax(text, 300, 4000).ToArray();
            Assert.All(pieces, p => Assert.InRange(p.Length, 1, 4000));
            Assert.All(pieces, p => Assert.False(char.IsHighSurrogate(p[^1]), "a piece ends inside a surrogate pair"));
            Assert.All(pieces, p => Assert.InRange(p.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length, 1, 300));
            Assert.Equal(text.Replace(" ", "", StringComparison.Ordinal), string.Concat(pieces).Replace(" ", "", StringComparison.Ordinal));
        }
    }
}
