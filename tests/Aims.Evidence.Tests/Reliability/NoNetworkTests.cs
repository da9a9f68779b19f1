using System.Diagnostics.Tracing;
using System.Net;
using System.Net.Sockets;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Hosting;
using Aims.Evidence.Local;

namespace Aims.Evidence.Tests.Reliability;

[CollectionDefinition(nameof(NoNetworkGroup), DisableParallelization = true)]
public sealed class NoNetworkGroup;

/// <summary>
/// Data protection: the embedded default (hybrid mapper, local ONNX model, SQLite) ingests the samples without a
/// single outbound connection, DNS lookup or HTTP request. Runs alone so no other test's traffic is counted.
/// </summary>
[Collection(nameof(NoNetworkGroup))]
[Trait(Tiers.Name, Tiers.Integration)]
public sealed class NoNetworkTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Records every connect, DNS resolution and HTTP request the runtime's networking stack starts.</summary>
    private sealed class NetworkRecorder : EventListener
    {
        private static readonly string[] Sources = ["System.Net.Sockets", "System.Net.NameResolution", "System.Net.Http"];
        private static readonly string[] StartEvents = ["ConnectStart", "ResolutionStart", "RequestStart"];
        private readonly List<string> _events = [];

        public IReadOnlyList<string> Events
        {
            get
            {
                lock (_events)
                {
                    return [.. _events];
                }
            }
        }

        public void Clear()
        {
            lock (_events)
            {
                _events.Clear();
            }
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (Array.IndexOf(Sources, eventSource.Name) >= 0)
            {
                EnableEvents(eventSource, EventLevel.Verbose, EventKeywords.All);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName is { } name && Array.IndexOf(StartEvents, name) >= 0)
            {
                var payload = eventData.Payload is null ? string.Empty : string.Join(", ", eventData.Payload);
                lock (_events)
                {
                    _events.Add($"{eventData.EventSource.Name}/{name}: {payload}");
                }
            }
        }
    }

    [Fact]
    public async Task Embedded_default_ingests_the_samples_without_any_network_activity()
    {
        using var recorder = new NetworkRecorder();

        // Positive control: the recorder does see a connect (to a listener of our own on loopback).
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync((IPEndPoint)listener.LocalEndpoint, Ct);
        }

        Assert.Contains(recorder.Events, e => e.StartsWith("System.Net.Sockets/ConnectStart", StringComparison.Ordinal));
        recorder.Clear();

        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, new AimsSettings(), Ct); // the default: the trained mapper over the local models
        Assert.Equal(MapperKinds.Trained, aims.Settings.Mapping.Mapper);
        var pipeline = aims.CreatePipeline();
        var outcomes = new List<IngestOutcome>();
        foreach (var file in Directory.GetFiles(TestPaths.SamplesDir).Order(StringComparer.Ordinal))
        {
            outcomes.Add(await pipeline.IngestAsync(Path.GetFileName(file), await File.ReadAllBytesAsync(file, Ct), Ct));
        }

        var report = await aims.Evidence.GetGapReportAsync(Ct);
        Assert.Equal(74, report.Entries.Count);
        Assert.NotEmpty(outcomes);
        Assert.All(outcomes, o => Assert.Equal(IngestStatus.Processed, o.Status));
        Assert.Empty(recorder.Events);
    }
}
