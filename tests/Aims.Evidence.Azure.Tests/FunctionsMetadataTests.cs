using System.Text.Json.Nodes;
using Aims.Evidence.Azure.Configuration;
using Aims.Evidence.Azure.Tests.Infrastructure;
using Aims.Evidence.Hosting;
using Microsoft.Extensions.Configuration;

namespace Aims.Evidence.Azure.Tests;

/// <summary>The Functions SDK's generated functions.metadata is what the host indexes: assert it.</summary>
public sealed class FunctionsMetadataTests
{
    private static JsonArray Metadata()
    {
        var path = Path.Combine(TestPaths.BuildOutput("Aims.Evidence.Functions"), "functions.metadata");
        Assert.True(File.Exists(path), $"functions.metadata not found at {path}; build the Functions project.");
        return JsonNode.Parse(File.ReadAllText(path))!.AsArray();
    }

    [Fact]
    public void Declares_exactly_the_expected_functions()
    {
        var names = Metadata().Select(f => f!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal);
        Assert.Equal(["AddAiSystem", "AddManualMapping", "AuditLog", "ClearOwner", "CreateKey", "EditAiSystem", "ExportOscal", "ExportPack", "ExportSoa", "GetAiSystem", "GetControl", "GetCoverage", "GetDocument", "GetFrameworkCoverage", "GetMe", "Health", "IngestBlob", "ListAiSystems", "ListControls", "ListDocuments", "ListFrameworks", "ListGaps", "ListTasks", "ReviewMapping", "RevokeKey", "Search", "SendDigest", "SetApplicability", "SetEffectiveDate", "SetOwner", "UploadDocument"], names);
    }

    public static TheoryData<string, string, string> ReadRoutes() => new()
    {
        { "ListControls", "ListControls", "v1/controls" },
        { "GetControl", "GetControl", "v1/controls/{id}" },
        { "ListGaps", "ListGaps", "v1/gaps" },
        { "GetCoverage", "GetCoverage", "v1/coverage" },
        { "ListDocuments", "ListDocuments", "v1/documents" },
        { "GetDocument", "GetDocument", "v1/documents/{id}" },
        { "Search", "Search", "v1/search" },
        { "ExportSoa", "ExportSoa", "v1/exports/soa" },
        { "ExportOscal", "ExportOscal", "v1/exports/oscal" },
        { "ExportPack", "ExportPack", "v1/exports/pack" },
        { "ListFrameworks", "ListFrameworks", "v1/frameworks" },
        { "GetFrameworkCoverage", "GetFrameworkCoverage", "v1/frameworks/{id}/coverage" },
    };

    /// <summary>Routes under the default "api" prefix (host.json sets no routePrefix), so they come out as /api/v1/... like the API.</summary>
    [Theory]
    [MemberData(nameof(ReadRoutes))]
    public void Read_routes_are_function_key_gets_under_api_v1(string name, string method, string route)
    {
        var function = Metadata().Single(f => f!["name"]!.GetValue<string>() == name)!;
        Assert.Equal("Aims.Evidence.Functions.ReadApiFunctions." + method, function["entryPoint"]!.GetValue<string>());
        var bindings = function["bindings"]!.AsArray();
        var trigger = bindings.Single(b => b!["type"]!.GetValue<string>() == "httpTrigger")!;
        Assert.Equal(route, trigger["route"]!.GetValue<string>());
        Assert.Equal(["get"], trigger["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal("Function", trigger["authLevel"]!.GetValue<string>());
        Assert.Contains(bindings, b => b!["type"]!.GetValue<string>() == "http" && b["direction"]!.GetValue<string>() == "Out");
    }

    public static TheoryData<string, string, string> WriteRoutes() => new()
    {
        { "UploadDocument", "post", "v1/documents" },
        { "CreateKey", "post", "v1/keys" },
        { "ReviewMapping", "post", "v1/mappings/{id}/review" },
        { "AddManualMapping", "post", "v1/passages/{id}/mappings" },
        { "SetEffectiveDate", "put", "v1/documents/{id}/effective-date" },
        { "SetApplicability", "put", "v1/controls/{id}/applicability" },
        { "SetOwner", "put", "v1/controls/{id}/owner" },
        { "ClearOwner", "delete", "v1/controls/{id}/owner" },
        { "ListTasks", "get", "v1/tasks" },
        { "AuditLog", "get", "v1/audit-log" },
        { "ListAiSystems", "get", "v1/ai-systems" },
        { "GetAiSystem", "get", "v1/ai-systems/{id}" },
        { "AddAiSystem", "post", "v1/ai-systems" },
        { "EditAiSystem", "post", "v1/ai-systems/{id}/edits" },
    };

    /// <summary>
    /// Routes that need an X-Api-Key (the writes, and the audit log as in the API): behind the function key too, the
    /// role checked in code (see WriteRoutesContractTests).
    /// </summary>
    [Theory]
    [MemberData(nameof(WriteRoutes))]
    public void Keyed_routes_are_function_key_triggers_under_api_v1(string name, string method, string route)
    {
        var function = Metadata().Single(f => f!["name"]!.GetValue<string>() == name)!;
        Assert.Equal("Aims.Evidence.Functions.WriteApiFunctions." + name, function["entryPoint"]!.GetValue<string>());
        var bindings = function["bindings"]!.AsArray();
        var trigger = bindings.Single(b => b!["type"]!.GetValue<string>() == "httpTrigger")!;
        Assert.Equal(route, trigger["route"]!.GetValue<string>());
        Assert.Equal([method], trigger["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal("Function", trigger["authLevel"]!.GetValue<string>());
        Assert.Contains(bindings, b => b!["type"]!.GetValue<string>() == "http" && b["direction"]!.GetValue<string>() == "Out");
    }

    /// <summary>The calling key's role and key revocation: X-Api-Key routes of <c>KeyFunctions</c>, behind the function key too.</summary>
    [Theory]
    [InlineData("GetMe", "get", "v1/me")]
    [InlineData("RevokeKey", "delete", "v1/keys/{id}")]
    public void Key_routes_are_function_key_triggers_under_api_v1(string name, string method, string route)
    {
        var function = Metadata().Single(f => f!["name"]!.GetValue<string>() == name)!;
        Assert.Equal("Aims.Evidence.Functions.KeyFunctions." + name, function["entryPoint"]!.GetValue<string>());
        var trigger = function["bindings"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "httpTrigger")!;
        Assert.Equal(route, trigger["route"]!.GetValue<string>());
        Assert.Equal([method], trigger["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal("Function", trigger["authLevel"]!.GetValue<string>());
    }

    [Fact]
    public void Host_json_keeps_the_default_api_route_prefix()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "host.json")))!;
        Assert.Null(host["extensions"]?["http"]?["routePrefix"]);
    }

    /// <summary>
    /// The trigger's container comes from the one inbox setting: the host resolves <c>%Aims:Azure:InboxContainer%</c>
    /// from the app setting <c>Aims__Azure__InboxContainer</c>, the same one the options (and so uploads) bind, which
    /// the Bicep and the local settings example set.
    /// </summary>
    [Fact]
    public void IngestBlob_is_an_event_grid_blob_trigger_on_the_inbox_setting()
    {
        var function = Metadata().Single(f => f!["name"]!.GetValue<string>() == "IngestBlob")!;
        Assert.Equal("Aims.Evidence.Functions.IngestBlobFunction.RunAsync", function["entryPoint"]!.GetValue<string>());
        var trigger = function["bindings"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "blobTrigger")!;
        Assert.Equal("%Aims:Azure:InboxContainer%/{name}", trigger["path"]!.GetValue<string>());
        Assert.Equal("EventGrid", trigger["source"]!.GetValue<string>());
        Assert.Equal("AzureWebJobsStorage", trigger["connection"]!.GetValue<string>());

        var bound = AimsComposition.BindSection<AimsAzureOptions>(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Aims:Azure:InboxContainer"] = "custom-inbox" }).Build(),
            AimsAzureOptions.SectionName);
        Assert.Equal("custom-inbox", bound.InboxContainer);
        Assert.Equal("evidence-inbox", new AimsAzureOptions().InboxContainer);
        Assert.Contains("name: 'Aims__Azure__InboxContainer'", File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "infra", "modules", "resources.bicep")), StringComparison.Ordinal);
        Assert.Contains("\"Aims__Azure__InboxContainer\": \"evidence-inbox\"", File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "src", "Aims.Evidence.Functions", "local.settings.json.example")), StringComparison.Ordinal);
    }

    [Fact]
    public void SendDigest_is_a_timer_on_the_digest_schedule_setting()
    {
        var function = Metadata().Single(f => f!["name"]!.GetValue<string>() == "SendDigest")!;
        Assert.Equal("Aims.Evidence.Functions.DigestFunction.Run", function["entryPoint"]!.GetValue<string>());
        var trigger = function["bindings"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "timerTrigger")!;
        Assert.Equal("%AimsDigestSchedule%", trigger["schedule"]!.GetValue<string>());
        Assert.Equal("In", trigger["direction"]!.GetValue<string>());
    }

    [Fact]
    public void Health_is_an_anonymous_get_on_v1_health()
    {
        var function = Metadata().Single(f => f!["name"]!.GetValue<string>() == "Health")!;
        var trigger = function["bindings"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "httpTrigger")!;
        Assert.Equal("v1/health", trigger["route"]!.GetValue<string>());
        Assert.Equal(["get"], trigger["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal("Anonymous", trigger["authLevel"]!.GetValue<string>());
    }

    [Fact]
    public void Output_has_host_json_and_worker_config()
    {
        Assert.True(File.Exists(Path.Combine(TestPaths.BuildOutput("Aims.Evidence.Functions"), "host.json")));
        Assert.True(File.Exists(Path.Combine(TestPaths.BuildOutput("Aims.Evidence.Functions"), "worker.config.json")));
        Assert.True(File.Exists(Path.Combine(TestPaths.BuildOutput("Aims.Evidence.Functions"), "extensions.json")));
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "host.json")))!;
        Assert.Equal("2.0", host["version"]!.GetValue<string>());
        Assert.NotNull(host["extensions"]!["blobs"]!["maxDegreeOfParallelism"]);
        Assert.NotNull(host["extensions"]!["queues"]!["batchSize"]);
    }

    [Fact]
    public void Health_returns_ok()
    {
        var result = Aims.Evidence.Functions.HealthFunction.Run(new Microsoft.AspNetCore.Http.DefaultHttpContext().Request);
        var ok = Assert.IsType<Microsoft.AspNetCore.Mvc.OkObjectResult>(result);
        Assert.Equal("ok", Assert.IsType<Aims.Evidence.Functions.HealthReport>(ok.Value).Status);
    }
}
