using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Aims.Evidence.Cli;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Hosting;
using Aims.Evidence.Local;
using Microsoft.Playwright;

namespace Aims.Evidence.Api.Tests;

/// <summary>
/// A temp SQLite file with the repository's samples, a document whose name, heading and text are markup, and (when
/// ../shared/corpus/files is present) six documents of the shared corpus, all mapped by the lexical mapper; one
/// mapping accepted and one control excluded by a reviewer.
/// </summary>
public sealed class PackFixture : IAsyncLifetime
{
    public const string HostileName = "<script>alert(1)</script>.md";

    public static readonly string[] CorpusFiles =
    [
        "policy-gc-ai-answers-foundational.md", "modelcard-whisper.md", "risk-owasp-llm04-data-model-poisoning.md",
        "procedure-iai-consult-adr-evaluation-tooling.md", "incident-mitre-atlas-cs0003-cylance-bypass.yaml", "impact-assessment-nl-gov-ai-act-impact-analysis.xlsx",
    ];

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "aims-pack-tests-" + Guid.NewGuid().ToString("N"));

    public string Db => Path.Combine(Dir, "aims.db");

    public static string CorpusDir => TestPaths.CorpusDir;

    public bool HasCorpus { get; private set; }

    public LocalAims Aims { get; private set; } = null!;

    public AimsApiFactory Factory { get; private set; } = null!;

    public string ReaderKey { get; private set; } = string.Empty;

    public string AcceptedMappingId { get; private set; } = string.Empty;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Dir);
        Aims = await LocalAims.OpenAsync(Db, new AimsSettings { Mapping = new() { Mapper = MapperKinds.Lexical } });
        var pipeline = Aims.CreatePipeline();
        var files = ApiFixture.SampleFiles.Select(n => (n, Path.Combine(TestPaths.RepoRoot, "samples", n))).ToList();
        HasCorpus = Directory.Exists(CorpusDir);
        if (HasCorpus)
        {
            files.AddRange(CorpusFiles.Select(n => (n, Path.Combine(CorpusDir, n))));
        }

        foreach (var (name, path) in files)
        {
            Assert.Equal(IngestStatus.Processed, (await pipeline.IngestAsync(name, await File.ReadAllBytesAsync(path))).Status);
        }

        // Markdown drops raw tags; entities and code spans are how markup reaches the extracted heading and text.
        var hostile = "# &lt;img src=x onerror=alert(2)&gt; AI policy\n\nThe organization maintains an AI policy approved by top management. "
            + "AI risk assessment is performed `<script>alert(3)</script>` for every AI system &amp; reviewed \"annually\" by the 'AI board'.\n";
        Assert.Equal(IngestStatus.Processed, (await pipeline.IngestAsync(HostileName, Encoding.UTF8.GetBytes(hostile))).Status);

        var link = (await Aims.Store.GetEvidenceAsync()).OrderByDescending(l => l.Mapping.Score).First();
        await Aims.Store.ReviewMappingAsync(link.Mapping.Id, ReviewState.Accepted, "test", null);
        AcceptedMappingId = link.Mapping.Id;
        await Aims.Store.SetApplicabilityAsync("A.10.4", false, "No customers <b>at all</b>", "test");
        ReaderKey = (await Aims.Store.CreateApiKeyAsync(ApiRole.Reader, "test")).Key;
        Factory = new AimsApiFactory(Aims, Path.Combine(Dir, "inbox"));
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        ApiFixture.CloseAndDelete(Aims, Dir);
    }
}

[Trait(Tiers.Name, Tiers.Integration)]
public sealed partial class EvidencePackTests(PackFixture fx) : IClassFixture<PackFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<Dictionary<string, string>> PackAsync(Stream? output = null)
    {
        var buffer = new MemoryStream();
        var pack = await EvidencePackWriter.LoadAsync(fx.Aims.Evidence, Ct);
        await pack.WriteAsync(output ?? buffer, Ct);
        if (output is NonSeekableStream nonSeekable)
        {
            buffer = new MemoryStream(nonSeekable.Written.ToArray());
        }

        buffer.Position = 0;
        return Read(buffer);
    }

    private static Dictionary<string, string> Read(Stream zip)
    {
        using var archive = new ZipArchive(zip, ZipArchiveMode.Read);
        return archive.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var reader = new StreamReader(e.Open(), Encoding.UTF8);
            return reader.ReadToEnd();
        }, StringComparer.Ordinal);
    }

    [GeneratedRegex("href=\"([^\"]*)\"")]
    private static partial Regex Href();

    [GeneratedRegex("id=\"([^\"]*)\"")]
    private static partial Regex Id();

    [GeneratedRegex("<section class=\"passage\" id=\"p-([^\"]*)\">(.*?)</section>", RegexOptions.Singleline)]
    private static partial Regex PassageBlock();

    /// <summary>Resolves a link of <paramref name="from"/> to an archive path and a fragment (decoded); null for a link leaving the archive.</summary>
    private static (string Path, string? Fragment)? Resolve(string from, string href)
    {
        href = WebUtility.HtmlDecode(href);
        if (href.Contains(':', StringComparison.Ordinal) || href.StartsWith('/'))
        {
            return null;
        }

        var hash = href.IndexOf('#', StringComparison.Ordinal);
        var path = hash < 0 ? href : href[..hash];
        var fragment = hash < 0 ? null : Uri.UnescapeDataString(href[(hash + 1)..]);
        var parts = from.Split('/').SkipLast(1).ToList();
        foreach (var segment in path.Split('/'))
        {
            if (segment == "..")
            {
                parts.RemoveAt(parts.Count - 1);
            }
            else if (segment.Length > 0)
            {
                parts.Add(segment);
            }
        }

        return (string.Join('/', parts), fragment);
    }

    [Fact]
    public async Task Every_link_of_the_pack_resolves_and_every_citation_is_a_stored_passage_of_its_entry()
    {
        var pack = await PackAsync();
        Assert.Contains("index.html", pack.Keys);
        Assert.Contains("soa.html", pack.Keys);
        Assert.Contains("gaps.html", pack.Keys);
        Assert.Contains("documents.html", pack.Keys);
        Assert.Contains("soa.json", pack.Keys);
        Assert.Contains("gaps.json", pack.Keys);
        Assert.Equal(fx.Aims.Catalog.Entries.Count(e => !e.Container), pack.Keys.Count(k => k.StartsWith("entries/", StringComparison.Ordinal)));

        var ids = pack.Where(p => p.Key.EndsWith(".html", StringComparison.Ordinal))
            .ToDictionary(p => p.Key, p => Id().Matches(p.Value).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        var citations = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (file, html) in pack.Where(p => p.Key.EndsWith(".html", StringComparison.Ordinal)))
        {
            foreach (Match m in Href().Matches(html))
            {
                var target = Resolve(file, m.Groups[1].Value);
                Assert.NotNull(target);
                Assert.True(pack.ContainsKey(target.Value.Path), $"{file}: {m.Groups[1].Value} names no file of the pack");
                if (target.Value.Fragment is { } fragment)
                {
                    Assert.True(ids[target.Value.Path].Contains(fragment), $"{file}: {m.Groups[1].Value} names no element of {target.Value.Path}");
                    if (fragment.StartsWith("p-", StringComparison.Ordinal))
                    {
                        citations[file] = citations.GetValueOrDefault(file) + 1;
                    }
                }
            }
        }

        Assert.True(citations.GetValueOrDefault("index.html") > 0, "the index cites no passage");
        Assert.True(citations.GetValueOrDefault("soa.html") > 0, "the SoA cites no passage");
        Assert.True(citations.GetValueOrDefault("gaps.html") > 0, "the gap report cites no passage");

        // Every evidence link of the store is a passage block on its entry's page, with its document, version and review.
        var links = await fx.Aims.Store.GetEvidenceAsync(null, Ct);
        Assert.NotEmpty(links);
        foreach (var l in links)
        {
            var page = pack[EvidencePackWriter.EntryFile(l.Mapping.ControlId)];
            var block = PassageBlock().Matches(page).Single(b => WebUtility.HtmlDecode(b.Groups[1].Value) == l.Passage.Id).Groups[2].Value;
            Assert.Contains(WebUtility.HtmlEncode(l.Document.Name), block, StringComparison.Ordinal);
            Assert.Contains($"<tr><th>Version</th><td>{l.Document.Version} ", block, StringComparison.Ordinal);
            Assert.Contains(WebUtility.HtmlEncode(l.Passage.Text), block, StringComparison.Ordinal);
            Assert.Matches($"<code>{Regex.Escape(l.Mapping.Id)}</code></td><td>[0-9.]+</td><td class=\"(supports|finding)\">(supports|finding)</td><td>[^<]*</td><td>{EvidenceCitation.ReviewText(l.Mapping.Review)}</td>", block);
        }

        Assert.Contains(links, l => l.Mapping.Id == fx.AcceptedMappingId && l.Mapping.Review == ReviewState.Accepted);
        Assert.Contains("not applicable (reviewer's decision: No customers &lt;b&gt;at all&lt;/b&gt;)", pack[EvidencePackWriter.EntryFile("A.10.4")], StringComparison.Ordinal);
        Assert.Contains("<a href=\"inventory.html\">AI systems</a>", pack["index.html"], StringComparison.Ordinal);
        Assert.DoesNotContain("Not included", pack["index.html"], StringComparison.Ordinal);

        // The machine-readable files are the API's JSON; the inventory page lists every system of the API's inventory with its citations.
        using var client = fx.Factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", fx.ReaderKey);
        Assert.Equal(await client.GetStringAsync("/api/v1/exports/soa?format=json", Ct), pack["soa.json"]);
        var inventory = System.Text.Json.Nodes.JsonNode.Parse(await client.GetStringAsync("/api/v1/ai-systems", Ct))!;
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(inventory, System.Text.Json.Nodes.JsonNode.Parse(pack["inventory.json"])), "inventory.json is not the API's inventory");
        Assert.NotEmpty(inventory["systems"]!.AsArray());
        foreach (var system in inventory["systems"]!.AsArray())
        {
            Assert.Contains(WebUtility.HtmlEncode(system!["name"]!.GetValue<string>()), pack["inventory.html"], StringComparison.Ordinal);
            Assert.Contains(WebUtility.HtmlEncode(system["documents"]![0]!["citation"]!.GetValue<string>()), pack["inventory.html"], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Untrusted_names_headings_text_and_justifications_are_escaped_and_no_page_can_run_a_script()
    {
        var pack = await PackAsync();
        var html = pack.Where(p => p.Key.EndsWith(".html", StringComparison.Ordinal)).ToArray();
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;.md", pack["documents.html"], StringComparison.Ordinal);
        var entries = string.Concat(html.Where(p => p.Key.StartsWith("entries/", StringComparison.Ordinal)).Select(p => p.Value));
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;.md", entries, StringComparison.Ordinal);
        Assert.Contains("&lt;img src=x onerror=alert(2)&gt; AI policy", entries, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(3)&lt;/script&gt;", entries, StringComparison.Ordinal);
        foreach (var (name, page) in html)
        {
            Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<img", page, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<b>", page, StringComparison.Ordinal);
            Assert.Contains("default-src 'none'", page, StringComparison.Ordinal);
            Assert.True(page.StartsWith("<!DOCTYPE html>", StringComparison.Ordinal), name);
        }
    }

    [Fact]
    public async Task The_pack_streams_to_a_non_seekable_stream_with_asynchronous_writes_only()
    {
        var stream = new NonSeekableStream();
        var streamed = await PackAsync(stream);
        var buffered = await PackAsync();
        Assert.Equal(buffered.Keys.Order(StringComparer.Ordinal), streamed.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(buffered["entries/A.2.2.html"], streamed["entries/A.2.2.html"]);
        Assert.Equal(0, stream.SyncWrites);
        Assert.True(stream.AsyncWrites > streamed.Count, $"{stream.AsyncWrites} writes for {streamed.Count} entries: the archive was not written entry by entry");
    }

    [Fact]
    public async Task Get_exports_pack_is_an_attachment_streamed_as_application_zip()
    {
        using var client = fx.Factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/exports/pack", Ct)).StatusCode);
        client.DefaultRequestHeaders.Add("X-Api-Key", fx.ReaderKey);
        using var response = await client.GetAsync("/api/v1/exports/pack", HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal(EvidencePackWriter.FileName, response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var served = Read(new MemoryStream(await response.Content.ReadAsByteArrayAsync(Ct)));
        var direct = await PackAsync();
        Assert.Equal(direct.Keys.Order(StringComparer.Ordinal), served.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(direct["documents.html"], served["documents.html"]);
    }

    [Fact]
    public async Task Cli_export_pack_writes_the_zip_replaces_an_existing_one_and_never_creates_a_database()
    {
        var zip = Path.Combine(fx.Dir, "pack.zip");
        await File.WriteAllTextAsync(zip, "old", Ct);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(0, await AimsCli.RunAsync(["export", "pack", "--out", zip, "--db", fx.Db], output, error));
        Assert.Contains("Evidence pack written to", error.ToString(), StringComparison.Ordinal);
        await using (var file = File.OpenRead(zip))
        {
            var pack = Read(file);
            Assert.Contains("index.html", pack.Keys);
            Assert.Contains(PackFixture.HostileName.Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal), pack["documents.html"], StringComparison.Ordinal);
        }

        Assert.Empty(Directory.GetFiles(fx.Dir, ".pack.zip.*"));

        var missing = Path.Combine(fx.Dir, "none.db");
        Assert.NotEqual(0, await AimsCli.RunAsync(["export", "pack", "--out", Path.Combine(fx.Dir, "other.zip"), "--db", missing], output, error));
        Assert.False(File.Exists(missing));
        Assert.False(File.Exists(Path.Combine(fx.Dir, "other.zip")));
        Assert.NotEqual(0, await AimsCli.RunAsync(["export", "pack", "--db", fx.Db], output, error));
    }

    [Fact]
    [Trait(Tiers.Name, Tiers.Slow)]
    public async Task The_shared_corpus_pack_opens_in_headless_Chromium_and_its_citations_land_on_passages()
    {
        if (!fx.HasCorpus)
        {
            Assert.Skip($"The shared corpus is not present at {PackFixture.CorpusDir}; the test is skipped.");
        }

        HeadlessChromium.Require();

        var dir = Path.Combine(fx.Dir, "unzipped");
        var zip = Path.Combine(fx.Dir, "browser.zip");
        Assert.Equal(0, await AimsCli.RunAsync(["export", "pack", "--out", zip, "--db", fx.Db], TextWriter.Null, TextWriter.Null));
        await ZipFile.ExtractToDirectoryAsync(zip, dir, Ct);
        var pack = Read(File.OpenRead(zip));
        Assert.Contains(pack, p => p.Key.StartsWith("entries/", StringComparison.Ordinal) && p.Value.Contains("impact-assessment-nl-gov-ai-act-impact-analysis.xlsx, sheet", StringComparison.Ordinal));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                errors.Add(m.Text);
            }
        };
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(new Uri(Path.Combine(dir, "index.html")).AbsoluteUri);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("ISO/IEC 42001 evidence pack");

        // From the index, through the gap report, to the best evidence of the first open gap with any.
        await page.ClickAsync("nav >> text=Gap report");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Gap report");
        var citation = page.Locator("td:last-child a[href*='#p-']").First;
        var href = await citation.GetAttributeAsync("href") ?? string.Empty;
        await citation.ClickAsync();
        Assert.EndsWith(href, page.Url, StringComparison.Ordinal);
        var target = page.Locator("section.passage:target");
        await Assertions.Expect(target).ToHaveCountAsync(1);
        await Assertions.Expect(target).ToHaveAttributeAsync("id", Uri.UnescapeDataString(href[(href.IndexOf('#', StringComparison.Ordinal) + 1)..]));
        await Assertions.Expect(target.Locator("blockquote")).Not.ToBeEmptyAsync();
        await Assertions.Expect(target.Locator("tr", new LocatorLocatorOptions { HasText = "Version" })).ToHaveCountAsync(1);

        // Every citation of the SoA page, followed in the browser, lands on a passage block.
        await page.GotoAsync(new Uri(Path.Combine(dir, "soa.html")).AbsoluteUri);
        var soaCitations = await page.Locator("a[href*='#p-']").EvaluateAllAsync<string[]>("as => as.map(a => a.href)");
        Assert.NotEmpty(soaCitations);
        foreach (var url in soaCitations.Take(40))
        {
            await page.GotoAsync(url);
            await Assertions.Expect(page.Locator("section.passage:target")).ToHaveCountAsync(1);
        }

        Directory.CreateDirectory(Path.Combine(TestPaths.RepoRoot, "TestResults"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(TestPaths.RepoRoot, "TestResults", "evidence-pack.png"), FullPage = false });
        Assert.Empty(errors);
    }

    /// <summary>An output stream that cannot seek and refuses synchronous writes (like an HTTP response body).</summary>
    private sealed class NonSeekableStream : Stream
    {
        public MemoryStream Written { get; } = new();

        public int AsyncWrites { get; private set; }

        public int SyncWrites { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            SyncWrites++;
            throw new InvalidOperationException("synchronous write");
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            AsyncWrites++;
            Written.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
