using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.TestSupport;

/// <summary>One evidence store under test, by the interfaces every store implements (one object may serve several).</summary>
/// <param name="Reopen">Another instance over the same data (a new process, a second Functions instance).</param>
public sealed record StoreUnderTest(
    IEvidenceStore Evidence,
    IReviewStore Review,
    IOwnerStore Owners,
    IDigestStore Digests,
    IApplicabilityStore Applicability,
    IIngestionAttemptStore Attempts,
    Func<Task<StoreUnderTest>> Reopen);

/// <summary>
/// The contract every evidence store passes (the SQLite file and Azure Table Storage): documents and versions, passages,
/// mappings and reviews, the audit log, API keys, owners, digest days, applicability and ingestion attempts. A subclass
/// supplies a new, empty, initialised store per call of <see cref="NewStoreAsync"/>.
/// </summary>
public abstract class EvidenceStoreContract
{
    private static readonly DateTimeOffset Ingested = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract Task<StoreUnderTest> NewStoreAsync();

    /// <summary>A processed document with <paramref name="passages"/> passages, each mapped to every control; passage 0's second mapping is rejected.</summary>
    public static DocumentWrite Write(string id, string name, string sha, int passages, params string[] controls)
    {
        var document = new DocumentRecord
        {
            Id = id,
            Name = name,
            Sha256 = sha,
            Size = 1234,
            MediaType = "text/markdown",
            DocType = "policy",
            DocTypeConfidence = 0.9,
            Status = DocumentStatus.Processed,
            PageCount = 2,
            IngestedAt = Ingested,
            EffectiveDate = new DateOnly(2026, 10, 1),
            RunId = "run-1",
        };
        var list = new List<PassageWithMappings>();
        for (var i = 0; i < passages; i++)
        {
            var passageId = $"{id}-p{i}";
            var passage = new PassageRecord
            {
                Id = passageId,
                DocumentId = id,
                Ordinal = i,
                Page = 1 + (i % 2),
                Headings = ["AI policy", $"Section {i}"],
                Text = $"Passage {i} of {name}: the organization shall define an AI policy.",
                Start = i * 100,
                Length = 60,
                Kind = i == 2 ? "table-row" : "paragraph",
                RowStart = i == 2 ? 2 : null,
                RowEnd = i == 2 ? 4 : null,
            };
            var mappings = controls.Select((c, j) => new MappingRecord
            {
                Id = $"{passageId}-m{j}",
                PassageId = passageId,
                ControlId = c,
                Score = 0.8 - (i * 0.01),
                Method = "lexical",
                Rationale = "mentions AI policy",
                Model = j == 0 ? "model-x" : null,
                PromptVersion = j == 0 ? "prompt-1" : null,
                ProfileVersion = "profile-1",
                Review = i == 0 && j == 1 ? ReviewState.Rejected : ReviewState.Unreviewed,
                Polarity = j == 2 ? MappingPolarity.Finding : MappingPolarity.Supports,
            }).ToList();
            list.Add(new PassageWithMappings(passage, mappings));
        }

        return new DocumentWrite(document, list);
    }

    private static DocumentWrite Unprocessed(string id, string name, string sha, DocumentStatus status, string reason) =>
        new(new DocumentRecord { Id = id, Name = name, Sha256 = sha, Size = 10, Status = status, Reason = reason, IngestedAt = Ingested }, []);

    [Fact]
    public async Task A_written_version_reads_back_with_its_passages_mappings_and_evidence()
    {
        var s = await NewStoreAsync();
        var write = Write("doc-a1", "policies/ai policy.md", "sha-a1", 3, "5.2", "A.2.2", "6.1.2");

        var stored = await s.Evidence.WriteDocumentAsync(write, Ct);

        Assert.Equal(write.Document with { Version = 1, IsCurrent = true, PassageCount = 3 }, stored);
        Assert.Equal(stored, await s.Evidence.GetDocumentAsync("doc-a1", Ct));
        Assert.Equal(stored, await s.Evidence.GetCurrentByNameAsync("policies/ai policy.md", Ct));
        Assert.Equal(stored, await s.Evidence.FindCurrentBySha256Async("sha-a1", Ct));
        Assert.Null(await s.Evidence.GetDocumentAsync("doc-zz", Ct));
        Assert.Null(await s.Evidence.GetCurrentByNameAsync("policies/other.md", Ct));
        Assert.Null(await s.Evidence.FindCurrentBySha256Async("sha-zz", Ct));
        Assert.Empty(await s.Evidence.GetPassagesAsync("doc-zz", Ct));

        var passages = await s.Evidence.GetPassagesAsync("doc-a1", Ct);
        Assert.Equal([0, 1, 2], passages.Select(p => p.Passage.Ordinal));
        for (var i = 0; i < 3; i++)
        {
            var expected = write.Passages[i];
            Assert.Equal(expected.Passage with { Headings = [] }, passages[i].Passage with { Headings = [] });
            Assert.Equal(expected.Passage.Headings, passages[i].Passage.Headings);
            Assert.Equal(expected.Mappings.OrderBy(m => m.Id, StringComparer.Ordinal), passages[i].Mappings.OrderBy(m => m.Id, StringComparer.Ordinal));
        }

        Assert.Equal(["doc-a1-p0", "doc-a1-p1", "doc-a1-p2"], (await s.Evidence.GetEvidenceAsync("5.2", Ct)).Select(e => e.Passage.Id).Order(StringComparer.Ordinal));
        Assert.Equal(["doc-a1-p1", "doc-a1-p2"], (await s.Evidence.GetEvidenceAsync("A.2.2", Ct)).Select(e => e.Passage.Id).Order(StringComparer.Ordinal)); // p0's is rejected
        Assert.Empty(await s.Evidence.GetEvidenceAsync("9.9", Ct));

        var all = await s.Evidence.GetEvidenceAsync(cancellationToken: Ct);
        Assert.Equal(8, all.Count);
        Assert.All(all, e => Assert.Equal(stored, e.Document));
        Assert.All(all, e => Assert.Equal(e.Passage.Id, e.Mapping.PassageId));
        Assert.Equal(3, all.Count(e => e.Mapping.Polarity == MappingPolarity.Finding));
    }

    [Fact]
    public async Task A_finding_link_keeps_the_polarity_probability_that_decided_it()
    {
        // The gap report says why a passage is a finding: the polarity model's probability and threshold, stored with
        // the passage's candidates, must come back with every finding the store lists.
        var s = await NewStoreAsync();
        var write = Write("doc-f1", "audit.md", "sha-f1", 3, "5.2", "A.2.2", "6.1.2");
        var candidates = new PassageCandidates { Threshold = 0.4, MaxSuggestions = 3, Method = MappingMethods.Trained, Finding = 0.25379, FindingThreshold = 0.18 };
        write = write with { Passages = [.. write.Passages.Select(p => p with { Passage = p.Passage with { Candidates = candidates } })] };
        await s.Evidence.WriteDocumentAsync(write, Ct);

        var findings = (await s.Evidence.GetEvidenceAsync("6.1.2", Ct)).Where(e => e.Mapping.Polarity == MappingPolarity.Finding).ToList();
        Assert.Equal(3, findings.Count);
        Assert.All(findings, f =>
        {
            Assert.Equal(0.25379, f.Passage.Candidates?.Finding);
            Assert.Equal(0.18, f.Passage.Candidates?.FindingThreshold);
        });
    }

    [Fact]
    public async Task A_new_version_supersedes_the_previous_and_only_the_current_one_counts()
    {
        var s = await NewStoreAsync();
        await s.Evidence.WriteDocumentAsync(Write("v1", "risk.md", "sha-1", 2, "6.1.2"), Ct);
        await s.Evidence.WriteDocumentAsync(Write("other", "other.md", "sha-o", 1, "5.2"), Ct);

        var second = await s.Evidence.WriteDocumentAsync(Write("v2", "risk.md", "sha-2", 1, "6.1.2"), Ct);
        var third = await s.Evidence.WriteDocumentAsync(Write("v3", "risk.md", "sha-3", 1, "6.1.2"), Ct);

        Assert.Equal((2, 3), (second.Version, third.Version));
        Assert.Equal("v3", (await s.Evidence.GetCurrentByNameAsync("risk.md", Ct))?.Id);
        var versions = await s.Evidence.GetVersionsAsync("risk.md", Ct);
        Assert.Equal(["v3", "v2", "v1"], versions.Select(v => v.Id));
        Assert.Equal([true, false, false], versions.Select(v => v.IsCurrent));
        Assert.False((await s.Evidence.GetDocumentAsync("v1", Ct))?.IsCurrent);
        Assert.Empty(await s.Evidence.GetVersionsAsync("none.md", Ct));

        Assert.Equal(["other", "v3"], (await s.Evidence.ListDocumentsAsync(cancellationToken: Ct)).Select(d => d.Id).Order(StringComparer.Ordinal));
        Assert.Equal(["other", "v1", "v2", "v3"], (await s.Evidence.ListDocumentsAsync(includeSuperseded: true, Ct)).Select(d => d.Id).Order(StringComparer.Ordinal));

        Assert.Equal(["v3"], (await s.Evidence.GetEvidenceAsync("6.1.2", Ct)).Select(e => e.Document.Id).Distinct());
        Assert.Null(await s.Evidence.FindCurrentBySha256Async("sha-1", Ct));
        Assert.Equal(2, (await s.Evidence.GetPassagesAsync("v1", Ct)).Count); // a superseded version keeps its passages
    }

    [Fact]
    public async Task Writing_the_current_name_and_bytes_again_returns_the_stored_version_and_writes_nothing()
    {
        var s = await NewStoreAsync();
        var first = await s.Evidence.WriteDocumentAsync(Write("same-1", "procedure.md", "sha-s", 2, "8.2"), Ct);

        var again = await s.Evidence.WriteDocumentAsync(Write("same-2", "procedure.md", "sha-s", 3, "8.2"), Ct);

        Assert.Equal(first, again);
        Assert.Single(await s.Evidence.GetVersionsAsync("procedure.md", Ct));
        Assert.Null(await s.Evidence.GetDocumentAsync("same-2", Ct));
        Assert.Equal(2, (await s.Evidence.GetEvidenceAsync("8.2", Ct)).Count);
    }

    [Fact]
    public async Task Failed_and_skipped_documents_are_listed_with_their_reason_and_give_no_evidence()
    {
        var s = await NewStoreAsync();
        await s.Evidence.WriteDocumentAsync(Unprocessed("f1", "broken.pdf", "sha-f", DocumentStatus.Failed, "the PDF is encrypted"), Ct);
        await s.Evidence.WriteDocumentAsync(Unprocessed("k1", "photo.png", "sha-k", DocumentStatus.Skipped, "unsupported type"), Ct);
        await s.Evidence.WriteDocumentAsync(Write("ok", "policy.md", "sha-ok", 1, "5.2"), Ct);

        var failed = await s.Evidence.GetCurrentByNameAsync("broken.pdf", Ct);
        Assert.Equal((DocumentStatus.Failed, "the PDF is encrypted", 0), (failed?.Status, failed?.Reason, failed?.PassageCount));
        Assert.Equal(DocumentStatus.Skipped, (await s.Evidence.GetDocumentAsync("k1", Ct))?.Status);
        Assert.Equal(["f1", "k1", "ok"], (await s.Evidence.ListDocumentsAsync(cancellationToken: Ct)).Select(d => d.Id).Order(StringComparer.Ordinal));
        Assert.Equal(["ok"], (await s.Evidence.GetEvidenceAsync(cancellationToken: Ct)).Select(e => e.Document.Id).Distinct());

        // A processed version of the failed name replaces it.
        var fixedVersion = await s.Evidence.WriteDocumentAsync(Write("f2", "broken.pdf", "sha-f2", 1, "7.5"), Ct);
        Assert.Equal(2, fixedVersion.Version);
        Assert.Equal(["f2"], (await s.Evidence.GetEvidenceAsync("7.5", Ct)).Select(e => e.Document.Id));
    }

    [Fact]
    public async Task Runs_are_saved_again_by_id_and_listed_newest_first()
    {
        var s = await NewStoreAsync();
        await s.Evidence.SaveRunAsync(new RunRecord { Id = "r1", StartedAt = Ingested, Processed = 1 }, Ct);
        await s.Evidence.SaveRunAsync(new RunRecord { Id = "r2", StartedAt = Ingested.AddHours(1), Failed = 2 }, Ct);
        var finished = new RunRecord { Id = "r1", StartedAt = Ingested, FinishedAt = Ingested.AddMinutes(5), Processed = 3, Failed = 1, Skipped = 2, Unchanged = 4 };
        await s.Evidence.SaveRunAsync(finished, Ct);

        var runs = await s.Evidence.ListRunsAsync(10, Ct);
        Assert.Equal(["r2", "r1"], runs.Select(r => r.Id));
        Assert.Equal(finished, runs[1]);
        Assert.Equal(["r2"], (await s.Evidence.ListRunsAsync(1, Ct)).Select(r => r.Id));
    }

    [Fact]
    public async Task A_reviewer_accepts_a_mapping_with_the_polarity_they_read_and_it_is_audited()
    {
        var s = await NewStoreAsync();
        await s.Evidence.WriteDocumentAsync(Write("d1", "audit.md", "sha-1", 3, "5.2", "A.2.2", "6.1.2"), Ct);

        // A support read as a finding, and a finding (every third mapping) read as a support.
        var finding = await s.Review.AcceptWithPolarityAsync("d1-p1-m0", MappingPolarity.Finding, "reviewer-1", "states the gap", Ct);
        var support = await s.Review.AcceptWithPolarityAsync("d1-p1-m2", MappingPolarity.Supports, "reviewer-1", null, Ct);
        Assert.Equal((ReviewState.Accepted, MappingPolarity.Finding), (finding?.Review, finding?.Polarity));
        Assert.Equal((ReviewState.Accepted, MappingPolarity.Supports), (support?.Review, support?.Polarity));
        Assert.Equal(finding, await s.Review.GetMappingAsync("d1-p1-m0", Ct));
        Assert.Equal(support, await s.Review.GetMappingAsync("d1-p1-m2", Ct));
        Assert.Null(await s.Review.AcceptWithPolarityAsync("d1-p9-m0", MappingPolarity.Finding, "reviewer-1", null, Ct));

        var evidence = await s.Evidence.GetEvidenceAsync(cancellationToken: Ct);
        Assert.Equal(MappingPolarity.Finding, evidence.Single(e => e.Mapping.Id == "d1-p1-m0").Mapping.Polarity);
        Assert.Equal(MappingPolarity.Supports, evidence.Single(e => e.Mapping.Id == "d1-p1-m2").Mapping.Polarity);

        var audit = (await s.Review.ListAuditAsync(0, 100, Ct)).Where(a => a.Target == "d1-p1-m0").ToList();
        Assert.Equal("mapping.review", Assert.Single(audit).Action);
        Assert.Contains("\"polarity\":\"finding\"", audit[0].After, StringComparison.Ordinal);

        // A plain review keeps the polarity; the decisions that teach the mapper carry it.
        Assert.Equal(MappingPolarity.Finding, (await s.Review.ReviewMappingAsync("d1-p1-m0", ReviewState.Accepted, "reviewer-2", null, Ct))?.Polarity);
        var decisions = await s.Review.ListReviewDecisionsAsync(Ct);
        Assert.Equal(MappingPolarity.Finding, decisions.Single(d => d.PassageId == "d1-p1" && d.ControlId == "5.2").Polarity);
        Assert.Equal(MappingPolarity.Supports, decisions.Single(d => d.PassageId == "d1-p1" && d.ControlId == "6.1.2").Polarity);
    }

    [Fact]
    public async Task Reviews_change_the_mapping_are_audited_and_a_rejected_mapping_stops_counting()
    {
        var s = await NewStoreAsync();
        await s.Evidence.WriteDocumentAsync(Write("d1", "policy.md", "sha-1", 3, "5.2", "A.2.2"), Ct);

        var rejected = await s.Review.ReviewMappingAsync("d1-p1-m0", ReviewState.Rejected, "reviewer-1", "not about the policy", Ct);
        var accepted = await s.Review.ReviewMappingAsync("d1-p2-m0", ReviewState.Accepted, "reviewer-2", null, Ct);

        Assert.Equal(ReviewState.Rejected, rejected?.Review);
        Assert.Equal(("5.2", "d1-p1"), (rejected?.ControlId, rejected?.PassageId));
        Assert.Equal(ReviewState.Accepted, accepted?.Review);
        Assert.Equal(accepted, await s.Review.GetMappingAsync("d1-p2-m0", Ct));
        Assert.Null(await s.Review.ReviewMappingAsync("d1-p9-m0", ReviewState.Accepted, "reviewer-1", null, Ct));
        Assert.Null(await s.Review.GetMappingAsync("d1-p9-m0", Ct));
        Assert.Equal("d1-p1", (await s.Review.GetPassageAsync("d1-p1", Ct))?.Id);
        Assert.Null(await s.Review.GetPassageAsync("d1-p9", Ct));

        Assert.Equal(["d1-p0", "d1-p2"], (await s.Evidence.GetEvidenceAsync("5.2", Ct)).Select(e => e.Passage.Id).Order(StringComparer.Ordinal));
        Assert.Equal(ReviewState.Accepted, (await s.Evidence.GetPassagesAsync("d1", Ct))[2].Mappings.Single(m => m.Id == "d1-p2-m0").Review);

        var audit = await s.Review.ListAuditAsync(0, 100, Ct);
        Assert.Equal(["mapping.review", "mapping.review"], audit.Select(a => a.Action));
        Assert.Equal(["d1-p1-m0", "d1-p2-m0"], audit.Select(a => a.Target));
        Assert.Equal(["reviewer-1", "reviewer-2"], audit.Select(a => a.Actor));
        Assert.Contains("not about the policy", audit[0].After, StringComparison.Ordinal);

        // Decisions: the write's own rejection, the two reviews and a manual mapping; unreviewed suggestions are none.
        await s.Review.AddManualMappingAsync("d1-p0", "7.5", "states the documentation rule", "reviewer-1", MappingPolarity.Supports, Ct);
        var decisions = (await s.Review.ListReviewDecisionsAsync(Ct))
            .Select(d => $"{d.PassageId} {d.ControlId} {(d.Accepted ? "accepted" : "rejected")}{(d.Manual ? " manual" : string.Empty)}")
            .Order(StringComparer.Ordinal);
        Assert.Equal(["d1-p0 7.5 accepted manual", "d1-p0 A.2.2 rejected", "d1-p1 5.2 rejected", "d1-p2 5.2 accepted"], decisions);
        var one = (await s.Review.ListReviewDecisionsAsync(Ct)).Single(d => d.PassageId == "d1-p2");
        Assert.Equal(("policy.md", 1, "Passage 2 of policy.md: the organization shall define an AI policy."), (one.DocumentName, one.Page, one.Text));
        Assert.Equal(["AI policy", "Section 2"], one.Headings);
    }

    [Fact]
    public async Task Manual_mappings_and_effective_dates_change_known_ids_only_and_are_audited()
    {
        var s = await NewStoreAsync();
        await s.Evidence.WriteDocumentAsync(Write("d1", "policy.md", "sha-1", 2, "5.2"), Ct);

        Assert.Null(await s.Review.SetEffectiveDateAsync("d2", new DateOnly(2026, 1, 1), "tester", Ct));
        Assert.Null(await s.Review.AddManualMappingAsync("d1-p9", "6.1.2", "why", "tester", MappingPolarity.Supports, Ct));
        Assert.Empty(await s.Review.ListAuditAsync(0, 100, Ct));

        var dated = await s.Review.SetEffectiveDateAsync("d1", new DateOnly(2026, 2, 3), "tester", Ct);
        Assert.Equal(new DateOnly(2026, 2, 3), dated?.EffectiveDate);
        Assert.Equal(dated, await s.Evidence.GetDocumentAsync("d1", Ct));
        Assert.Null((await s.Review.SetEffectiveDateAsync("d1", null, "tester", Ct))?.EffectiveDate);
        Assert.Null((await s.Evidence.GetDocumentAsync("d1", Ct))?.EffectiveDate);

        var manual = await s.Review.AddManualMappingAsync("d1-p1", "6.1.2", "why", "tester", MappingPolarity.Supports, Ct);
        Assert.NotNull(manual);
        Assert.Equal((MappingMethods.Manual, 1.0, ReviewState.Accepted, "6.1.2", "d1-p1"), (manual.Method, manual.Score, manual.Review, manual.ControlId, manual.PassageId));
        Assert.Equal(manual, await s.Review.GetMappingAsync(manual.Id, Ct));
        Assert.Equal(manual.Id, (await s.Review.AddManualMappingAsync("d1-p1", "6.1.2", "again", "tester", MappingPolarity.Supports, Ct))?.Id); // no second one
        var finding = await s.Review.AddManualMappingAsync("d1-p1", "6.1.2", "not done", "tester", MappingPolarity.Finding, Ct);
        Assert.NotEqual(manual.Id, finding?.Id);
        Assert.Equal(MappingPolarity.Finding, (await s.Review.GetMappingAsync(finding!.Id, Ct))?.Polarity);
        Assert.Equal(["d1-p1"], (await s.Evidence.GetEvidenceAsync("6.1.2", Ct)).Select(e => e.Passage.Id).Distinct());
        Assert.Equal(3, (await s.Evidence.GetPassagesAsync("d1", Ct))[1].Mappings.Count);

        Assert.Equal(
            ["document.effective-date", "document.effective-date", "mapping.add", "mapping.add"],
            (await s.Review.ListAuditAsync(0, 100, Ct)).Select(e => e.Action));
    }

    [Fact]
    public async Task Replacing_suggestions_keeps_reviewed_and_manual_mappings_and_the_ids_of_kept_suggestions()
    {
        var s = await NewStoreAsync();
        await s.Evidence.WriteDocumentAsync(Write("d1", "policy.md", "sha-1", 2, "5.2", "A.2.2", "8.2"), Ct);
        var manual = await s.Review.AddManualMappingAsync("d1-p0", "6.1.2", "by hand", "tester", MappingPolarity.Supports, Ct);

        var changed = await s.Review.ReplaceSuggestionsAsync(
            [
                ("d1-p0", [new MappingSuggestion("5.2", 0.91, "trained", "re-scored"), new MappingSuggestion("7.5", 0.6, "trained", "new"),
                    new MappingSuggestion("A.2.2", 0.7, "trained", "was rejected"), new MappingSuggestion("6.1.2", 0.5, "trained", "was manual")]),
                ("d1-p9", [new MappingSuggestion("5.2", 0.9, "trained", "gone")]),
            ],
            "profile-2",
            Ct);

        Assert.Equal(1, changed);
        var mappings = (await s.Evidence.GetPassagesAsync("d1", Ct))[0].Mappings.ToDictionary(m => m.ControlId);
        Assert.Equal(["5.2", "6.1.2", "7.5", "A.2.2"], mappings.Keys.Order(StringComparer.Ordinal)); // 8.2 was open and not suggested again
        Assert.Equal(("d1-p0-m0", 0.91, "trained", "profile-2", ReviewState.Unreviewed), (mappings["5.2"].Id, mappings["5.2"].Score, mappings["5.2"].Method, mappings["5.2"].ProfileVersion, mappings["5.2"].Review));
        Assert.Equal((ReviewState.Unreviewed, "profile-2"), (mappings["7.5"].Review, mappings["7.5"].ProfileVersion));
        Assert.Equal(("d1-p0-m1", ReviewState.Rejected, "lexical"), (mappings["A.2.2"].Id, mappings["A.2.2"].Review, mappings["A.2.2"].Method));
        Assert.Equal(manual, mappings["6.1.2"]);
        Assert.Equal(3, (await s.Evidence.GetPassagesAsync("d1", Ct))[1].Mappings.Count); // the other passage is untouched
    }

    [Fact]
    public async Task Audit_entries_page_by_id_oldest_first()
    {
        var s = await NewStoreAsync();
        for (var i = 0; i < 7; i++)
        {
            await s.Review.AppendAuditAsync($"actor-{i}", "document.upload", $"file-{i}.md", new { size = i }, Ct);
        }

        var first = await s.Review.ListAuditAsync(0, 3, Ct);
        var rest = await s.Review.ListAuditAsync(first[^1].Id, 100, Ct);
        var all = first.Concat(rest).ToList();
        Assert.Equal((3, 4), (first.Count, rest.Count));
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"file-{i}.md"), all.Select(a => a.Target));
        Assert.Equal(all.Select(a => a.Id).Order(), all.Select(a => a.Id));
        Assert.Equal(all.Count, all.Select(a => a.Id).Distinct().Count());
        Assert.All(all, a => Assert.Equal("document.upload", a.Action));
        Assert.All(all, a => Assert.Null(a.Before));
        Assert.Contains("\"size\":6", all[6].After?.Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        Assert.All(all, a => Assert.InRange(a.At, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Empty(await s.Review.ListAuditAsync(all[^1].Id, 100, Ct));
    }

    [Fact]
    public async Task Api_keys_are_stored_as_hashes_found_by_hash_and_their_creation_is_audited_without_the_key()
    {
        var s = await NewStoreAsync();
        var (record, key) = await s.Review.CreateApiKeyAsync(ApiRole.Reviewer, "admin-1", Ct);
        var (other, otherKey) = await s.Review.CreateApiKeyAsync(ApiRole.Reader, "admin-1", Ct);

        Assert.StartsWith("aims_", key, StringComparison.Ordinal);
        Assert.NotEqual(key, otherKey);
        Assert.NotEqual(record.Id, other.Id);
        Assert.Equal(ApiRole.Reviewer, record.Role);
        Assert.Equal(record, await s.Review.FindApiKeyAsync(ApiKeys.Hash(key), Ct));
        Assert.Equal(other, await s.Review.FindApiKeyAsync(ApiKeys.Hash(otherKey), Ct));
        Assert.Null(await s.Review.FindApiKeyAsync(key, Ct));
        Assert.Null(await s.Review.FindApiKeyAsync(ApiKeys.Hash("aims_not-a-key"), Ct));

        var audit = await s.Review.ListAuditAsync(0, 100, Ct);
        Assert.Equal([record.Id, other.Id], audit.Where(a => a.Action == "apikey.create").Select(a => a.Target));
        Assert.All(audit, a => Assert.DoesNotContain(key, a.After ?? string.Empty, StringComparison.Ordinal));
        Assert.All(audit, a => Assert.DoesNotContain(ApiKeys.Hash(key), a.After ?? string.Empty, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Owners_are_set_replaced_cleared_and_audited()
    {
        var s = await NewStoreAsync();
        await s.Owners.SetOwnerAsync("A.6.2.2", "alice@example.org", new DateOnly(2027, 3, 31), "reviewer-1", Ct);
        await s.Owners.SetOwnerAsync("A.2.2", "bob", null, "reviewer-1", Ct);
        var replaced = await s.Owners.SetOwnerAsync("A.6.2.2", "carol", null, "reviewer-2", Ct);

        var owners = await s.Owners.ListOwnersAsync(Ct);
        Assert.Equal(["A.2.2", "A.6.2.2"], owners.Select(o => o.ControlId));
        Assert.Equal(("carol", (DateOnly?)null, "reviewer-2"), (owners[1].Owner, owners[1].DueDate, owners[1].Actor));
        Assert.Equal(replaced, owners[1]);

        Assert.True(await s.Owners.ClearOwnerAsync("A.6.2.2", "reviewer-2", Ct));
        Assert.False(await s.Owners.ClearOwnerAsync("A.6.2.2", "reviewer-2", Ct));
        Assert.Equal(["A.2.2"], (await s.Owners.ListOwnersAsync(Ct)).Select(o => o.ControlId));

        var audit = (await s.Review.ListAuditAsync(0, 100, Ct)).Where(a => a.Action == "control.owner").ToList();
        Assert.Equal(["A.6.2.2", "A.2.2", "A.6.2.2", "A.6.2.2"], audit.Select(a => a.Target));
        Assert.Contains("2027-03-31", audit[0].After, StringComparison.Ordinal);
        Assert.Null(audit[0].Before);
        Assert.Contains("alice@example.org", audit[2].Before, StringComparison.Ordinal);
        Assert.Null(audit[3].After);
    }

    [Fact]
    public async Task A_digest_day_is_claimed_once_until_released_and_the_last_earlier_day_is_found()
    {
        var s = await NewStoreAsync();
        var day = new DateOnly(2026, 12, 3);
        Assert.Null(await s.Digests.GetLastDigestBeforeAsync(day, Ct));
        Assert.True(await s.Digests.TryClaimDigestAsync(day.AddDays(-40), ["A.2.2"], Ct));
        Assert.True(await s.Digests.TryClaimDigestAsync(day.AddDays(-2), ["6.1.2"], Ct));
        Assert.True(await s.Digests.TryClaimDigestAsync(day, ["A.6.2.2", "6.1.2"], Ct));

        var other = await s.Reopen();
        Assert.False(await other.Digests.TryClaimDigestAsync(day, [], Ct));
        await other.Digests.ReleaseDigestAsync(day, Ct);
        await other.Digests.ReleaseDigestAsync(day, Ct); // nothing left to give back: no error
        Assert.True(await s.Digests.TryClaimDigestAsync(day, ["A.6.2.2", "6.1.2"], Ct));

        var last = await other.Digests.GetLastDigestBeforeAsync(day.AddDays(1), Ct);
        Assert.Equal(day, last?.Day);
        Assert.Equal(["A.6.2.2", "6.1.2"], last!.Gaps);
        Assert.Equal(day.AddDays(-2), (await other.Digests.GetLastDigestBeforeAsync(day, Ct))?.Day);
        Assert.Equal(day.AddDays(-40), (await other.Digests.GetLastDigestBeforeAsync(day.AddDays(-2), Ct))?.Day);
        Assert.Null(await other.Digests.GetLastDigestBeforeAsync(day.AddDays(-40), Ct));
    }

    [Fact]
    public async Task Applicability_keeps_the_latest_decision_per_entry_and_audits_each_change()
    {
        var s = await NewStoreAsync();
        Assert.Empty(await s.Applicability.ListApplicabilityAsync(Ct));
        var first = await s.Applicability.SetApplicabilityAsync("A.10.3", false, "no suppliers of AI components", "reviewer-1", Ct);
        await s.Applicability.SetApplicabilityAsync("A.2.2", true, "policy in force", "reviewer-1", Ct);
        var latest = await s.Applicability.SetApplicabilityAsync("A.10.3", true, "a supplier was added", "reviewer-2", Ct);

        Assert.Equal(("A.10.3", false, "no suppliers of AI components", "reviewer-1"), (first.ControlId, first.Applicable, first.Justification, first.Actor));
        var list = await s.Applicability.ListApplicabilityAsync(Ct);
        Assert.Equal(["A.10.3", "A.2.2"], list.Select(d => d.ControlId));
        Assert.Equal((true, "a supplier was added", "reviewer-2"), (list[0].Applicable, list[0].Justification, list[0].Actor));
        Assert.Equal(latest.At.ToUnixTimeSeconds(), list[0].At.ToUnixTimeSeconds());

        var audit = (await s.Review.ListAuditAsync(0, 100, Ct)).Where(a => a.Action == "control.applicability").ToList();
        Assert.Equal(["A.10.3", "A.2.2", "A.10.3"], audit.Select(a => a.Target));
        Assert.Null(audit[0].Before);
        Assert.Contains("no suppliers of AI components", audit[2].Before, StringComparison.Ordinal);
        Assert.Contains("a supplier was added", audit[2].After, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingestion_attempts_count_until_ended_per_content()
    {
        var s = await NewStoreAsync();
        const string sha = "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        const string otherSha = "6d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

        Assert.Equal(0, await s.Attempts.BeginAttemptAsync(sha, "a.md", Ct));
        Assert.Equal(1, await s.Attempts.BeginAttemptAsync(sha, "a.md", Ct));
        Assert.Equal(0, await s.Attempts.BeginAttemptAsync(otherSha, "b.md", Ct));
        Assert.Equal(2, await (await s.Reopen()).Attempts.BeginAttemptAsync(sha, "a.md", Ct)); // durable: a restarted process sees them
        await s.Attempts.EndAttemptAsync(sha, Ct);
        await s.Attempts.EndAttemptAsync(sha, Ct); // ending twice is harmless
        Assert.Equal(0, await s.Attempts.BeginAttemptAsync(sha, "a.md", Ct));
        Assert.Equal(1, await s.Attempts.BeginAttemptAsync(otherSha, "b.md", Ct));
    }

    [Fact]
    public async Task Another_instance_over_the_same_data_sees_every_write_and_initialising_again_keeps_it()
    {
        var s = await NewStoreAsync();
        var stored = await s.Evidence.WriteDocumentAsync(Write("d1", "policy.md", "sha-1", 2, "5.2"), Ct);
        await s.Review.ReviewMappingAsync("d1-p0-m0", ReviewState.Accepted, "reviewer-1", null, Ct);
        await s.Owners.SetOwnerAsync("5.2", "alice", null, "reviewer-1", Ct);
        var (key, secret) = await s.Review.CreateApiKeyAsync(ApiRole.Admin, "bootstrap", Ct);

        var other = await s.Reopen();
        await other.Evidence.InitializeAsync(Ct);

        Assert.Equal(stored, await other.Evidence.GetDocumentAsync("d1", Ct));
        Assert.Equal(ReviewState.Accepted, (await other.Review.GetMappingAsync("d1-p0-m0", Ct))?.Review);
        Assert.Equal(["alice"], (await other.Owners.ListOwnersAsync(Ct)).Select(o => o.Owner));
        Assert.Equal(key, await other.Review.FindApiKeyAsync(ApiKeys.Hash(secret), Ct));
        Assert.Equal(
            (await s.Review.ListAuditAsync(0, 100, Ct)).Select(a => a.Id),
            (await other.Review.ListAuditAsync(0, 100, Ct)).Select(a => a.Id));
    }
}
