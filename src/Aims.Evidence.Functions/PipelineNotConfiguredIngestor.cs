using Aims.Evidence.Core.Pipeline;

namespace Aims.Evidence.Functions;

/// <summary>
/// Stands in until the ingestion pipeline is registered: every call fails with a clear reason (recorded in the
/// status table). Register the real <see cref="IDocumentIngestor"/> in <c>Program.cs</c> to replace it.
/// </summary>
internal sealed class PipelineNotConfiguredIngestor : IDocumentIngestor
{
    public Task<IngestOutcome> IngestAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("No ingestion pipeline is registered in this Functions app (IDocumentIngestor).");
}
