using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Aims.Evidence.Functions;

/// <summary><c>GET api/v1/health</c>: liveness of the worker, anonymous (no data is returned).</summary>
public sealed class HealthFunction
{
    public const string FunctionName = "Health";

    private static readonly string Version =
        typeof(HealthFunction).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    [Function(FunctionName)]
    public static IActionResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/health")] HttpRequest request) =>
        new OkObjectResult(new HealthReport("ok", Version, DateTimeOffset.UtcNow));
}

public sealed record HealthReport(string Status, string Version, DateTimeOffset Time);
