namespace Aims.Evidence.TestSupport;

/// <summary>
/// Test tiers, set per class with <c>[Trait(Tiers.Name, Tiers.Slow)]</c>. A class without the trait is fast: in-process,
/// no child processes, no external servers. <c>dotnet test --filter "Tier!=Slow&amp;Tier!=Integration"</c> runs the fast tier.
/// </summary>
public static class Tiers
{
    public const string Name = "Tier";

    /// <summary>Hosts and servers in process or on loopback (a TestServer, Kestrel, a fake OpenAI server), the local models, the shared corpus.</summary>
    public const string Integration = "Integration";

    /// <summary>Child processes, external tools or minutes: soak, crash, headless browser, Azurite, Bicep, model rebuilds, CLI processes, evaluations.</summary>
    public const string Slow = "Slow";
}
