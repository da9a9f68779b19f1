using System.Text;
using System.Text.Json;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Inventory;
using Aims.Evidence.Core.Llm;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Hosting;
using Aims.Evidence.Local;

namespace Aims.Evidence.Tests.Llm;

/// <summary>
/// The LLM pass of the AI-system inventory (prompts/list-ai-systems.yaml) against a local OpenAI-compatible server:
/// suggestions stored once per document version, shown as unconfirmed systems with citations, no change without it.
/// </summary>
[Trait(Tiers.Name, Tiers.Integration)]
public class LlmInventoryTests
{
    /// <summary>A policy of our own that governs one named tool (passage 2 names it and its purpose).</summary>
    private const string ToolPolicy = """
        # Acceptable Use Policy for Generative AI

        ## Scope

        This policy governs how staff use AI tools to draft text and summarise meetings, and what they may share with them.

        ## Approved tool

        Staff may use Quillmate Assistant, a drafting assistant supplied by Northwind Labs, to draft internal letters and
        summarise meeting notes. The AI governance board approved it for internal documents only.

        ## Rules

        Staff never paste personal data or client secrets into any AI tool, and a person checks every generated text
        before it is sent to anyone outside the organisation.
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static bool IsListing(FakeOpenAiServer.Received r) => r.Prompt.Contains("AI-system inventory", StringComparison.Ordinal);

    /// <summary>The listing answer naming Quillmate Assistant with passages 2 (and 99, never sent, to be dropped).</summary>
    private static string Quillmate => JsonSerializer.Serialize(new
    {
        systems = new object[]
        {
            new { name = "Quillmate Assistant", aliases = new[] { "Quillmate" }, purpose = "Drafts internal letters and summarises meeting notes.", provider = "Northwind Labs", role = "deployer", lifecycle = "in production", riskLevel = (string?)null, passages = new[] { 2, 99 }, extra = "ignored" },
            new { name = "", aliases = Array.Empty<string>(), purpose = "no name", provider = (string?)null, role = (string?)null, lifecycle = (string?)null, riskLevel = (string?)null, passages = new[] { 1 }, extra = "" },
            new { name = "Nothing cited", aliases = Array.Empty<string>(), purpose = "no passage", provider = (string?)null, role = "owner", lifecycle = (string?)null, riskLevel = (string?)null, passages = new[] { 42 }, extra = "" },
        },
    });

    private static LlmOptions Options(FakeOpenAiServer server, bool list = true) => new()
    {
        Provider = LlmProviders.OpenAI,
        Endpoint = server.BaseUrl + "/v1",
        Model = "test-model",
        MaxRetries = 0,
        TimeoutSeconds = 30,
        PromptsDirectory = Path.Combine(TestPaths.RepoRoot, "prompts"),
        ListAiSystems = list,
    };

    private static async Task<(IngestOutcome Outcome, IReadOnlyList<AiSystem> Systems, IReadOnlyList<AiSystemEdit> Edits)> IngestAsync(TempDir tmp, LlmOptions llm, string name, string text)
    {
        using var aims = await LocalAims.OpenAsync(tmp.Db, new AimsSettings { Llm = llm }, Ct);
        var outcome = await aims.CreatePipeline().IngestAsync(name, Encoding.UTF8.GetBytes(text), Ct);
        var inventory = new AiSystemInventory(aims.Store);
        return (outcome, await inventory.ListAsync(Ct), await inventory.Edits!.ListAiSystemEditsAsync(Ct));
    }

    private static bool IsClassifying(FakeOpenAiServer.Received r) => r.Prompt.Contains("Allowed document types:", StringComparison.Ordinal);

    [Fact]
    public async Task Every_LLM_stage_of_a_run_spends_one_token_budget()
    {
        await using var server = await FakeOpenAiServer.StartAsync((r, n) =>
            IsListing(r) ? new FakeOpenAiServer.Reply(200, Quillmate, 900, 80)
            : IsClassifying(r) ? new FakeOpenAiServer.Reply(200, """{"docType":"policy","confidence":0.9,"aiRelevant":true,"rationale":"An AI use policy."}""", 300, 20)
            : FakeOpenAiServer.Comply(r, n));
        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, new AimsSettings { Llm = Options(server) with { TokenBudget = 10 } }, Ct);

        // The mapper's first call spends the run's budget: the inventory pass of the same run makes no call.
        var first = await aims.CreatePipeline("run-a").IngestAsync("genai-policy.md", Encoding.UTF8.GetBytes(ToolPolicy), Ct);
        Assert.Equal(IngestStatus.Processed, first.Status);
        Assert.Equal(1, server.Calls);
        Assert.DoesNotContain(server.Requests, IsListing);
        Assert.Empty(await new AiSystemInventory(aims.Store).Edits!.ListAiSystemEditsAsync(Ct));
        var usage = await aims.Store.GetLlmUsageAsync("run-a", Ct);
        Assert.Equal(1, usage.Calls);
        Assert.True(usage.Fallbacks >= 1); // the inventory pass recorded that it gave nothing

        // With classification on (a fresh database, so no cached answers), the classifier's call spends the run's
        // budget first: the mapper falls back and the inventory pass makes no call.
        using var tmp2 = new TempDir();
        using var classifying = await LocalAims.OpenAsync(tmp2.Db, new AimsSettings { Llm = Options(server) with { TokenBudget = 10, ClassifyDocuments = true } }, Ct);
        var second = await classifying.CreatePipeline("run-b").IngestAsync("genai-policy.md", Encoding.UTF8.GetBytes(ToolPolicy), Ct);
        Assert.Equal(IngestStatus.Processed, second.Status);
        Assert.Equal(2, server.Calls);
        Assert.True(IsClassifying(server.Requests.Last()));
        Assert.Equal("policy", second.Document!.DocType);
        Assert.Contains((await classifying.Store.GetPassagesAsync(second.Document.Id, Ct)).SelectMany(p => p.Mappings), m => m.Method == MappingMethods.LlmFallback);
        Assert.Equal(1, (await classifying.Store.GetLlmUsageAsync("run-b", Ct)).Calls);
    }

    [Fact]
    public async Task A_policy_naming_a_tool_lists_it_with_purpose_and_citation_once_per_version()
    {
        await using var server = await FakeOpenAiServer.StartAsync((r, n) => IsListing(r) ? new FakeOpenAiServer.Reply(200, Quillmate, 900, 80) : FakeOpenAiServer.Comply(r, n));
        using var tmp = new TempDir();
        var (outcome, systems, edits) = await IngestAsync(tmp, Options(server), "genai-policy.md", ToolPolicy);
        Assert.Equal(IngestStatus.Processed, outcome.Status);

        // What was sent: the template, the document name and type, numbered passages inside the data delimiters.
        var listing = Assert.Single(server.Requests, IsListing);
        Assert.Contains("Document name: genai-policy.md", listing.Prompt, StringComparison.Ordinal);
        Assert.Contains("<passage n=\"2\">", listing.Prompt, StringComparison.Ordinal);
        Assert.Contains("Quillmate Assistant", listing.Prompt, StringComparison.Ordinal);

        // Stored: one suggestion (no name, no valid passage and the invented passage 99 dropped), tied to the version.
        var suggestion = Assert.Single(edits);
        Assert.Equal(AiSystemEditActions.Suggest, suggestion.Action);
        Assert.Equal("llm:test-model", suggestion.Actor);
        Assert.Equal(outcome.Document!.Id, suggestion.DocumentId);
        Assert.Single(suggestion.Passages);

        var system = Assert.Single(systems, s => s.Name == "Quillmate Assistant");
        Assert.Equal("llm", system.Source);
        Assert.False(system.Confirmed);
        Assert.Equal("Drafts internal letters and summarises meeting notes.", system.Purpose);
        Assert.Equal("Northwind Labs", system.Provider);
        Assert.Equal("deployer", system.Role);
        Assert.Equal(["Quillmate"], system.Aliases);
        var citation = Assert.Single(system.Citations);
        Assert.Equal("genai-policy.md", citation.DocumentName);
        Assert.Equal(1, citation.Page);
        Assert.Equal(suggestion.Passages[0], citation.PassageId);
        Assert.DoesNotContain(systems, s => s.Name == "Nothing cited");

        // The same bytes again: no model call at all, no second system.
        var calls = server.Calls;
        var (again, systemsAgain, editsAgain) = await IngestAsync(tmp, Options(server), "genai-policy.md", ToolPolicy);
        Assert.Equal(IngestStatus.Unchanged, again.Status);
        Assert.Equal(calls, server.Calls);
        Assert.Single(editsAgain);
        Assert.Single(systemsAgain, s => s.Name == "Quillmate Assistant");

        // A new version: listed again; the old version's suggestion no longer counts, the system cites the new one only.
        var (v2, systemsV2, editsV2) = await IngestAsync(tmp, Options(server), "genai-policy.md", ToolPolicy + "\n## Review\n\nThe board reviews this policy every year.\n");
        Assert.Equal(IngestStatus.Processed, v2.Status);
        Assert.Equal(2, server.Requests.Count(IsListing));
        Assert.Equal(2, editsV2.Count);
        var current = Assert.Single(systemsV2, s => s.Name == "Quillmate Assistant");
        Assert.Equal(v2.Document!.Id, Assert.Single(current.Citations).DocumentId);

        // A reviewer confirms the suggestion like any other system.
        using var aims = await LocalAims.OpenAsync(tmp.Db, new AimsSettings(), Ct);
        var inventory = new AiSystemInventory(aims.Store);
        await inventory.Edits!.AddAiSystemEditAsync(new AiSystemEdit { Action = AiSystemEditActions.Confirm, SystemId = current.Id, Actor = "reviewer" }, Ct);
        Assert.True(Assert.Single(await inventory.ListAsync(Ct), s => s.Name == "Quillmate Assistant").Confirmed);
    }

    [Fact]
    public async Task Invalid_JSON_twice_gives_no_suggestion_and_the_document_is_still_processed()
    {
        await using var server = await FakeOpenAiServer.StartAsync((r, n) => IsListing(r) ? new FakeOpenAiServer.Reply(200, "{\"systems\": [ not json", 10, 5) : FakeOpenAiServer.Comply(r, n));
        using var tmp = new TempDir();
        var (outcome, systems, edits) = await IngestAsync(tmp, Options(server), "genai-policy.md", ToolPolicy);
        Assert.Equal(IngestStatus.Processed, outcome.Status);
        Assert.Equal(DocumentStatus.Processed, outcome.Document!.Status);
        Assert.Equal(2, server.Requests.Count(IsListing)); // the answer and one repair attempt
        Assert.Empty(edits);
        Assert.DoesNotContain(systems, s => s.Source == "llm");
    }

    [Fact]
    public async Task A_repaired_answer_is_used()
    {
        var listings = 0;
        await using var server = await FakeOpenAiServer.StartAsync((r, n) => !IsListing(r)
            ? FakeOpenAiServer.Comply(r, n)
            : Interlocked.Increment(ref listings) == 1 ? new FakeOpenAiServer.Reply(200, "{\"tools\":[]}", 10, 5) : new FakeOpenAiServer.Reply(200, Quillmate, 10, 5));
        using var tmp = new TempDir();
        var (_, systems, _) = await IngestAsync(tmp, Options(server), "genai-policy.md", ToolPolicy);
        Assert.Equal(2, listings);
        Assert.Contains("not valid", server.Requests.Last(IsListing).Messages[^1], StringComparison.Ordinal);
        Assert.Single(systems, s => s.Name == "Quillmate Assistant" && s.Source == "llm");
    }

    [Fact]
    public async Task Without_the_pass_nothing_changes()
    {
        // An LLM configured without ListAiSystems, and no LLM at all: no listing request, no suggestion, the derived inventory.
        await using var server = await FakeOpenAiServer.StartAsync((r, n) => IsListing(r) ? new FakeOpenAiServer.Reply(200, Quillmate) : FakeOpenAiServer.Comply(r, n));
        using var tmp = new TempDir();
        var (_, systems, edits) = await IngestAsync(tmp, Options(server, list: false), "genai-policy.md", ToolPolicy);
        Assert.DoesNotContain(server.Requests, IsListing);
        Assert.Empty(edits);
        Assert.DoesNotContain(systems, s => s.Name == "Quillmate Assistant");

        using var plain = new TempDir();
        var (outcome, embedded, embeddedEdits) = await IngestAsync(plain, new LlmOptions(), "genai-policy.md", ToolPolicy);
        Assert.Equal(IngestStatus.Processed, outcome.Status);
        Assert.Empty(embeddedEdits);
        using var aims = await LocalAims.OpenAsync(plain.Db, new AimsSettings(), Ct);
        Assert.Equal(await new AiSystemInventory(aims.Store).DerivedAsync(Ct), embedded);
    }

    [Fact]
    public void A_suggestion_fills_the_empty_fields_of_a_derived_system_of_the_same_name()
    {
        var doc = new DocumentRecord { Id = "d1", Name = "triage-card.md", Sha256 = "0", DocType = DocumentTypes.ModelCard, Status = DocumentStatus.Processed };
        var passage = new PassageRecord { Id = "d1-00001", DocumentId = "d1", Ordinal = 1, Page = 3, Headings = [], Text = "Triage-3B sorts messages.", Kind = "paragraph" };
        var derived = new AiSystem
        {
            Id = AiSystemInventoryBuilder.IdOf("Triage-3B"), Name = "Triage-3B", Role = "developer", Kind = "model",
            Citations = [new AiSystemCitation("d1", "triage-card.md", 1, null, "d1-00000", "triage-card.md p.1")],
        };
        AiSystemEdit Suggest(string documentId) => new()
        {
            Action = AiSystemEditActions.Suggest, SystemId = AiSystemInventoryBuilder.IdOf("Triage 3B model"), Name = "Triage 3B model",
            Purpose = "Sorts patient messages by urgency.", Provider = "Fabrikam", Role = "user", DocumentId = documentId, Passages = ["d1-00001"],
        };
        var sources = AiSystemInventory.Citable([new InventorySource(doc, [passage])]);

        var merged = Assert.Single(AiSystemInventory.ApplySuggestions([derived], [Suggest("d1")], sources));
        Assert.Equal("derived", merged.Source);
        Assert.Equal("Sorts patient messages by urgency.", merged.Purpose);
        Assert.Equal("Fabrikam", merged.Provider);
        Assert.Equal("developer", merged.Role); // a derived value is kept
        Assert.Equal(2, merged.Citations.Count);
        Assert.Equal(3, merged.Citations[1].Page);

        // A suggestion of a version that is no longer current is ignored.
        Assert.Same(derived, Assert.Single(AiSystemInventory.ApplySuggestions([derived], [Suggest("d0")], sources)));
    }
}
