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
/// <c>GET /api/v1/me</c> and <c>DELETE /api/v1/keys/{id}</c> in both hosts over one key table in Azurite: the same
/// statuses and bodies, and a key revoked through either host gets 401 from both at its next request.
/// </summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class KeyRoutesContractTests(AzuriteFixture azurite)
{
    private const string AdminKey = "key-contract-admin-key";

    [Fact]
    public async Task Me_and_revocation_answer_the_same_in_both_hosts_and_a_revoked_key_gets_401_in_both()
    {
        azurite.Require();
        var ct = TestContext.Current.CancellationToken;
        await using var hosts = await ContractHosts.CreateAsync(
            azurite,
            new Dictionary<string, string?> { ["Aims:Azure:AdminKeySha256"] = ApiKeys.Hash(AdminKey) },
            _ => { },
            functions => functions.GetRequiredService<IReviewStore>(),
            ct);
        var keys = hosts.Functions.GetRequiredService<TableApiKeyStore>();
        var functions = ActivatorUtilities.CreateInstance<KeyFunctions>(hosts.Functions);

        async Task<(int Status, string Body)> SameAsync(string method, string route, string? key, int expected)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), "/api/v1/" + route);
            if (key is not null)
            {
                request.Headers.Add(ApiKeyAuthenticationHandler.HeaderName, key);
            }

            using var response = await hosts.Api.SendAsync(request, ct);
            var apiBody = await response.Content.ReadAsStringAsync(ct);
            var (fnStatus, _, fnBody, _) = await hosts.InvokeFunctionAsync(method, route, key, null, null, async (r, segments) => (method, segments) switch
            {
                ("GET", ["me"]) => await functions.GetMe(r, ct),
                ("DELETE", ["keys", var id]) => await functions.RevokeKey(r, id, ct),
                _ => throw new ArgumentException($"no function for {method} {route}", nameof(route)),
            });
            Assert.Equal(expected, (int)response.StatusCode);
            Assert.Equal(expected, fnStatus);
            Assert.True(JsonNode.DeepEquals(WithoutTraceId(apiBody), WithoutTraceId(fnBody)), $"bodies differ:\n{apiBody}\n{fnBody}");
            return (fnStatus, fnBody);
        }

        var first = await keys.CreateAsync(ApiRole.Reader, "test", ct);
        var second = await keys.CreateAsync(ApiRole.Reviewer, "test", ct);

        await SameAsync("GET", "me", null, 401);
        await SameAsync("GET", "me", "aims_" + new string('x', 43), 401);
        var me = JsonNode.Parse((await SameAsync("GET", "me", first.Key, 200)).Body)!;
        Assert.Equal(first.Record.Id, me["id"]!.GetValue<string>());
        Assert.Equal("reader", me["role"]!.GetValue<string>());
        Assert.Equal("reviewer", JsonNode.Parse((await SameAsync("GET", "me", second.Key, 200)).Body)!["role"]!.GetValue<string>());
        Assert.Equal("admin", JsonNode.Parse((await SameAsync("GET", "me", AdminKey, 200)).Body)!["role"]!.GetValue<string>());
        Assert.DoesNotContain("aims_", (await SameAsync("GET", "me", first.Key, 200)).Body, StringComparison.Ordinal);

        // Below admin: 403 in both; an unknown id: 404 in both.
        await SameAsync("DELETE", "keys/" + first.Record.Id, second.Key, 403);
        await SameAsync("DELETE", "keys/no-such-key", AdminKey, 404);

        // Revoked through the API: 401 in both at once; the same through the function for the other key.
        using (var request = new HttpRequestMessage(HttpMethod.Delete, "/api/v1/keys/" + first.Record.Id))
        {
            request.Headers.Add(ApiKeyAuthenticationHandler.HeaderName, AdminKey);
            using var response = await hosts.Api.SendAsync(request, ct);
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal("reader", JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!["role"]!.GetValue<string>());
        }

        await SameAsync("GET", "me", first.Key, 401);
        var (status, _, body, _) = await hosts.InvokeFunctionAsync("DELETE", "keys/" + second.Record.Id, AdminKey, null, null, async (r, s) => await functions.RevokeKey(r, s[1], ct));
        Assert.Equal(200, status);
        Assert.Equal(second.Record.Id, JsonNode.Parse(body)!["id"]!.GetValue<string>());
        await SameAsync("GET", "me", second.Key, 401);
        Assert.Null(await keys.FindAsync(ApiKeys.Hash(second.Key), ct));
        await SameAsync("DELETE", "keys/" + second.Record.Id, AdminKey, 404);

        // Both revocations audited with the admin as actor, the id and the role before, never the key.
        var audit = (await hosts.Functions.GetRequiredService<IReviewStore>().ListAuditAsync(0, 1000, ct)).Where(a => a.Action == "apikey.revoke").ToList();
        Assert.Equal([first.Record.Id, second.Record.Id], audit.Select(a => a.Target));
        Assert.All(audit, a => Assert.Equal(TableApiKeyStore.BootstrapAdminId, a.Actor));
        Assert.All(audit, a => Assert.DoesNotContain("aims_", (a.Before ?? "") + (a.After ?? ""), StringComparison.Ordinal));
        Assert.Contains("Reviewer", audit[1].Before ?? "", StringComparison.OrdinalIgnoreCase);
    }

    private static JsonNode WithoutTraceId(string body)
    {
        var node = JsonNode.Parse(body)!;
        if (node is JsonObject o)
        {
            o.Remove("traceId");
        }

        return node;
    }
}
