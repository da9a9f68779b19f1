using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Aims.Evidence.Api;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Local;
using Microsoft.Extensions.DependencyInjection;

namespace Aims.Evidence.Api.Tests;

/// <summary>A review through the API re-scores similar passages in the background (its own database: it changes suggestions).</summary>
[Trait(Tiers.Name, Tiers.Integration)]
public sealed class ReviewLearningApiTests
{
    private const string Supplier = "Suppliers of AI components are assessed before contract signature and every year thereafter against our responsible AI requirements, and the assessment covers data handling, model documentation and incident notification.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Policy(string supplier, string extra) => $"# AI policy\n\n## Suppliers\n\n{supplier}\n\n## Notes\n\n{extra}\n";

    [Fact]
    public async Task Rejecting_through_the_api_lowers_the_same_entry_on_a_similar_passage_in_the_background()
    {
        var dir = Directory.CreateTempSubdirectory("aims-review-learning-");
        try
        {
            using var aims = await LocalAims.OpenAsync(Path.Combine(dir.FullName, "aims.db"), cancellationToken: Ct);
            var pipeline = aims.CreatePipeline();
            await pipeline.IngestAsync("policy.md", Encoding.UTF8.GetBytes(Policy(Supplier, "Reviewed yearly by the AI officer.")), Ct);
            await pipeline.IngestAsync("procurement.md", Encoding.UTF8.GetBytes(Policy(Supplier.Replace("every year thereafter", "each year after that", StringComparison.Ordinal), "Owned by procurement.")), Ct);
            var reviewer = (await aims.Store.CreateApiKeyAsync(ApiRole.Reviewer, "test", Ct)).Key;

            var (reviewedMapping, entry) = await TopSupplierMappingAsync(aims, "policy.md");
            var similar = (await SupplierPassageAsync(aims, "procurement.md")).Mappings.Single(m => m.ControlId == entry);

            await using var factory = new AimsApiFactory(aims, Path.Combine(dir.FullName, "inbox"), learnFromReviews: true);
            using var client = factory.CreateClient();
            client.DefaultRequestHeaders.Add("X-Api-Key", reviewer);
            var learning = factory.Services.GetRequiredService<ReviewLearningService>();
            var response = await client.PostAsJsonAsync($"/api/v1/mappings/{reviewedMapping}/review", new { decision = "reject" }, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("rejected", JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["review"]!.GetValue<string>());

            // The answer did not wait for the re-scoring; it follows within seconds.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (learning.Completed < learning.Requested && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, Ct);
            }

            Assert.True(learning.Completed >= 1, "the background re-scoring ran");
            Assert.NotNull(learning.Last);
            Assert.Contains((await SupplierPassageAsync(aims, "procurement.md")).Passage.Id, learning.Last.Changed);
            var after = (await SupplierPassageAsync(aims, "procurement.md")).Mappings.SingleOrDefault(m => m.ControlId == entry);
            Assert.True(after is null || after.Score < similar.Score, $"{after?.Score} < {similar.Score}");
            if (after is not null)
            {
                Assert.Equal(similar.Id, after.Id); // a suggestion that stays keeps its id
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            dir.Delete(recursive: true);
        }
    }

    private static async Task<PassageWithMappings> SupplierPassageAsync(LocalAims aims, string name)
    {
        var doc = (await aims.Store.ListDocumentsAsync(false, Ct)).Single(d => d.Name == name);
        return (await aims.Store.GetPassagesAsync(doc.Id, Ct)).Single(p => p.Passage.Text.Contains("AI components", StringComparison.Ordinal));
    }

    private static async Task<(string MappingId, string Entry)> TopSupplierMappingAsync(LocalAims aims, string name)
    {
        var top = (await SupplierPassageAsync(aims, name)).Mappings.OrderByDescending(m => m.Score).First();
        return (top.Id, top.ControlId);
    }
}
