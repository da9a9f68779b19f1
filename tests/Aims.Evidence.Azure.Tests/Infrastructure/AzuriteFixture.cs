using System.Diagnostics;
using System.Security.Cryptography;
using Aims.Evidence.Azure.Configuration;
using Azure.Data.Tables;
using Azure.Storage.Blobs;

[assembly: AssemblyFixture(typeof(Aims.Evidence.Azure.Tests.Infrastructure.AzuriteFixture))]

namespace Aims.Evidence.Azure.Tests.Infrastructure;

/// <summary>
/// Starts Azurite (from the repository's node_modules, installed by <c>npm ci</c>) once for the test assembly,
/// on free loopback ports with a throw-away data folder and an account whose key is generated at start
/// (AZURITE_ACCOUNTS), so no key is written anywhere. Tests call <see cref="Require"/>, which skips them with a
/// clear message when Azurite is not installed or did not start.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private const string Account = "aimstest";
    private Process? _process;
    private string? _dataDir;
    private string? _unavailable;

    public string ConnectionString { get; private set; } = string.Empty;

    public string AzuritePath { get; } = Path.Combine(TestPaths.RepoRoot, "node_modules", ".bin", "azurite");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(AzuritePath))
        {
            _unavailable = $"Azurite is not installed at {AzuritePath}; run `npm ci` in the repository root. Azurite tests are skipped.";
            return;
        }

        var blobPort = FreePort.Next();
        var queuePort = FreePort.Next();
        var tablePort = FreePort.Next();
        _dataDir = Directory.CreateTempSubdirectory("aims-azurite-").FullName;
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));

        var start = new ProcessStartInfo(AzuritePath)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dataDir,
        };
        foreach (var arg in new[]
        {
            "--silent", "--location", _dataDir, "--disableTelemetry", "--skipApiVersionCheck",
            "--blobHost", "127.0.0.1", "--blobPort", blobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--queueHost", "127.0.0.1", "--queuePort", queuePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tableHost", "127.0.0.1", "--tablePort", tablePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["AZURITE_ACCOUNTS"] = $"{Account}:{key}";
        _process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var timeout = TimeSpan.FromSeconds(30);
        if (!await FreePort.WaitUntilOpenAsync(blobPort, timeout) || !await FreePort.WaitUntilOpenAsync(queuePort, timeout)
            || !await FreePort.WaitUntilOpenAsync(tablePort, timeout))
        {
            _unavailable = "Azurite did not open its ports within 30 s; Azurite tests are skipped.";
            return;
        }

        ConnectionString =
            $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={key};" +
            $"BlobEndpoint=http://127.0.0.1:{blobPort}/{Account};" +
            $"QueueEndpoint=http://127.0.0.1:{queuePort}/{Account};" +
            $"TableEndpoint=http://127.0.0.1:{tablePort}/{Account};";
    }

    /// <summary>Skips the calling test when Azurite is unavailable.</summary>
    public void Require()
    {
        if (_unavailable is not null)
        {
            Assert.Skip(_unavailable);
        }
    }

    public BlobServiceClient Blobs() => new(ConnectionString, StorageClientOptions.Blobs());

    public TableServiceClient Tables() => new(ConnectionString);

    /// <summary>A table prefix no other test uses (table names: letters and digits).</summary>
    public static string UniquePrefix() => "t" + Guid.NewGuid().ToString("N")[..12];

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        if (_dataDir is not null)
        {
            TempDir.Delete(_dataDir);
        }
    }
}
