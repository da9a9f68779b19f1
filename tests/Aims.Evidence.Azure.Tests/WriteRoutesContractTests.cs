using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Aims.Evidence.Api;
using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Azure.Tests.Infrastructure;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Functions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Aims.Evidence.Azure.Tests;

/// <summary>
/// The write routes in both hosts over one key table: the ASP.NET Core API (its authentication handler and role
/// policies, uploads into an inbox folder) and the HTTP functions (<see cref="ApiKeyGate"/>, uploads into the inbox
/// blob container in Azurite) answer the same requests with the same status and body.
/// </summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class WriteRoutesContractTests(AzuriteFixture azurite) : IAsyncDisposable
{
    private const string AdminKey = "write-contract-admin-key";
    private const int MaxUpload = 4096;

    private Hosts? _hosts;

    public async ValueTask DisposeAsync()
    {
        if (_hosts is not null)
        {
            await _hosts.DisposeAsync();
        }
    }

    private async Task<Hosts> HostsAsync() => _hosts ??= await Hosts.CreateAsync(azurite, TestContext.Current.CancellationToken);

    private static (byte[] Body, string ContentType) Multipart(string fileName, string text)
    {
        using var form = new MultipartFormDataContent("aims-contract-boundary");
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/markdown");
        form.Add(file, "file", fileName);
        return (form.ReadAsByteArrayAsync().GetAwaiter().GetResult(), form.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task Upload_answers_the_same_in_both_hosts()
    {
        azurite.Require();
        var hosts = await HostsAsync();
        var ct = TestContext.Current.CancellationToken;
        var reader = (await hosts.Keys.CreateAsync(ApiRole.Reader, "test", ct)).Key;
        var reviewer = (await hosts.Keys.CreateAsync(ApiRole.Reviewer, "test", ct)).Key;
        var name = $"policy-{Guid.NewGuid():N}.md";
        var text = "# AI policy\n\nTop management approves the AI policy and reviews it every year.\n";
        var (form, formType) = Multipart(name, text);

        // No key, an unknown key, too low a role: refused alike, before the body is read.
        await hosts.AssertSameAsync("documents", null, form, formType, 401);
        await hosts.AssertSameAsync("documents", "aims_unknown", form, formType, 401);
        await hosts.AssertSameAsync("documents", reader, form, formType, 403);

        // Problems of the shared upload reader.
        await hosts.AssertSameAsync("documents", reviewer, Encoding.UTF8.GetBytes("{}"), "application/json", 415);
        var (big, bigType) = Multipart("big.md", new string('x', MaxUpload + 1));
        await hosts.AssertSameAsync("documents", reviewer, big, bigType, 413);
        var (empty, emptyType) = Multipart("empty.md", string.Empty);
        await hosts.AssertSameAsync("documents", reviewer, empty, emptyType, 400);

        // Accepted: the same 202 body; the API wrote the folder, the function wrote the inbox blob.
        var body = await hosts.AssertSameAsync("documents", reviewer, form, formType, 202);
        var accepted = JsonNode.Parse(body)!;
        Assert.Equal(name, accepted["fileName"]!.GetValue<string>());
        Assert.Equal("queued", accepted["status"]!.GetValue<string>());
        Assert.Equal(ApiKeys.Hash(text), accepted["sha256"]!.GetValue<string>());
        Assert.Equal(text, await File.ReadAllTextAsync(Path.Combine(hosts.InboxFolder, name), ct));
        var blob = azurite.Blobs().GetBlobContainerClient("evidence-inbox").GetBlobClient(name);
        Assert.Equal(text, (await blob.DownloadContentAsync(ct)).Value.Content.ToString());

        // The blob trigger then ingests the uploaded blob like any other.
        var ingest = hosts.Functions.GetRequiredService<IngestBlobFunction>();
        Assert.Equal(IngestionStates.Processed, await ingest.IngestAsync(blob, name, ct));
        var stored = await hosts.Functions.GetRequiredService<IEvidenceStore>().GetCurrentByNameAsync(name, ct);
        Assert.Equal(DocumentStatus.Processed, stored?.Status);
    }

    private static (byte[] Body, string ContentType) Multipart(params (string FileName, string Text)[] files)
    {
        using var form = new MultipartFormDataContent("aims-contract-boundary");
        foreach (var (fileName, text) in files)
        {
            var file = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
            file.Headers.ContentType = new MediaTypeHeaderValue("text/markdown");
            form.Add(file, "file", fileName);
        }

        return (form.ReadAsByteArrayAsync().GetAwaiter().GetResult(), form.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task Upload_semantics_agree_in_both_hosts_malformed_bodies_ignored_names_several_files_and_versions()
    {
        azurite.Require();
        var hosts = await HostsAsync();
        var ct = TestContext.Current.CancellationToken;
        var reviewer = await hosts.Keys.CreateAsync(ApiRole.Reviewer, "test", ct);
        var key = reviewer.Key;

        // A body that ends before its closing boundary: the same 400 problem (500 in the API before).
        var truncated = Encoding.UTF8.GetBytes("--aims-contract-boundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.md\"\r\n\r\ntext");
        await hosts.AssertSameAsync("documents", key, truncated, "multipart/form-data; boundary=aims-contract-boundary", 400);

        // A name the inbox ignores, alone or beside a good file: 400, nothing saved.
        var good = $"good-{Guid.NewGuid():N}.md";
        var (part, partType) = Multipart(("draft.part", "# Draft\n\nNot finished.\n"));
        await hosts.AssertSameAsync("documents", key, part, partType, 400);
        var (mixed, mixedType) = Multipart((good, "# Good\n\nA good file.\n"), ("notes.tmp", "# Notes\n"));
        await hosts.AssertSameAsync("documents", key, mixed, mixedType, 400);
        Assert.False(File.Exists(Path.Combine(hosts.InboxFolder, good)));
        var container = azurite.Blobs().GetBlobContainerClient("evidence-inbox");
        Assert.False((await container.GetBlobClient(good).ExistsAsync(ct)).Value);

        // Several files in one form: all saved and listed, the same 202 body in both hosts.
        var names = new[] { $"one-{Guid.NewGuid():N}.md", $"two-{Guid.NewGuid():N}.md" };
        var (several, severalType) = Multipart((names[0], "# One\n\nThe first file.\n"), (names[1], "# Two\n\nThe second file.\n"));
        var accepted = JsonNode.Parse(await hosts.AssertSameAsync("documents", key, several, severalType, 202))!;
        Assert.Equal(names, accepted["files"]!.AsArray().Select(f => f!["fileName"]!.GetValue<string>()));
        foreach (var name in names)
        {
            Assert.True(File.Exists(Path.Combine(hosts.InboxFolder, name)));
            Assert.True((await container.GetBlobClient(name).ExistsAsync(ct)).Value);
        }

        // A revised file of the same name is the next version of the same document in both hosts: the folder's file
        // and the blob are replaced (no "policy-2.md"), and the blob trigger stores version 2.
        var policy = $"policy-{Guid.NewGuid():N}.md";
        var first = "# AI policy\n\nTop management approves the AI policy and reviews it every year.\n";
        var revised = first + "\n## Revision\n\nThe policy also covers AI systems provided by suppliers.\n";
        var ingest = hosts.Functions.GetRequiredService<IngestBlobFunction>();
        var store = hosts.Functions.GetRequiredService<IEvidenceStore>();
        var (firstForm, firstType) = Multipart((policy, first));
        await hosts.AssertSameAsync("documents", key, firstForm, firstType, 202);
        Assert.Equal(IngestionStates.Processed, await ingest.IngestAsync(container.GetBlobClient(policy), policy, ct));
        var (revisedForm, revisedType) = Multipart((policy, revised));
        var second = JsonNode.Parse(await hosts.AssertSameAsync("documents", key, revisedForm, revisedType, 202))!;
        Assert.Equal(policy, second["fileName"]!.GetValue<string>());
        Assert.Equal(revised, await File.ReadAllTextAsync(Path.Combine(hosts.InboxFolder, policy), ct));
        Assert.Single(Directory.EnumerateFiles(hosts.InboxFolder, "policy-*"));
        Assert.Equal(IngestionStates.Processed, await ingest.IngestAsync(container.GetBlobClient(policy), policy, ct));
        var current = await store.GetCurrentByNameAsync(policy, ct);
        Assert.Equal(2, current?.Version);
        Assert.Equal(ApiKeys.Hash(revised), current!.Sha256);

        // Every accepted file is in the audit log, from each host: the key's id, the name, size and SHA-256.
        var reviews = hosts.Functions.GetRequiredService<IReviewStore>();
        var uploads = (await reviews.ListAuditAsync(0, 1000, ct)).Where(e => e.Action == "document.upload" && e.Actor == reviewer.Record.Id).ToArray();
        Assert.Equal(2 * 4, uploads.Length); // two hosts × (two files + two versions); nothing for the refused forms
        Assert.Equal(2, uploads.Count(e => e.Target == names[0]));
        var last = JsonNode.Parse(uploads[^1].After!)!;
        Assert.Equal(policy, last["name"]!.GetValue<string>());
        Assert.Equal(Encoding.UTF8.GetByteCount(revised), last["size"]!.GetValue<long>());
        Assert.Equal(ApiKeys.Hash(revised), last["sha256"]!.GetValue<string>());
    }

    [Fact]
    public async Task Key_creation_answers_the_same_in_both_hosts()
    {
        azurite.Require();
        var hosts = await HostsAsync();
        var ct = TestContext.Current.CancellationToken;
        var reviewer = (await hosts.Keys.CreateAsync(ApiRole.Reviewer, "test", ct)).Key;
        var json = "application/json";

        await hosts.AssertSameAsync("keys", null, Encoding.UTF8.GetBytes("""{"role":"reader"}"""), json, 401);
        await hosts.AssertSameAsync("keys", reviewer, Encoding.UTF8.GetBytes("""{"role":"reader"}"""), json, 403);
        await hosts.AssertSameAsync("keys", AdminKey, Encoding.UTF8.GetBytes("""{"role":"owner"}"""), json, 400);
        await hosts.AssertSameAsync("keys", AdminKey, Encoding.UTF8.GetBytes("""{"role":"2"}"""), json, 400);

        // Created: the same shape (the id and the key are new each time); each new key works in both hosts.
        var (apiStatus, _, apiBody) = await hosts.CallApiAsync("keys", AdminKey, Encoding.UTF8.GetBytes("""{"role":"reviewer"}"""), json);
        var (fnStatus, _, fnBody) = await hosts.CallFunctionAsync("keys", AdminKey, Encoding.UTF8.GetBytes("""{"role":"reviewer"}"""), json);
        Assert.Equal(201, apiStatus);
        Assert.Equal(201, fnStatus);
        var fromApi = JsonNode.Parse(apiBody)!.AsObject();
        var fromFunction = JsonNode.Parse(fnBody)!.AsObject();
        Assert.Equal(fromApi.Select(kv => kv.Key), fromFunction.Select(kv => kv.Key));
        Assert.Equal("reviewer", fromFunction["role"]!.GetValue<string>());
        var created = fromFunction["key"]!.GetValue<string>();
        Assert.StartsWith("aims_", created, StringComparison.Ordinal);
        Assert.Equal(ApiRole.Reviewer, (await hosts.Keys.FindAsync(ApiKeys.Hash(created), ct))?.Role);

        var (form, formType) = Multipart($"note-{Guid.NewGuid():N}.md", "# Note\n\nA short note.\n");
        await hosts.AssertSameAsync("documents", created, form, formType, 202);
        await hosts.AssertSameAsync("keys", fromApi["key"]!.GetValue<string>(), Encoding.UTF8.GetBytes("""{"role":"reader"}"""), json, 403);
    }

    [Fact]
    public async Task Review_answers_the_same_in_both_hosts_and_changes_the_evidence()
    {
        azurite.Require();
        var hosts = await HostsAsync();
        var ct = TestContext.Current.CancellationToken;
        var reader = (await hosts.Keys.CreateAsync(ApiRole.Reader, "test", ct)).Key;
        var reviewer = await hosts.Keys.CreateAsync(ApiRole.Reviewer, "test", ct);
        var name = $"risk-{Guid.NewGuid():N}.md";
        var outcome = await hosts.Functions.GetRequiredService<Core.Pipeline.IDocumentIngestor>().IngestAsync(
            name,
            Encoding.UTF8.GetBytes("# AI risk assessment\n\n## Method\n\nAI risks are identified for each AI system, analysed for likelihood and consequence, and evaluated against the risk criteria approved by management. The risk assessment is repeated at planned intervals and when significant changes occur.\n"),
            ct);
        var store = hosts.Functions.GetRequiredService<TableEvidenceStore>();
        var mapping = (await store.GetPassagesAsync(outcome.Document!.Id, ct)).SelectMany(p => p.Mappings).First();
        var route = $"mappings/{mapping.Id}/review";
        var json = "application/json";
        byte[] Body(string text) => Encoding.UTF8.GetBytes(text);

        await hosts.AssertSameAsync(route, null, Body("""{"decision":"accept"}"""), json, 401);
        await hosts.AssertSameAsync(route, reader, Body("""{"decision":"accept"}"""), json, 403);
        await hosts.AssertSameAsync(route, reviewer.Key, Body("""{"decision":"maybe"}"""), json, 400);
        await hosts.AssertSameAsync(route, reviewer.Key, Body($$"""{"decision":"accept","comment":"{{new string('x', 2001)}}"}"""), json, 400);
        await hosts.AssertSameAsync($"mappings/{mapping.Id}9/review", reviewer.Key, Body("""{"decision":"accept"}"""), json, 404);
        await hosts.AssertSameAsync("mappings/nodash/review", reviewer.Key, Body("""{"decision":"accept"}"""), json, 404);

        var accepted = JsonNode.Parse(await hosts.AssertSameAsync(route, reviewer.Key, Body("""{"decision":"accept","comment":"checked"}"""), json, 200))!;
        Assert.Equal(mapping.Id, accepted["id"]!.GetValue<string>());
        Assert.Equal("accepted", accepted["review"]!.GetValue<string>());

        // Rejected through the function: the evidence row and the passage's copy both change, the audit has the actor.
        var (status, _, rejected) = await hosts.CallFunctionAsync(route, reviewer.Key, Body("""{"decision":"reject","comment":"not about risk"}"""), json);
        Assert.Equal(200, status);
        Assert.Equal("rejected", JsonNode.Parse(rejected)!["review"]!.GetValue<string>());
        Assert.DoesNotContain(await store.GetEvidenceAsync(mapping.ControlId, ct), l => l.Mapping.Id == mapping.Id);
        var copy = (await store.GetPassagesAsync(outcome.Document.Id, ct)).SelectMany(p => p.Mappings).Single(m => m.Id == mapping.Id);
        Assert.Equal(ReviewState.Rejected, copy.Review);
        var audit = (await store.ListAuditAsync(0, 1000, ct)).Where(a => a.Target == mapping.Id).ToList();
        Assert.Equal(3, audit.Count); // API accept, function accept, function reject
        Assert.All(audit, a => Assert.Equal(reviewer.Record.Id, a.Actor));
        Assert.Contains("not about risk", audit[^1].After, StringComparison.Ordinal);
    }

    private static async Task<(TableEvidenceStore Store, DocumentRecord Document, PassageRecord Passage)> IngestAsync(Hosts hosts, CancellationToken ct)
    {
        var outcome = await hosts.Functions.GetRequiredService<Core.Pipeline.IDocumentIngestor>().IngestAsync(
            $"risk-{Guid.NewGuid():N}.md",
            Encoding.UTF8.GetBytes("# AI risk assessment\n\n## Method\n\nAI risks are identified for each AI system, analysed for likelihood and consequence, and evaluated against the risk criteria approved by management. The risk assessment is repeated at planned intervals and when significant changes occur.\n"),
            ct);
        var store = hosts.Functions.GetRequiredService<TableEvidenceStore>();
        var passage = (await store.GetPassagesAsync(outcome.Document!.Id, ct))[0].Passage;
        return (store, outcome.Document, passage);
    }

    [Fact]
    public async Task Effective_date_answers_the_same_in_both_hosts_and_is_stored_and_audited()
    {
        azurite.Require();
        var hosts = await HostsAsync();
        var ct = TestContext.Current.CancellationToken;
        var reader = (await hosts.Keys.CreateAsync(ApiRole.Reader, "test", ct)).Key;
        var reviewer = await hosts.Keys.CreateAsync(ApiRole.Reviewer, "test", ct);
        var (store, document, _) = await IngestAsync(hosts, ct);
        var route = $"documents/{document.Id}/effective-date";
        var json = "application/json";
        byte[] Body(string text) => Encoding.UTF8.GetBytes(text);

        await hosts.AssertSameAsync(HttpMethods.Put, route, null, Body("""{"effectiveDate":"2026-03-01"}"""), json, 401);
        await hosts.AssertSameAsync(HttpMethods.Put, route, reader, Body("""{"effectiveDate":"2026-03-01"}"""), json, 403);
        await hosts.AssertSameAsync(HttpMethods.Put, route, reviewer.Key, Body("""{"effectiveDate":"2026-13-01"}"""), json, 400);
        await hosts.AssertSameAsync(HttpMethods.Put, route, reviewer.Key, Body("""{"effectiveDate":"1 March 2026"}"""), json, 400);
        await hosts.AssertSameAsync(HttpMethods.Put, $"documents/{document.Id}x/effective-date", reviewer.Key, Body("""{"effectiveDate":"2026-03-01"}"""), json, 404);

        var set = JsonNode.Parse(await hosts.AssertSameAsync(HttpMethods.Put, route, reviewer.Key, Body("""{"effectiveDate":"2026-03-01"}"""), json, 200))!;
        Assert.Equal(document.Id, set["id"]!.GetValue<string>());
        Assert.Equal("2026-03-01", set["effectiveDate"]!.GetValue<string>());
        Assert.Equal(new DateOnly(2026, 3, 1), (await store.GetDocumentAsync(document.Id, ct))!.EffectiveDate);

        // An empty date clears it.
        var cleared = JsonNode.Parse(await hosts.AssertSameAsync(HttpMethods.Put, route, reviewer.Key, Body("""{"effectiveDate":""}"""), json, 200))!;
        Assert.Null(cleared["effectiveDate"]);
        Assert.Null((await store.GetDocumentAsync(document.Id, ct))!.EffectiveDate);

        var audit = (await store.ListAuditAsync(0, 1000, ct)).Where(a => a.Target == document.Id).ToList();
        Assert.Equal(4, audit.Count); // set and cleared, each in both hosts
        Assert.All(audit, a => Assert.Equal("document.effective-date", a.Action));
        Assert.All(audit, a => Assert.Equal(reviewer.Record.Id, a.Actor));
        Assert.Contains("2026-03-01", audit[0].After, StringComparison.Ordinal);
        Assert.Contains("2026-03-01", audit[2].Before, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Applicability_answers_the_same_in_both_hosts_is_audited_and_takes_the_entry_out_of_the_gaps()
    {
        azurite.Require();
        var hosts = await HostsAsync();
        var ct = TestContext.Current.CancellationToken;
        var reader = (await hosts.Keys.CreateAsync(ApiRole.Reader, "test", ct)).Key;
        var reviewer = await hosts.Keys.CreateAsync(ApiRole.Reviewer, "test", ct);
        var json = "application/json";
        byte[] Body(string text) => Encoding.UTF8.GetBytes(text);
        const string Route = "controls/A.10.4/applicability";
        const string Exclude = """{"applicable":false,"justification":"We sell no AI system to customers."}""";

        await hosts.AssertSameAsync(HttpMethods.Put, Route, null, Body(Exclude), json, 401);
        await hosts.AssertSameAsync(HttpMethods.Put, Route, reader, Body(Exclude), json, 403);
        await hosts.AssertSameAsync(HttpMethods.Put, Route, reviewer.Key, Body("""{"justification":"no decision"}"""), json, 400);
        await hosts.AssertSameAsync(HttpMethods.Put, Route, reviewer.Key, Body("""{"applicable":false}"""), json, 400);
        await hosts.AssertSameAsync(HttpMethods.Put, "controls/Z.9/applicability", reviewer.Key, Body(Exclude), json, 404);
        await hosts.AssertSameAsync(HttpMethods.Put, "controls/9.2/applicability", reviewer.Key, Body(Exclude), json, 404); // a container

        var (apiStatus, _, apiBody) = await hosts.CallApiAsync(HttpMethods.Put, Route, reviewer.Key, Body(Exclude), json);
        var (fnStatus, _, fnBody) = await hosts.CallFunctionAsync(HttpMethods.Put, Route, reviewer.Key, Body(Exclude), json);
        Assert.Equal(200, apiStatus);
        Assert.Equal(200, fnStatus);
        foreach (var body in new[] { apiBody, fnBody })
        {
            var view = JsonNode.Parse(body)!;
            Assert.Equal("A.10.4", view["controlId"]!.GetValue<string>());
            Assert.False(view["applicable"]!.GetValue<bool>());
            Assert.Equal(reviewer.Record.Id, view["actor"]!.GetValue<string>());
        }

        // The gap report (read through the API host over the same tables) shows it excluded, out of the default gap list.
        var (status, _, control) = await hosts.CallApiAsync(HttpMethods.Get, "controls/A.10.4", reader, null, null);
        Assert.Equal(200, status);
        Assert.Equal("notApplicable", JsonNode.Parse(control)!["control"]!["status"]!.GetValue<string>());
        var (_, _, gaps) = await hosts.CallApiAsync(HttpMethods.Get, "gaps?limit=500", reader, null, null);
        Assert.DoesNotContain(JsonNode.Parse(gaps)!["items"]!.AsArray(), i => i!["id"]!.GetValue<string>() == "A.10.4");

        var audit = (await hosts.Both.Functions.GetRequiredService<IReviewStore>().ListAuditAsync(0, 1000, ct)).Where(a => a.Target == "A.10.4").ToList();
        Assert.Equal(2, audit.Count);
        Assert.All(audit, a => Assert.Equal("control.applicability", a.Action));
        Assert.Contains("We sell no AI system", audit[1].After, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Owners_and_tasks_answer_the_same_in_both_hosts_and_owner_changes_are_audited()
    {
        azurite.Require();
        var hosts = await HostsAsync();
        var ct = TestContext.Current.CancellationToken;
        var reader = (await hosts.Keys.CreateAsync(ApiRole.Reader, "test", ct)).Key;
        var reviewer = await hosts.Keys.CreateAsync(ApiRole.Reviewer, "test", ct);
        var json = "application/json";
        byte[] Body(string text) => Encoding.UTF8.GetBytes(text);
        const string Route = "controls/A.6.2.2/owner";
        const string Assign = """{"owner":"alice@example.org","dueDate":"2020-01-31"}""";

        await hosts.AssertSameAsync(HttpMethods.Put, Route, null, Body(Assign), json, 401);
        await hosts.AssertSameAsync(HttpMethods.Put, Route, reader, Body(Assign), json, 403);
        await hosts.AssertSameAsync(HttpMethods.Delete, Route, reader, null, null, 403);
        await hosts.AssertSameAsync(HttpMethods.Put, Route, reviewer.Key, Body("""{"owner":"alice","dueDate":"31/01/2020"}"""), json, 400);
        await hosts.AssertSameAsync(HttpMethods.Put, Route, reviewer.Key, Body("""{"owner":"alice","dueDate":"2027-02-30"}"""), json, 400);
        await hosts.AssertSameAsync(HttpMethods.Put, Route, reviewer.Key, Body("""{"owner":"   "}"""), json, 400);
        await hosts.AssertSameAsync(HttpMethods.Put, Route, reviewer.Key, Body($$"""{"owner":"{{new string('x', 201)}}"}"""), json, 400);
        await hosts.AssertSameAsync(HttpMethods.Put, Route, reviewer.Key, Body("""{"dueDate":"2027-01-31"}"""), json, 400);
        await hosts.AssertSameAsync(HttpMethods.Put, "controls/Z.9/owner", reviewer.Key, Body(Assign), json, 404);
        await hosts.AssertSameAsync(HttpMethods.Put, "controls/9.2/owner", reviewer.Key, Body(Assign), json, 404); // a container
        await hosts.AssertSameAsync(HttpMethods.Delete, "controls/Z.9/owner", reviewer.Key, null, null, 404);
        await hosts.AssertSameAsync(HttpMethods.Get, "tasks", null, null, null, 401);
        await hosts.AssertSameAsync(HttpMethods.Get, "tasks?status=late", reader, null, null, 400);

        // One owner set through each host: the same view.
        var (apiStatus, _, apiBody) = await hosts.CallApiAsync(HttpMethods.Put, Route, reviewer.Key, Body(Assign), json);
        var (fnStatus, _, fnBody) = await hosts.CallFunctionAsync(HttpMethods.Put, "controls/A.2.2/owner", reviewer.Key, Body("""{"owner":" bob "}"""), json);
        Assert.Equal(200, apiStatus);
        Assert.Equal(200, fnStatus);
        var alice = JsonNode.Parse(apiBody)!;
        Assert.Equal(("A.6.2.2", "alice@example.org", "2020-01-31", reviewer.Record.Id), (alice["controlId"]!.GetValue<string>(), alice["owner"]!.GetValue<string>(), alice["dueDate"]!.GetValue<string>(), alice["actor"]!.GetValue<string>()));
        var bob = JsonNode.Parse(fnBody)!;
        Assert.Equal("bob", bob["owner"]!.GetValue<string>());
        Assert.Null(bob["dueDate"]);

        // Both are open tasks (the store is empty: every entry is missing); alice's is overdue. The same JSON in both hosts.
        var all = JsonNode.Parse(await hosts.AssertSameAsync(HttpMethods.Get, "tasks", reader, null, null, 200))!;
        Assert.Equal((2, 1), (all["open"]!.GetValue<int>(), all["overdue"]!.GetValue<int>()));
        var first = all["items"]![0]!;
        Assert.Equal(("A.6.2.2", "missing", "alice@example.org", "2020-01-31", true), (first["entryId"]!.GetValue<string>(), first["status"]!.GetValue<string>(), first["owner"]!.GetValue<string>(), first["dueDate"]!.GetValue<string>(), first["overdue"]!.GetValue<bool>()));
        Assert.False(all["items"]![1]!["overdue"]!.GetValue<bool>());
        var overdue = JsonNode.Parse(await hosts.AssertSameAsync(HttpMethods.Get, "tasks?status=overdue", reader, null, null, 200))!;
        Assert.Equal(["A.6.2.2"], overdue["items"]!.AsArray().Select(t => t!["entryId"]!.GetValue<string>()));
        Assert.Equal(2, JsonNode.Parse(await hosts.AssertSameAsync(HttpMethods.Get, "tasks?status=open", reader, null, null, 200))!["items"]!.AsArray().Count);

        // The entry carries its owner.
        var (_, _, control) = await hosts.CallApiAsync(HttpMethods.Get, "controls/A.6.2.2", reader, null, null);
        Assert.Equal("alice@example.org", JsonNode.Parse(control)!["control"]!["owner"]!.GetValue<string>());
        Assert.Equal("2020-01-31", JsonNode.Parse(control)!["control"]!["ownerDueDate"]!.GetValue<string>());

        // Cleared by DELETE in one host and {"owner":null} in the other: 204, no tasks left.
        Assert.Equal(204, (await hosts.CallFunctionAsync(HttpMethods.Delete, Route, reviewer.Key, null, null)).Status);
        Assert.Equal(204, (await hosts.CallApiAsync(HttpMethods.Put, "controls/A.2.2/owner", reviewer.Key, Body("""{"owner":null}"""), json)).Status);
        await hosts.AssertSameAsync(HttpMethods.Delete, Route, reviewer.Key, null, null, 204); // already cleared: still 204
        Assert.Equal(0, JsonNode.Parse(await hosts.AssertSameAsync(HttpMethods.Get, "tasks", reader, null, null, 200))!["open"]!.GetValue<int>());

        var audit = (await hosts.Both.Functions.GetRequiredService<IReviewStore>().ListAuditAsync(0, 1000, ct)).Where(a => a.Action == "control.owner").ToList();
        Assert.Equal(["A.6.2.2", "A.2.2", "A.6.2.2", "A.2.2"], audit.Select(a => a.Target));
        Assert.All(audit, a => Assert.Equal(reviewer.Record.Id, a.Actor));
        Assert.Null(audit[2].After);
    }

    [Fact]
    public async Task Ai_system_inventory_answers_the_same_in_both_hosts_and_edits_are_kept_and_audited()
    {
        azurite.Require();
        var hosts = await HostsAsync();
        var ct = TestContext.Current.CancellationToken;
        var reader = (await hosts.Keys.CreateAsync(ApiRole.Reader, "test", ct)).Key;
        var reviewer = await hosts.Keys.CreateAsync(ApiRole.Reviewer, "test", ct);
        await hosts.Functions.GetRequiredService<Core.Pipeline.IDocumentIngestor>().IngestAsync(
            $"card-{Guid.NewGuid():N}.md",
            Encoding.UTF8.GetBytes("# Model Card for Contoso Vision 2\n\n## Model Details\n\nContoso Vision 2 is a model that classifies photographs of road damage for the maintenance team. It was trained on municipal street images.\n"),
            ct);
        var json = "application/json";
        byte[] Body(string text) => Encoding.UTF8.GetBytes(text);

        await hosts.AssertSameAsync(HttpMethods.Get, "ai-systems", null, null, null, 401);
        var list = JsonNode.Parse(await hosts.AssertSameAsync(HttpMethods.Get, "ai-systems", reader, null, null, 200))!;
        var system = list["systems"]!.AsArray().Single(s => s!["name"]!.GetValue<string>() == "Contoso Vision 2")!;
        var id = system["id"]!.GetValue<string>();
        Assert.EndsWith("p. 1, \u00a7 Model Details", system["documents"]![0]!["citation"]!.GetValue<string>(), StringComparison.Ordinal);
        await hosts.AssertSameAsync(HttpMethods.Get, $"ai-systems/{id}", reader, null, null, 200);
        await hosts.AssertSameAsync(HttpMethods.Get, "ai-systems/ais-none", reader, null, null, 404);

        var edits = $"ai-systems/{id}/edits";
        await hosts.AssertSameAsync(edits, null, Body("""{"action":"confirm"}"""), json, 401);
        await hosts.AssertSameAsync(edits, reader, Body("""{"action":"confirm"}"""), json, 403);
        await hosts.AssertSameAsync(edits, reviewer.Key, Body("""{"action":"explode"}"""), json, 400);
        await hosts.AssertSameAsync(edits, reviewer.Key, Body("""{"action":"rename","name":" "}"""), json, 400);
        await hosts.AssertSameAsync(edits, reviewer.Key, Body("""{"action":"merge","targetId":"ais-none"}"""), json, 400);
        await hosts.AssertSameAsync("ai-systems/ais-none/edits", reviewer.Key, Body("""{"action":"confirm"}"""), json, 404);
        await hosts.AssertSameAsync("ai-systems", reader, Body("""{"name":"Hand Tool"}"""), json, 403);
        await hosts.AssertSameAsync("ai-systems", reviewer.Key, Body("""{"name":"Hand Tool","role":"owner"}"""), json, 400);

        // A rename through the API and a system added through the function: both hosts then list the same inventory.
        var (renameStatus, _, renamed) = await hosts.CallApiAsync(HttpMethods.Post, edits, reviewer.Key, Body("""{"action":"rename","name":"Contoso Road Vision"}"""), json);
        Assert.Equal(200, renameStatus);
        Assert.Equal(("Contoso Road Vision", id, true), (JsonNode.Parse(renamed)!["name"]!.GetValue<string>(), JsonNode.Parse(renamed)!["id"]!.GetValue<string>(), JsonNode.Parse(renamed)!["confirmed"]!.GetValue<bool>()));
        var (addStatus, _, added) = await hosts.CallFunctionAsync(HttpMethods.Post, "ai-systems", reviewer.Key, Body("""{"name":"Hand Tool","purpose":"drafts letters","role":"user"}"""), json);
        Assert.Equal(201, addStatus);
        Assert.Equal("manual", JsonNode.Parse(added)!["source"]!.GetValue<string>());
        await hosts.AssertSameAsync("ai-systems", reviewer.Key, Body("""{"name":"hand tool"}"""), json, 409);
        var after = JsonNode.Parse(await hosts.AssertSameAsync(HttpMethods.Get, "ai-systems", reader, null, null, 200))!["systems"]!.AsArray();
        Assert.Contains(after, s => s!["name"]!.GetValue<string>() == "Contoso Road Vision" && s["aliases"]!.AsArray().Any(a => a!.GetValue<string>() == "Contoso Vision 2"));
        Assert.Contains(after, s => s!["name"]!.GetValue<string>() == "Hand Tool");

        var audit = (await hosts.Both.Functions.GetRequiredService<IReviewStore>().ListAuditAsync(0, 1000, ct)).Where(a => a.Action.StartsWith("aisystem.", StringComparison.Ordinal)).ToList();
        Assert.Equal(["aisystem.rename", "aisystem.add"], audit.Select(a => a.Action));
        Assert.All(audit, a => Assert.Equal(reviewer.Record.Id, a.Actor));
    }

    [Fact]
    public async Task Manual_mapping_answers_the_same_in_both_hosts_and_becomes_evidence()
    {
        azurite.Require();
        var hosts = await HostsAsync();
        var ct = TestContext.Current.CancellationToken;
        var reader = (await hosts.Keys.CreateAsync(ApiRole.Reader, "test", ct)).Key;
        var reviewer = await hosts.Keys.CreateAsync(ApiRole.Reviewer, "test", ct);
        var (store, document, passage) = await IngestAsync(hosts, ct);
        var route = $"passages/{passage.Id}/mappings";
        var json = "application/json";
        byte[] Body(string text) => Encoding.UTF8.GetBytes(text);

        await hosts.AssertSameAsync(route, null, Body("""{"controlId":"6.1.2"}"""), json, 401);
        await hosts.AssertSameAsync(route, reader, Body("""{"controlId":"6.1.2"}"""), json, 403);
        await hosts.AssertSameAsync(route, reviewer.Key, Body("""{"controlId":"Z.9.9"}"""), json, 400);
        await hosts.AssertSameAsync(route, reviewer.Key, Body("""{"controlId":"6.1"}"""), json, 400); // a container
        await hosts.AssertSameAsync(route, reviewer.Key, Body("""{}"""), json, 400);
        await hosts.AssertSameAsync(route, reviewer.Key, Body($$"""{"controlId":"6.1.2","rationale":"{{new string('x', 2001)}}"}"""), json, 400);
        await hosts.AssertSameAsync($"passages/{passage.Id}9/mappings", reviewer.Key, Body("""{"controlId":"6.1.2"}"""), json, 404);
        await hosts.AssertSameAsync("passages/nodash/mappings", reviewer.Key, Body("""{"controlId":"6.1.2"}"""), json, 404);

        // Created in both (one per host, for two entries): the same 201 body but for the id and the entry.
        var request = Body("""{"controlId":" 6.1.2 ","rationale":"describes the risk assessment method"}""");
        var (apiStatus, apiType, apiBody) = await hosts.CallApiAsync(route, reviewer.Key, request, json);
        var (fnStatus, fnType, fnBody) = await hosts.CallFunctionAsync(route, reviewer.Key, Body("""{"controlId":" 6.1.3 ","rationale":"describes the risk assessment method"}"""), json);
        Assert.Equal(201, apiStatus);
        Assert.Equal(201, fnStatus);
        Assert.Equal(apiType, fnType);
        var fromApi = JsonNode.Parse(apiBody)!.AsObject();
        var fromFunction = JsonNode.Parse(fnBody)!.AsObject();
        var apiId = fromApi["id"]!.GetValue<string>();
        var fnId = fromFunction["id"]!.GetValue<string>();
        Assert.NotEqual(apiId, fnId);
        Assert.Equal("6.1.2", fromApi["controlId"]!.GetValue<string>());
        Assert.Equal("6.1.3", fromFunction["controlId"]!.GetValue<string>());
        foreach (var body in new[] { fromApi, fromFunction })
        {
            body.Remove("id");
            body.Remove("controlId");
        }

        Assert.True(JsonNode.DeepEquals(fromApi, fromFunction), $"bodies differ:\n{apiBody}\n{fnBody}");
        Assert.Equal("manual", fromFunction["method"]!.GetValue<string>());
        Assert.Equal("accepted", fromFunction["review"]!.GetValue<string>());
        Assert.Equal("supports", fromFunction["polarity"]!.GetValue<string>());

        // The same manual mapping again, through either host, is the one already there: no second row.
        var (againStatus, _, againBody) = await hosts.CallFunctionAsync(route, reviewer.Key, request, json);
        Assert.Equal(201, againStatus);
        Assert.Equal(apiId, JsonNode.Parse(againBody)!["id"]!.GetValue<string>());
        await hosts.AssertSameAsync(route, reviewer.Key, Body("""{"controlId":"6.1.2","polarity":"maybe"}"""), json, 400);

        // Both are evidence and in the passage's copy; the function's can be reviewed like any mapping.
        var evidence = await store.GetEvidenceAsync("6.1.2", ct);
        Assert.Contains(evidence, l => l.Mapping.Id == apiId && l.Passage.Id == passage.Id);
        Assert.Single(evidence, l => l.Mapping.Method == "manual");
        Assert.Contains(await store.GetEvidenceAsync("6.1.3", ct), l => l.Mapping.Id == fnId && l.Mapping.Method == "manual");
        var copies = (await store.GetPassagesAsync(document.Id, ct)).Single(p => p.Passage.Id == passage.Id).Mappings;
        Assert.Contains(copies, m => m.Id == apiId);
        Assert.Contains(copies, m => m.Id == fnId);
        Assert.Equal("describes the risk assessment method", (await store.GetMappingAsync(fnId, ct))?.Rationale);
        await hosts.AssertSameAsync($"mappings/{fnId}/review", reviewer.Key, Body("""{"decision":"reject"}"""), json, 200);
        Assert.DoesNotContain(await store.GetEvidenceAsync("6.1.3", ct), l => l.Mapping.Id == fnId);

        var audit = (await store.ListAuditAsync(0, 1000, ct)).Where(a => a.Action == "mapping.add").ToList();
        Assert.Equal([apiId, fnId], audit.Select(a => a.Target));
        Assert.All(audit, a => Assert.Equal(reviewer.Record.Id, a.Actor));
    }

    [Fact]
    public async Task Audit_log_answers_the_same_in_both_hosts_and_pages_through_every_entry()
    {
        azurite.Require();
        var hosts = await HostsAsync();
        var ct = TestContext.Current.CancellationToken;
        var reader = (await hosts.Keys.CreateAsync(ApiRole.Reader, "test", ct)).Key;
        var json = "application/json";

        // Five audited key creations, alternating hosts: each host's POST /keys goes through the audited review store.
        for (var i = 0; i < 5; i++)
        {
            var call = i % 2 == 0 ? hosts.CallApiAsync("keys", AdminKey, Encoding.UTF8.GetBytes("""{"role":"reader"}"""), json) : hosts.CallFunctionAsync("keys", AdminKey, Encoding.UTF8.GetBytes("""{"role":"reader"}"""), json);
            Assert.Equal(201, (await call).Status);
        }

        await hosts.AssertSameAsync(HttpMethods.Get, "audit-log", null, null, null, 401);
        await hosts.AssertSameAsync(HttpMethods.Get, "audit-log?limit=0", reader, null, null, 400);
        await hosts.AssertSameAsync(HttpMethods.Get, "audit-log?continuationToken=not-a-token", reader, null, null, 400);

        var ids = new List<long>();
        string? token = null;
        var pages = 0;
        do
        {
            var route = "audit-log?limit=2" + (token is null ? string.Empty : "&continuationToken=" + Uri.EscapeDataString(token));
            var page = JsonNode.Parse(await hosts.AssertSameAsync(HttpMethods.Get, route, reader, null, null, 200))!;
            var items = page["items"]!.AsArray();
            Assert.InRange(items.Count, 1, 2);
            foreach (var item in items)
            {
                ids.Add(item!["id"]!.GetValue<long>());
                Assert.Equal("apikey.create", item["action"]!.GetValue<string>());
                Assert.Equal(TableApiKeyStore.BootstrapAdminId, item["actor"]!.GetValue<string>());
                Assert.DoesNotContain("aims_", item["after"]!.GetValue<string>(), StringComparison.Ordinal); // never the key
            }

            token = page["continuationToken"]?.GetValue<string>();
            pages++;
        }
        while (token is not null);

        Assert.Equal(3, pages);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], ids);
    }

    private sealed class Hosts : IAsyncDisposable
    {
        public required ContractHosts Both { get; init; }

        public required WriteApiFunctions Write { get; init; }

        public required string InboxFolder { get; init; }

        public ServiceProvider Functions => Both.Functions;

        public TableApiKeyStore Keys => Both.Functions.GetRequiredService<TableApiKeyStore>();

        public static async Task<Hosts> CreateAsync(AzuriteFixture azurite, CancellationToken ct)
        {
            var settings = new Dictionary<string, string?>
            {
                ["Aims:Azure:AdminKeySha256"] = ApiKeys.Hash(AdminKey),
                ["Aims:Api:MaxUploadBytes"] = MaxUpload.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            var inbox = Directory.CreateTempSubdirectory("aims-write-contract-").FullName;
            var both = await ContractHosts.CreateAsync(
                azurite,
                settings,
                o =>
                {
                    o.InboxPath = inbox;
                    o.MaxUploadBytes = MaxUpload;
                },
                functions => functions.GetRequiredService<IReviewStore>(),
                ct,
                services => services.AddSingleton<IngestBlobFunction>());
            return new Hosts
            {
                Both = both,
                Write = ActivatorUtilities.CreateInstance<WriteApiFunctions>(both.Functions),
                InboxFolder = inbox,
            };
        }

        /// <summary>Sends the same request to both hosts; asserts the status and the body (problem bodies without their trace id) agree.</summary>
        public Task<string> AssertSameAsync(string route, string? key, byte[] body, string contentType, int expected) =>
            AssertSameAsync(HttpMethods.Post, route, key, body, contentType, expected);

        public async Task<string> AssertSameAsync(string method, string route, string? key, byte[]? body, string? contentType, int expected)
        {
            var (apiStatus, apiType, apiBody) = await CallApiAsync(method, route, key, body, contentType);
            var (fnStatus, fnType, fnBody) = await CallFunctionAsync(method, route, key, body, contentType);
            Assert.Equal(expected, apiStatus);
            Assert.Equal(expected, fnStatus);
            Assert.Equal(apiType, fnType);
            if (expected >= 400 && apiBody.Length > 0)
            {
                Assert.True(JsonNode.DeepEquals(WithoutTraceId(apiBody), WithoutTraceId(fnBody)), $"problem bodies differ:\n{apiBody}\n{fnBody}");
            }
            else
            {
                Assert.Equal(apiBody, fnBody);
            }

            return fnBody;
        }

        public Task<(int Status, string? ContentType, string Body)> CallApiAsync(string route, string? key, byte[] body, string contentType) =>
            CallApiAsync(HttpMethods.Post, route, key, body, contentType);

        public async Task<(int Status, string? ContentType, string Body)> CallApiAsync(string method, string route, string? key, byte[]? body, string? contentType)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), "/api/v1/" + route);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType!);
            }

            if (key is not null)
            {
                request.Headers.Add(ApiKeyAuthenticationHandler.HeaderName, key);
            }

            using var response = await Both.Api.SendAsync(request, TestContext.Current.CancellationToken);
            return ((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        /// <summary>Calls the function as the worker's ASP.NET Core integration would: an HttpRequest in, the IResult executed on its context.</summary>
        public Task<(int Status, string? ContentType, string Body)> CallFunctionAsync(string route, string? key, byte[] body, string contentType) =>
            CallFunctionAsync(HttpMethods.Post, route, key, body, contentType);

        public async Task<(int Status, string? ContentType, string Body)> CallFunctionAsync(string method, string route, string? key, byte[]? body, string? contentType)
        {
            var ct = TestContext.Current.CancellationToken;
            var (status, type, text, _) = await Both.InvokeFunctionAsync(method, route, key, body, contentType, async (request, segments) => (method, segments) switch
            {
                ("POST", ["documents"]) => await Write.UploadDocument(request, ct),
                ("POST", ["keys"]) => await Write.CreateKey(request, ct),
                ("POST", ["mappings", var id, "review"]) => await Write.ReviewMapping(request, id, ct),
                ("POST", ["passages", var id, "mappings"]) => await Write.AddManualMapping(request, id, ct),
                ("PUT", ["documents", var id, "effective-date"]) => await Write.SetEffectiveDate(request, id, ct),
                ("PUT", ["controls", var id, "applicability"]) => await Write.SetApplicability(request, id, ct),
                ("PUT", ["controls", var id, "owner"]) => await Write.SetOwner(request, id, ct),
                ("DELETE", ["controls", var id, "owner"]) => await Write.ClearOwner(request, id, ct),
                ("GET", ["tasks"]) => await Write.ListTasks(request, ct),
                ("GET", ["ai-systems"]) => await Write.ListAiSystems(request, ct),
                ("GET", ["ai-systems", var id]) => await Write.GetAiSystem(request, id, ct),
                ("POST", ["ai-systems"]) => await Write.AddAiSystem(request, ct),
                ("POST", ["ai-systems", var id, "edits"]) => await Write.EditAiSystem(request, id, ct),
                ("GET", ["audit-log"]) => await Write.AuditLog(request, ct),
                _ => throw new ArgumentException($"no function for {method} {route}", nameof(route)),
            });
            return (status, type, text);
        }

        public async ValueTask DisposeAsync()
        {
            await Both.DisposeAsync();
            Directory.Delete(InboxFolder, recursive: true);
        }

        private static JsonObject WithoutTraceId(string body)
        {
            var node = JsonNode.Parse(body)!.AsObject();
            node.Remove("traceId");
            return node;
        }
    }
}
