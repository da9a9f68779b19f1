using System.CommandLine;
using Aims.Evidence.Cli;

namespace Aims.Evidence.Tools;

/// <summary>
/// aims-tools: the maintainers' benchmarks and the load/soak harness, apart from the `aims` users run. Same error
/// contract as `aims` (one line on stderr; exit 2 for usage, 1 for the environment).
/// </summary>
public static partial class AimsTools
{
    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var output = stdout ?? Console.Out;
        var error = stderr ?? Console.Error;
        var root = new RootCommand("aims-tools: benchmarks and the load/soak harness of aims (not needed to use aims).");
        root.Subcommands.Add(BenchCommand(output, error));
        return await AimsCli.InvokeAsync(root, "aims-tools", args, output, error).ConfigureAwait(false);
    }
}
