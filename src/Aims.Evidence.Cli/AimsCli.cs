using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aims.Evidence.Hosting;
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

    /// <summary>--mapper trained|hybrid|lexical for the commands that ingest; unset, <c>Aims:Mapping:Mapper</c> decides (default trained).</summary>
    internal static Option<string?> MapperOption()
    {
        var option = new Option<string?>("--mapper") { Description = "trained (the trained, calibrated model: default), hybrid (embeddings + BM25, hand-weighted) or lexical (BM25 only, fastest)." };
        option.AcceptOnlyFromAmong("trained", "hybrid", "lexical");
        return option;
    }

    /// <summary>The settings of appsettings.json and the environment (<c>Aims:*</c>), with the command line's mapper and LLM flags on top.</summary>
    internal static AimsSettings LoadSettings(ParseResult? parse = null, Option<string?>? mapper = null)
    {
        AimsSettings settings;
        try
        {
            settings = AimsComposition.Bind(AimsComposition.LoadConfiguration());
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }

        if (parse is not null && mapper is not null)
        {
            settings = WithMapper(settings, parse.GetValue(mapper));
        }

        return settings with { Llm = LoadLlmOptions(parse, settings: settings) };
    }

    internal static AimsSettings WithMapper(AimsSettings settings, string? mapper) =>
        mapper is null ? settings : settings with { Mapping = settings.Mapping with { Mapper = mapper } };

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
        root.Subcommands.Add(SoaCommand(output, error));
        root.Subcommands.Add(ApplicabilityCommand(output, error));
        root.Subcommands.Add(SearchCommand(output));
        root.Subcommands.Add(ExportCommand(output, error));
        root.Subcommands.Add(DemoCommand(output, error));
        root.Subcommands.Add(EvalCommand(output, error));
        root.Subcommands.Add(ServeCommand(output));
        root.Subcommands.Add(KeysCommand(output));
        root.Subcommands.Add(LlmCostCommand(output));
        root.Subcommands.Add(BenchCommand(output, error));
        root.Subcommands.Add(TrainCommand(output, error));
        root.Subcommands.Add(LabelsCommand(output));

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
