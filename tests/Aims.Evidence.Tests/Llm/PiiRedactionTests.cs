using System.Text;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Llm;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Hosting;
using Aims.Evidence.Local;

namespace Aims.Evidence.Tests.Llm;

/// <summary>PII redaction before text goes to a chat model: the patterns, and end to end through a local OpenAI-compatible server.</summary>
public class PiiRedactionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Write to jane.doe@example.org today.", "Write to [EMAIL] today.", PiiKind.Email)]
    [InlineData("Contact: first.last+tag@sub.example.co.uk", "Contact: [EMAIL]", PiiKind.Email)]
    [InlineData("Call +44 20 7946 0958 now", "Call [PHONE] now", PiiKind.Phone)]
    [InlineData("Call +1 (555) 123-4567.", "Call [PHONE].", PiiKind.Phone)]
    [InlineData("Tel. +49 30 1234567", "Tel. [PHONE]", PiiKind.Phone)]
    [InlineData("mobile +33612345678", "mobile [PHONE]", PiiKind.Phone)]
    [InlineData("Phone 020 7946 0958 (office)", "Phone [PHONE] (office)", PiiKind.Phone)]
    [InlineData("Phone (555) 123-4567", "Phone [PHONE]", PiiKind.Phone)]
    [InlineData("Phone 555-123-4567", "Phone [PHONE]", PiiKind.Phone)]
    [InlineData("Portable 06 12 34 56 78.", "Portable [PHONE].", PiiKind.Phone)]
    [InlineData("Berlin 030-1234567", "Berlin [PHONE]", PiiKind.Phone)]
    [InlineData("IBAN DE89 3704 0044 0532 0130 00 for refunds", "IBAN [IBAN] for refunds", PiiKind.Iban)]
    [InlineData("IBAN GB82WEST12345698765432.", "IBAN [IBAN].", PiiKind.Iban)]
    [InlineData("card 4111 1111 1111 1111 expires", "card [CARD] expires", PiiKind.Card)]
    [InlineData("card 5500-0000-0000-0004", "card [CARD]", PiiKind.Card)]
    [InlineData("amex 378282246310005", "amex [CARD]", PiiKind.Card)]
    [InlineData("host 192.168.1.20 serves", "host [IP] serves", PiiKind.Ip)]
    [InlineData("gateway 10.0.0.1.", "gateway [IP].", PiiKind.Ip)]
    [InlineData("v6 2001:db8::8a2e:370:7334 here", "v6 [IP] here", PiiKind.Ip)]
    [InlineData("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "full [IP]", PiiKind.Ip)]
    [InlineData("link-local fe80::1 only", "link-local [IP] only", PiiKind.Ip)]
    [InlineData("SSN 078-05-1120 on file", "SSN [SSN] on file", PiiKind.Ssn)]
    public void Identifiers_are_replaced_by_typed_placeholders(string input, string expected, PiiKind kind)
    {
        var counts = new RedactionCounts();
        Assert.Equal(expected, PiiRedactor.Default.Redact(input, counts));
        Assert.Equal(1, counts[kind]);
        Assert.Equal(1, counts.Total);
    }

    [Theory]
    [InlineData("Clause 6.1.2 and control A.6.2.4 apply; see also A.10.2, B.7.4 and 4.1, 5.2, 10.2.")]
    [InlineData("Effective 2024-01-15, reviewed 15.01.2024 and 01/15/2024, next 2025/03/31.")]
    [InlineData("In 2023 and 2024 the period 2019-2024 and 2019 - 2024 was covered; years 1990 2000 2010.")]
    [InlineData("Upgraded to version 1.2.3, release 10.0.19041, v2.1.0.4 and version 1.0.0.0 (build 10.0.0.1).")]
    [InlineData("ISO/IEC 42001:2023, ISO 31000:2018, ISO/IEC 27001 and ISO/IEC 23894.")]
    [InlineData("Threshold 0.75, score 0.5, share 12.5 %, total 1,234,567.89 EUR.")]
    [InlineData("Order 1234567890123456 and batch 1234567812345678 failed the Luhn check.")]
    [InlineData("The meeting starts at 10:30:00 on floor 3; ratio 16:9.")]
    [InlineData("Page 12 of 340; table 3.4; figure 2.1.1; section 7.5.3.")]
    [InlineData("A decade ago a cafe served dead beef; the face of it: ace:bad.")]
    [InlineData("Model v3 with 175 billion parameters and 96 layers, 128000 tokens of context.")]
    [InlineData("Not an IBAN: DE89 3704 0044 0532 0130 02; not an e-mail: name@localhost or @handle.")]
    public void Clause_ids_dates_years_versions_and_other_numbers_are_left_alone(string input)
    {
        var counts = new RedactionCounts();
        Assert.Equal(input, PiiRedactor.Default.Redact(input, counts));
        Assert.Equal(0, counts.Total);
    }

    [Fact]
    public void Counts_are_per_kind_and_never_keep_the_values()
    {
        var counts = new RedactionCounts();
        var text = PiiRedactor.Default.Redact("a@example.com, b@example.com, +44 20 7946 0958, 192.168.0.1 and clause 6.1.2", counts);
        Assert.Equal("[EMAIL], [EMAIL], [PHONE], [IP] and clause 6.1.2", text);
        Assert.Equal(2, counts[PiiKind.Email]);
        Assert.Equal(1, counts[PiiKind.Phone]);
        Assert.Equal(1, counts[PiiKind.Ip]);
        Assert.Equal(4, counts.Total);
        Assert.Equal("email=2, ip=1, phone=1", counts.ToString());
    }

    [Fact]
    public void Long_hostile_input_is_scanned_in_bounded_time()
    {
        var hostile = string.Concat(Enumerable.Repeat("1 2-3.4 +5 (6) a@b. ::: ", 20_000)) + new string('9', 50_000);
        var text = PiiRedactor.Default.Redact(hostile);
        Assert.NotNull(text); // completes (regex timeouts fail closed to PiiRedactor.Withheld rather than hang)
    }

    internal static readonly string[] Planted =
    [
        "jane.doe@lender.example", "+44 20 7946 0958", "020 7946 0958", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00",
        "192.168.10.20", "078-05-1120",
    ];

    internal static readonly string PolicyWithPii = LlmMappingTests.Policy
        .Replace(
            "the owner reports incidents to the AI governance board.",
            "the owner reports incidents to the AI governance board at jane.doe@lender.example or +44 20 7946 0958 (desk 020 7946 0958).",
            StringComparison.Ordinal)
        .Replace(
            "are identified, their likelihood",
            "are identified (test card 4111 1111 1111 1111, account DE89 3704 0044 0532 0130 00, host 192.168.10.20, SSN 078-05-1120), their likelihood",
            StringComparison.Ordinal);

    private static LlmOptions Options(FakeOpenAiServer server, bool redact) => new()
    {
        Provider = LlmProviders.OpenAI,
        Endpoint = server.BaseUrl + "/v1",
        Model = "test-model",
        MaxRetries = 1,
        RetryBaseDelaySeconds = 0.05,
        TimeoutSeconds = 30,
        PromptsDirectory = Path.Combine(TestPaths.RepoRoot, "prompts"),
        ClassifyDocuments = true,
        Redact = redact,
    };

    private static FakeOpenAiServer.Reply Script(FakeOpenAiServer.Received r, int n) => r.Prompt.Contains("<document>", StringComparison.Ordinal)
        ? new FakeOpenAiServer.Reply(200, """{"docType":"policy","confidence":0.9,"aiRelevant":true,"rationale":"A policy."}""", 300, 20)
        : FakeOpenAiServer.Comply(r, n);

    [Fact]
    [Trait(Tiers.Name, Tiers.Integration)]
    public async Task Planted_identifiers_never_reach_the_model_while_the_stored_text_keeps_them()
    {
        Assert.Contains("jane.doe@lender.example", PolicyWithPii, StringComparison.Ordinal);
        Assert.Contains("4111 1111 1111 1111", PolicyWithPii, StringComparison.Ordinal);
        await using var server = await FakeOpenAiServer.StartAsync(Script);
        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, new AimsSettings { Llm = Options(server, redact: true) }, Ct);
        var outcome = await aims.CreatePipeline("redact-run").IngestAsync("policy.md", Encoding.UTF8.GetBytes(PolicyWithPii), Ct);
        Assert.Equal(IngestStatus.Processed, outcome.Status);

        var requests = server.Requests.ToArray();
        Assert.Contains(requests, r => r.Prompt.Contains("<document>", StringComparison.Ordinal)); // classification prompt
        Assert.Contains(requests, r => r.Prompt.Contains("<passage ", StringComparison.Ordinal)); // mapping prompt
        foreach (var request in requests)
        {
            var sent = string.Join("\n", request.Messages);
            foreach (var value in Planted)
            {
                Assert.DoesNotContain(value, sent, StringComparison.Ordinal);
            }

            Assert.DoesNotContain("4111111111111111", request.Body.Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.DoesNotContain("lender.example", request.Body, StringComparison.Ordinal);
        }

        var allSent = string.Join("\n", requests.SelectMany(r => r.Messages));
        foreach (var placeholder in new[] { "[EMAIL]", "[PHONE]", "[CARD]", "[IBAN]", "[IP]", "[SSN]" })
        {
            Assert.Contains(placeholder, allSent, StringComparison.Ordinal);
        }

        // Control ids offered to the model survive redaction and are real catalog ids.
        var offered = requests.SelectMany(r => r.Offered.Values.SelectMany(v => v)).ToArray();
        Assert.NotEmpty(offered);
        Assert.All(offered, id => Assert.True(IsoCatalog.Default.Contains(id), id));

        // The stored passages are the document's own text, unredacted.
        var stored = string.Join("\n", (await aims.Store.GetPassagesAsync(outcome.Document!.Id, Ct)).Select(p => p.Passage.Text));
        foreach (var value in Planted)
        {
            Assert.Contains(value, stored, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("[EMAIL]", stored, StringComparison.Ordinal);

        // Counts only: the usage rows count the replacements (the mapping prompt and the classification excerpt).
        var usage = await aims.Store.GetLlmUsageAsync("redact-run", Ct);
        Assert.True(usage.Redactions >= Planted.Length, $"redactions recorded: {usage.Redactions}");
    }

    [Fact]
    [Trait(Tiers.Name, Tiers.Integration)]
    public async Task With_redaction_off_the_same_document_sends_the_identifiers()
    {
        // The control for the test above: the capture does see the values when redaction is switched off.
        await using var server = await FakeOpenAiServer.StartAsync(Script);
        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, new AimsSettings { Llm = Options(server, redact: false) }, Ct);
        var outcome = await aims.CreatePipeline("plain-run").IngestAsync("policy.md", Encoding.UTF8.GetBytes(PolicyWithPii), Ct);
        Assert.Equal(IngestStatus.Processed, outcome.Status);
        var allSent = string.Join("\n", server.Requests.SelectMany(r => r.Messages));
        Assert.Contains("jane.doe@lender.example", allSent, StringComparison.Ordinal);
        Assert.Contains("4111 1111 1111 1111", allSent, StringComparison.Ordinal);
        Assert.Equal(0, (await aims.Store.GetLlmUsageAsync("plain-run", Ct)).Redactions);
    }

    [Fact]
    [Trait(Tiers.Name, Tiers.Integration)]
    public async Task Cli_ingest_redacts_by_default_reports_the_count_and_llm_redact_false_turns_it_off()
    {
        foreach (var redact in new[] { true, false })
        {
            await using var server = await FakeOpenAiServer.StartAsync(Script);
            using var tmp = new TempDir();
            tmp.File("docs/policy.md", PolicyWithPii);
            string[] args = ["ingest", Path.Combine(tmp.Path, "docs"), "--db", tmp.Db, "--llm-endpoint", server.BaseUrl + "/v1", "--llm-model", "test-model", "--json"];
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            var code = await Aims.Evidence.Cli.AimsCli.RunAsync(redact ? args : [.. args, "--llm-redact", "false"], stdout, stderr);
            Assert.True(code == Aims.Evidence.Cli.ExitCodes.Ok, stderr.ToString() + stdout);
            var sent = string.Join("\n", server.Requests.SelectMany(r => r.Messages));
            Assert.NotEmpty(sent);
            var redactions = System.Text.Json.Nodes.JsonNode.Parse(stdout.ToString())!["llm"]!["redactions"]!.GetValue<int>();
            if (redact)
            {
                Assert.DoesNotContain("jane.doe@lender.example", sent, StringComparison.Ordinal);
                Assert.Contains("[EMAIL]", sent, StringComparison.Ordinal);
                Assert.True(redactions >= 7, $"redactions {redactions}");
            }
            else
            {
                Assert.Contains("jane.doe@lender.example", sent, StringComparison.Ordinal);
                Assert.Equal(0, redactions);
            }
        }
    }

    [Fact]
    public void Redaction_is_on_by_default_and_configurable()
    {
        Assert.True(new LlmOptions().Redact);
        var old = Environment.GetEnvironmentVariable("AIMS__LLM__REDACT");
        try
        {
            Environment.SetEnvironmentVariable("AIMS__LLM__REDACT", "false");
            Assert.False(Aims.Evidence.Cli.AimsCli.LoadLlmOptions().Redact);
        }
        finally
        {
            Environment.SetEnvironmentVariable("AIMS__LLM__REDACT", old);
        }
    }
}
