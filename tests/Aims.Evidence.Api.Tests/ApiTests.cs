using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aims.Evidence.Core.Catalog;

namespace Aims.Evidence.Api.Tests;

[Trait(Tiers.Name, Tiers.Integration)]
public sealed class ApiTests(ApiFixture fx) : IClassFixture<ApiFixture>
{
    private static readonly string[] AnnexA = IsoCatalog.Default.Entries.Where(e => e.Kind == EntryKind.Control && !e.Container).Select(e => e.Id).ToArray();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonNode> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        return JsonNode.Parse(text) ?? throw new InvalidOperationException("empty body");
    }

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("\"status\":" + (int)status, body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("SELECT", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_and_openapi_are_open_everything_else_needs_a_key()
    {
        using var anonymous = fx.Client();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/api/v1/health", Ct)).StatusCode);
        await AssertProblem(await anonymous.GetAsync("/api/v1/controls", Ct), HttpStatusCode.Unauthorized);
        using var wrong = fx.Client("aims_not-a-real-key");
        await AssertProblem(await wrong.GetAsync("/api/v1/controls", Ct), HttpStatusCode.Unauthorized);
        using var reader = fx.Client(fx.ReaderKey);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/controls", Ct)).StatusCode);
    }

    [Fact]
    public async Task OpenApi_document_is_3_1_and_lists_the_routes()
    {
        using var client = fx.Client();
        var response = await client.GetAsync("/openapi/v1.json", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var doc = await Json(response);
        Assert.StartsWith("3.1", doc["openapi"]!.GetValue<string>(), StringComparison.Ordinal);
        var paths = doc["paths"]!.AsObject().Select(p => p.Key).ToHashSet();
        foreach (var route in new[]
        {
            "/api/v1/controls", "/api/v1/controls/{id}", "/api/v1/gaps", "/api/v1/coverage", "/api/v1/documents", "/api/v1/documents/{id}",
            "/api/v1/documents/{id}/effective-date", "/api/v1/search", "/api/v1/mappings/{id}/review", "/api/v1/passages/{id}/mappings",
            "/api/v1/exports/soa", "/api/v1/exports/oscal", "/api/v1/exports/pack", "/api/v1/audit-log", "/api/v1/health", "/api/v1/controls/{id}/applicability",
            "/api/v1/controls/{id}/owner", "/api/v1/tasks", "/api/v1/ai-systems", "/api/v1/ai-systems/{id}", "/api/v1/ai-systems/{id}/edits",
            "/api/v1/frameworks", "/api/v1/frameworks/{id}/coverage",
        })
        {
            Assert.Contains(route, paths);
        }
    }

    [Fact]
    public async Task Controls_page_through_all_74_entries_with_continuation_tokens()
    {
        using var client = fx.Client(fx.ReaderKey);
        var ids = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var url = "/api/v1/controls?limit=20" + (token is null ? string.Empty : "&continuationToken=" + Uri.EscapeDataString(token));
            var page = await Json(await client.GetAsync(url, Ct));
            ids.AddRange(page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
            token = page["continuationToken"]?.GetValue<string>();
            pages++;
        }
        while (token is not null && pages < 10);

        Assert.Equal(4, pages);
        Assert.Equal(74, ids.Count);
        Assert.Equal(74, ids.Distinct().Count());
    }

    [Theory]
    [InlineData("/api/v1/controls?continuationToken=%%%")]
    [InlineData("/api/v1/controls?continuationToken=bm90LWFuLW9mZnNldA")]
    [InlineData("/api/v1/documents?continuationToken=!!")]
    [InlineData("/api/v1/gaps?continuationToken=x")]
    [InlineData("/api/v1/audit-log?continuationToken=Zm9v")]
    [InlineData("/api/v1/controls?limit=0")]
    public async Task Malformed_paging_is_a_400_problem(string url)
    {
        using var client = fx.Client(fx.ReaderKey);
        await AssertProblem(await client.GetAsync(url, Ct), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Control_detail_has_evidence_with_citations_and_unknown_ids_are_404()
    {
        using var client = fx.Client(fx.ReaderKey);
        var gaps = await Json(await client.GetAsync("/api/v1/controls?limit=500", Ct));
        var withEvidence = gaps["items"]!.AsArray().First(i => i!["passageCount"]!.GetValue<int>() > 0)!["id"]!.GetValue<string>();
        var detail = await Json(await client.GetAsync($"/api/v1/controls/{withEvidence}", Ct));
        var e = detail["evidence"]!.AsArray()[0]!;
        foreach (var field in new[] { "documentId", "documentName", "page", "headings", "score", "method", "rationale", "review", "mappingId", "text", "passageId" })
        {
            Assert.NotNull(e[field]);
        }

        await AssertProblem(await client.GetAsync("/api/v1/controls/Z.99", Ct), HttpStatusCode.NotFound);
        await AssertProblem(await client.GetAsync("/api/v1/documents/nope", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Read_models_carry_an_etag_and_answer_304()
    {
        using var client = fx.Client(fx.ReaderKey);
        var first = await client.GetAsync("/api/v1/coverage", Ct);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/coverage");
        request.Headers.IfNoneMatch.Add(etag);
        var second = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task Gaps_filter_by_status_group_and_doc_type_and_coverage_counts()
    {
        using var client = fx.Client(fx.ReaderKey);
        var missing = await Json(await client.GetAsync("/api/v1/gaps?status=missing&limit=500", Ct));
        Assert.All(missing["items"]!.AsArray(), i => Assert.Equal("missing", i!["status"]!.GetValue<string>()));
        var a6 = await Json(await client.GetAsync("/api/v1/gaps?group=A.6&status=missing&limit=500", Ct));
        Assert.All(a6["items"]!.AsArray(), i => Assert.StartsWith("A.6", i!["id"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/gaps?docType=policy", Ct)).StatusCode);
        await AssertProblem(await client.GetAsync("/api/v1/gaps?status=bogus", Ct), HttpStatusCode.BadRequest);
        await AssertProblem(await client.GetAsync("/api/v1/gaps?docType=spreadsheet", Ct), HttpStatusCode.BadRequest);

        var coverage = await Json(await client.GetAsync("/api/v1/coverage", Ct));
        Assert.Equal(70, coverage["overall"]!["total"]!.GetValue<int>());
        Assert.NotEmpty(coverage["clauses"]!.AsArray());
        Assert.NotEmpty(coverage["objectives"]!.AsArray());
        Assert.NotNull(coverage["overall"]!["coveredPercent"]);
    }

    [Fact]
    public async Task Frameworks_list_their_requirements_and_coverage_follows_the_controls_statuses()
    {
        using var client = fx.Client(fx.ReaderKey);
        var frameworks = (await Json(await client.GetAsync("/api/v1/frameworks", Ct))).AsArray();
        Assert.Equal(["iso27001", "nist-ai-rmf", "eu-ai-act"], frameworks.Select(f => f!["id"]!.GetValue<string>()));
        Assert.Equal(72, frameworks[1]!["requirements"]!.GetValue<int>());
        Assert.All(frameworks, f => Assert.StartsWith("https://", f!["source"]!.GetValue<string>(), StringComparison.Ordinal));

        var controls = (await Json(await client.GetAsync("/api/v1/controls?limit=500", Ct)))["items"]!.AsArray()
            .ToDictionary(c => c!["id"]!.GetValue<string>(), c => c!["status"]!.GetValue<string>());
        var coverage = await Json(await client.GetAsync("/api/v1/frameworks/nist-ai-rmf/coverage", Ct));
        var rows = coverage["requirements"]!.AsArray();
        Assert.Equal(72, rows.Count);
        Assert.Equal(72, coverage["counts"]!.AsObject().Sum(c => c.Value!.GetValue<int>()));
        foreach (var row in rows)
        {
            var related = row!["related"]!.AsArray();
            Assert.All(related, e => Assert.Equal(controls[e!["id"]!.GetValue<string>()], e!["status"]!.GetValue<string>()));
            var statuses = related.Select(e => e!["status"]!.GetValue<string>()).ToArray();
            var expected = statuses.Contains("nonconformity") ? "nonconformity" : statuses.All(s => s == "missing") ? "missing" : null;
            if (expected is not null)
            {
                Assert.Equal(expected, row["status"]!.GetValue<string>());
            }
        }

        Assert.Contains(rows, r => r!["related"]!.AsArray().Any(e => e!["evidence"] is JsonObject evidence && evidence["documentName"] is not null && evidence["page"] is not null));
        var partial = (await Json(await client.GetAsync("/api/v1/frameworks/nist-ai-rmf/coverage?status=partial", Ct)))["requirements"]!.AsArray();
        Assert.All(partial, r => Assert.Equal("partial", r!["status"]!.GetValue<string>()));
        Assert.Equal(rows.Count(r => r!["status"]!.GetValue<string>() == "partial"), partial.Count);

        await AssertProblem(await client.GetAsync("/api/v1/frameworks/soc2/coverage", Ct), HttpStatusCode.NotFound);
        await AssertProblem(await client.GetAsync("/api/v1/frameworks/iso27001/coverage?status=weak", Ct), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Documents_list_and_detail_with_versions_and_passages()
    {
        using var client = fx.Client(fx.ReaderKey);
        var list = await Json(await client.GetAsync("/api/v1/documents?limit=2", Ct));
        Assert.Equal(2, list["items"]!.AsArray().Count);
        var token = list["continuationToken"]!.GetValue<string>();
        var next = await Json(await client.GetAsync("/api/v1/documents?limit=2&continuationToken=" + token, Ct));
        Assert.Single(next["items"]!.AsArray());
        Assert.Null(next["continuationToken"]);

        var id = list["items"]![0]!["id"]!.GetValue<string>();
        var detail = await Json(await client.GetAsync($"/api/v1/documents/{id}", Ct));
        Assert.Equal("processed", detail["document"]!["status"]!.GetValue<string>());
        Assert.NotEmpty(detail["versions"]!.AsArray());
        Assert.NotEmpty(detail["passages"]!.AsArray());
    }

    [Theory]
    [InlineData("\"; DROP TABLE documents; -- NEAR( *")]
    [InlineData("title:foo AND (bar OR NOT")]
    [InlineData("' OR 1=1 --")]
    [InlineData("***")]
    public async Task Hostile_search_syntax_is_harmless(string q)
    {
        using var client = fx.Client(fx.ReaderKey);
        var response = await client.GetAsync("/api/v1/search?q=" + Uri.EscapeDataString(q), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var docs = await Json(await client.GetAsync("/api/v1/documents", Ct));
        Assert.Equal(3, docs["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task Search_ranks_passages_with_citations_and_filters()
    {
        using var client = fx.Client(fx.ReaderKey);
        var hits = await Json(await client.GetAsync("/api/v1/search?q=" + Uri.EscapeDataString("impact assessment") + "&limit=5", Ct));
        var items = hits["items"]!.AsArray();
        Assert.NotEmpty(items);
        Assert.NotNull(items[0]!["documentName"]);
        Assert.NotNull(items[0]!["page"]);
        var scores = items.Select(i => i!["score"]!.GetValue<double>()).ToArray();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
        var filtered = await Json(await client.GetAsync("/api/v1/search?q=model&docType=model-card", Ct));
        Assert.All(filtered["items"]!.AsArray(), i => Assert.Equal("model-card", i!["docType"]!.GetValue<string>()));
        await AssertProblem(await client.GetAsync("/api/v1/search?q=", Ct), HttpStatusCode.BadRequest);

        // Unknown filter values are problems, not empty pages.
        await AssertProblem(await client.GetAsync("/api/v1/search?q=model&control=Z.9", Ct), HttpStatusCode.BadRequest);
        await AssertProblem(await client.GetAsync("/api/v1/search?q=model&docType=memo", Ct), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/search?q=model&control=A.6.2.6", Ct)).StatusCode);
    }

    [Fact]
    public async Task Review_needs_reviewer_validates_the_verb_changes_the_gap_status_and_is_audited()
    {
        using var reader = fx.Client(fx.ReaderKey);
        using var reviewer = fx.Client(fx.ReviewerKey);
        var gaps = await Json(await reader.GetAsync("/api/v1/gaps?limit=500", Ct));
        var target = gaps["items"]!.AsArray().First(i => i!["status"]!.GetValue<string>() is "weak" or "suggested" && !i["container"]!.GetValue<bool>())!;
        var controlId = target["id"]!.GetValue<string>();
        var detail = await Json(await reader.GetAsync($"/api/v1/controls/{controlId}", Ct));
        var mappingId = detail["evidence"]!.AsArray().First(e => e!["controlId"]!.GetValue<string>() == controlId)!["mappingId"]!.GetValue<string>();
        var url = $"/api/v1/mappings/{mappingId}/review";

        await AssertProblem(await reader.PostAsJsonAsync(url, new { decision = "accept" }, Ct), HttpStatusCode.Forbidden);
        await AssertProblem(await reviewer.PostAsJsonAsync(url, new { decision = "approve" }, Ct), HttpStatusCode.BadRequest);
        await AssertProblem(await reviewer.PostAsJsonAsync(url, new { }, Ct), HttpStatusCode.BadRequest);
        await AssertProblem(await reviewer.PostAsJsonAsync("/api/v1/mappings/nope/review", new { decision = "accept" }, Ct), HttpStatusCode.NotFound);

        var ok = await reviewer.PostAsJsonAsync(url, new { decision = "accept", comment = "checked" }, Ct);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("accepted", (await Json(ok))["review"]!.GetValue<string>());

        var after = await Json(await reader.GetAsync($"/api/v1/controls/{controlId}", Ct));
        Assert.Equal("covered", after["control"]!["status"]!.GetValue<string>());

        var audit = await Json(await reader.GetAsync("/api/v1/audit-log?limit=500", Ct));
        var entry = audit["items"]!.AsArray().Last(a => a!["target"]!.GetValue<string>() == mappingId)!;
        Assert.Equal("mapping.review", entry["action"]!.GetValue<string>());
        Assert.Equal(fx.ReviewerKeyId, entry["actor"]!.GetValue<string>());
        Assert.Contains("unreviewed", entry["before"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("accepted", entry["after"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reviewer_corrects_polarity_a_finding_read_as_support_closes_the_nonconformity_and_the_reverse_opens_one()
    {
        using var reader = fx.Client(fx.ReaderKey);
        using var reviewer = fx.Client(fx.ReviewerKey);
        var gaps = await Json(await reader.GetAsync("/api/v1/gaps?limit=500", Ct));
        var items = gaps["items"]!.AsArray().Where(i => !i!["container"]!.GetValue<bool>()).ToList();
        var nonconformity = items.First(i => i!["status"]!.GetValue<string>() == "nonconformity")!["id"]!.GetValue<string>();
        var findings = (await Json(await reader.GetAsync($"/api/v1/controls/{nonconformity}", Ct)))["evidence"]!.AsArray()
            .Where(e => e!["controlId"]!.GetValue<string>() == nonconformity && e["polarity"]!.GetValue<string>() == "finding")
            .Select(e => e!["mappingId"]!.GetValue<string>()).ToList();
        Assert.NotEmpty(findings);

        var url = $"/api/v1/mappings/{findings[0]}/review";
        await AssertProblem(await reviewer.PostAsJsonAsync(url, new { decision = "reject", polarity = "supports" }, Ct), HttpStatusCode.BadRequest);
        await AssertProblem(await reviewer.PostAsJsonAsync(url, new { decision = "accept", polarity = "maybe" }, Ct), HttpStatusCode.BadRequest);
        foreach (var id in findings)
        {
            var ok = await reviewer.PostAsJsonAsync($"/api/v1/mappings/{id}/review", new { decision = "accept", polarity = "supports", comment = "a limitation disclosed, not a gap" }, Ct);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            var mapping = await Json(ok);
            Assert.Equal(("accepted", "supports"), (mapping["review"]!.GetValue<string>(), mapping["polarity"]!.GetValue<string>()));
        }

        var closed = await Json(await reader.GetAsync($"/api/v1/controls/{nonconformity}", Ct));
        // Accepted support: covered, or stale when the fixture's document is older than the review period.
        Assert.Contains(closed["control"]!["status"]!.GetValue<string>(), new[] { "covered", "stale" });

        var audit = await Json(await reader.GetAsync("/api/v1/audit-log?limit=500", Ct));
        var entry = audit["items"]!.AsArray().Last(a => a!["target"]!.GetValue<string>() == findings[^1])!;
        Assert.Contains("\"polarity\":\"finding\"", entry["before"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("\"polarity\":\"supports\"", entry["after"]!.GetValue<string>(), StringComparison.Ordinal);

        // The reverse: a supporting suggestion a reviewer reads as a finding makes its entry a nonconformity.
        var covered = items.First(i => i!["status"]!.GetValue<string>() is "weak" or "suggested" && i["id"]!.GetValue<string>() != nonconformity)!["id"]!.GetValue<string>();
        var support = (await Json(await reader.GetAsync($"/api/v1/controls/{covered}", Ct)))["evidence"]!.AsArray()
            .First(e => e!["controlId"]!.GetValue<string>() == covered && e["polarity"]!.GetValue<string>() == "supports")!["mappingId"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await reviewer.PostAsJsonAsync($"/api/v1/mappings/{support}/review", new { decision = "accept", polarity = "finding" }, Ct)).StatusCode);
        var opened = await Json(await reader.GetAsync($"/api/v1/controls/{covered}", Ct));
        Assert.Equal("nonconformity", opened["control"]!["status"]!.GetValue<string>());
        Assert.Contains("accepted as a finding by a reviewer", opened["control"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_log_pages_with_a_continuation_token()
    {
        using var reader = fx.Client(fx.ReaderKey);
        var first = await Json(await reader.GetAsync("/api/v1/audit-log?limit=1", Ct));
        Assert.Single(first["items"]!.AsArray());
        var token = first["continuationToken"]!.GetValue<string>();
        var second = await Json(await reader.GetAsync("/api/v1/audit-log?limit=1&continuationToken=" + token, Ct));
        Assert.True(second["items"]![0]!["id"]!.GetValue<long>() > first["items"]![0]!["id"]!.GetValue<long>());
    }

    [Fact]
    public async Task Manual_mapping_needs_a_known_control_and_passage()
    {
        using var reader = fx.Client(fx.ReaderKey);
        using var reviewer = fx.Client(fx.ReviewerKey);
        var docs = await Json(await reader.GetAsync("/api/v1/documents", Ct));
        var doc = await Json(await reader.GetAsync($"/api/v1/documents/{docs["items"]![0]!["id"]!.GetValue<string>()}", Ct));
        var passageId = doc["passages"]![0]!["id"]!.GetValue<string>();
        var url = $"/api/v1/passages/{passageId}/mappings";

        await AssertProblem(await reader.PostAsJsonAsync(url, new { controlId = "A.2.2", rationale = "x" }, Ct), HttpStatusCode.Forbidden);
        await AssertProblem(await reviewer.PostAsJsonAsync(url, new { controlId = "A.99.1", rationale = "x" }, Ct), HttpStatusCode.BadRequest);
        await AssertProblem(await reviewer.PostAsJsonAsync("/api/v1/passages/nope/mappings", new { controlId = "A.2.2" }, Ct), HttpStatusCode.NotFound);
        var created = await reviewer.PostAsJsonAsync(url, new { controlId = "A.2.2", rationale = "the policy names the AI policy owner" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var mapping = await Json(created);
        Assert.Equal("manual", mapping["method"]!.GetValue<string>());

        var control = await Json(await reader.GetAsync("/api/v1/controls/A.2.2", Ct));
        Assert.Contains(control["evidence"]!.AsArray(), e => e!["mappingId"]!.GetValue<string>() == mapping["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Effective_date_is_set_by_reviewers_and_validated()
    {
        using var reviewer = fx.Client(fx.ReviewerKey);
        var docs = await Json(await reviewer.GetAsync("/api/v1/documents", Ct));
        var id = docs["items"]![0]!["id"]!.GetValue<string>();
        var ok = await reviewer.PutAsJsonAsync($"/api/v1/documents/{id}/effective-date", new { effectiveDate = "2026-01-15" }, Ct);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("2026-01-15", (await Json(ok))["effectiveDate"]!.GetValue<string>());
        await AssertProblem(await reviewer.PutAsJsonAsync($"/api/v1/documents/{id}/effective-date", new { effectiveDate = "15/01/2026" }, Ct), HttpStatusCode.BadRequest);
        await AssertProblem(await reviewer.PutAsJsonAsync("/api/v1/documents/nope/effective-date", new { effectiveDate = "2026-01-15" }, Ct), HttpStatusCode.NotFound);
        using var reader = fx.Client(fx.ReaderKey);
        await AssertProblem(await reader.PutAsJsonAsync($"/api/v1/documents/{id}/effective-date", new { effectiveDate = "2026-01-15" }, Ct), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Upload_saves_a_safe_file_name_into_the_inbox_and_rejects_oversized_bodies()
    {
        static MultipartFormDataContent Form(byte[] bytes, string name)
        {
            var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(bytes);
            file.Headers.ContentType = new MediaTypeHeaderValue("text/markdown");
            form.Add(file, "file", name);
            return form;
        }

        var small = Encoding.UTF8.GetBytes("# Upload\n\nAI risk assessment performed yearly.\n");
        using var anonymous = fx.Client();
        await AssertProblem(await anonymous.PostAsync("/api/v1/documents", Form(small, "a.md"), Ct), HttpStatusCode.Unauthorized);
        using var reader = fx.Client(fx.ReaderKey);
        await AssertProblem(await reader.PostAsync("/api/v1/documents", Form(small, "a.md"), Ct), HttpStatusCode.Forbidden);

        using var reviewer = fx.Client(fx.ReviewerKey);
        var accepted = await reviewer.PostAsync("/api/v1/documents", Form(small, "../../evil name;.md"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var saved = (await Json(accepted))["fileName"]!.GetValue<string>();
        Assert.Equal("evil_name_.md", saved);
        Assert.True(File.Exists(Path.Combine(fx.Inbox, saved)));
        Assert.Empty(Directory.GetFiles(fx.Dir, "*.md"));

        var big = new byte[ApiFixture.MaxUpload * 3];
        await AssertProblem(await reviewer.PostAsync("/api/v1/documents", Form(big, "big.md"), Ct), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public void Markdown_cells_escape_what_they_embed()
    {
        Assert.Equal("&lt;img src=x onerror=alert(1)&gt; a \\| b &amp;amp; c d", AimsEvidenceApi.Md("<img src=x onerror=alert(1)> a | b &amp; c\nd"));
    }

    [Fact]
    public async Task Soa_lists_all_38_annex_a_controls_in_every_format()
    {
        Assert.Equal(38, AnnexA.Length);
        using var client = fx.Client(fx.ReaderKey);
        var md = await client.GetStringAsync("/api/v1/exports/soa?format=md", Ct);
        var csv = await client.GetStringAsync("/api/v1/exports/soa?format=csv", Ct);
        var json = await Json(await client.GetAsync("/api/v1/exports/soa?format=json", Ct));
        foreach (var id in AnnexA)
        {
            Assert.Contains($"| {id} |", md, StringComparison.Ordinal);
            Assert.Contains($"\"{id}\",", csv, StringComparison.Ordinal);
        }

        // The AI-system inventory follows in every format: a section in Markdown, rows (the system's id first) in CSV, aiSystems in JSON.
        var systems = (await Json(await client.GetAsync("/api/v1/ai-systems", Ct)))["systems"]!.AsArray();
        Assert.NotEmpty(systems);
        Assert.Equal(39 + systems.Count, csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("## AI systems", md, StringComparison.Ordinal);
        foreach (var system in systems)
        {
            Assert.Contains($"\"{system!["id"]!.GetValue<string>()}\",", csv, StringComparison.Ordinal);
            Assert.Contains($"| {AimsEvidenceApi.Md(system["name"]!.GetValue<string>())} |", md, StringComparison.Ordinal);
        }

        Assert.True(JsonNode.DeepEquals(systems, json["aiSystems"]), "the SoA's aiSystems are not the inventory");
        var rows = json["controls"]!.AsArray();
        // Nonconformities first, as in the gap report; within each group the catalog's order.
        var statusOf = rows.ToDictionary(r => r!["controlId"]!.GetValue<string>(), r => r!["status"]!.GetValue<string>(), StringComparer.Ordinal);
        Assert.Equal(AnnexA.OrderBy(id => statusOf[id] == "nonconformity" ? 0 : 1).ToArray(), rows.Select(r => r!["controlId"]!.GetValue<string>()).ToArray());
        Assert.All(rows, r =>
        {
            Assert.Contains(r!["applicable"]!.GetValue<string>(), new[] { "yes", "no" });
            Assert.False(string.IsNullOrWhiteSpace(r["justification"]!.GetValue<string>()));
            Assert.NotNull(r["evidence"]);
            Assert.NotNull(r["status"]);
        });
        await AssertProblem(await client.GetAsync("/api/v1/exports/soa?format=xml", Ct), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Oscal_assessment_results_have_the_required_structure()
    {
        using var client = fx.Client(fx.ReaderKey);
        var doc = await Json(await client.GetAsync("/api/v1/exports/oscal", Ct));
        var ar = doc["assessment-results"]!;
        AssertUuid(ar["uuid"]);
        var meta = ar["metadata"]!;
        Assert.False(string.IsNullOrWhiteSpace(meta["title"]!.GetValue<string>()));
        Assert.True(DateTimeOffset.TryParse(meta["last-modified"]!.GetValue<string>(), out _));
        Assert.False(string.IsNullOrWhiteSpace(meta["version"]!.GetValue<string>()));
        Assert.StartsWith("1.1.", meta["oscal-version"]!.GetValue<string>(), StringComparison.Ordinal);
        var result = ar["results"]![0]!;
        AssertUuid(result["uuid"]);
        Assert.NotNull(result["title"]);
        Assert.NotNull(result["description"]);
        Assert.True(DateTimeOffset.TryParse(result["start"]!.GetValue<string>(), out _));

        var observations = result["observations"]!.AsArray();
        Assert.NotEmpty(observations);
        foreach (var o in observations)
        {
            AssertUuid(o!["uuid"]);
            Assert.NotNull(o["description"]);
            Assert.NotEmpty(o["methods"]!.AsArray());
            Assert.True(DateTimeOffset.TryParse(o["collected"]!.GetValue<string>(), out _));
            var evidence = o["relevant-evidence"]![0]!;
            Assert.False(string.IsNullOrWhiteSpace(evidence["description"]!.GetValue<string>()));
            Assert.Contains(evidence["props"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "citation");
        }

        var findings = result["findings"]!.AsArray();
        Assert.Equal(70, findings.Count);
        foreach (var f in findings)
        {
            AssertUuid(f!["uuid"]);
            Assert.NotNull(f["title"]);
            Assert.NotNull(f["description"]);
            var t = f["target"]!;
            Assert.Equal("objective-id", t["type"]!.GetValue<string>());
            Assert.NotNull(t["target-id"]);
            Assert.Contains(t["status"]!["state"]!.GetValue<string>(), new[] { "satisfied", "not-satisfied" });
        }

        // The AI-system inventory: one inventory item per system, with its id, name and citations as props.
        var systems = (await Json(await client.GetAsync("/api/v1/ai-systems", Ct)))["systems"]!.AsArray();
        var items = result["local-definitions"]!["inventory-items"]!.AsArray();
        Assert.Equal(systems.Count, items.Count);
        foreach (var (item, system) in items.Zip(systems))
        {
            AssertUuid(item!["uuid"]);
            Assert.StartsWith(system!["name"]!.GetValue<string>(), item["description"]!.GetValue<string>(), StringComparison.Ordinal);
            var props = item["props"]!.AsArray().Select(p => (p!["name"]!.GetValue<string>(), p["value"]!.GetValue<string>())).ToArray();
            Assert.Contains(("ai-system-id", system["id"]!.GetValue<string>()), props);
            Assert.Contains(("citation", system["documents"]![0]!["citation"]!.GetValue<string>()), props);
        }

        var uuids = observations.Select(o => o!["uuid"]!.GetValue<string>()).Concat(findings.Select(f => f!["uuid"]!.GetValue<string>())).ToArray();
        Assert.Equal(uuids.Length, uuids.Distinct().Count());

        static void AssertUuid(JsonNode? node) => Assert.True(Guid.TryParse(node!.GetValue<string>(), out _), $"not a UUID: {node}");
    }

    [Fact]
    public async Task Keys_are_created_by_admins_only()
    {
        using var reviewer = fx.Client(fx.ReviewerKey);
        await AssertProblem(await reviewer.PostAsJsonAsync("/api/v1/keys", new { role = "reader" }, Ct), HttpStatusCode.Forbidden);
        using var admin = fx.Client(fx.AdminKey);
        await AssertProblem(await admin.PostAsJsonAsync("/api/v1/keys", new { role = "root" }, Ct), HttpStatusCode.BadRequest);
        var created = await admin.PostAsJsonAsync("/api/v1/keys", new { role = "reader" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = (await Json(created))["key"]!.GetValue<string>();
        using var newReader = fx.Client(key);
        Assert.Equal(HttpStatusCode.OK, (await newReader.GetAsync("/api/v1/coverage", Ct)).StatusCode);
    }

    [Fact]
    public async Task Dashboard_is_served_open_with_a_strict_content_security_policy()
    {
        using var client = fx.Client();
        var index = await client.GetAsync("/", Ct);
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        var csp = string.Join(";", index.Headers.GetValues("Content-Security-Policy"));
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        var html = await index.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("style=", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/app.js", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/app.css", Ct)).StatusCode);
    }
}
