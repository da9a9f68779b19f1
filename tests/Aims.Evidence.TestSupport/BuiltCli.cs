namespace Aims.Evidence.TestSupport;

/// <summary>The built command-line programs that process tests run as children (<c>dotnet aims.dll ...</c>).</summary>
public static class BuiltCli
{
    /// <summary>src/Aims.Evidence.Cli's <c>aims.dll</c> in the tests' configuration, or null when it is not built.</summary>
    public static string? AimsDll
    {
        get
        {
            var dll = Path.Combine(TestPaths.BuildOutput("Aims.Evidence.Cli"), "aims.dll");
            return File.Exists(dll) ? dll : null;
        }
    }

    /// <summary><see cref="AimsDll"/>; skips the calling test with a clear message when it is not built.</summary>
    public static string RequireAimsDll()
    {
        var dll = AimsDll;
        if (dll is null)
        {
            Assert.Skip("src/Aims.Evidence.Cli/bin/<Configuration>/net10.0/aims.dll is not built (dotnet build first); the process test is skipped.");
        }

        return dll;
    }

    /// <summary><c>aims-tools.dll</c> copied next to the test binaries by a project reference to the tools project.</summary>
    public static string ToolsDllBesideTests => Path.Combine(AppContext.BaseDirectory, "aims-tools.dll");

    /// <summary><c>aims.dll</c> copied next to the test binaries by a project reference.</summary>
    public static string AimsDllBesideTests => Path.Combine(AppContext.BaseDirectory, "aims.dll");
}
