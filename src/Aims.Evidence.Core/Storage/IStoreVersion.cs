namespace Aims.Evidence.Core.Storage;

/// <summary>
/// A store that can tell, cheaply, whether anything the read side depends on changed: the version grows on every
/// write to documents or mappings (from any process). Read models may be cached per version.
/// </summary>
public interface IStoreVersion
{
    Task<long> GetVersionAsync(CancellationToken cancellationToken = default);
}
