using Aims.Evidence.Core.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Aims.Evidence.Api.Tests;

[CollectionDefinition(nameof(SoakGroup), DisableParallelization = true)]
public sealed class SoakGroup;

/// <summary>The inbox watcher's bounded parallelism, which the soak (aims-tools bench soak, tests/Aims.Evidence.Tools.Tests) loads.</summary>
[Collection(nameof(SoakGroup))]
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class SoakTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Records how many ingestions run at once, overall and per name; each takes a while so they overlap.</summary>
    private sealed class ConcurrencyProbe : IDocumentIngestor
    {
        private readonly Dictionary<string, int> _perName = new(StringComparer.Ordinal);
        private int _current;

        public int MaxConcurrent { get; private set; }

        public int MaxSameName { get; private set; }

        private readonly List<string> _names = [];

        public string[] Handled()
        {
            lock (_perName)
            {
                return [.. _names];
            }
        }

        public async Task<IngestOutcome> IngestAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
        {
            lock (_perName)
            {
                _current++;
                MaxConcurrent = Math.Max(MaxConcurrent, _current);
                _perName[name] = _perName.GetValueOrDefault(name) + 1;
                MaxSameName = Math.Max(MaxSameName, _perName[name]);
            }

            await Task.Delay(400, cancellationToken);
            lock (_perName)
            {
                _current--;
                _perName[name]--;
                _names.Add(name);
            }

            return new IngestOutcome(name, IngestStatus.Processed, null, null);
        }
    }

    [Fact]
    public async Task Inbox_watcher_ingests_in_parallel_up_to_the_bound_and_never_one_path_twice_at_once()
    {
        var inbox = Path.Combine(Path.GetTempPath(), "aims-soak-inbox-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(inbox);
        var probe = new ConcurrencyProbe();
        using var services = new ServiceCollection().AddSingleton<IDocumentIngestor>(probe).BuildServiceProvider();
        using var watcher = new InboxIngestionService(
            // Settle 0: each file is handled as soon as it lands, so doc-00.md is rewritten while it is in flight.
            Options.Create(new AimsApiOptions { InboxPath = inbox, WatchInbox = true, IngestConcurrency = 3, InboxSettleMilliseconds = 0 }),
            services,
            NullLogger<InboxIngestionService>.Instance);
        try
        {
            await watcher.StartAsync(Ct);
            for (var i = 0; i < 12; i++)
            {
                var temp = Path.Combine(inbox, $".doc-{i:D2}.md.part");
                await File.WriteAllTextAsync(temp, $"document {i}", Ct);
                File.Move(temp, Path.Combine(inbox, $"doc-{i:D2}.md"));
            }

            // The same file rewritten while it is being handled: handled again afterwards, never concurrently.
            await Task.Delay(500, Ct);
            await File.AppendAllTextAsync(Path.Combine(inbox, "doc-00.md"), " changed", Ct);

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline && probe.Handled().Distinct(StringComparer.Ordinal).Count() < 12)
            {
                await Task.Delay(100, Ct);
            }

            await Task.Delay(1500, Ct); // room for a re-handling of doc-00.md
            var names = probe.Handled();
            Assert.Equal(12, names.Distinct(StringComparer.Ordinal).Count());
            Assert.Equal(3, probe.MaxConcurrent);
            Assert.Equal(1, probe.MaxSameName);
            Assert.Contains("doc-00.md", names);
        }
        finally
        {
            await watcher.StopAsync(CancellationToken.None);
            Directory.Delete(inbox, recursive: true);
        }
    }
}
