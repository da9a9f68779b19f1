using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aims.Evidence.Local;
using Spectre.Console;

namespace Aims.Evidence.Cli;

/// <summary>Exit codes: 0 success, 2 usage error, 3 some documents failed, 1 unexpected error.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Usage = 2;
    public const int DocumentsFailed = 3;
}

public static partial class AimsCli
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = true,
    };

    internal static readonly JsonSerializerOptions JsonLine = new(Json) { WriteIndented = false };

    internal static readonly Option<string> DbOption = new("--db")
    {
        Description = "Path of the SQLite evidence database.",
        DefaultValueFactory = _ => "aims.db",
        Recursive = true,
    };

    /// <summary>--mapper hybrid|lexical for the commands that ingest (hybrid, the default, loads the local model).</summary>
    internal static Option<string> MapperOption()
    {
        var option = new Option<string>("--mapper") { Description = "hybrid (embeddings + BM25, default) or lexical (BM25 only, fastest).", DefaultValueFactory = _ => "hybrid" };
        option.AcceptOnlyFromAmong("hybrid", "lexical");
        return option;
    }

    internal static LocalOptions MapperOptions(string? mapper) =>
        new() { Mapper = string.Equals(mapper, "lexical", StringComparison.OrdinalIgnoreCase) ? LocalMapper.Lexical : LocalMapper.Hybrid };

    internal static Option<bool> JsonOption() => new("--json") { Description = "Print machine-readable JSON." };

    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var output = stdout ?? System.Console.Out;
        var error = stderr ?? System.Console.Error;
        var root = new RootCommand("aims: ISO/IEC 42001 evidence from your documents, on one machine, offline.");
        root.Options.Add(DbOption);
        root.Subcommands.Add(IngestCommand(output, error));
        root.Subcommands.Add(StatusCommand(output));
        root.Subcommands.Add(ControlsCommand(output));
        root.Subcommands.Add(GapsCommand(output));
        root.Subcommands.Add(SearchCommand(output));
        root.Subcommands.Add(ExportCommand(output, error));
        root.Subcommands.Add(DemoCommand(output, error));
        root.Subcommands.Add(EvalCommand(output, error));
        root.Subcommands.Add(ServeCommand(output));
        root.Subcommands.Add(KeysCommand(output));
        root.Subcommands.Add(LlmCostCommand(output));
        root.Subcommands.Add(BenchCommand(output, error));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                await error.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
            }

            await error.WriteLineAsync("Run 'aims --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (UsageException ex)
        {
            await error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("cancelled").ConfigureAwait(false);
            return ExitCodes.Error;
        }
    }

    internal static IAnsiConsole Console(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
        Out = new AnsiConsoleOutput(writer),
        Ansi = writer == System.Console.Out && !System.Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = writer == System.Console.Out && !System.Console.IsOutputRedirected ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        Interactive = writer == System.Console.Out && !System.Console.IsOutputRedirected ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (writer != System.Console.Out || System.Console.IsOutputRedirected)
        {
            console.Profile.Width = 150; // files and pipes get full rows instead of an 80-column wrap
        }

        return console;
    }
}

public sealed class UsageException(string message) : Exception(message)
{
    public UsageException()
        : this("usage error")
    {
    }

    public UsageException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}
