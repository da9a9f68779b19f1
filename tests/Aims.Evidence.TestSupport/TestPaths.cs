namespace Aims.Evidence.TestSupport;

/// <summary>Locates the repository, its build outputs and the shared corpus (which a user's fresh clone does not have).</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The build configuration of the running tests (Debug or Release), read from their output path.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string SharedDir => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string CorpusDir => Path.Combine(SharedDir, "corpus", "files");

    public static string GoldDev => Path.Combine(SharedDir, "eval", "gold-dev.jsonl");

    public static string SamplesDir => Path.Combine(RepoRoot, "samples");

    /// <summary>The build output of a project under src/ in the tests' configuration.</summary>
    public static string BuildOutput(string project) => Path.Combine(RepoRoot, "src", project, "bin", Configuration, "net10.0");

    /// <summary>Skips the calling test with a clear message when ../shared/corpus/files is absent.</summary>
    public static string RequireCorpus()
    {
        if (!Directory.Exists(CorpusDir))
        {
            Assert.Skip($"The shared corpus is not present at {CorpusDir}; corpus tests are skipped.");
        }

        return CorpusDir;
    }

    public static string RequireCorpusFile(string name)
    {
        var path = Path.Combine(RequireCorpus(), name);
        if (!File.Exists(path))
        {
            Assert.Skip($"Corpus file {name} is not present; test skipped.");
        }

        return path;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Aims.Evidence.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Aims.Evidence.sln not found above the test binaries.");
    }
}
